"""`--engine spark` on a real local Spark session == `--engine local`, row by row.

Runs the full pipeline over a few hundred 10kGNAD articles from ../shared (read there,
never copied), written as JSON Lines and Parquet (plus one invented page in a WARC) with made-up publication dates (the
corpus has none) so that several month partitions are exercised, plus failure lines.
One Spark session for the module (a cold start costs ~16 s). Set
`LAGEBILD_SPARK_ARTICLES` to run on fewer articles while developing.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.spark

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
GNAD = SHARED / "data" / "10kgnad" / "test.csv"
N_ARTICLES = int(os.environ.get("LAGEBILD_SPARK_ARTICLES", "300"))


def _java_ok() -> bool:
    return bool(shutil.which("java") or os.environ.get("JAVA_HOME"))


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="pyspark not installed (pip install '.[spark]')")
    if not GNAD.exists():
        pytest.skip(f"10kGNAD not found at {GNAD} (needed for the Spark comparison)")
    if not _java_ok():
        pytest.skip("no Java runtime (Spark needs Java 17)")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    from lagebild.batch.spark import spark_session

    session = spark_session("local[2]", app="lagebild-test", driver_memory="1g",
                            conf={"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    if not GNAD.exists():
        pytest.skip(f"10kGNAD not found at {GNAD}")
    with GNAD.open(encoding="utf-8") as fh:
        texts = [row[1] for row in csv.reader(fh, delimiter=";", quotechar="'")
                 if len(row) >= 2][:N_ARTICLES]
    d = tmp_path_factory.mktemp("spark_in")
    start = date(2015, 1, 1)
    objs = [{"text": t, "published": (start + timedelta(days=3 * i)).isoformat(),
             "source": "derStandard"} for i, t in enumerate(texts)]
    cut = len(objs) * 2 // 3
    with (d / "gnad.jsonl").open("w", encoding="utf-8") as fh:
        for i, o in enumerate(objs[:cut]):
            fh.write(json.dumps(o, ensure_ascii=False) + "\n")
            if i == 5:
                fh.write("{kein json\n")
                fh.write(json.dumps({"id": "leer", "text": ""}) + "\n")
                fh.write("\n")
    rest = [{**o, "id": f"gnad-{cut + i}"} for i, o in enumerate(objs[cut:])]
    rest[0]["published"] = None
    pq.write_table(pa.Table.from_pylist(rest), d / "gnad.parquet")
    from test_batch import write_warc  # one invented HTML page, a 404 and an image

    write_warc(d / "page.warc.gz")
    return d


@pytest.fixture(scope="module")
def outputs(spark, inputs: Path, tmp_path_factory) -> tuple[Path, Path]:
    from lagebild.batch.local import run_local
    from lagebild.batch.spark import run_spark

    base = tmp_path_factory.mktemp("spark_out")
    local_stats = run_local([str(inputs)], base / "local", workers=2)
    spark_stats = run_spark([str(inputs)], str(base / "spark"), partitions=4, spark=spark)
    assert (spark_stats.rows, spark_stats.ok, spark_stats.reasons) == (
        local_stats.rows, local_stats.ok, local_stats.reasons)
    return base / "local", base / "spark"


def test_spark_rows_equal_local_rows(outputs: tuple[Path, Path]):
    from lagebild.batch.io import read_output

    local, spark = (read_output(p) for p in outputs)
    assert local.num_rows == N_ARTICLES + 3  # + 2 failure lines + 1 WARC page
    assert local.schema.names == spark.schema.names
    a, b = local.to_pylist(), spark.to_pylist()
    for ra, rb in zip(a, b, strict=True):
        assert ra == rb, {k: (ra[k], rb[k]) for k in ra if ra[k] != rb[k]}
    reasons = sorted(r["error_reason"] for r in a if r["error_reason"])
    assert reasons[:2] == ["empty", "malformed"]
    months = {r["published_month"] for r in a}
    assert "unknown" in months and len(months) > 3
    assert sum(r["n_entities"] or 0 for r in a) > N_ARTICLES  # real analysis happened


def test_spark_files_sorted_and_partitioned(outputs: tuple[Path, Path]):
    _, spark_out = outputs
    parts = sorted(p.name for p in spark_out.iterdir() if p.is_dir())
    assert parts[-1] == "published_month=unknown" and all(
        p.startswith("published_month=") for p in parts)
    for f in spark_out.rglob("*.parquet"):
        t = pq.read_table(f)
        keys = list(zip(t.column("id").to_pylist(), t.column("input").to_pylist(),
                        strict=True))
        assert keys == sorted(keys)


def test_spark_aggregates_equal_python(spark, outputs: tuple[Path, Path]):
    from lagebild.batch.aggregate import aggregate_output, aggregate_spark

    local, spark_out = outputs
    mine = aggregate_output(local)
    frames = aggregate_spark(spark, str(spark_out))
    for name in ("claims", "edges", "mentions"):
        rows = [r.asDict(recursive=True) for r in frames[name].collect()]
        assert len(rows) == len(mine[name]) > 0, name
        for got, want in zip(rows, mine[name], strict=True):
            assert got == want, (name, got, want)
    assert any(e["relation"] == "STATEMENT" for e in mine["edges"])
