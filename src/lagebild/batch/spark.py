"""`--engine spark`: the same per-article function on PySpark, `local[*]` or any cluster.

Plan of a job:
1. inputs -> a DataFrame of input rows (`core.INPUT_SCHEMA`): JSON Lines via
   `textFile` + `zipWithIndex` (so locators carry line numbers like the local engine),
   Parquet via `spark.read.parquet`, WARC via `binaryFiles` split by warcio on the
   executors. Nothing per-article runs on the driver.
2. `mapInArrow(core.process_batch)`: Arrow batches in and out of the Python workers;
   the pipeline is loaded once per Python worker (`get_nlp` is cached per process and
   Spark reuses workers), so its ~2 s load is paid once per core, not per task.
3. shuffle by `published_month`, sort by (id, input) inside partitions, write Parquet
   partitioned by month into a temp folder, then rename it over the output (Hadoop
   FileSystem API, so this works on HDFS/S3A-with-committer as on local disks).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from .core import INPUT_SCHEMA, OUTPUT_SCHEMA, process_batch
from .io import (
    MAX_ROWS_PER_FILE,
    BatchStats,
    error_input,
    is_remote,
    iter_warc_rows,
    list_inputs,
    parquet_columns,
)


def spark_session(master: str | None = None, app: str = "lagebild-batch",
                  driver_memory: str = "2g", conf: dict[str, str] | None = None):
    """A SparkSession whose Python workers run this interpreter (and so this package).

    `master` None keeps what spark-submit configured, else `local[*]`."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app)
    if master:
        builder = builder.master(master)
    elif "PYSPARK_GATEWAY_PORT" not in os.environ:  # not under spark-submit: run locally
        builder = builder.master("local[*]")
    builder = (builder.config("spark.driver.memory", driver_memory)
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.python.worker.reuse", "true")
               # rows carry text + record (~30 kB): small Arrow batches bound worker memory
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", "256")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC")
               # "2024-03" must stay a string partition value, not become a date
               .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false"))
    for k, v in (conf or {}).items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("LAGEBILD_SPARK_LOG", "ERROR"))
    return spark


def spark_schema(schema):
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def input_frame(spark, inputs: list[str], partitions: int | None = None):
    """All input rows as one DataFrame with `INPUT_SCHEMA` columns."""
    from pyspark.sql import functions as F

    sc = spark.sparkContext
    in_schema = spark_schema(INPUT_SCHEMA)
    cols = INPUT_SCHEMA.names
    frames = []
    errors: list[dict[str, Any]] = []
    for path, kind in list_inputs(inputs):
        if not is_remote(path) and not Path(path).exists():
            errors.append(error_input(path, "unreadable", f"{path}: no such file or folder"))
            continue
        if kind == "jsonl":
            name = path
            lines = sc.textFile(path, partitions or sc.defaultParallelism).zipWithIndex()
            df = lines.map(lambda t, name=name: (f"{name}:{t[1] + 1}", t[0])).toDF(
                "input string, line string")
            df = df.where(F.trim("line") != "")
        elif kind == "parquet":
            df = spark.read.parquet(path)
            mapping = parquet_columns(df.columns)
            if "text" not in mapping:
                errors.append(error_input(path, "malformed", f"{path}: no 'text' column"))
                continue
            df = df.select(*[F.col(theirs).cast("string").alias(ours)
                             for ours, theirs in mapping.items()])
            loc = F.lit(path) if not is_remote(path) else F.input_file_name()
            df = df.withColumn("input", F.when(F.col("id").isNotNull(),
                                               F.concat(loc, F.lit("#"), F.col("id")))
                               .otherwise(loc) if "id" in mapping else loc)
        elif kind == "warc":
            name = path
            rows = sc.binaryFiles(path).flatMap(
                lambda kv, name=name: _warc_rows(kv, None if is_remote(name) else name))
            df = spark.createDataFrame(rows, in_schema)
        else:
            errors.append(error_input(path, "unsupported", f"{path}: batch reads JSON Lines, "
                                      "Parquet and WARC files"))
            continue
        for c in cols:
            if c not in df.columns:
                df = df.withColumn(c, F.lit(None).cast(in_schema[c].dataType))
        frames.append(df.select(*cols))
    if errors:
        frames.append(spark.createDataFrame([tuple(e[c] for c in cols) for e in errors],
                                            in_schema))
    if not frames:
        return spark.createDataFrame([], in_schema)
    df = frames[0]
    for other in frames[1:]:
        df = df.unionByName(other)
    if partitions:
        df = df.repartition(partitions)
    return df


def _warc_rows(kv: tuple[str, bytes], name: str | None):
    import io

    path, data = kv
    for row in iter_warc_rows(io.BytesIO(data), name or path):
        yield tuple(row[c] for c in INPUT_SCHEMA.names)


def analyse_frame(df, use_models: bool = True):
    """Input rows -> output rows, on the executors' Python workers."""
    def run(batches):
        for batch in batches:
            yield process_batch(batch, use_models)

    return df.mapInArrow(run, spark_schema(OUTPUT_SCHEMA))


def write_output(df, output: str) -> None:
    """Month partitions, sorted rows, temp folder, rename over `output`."""
    spark = df.sparkSession
    tmp = output.rstrip("/") + f".tmp-{os.getpid()}"
    (df.repartition("published_month")
       .sortWithinPartitions("published_month", "id", "input")
       .write.mode("overwrite")
       .option("maxRecordsPerFile", MAX_ROWS_PER_FILE)
       .option("compression", "zstd")
       .partitionBy("published_month")
       .parquet(tmp))
    jvm = spark._jvm
    conf = spark._jsc.hadoopConfiguration()
    out_path = jvm.org.apache.hadoop.fs.Path(output)
    tmp_path = jvm.org.apache.hadoop.fs.Path(tmp)
    fs = out_path.getFileSystem(conf)
    old_path = jvm.org.apache.hadoop.fs.Path(output.rstrip("/") + f".old-{os.getpid()}")
    if fs.exists(out_path):
        fs.rename(out_path, old_path)
    if not fs.rename(tmp_path, out_path):
        raise OSError(f"could not move {tmp} to {output}")
    fs.delete(old_path, True)


def run_spark(inputs: list[str], output: str, master: str | None = None,
              partitions: int | None = None, use_models: bool = True,
              spark=None) -> BatchStats:
    """The whole batch on Spark; `spark` reuses a session (tests, benchmarks)."""
    from pyspark.sql import functions as F

    t0 = time.perf_counter()
    own = spark is None
    if own:
        spark = spark_session(master)
    try:
        out = analyse_frame(input_frame(spark, inputs, partitions), use_models)
        write_output(out, output)
        stats = BatchStats()
        counts = (spark.read.parquet(output)
                  .groupBy("error_reason", "published_month").agg(F.count("*").alias("n"))
                  .collect())
        for r in counts:
            stats.add(r["error_reason"], r["n"])
        stats.partitions = sorted({str(r["published_month"]) for r in counts})
    finally:
        if own:
            spark.stop()
    stats.elapsed_s = time.perf_counter() - t0
    return stats

