"""The WikiNews quotation-attribution metric on tiny hand-made cases, the translation of
our statements into the data set's conventions, and (slow) the dev figure itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lagebild.evaluate.quotes import (
    Quote,
    Tally,
    TokenMap,
    evaluate_quotes,
    record_quotes,
    score_document,
)
from lagebild.schema import Span, Statement

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def q(quote: set[int], speaker: set[int] = frozenset(), cue: set[int] = frozenset()) -> Quote:
    return Quote(frozenset(quote), frozenset(speaker), frozenset(cue))


def run(pred: list[Quote], gold: list[Quote]) -> dict:
    tally = Tally()
    score_document(pred, gold, tally)
    return tally.result()


def test_perfect_match() -> None:
    r = run([q({1, 2, 3}, {5}, {4})], [q({1, 2, 3}, {5}, {4})])
    for role in ("quote", "speaker", "cue", "joint"):
        assert r[role] == {"p": 1.0, "r": 1.0, "f1": 1.0}


def test_unpaired_prediction_costs_precision_only() -> None:
    r = run([q({1, 2}), q({10, 11})], [q({1, 2})])
    assert r["quote"]["p"] == 0.5 and r["quote"]["r"] == 1.0


def test_unpaired_gold_costs_recall_only() -> None:
    r = run([q({1, 2})], [q({1, 2}), q({8, 9})])
    assert r["quote"]["p"] == 1.0 and r["quote"]["r"] == 0.5


def test_partial_overlap() -> None:
    r = run([q({1, 2, 3, 4})], [q({3, 4, 5, 6})])
    assert r["quote"] == {"p": 0.5, "r": 0.5, "f1": 0.5}


def test_hungarian_beats_greedy() -> None:
    # Greedy would pair pred A with gold X (F1 0.67) and leave B with nothing;
    # the optimal assignment pairs A-Y and B-X.
    a = q({1, 2, 3, 4})
    b = q({1, 2})
    x = q({1, 2, 3})
    y = q({3, 4, 5, 6, 7, 8})
    r = run([a, b], [x, y])
    # A-Y: p=2/4, r=2/6; B-X: p=1, r=2/3
    assert r["quote"]["p"] == pytest.approx(round((0.5 + 1.0) / 2, 4))
    assert r["quote"]["r"] == pytest.approx(round((2 / 6 + 2 / 3) / 2, 4))


def test_roles_within_pairs() -> None:
    # speaker half right, cue missing, both-empty addressee-like roles agree
    r = run([q({1, 2}, {7, 8}, set())], [q({1, 2}, {8}, {5})])
    assert r["speaker"]["p"] == 0.5 and r["speaker"]["r"] == 1.0
    assert r["cue"]["p"] == 0.0 and r["cue"]["r"] == 0.0
    r2 = run([q({1, 2})], [q({1, 2})])
    assert r2["speaker"]["f1"] == 1.0  # both empty


def test_joint_pools_roles() -> None:
    r = run([q({1, 2}, {5}, {6})], [q({1, 2}, {5}, {7})])
    assert r["joint"]["p"] == pytest.approx(0.75) and r["joint"]["r"] == pytest.approx(0.75)


# ----------------------------------------------------------------- convention mapping


def _tokens(text: str) -> list[dict]:
    """Whitespace tokens in the data set's format (id, charBegin, charEnd, text)."""
    out, pos = [], 0
    for i, w in enumerate(text.split(" ")):
        out.append({"id": i, "charBegin": pos, "charEnd": pos + len(w), "text": w})
        pos += len(w) + 1
    return out


def _span(text: str, part: str, occurrence: int = 0) -> Span:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(part, start + 1)
    return Span(start=start, end=start + len(part), text=part)


def test_record_quotes_conventions() -> None:
    text = "„ Wir kommen “ , sagte Ina . Nach Angaben der Polizei sei es ruhig . Es gebe keine Toten ."
    tm = TokenMap(_tokens(text))
    sts = [
        Statement(id="s1", kind="direct", content=_span(text, "Wir kommen"), cue=_span(text, "sagte"),
                  speaker_span=_span(text, "Ina")),
        Statement(id="s2", kind="according_to", content=_span(text, "Nach Angaben der Polizei sei es ruhig"),
                  cue=_span(text, "Nach Angaben"), speaker_span=_span(text, "der Polizei")),
        Statement(id="s3", kind="indirect", content=_span(text, "Es gebe keine Toten")),
    ]
    out = record_quotes(sts, tm)
    words = text.split(" ")

    def show(ids: frozenset[int]) -> str:
        return " ".join(words[i] for i in sorted(ids))

    assert show(out[0].quote) == "„ Wir kommen “"  # quote marks belong to the quote
    assert show(out[1].quote) == "sei es ruhig"  # the frame is not part of it
    assert show(out[1].cue) == "Nach" and show(out[1].speaker) == "Angaben der Polizei"
    assert show(out[2].speaker) == "Angaben der Polizei"  # continuation inherits


def test_record_quotes_nested_fragment_and_dass() -> None:
    text = "Er sagte , dass die Lage „ sehr ernst “ sei ."
    tm = TokenMap(_tokens(text))
    st = Statement(id="s1", kind="mixed", content=_span(text, "die Lage „ sehr ernst “ sei"),
                   cue=_span(text, "sagte"), speaker_span=_span(text, "Er"))
    out = record_quotes([st], tm)
    words = text.split(" ")
    assert " ".join(words[i] for i in sorted(out[0].quote)) == "dass die Lage „ sehr ernst “ sei"
    assert len(out) == 2
    assert " ".join(words[i] for i in sorted(out[1].quote)) == "„ sehr ernst “"
    assert out[1].speaker == out[0].speaker


def test_record_quotes_merges_adjacent_continuations() -> None:
    # one statement per continuation sentence in the record; one block in the data set
    text = ("Ina sagte , es sei ruhig . Es gebe keine Toten . Die Lage sei stabil . "
            "Die Stadt hat 900 Einwohner . Man hoffe auf Hilfe .")
    tm = TokenMap(_tokens(text))
    sts = [
        Statement(id="s1", kind="indirect", content=_span(text, "es sei ruhig"), cue=_span(text, "sagte"),
                  speaker_span=_span(text, "Ina")),
        Statement(id="s2", kind="indirect", content=_span(text, "Es gebe keine Toten")),
        Statement(id="s3", kind="indirect", content=_span(text, "Die Lage sei stabil")),
        Statement(id="s4", kind="indirect", content=_span(text, "Man hoffe auf Hilfe")),
    ]
    out = record_quotes(sts, tm)
    words = text.split(" ")

    def show(ids: frozenset[int]) -> str:
        return " ".join(words[i] for i in sorted(ids))

    # the framed statement stays apart; the two adjacent continuations are one quotation;
    # the one after the writer's own sentence is not adjacent and stays apart
    assert [show(x.quote) for x in out] == [
        "es sei ruhig", "Es gebe keine Toten . Die Lage sei stabil .", "Man hoffe auf Hilfe ."]
    assert all(show(x.speaker) == "Ina" for x in out)


# ----------------------------------------------------------------- the real figure


@pytest.mark.slow
def test_dev_figure_matches_committed_result() -> None:
    dev = SHARED / "data" / "quotes_wikinews" / "dev"
    if not dev.is_dir():
        pytest.skip(f"WikiNews quotation data not found at {dev}")
    committed = json.loads((REPO / "training" / "results" / "attribution.json").read_text())
    expected = committed["rules_plus_crf_first20"]
    got = evaluate_quotes(dev, limit=20)
    for role in ("quote", "speaker"):
        assert abs(got[role]["f1"] - expected[role]["f1"]) <= 0.1, (role, got[role], expected[role])
