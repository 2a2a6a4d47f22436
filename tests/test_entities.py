"""Entity normalisation: demonyms, capitals as metonyms, aliases merged within a document."""

from __future__ import annotations

import lagebild


def _by_name(record):
    return {e.name: e for e in record.entities}


def test_states_adjectives_and_metonyms():
    text = ("Moskau hat die Vorwürfe zurückgewiesen. Russische Truppen stehen weiter in der Ukraine, "
            "und die Russen rechnen nicht mit Widerstand. In Moskau demonstrierten am Abend Hunderte. "
            "Kiew fordert Hilfe von Frankreichs Regierung.")
    rec = lagebild.analyze(text)
    ents = _by_name(rec)
    russia = ents["Russland"]
    assert russia.links.iso3166 == "RU" and russia.type == "GPE"
    kinds = [(m.text, m.kind) for m in russia.mentions]
    assert ("Moskau", "metonym") in kinds  # the government, not the city
    assert ("Russische", "adjectival") in kinds and ("Russen", "adjectival") in kinds
    city = ents["Moskau"]  # "In Moskau": the place
    assert [m.text for m in city.mentions] == ["Moskau"]
    assert ("Kiew", "metonym") in [(m.text, m.kind) for m in ents["Ukraine"].mentions]
    assert [m.text for m in ents["Frankreich"].mentions] == ["Frankreichs"]
    assert rec.check_offsets() == []


def test_hyphen_parts_and_aliases():
    text = ("Der US-Gesandte sprach vor der UNO. Die Vereinten Nationen und die USA "
            "berieten im UN-Sicherheitsrat.")
    ents = _by_name(lagebild.analyze(text))
    usa = ents["USA"]
    assert ("US", "part") in [(m.text, m.kind) for m in usa.mentions]
    assert {m.text for m in ents["Vereinte Nationen"].mentions} == {"UNO", "Vereinten Nationen"}
    assert "UN-Sicherheitsrat" in ents  # a named compound is one mention, no part
    assert len(ents["Vereinte Nationen"].mentions) == 2


def test_entity_index_covers_all_mentions(nlp):
    doc = nlp("Die Türkei und Griechenland verhandeln in Athen. Ankara lehnt ab.")
    index = doc._.lb_entity_index
    mentions = [m for e in doc._.lb_entities for m in e.mentions]
    assert len(index) == len(mentions)
    assert all(index[m.start][0] == m.end for m in mentions)


def test_name_found_once_is_tagged_everywhere():
    """Document-level consistency: every occurrence of a recognised surname is a mention."""
    from spacy.tokens import Span

    from lagebild.extract.entities import entities_component
    from lagebild.nlp import build_nlp

    nlp = build_nlp(use_models=False)
    doc = nlp.make_doc("Die Analystin Petra Lindqvist warnte. Laut Lindqvist fehlen Soldaten. "
                       "Lindqvists Bericht kam spät.")
    for _, proc in nlp.pipeline[:2]:
        doc = proc(doc)
    doc.ents = [Span(doc, 2, 4, label="PER")]  # as if the NER had found only the first one
    doc = entities_component(doc)
    person = next(e for e in doc._.lb_entities if e.type == "PER")
    assert person.name == "Petra Lindqvist"
    assert [m.text for m in person.mentions] == ["Petra Lindqvist", "Lindqvist", "Lindqvists"]


def test_part_of_a_known_person_joins_the_person():
    from spacy.tokens import Span

    from lagebild.extract.entities import entities_component
    from lagebild.nlp import build_nlp

    nlp = build_nlp(use_models=False)
    doc = nlp.make_doc("Präsident Aram Veskovic regiert hart. Das Veskovic-Regime schweigt.")
    for _, proc in nlp.pipeline[:2]:
        doc = proc(doc)
    doc.ents = [Span(doc, 1, 3, label="PER"), Span(doc, 7, 8, label="ORGpart")]
    doc = entities_component(doc)
    person = next(e for e in doc._.lb_entities if e.type == "PER")
    assert ("Veskovic", "part") in [(m.text, m.kind) for m in person.mentions]


def test_seat_of_an_organisation_is_a_metonym():
    ents = _by_name(lagebild.analyze(
        "Brüssel erwägt neue Hilfen für die Region. Die Minister trafen sich dazu in Brüssel."))
    eu = ents["Europäische Union"]
    assert [(m.text, m.kind) for m in eu.mentions] == [("Brüssel", "metonym")]
    assert [m.text for m in ents["Brüssel"].mentions] == ["Brüssel"]


def test_fixed_names_from_the_alias_table():
    # regions, alliances and named periods the guidelines type as LOC / ORG / MISC
    text = ("Der Präsident empfing im Oval Office keine Gäste. Im Roten Meer griffen die Huthis "
            "Schiffe an. Seit dem Ende des Kalten Krieges wächst die Eurozone.")
    ents = _by_name(lagebild.analyze(text))
    assert (ents["Oval Office"].type, [m.text for m in ents["Oval Office"].mentions]) == ("LOC", ["Oval Office"])
    assert (ents["Rotes Meer"].type, [m.text for m in ents["Rotes Meer"].mentions]) == ("LOC", ["Roten Meer"])
    assert ents["Kalter Krieg"].type == "MISC" and ents["Eurozone"].type == "ORG"
