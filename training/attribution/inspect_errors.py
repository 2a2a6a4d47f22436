"""Print gold vs predicted quotes/speakers side by side, for error analysis on train.

    python training/attribution/inspect_errors.py ../shared/data/quotes_wikinews/train 0 25 [pairs|miss|fp]
"""

from __future__ import annotations

import sys

import numpy as np
from scipy.optimize import linear_sum_assignment

from lagebild.evaluate.quotes import (
    TokenMap,
    _f1,
    attribution_nlp,
    gold_quotes,
    load_split,
    record_quotes,
)


def main() -> None:
    split, start, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    what = sys.argv[4] if len(sys.argv) > 4 else "all"
    nlp = attribution_nlp()
    for item in load_split(split)[start:start + n]:
        tm = TokenMap(item["tokens"])
        txt = {t["id"]: t["text"] for t in item["tokens"]}

        def show(ids: frozenset[int], txt: dict[int, str] = txt) -> str:
            return " ".join(txt[i] for i in sorted(ids))

        doc = nlp(item["originalText"])
        pred = record_quotes(doc._.lb_statements, tm)
        gold = gold_quotes(item)
        m = np.zeros((len(pred), len(gold)))
        for i, p in enumerate(pred):
            for j, g in enumerate(gold):
                m[i, j] = _f1(p.quote, g.quote)
        rows, cols = linear_sum_assignment(m, maximize=True) if pred and gold else ([], [])
        paired_p, paired_g = set(), set()
        for i, j in zip(rows, cols, strict=True):
            if m[i, j] <= 0:
                continue
            paired_p.add(i)
            paired_g.add(j)
            p, g = pred[i], gold[j]
            if what in ("all", "pairs") and (m[i, j] < 0.99 or _f1(p.speaker, g.speaker) < 0.99):
                print(f"PAIR q={m[i, j]:.2f}\n  G: {show(g.quote)[:160]}\n  P: {show(p.quote)[:160]}")
                print(f"  GS: {show(g.speaker)} | PS: {show(p.speaker)} | GC: {show(g.cue)} | PC: {show(p.cue)}")
        if what in ("all", "miss"):
            for j, g in enumerate(gold):
                if j not in paired_g:
                    print(f"MISS G: {show(g.quote)[:200]} | S: {show(g.speaker)} | C: {show(g.cue)}")
        if what in ("all", "fp"):
            for i, p in enumerate(pred):
                if i not in paired_p:
                    print(f"FP   P: {show(p.quote)[:200]} | S: {show(p.speaker)} | C: {show(p.cue)}")


if __name__ == "__main__":
    main()
