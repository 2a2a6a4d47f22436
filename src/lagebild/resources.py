"""Access to the package's data files (lexicons) and shipped models.

Lexicons are TSV files in `lagebild/data/`: data, not code, so analysts can extend
them without touching the extractors. Each is read once per process.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from pathlib import Path


def data_path(name: str) -> Path:
    return Path(str(resources.files("lagebild") / "data" / name))


def model_path(name: str) -> Path:
    return Path(str(resources.files("lagebild") / "models" / name))


@cache
def read_tsv(name: str) -> tuple[dict[str, str], ...]:
    """Rows of a TSV lexicon with a header line; lines starting with '#' are comments."""
    with data_path(name).open(encoding="utf-8") as fh:
        lines = [line for line in fh if line.strip() and not line.startswith("#")]
    return tuple(dict(row) for row in csv.DictReader(lines, delimiter="\t"))
