"""`--engine local`: a process pool on this machine.

Each worker loads the pipeline once (pool initializer) and gets chunks of input rows;
it returns an Arrow record batch (cheap to pickle, written as is). The parent only
reads files and writes Parquet, so with N workers the analysis uses N cores and the
parent's share stays small. Results arrive in any order: the writer sorts.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..ingest import MAX_BYTES
from .core import process_batch
from .io import BatchStats, PartitionWriter, iter_input_rows

#: Rows per task: large enough that pickling is noise, small enough to balance 2 workers.
CHUNK_ROWS = 8

_USE_MODELS = True


def _init_worker(use_models: bool) -> None:
    """Load the model once per worker process, before the first task."""
    global _USE_MODELS
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _USE_MODELS = use_models
    from ..nlp import get_nlp

    get_nlp(use_models)


def _work(rows: list[dict[str, Any]]) -> pa.RecordBatch:
    return process_batch(pa.RecordBatch.from_pylist(rows), _USE_MODELS)


def _chunks(rows: Iterable[dict[str, Any]], n: int) -> Iterator[list[dict[str, Any]]]:
    it = iter(rows)
    while chunk := list(itertools.islice(it, n)):
        yield chunk


def run_local(inputs: list[str], output: str | Path, workers: int | None = None,
              use_models: bool = True, max_bytes: int = MAX_BYTES) -> BatchStats:
    """Analyse all inputs with `workers` processes (default: all cores) into `output`.

    `workers=0` runs in this process (no pool): for debugging and for measuring the
    pool's own overhead."""
    t0 = time.perf_counter()
    stats = BatchStats()
    writer = PartitionWriter(output)
    rows = iter_input_rows(inputs, max_bytes=max_bytes)
    try:
        if workers == 0:
            _init_worker(use_models)
            results: Iterable[pa.RecordBatch] = map(_work, _chunks(rows, CHUNK_ROWS))
            _consume(results, writer, stats)
        else:
            n = workers or os.cpu_count() or 1
            ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
            with ctx.Pool(n, initializer=_init_worker, initargs=(use_models,)) as pool:
                _consume(pool.imap_unordered(_work, _chunks(rows, CHUNK_ROWS)), writer, stats)
        stats.partitions = writer.finish()
    except BaseException:
        writer.abort()
        raise
    stats.elapsed_s = time.perf_counter() - t0
    return stats


def _consume(results: Iterable[pa.RecordBatch], writer: PartitionWriter,
             stats: BatchStats) -> None:
    for batch in results:
        writer.write(batch)
        for reason in batch.column("error_reason").to_pylist():
            stats.add(reason)
