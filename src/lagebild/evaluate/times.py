"""Evaluate the time layer on WikiWarsDE (TIMEX2, Strötgen & Gertz 2011).

The corpus comes as inline-annotated SGML (`keyinline/*.key.xml`); we strip the tags,
keep the gold offsets, and score only the `<TEXT>` body (the `<DATETIME>` header is the
document creation time, used as the anchor, not scored).

Metrics (ACE TERN style):
* strict extent: predicted span == gold span;
* lenient extent: spans overlap (one-to-one, greedy in text order);
* value accuracy: on lenient matches whose gold has a `val`, predicted value == gold val.

Split: documents 01-08 are the development part (the rules were written looking at them),
09-22 are held out and were not inspected while writing rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..extract.time import find_times

_TAG = re.compile(r"<(/?)([A-Za-z0-9]+)([^>]*)>")
_ATTR = re.compile(r'(\w+)="([^"]*)"')
DEV_IDS = tuple(f"{i:02d}" for i in range(1, 9))


@dataclass
class GoldDoc:
    doc_id: str
    text: str
    dct: date | None
    timexes: list[tuple[int, int, str | None]]  # start, end, val (None if none)


def parse_inline(path: Path) -> GoldDoc:
    """One keyinline file -> body text, creation date and gold (start, end, val)."""
    raw = path.read_text(encoding="utf-8")
    out: list[str] = []
    pos = 0
    length = 0
    open_timex: tuple[int, str | None] | None = None
    timexes: list[tuple[int, int, str | None]] = []
    body_start = body_end = None
    dct: date | None = None
    for m in _TAG.finditer(raw):
        chunk = raw[pos : m.start()]
        out.append(chunk)
        length += len(chunk)
        pos = m.end()
        closing, name, attrs = m.group(1), m.group(2).upper(), m.group(3)
        if name == "TIMEX2" and not closing:
            val = dict(_ATTR.findall(attrs)).get("val")
            open_timex = (length, val)
        elif name == "TIMEX2" and closing and open_timex is not None:
            start, val = open_timex
            if body_start is None:  # the DATETIME header
                if val and re.match(r"\d{4}-\d{2}-\d{2}", val):
                    dct = date.fromisoformat(val[:10])
            else:
                timexes.append((start, length, val))
            open_timex = None
        elif name == "TEXT":
            if closing:
                body_end = length
            else:
                body_start = length
    out.append(raw[pos:])
    full = "".join(out)
    body_start = body_start or 0
    body_end = body_end if body_end is not None else len(full)
    text = full[body_start:body_end]
    timexes = [(s - body_start, e - body_start, v) for s, e, v in timexes
               if body_start <= s and e <= body_end]
    return GoldDoc(path.name.split(".")[0], text, dct, timexes)


def load_corpus(root: Path) -> list[GoldDoc]:
    return [parse_inline(p) for p in sorted((root / "keyinline").glob("*.key.xml"))]


def _prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def score(docs: list[GoldDoc], mode: str = "narrative") -> dict:
    """Extent P/R/F1 (strict, lenient) and value accuracy over `docs`."""
    n_pred = n_gold = strict_tp = lenient_tp = val_total = val_ok = 0
    for doc in docs:
        # TIMEX2 marks the two ends of a range separately: score them that way
        pred = find_times(doc.text, doc.dct, mode, merge_ranges=False)
        gold = doc.timexes
        n_pred += len(pred)
        n_gold += len(gold)
        gold_spans = {(s, e) for s, e, _ in gold}
        strict_tp += sum(1 for s, e, _, _ in pred if (s, e) in gold_spans)
        used: set[int] = set()
        for ps, pe, pv, _ in pred:
            for gi, (gs, ge, gv) in enumerate(gold):
                if gi in used or not (ps < ge and gs < pe):
                    continue
                used.add(gi)
                lenient_tp += 1
                if gv is not None:
                    val_total += 1
                    val_ok += int(pv == gv)
                break
    return {
        "documents": len(docs), "gold": n_gold, "predicted": n_pred,
        "strict": _prf(strict_tp, n_pred, n_gold),
        "lenient": _prf(lenient_tp, n_pred, n_gold),
        "value_accuracy": round(val_ok / val_total, 4) if val_total else 0.0,
        "value_scored": val_total,
    }


def evaluate(root: Path) -> dict:
    """Scores for the dev part, the held-out part and all documents, in both anchor modes."""
    docs = load_corpus(root)
    dev = [d for d in docs if d.doc_id[:2] in DEV_IDS]
    test = [d for d in docs if d.doc_id[:2] not in DEV_IDS]
    return {
        "narrative": {"dev": score(dev), "test": score(test), "all": score(docs)},
        "news": {"dev": score(dev, "news"), "test": score(test, "news")},
    }
