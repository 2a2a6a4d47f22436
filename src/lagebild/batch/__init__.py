"""Batch processing: many articles in, one Parquet row per article out.

Two engines run the *same* per-article function (`core.process_row`, which calls
`lagebild.pipeline.analyze_document`): `local` (a process pool on this machine) and
`spark` (PySpark `mapInArrow`, for corpora beyond one machine). Because the function
and the writer's ordering rules are shared, both engines produce the same rows, and
`tests/test_spark.py` checks that they do.

    >>> from lagebild.batch import run_batch
    >>> run_batch(["dump.jsonl"], "out/", engine="local", workers=2)
"""

from __future__ import annotations

from pathlib import Path

from .core import OUTPUT_SCHEMA, process_row
from .io import BatchStats

__all__ = ["OUTPUT_SCHEMA", "BatchStats", "process_row", "run_batch"]


def run_batch(inputs: list[str], output: str | Path, engine: str = "local",
              workers: int | None = None, master: str | None = None,
              partitions: int | None = None, use_models: bool = True) -> BatchStats:
    """Analyse every article under `inputs` and (over)write the Parquet dataset `output`."""
    if engine == "local":
        from .local import run_local

        return run_local(inputs, output, workers=workers, use_models=use_models)
    if engine == "spark":
        from .spark import run_spark

        return run_spark(inputs, str(output), master=master, partitions=partitions,
                         use_models=use_models)
    raise ValueError(f"unknown engine {engine!r}; choose local or spark")
