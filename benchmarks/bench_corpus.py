"""Corpus benchmark: ingest throughput and query latency on SQLite and PostgreSQL.

    python benchmarks/bench_corpus.py --shared ../shared [--articles 1028] [--pg-url URL]

Ingest: the 10kGNAD test articles (`label;'text'` CSV, read by `lagebild.sources`) go
through `Corpus.ingest` end to end into a fresh store; reported are articles/s and the
store overhead (time in `Store.add_record` and failure rows as a share of analysis time;
the target is < 10 %). The store's own write cost per article is reported too.

Queries: 100 queries drawn deterministically from the stored corpus (20 each of
statements by speaker, statements about an entity, claims by what is counted, entity
profile, full-text search), run once to warm caches, then timed: p50/p95 in ms
(target p95 < 50 ms).

PostgreSQL: `--pg-url`, else `$LAGEBILD_TEST_PG_URL`/`$DATABASE_URL`, else a throwaway
server from `.ci/postgres.sh` (skipped with a note if PostgreSQL is not installed).
Figures are merged into `benchmarks/results.json` under "corpus" (other keys kept).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(q * (len(s) - 1))))
    return s[k]


def make_queries(corpus, n_each: int = 20) -> list[tuple[str, dict]]:
    """100 realistic queries picked from what the corpus contains (no hand-picked easy ones)."""
    from sqlalchemy import func, select

    from lagebild.store.schema import doc_entities, entities, quantities, statements

    with corpus.engine.connect() as conn:
        speakers = conn.execute(
            select(entities.c.name).join(statements, statements.c.speaker_id == entities.c.id)
            .group_by(entities.c.name).order_by(func.count().desc(), entities.c.name)
            .limit(n_each)).scalars().all()
        ents = conn.execute(
            select(entities.c.name).join(doc_entities, doc_entities.c.entity_id == entities.c.id)
            .group_by(entities.c.name).order_by(func.count().desc(), entities.c.name)
            .limit(2 * n_each)).scalars().all()
        whats = conn.execute(
            select(quantities.c.what).where(quantities.c.what.is_not(None))
            .group_by(quantities.c.what).order_by(func.count().desc(), quantities.c.what)
            .limit(n_each)).scalars().all()
    words = ["Regierung", "Polizei", "Wahl", "Flüchtlinge", "Euro", "Kritik", "Gericht",
             "Unternehmen", "Bundeskanzler", "Krieg", "Präsident", "Studie", "Klima",
             "Schule", "Fußball", "Bank", "Steuer", "Partei", "Grenze", "Verhandlungen"]

    def cycle(xs: list, k: int) -> list:
        return [xs[i % len(xs)] for i in range(k)] if xs else []

    qs: list[tuple[str, dict]] = []
    qs += [("statements_by_speaker", {"speaker": s}) for s in cycle(speakers, n_each)]
    qs += [("statements_about", {"about": e}) for e in cycle(ents[:n_each], n_each)]
    qs += [("claims", {"what": w}) for w in cycle(whats, n_each)]
    qs += [("entity_profile", {"name": e}) for e in cycle(ents[n_each:] or ents, n_each)]
    qs += [("search", {"query": w}) for w in words[:n_each]]
    return qs


def run_query(corpus, kind: str, kw: dict):
    if kind == "statements_by_speaker":
        return corpus.statements(speaker=kw["speaker"], limit=50)
    if kind == "statements_about":
        return corpus.statements(about=kw["about"], limit=50)
    if kind == "claims":
        return corpus.claims(what=kw["what"], limit=20)
    if kind == "entity_profile":
        return corpus.entity_profile(kw["name"])
    return corpus.search(kw["query"], limit=20)


def bench_backend(name: str, url: str, inputs: list[Path], use_models: bool) -> dict:
    from lagebild.corpus import Corpus

    with Corpus(url) as corpus:
        stats = corpus.ingest(inputs, use_models=use_models, progress=False)
        added = stats.added
        rerun = corpus.ingest(inputs, use_models=use_models, progress=False)
        queries = make_queries(corpus)
        for kind, kw in queries:  # warm-up
            run_query(corpus, kind, kw)
        lat: dict[str, list[float]] = {}
        for kind, kw in queries:
            t = time.perf_counter()
            run_query(corpus, kind, kw)
            lat.setdefault(kind, []).append(1000 * (time.perf_counter() - t))
    all_ms = [v for vs in lat.values() for v in vs]
    return {
        "backend": name,
        "ingest": {
            "articles_in": stats.items, "added": added, "failed": stats.failed,
            "seconds": round(stats.elapsed_s, 2),
            "articles_per_s": round(added / stats.elapsed_s, 2) if stats.elapsed_s else None,
            "analysis_s": round(stats.analysis_s, 2), "store_s": round(stats.store_s, 2),
            "read_s": round(stats.read_s, 2), "model_load_s": round(stats.load_s, 2),
            "store_ms_per_article": round(1000 * stats.store_s / max(added, 1), 2),
            "store_overhead_pct": round(100 * stats.store_overhead, 2),
        },
        "reingest": {"added": rerun.added, "existing": rerun.existing,
                     "seconds": round(rerun.elapsed_s, 2)},
        "queries": {
            "n": len(all_ms), "p50_ms": round(statistics.median(all_ms), 2),
            "p95_ms": round(percentile(all_ms, 0.95), 2), "max_ms": round(max(all_ms), 2),
            "by_kind_p95_ms": {k: round(percentile(v, 0.95), 2) for k, v in lat.items()},
        },
    }


def pg_url(explicit: str | None) -> tuple[str | None, str | None, str]:
    """(url of a fresh database, server root to stop or None, note)."""
    from sqlalchemy import create_engine, text

    from lagebild.store import to_url

    base = explicit or os.environ.get("LAGEBILD_TEST_PG_URL") or os.environ.get("DATABASE_URL")
    root = None
    if not base:
        if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")) and not shutil.which(
                "initdb"):
            return None, None, "PostgreSQL not installed"
        proc = subprocess.run(["bash", str(REPO / ".ci" / "postgres.sh"), "start"],
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            return None, None, f"postgres.sh failed: {proc.stderr[-500:]}"
        env = dict(line.removeprefix("export ").split("=", 1)
                   for line in proc.stdout.splitlines() if line.startswith("export "))
        base, root = env["DATABASE_URL"], env["PGCI_ROOT"]
    name = "lbbench_" + uuid.uuid4().hex[:8]
    admin = create_engine(to_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return to_url(base).rsplit("/", 1)[0] + "/" + name, root, "throwaway server" if root \
        else "given server"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results.json"))
    ap.add_argument("--articles", type=int, default=0, help="first N articles (0 = all)")
    ap.add_argument("--pg-url", help="PostgreSQL server URL (a fresh database is created)")
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-models", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    src = Path(args.shared) / "data" / "10kgnad" / "test.csv"
    if not src.exists():
        print(f"bench_corpus: {src} not found", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="lbbench."))
    inputs = [src]
    if args.articles:
        from lagebild.sources import iter_items

        sub = tmp / "subset.jsonl"
        with sub.open("w", encoding="utf-8") as fh:
            for i, item in enumerate(iter_items([src])):
                if i >= args.articles:
                    break
                if item.document:
                    fh.write(json.dumps({"text": item.document.text}, ensure_ascii=False) + "\n")
        inputs = [sub]
    results = {}
    try:
        results["sqlite"] = bench_backend("sqlite", str(tmp / "bench.db"), inputs,
                                          not args.no_models)
        _print(results["sqlite"])
        if not args.no_pg:
            url, root, note = pg_url(args.pg_url)
            if url is None:
                results["postgresql"] = {"skipped": note}
                print(f"postgresql: skipped ({note})", file=sys.stderr)
            else:
                try:
                    results["postgresql"] = bench_backend("postgresql", url, inputs,
                                                          not args.no_models)
                    results["postgresql"]["server"] = note
                    _print(results["postgresql"])
                finally:
                    if root:
                        subprocess.run(["bash", str(REPO / ".ci" / "postgres.sh"), "stop", root],
                                       capture_output=True, timeout=60)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = Path(args.out)
    data = json.loads(out.read_text()) if out.exists() else {}
    data["corpus"] = {
        **results,
        "corpus": f"10kGNAD test ({'first ' + str(args.articles) if args.articles else 'all'} "
                  "articles)",
        "targets": {"store_overhead_pct": 10, "query_p95_ms": 50},
        "command": "python benchmarks/bench_corpus.py --shared ../shared",
        "machine": {"python": platform.python_version(), "cores_available": os.cpu_count()},
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"-> {out}", file=sys.stderr)
    return 0


def _print(r: dict) -> None:
    i, q = r["ingest"], r["queries"]
    print(f"{r['backend']}: ingest {i['added']} articles in {i['seconds']} s = "
          f"{i['articles_per_s']} articles/s, store {i['store_ms_per_article']} ms/article "
          f"= {i['store_overhead_pct']} % of analysis; re-ingest added {r['reingest']['added']}"
          f" in {r['reingest']['seconds']} s; queries p50 {q['p50_ms']} ms, p95 {q['p95_ms']} ms",
          file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
