"""Write docs/RESULTS.md from the result files, so no figure in the docs is typed by hand.

    python training/report.py

Reads training/results/*.json (written by the training recipes and `make eval`) and
benchmarks/results.json (written by `make bench`).
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "training" / "results"


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _f(x) -> str:
    return f"{x:.3f}" if isinstance(x, (int, float)) else "—"


def _f4(x) -> str:
    """Four decimals where a figure sits next to its target (0.5999 is not 0.600)."""
    return f"{x:.4f}" if isinstance(x, (int, float)) else "—"


def quality() -> list[str]:
    out = ["| layer | data (split) | metric | score | reproduce |", "|---|---|---|---|---|"]
    ner = _load(RESULTS / "ner.json")
    if ner:
        t, d = ner["test"]["micro"], ner["dev"]["micro"]
        out.append(f"| NER | GermEval 2014 (test; dev {_f(d['f1'])}) | outer chunks, strict, micro "
                   f"P/R/F1 | {_f(t['p'])} / {_f(t['r'])} / **{_f(t['f1'])}** | `make train-ner` |")
        for typ, m in ner["test"].get("per_coarse_type", {}).items():
            out.append(f"| NER {typ} | GermEval 2014 (test) | strict F1 incl. -deriv/-part | "
                       f"{_f(m['f1'])} | `make train-ner` |")
    morph = _load(RESULTS / "morph.json")
    if morph:
        k = morph["konjunktiv_rules"]
        s = morph["sentences"]
        out.append(f"| Konjunktiv (Mood=Sub) | UD GSD test / PUD | P/R/F1 | "
                   f"{_f(k['gsd_test']['f1'])} / **{_f(k['pud_test']['f1'])}** (F1) | "
                   "`make train-tagger` |")
        out.append(f"| sentence splitting | UD GSD test / PUD | boundary F1 | "
                   f"{_f(s['gsd_test']['f1'])} / {_f(s['pud_test']['f1'])} | `make train-tagger` |")
    att = _load(RESULTS / "attribution.json")
    if att:
        for name, key in (("rules only", "rules_only"), ("rules + CRF (shipped)", "rules_plus_crf")):
            m = att.get(key)
            if m:
                out.append(f"| attribution, {name} | WikiNews quotations (dev) | quote / speaker / cue "
                           f"/ joint F1 | {_f(m['quote']['f1'])} / {_f4(m['speaker']['f1'])} / "
                           f"{_f(m['cue']['f1'])} / {_f(m['joint']['f1'])} | "
                           "`make train-attribution` |")
    tm = _load(RESULTS / "time.json")
    if tm:
        t = tm["narrative"]["test"]
        out.append(f"| time expressions | WikiWarsDE (held-out docs 09–22) | strict / lenient F1, "
                   f"value accuracy | {_f(t['strict']['f1'])} / {_f(t['lenient']['f1'])} / "
                   f"{_f(t['value_accuracy'])} | `python training/time/eval.py` |")
    parser = _load(RESULTS / "parser.json")
    if parser.get("gsd_test"):
        g, p = parser["gsd_test"], parser["pud_test"]
        out.append(f"| parser (measured, not in the pipeline) | UD GSD test / PUD | UAS / LAS | "
                   f"{_f(g['uas'])} / {_f(g['las'])} — {_f(p['uas'])} / {_f(p['las'])} | "
                   "`make train-parser` |")
    ev = _load(RESULTS / "eval.json").get("gold", {}).get("micro", {})
    if ev:
        for key in ("entity_mentions_typed", "statements", "statements+speaker",
                    "quantities+value+source", "events", "events+modality"):
            if key in ev:
                m = ev[key]
                out.append(f"| record: {key} | shared/gold (showcase seed) | P/R/F1 | "
                           f"{_f(m['p'])} / {_f(m['r'])} / {_f(m['f1'])} | `make eval` |")
    return out


def speed() -> list[str]:
    bench = _load(ROOT / "benchmarks" / "results.json")
    out = ["| what | figure | target |", "|---|---|---|"]
    a = bench.get("analyze")
    if a:
        out.append(f"| `analyze`, full pipeline, 1 core, {a['articles']} 10kGNAD articles | "
                   f"{a['articles_per_s']} articles/s, {a['words_per_s']} words/s, peak RSS "
                   f"{a['peak_rss_mb']} MB | ≥ 20 articles/s, ≥ 8,000 words/s, < 500 MB |")
    long_doc = bench.get("analyze_long_document")
    if long_doc:
        out.append(f"| `analyze`, one long document ({long_doc['bytes'] / 1e6:.1f} MB, "
                   f"{long_doc['tokens']:,} tokens), 1 core | {long_doc['seconds']} s "
                   f"({long_doc['tokens_per_s']:,} tokens/s), peak RSS {long_doc['peak_rss_mb']} MB "
                   f"| bounded memory; inputs are capped at 5 MB |")
    c = bench.get("corpus")
    if c:
        out.append(f"| corpus ingest / query | see `corpus` in benchmarks/results.json: "
                   f"{_corpus_line(c)} | store overhead < 10 %, p95 < 50 ms |")
    w = bench.get("web")
    if w:
        out.append(f"| web read endpoints, 32 connections | {_web_line(w)} | p95 < 50 ms |")
    b = bench.get("batch")
    if b:
        out.append(f"| batch engines | {_batch_line(b)} | Spark overhead < 5 % |")
    return out


def _corpus_line(c: dict) -> str:
    parts = []
    for db, m in c.items():
        if isinstance(m, dict) and "ingest" in m:
            i, q = m["ingest"], m.get("queries", {})
            parts.append(f"{db}: ingest {i.get('articles_per_s')} articles/s (store overhead "
                         f"{i.get('store_overhead_pct')} %), query p50/p95 {q.get('p50_ms')}/"
                         f"{q.get('p95_ms')} ms")
    return "; ".join(parts) or "see file"


def _web_line(w: dict) -> str:
    parts = []
    for mode in ("uncached", "cached"):
        load = (w.get(mode) or {}).get("load") or {}
        if load:
            parts.append(f"{mode}: {load.get('requests_per_s')} req/s, p50/p95 {load.get('p50_ms')}/"
                         f"{load.get('p95_ms')} ms")
    return "; ".join(parts) or "see `web` in benchmarks/results.json"


def _batch_line(b: dict) -> str:
    parts = []
    for key in ("plain_loop", "local_1_workers", "local_2_workers"):
        if key in b:
            parts.append(f"{key.replace('_', ' ')} {b[key]['articles_per_s']} articles/s")
    if "spark_local2" in b:
        parts.append(f"spark local[2] (warm) {b['spark_local2']['warm']['articles_per_s']} articles/s")
    ov = b.get("spark_overhead") or {}
    if ov.get("wall"):
        parts.append(f"Spark overhead per article {ov['wall']['overhead_ms_per_article']} ms wall "
                     f"({ov['wall']['overhead_percent']} %)")
    if ov.get("cpu"):
        parts.append(f"{ov['cpu']['overhead_ms_per_article']} ms CPU incl. the JVM "
                     f"({ov['cpu']['overhead_percent']} %)")
    return ", ".join(parts) or "see `batch` in benchmarks/results.json"


def main() -> None:
    lines = ["# Results", "",
             "Generated by `python training/report.py` from `training/results/*.json` and",
             "`benchmarks/results.json`. Quality figures are on held-out data (dev where the issue asks",
             "for dev, test otherwise); the recipes tune on train/dev only.", "",
             "## Quality", "", *quality(), "", "## Speed and memory", "", *speed(), ""]
    (ROOT / "docs" / "RESULTS.md").write_text("\n".join(lines), encoding="utf-8")
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    for name, block in (("quality", quality()), ("speed", speed())):
        text = _replace_block(text, name, "\n".join(block))
    readme.write_text(text, encoding="utf-8")
    print("\n".join(lines))


def _replace_block(text: str, name: str, body: str) -> str:
    """Replace what stands between <!-- BEGIN name --> and <!-- END name --> in the README."""
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    if begin not in text or end not in text:
        return text
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body}\n{end}{tail}"


if __name__ == "__main__":
    main()
