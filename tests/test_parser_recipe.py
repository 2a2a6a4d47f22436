"""The parser recipe (training/parser): CoNLL-U conversion, scores, and the committed figures.

Fast tests use an invented CoNLL-U snippet. The slow test needs ../shared (UD German) and a
trained model in training/output/parser/model-best; it skips with a message otherwise.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import spacy

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT / "training" / "parser"))

import conllu  # noqa: E402


def _load_run():
    """training/parser/run.py under a unique module name: other recipes' run.py files are
    on sys.path too in a full test session, and a bare `import run` would get theirs."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "lagebild_training_parser_run", ROOT / "training" / "parser" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

# Invented: "Die Ministerin sprach zum Volk." with "zum" = "zu dem" as a multiword token.
TINY = (
    "# sent_id = t1\n"
    "# text = Die Ministerin sprach zum Volk.\n"
    "1\tDie\tder\tDET\tART\t_\t2\tdet\t_\t_\n"
    "2\tMinisterin\tMinisterin\tNOUN\tNN\t_\t3\tnsubj\t_\t_\n"
    "3\tsprach\tsprechen\tVERB\tVVFIN\tMood=Ind|VerbForm=Fin\t0\troot\t_\t_\n"
    "4-5\tzum\t_\t_\t_\t_\t_\t_\t_\t_\n"
    "4\tzu\tzu\tADP\tAPPR\t_\t6\tcase\t_\t_\n"
    "5\tdem\tder\tDET\tART\t_\t6\tdet\t_\t_\n"
    "6\tVolk\tVolk\tNOUN\tNN\t_\t3\tobl\t_\tSpaceAfter=No\n"
    "7\t.\t.\tPUNCT\t$.\t_\t3\tpunct\t_\t_\n"
    "\n"
    "# sent_id = t2\n"
    "# text = Er hat gewonnen\n"
    "1\tEr\ter\tPRON\tPPER\t_\t3\tnsubj\t_\t_\n"
    "2\that\thaben\tAUX\tVAFIN\tVerbForm=Fin\t3\taux\t_\t_\n"
    "3\tgewonnen\tgewinnen\tVERB\tVVPP\tVerbForm=Part\t0\troot\t_\tSpaceAfter=No\n"
)


def test_conversion_of_invented_conllu() -> None:
    sents = conllu.parse_conllu(TINY)
    assert [s.sent_id for s in sents] == ["t1", "t2"]
    s = sents[0]
    assert s.words == ["Die", "Ministerin", "sprach", "zu", "dem", "Volk", "."]
    # "zum" keeps its trailing space on "dem"; "zu" is glued; "Volk" has SpaceAfter=No.
    assert s.spaces == [True, True, True, False, True, False, True]
    doc = conllu.to_doc(spacy.blank("de").vocab, s)
    assert [t.head.i for t in doc] == [1, 2, 2, 5, 5, 2, 2]
    assert [t.dep_ for t in doc] == ["det", "nsubj", "root", "case", "det", "obl", "punct"]
    assert [t.tag_ for t in doc] == ["DET", "NOUN", "VERB", "ADP", "DET", "NOUN", "PUNCT"]
    assert doc.text == "Die Ministerin sprach zudem Volk. "
    assert len(list(doc.sents)) == 1


def test_attachment_scores_count_punct_apart() -> None:
    s = conllu.parse_conllu(TINY)[0]
    vocab = spacy.blank("de").vocab
    perfect = conllu.to_doc(vocab, s)
    assert conllu.attachment_scores([s], [perfect])["las"] == 1.0
    wrong = conllu.to_doc(vocab, s)
    wrong_heads = list(s.heads)
    wrong_heads[1] = 5  # subject attached to "Volk"
    wrong_heads[6] = 5  # punctuation too: excluded from LAS
    wrong = spacy.tokens.Doc(vocab, words=s.words, spaces=s.spaces, tags=s.upos,
                             heads=wrong_heads, deps=s.deps)
    scores = conllu.attachment_scores([s], [wrong])
    assert scores["scored_words_no_punct"] == 6
    assert scores["las"] == round(5 / 6, 4)
    assert scores["las_with_punct"] == round(5 / 7, 4)
    assert scores["upos"] == 1.0


def test_subject_scores_clause_mode_accepts_the_finite_auxiliary() -> None:
    s = conllu.parse_conllu(TINY)[1]  # nsubj(gewonnen, Er), aux(gewonnen, hat)
    via_aux = {(1, 0)}  # a heuristic anchors on the finite "hat"
    res = conllu.subject_scores([s], [via_aux])
    assert res["strict"]["f1"] == 0.0
    assert res["clause"]["f1"] == 1.0
    assert conllu.subject_scores([s], [{(2, 0)}])["strict"]["tp"] == 1


def test_heuristics_on_invented_words() -> None:
    run = _load_run()

    words = ["In", "Berlin", "sagte", "der", "Minister", "nichts"]
    upos = ["ADP", "PROPN", "VERB", "DET", "NOUN", "PRON"]
    finite = [False, False, True, False, False, False]
    # The brief's baseline takes the first nominal before the verb, even inside a PP ...
    assert run.heuristic_pairs(words, upos, finite, "baseline_first_nominal") == {(2, 1)}
    # ... the events-style rule skips the PP and looks after the verb.
    assert run.heuristic_pairs(words, upos, finite, "events_style") == {(2, 4)}


@pytest.mark.slow
def test_committed_results_and_las_recomputed() -> None:
    ud = SHARED / "data" / "ud_german"
    if not ud.is_dir():
        pytest.skip(f"UD German not found under {ud} (needs ../shared)")
    res = json.loads((ROOT / "training" / "results" / "parser.json").read_text())
    for key in ("command", "config", "data", "training", "gsd_test", "pud_test",
                "subjects_pud_test", "subjects_gsd_test", "speed_one_thread"):
        assert key in res, key
    for split in ("gsd_test", "pud_test"):
        for field in ("uas", "las", "upos"):
            assert 0.0 < res[split][field] <= 1.0
    subj = res["subjects_pud_test"]
    for name in ("parser", "baseline_first_nominal", "events_style"):
        assert name in subj
    assert res["speed_one_thread"]["words_per_second"] > 0
    model = ROOT / "training" / "output" / "parser" / "model-best"
    if not model.is_dir():
        pytest.skip(f"no trained parser in {model}: run training/parser/run.py to recompute LAS")
    run = _load_run()

    nlp = spacy.load(model)
    sents = conllu.load("pud_test")[:100]
    las = conllu.attachment_scores(sents, run.parse(nlp, sents))["las"]
    assert abs(las - res["pud_test"]["las"]) <= 0.05
