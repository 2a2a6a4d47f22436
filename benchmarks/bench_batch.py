"""Batch throughput: `--engine local` with 1 and 2 workers, `--engine spark` on local[2],
and Spark's per-article overhead over the plain loop; merged into benchmarks/results.json
under "batch" (other keys are kept).

All runs read the same JSON Lines file (the first N 10kGNAD articles) and write Parquet,
so every figure includes reading, analysis and writing. Model loading is reported
separately where it can be: the plain loop and the overhead runs are timed warm (model
loaded, Python workers started), the pool and local[2] runs cold, as a user runs them.

Overhead = (Spark local[1] warm job time - plain loop time) / articles: both on one
core, same input, same per-article function, same output; the difference is what Spark
adds per article (Arrow transfer, shuffle by month, Parquet through the JVM, task
scheduling). Numbers are measured, never asserted; the machine's load average is
recorded because other processes share its cores.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def write_input(shared: Path, n: int, path: Path) -> int:
    """The first `n` 10kGNAD articles as JSON Lines, with made-up dates (months to
    partition by; the corpus has none). Written to a temp folder, never to the repo."""
    with (shared / "data" / "10kgnad" / "test.csv").open(encoding="utf-8") as fh:
        texts = [row[1] for row in csv.reader(fh, delimiter=";", quotechar="'")
                 if len(row) >= 2][:n]
    start = date(2015, 1, 1)
    with path.open("w", encoding="utf-8") as fh:
        for i, t in enumerate(texts):
            fh.write(json.dumps({"text": t, "published": (start + timedelta(days=i)).isoformat()},
                                ensure_ascii=False) + "\n")
    return len(texts)


def _rate(n: int, s: float, cpu: float | None = None) -> dict:
    out = {"seconds": round(s, 2), "articles_per_s": round(n / s, 2) if s else None}
    if cpu is not None:
        out["cpu_s"] = round(cpu, 2)
        out["articles_per_cpu_s"] = round(n / cpu, 2) if cpu else None
    return out


def _cpu() -> float:
    """CPU seconds of this process and its reaped children (pool workers, the JVM and
    its Python workers once the session stops). On a shared machine wall time depends
    on what else runs; CPU time per article is the stable per-core figure."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime


def _tree_cpu(root: int) -> float:
    """CPU seconds of a process tree from /proc (Linux): each live process' own and
    reaped-children time. Used for the Spark JVM, which outlives `spark.stop()` and whose
    Python workers are its children, so `getrusage` would never see them."""
    tick = os.sysconf("SC_CLK_TCK")
    procs: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        procs[int(entry)] = (int(fields[1]), sum(int(x) for x in fields[11:15]) / tick)
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += procs.get(pid, (0, 0.0))[1]
        stack.extend(children.get(pid, []))
    return total


def _spark_cpu() -> float:
    """This process + the Spark JVM tree (JVM, Python daemon and workers)."""
    from pyspark import SparkContext

    me = resource.getrusage(resource.RUSAGE_SELF)
    own = me.ru_utime + me.ru_stime
    gw = SparkContext._gateway
    proc = getattr(gw, "proc", None) if gw is not None else None
    return own + (_tree_cpu(proc.pid) if proc is not None else 0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(REPO.parent / "shared"))
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results.json"))
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--no-spark", action="store_true", help="local engine only")
    parser.add_argument("--repeats", type=int, default=2,
                        help="alternating plain/Spark runs for the overhead (best of)")
    args = parser.parse_args()
    shared = Path(args.shared)
    if not (shared / "data" / "10kgnad" / "test.csv").exists():
        print(f"bench_batch: {shared}/data/10kgnad/test.csv not found", file=sys.stderr)
        return 2
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from lagebild.batch.local import run_local

    tmp = Path(tempfile.mkdtemp(prefix="lagebild-bench-"))
    src = tmp / "in.jsonl"
    n = write_input(shared, args.articles, src)
    load_before = os.getloadavg()
    res: dict = {"articles": n, "corpus": "10kGNAD test, first N articles (JSON Lines)",
                 "cores_available": os.cpu_count()}

    # pools first, while this process has no model loaded (workers load their own)
    for workers in (1, 2):
        cpu = _cpu()
        stats = run_local([str(src)], tmp / f"local{workers}", workers=workers)
        res[f"local_{workers}_workers"] = {**_rate(n, stats.elapsed_s, _cpu() - cpu),
                                           "failed": stats.failed,
                                           "includes": "pool start, model load per worker"}
        print(f"local, {workers} worker(s): {res[f'local_{workers}_workers']}", file=sys.stderr)

    t = time.perf_counter()
    from lagebild.nlp import get_nlp

    get_nlp()
    res["model_load_s"] = round(time.perf_counter() - t, 2)
    run_local([str(src)], tmp / "warm", workers=0)  # warm caches, not counted
    cpu = _cpu()
    stats = run_local([str(src)], tmp / "plain", workers=0)
    plain_s = stats.elapsed_s
    res["plain_loop"] = {**_rate(n, plain_s, _cpu() - cpu),
                         "note": "one process, model loaded, no pool"}
    print(f"plain loop: {res['plain_loop']}", file=sys.stderr)

    if not args.no_spark:
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        from lagebild.batch.spark import run_spark, spark_session

        def session(cores: int):
            t = time.perf_counter()
            spark = spark_session(f"local[{cores}]", app="lagebild-bench", driver_memory="2g",
                                  conf={"spark.sql.shuffle.partitions": str(cores)})
            return spark, time.perf_counter() - t

        def spark_job(spark, cores: int, name: str) -> tuple[float, float, int]:
            c = _spark_cpu()
            st = run_spark([str(src)], str(tmp / name), partitions=cores, spark=spark)
            return st.elapsed_s, _spark_cpu() - c, st.failed

        spark, start_s = session(2)
        try:
            cold = spark_job(spark, 2, "spark2")
            warm = spark_job(spark, 2, "spark2w")
        finally:
            spark.stop()
        res["spark_local2"] = {
            "session_start_s": round(start_s, 2), "cold": _rate(n, cold[0], cold[1]),
            "warm": _rate(n, warm[0], warm[1]), "failed": cold[2],
            "note": "cold: first job of the session (Python workers start and load the "
                    "model); warm: the next job. CPU: driver + JVM + Python workers"}
        print(f"spark local[2]: {res['spark_local2']}", file=sys.stderr)

        # overhead on one core: plain loop and warm Spark local[1] jobs alternate (so load
        # from other processes hits both alike), at two corpus sizes: the slope is the
        # per-article cost, the intercept the fixed cost of a job; best of `repeats`
        small = tmp / "small.jsonl"
        n_small = write_input(shared, max(1, n // 4), small)
        spark, _ = session(1)
        runs: dict[tuple[str, int], list[tuple[float, float]]] = {}
        try:
            spark_job(spark, 1, "spark1")  # start the Python worker, load the model
            for i in range(args.repeats):
                for path, size in ((small, n_small), (src, n)):
                    c = _cpu()
                    st = run_local([str(path)], tmp / "plain", workers=0)
                    runs.setdefault(("plain", size), []).append((st.elapsed_s, _cpu() - c))
                    c = _spark_cpu()
                    st = run_spark([str(path)], str(tmp / f"spark1-{i}"), partitions=1,
                                   spark=spark)
                    runs.setdefault(("spark", size), []).append((st.elapsed_s,
                                                                  _spark_cpu() - c))
        finally:
            spark.stop()

        def best(engine: str, size: int, k: int) -> float:
            return min(r[k] for r in runs[(engine, size)])

        def line(engine: str, k: int) -> tuple[float, float]:
            """(seconds per article, fixed seconds per job) through the two sizes."""
            slope = (best(engine, n, k) - best(engine, n_small, k)) / (n - n_small)
            return slope, best(engine, n, k) - slope * n

        over: dict = {}
        for k, kind in ((0, "wall"), (1, "cpu")):
            (ps, pf), (ss, sf) = line("plain", k), line("spark", k)
            over[kind] = {"plain_ms_per_article": round(1000 * ps, 2),
                          "spark_ms_per_article": round(1000 * ss, 2),
                          "overhead_ms_per_article": round(1000 * (ss - ps), 2),
                          "overhead_percent": round(100 * (ss - ps) / ps, 1),
                          "spark_fixed_s_per_job": round(sf - pf, 2),
                          f"whole_job_percent_at_{n}": round(
                              100 * (best("spark", n, k) - best("plain", n, k))
                              / best("plain", n, k), 1)}
        res["plain_loop_best"] = _rate(n, best("plain", n, 0), best("plain", n, 1))
        res["spark_local1_warm"] = _rate(n, best("spark", n, 0), best("spark", n, 1))
        res["spark_overhead"] = {
            **over,
            "sizes": [n_small, n],
            "runs_wall_s": {f"{e}_{size}": [round(w, 2) for w, _ in v]
                            for (e, size), v in runs.items()},
            "definition": "warm spark local[1] vs plain loop on one core, same input, "
                          "function and output; per article = slope between the two sizes "
                          "(best of repeats), fixed = the rest of a job (scheduling, "
                          "read-back of counts, rename); CPU summed over driver, JVM and "
                          "Python workers",
            "target_percent": 5,
        }
        print(f"spark overhead: {res['spark_overhead']}", file=sys.stderr)
    res["load_average_before_after"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    res["machine"] = {"python": platform.python_version(), "cpu": platform.machine()}
    res["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    res["command"] = (f"python benchmarks/bench_batch.py --articles {args.articles} "
                      f"--repeats {args.repeats}")

    out_path = Path(args.out)
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    results["batch"] = res
    tmp_out = out_path.with_name(out_path.name + ".part")
    tmp_out.write_text(json.dumps(results, indent=1) + "\n")
    tmp_out.replace(out_path)
    print(json.dumps(res, indent=1))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
