"""Batch commands: `lagebild batch|load|aggregate`, registered by `add_commands`.

`batch` is for corpora too big for the article-by-article store ingest: it writes a
Parquet dataset (one row per article, partitioned by publication month) with a process
pool or with Spark; `load` puts such a dataset into the corpus store, `aggregate`
computes the cross-article tables (claims, actor edges, mentions per day) from it.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict


def _print_stats(stats, what: str, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(asdict(stats), ensure_ascii=False) + "\n")
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(stats.reasons.items()))
    rate = stats.rows / stats.elapsed_s if stats.elapsed_s else 0.0
    print(f"lagebild: {what} {stats.rows} rows: {stats.ok} ok, {stats.failed} failed"
          f"{' (' + reasons + ')' if reasons else ''} in {stats.elapsed_s:.1f}s "
          f"({rate:.1f} rows/s)", file=sys.stderr)


def cmd_batch(args: argparse.Namespace) -> int:
    from .batch import run_batch

    if args.engine == "local" and args.master:
        print("lagebild batch: --master needs --engine spark", file=sys.stderr)
        return 2
    stats = run_batch(args.input, args.output, engine=args.engine, workers=args.workers,
                      master=args.master, partitions=args.partitions,
                      use_models=not args.no_models)
    _print_stats(stats, f"batch ({args.engine}) wrote {args.output}:", args.json)
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    from .batch.io import load_into_store

    stats = load_into_store(args.output, args.db)
    _print_stats(stats, "load", args.json)
    return 0


def cmd_aggregate(args: argparse.Namespace) -> int:
    from .batch import aggregate as agg

    if args.engine == "spark":
        from .batch.spark import spark_session

        spark = spark_session(args.master, app="lagebild-aggregate")
        try:
            written = agg.write_aggregates_spark(
                agg.aggregate_spark(spark, args.output, args.tolerance), args.dest)
        finally:
            spark.stop()
    else:
        written = [str(p) for p in agg.write_aggregates(
            agg.aggregate_output(args.output, args.tolerance), args.dest)]
    for w in written:
        print(w)
    return 0


def add_commands(subparsers) -> None:
    b = subparsers.add_parser(
        "batch", help="analyse JSON Lines/Parquet/WARC inputs into a Parquet dataset "
                      "(process pool or Spark)")
    b.add_argument("input", nargs="+", metavar="INPUT",
                   help="files or folders (.jsonl[.gz], .parquet, .warc[.gz]); with --engine "
                        "spark also URIs/globs Spark can read (hdfs://, s3a://)")
    b.add_argument("output", metavar="OUTPUT", help="output folder (replaced on rerun)")
    b.add_argument("--engine", choices=["local", "spark"], default="local")
    b.add_argument("--master", help="Spark master URL (default local[*], or spark-submit's)")
    b.add_argument("--partitions", type=int, help="Spark input partitions (tasks)")
    b.add_argument("--workers", type=int,
                   help="local engine: worker processes (default: all cores; 0 = no pool)")
    b.add_argument("--no-models", action="store_true", help="rules only (no trained models)")
    b.add_argument("--json", action="store_true", help="print the run's figures as JSON")
    b.set_defaults(func=cmd_batch)

    ld = subparsers.add_parser("load", help="put a `lagebild batch` output into the corpus store")
    ld.add_argument("output", metavar="OUTPUT", help="folder written by `lagebild batch`")
    ld.add_argument("--db", help="store: SQLite path or postgresql:// URL "
                                 "(default: $LAGEBILD_DB or ./lagebild.db)")
    ld.add_argument("--json", action="store_true")
    ld.set_defaults(func=cmd_load)

    a = subparsers.add_parser("aggregate", help="claims, actor edges and entity mentions per "
                                                "day over a `lagebild batch` output")
    a.add_argument("output", metavar="OUTPUT", help="folder written by `lagebild batch`")
    a.add_argument("dest", metavar="DEST", help="folder for claims/edges/mentions Parquet")
    a.add_argument("--engine", choices=["local", "spark"], default="local")
    a.add_argument("--master", help="Spark master URL")
    a.add_argument("--tolerance", type=float, default=0.1,
                   help="relative slack before figures count as disagreeing")
    a.set_defaults(func=cmd_aggregate)
