"""The shipped GermEval NER model: loads, tags plain invented sentences, keeps its score.

The slow test re-scores a fixed 300-sentence slice of GermEval test (read from
../shared, never copied here) and checks the F1 stays within 0.05 of the figure the
training recipe recorded in training/results/ner.json - a guard against shipping a
model that does not match its reported numbers.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import spacy

from lagebild.resources import model_path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MODEL = model_path("ner")
RESULTS = ROOT / "training" / "results" / "ner.json"
GERMEVAL_LABELS = {f"{t}{s}" for t in ("PER", "LOC", "ORG", "OTH") for s in ("", "deriv", "part")}

pytestmark = pytest.mark.skipif(
    not (MODEL / "meta.json").exists(), reason="no shipped NER model in src/lagebild/models/ner"
)


@pytest.fixture(scope="module")
def ner_nlp() -> spacy.language.Language:
    try:
        import lagebild.extract.ner_crf  # noqa: F401  (registers the CRF factory if used)
    except ImportError:
        pass
    return spacy.load(MODEL)


def test_labels_are_germeval(ner_nlp: spacy.language.Language) -> None:
    assert set(ner_nlp.get_pipe("ner").labels) == GERMEVAL_LABELS


def test_tags_invented_sentences(ner_nlp: spacy.language.Language) -> None:
    doc = ner_nlp(
        "Bundeskanzlerin Helga Brommer traf am Montag in Hamburg den Vorstand der Deutschen Bahn ."
    )
    ents = {(e.text, e.label_) for e in doc.ents}
    assert ("Helga Brommer", "PER") in ents
    assert ("Hamburg", "LOC") in ents
    assert any(label == "ORG" and "Bahn" in text for text, label in ents)

    doc = ner_nlp(
        "Der französische Präsident sprach mit Vertretern der Vereinten Nationen in Genf ."
    )
    labels = {e.text: e.label_ for e in doc.ents}
    assert labels.get("französische") == "LOCderiv"
    assert labels.get("Genf") == "LOC"


def test_source_into_blank_pipeline(ner_nlp: spacy.language.Language) -> None:
    """The lead's pipeline sources the component into spacy.blank('de'); that must work."""
    nlp = spacy.blank("de")
    for name in ner_nlp.pipe_names:
        nlp.add_pipe(name, source=ner_nlp)
    doc = nlp("Die Europäische Union verhandelt in Brüssel mit Kanada .")
    assert any(e.label_ == "LOC" for e in doc.ents)


@pytest.mark.slow
def test_score_on_germeval_test_slice(ner_nlp: spacy.language.Language) -> None:
    test_file = SHARED / "data" / "germeval2014" / "NER-de-test.tsv"
    if not test_file.exists():
        pytest.skip(f"GermEval 2014 test data not found at {test_file} (../shared absent)")
    if not RESULTS.exists():
        pytest.skip("training/results/ner.json missing: run python training/ner/run.py")
    sys.path.insert(0, str(ROOT / "training" / "ner"))
    from convert import read_tsv, spans_from_bio
    from evaluate import predict, score

    sents = list(read_tsv(test_file))[:300]
    gold = [spans_from_bio(tags) for _, tags in sents]
    f1 = score(gold, predict(ner_nlp, sents))["micro"]["f1"]  # type: ignore[index]
    reported = json.loads(RESULTS.read_text(encoding="utf-8"))["test"]["micro"]["f1"]
    assert abs(f1 - reported) <= 0.05, (f1, reported)
