"""Sentences, lemmas and Konjunktiv of the morph layer (all example sentences invented)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc

from lagebild.extract import is_subjunctive
from lagebild.extract import morph as morph_mod  # noqa: F401  (registers the components)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="module")
def nlp() -> Language:
    nlp = spacy.blank("de")
    nlp.add_pipe("lagebild_sentences")
    nlp.add_pipe("lagebild_morph")
    return nlp


def _tok(doc: Doc, text: str, nth: int = 0):
    hits = [t for t in doc if t.text == text]
    assert len(hits) > nth, f"{text!r} not in {[t.text for t in doc]}"
    return hits[nth]


def _mood(doc: Doc, text: str, nth: int = 0) -> str:
    mood = _tok(doc, text, nth).morph.get("Mood")
    return mood[0] if mood else "-"


# ------------------------------------------------------------------ Konjunktiv patterns


@pytest.mark.parametrize(
    ("sentence", "word", "mood", "tense"),
    [
        # Konjunktiv I from the closed list
        ("Die Sprecherin sagte, der Verband habe keine Einwände.", "habe", "Sub", "Pres"),
        ("Der Bürgermeister erklärte, er sei nicht informiert worden.", "sei", "Sub", "Pres"),
        ("Beide Parteien betonten, die Gespräche seien konstruktiv verlaufen.", "seien", "Sub",
         "Pres"),
        ("Laut Polizei werde der Verdächtige noch heute befragt.", "werde", "Sub", "Pres"),
        ("Der Trainer meinte, das Team könne die Liga halten.", "könne", "Sub", "Pres"),
        # regular Konjunktiv I 3sg = stem + e
        ("Der Minister sagte, das Krankenhaus benötige dringend mehr Personal.", "benötige",
         "Sub", "Pres"),
        ("Die Firma teilte mit, der Streik verändere den Fahrplan kaum.", "verändere", "Sub",
         "Pres"),
        ("Ein Anwohner berichtete, der Nachbar handle oft rücksichtslos.", "handle", "Sub",
         "Pres"),
        ("Die Behörde erklärte, es gebe keine Hinweise auf eine Gefahr.", "gebe", "Sub", "Pres"),
        # Konjunktiv II
        ("Wenn es mehr Geld gäbe, käme die Sanierung schneller voran.", "gäbe", "Sub", "Past"),
        ("Wenn es mehr Geld gäbe, käme die Sanierung schneller voran.", "käme", "Sub", "Past"),
        ("Ohne den Regen hätte das Fest draußen stattgefunden.", "hätte", "Sub", "Past"),
        ("Die Ministerin würde den Plan gern früher umsetzen.", "würde", "Sub", "Past"),
        ("Wäre der Zug pünktlich gewesen, hätten wir den Anschluss erreicht.", "Wäre", "Sub",
         "Past"),
        ("Sie sagten, die Pumpen stünden seit Tagen still.", "stünden", "Sub", "Past"),
        # modal "sollte" is annotated Konjunktiv II in UD German: we follow it
        ("Die Stadt sollte die Brücke bald reparieren.", "sollte", "Sub", "Past"),
    ],
)
def test_konjunktiv(nlp: Language, sentence: str, word: str, mood: str, tense: str) -> None:
    tok = _tok(nlp(sentence), word)
    assert tok.morph.get("Mood") == [mood]
    assert tok.morph.get("Tense") == [tense]
    assert is_subjunctive(tok)


@pytest.mark.parametrize(
    ("sentence", "word"),
    [
        ("Ich habe den Bericht gestern gelesen.", "habe"),  # 1sg indicative
        ("Auch habe ich lange auf eine Antwort gewartet.", "habe"),  # "ich" after the verb
        ("Seit Jahren gebe ich Kurse in der Volkshochschule.", "gebe"),
        ("Ich gebe nicht auf, sagte die Läuferin.", "gebe"),
        ("Schade, dass ich den Termin verpasse.", "verpasse"),
        ("Habe heute das Paket abgeholt und bin zufrieden.", "Habe"),  # dropped subject
        ("Sie wollte gestern nach Hamburg reisen.", "wollte"),  # past indicative
        ("Ich werde morgen wieder anrufen.", "werde"),
    ],
)
def test_indicative_not_subjunctive(nlp: Language, sentence: str, word: str) -> None:
    tok = _tok(nlp(sentence), word)
    assert not is_subjunctive(tok)
    assert tok.morph.get("Mood") == ["Ind"]


@pytest.mark.parametrize(
    ("sentence", "word"),
    [
        ("Das war eine tolle Idee der Schülerinnen.", "tolle"),  # adjective after article
        ("Der Pianist hat weiche Hände und viel Geduld.", "weiche"),  # adjective before noun
        ("Aus Liebe zur Musik spielt er jeden Abend.", "Liebe"),
        ("Seine Schwester wohnt in Köln.", "Seine"),
        ("Die Rede seiner Chefin dauerte lange.", "seiner"),
    ],
)
def test_non_verbs_get_no_mood(nlp: Language, sentence: str, word: str) -> None:
    assert _tok(nlp(sentence), word).morph.get("Mood") == []


def test_indicative_finite_verbs(nlp: Language) -> None:
    doc = nlp("Die Gemeinde plant eine neue Schule. Der Rat erklärte gestern, er hat das Geld "
              "schon bestellt. Sie fanden den Weg nicht.")
    assert _mood(doc, "plant") == "Ind"
    assert _mood(doc, "erklärte") == "Ind"
    assert _mood(doc, "hat") == "Ind"
    assert _mood(doc, "fanden") == "Ind"
    assert _mood(doc, "bestellt") == "-"  # participle after "hat", not finite
    assert _mood(doc, "Schule") == "-"


def test_konjunktiv_in_reported_speech_paragraph(nlp: Language) -> None:
    doc = nlp("Der Sprecher des Ministeriums sagte am Montag, man prüfe alle Optionen. "
              "Eine Entscheidung falle frühestens im Mai. Ich glaube das nicht, sagte ein "
              "Kritiker.")
    assert is_subjunctive(_tok(doc, "prüfe"))
    assert is_subjunctive(_tok(doc, "falle"))
    assert not is_subjunctive(_tok(doc, "glaube"))


def test_lemmas(nlp: Language) -> None:
    doc = nlp("Die Häuser wurden von den Kindern bemalt.")
    assert _tok(doc, "Häuser").lemma_ == "Haus"
    assert _tok(doc, "wurden").lemma_ == "werden"
    assert _tok(doc, "Kindern").lemma_ == "Kind"
    assert _tok(doc, ".").lemma_ == "."


# ------------------------------------------------------------------ sentences


def _sents(nlp: Language, text: str) -> list[str]:
    return [s.text for s in nlp(text).sents]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Am 24. Februar begann die Messe. Die Hallen waren voll.",
         ["Am 24. Februar begann die Messe.", "Die Hallen waren voll."]),
        ("Der Verein spielt in der 3. Liga. Das Stadion ist klein.",
         ["Der Verein spielt in der 3. Liga.", "Das Stadion ist klein."]),
        ("Die Burg entstand im späten 12. Jahrhundert. Später verfiel sie.",
         ["Die Burg entstand im späten 12. Jahrhundert.", "Später verfiel sie."]),
        ("Die Zahl der Mitglieder stieg bis 2023. Seitdem sinkt sie.",
         ["Die Zahl der Mitglieder stieg bis 2023.", "Seitdem sinkt sie."]),
        ("Die Kosten lagen bei 4.500. Niemand hatte damit gerechnet.",
         ["Die Kosten lagen bei 4.500.", "Niemand hatte damit gerechnet."]),
        ("Das betrifft z. B. Dr. Weber und Prof. Lindner. Beide lehnten ab.",
         ["Das betrifft z. B. Dr. Weber und Prof. Lindner.", "Beide lehnten ab."]),
        ("Sie rief: „Wir bleiben hier.“ Dann schloss sie die Tür.",
         ["Sie rief: „Wir bleiben hier.“", "Dann schloss sie die Tür."]),
        ("Er sagte: \"Das reicht nicht.\" Danach ging er.",
         ["Er sagte: \"Das reicht nicht.\"", "Danach ging er."]),
        ("„Wir sind bereit“, sagte die Sprecherin. Mehr wollte sie nicht sagen.",
         ["„Wir sind bereit“, sagte die Sprecherin.", "Mehr wollte sie nicht sagen."]),
        ("Was passiert jetzt? Niemand weiß es! Alle warten.",
         ["Was passiert jetzt?", "Niemand weiß es!", "Alle warten."]),
        ("Der Preis steigt um 3 Prozent. 20 Filialen schließen.",
         ["Der Preis steigt um 3 Prozent.", "20 Filialen schließen."]),
        ("Der Text stammt von J. Meier aus Ulm. Er ist kurz.",
         ["Der Text stammt von J. Meier aus Ulm.", "Er ist kurz."]),
        ("Die Ausstellung endet am 3. Okt. um Mitternacht.",
         ["Die Ausstellung endet am 3. Okt. um Mitternacht."]),
    ],
)
def test_sentence_split(nlp: Language, text: str, expected: list[str]) -> None:
    assert _sents(nlp, text) == expected


def test_dateline_is_split_off(nlp: Language) -> None:
    sents = _sents(nlp, "HAMBURG (dpa) – Der Hafen meldet einen Rekord. Die Zahlen steigen.")
    assert sents[0] == "HAMBURG (dpa) –"
    assert sents[1] == "Der Hafen meldet einen Rekord."
    sents = _sents(nlp, "Kiew/Warschau (AFP) - Die Gespräche gehen weiter.")
    assert sents == ["Kiew/Warschau (AFP) -", "Die Gespräche gehen weiter."]


def test_paragraph_break_splits(nlp: Language) -> None:
    # the newline token stays with the sentence before it (spaCy keeps whitespace tokens)
    sents = _sents(nlp, "Ein Titel ohne Punkt\n\nDer erste Satz folgt hier.")
    assert [s.strip() for s in sents] == ["Ein Titel ohne Punkt", "Der erste Satz folgt hier."]


# ------------------------------------------------------------------ slow: real UD data


@pytest.mark.slow
def test_pud_konjunktiv_f1_matches_committed(nlp: Language) -> None:
    ud_dir = SHARED / "data" / "ud_german"
    if not (ud_dir / "de_pud-ud-test.conllu").exists():
        pytest.skip(f"UD German not found under {ud_dir} (needs ../shared)")
    sys.path.insert(0, str(ROOT / "training" / "morph"))
    import ud  # type: ignore[import-not-found]

    committed = json.loads((ROOT / "training" / "results" / "morph.json").read_text("utf-8"))
    scores = ud.mood_scores(nlp, ud.load("pud_test"))
    expected = committed["konjunktiv_rules"]["pud_test"]["f1"]
    assert abs(scores["f1"] - expected) <= 0.03, (scores, expected)
    assert scores["f1"] >= 0.90
    sent = ud.sentence_scores(nlp, ud.load("pud_test"))
    assert abs(sent["f1"] - committed["sentences"]["pud_test"]["f1"]) <= 0.03
