"""Score records against hand-made gold records (format: shared/gold/SCHEMA.md).

Matching is by character offsets, never by names: a gold speaker "Wladimir Putin" and a
predicted entity match when they share a mention, so canonical spelling differences
("USA" vs "Vereinigte Staaten") do not count as errors but wrong attributions do.
Items marked `optional` in the gold are neither rewarded nor penalised.
"""

from __future__ import annotations

import json
from pathlib import Path

from scipy.optimize import linear_sum_assignment

from ..schema import Record


def _prf(tp: float, n_pred: float, n_gold: float) -> dict:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": round(p, 4), "r": round(r, 4), "f1": round(f, 4), "tp": tp, "pred": n_pred,
            "gold": n_gold}


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Character-overlap F1 of two spans (1.0 = identical)."""
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    if not inter:
        return 0.0
    p, r = inter / (a[1] - a[0]), inter / (b[1] - b[0])
    return 2 * p * r / (p + r)


def _pair(gold: list[tuple[int, int]], pred: list[tuple[int, int]],
          threshold: float = 0.5) -> list[tuple[int, int]]:
    """One-to-one pairs (gold index, pred index) maximising overlap, above `threshold`."""
    if not gold or not pred:
        return []
    cost = [[-_overlap(g, p) for p in pred] for g in gold]
    rows, cols = linear_sum_assignment(cost)
    return [(r, c) for r, c in zip(rows, cols, strict=True) if -cost[r][c] >= threshold]


def _sp(span: dict | None) -> tuple[int, int] | None:
    return (span["start"], span["end"]) if span else None


class _GoldEntities:
    """Gold canonical name -> its mention spans (all kinds)."""

    def __init__(self, gold: dict):
        self.spans: dict[str, list[tuple[int, int]]] = {}
        for e in gold.get("entities", []):
            ms = e.get("mentions", []) + e.get("adjectival_mentions", []) + e.get("part_mentions", [])
            self.spans[e["canonical"]] = [(m["start"], m["end"]) for m in ms]


def _pred_entity_spans(record: Record) -> dict[str, list[tuple[int, int]]]:
    return {e.id: [(m.start, m.end) for m in e.mentions] for e in record.entities}


def _same_referent(gold_names: list[str | None], pred_id: str | None, gents: _GoldEntities,
                   pents: dict[str, list[tuple[int, int]]], pred_span: tuple[int, int] | None = None,
                   gold_span: tuple[int, int] | None = None) -> bool:
    """True when the predicted entity (or mention) refers to one of the acceptable gold referents."""
    for name in gold_names:
        if name in (None, "author"):
            if pred_id is None:
                return True
            continue
        gspans = set(gents.spans.get(name, []))
        if gold_span:
            gspans.add(gold_span)
        if pred_id is not None and any(
            _overlap(g, p) > 0.5 for g in gspans for p in pents.get(pred_id, [])
        ):
            return True
        if pred_span is not None and any(_overlap(g, pred_span) > 0.5 for g in gspans):
            return True
    return False


def score_record(gold: dict, record: Record) -> dict:
    gents = _GoldEntities(gold)
    pents = _pred_entity_spans(record)
    out: dict = {}

    # entities: mention detection (exact offsets) and typed mentions
    gold_m: dict[tuple[int, int], str] = {}
    optional_m: set[tuple[int, int]] = set()
    for e in gold.get("entities", []):
        ms = e.get("mentions", []) + e.get("adjectival_mentions", []) + e.get("part_mentions", [])
        for m in ms:
            if e.get("optional"):
                optional_m.add((m["start"], m["end"]))
            else:
                gold_m[(m["start"], m["end"])] = e["type"]
    pred_m = {(m.start, m.end): e.type for e in record.entities for m in e.mentions}
    pred_m = {k: v for k, v in pred_m.items() if k not in optional_m}
    tp = sum(1 for k in pred_m if k in gold_m)
    tp_typed = sum(1 for k, t in pred_m.items() if gold_m.get(k) == t)
    out["entity_mentions"] = _prf(tp, len(pred_m), len(gold_m))
    out["entity_mentions_typed"] = _prf(tp_typed, len(pred_m), len(gold_m))

    # statements: paired by content overlap; speaker judged on the referent
    gst = [s for s in gold.get("statements", []) if not s.get("optional")]
    opt_st = [_sp(s["content"]) for s in gold.get("statements", []) if s.get("optional")]
    pst = [s for s in record.statements
           if not any(_overlap(o, (s.content.start, s.content.end)) >= 0.5 for o in opt_st)]
    pairs = _pair([_sp(s["content"]) for s in gst], [(s.content.start, s.content.end) for s in pst])
    spk_ok = kind_ok = 0
    for gi, pi in pairs:
        g, p = gst[gi], pst[pi]
        names = [g.get("speaker"), *g.get("speaker_alternatives", [])]
        pspan = (p.speaker_span.start, p.speaker_span.end) if p.speaker_span else None
        if _same_referent(names, p.speaker, gents, pents, pspan, _sp(g.get("speaker_mention"))):
            spk_ok += 1
        if p.kind in [g.get("kind"), *g.get("kind_alternatives", [])]:
            kind_ok += 1
    out["statements"] = _prf(len(pairs), len(pst), len(gst))
    out["statements+speaker"] = _prf(spk_ok, len(pst), len(gst))
    out["statements+kind"] = _prf(kind_ok, len(pst), len(gst))

    # quantities: span overlap; value and source must agree
    gq = [q for q in gold.get("quantities", []) if not q.get("optional")]
    opt_q = [(q["start"], q["end"]) for q in gold.get("quantities", []) if q.get("optional")]
    pq = [q for q in record.quantities
          if not any(_overlap(o, (q.span.start, q.span.end)) >= 0.5 for o in opt_q)]
    pairs = _pair([(q["start"], q["end"]) for q in gq], [(q.span.start, q.span.end) for q in pq])
    val_ok = src_ok = 0
    for gi, pi in pairs:
        g, p = gq[gi], pq[pi]
        gv = g.get("value")
        if isinstance(gv, list):
            good = p.low == gv[0] and p.high == gv[1]
        elif gv is None:
            good = p.value is None
        else:
            good = p.value is not None and abs(p.value - gv) < 1e-6
        val_ok += good
        if good and _same_referent([g.get("source")], p.source, gents, pents):
            src_ok += 1
    out["quantities"] = _prf(len(pairs), len(pq), len(gq))
    out["quantities+value"] = _prf(val_ok, len(pq), len(gq))
    out["quantities+value+source"] = _prf(src_ok, len(pq), len(gq))

    # events: a prediction matches a gold event when its trigger lies in the evidence and the
    # PLOVER type is acceptable; then modality, actor and source are checked
    gev = [e for e in gold.get("events", []) if not e.get("optional")]
    pev = list(record.events)
    cost = []
    for g in gev:
        ev_span = _sp(g["evidence"])
        types = {g["plover"], *g.get("plover_alternatives", [])}
        cost.append([
            -1.0 if (p.type in types and ev_span[0] <= p.trigger.start and p.trigger.end <= ev_span[1])
            else 0.0 for p in pev
        ])
    pairs = []
    if gev and pev:
        rows, cols = linear_sum_assignment(cost)
        pairs = [(r, c) for r, c in zip(rows, cols, strict=True) if cost[r][c] < 0]
    mod_ok = actor_ok = 0
    for gi, pi in pairs:
        g, p = gev[gi], pev[pi]
        if p.modality in [g["modality"], *g.get("modality_alternatives", [])]:
            mod_ok += 1
        if _same_referent([g.get("actor"), *g.get("actor_alternatives", [])], p.actor, gents, pents):
            actor_ok += 1
    opt_ev = [e for e in gold.get("events", []) if e.get("optional")]
    n_pred = len(pev) - sum(
        1 for p in pev if any(_sp(e["evidence"])[0] <= p.trigger.start < _sp(e["evidence"])[1]
                              for e in opt_ev))
    out["events"] = _prf(len(pairs), n_pred, len(gev))
    out["events+modality"] = _prf(mod_ok, n_pred, len(gev))
    out["events+actor"] = _prf(actor_ok, n_pred, len(gev))
    return out


def _gold_text(gold: dict, gold_path: Path) -> str | None:
    if gold.get("text"):
        return gold["text"]
    src = (gold.get("source") or {}).get("file")
    candidates = [gold_path.parent / src] if src else []
    candidates.append(gold_path.with_suffix(".txt"))
    for c in candidates:
        if c.exists():
            return c.read_text(encoding="utf-8")
    return None


def _micro(results: list[dict]) -> dict:
    total: dict = {}
    for res in results:
        for key, m in res.items():
            t = total.setdefault(key, {"tp": 0, "pred": 0, "gold": 0})
            for k in ("tp", "pred", "gold"):
                t[k] += m[k]
    return {k: _prf(v["tp"], v["pred"], v["gold"]) for k, v in total.items()}


def evaluate_gold_dir(gold_dir: Path, use_models: bool = True) -> dict:
    from ..ingest import make_document
    from ..pipeline import analyze_document

    per_doc: dict[str, dict] = {}
    for path in sorted(gold_dir.glob("*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        if "entities" not in gold:
            continue
        text = _gold_text(gold, path)
        if text is None:
            per_doc[path.stem] = {"error": "article text not found"}
            continue
        doc = make_document(text, published=gold.get("publication_date"), doc_id=gold.get("id"))
        per_doc[gold.get("id", path.stem)] = score_record(gold, analyze_document(doc, use_models))
    scored = [r for r in per_doc.values() if "error" not in r]
    return {"documents": len(scored), "micro": _micro(scored), "per_document": per_doc}


def format_report(result: dict) -> str:
    lines = []
    if "gold" in result:
        g = result["gold"]
        lines.append(f"Gold records: {g['documents']} documents (micro-averaged)")
        lines.append(f"  {'layer':<28}{'P':>7}{'R':>7}{'F1':>7}{'tp':>6}{'pred':>6}{'gold':>6}")
        for key, m in g["micro"].items():
            lines.append(f"  {key:<28}{m['p']:>7.3f}{m['r']:>7.3f}{m['f1']:>7.3f}"
                         f"{m['tp']:>6}{m['pred']:>6}{m['gold']:>6}")
        for doc_id, res in g["per_document"].items():
            if "error" in res:
                lines.append(f"  {doc_id}: {res['error']}")
    if "quotes" in result:
        q = result["quotes"]
        lines.append("WikiNews quotation attribution (data set metric)")
        for key, m in q.items():
            if isinstance(m, dict) and "f1" in m:
                lines.append(f"  {key:<28}{m.get('p', 0):>7.3f}{m.get('r', 0):>7.3f}{m['f1']:>7.3f}")
    return "\n".join(lines)
