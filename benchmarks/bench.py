"""`make bench`: speed and memory of `lagebild analyze`, written to benchmarks/results.json.

Runs in a child process so the peak resident memory is that of analysis alone, pinned
to one thread (the target is per core). Numbers are measured, never asserted: tests do
not time anything.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load_10kgnad(shared: Path, n: int) -> list[str]:
    path = shared / "data" / "10kgnad" / "test.csv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter=";", quotechar="'"))
    return [row[1] for row in rows if len(row) >= 2][:n]


def _child(shared: str, n: int) -> None:
    """Measure in this (fresh) process and print one JSON line."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    t0 = time.perf_counter()
    from lagebild.ingest import InputError, make_document
    from lagebild.nlp import get_nlp
    from lagebild.pipeline import doc_to_record

    nlp = get_nlp()
    load_s = time.perf_counter() - t0
    rss_after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    texts = load_10kgnad(Path(shared), n)
    words = sum(len(t.split()) for t in texts)
    comp_time = {name: 0.0 for name in nlp.pipe_names}
    failed = 0
    # warm-up on a few documents (lazy caches), not counted
    for text in texts[:5]:
        for _, proc in nlp.pipeline:
            proc(nlp.make_doc(text))
    start = time.perf_counter()
    for text in texts:
        try:
            document = make_document(text)
        except InputError:
            failed += 1
            continue
        doc = _timed_pipeline(nlp, nlp.make_doc(document.text), comp_time)
        doc_to_record(document, doc).to_json()
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "articles": len(texts), "failed_input": failed, "words": words,
        "seconds": round(elapsed, 3),
        "articles_per_s": round(len(texts) / elapsed, 2),
        "words_per_s": round(words / elapsed),
        "model_load_s": round(load_s, 2),
        "peak_rss_mb": round(peak, 1), "rss_after_load_mb": round(rss_after_load, 1),
        "ms_per_article_by_component": {k: round(1000 * v / len(texts), 3)
                                         for k, v in comp_time.items()},
        "pipeline": nlp.pipe_names,
    }))


def _timed_pipeline(nlp, doc, comp_time: dict[str, float]):  # noqa: ANN001,ANN201 - spaCy
    """Run every component on `doc`, adding each one's seconds to `comp_time`."""
    for name, proc in nlp.pipeline:
        t = time.perf_counter()
        doc = proc(doc)
        comp_time[name] += time.perf_counter() - t
    return doc


def _long_child(shared: str, n_bytes: int) -> None:
    """One long document: the 10kGNAD articles joined, cut at `n_bytes` characters (the input
    limit is 5 MB), so the memory a long text needs is measured, not assumed."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from lagebild.ingest import make_document
    from lagebild.nlp import get_nlp
    from lagebild.pipeline import doc_to_record

    nlp = get_nlp()
    rss_after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    text = "\n\n".join(load_10kgnad(Path(shared), 10_000))[:n_bytes]
    start = time.perf_counter()
    document = make_document(text, max_bytes=max(n_bytes * 4, 5_000_000))
    comp_time = {name: 0.0 for name in nlp.pipe_names}
    doc = _timed_pipeline(nlp, nlp.make_doc(document.text), comp_time)
    record = doc_to_record(document, doc)
    record.to_json()
    elapsed = time.perf_counter() - start
    print(json.dumps({
        "bytes": len(text.encode("utf-8")), "tokens": len(doc), "seconds": round(elapsed, 2),
        "tokens_per_s": round(len(doc) / elapsed),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_after_load_mb": round(rss_after_load, 1),
        "seconds_by_component": {k: round(v, 2) for k, v in comp_time.items()},
        "entities": len(record.entities), "statements": len(record.statements),
    }))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(REPO.parent / "shared"))
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results.json"))
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--long-bytes", type=int, default=2_000_000,
                        help="size of the one-long-document measurement (0: skip it)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--long-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.shared, args.articles)
        return 0
    if args.long_child:
        _long_child(args.shared, args.long_child)
        return 0
    if not (Path(args.shared) / "data" / "10kgnad" / "test.csv").exists():
        print(f"bench: {args.shared}/data/10kgnad/test.csv not found", file=sys.stderr)
        return 2
    proc = _run_child(["--child", "--shared", args.shared, "--articles", str(args.articles)])
    if proc.returncode != 0:
        print(proc.stderr[-4000:], file=sys.stderr)
        return proc.returncode
    analyze = json.loads(proc.stdout.strip().splitlines()[-1])
    long_doc = None
    if args.long_bytes:
        proc = _run_child(["--long-child", str(args.long_bytes), "--shared", args.shared])
        if proc.returncode != 0:
            print(proc.stderr[-4000:], file=sys.stderr)
            return proc.returncode
        long_doc = json.loads(proc.stdout.strip().splitlines()[-1])
    out_path = Path(args.out)
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    results["analyze"] = {
        **analyze,
        "corpus": "10kGNAD test, first N articles",
        "targets": {"articles_per_s": 20, "peak_rss_mb": 500, "words_per_s": 8000},
        "command": "make bench",
    }
    if long_doc is not None:
        results["analyze_long_document"] = {
            **long_doc,
            "corpus": "10kGNAD test articles joined into one document",
            "command": "make bench",
        }
    results["machine"] = {"python": platform.python_version(), "cpu": platform.processor() or
                          platform.machine(), "cores_used": 1, "cores_available": os.cpu_count()}
    results["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    out_path.write_text(json.dumps(results, indent=1) + "\n")
    a = results["analyze"]
    print(f"analyze: {a['articles_per_s']} articles/s, {a['words_per_s']} words/s on one core, "
          f"peak RSS {a['peak_rss_mb']} MB (load {a['model_load_s']} s) -> {out_path}")
    for name, ms in a["ms_per_article_by_component"].items():
        print(f"  {name:<24}{ms:8.2f} ms/article")
    if long_doc is not None:
        print(f"one long document: {long_doc['bytes']:,} bytes, {long_doc['tokens']:,} tokens in "
              f"{long_doc['seconds']} s, peak RSS {long_doc['peak_rss_mb']} MB")
    return 0


def _run_child(child_args: list[str]) -> subprocess.CompletedProcess:
    """This script in a fresh process, pinned to one core when `taskset` exists."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    cmd = [sys.executable, __file__, *child_args]
    if _has_taskset():
        cmd = ["taskset", "-c", "0", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def _has_taskset() -> bool:
    from shutil import which

    return which("taskset") is not None


if __name__ == "__main__":
    sys.exit(main())
