"""Evaluate the attribution layer on German WikiNews quotation attribution.

The data set (Petersen-Frey & Biemann, LREC-COLING 2024) marks quote, speaker and cue spans
as token ids of its own tokenisation. Its metric, re-implemented here:

* predicted and gold quotes are paired one-to-one by token-overlap F1 (Hungarian
  assignment, `scipy.optimize.linear_sum_assignment`); pairs with zero overlap are dropped;
* within a pair each role (quote, speaker, cue) gets token precision and recall (two empty
  roles agree perfectly, an empty role against a filled one scores 0);
* precision is the sum over pairs divided by the number of predictions, recall the sum
  over pairs divided by the number of gold quotes, so unpaired items cost precision/recall;
* "joint" pools the tokens of all three roles of a pair.

Our record follows the project's conventions, not the data set's, so `record_quotes`
translates statements into the data set's (documented, mechanical) conventions before
scoring: quote marks and a leading *dass/ob* belong to the quote, and so does the final
period of a statement without a cue (free indirect / reported sentences); the frame of an
"according to" statement (*laut X*, *nach Angaben X*) is not part of the quote; the noun of
*nach Angaben der Polizei* belongs to the speaker ("Angaben der Polizei", cue "nach");
a quoted fragment inside reported speech is also a nested direct quote of the same
speaker, unless it is a bare name or title (at most three capitalised words: „Discovery“); a continuation statement (no cue, no speaker mention) has the speaker mention of
the statement it continues; a `reported` speech act ("X forderte Y") is the whole sentence
with its speaker inside and no cue; adjacent cue-less sentences of the same speaker (our
one-statement-per-sentence continuations) are one quotation, as the data set marks a block
of reported speech. We map our character offsets onto the data set's tokens.

Usage: `python -m lagebild.evaluate.quotes /work/shared/data/quotes_wikinews/dev [--limit N]`
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..schema import Statement

ROLES = ("quote", "speaker", "cue")
_QUOTE_MARKS = frozenset({"„", "“", "”", "\"", "»", "«", "‚", "‘", "’", "›", "‹", "'"})
_COMPLEMENTISERS = frozenset({"dass", "daß", "ob"})


@dataclass
class Quote:
    """One annotation: token-id sets per role."""

    quote: frozenset[int]
    speaker: frozenset[int] = frozenset()
    cue: frozenset[int] = frozenset()

    def role(self, name: str) -> frozenset[int]:
        return getattr(self, name)


@dataclass
class Tally:
    """Running sums of per-pair precision/recall per role."""

    n_pred: int = 0
    n_gold: int = 0
    p: dict[str, float] = field(default_factory=lambda: dict.fromkeys((*ROLES, "joint"), 0.0))
    r: dict[str, float] = field(default_factory=lambda: dict.fromkeys((*ROLES, "joint"), 0.0))

    def result(self) -> dict[str, dict[str, float]]:
        out = {}
        for role in (*ROLES, "joint"):
            p = self.p[role] / self.n_pred if self.n_pred else 0.0
            r = self.r[role] / self.n_gold if self.n_gold else 0.0
            f = 2 * p * r / (p + r) if p + r else 0.0
            out[role] = {"p": round(p, 4), "r": round(r, 4), "f1": round(f, 4)}
        return out


def _pr(pred: frozenset[int], gold: frozenset[int]) -> tuple[float, float]:
    if not pred and not gold:
        return 1.0, 1.0
    if not pred or not gold:
        return 0.0, 0.0
    inter = len(pred & gold)
    return inter / len(pred), inter / len(gold)


def _f1(pred: frozenset[int], gold: frozenset[int]) -> float:
    p, r = _pr(pred, gold)
    return 2 * p * r / (p + r) if p + r else 0.0


def score_document(pred: list[Quote], gold: list[Quote], tally: Tally) -> None:
    """Pair quotes by token F1 (Hungarian) and add the pairs' role scores to `tally`."""
    tally.n_pred += len(pred)
    tally.n_gold += len(gold)
    if not pred or not gold:
        return
    m = np.zeros((len(pred), len(gold)))
    for i, p in enumerate(pred):
        for j, g in enumerate(gold):
            if p.quote & g.quote:
                m[i, j] = _f1(p.quote, g.quote)
    rows, cols = linear_sum_assignment(m, maximize=True)
    for i, j in zip(rows, cols, strict=True):
        if m[i, j] <= 0:
            continue
        p, g = pred[i], gold[j]
        for role in ROLES:
            rp, rr = _pr(p.role(role), g.role(role))
            tally.p[role] += rp
            tally.r[role] += rr
        inter = sum(len(p.role(x) & g.role(x)) for x in ROLES)
        np_, ng = sum(len(p.role(x)) for x in ROLES), sum(len(g.role(x)) for x in ROLES)
        tally.p["joint"] += inter / np_ if np_ else 1.0
        tally.r["joint"] += inter / ng if ng else 1.0


def gold_quotes(item: dict) -> list[Quote]:
    """Every annotation of a WikiNews document, nested ones included."""
    return [
        Quote(frozenset(a["quote"]["tokenIds"]), frozenset(a["speaker"]["tokenIds"]),
              frozenset(a["cue"]["tokenIds"]))
        for a in item["annotations"]
        if a["quote"]["tokenIds"]
    ]


class TokenMap:
    """Character offsets -> the data set's token ids."""

    def __init__(self, tokens: list[dict]):
        toks = sorted(tokens, key=lambda t: t["charBegin"])
        self.begins = [t["charBegin"] for t in toks]
        self.ends = [t["charEnd"] for t in toks]
        self.ids = [t["id"] for t in toks]
        self.texts = [t["text"] for t in toks]

    def positions(self, start: int, end: int) -> range:
        """Positions (not ids) of tokens overlapping [start, end)."""
        lo = bisect_right(self.ends, start)
        hi = bisect_left(self.begins, end)
        return range(lo, max(lo, hi))

    def ids_of(self, positions: Iterable[int]) -> frozenset[int]:
        return frozenset(self.ids[k] for k in positions)


def _widen(tm: TokenMap, pos: range) -> set[int]:
    """Add enclosing quote marks and a leading complementiser (the data set's convention)."""
    out = set(pos)
    if not pos:
        return out
    lo, hi = pos.start, pos.stop
    if lo > 0 and tm.texts[lo - 1] in _QUOTE_MARKS:
        out.add(lo - 1)
        lo -= 1
    elif lo > 0 and tm.texts[lo - 1].lower() in _COMPLEMENTISERS:
        out.add(lo - 1)
    if hi < len(tm.texts) and tm.texts[hi] in _QUOTE_MARKS:
        out.add(hi)
    return out


def _fragments(tm: TokenMap, pos: set[int]) -> list[set[int]]:
    """Quoted fragments (with their marks) strictly inside a reported statement."""
    frags: list[set[int]] = []
    ordered = sorted(pos)
    open_at: int | None = None
    for k in ordered:
        t = tm.texts[k]
        if t in ("„", "»", "«", "‚") and open_at is None:
            open_at = k
        elif t in ("“", "”", "«", "»", "‘", "\"") and open_at is not None and k > open_at + 1:
            inner = [tm.texts[x] for x in ordered if open_at < x < k]
            if not (len(inner) <= 3 and all(w[:1].isupper() for w in inner)):
                frags.append(set(range(open_at, k + 1)))
            # else a quoted name or title („Discovery“, „Neue Zeit“), not a quotation
            open_at = None
    if len(frags) == 1 and frags[0] >= pos - {min(pos), max(pos)}:
        return []  # the whole statement is the quote
    return frags


def _add_final_period(tm: TokenMap, qpos: set[int]) -> None:
    """The data set keeps a whole-sentence quotation's final . ! ? (our record does not)."""
    if qpos:
        end = max(qpos) + 1
        if end < len(tm.texts) and tm.texts[end] in (".", "!", "?"):
            qpos.add(end)


def record_quotes(statements: list[Statement], tm: TokenMap) -> list[Quote]:
    """Translate our statements into the data set's annotation conventions."""
    out: list[Quote] = []
    prev_speaker: frozenset[int] = frozenset()
    # the last cue-less whole-sentence quote: (index in `out`, its last token position)
    run: tuple[int, int] | None = None
    for st in statements:
        if st.kind == "reported":
            # a summarised speech act: the data set marks the whole sentence (speaker
            # included, final period too) as the quotation and gives it no cue
            qpos = _widen(tm, tm.positions(st.content.start, st.content.end))
            _add_final_period(tm, qpos)
            spk = st.speaker_span
            speaker = tm.ids_of(tm.positions(spk.start, spk.end)) if spk else frozenset()
            if qpos:
                out.append(Quote(tm.ids_of(qpos), speaker, frozenset()))
                prev_speaker = speaker
            run = None
            continue
        spans = st.parts or [st.content]
        qpos: set[int] = set()
        for sp in spans:
            qpos |= _widen(tm, tm.positions(sp.start, sp.end))
        cue_pos = set(tm.positions(st.cue.start, st.cue.end)) if st.cue else set()
        spk_pos = set(tm.positions(st.speaker_span.start, st.speaker_span.end)) if st.speaker_span else set()
        if st.cue is not None and len(cue_pos) > 1:
            low = [tm.texts[k].lower() for k in sorted(cue_pos)]
            ordered = sorted(cue_pos)
            if low[0] == "nach":  # nach Angaben der Polizei: noun belongs to the speaker
                spk_pos |= set(ordered[1:])
                cue_pos = {ordered[0]}
            elif low[-1] in ("nach", "zufolge"):  # Seiner Meinung nach
                spk_pos |= set(ordered[:-1])
                cue_pos = {ordered[-1]}
        qpos -= cue_pos | spk_pos
        if not qpos:
            continue
        if st.cue is None and not st.parts:
            # a whole sentence without its own cue (free indirect / reported speech): the
            # data set keeps its final period, our record leaves it out
            _add_final_period(tm, qpos)
        speaker = tm.ids_of(spk_pos)
        if not speaker and st.cue is None and st.speaker_span is None:
            speaker = prev_speaker
        cue = tm.ids_of(cue_pos)
        whole = st.cue is None and not st.parts
        if (MERGE_CONTINUATIONS and whole and run is not None and min(qpos) == run[1] + 1
                and out[run[0]].speaker == speaker):
            # the next sentence of one source's reported speech: the data set marks the
            # block as one quotation, our record keeps a statement per sentence
            first = out[run[0]]
            out[run[0]] = Quote(first.quote | tm.ids_of(qpos), speaker, first.cue)
            run = (run[0], max(qpos))
            continue
        out.append(Quote(tm.ids_of(qpos), speaker, cue))
        run = (len(out) - 1, max(qpos)) if whole else None
        if st.kind in ("indirect", "mixed", "according_to"):
            for frag in _fragments(tm, qpos):
                out.append(Quote(tm.ids_of(frag), speaker, cue))
        prev_speaker = speaker
    return out


#: Adjacent cue-less sentences of one speaker are one quotation in the data set (3-fold CV
#: on train, speaker 0.593 -> 0.601, quote 0.758 -> 0.771; see the attribution model card).
MERGE_CONTINUATIONS = True


def load_split(data_dir: str | Path, limit: int | None = None) -> list[dict]:
    files = sorted(Path(data_dir).glob("*.json"), key=lambda p: p.name)
    if limit is not None:
        files = files[:limit]
    return [json.loads(p.read_text(encoding="utf-8")) for p in files]


def attribution_nlp(use_model: bool = True):
    """The layers attribution depends on, and nothing else.

    The data set scores speaker spans, not entity ids, so the entity layer (and the NER
    model) is left out: the figure then depends only on this layer and stays comparable
    while other layers change.
    """
    import spacy

    from ..extract import attribution, morph  # noqa: F401  (register components)

    nlp = spacy.blank("de")
    nlp.add_pipe("lagebild_sentences")
    nlp.add_pipe("lagebild_morph")
    nlp.add_pipe("lagebild_attribution" if use_model else "lagebild_attribution_rules")
    nlp.max_length = 2_000_000
    return nlp


def evaluate_quotes(data_dir: str | Path, nlp=None, limit: int | None = None) -> dict:
    """Score the attribution layer on one WikiNews split directory; returns P/R/F1 per role.

    `nlp` defaults to `attribution_nlp()`; pass `lagebild.nlp.get_nlp()` to score the full
    pipeline instead.
    """
    if nlp is None:
        nlp = attribution_nlp()
    from ..extract.attribution import wikinews_conventions

    items = load_split(data_dir, limit)
    tally = Tally()
    t0 = time.perf_counter()
    n_words = 0
    with wikinews_conventions():
        for item in items:
            text = item["originalText"]
            doc = nlp(text)
            n_words += len(item["tokens"])
            pred = record_quotes(doc._.lb_statements or [], TokenMap(item["tokens"]))
            score_document(pred, gold_quotes(item), tally)
    elapsed = time.perf_counter() - t0
    result = tally.result()
    result["documents"] = len(items)
    result["predicted"] = tally.n_pred
    result["gold"] = tally.n_gold
    result["pipeline_words_per_s"] = round(n_words / elapsed) if elapsed else None
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--rules-only", action="store_true", help="ignore the trained CRF")
    args = ap.parse_args(argv)
    nlp = attribution_nlp(use_model=not args.rules_only)
    json.dump(evaluate_quotes(args.data_dir, nlp, args.limit), sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
