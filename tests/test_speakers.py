"""The speaker ranker: candidates, features, training and the shipped model's choices."""

from __future__ import annotations

import pytest

from lagebild.evaluate.quotes import attribution_nlp
from lagebild.extract import attribution as attr
from lagebild.extract import speakers


def _facts(text: str):
    nlp = attribution_nlp(use_model=False)
    doc = nlp(text)
    facts = attr.token_facts(doc)
    attr.rule_statements(doc, facts)  # fills facts.subject_of, as at run time
    return doc, facts


def _span(doc, words: str) -> tuple[int, int]:
    toks = words.split()
    for i in range(len(doc) - len(toks) + 1):
        if [t.text for t in doc[i:i + len(toks)]] == toks:
            return i, i + len(toks)
    raise AssertionError(words)


def test_candidates_include_none_subject_and_chunks() -> None:
    doc, facts = _facts("Die Ministerin sagte dem Sender am Montag, die Lage sei ernst.")
    a, b = _span(doc, "die Lage sei ernst")
    cue = _span(doc, "sagte")
    cands = speakers.gather(doc, facts, a, b, 0, len(doc), cue, [], None, None)
    assert cands[0].span is None and cands[0].sources == {"none"}
    spans = {c.span: c.sources for c in cands[1:]}
    assert spans[_span(doc, "Die Ministerin")] >= {"subj", "chunk"}
    assert _span(doc, "dem Sender") in spans
    # nothing inside the quotation is a candidate
    assert all(c.span[1] <= a or c.span[0] >= b for c in cands[1:])


def test_features_describe_case_and_position() -> None:
    doc, facts = _facts("Die Ministerin sagte dem Sender am Montag, die Lage sei ernst.")
    a, b = _span(doc, "die Lage sei ernst")
    cue = _span(doc, "sagte")
    subj = speakers.Candidate(_span(doc, "Die Ministerin"), {"subj"})
    obj = speakers.Candidate(_span(doc, "dem Sender"), {"chunk"})
    fs = speakers.features(doc, facts, subj, a, b, cue, lambda k: 0.0, ["ct=verb2"])
    fo = speakers.features(doc, facts, obj, a, b, cue, lambda k: 0.0, ["ct=verb2"])
    assert {"f=det", "bos", "cr=rightbefore", "side=before"} <= set(fs)
    assert {"f=obl", "cr=rightafter"} <= set(fo)
    assert speakers.features(doc, facts, speakers.Candidate(None), a, b, cue, lambda k: 0.0, ["ct=verb2"]) == [
        "none", "none|ct=verb2"]


def test_training_learns_a_separable_choice() -> None:
    # the label is always the candidate with feature "good"; "none" competes
    examples = [([["none"], ["bad", "x"], ["good", "x"]], 2), ([["none"], ["good"], ["bad"]], 1),
                ([["none"], ["bad"]], 0)] * 5
    ranker = speakers.train(examples, l2=0.1)
    assert ranker.choose([["none"], ["bad"], ["good"]]) == 2
    assert ranker.choose([["none"], ["bad"]]) == 0
    assert ranker.weights["good"] > ranker.weights["bad"]


def test_ranker_round_trips_through_json(tmp_path) -> None:
    r = speakers.Ranker({"a": 0.5, "b": -1.25, "tiny": 1e-7})
    path = tmp_path / speakers.MODEL_FILE
    r.to_file(path)
    back = speakers.Ranker.from_file(path)
    assert back.weights == {"a": 0.5, "b": -1.25}


def test_label_prefers_best_overlap_and_none_for_no_gold() -> None:
    cands = [speakers.Candidate(None), speakers.Candidate((0, 2)), speakers.Candidate((0, 5))]
    assert speakers.label_of(cands, {0, 1, 2, 3, 4}) == 2
    assert speakers.label_of(cands, {0, 1}) == 1
    assert speakers.label_of(cands, set()) == 0
    assert speakers.label_of(cands, {9}) is None


@pytest.mark.skipif(speakers.load() is None, reason="no shipped speaker ranker (train_crf.py builds it)")
@pytest.mark.parametrize(("text", "speaker"), [
    ("Die Gewerkschaft bezeichnete die Einigung als „schweren Fehler“.", "Die Gewerkschaft"),
    ("Die Ministerin sagte dem Sender am Montag, die Lage sei ernst.", "Die Ministerin"),
    ("„Wir bleiben“, sagte der Bürgermeister von Oberhausen.", "der Bürgermeister von Oberhausen"),
])
def test_shipped_layer_picks_the_subject(text: str, speaker: str) -> None:
    sts = attribution_nlp(use_model=True)(text)._.lb_statements
    assert sts and sts[0].speaker_span is not None
    assert sts[0].speaker_span.text == speaker


@pytest.mark.parametrize(("words", "cue_at", "number"), [
    ("Die Experten sagten", 2, "pl"),
    ("Der Minister sagte", 2, "sg"),
    ("Der Minister hat gesagt", 3, "sg"),  # the finite auxiliary decides
    ("Die Ärzte haben gewarnt", 3, "pl"),
    ("Die Sprecherin sprach", 2, "sg"),
])
def test_verb_number_by_form(words: str, cue_at: int, number: str) -> None:
    texts = words.split()
    assert speakers.verb_number(texts, 0, (cue_at, cue_at + 1)) == number


@pytest.mark.parametrize(("words", "number"), [
    ("Die Experten", "pl"),
    ("Merkel und Macron", "pl"),
    ("der Sprecher der Polizei", "sg"),
    ("Anna Berg", "sg"),
    ("er", "sg"),
    ("die Ermittler", "unk"),  # "Ermittler" is singular or plural
])
def test_phrase_number_by_form(words: str, number: str) -> None:
    texts = words.split()
    assert speakers.phrase_number(texts, 0, len(texts)) == number


def test_agreement_feature_marks_a_clash() -> None:
    doc, facts = _facts("Die Experten warnten Anna Berg, die Lage sei ernst.")
    a, b = _span(doc, "die Lage sei ernst")
    cue = _span(doc, "warnten")
    frame = speakers.cue_frame(doc, facts, cue)
    cands = speakers.gather(doc, facts, a, b, 0, len(doc), cue, [], None, None)
    feats = {c.span: speakers.features(doc, facts, c, a, b, cue, lambda k: 0.0, [], frame)
             for c in cands[1:]}
    assert "agr=ok" in feats[_span(doc, "Die Experten")]
    assert "agr=clash" in feats[_span(doc, "Anna Berg")]
