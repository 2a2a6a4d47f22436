"""Events layer: PLOVER type, actor/target, modality, source — on invented sentences.

The entity layer is replaced by a tiny fixture (a name table matched with regexes) so these
tests pin the events logic alone; statements and times are built by hand where needed.
"""

from __future__ import annotations

import re

import pytest
import spacy

from lagebild.extract import events as ev_mod  # noqa: F401  (registers the factory)
from lagebild.extract import morph  # noqa: F401  (registers sentences + morph)
from lagebild.extract.events import build_events, lexicon
from lagebild.schema import Entity, Event, Mention, Span, Statement, TimeExpr

# surface -> (entity id, type, mention kind); longest surfaces are matched first
NAMES: dict[str, tuple[str, str, str]] = {
    "Russland": ("ru", "GPE", "name"), "Russlands": ("ru", "GPE", "name"),
    "Moskau": ("ru", "GPE", "metonym"), "Kreml": ("kreml", "ORG", "name"),
    "russische": ("ru", "GPE", "adjectival"), "russischen": ("ru", "GPE", "adjectival"),
    "Russische": ("ru", "GPE", "adjectival"),
    "Ukraine": ("ua", "GPE", "name"), "Kiew": ("ua", "GPE", "metonym"),
    "ukrainische": ("ua", "GPE", "adjectival"), "ukrainischen": ("ua", "GPE", "adjectival"),
    "Nordkorea": ("kp", "GPE", "name"), "nordkoreanische": ("kp", "GPE", "adjectival"),
    "Südkorea": ("kr", "GPE", "name"), "USA": ("us", "GPE", "name"),
    "China": ("cn", "GPE", "name"), "Iran": ("ir", "GPE", "name"),
    "iranische": ("ir", "GPE", "adjectival"), "Israel": ("il", "GPE", "name"),
    "Deutschland": ("de", "GPE", "name"), "deutsche": ("de", "GPE", "adjectival"),
    "Berlin": ("de", "GPE", "metonym"), "Frankreich": ("fr", "GPE", "name"),
    "Kanada": ("ca", "GPE", "name"), "Lettland": ("lv", "GPE", "name"),
    "Polen": ("pl", "GPE", "name"), "polnische": ("pl", "GPE", "adjectival"),
    "Belarus": ("by", "GPE", "name"), "Armenien": ("am", "GPE", "name"),
    "Aserbaidschan": ("az", "GPE", "name"), "Georgier": ("ge", "GPE", "adjectival"),
    "türkische": ("tr", "GPE", "adjectival"), "Istanbul": ("ist", "GPE", "name"),
    "Odessa": ("odessa", "GPE", "name"), "Charkiw": ("charkiw", "GPE", "name"),
    "Washington": ("washington", "GPE", "name"), "Bayern": ("by_state", "GPE", "name"),
    "Genf": ("genf", "GPE", "name"), "Israels": ("il", "GPE", "name"),
    "Bundeswehr": ("bw", "ORG", "name"),
    "EU": ("eu", "ORG", "name"), "NATO": ("nato", "ORG", "name"),
    "Pentagon": ("pentagon", "ORG", "name"), "Pentagons": ("pentagon", "ORG", "name"),
    "Scholz": ("scholz", "PER", "name"), "Macron": ("macron", "PER", "name"),
    "Putin": ("putin", "PER", "name"), "Kim Jong-un": ("kim", "PER", "name"),
}
_NAME_RE = re.compile(
    r"(?<![\w-])(" + "|".join(re.escape(n) for n in sorted(NAMES, key=len, reverse=True))
    + r")(?![\w])"
)


@pytest.fixture(scope="module")
def nlp():
    nlp = spacy.blank("de")
    nlp.add_pipe("lagebild_sentences")
    nlp.add_pipe("lagebild_morph")
    return nlp


def make_doc(nlp, text: str, statements: list[Statement] | None = None,
             times: list[TimeExpr] | None = None):
    """A doc with sentences, lemmas and a fixture entity layer (no NER needed)."""
    doc = nlp(text)
    entities: dict[str, Entity] = {}
    index: dict[int, tuple[int, str]] = {}
    for m in _NAME_RE.finditer(text):
        eid, etype, kind = NAMES[m.group(1)]
        ent = entities.setdefault(eid, Entity(id=eid, name=eid, type=etype))  # type: ignore[arg-type]
        ent.mentions.append(Mention(start=m.start(), end=m.end(), text=m.group(1), kind=kind))  # type: ignore[arg-type]
        index[m.start()] = (m.end(), eid)
    doc._.lb_entities = list(entities.values())
    doc._.lb_entity_index = index
    doc._.lb_statements = statements or []
    doc._.lb_times = times or []
    return doc


def span(text: str, piece: str) -> Span:
    start = text.index(piece)
    return Span(start=start, end=start + len(piece), text=piece)


def find(events: list[Event], trigger: str) -> Event:
    hits = [e for e in events if e.trigger.text == trigger]
    assert hits, f"no event with trigger {trigger!r} in {[e.trigger.text for e in events]}"
    return hits[0]


def check_offsets(doc, events: list[Event]) -> None:
    for e in events:
        assert doc.text[e.trigger.start:e.trigger.end] == e.trigger.text


# ---------------------------------------------------------------- type, actor, target

CASES = [
    # (sentence, trigger, type, actor, target)
    ("Deutschland hat der Ukraine weitere Panzer geliefert.", "geliefert", "AID", "de", "ua"),
    ("Laut Berichten schickte Nordkorea Tausende Soldaten nach Russland.",
     "schickte", "AID", "kp", "ru"),
    ("Russische Truppen griffen am Morgen die Stadt Charkiw an.",
     "griffen", "ASSAULT", "ru", "charkiw"),
    ("Die Ukraine meldete schwere russische Angriffe auf Odessa.",
     "Angriffe", "ASSAULT", "ru", "odessa"),
    ("Die Hafenstadt Odessa wurde in der Nacht von Russland bombardiert.",
     "bombardiert", "ASSAULT", "ru", "odessa"),
    ("Die Ukraine wirft Russland Kriegsverbrechen vor.", "wirft", "ACCUSE", "ua", "ru"),
    ("Moskau wies die Vorwürfe der NATO zurück.", "wies", "REJECT", "ru", "nato"),
    ("Moskau wies die Vorwürfe der NATO zurück.", "Vorwürfe", "ACCUSE", "nato", "ru"),
    ("Tausende Georgier protestierten gegen Russland.", "protestierten", "PROTEST", "ge", "ru"),
    ("Die EU verhängte neue Sanktionen gegen Russland.", "Sanktionen", "SANCTION", "eu", "ru"),
    ("Die USA sanktionierten drei iranische Banken.", "sanktionierten", "SANCTION", "us", "ir"),
    ("Russland zieht an der Grenze Truppen zusammen.", "zieht", "MOBILIZE", "ru", None),
    ("Die türkische Polizei nahm in Istanbul zwei deutsche Journalisten fest.",
     "nahm", "COERCE", "tr", "de"),
    ("Armenien und Aserbaidschan unterzeichneten in Washington ein Abkommen.",
     "unterzeichneten", "AGREE", "am", "az"),
    ("Frankreich unterstützt die Ukraine.", "unterstützt", "SUPPORT", "fr", "ua"),
    ("Russland zog seine Truppen aus der Region ab.", "zog", "RETREAT", "ru", None),
    ("Belarus ließ drei polnische Gefangene frei.", "ließ", "CONCEDE", "by", "pl"),
    ("Scholz traf am Dienstag in Genf den französischen Präsidenten Macron.",
     "traf", "CONSULT", "scholz", "macron"),
    ("Die EU forderte Russland auf, die Truppen abzuziehen.", "forderte", "REQUEST", "eu", "ru"),
    ("Der Iran drohte, Israel anzugreifen.", "drohte", "THREATEN", "ir", None),
    ("Russland und China wollen künftig enger zusammenarbeiten.",
     "zusammenarbeiten", "COOPERATE", "ru", "cn"),
]


def check_event(nlp, text, trigger, ptype, actor, target):
    """The event on `trigger` has this type, actor and target (and sound offsets)."""
    doc = make_doc(nlp, text)
    events = build_events(doc)
    check_offsets(doc, events)
    ev = find(events, trigger)
    assert (ev.type, ev.actor, ev.target) == (ptype, actor, target)


@pytest.mark.parametrize(("text", "trigger", "ptype", "actor", "target"), CASES)
def test_type_actor_target(nlp, text, trigger, ptype, actor, target):
    check_event(nlp, text, trigger, ptype, actor, target)


def test_agreement_noun_folded_into_signing_verb(nlp):
    doc = make_doc(nlp, "Armenien und Aserbaidschan unterzeichneten in Washington ein Abkommen.")
    events = build_events(doc)
    assert [e.trigger.text for e in events] == ["unterzeichneten"]
    assert events[0].place == "washington"
    assert events[0].id == "ev1"


def test_place_and_time(nlp):
    text = "Scholz traf am Dienstag in Genf den französischen Präsidenten Macron."
    doc = make_doc(nlp, text, times=[TimeExpr(id="t1", span=span(text, "am Dienstag"))])
    ev = find(build_events(doc), "traf")
    assert ev.place == "genf"
    assert ev.time == "t1"


def test_political_filter(nlp):
    # an unnamed doer that is neither armed nor a natural force: no political event
    doc = make_doc(nlp, "Die Bauarbeiter zerstörten mehrere Häuser in Bayern.")
    assert build_events(doc) == []
    kept = build_events(doc, require_political=False)
    assert [e.trigger.text for e in kept] == ["zerstörten"]
    assert kept[0].place == "by_state"


# ---------------------------------------------------------------- case and voice

VOICE = [
    # (sentence, trigger, type, actor, target): datives and passive subjects are targets
    ("Dem Iran wurde mit Sanktionen gedroht.", "gedroht", "THREATEN", None, "ir"),
    ("Dem Iran wurde mit Sanktionen gedroht.", "Sanktionen", "SANCTION", None, "ir"),
    ("Iran wurde mit Sanktionen gedroht.", "gedroht", "THREATEN", None, "ir"),
    ("Iran wurde mit Sanktionen gedroht.", "Sanktionen", "SANCTION", None, "ir"),
    ("Dem Iran wurde von den USA mit Sanktionen gedroht.", "gedroht", "THREATEN", "us", "ir"),
    ("Dem Iran wurde von den USA mit Sanktionen gedroht.", "Sanktionen", "SANCTION", "us", "ir"),
    ("Russland wurden von der EU neue Sanktionen angedroht.", "Sanktionen", "SANCTION", "eu", "ru"),
    ("Der Iran wurde durch die EU sanktioniert.", "sanktioniert", "SANCTION", "eu", "ir"),
    ("Nordkorea wird sanktioniert.", "sanktioniert", "SANCTION", None, "kp"),
    ("Dem Iran drohten die USA mit Sanktionen.", "drohten", "THREATEN", "us", "ir"),
    ("Dem Iran drohten die USA mit Sanktionen.", "Sanktionen", "SANCTION", "us", None),
    ("Der Ukraine drohte Russland mit Vergeltung.", "drohte", "THREATEN", "ru", "ua"),
    # "der" before a masculine name is a nominative
    ("Der Iran drohte Israel mit Vergeltung.", "drohte", "THREATEN", "ir", "il"),
    # a weak adjective in -en after "der" is never nominative
    ("Der ukrainischen Armee lieferte Polen weitere Panzer.", "lieferte", "AID", "pl", "ua"),
    ("Kanada meldete, dass der Ukraine die USA weitere Raketen liefern.",
     "liefern", "AID", "us", "ua"),
    ("Nach Angaben Kiews wurden der Ukraine von Polen weitere Panzer geliefert.",
     "geliefert", "AID", "pl", "ua"),
    # "gegen Russland neue Sanktionen": the name does not belong to the noun's phrase
    ("Die EU verhängte gegen Russland neue Sanktionen.", "Sanktionen", "SANCTION", "eu", "ru"),
    ("Von der EU wurden gegen Russland neue Sanktionen verhängt.",
     "Sanktionen", "SANCTION", "eu", "ru"),
    # ... but the agent of an attributive participle does
    ("Die Ukraine meldete eine von Russland geführte Offensive.", "Offensive", "ASSAULT", "ru", None),
]


@pytest.mark.parametrize(("text", "trigger", "ptype", "actor", "target"), VOICE)
def test_case_and_voice(nlp, text, trigger, ptype, actor, target):
    check_event(nlp, text, trigger, ptype, actor, target)


def test_relative_pronoun_is_no_article(nlp):
    # "dem" is the relative pronoun here; the bare name after it is the subject
    doc = make_doc(nlp, "Es war ein Plan, dem Scholz sofort zustimmte.")
    ev = find(build_events(doc), "zustimmte")
    assert (ev.type, ev.actor) == ("AGREE", "scholz")
    # "der dem X ...": the pronoun is the subject, the dative the target
    doc = make_doc(nlp, "Der Kreml, der dem Pentagon Spionage vorwirft, schweigt.")
    ev = find(build_events(doc), "vorwirft")
    assert (ev.type, ev.actor, ev.target) == ("ACCUSE", "kreml", "pentagon")


def test_hearsay_sollen_is_not_a_plan(nlp):
    doc = make_doc(nlp, "Russland soll Truppen nach Belarus verlegt haben.")
    ev = find(build_events(doc), "verlegt")
    assert (ev.modality, ev.actor, ev.target) == ("actual", "ru", "by")


# ---------------------------------------------------------------- agent check

NATURAL = [
    "Ein Sturm zerstörte mehrere Häuser in Bayern.",
    "Das Hochwasser tötete drei Menschen in Polen.",
    "Ein Erdbeben erschütterte die Region um Istanbul.",
    "In Bayern wurden durch einen Sturm mehrere Häuser zerstört.",
    "Bei dem Erdbeben nahe Istanbul wurden Hunderte Menschen verletzt.",
    "Infolge des Hochwassers wurden in Polen drei Menschen getötet.",
    "Bei einem Verkehrsunfall in Polen wurden zwei Menschen getötet.",
    "Ein Wirbelsturm traf Kanada und tötete zwölf Menschen.",
    "Die Flut, die drei Menschen in Polen tötete, kam über Nacht.",
    "Die Bundeswehr kämpfte in Bayern gegen das Hochwasser.",
]


@pytest.mark.parametrize("text", NATURAL)
def test_natural_forces_are_no_actors(nlp, text):
    """Natural disasters and accidents are no PLOVER events, whatever the filter says."""
    doc = make_doc(nlp, text)
    assert build_events(doc) == []
    assert [e for e in build_events(doc, require_political=False) if e.type == "ASSAULT"] == []


def test_natural_nouns_that_do_not_act(nlp):
    # the storm is background only
    doc = make_doc(nlp, "Trotz des Sturms griffen russische Truppen die Stadt Odessa an.")
    ev = find(build_events(doc), "griffen")
    assert (ev.type, ev.actor, ev.target) == ("ASSAULT", "ru", "odessa")
    # "Sturm auf" is storming, not weather
    doc = make_doc(nlp, "Beim Sturm auf das Parlament in Kanada wurden fünf Menschen getötet.")
    ev = find(build_events(doc), "getötet")
    assert (ev.type, ev.actor, ev.place) == ("ASSAULT", None, "ca")
    # aid during a flood is still aid
    doc = make_doc(nlp, "Deutschland half Polen beim Hochwasser.")
    ev = find(build_events(doc), "half")
    assert (ev.type, ev.actor, ev.target) == ("AID", "de", "pl")


AGENTLESS = [
    # (sentence, trigger): violence by people, no named actor, a named place
    ("In Charkiw wurden drei Soldaten getötet.", "getötet"),
    ("In Odessa sind bei einem Angriff zwei Zivilisten verletzt worden.", "verletzt"),
    ("Bewaffnete erschossen in Odessa zwei Polizisten.", "erschossen"),
    ("Unbekannte zerstörten in Charkiw ein Denkmal.", "zerstörten"),
]


@pytest.mark.parametrize(("text", "trigger"), AGENTLESS)
def test_agentless_violence_is_anchored_by_its_place(nlp, text, trigger):
    doc = make_doc(nlp, text)
    events = build_events(doc)
    check_offsets(doc, events)
    assert [e.trigger.text for e in events] == [trigger]
    ev = events[0]
    assert (ev.type, ev.actor, ev.target, ev.modality) == ("ASSAULT", None, None, "actual")
    assert ev.place in ("charkiw", "odessa")


def test_agentless_violence_needs_a_named_place_and_violence(nlp):
    # no named place: nothing anchors the event
    doc = make_doc(nlp, "In der Stadt wurden drei Soldaten getötet.")
    assert build_events(doc) == []
    assert [e.trigger.text for e in build_events(doc, require_political=False)] == ["getötet"]
    # only ASSAULT is anchored by a place: an arrest needs a named party
    assert build_events(make_doc(nlp, "In Polen wurden zwei Journalisten festgenommen.")) == []
    # hearsay about the past keeps the place and is actual
    doc = make_doc(nlp, "In Charkiw sollen drei Soldaten getötet worden sein.")
    ev = find(build_events(doc), "getötet")
    assert (ev.modality, ev.place) == ("actual", "charkiw")


def test_pronoun_subject_resolves_to_earlier_actor(nlp):
    doc = make_doc(nlp, "Putin sprach am Abend. Er drohte der Ukraine mit neuen Angriffen.")
    events = build_events(doc)
    threat = find(events, "drohte")
    assert (threat.actor, threat.target, threat.modality) == ("putin", "ua", "actual")
    attack = find(events, "Angriffen")
    assert (attack.actor, attack.modality) == ("putin", "threatened")


# ---------------------------------------------------------------- modality

MODALITY = [
    ("Die USA wollen der Ukraine weitere Raketen liefern.", "liefern", "planned", "us", "ua"),
    ("Die Truppen sollen im Frühjahr nach Polen verlegt werden.", "verlegt", "planned", None, "pl"),
    ("Kanada kündigte an, Soldaten nach Lettland zu entsenden.", "entsenden", "planned", "ca", "lv"),
    ("Berlin prüft die Lieferung von Marschflugkörpern an Kiew.", "Lieferung", "considered", "de", "ua"),
    ("Frankreich schließt die Entsendung von Soldaten in die Ukraine nicht aus.",
     "Entsendung", "considered", "fr", "ua"),
    ("Der Iran drohte, Israel anzugreifen.", "anzugreifen", "threatened", "ir", "il"),
    ("Falls Russland die Ukraine erneut angreift, wird die EU weitere Sanktionen verhängen.",
     "angreift", "conditional", "ru", "ua"),
    ("Falls Russland die Ukraine erneut angreift, wird die EU weitere Sanktionen verhängen.",
     "Sanktionen", "planned", "eu", None),
    ("Sollte Nordkorea Munition an Russland liefern, wird Südkorea reagieren.",
     "liefern", "conditional", "kp", "ru"),
    ("China liefert nach eigenen Angaben keine Waffen an Russland.", "liefert", "denied", "cn", "ru"),
    ("Der Kreml dementierte, Truppen nach Belarus verlegt zu haben.",
     "verlegt", "denied", "kreml", "by"),
    ("Deutschland verzichtet auf die Lieferung von Kampfjets an die Ukraine.",
     "Lieferung", "denied", "de", "ua"),
    ("Experten befürchten, dass Russland die Ukraine erneut angreifen könnte.",
     "angreifen", "hypothetical", "ru", "ua"),
    ("Nordkorea kann Russland mit Munition versorgen.", "versorgen", "hypothetical", "kp", "ru"),
    ("Die EU forderte Russland auf, die Truppen abzuziehen.", "abzuziehen", "hypothetical", "ru", None),
    ("Die Ukraine meldete schwere russische Angriffe auf Odessa.", "Angriffe", "actual", "ru", "odessa"),
    ("Moskau wies die Vorwürfe der NATO zurück.", "Vorwürfe", "actual", "nato", "ru"),
    ("Polen begrüßte den Verzicht der USA auf Sanktionen gegen Israel.",
     "begrüßte", "actual", "pl", "us"),
    ("Polen begrüßte den Verzicht der USA auf Sanktionen gegen Israel.",
     "Sanktionen", "denied", None, "il"),
]


@pytest.mark.parametrize(("text", "trigger", "modality", "actor", "target"), MODALITY)
def test_modality(nlp, text, trigger, modality, actor, target):
    doc = make_doc(nlp, text)
    events = build_events(doc)
    check_offsets(doc, events)
    ev = find(events, trigger)
    assert (ev.modality, ev.actor, ev.target) == (modality, actor, target)


# ---------------------------------------------------------------- source

def test_source_from_statement(nlp):
    text = ("Nach Angaben des Pentagons hat Nordkorea Soldaten nach Russland geschickt. "
            "Die Ukraine meldete russische Angriffe auf Odessa.")
    st = Statement(id="s1", kind="according_to", speaker="pentagon",
                   cue=span(text, "Nach Angaben"),
                   content=span(text, "hat Nordkorea Soldaten nach Russland geschickt"))
    doc = make_doc(nlp, text, statements=[st])
    events = build_events(doc)
    check_offsets(doc, events)
    sent = find(events, "geschickt")
    assert (sent.source, sent.statement, sent.actor, sent.target) == ("pentagon", "s1", "kp", "ru")
    attack = find(events, "Angriffe")
    assert (attack.source, attack.statement) == (None, None)


def test_source_from_statement_parts(nlp):
    text = "„Russland wird Kiew angreifen“, sagte Scholz, „und zwar bald.“"
    content = span(text, "Russland wird Kiew angreifen")
    st = Statement(id="s7", kind="direct", speaker="scholz", cue=span(text, "sagte"),
                   content=Span(start=content.start, end=len(text) - 2,
                                text=text[content.start:len(text) - 2]),
                   parts=[content, span(text, "und zwar bald.")])
    doc = make_doc(nlp, text, statements=[st])
    ev = find(build_events(doc), "angreifen")
    assert (ev.source, ev.statement, ev.modality) == ("scholz", "s7", "planned")


def test_threat_content_stays_with_author(nlp):
    text = "Der Iran drohte, Israel anzugreifen."
    st = Statement(id="s1", kind="indirect", speaker="ir", cue=span(text, "drohte"),
                   content=span(text, "Israel anzugreifen"))
    doc = make_doc(nlp, text, statements=[st])
    events = build_events(doc)
    threat, attack = find(events, "drohte"), find(events, "anzugreifen")
    assert (threat.source, threat.modality) == (None, "actual")
    assert (attack.source, attack.statement, attack.modality) == (None, None, "threatened")


def test_nested_statements_take_the_innermost(nlp):
    text = "Laut Pentagon sagte Putin, Russland werde die Ukraine angreifen."
    outer = Statement(id="s1", kind="according_to", speaker="pentagon", cue=span(text, "Laut"),
                      content=span(text, "sagte Putin, Russland werde die Ukraine angreifen"))
    inner = Statement(id="s2", kind="indirect", speaker="putin", cue=span(text, "sagte"),
                      content=span(text, "Russland werde die Ukraine angreifen"))
    doc = make_doc(nlp, text, statements=[outer, inner])
    ev = find(build_events(doc), "angreifen")
    assert (ev.source, ev.statement, ev.actor, ev.target) == ("putin", "s2", "ru", "ua")


def test_noun_subject_without_entity_is_not_replaced_by_the_object(nlp):
    doc = make_doc(nlp, "Die Opposition warf dem Präsidenten Putin Wahlbetrug vor.")
    ev = find(build_events(doc), "warf")
    assert (ev.type, ev.actor, ev.target) == ("ACCUSE", None, "putin")


def test_rejected_accusation_targets_the_rejecter(nlp):
    doc = make_doc(nlp, "Der Kreml wies die Vorwürfe zurück und kündigte Vergeltung an.")
    events = build_events(doc)
    assert (find(events, "wies").actor, find(events, "Vorwürfe").target) == ("kreml", "kreml")
    revenge = find(events, "Vergeltung")
    assert (revenge.actor, revenge.modality) == ("kreml", "planned")


def test_attributive_participles_are_not_events(nlp):
    doc = make_doc(nlp, "Die EU lehnte die geforderten Sanktionen gegen Israel ab.")
    events = build_events(doc)
    assert [e.trigger.text for e in events] == ["lehnte", "Sanktionen"]
    assert find(events, "lehnte").modality == "actual"
    assert find(events, "Sanktionen").modality == "denied"
    doc = make_doc(nlp, "Nordkorea schickte Arbeiter in verbündete Länder wie Russland.")
    assert "verbündete" not in [e.trigger.text for e in build_events(doc)]


def test_compound_nouns_and_lexicon_flags(nlp):
    doc = make_doc(nlp, "Russland meldete ukrainische Drohnenangriffe auf Moskau.")
    ev = find(build_events(doc), "Drohnenangriffe")
    assert (ev.type, ev.actor, ev.target) == ("ASSAULT", "ua", "ru")
    # "treffen" without a counterpart is no meeting; "sich einsetzen" is support
    assert build_events(make_doc(nlp, "Russlands Stürmer hat zweimal getroffen.")) == []
    ev = find(build_events(make_doc(nlp, "Frankreich setzt sich für die Ukraine ein.")), "setzt")
    assert (ev.type, ev.actor, ev.target) == ("SUPPORT", "fr", "ua")


def test_unresolved_pronoun_blocks_the_subject_slot(nlp):
    doc = make_doc(nlp, "Wenn du Russland kritisierst, antwortet niemand.")
    ev = find(build_events(doc), "kritisierst")
    assert (ev.actor, ev.target, ev.modality) == (None, "ru", "conditional")


def test_object_genitive_and_bracketed_agent(nlp):
    doc = make_doc(nlp, "Die USA verstärken ihre Unterstützung der ukrainischen Armee.")
    ev = find(build_events(doc), "Unterstützung")
    assert (ev.actor, ev.target) == ("us", "ua")
    doc = make_doc(nlp, "Er nannte Gruppen, die von der Organisation (NATO) unterstützt werden.")
    ev = find(build_events(doc), "unterstützt")
    assert ev.actor == "nato"


def test_impending_is_not_a_threat(nlp):
    assert build_events(make_doc(nlp, "Der Ukraine droht im Herbst die Staatspleite.")) == []
    ev = find(build_events(make_doc(nlp, "Russland drohte der Ukraine mit Vergeltung.")), "drohte")
    assert (ev.actor, ev.target) == ("ru", "ua")


# ---------------------------------------------------------------- lexicon, component

def test_lexicon_rows_are_valid():
    from typing import get_args

    from lagebild.resources import read_tsv
    from lagebild.schema import Modality, PloverType

    for row in read_tsv("event_triggers.tsv"):
        assert row["type"] in get_args(PloverType), row
        assert row["pos"] in ("V", "N"), row
    for row in read_tsv("event_cues.tsv"):
        assert row["modality"] in (*get_args(Modality), "-"), row
        assert row["pos"] in ("V", "N", "W", "P", "S"), row
        assert (row.get("role") or "subj") in ("subj", "obj", "recv", "none"), row


def test_lexicon_is_broad_and_covers_all_types():
    lex = lexicon()
    assert len(lex.verbs) + len(lex.nouns) >= 300
    types = {t.type for t in (*lex.verbs.values(), *lex.nouns.values())}
    assert types == {
        "AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST",
        "ACCUSE", "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE",
        "ASSAULT", "OTHER",
    }


def test_component_writes_doc_attribute(nlp):
    doc = make_doc(nlp, "Die EU verhängte neue Sanktionen gegen Russland.")
    comp = spacy.blank("de").add_pipe("lagebild_events", config={"require_political": True})
    comp(doc)
    assert [e.type for e in doc._.lb_events] == ["SANCTION"]
    empty = nlp("")
    empty._.lb_entities = []
    comp(empty)
    assert empty._.lb_events == []


@pytest.mark.slow
def test_seed_article_end_to_end_offsets():
    """The real seed through the rules-only pipeline: well-formed events, exact offsets."""
    from pathlib import Path

    from lagebild.nlp import build_nlp
    from lagebild.pipeline import _prepare, doc_to_record
    from lagebild.schema import Document

    seed = Path(__file__).resolve().parents[1].parent / "shared" / "seeds" / "000_897bf336ee5c3dea.txt"
    if not seed.exists():
        pytest.skip(f"seed article not found at {seed}")
    document = Document(id="seed", text=seed.read_text(encoding="utf-8"))
    pipeline = build_nlp(use_models=False)
    doc = _prepare(pipeline, document)
    for _, proc in pipeline.pipeline:
        doc = proc(doc)
    record = doc_to_record(document, doc)
    assert record.events, "no events on a news article about arms and troops"
    assert [e.id for e in record.events] == [f"ev{i}" for i in range(1, len(record.events) + 1)]
    assert not record.check_offsets()
    entity_ids = {e.id for e in record.entities}
    statement_ids = {s.id for s in record.statements}
    for ev in record.events:
        assert {ev.actor, ev.target, ev.source, ev.place} - {None} <= entity_ids
        assert ev.statement is None or ev.statement in statement_ids
