"""Batch inputs (JSON Lines, Parquet, WARC) -> input rows; output rows -> Parquet.

Readers here only *split* files into rows (`core.INPUT_SCHEMA`); decoding, HTML
extraction and validation run in the workers (`core.to_document`), because on a
cluster the driver must not do per-article work. The parsing rules are those of the
corpus readers in `lagebild.sources` (JSON object fields, WARC record filter, charset),
reused, not copied, so `lagebild ingest` and `lagebild batch` accept the same files.

Locators (`input` column) are the ones `lagebild ingest` records: `file.jsonl:17`,
`crawl.warc.gz@10342`, and `file.parquet#<id>` (Parquet rows have no line numbers that
Spark could reproduce, so the id names the row).

Output: a Hive-partitioned Parquet dataset, `published_month=YYYY-MM/` (or
`published_month=unknown/`), rows sorted by (id, input) inside each partition. It is
written to a sibling temp folder and swapped in, so a rerun replaces the previous
output completely or not at all, and the same input gives the same files.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..ingest import MAX_BYTES, InputError
from ..sources import article_content_type, compound_suffix, jsonl_lines
from .core import OUTPUT_SCHEMA

JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
WARC_SUFFIXES = {".warc", ".arc"}
BATCH_SUFFIXES = JSONL_SUFFIXES | PARQUET_SUFFIXES | WARC_SUFFIXES
#: Columns taken from Parquet inputs; the first present of each alternative wins.
PARQUET_COLUMNS = {"id": ("id",), "text": ("text", "originalText"),
                   "title": ("title", "documentName"), "published": ("published", "date"),
                   "url": ("url",), "source": ("source",)}
#: Rows per output file: splits a huge month into several files, deterministically.
MAX_ROWS_PER_FILE = 50_000


@dataclass
class BatchStats:
    """What a batch run did (printed by the CLI, written by the benchmark)."""

    rows: int = 0
    ok: int = 0
    failed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    partitions: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    def add(self, reason: str | None, n: int = 1) -> None:
        self.rows += n
        if reason is None:
            self.ok += n
        else:
            self.failed += n
            self.reasons[reason] = self.reasons.get(reason, 0) + n


def kind_of(path: str) -> str | None:
    suffix = compound_suffix(Path(path.rsplit("/", 1)[-1]))
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in WARC_SUFFIXES:
        return "warc"
    return None


def is_remote(path: str) -> bool:
    """URIs (hdfs://, s3a://, file://) and globs are left to Spark to resolve."""
    return "://" in path or any(c in path for c in "*?[")


def list_inputs(paths: list[str]) -> list[tuple[str, str | None]]:
    """(path, kind) for every input file in a stable order; folders are walked recursively
    (hidden files skipped). kind None = not a batch format (becomes one failed row)."""
    out: list[tuple[str, str | None]] = []
    for raw in paths:
        p = Path(raw)
        if not is_remote(raw) and p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p).parts
                if (f.is_file() and not any(x.startswith((".", "_")) for x in rel)
                        and kind_of(f.name) is not None):
                    out.append((str(f), kind_of(f.name)))
        else:
            out.append((raw, kind_of(raw)))
    return out


def _row(input_ref: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(("input", "line", "id", "text", "title", "published",
                                         "url", "source", "content", "content_type",
                                         "error_reason", "error"))
    row["input"] = input_ref
    row.update(kw)
    return row


def error_input(input_ref: str, reason: str, message: str) -> dict[str, Any]:
    return _row(input_ref, error_reason=reason, error=message)


def read_jsonl_rows(path: str, max_bytes: int = MAX_BYTES) -> Iterator[dict[str, Any]]:
    """One row per non-blank line; a line over the size limit is skipped unread."""
    for name, line in jsonl_lines(path, max_bytes):
        if isinstance(line, InputError):
            yield error_input(name, line.reason, line.message)
            continue
        try:
            text = line.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            yield error_input(name, "encoding", f"{name} is not valid UTF-8")
            continue
        yield _row(name, line=text)


def parquet_columns(names: list[str]) -> dict[str, str]:
    """Our column -> the input file's column, for the columns the file has."""
    out = {}
    for ours, alternatives in PARQUET_COLUMNS.items():
        for alt in alternatives:
            if alt in names:
                out[ours] = alt
                break
    return out


def read_parquet_rows(path: str, batch_rows: int = 1024) -> Iterator[dict[str, Any]]:
    pf = pq.ParquetFile(path)
    cols = parquet_columns(pf.schema_arrow.names)
    if "text" not in cols:
        yield error_input(path, "malformed", f"{path}: no 'text' column")
        return
    for batch in pf.iter_batches(batch_size=batch_rows, columns=list(cols.values())):
        arrays = {ours: batch.column(theirs) for ours, theirs in cols.items()}
        arrays = {k: v if v.type == pa.string() else v.cast(pa.string())
                  for k, v in arrays.items()}
        for r in pa.RecordBatch.from_pydict(arrays).to_pylist():
            yield _row(parquet_locator(path, r.get("id")), **r)


def parquet_locator(path: str, doc_id: str | None) -> str:
    return f"{path}#{doc_id}" if doc_id else path


def iter_warc_rows(fh: IO[bytes], name: str, max_bytes: int = MAX_BYTES
                   ) -> Iterator[dict[str, Any]]:
    """HTML/text `response` and `resource` records of a seekable stream as raw rows.

    The record filter is `lagebild.sources.read_warc`'s (2xx only, HTML or plain text);
    extraction is left to the worker. A damaged archive yields the rows before the
    damage and one failed row saying where it stopped."""
    from warcio.archiveiterator import ArchiveIterator

    limit = 4 * max_bytes
    n = 0
    offset = 0
    magic = fh.read(5)
    if not (magic.startswith(b"\x1f\x8b") or magic in (b"WARC/", b"filed") or not magic):
        yield error_input(name, "malformed", f"{name} is not a WARC file (it does not start "
                                             "with a WARC header or gzip data)")
        return
    fh.seek(0)
    it = ArchiveIterator(fh)
    try:
        for rec in it:
            if rec.rec_type not in ("response", "resource"):
                continue
            n += 1
            ctype = article_content_type(rec)
            if ctype is None:
                continue
            url = rec.rec_headers.get_header("WARC-Target-URI")
            data = rec.content_stream().read(limit + 1)
            # only after the read: get_record_offset() reads the record to its end first
            offset = it.get_record_offset()
            item = f"{name}@{offset}"
            if len(data) > limit:
                yield error_input(item, "too_large",
                                  f"{item} ({url}): page over {limit / 1e6:.0f} MB")
                continue
            yield _row(item, url=url, content=data, content_type=ctype or None)
        size = fh.seek(0, 2)
        if magic.startswith(b"\x1f\x8b") and it.offset < size:
            # warcio ends quietly on a cut gzip member; the unread tail gives it away
            raise EOFError(f"{size - it.offset} bytes at the end are not a complete record")
    except Exception as exc:  # noqa: BLE001 - warcio/zlib raise many types on damage
        yield error_input(name, "truncated", f"{name}: the archive is truncated or corrupt "
                          f"after offset {offset} ({type(exc).__name__}: {exc}); {n} records "
                          "before it were read")


def read_warc_rows(path: str, max_bytes: int = MAX_BYTES) -> Iterator[dict[str, Any]]:
    with open(path, "rb") as fh:
        yield from iter_warc_rows(fh, path, max_bytes)


def iter_input_rows(paths: list[str], max_bytes: int = MAX_BYTES) -> Iterator[dict[str, Any]]:
    """Every input row of every file, in a stable order (the local engine's reader)."""
    for path, kind in list_inputs(paths):
        if is_remote(path):
            yield error_input(path, "unreadable", f"{path}: URIs and globs need --engine spark")
            continue
        if not Path(path).exists():
            yield error_input(path, "unreadable", f"{path}: no such file or folder")
            continue
        try:
            if kind == "jsonl":
                yield from read_jsonl_rows(path, max_bytes)
            elif kind == "parquet":
                yield from read_parquet_rows(path)
            elif kind == "warc":
                yield from read_warc_rows(path, max_bytes)
            else:
                yield error_input(path, "unsupported", f"{path}: batch reads JSON Lines, "
                                  "Parquet and WARC files")
        except OSError as exc:
            yield error_input(path, "unreadable", f"{path}: {exc.strerror or exc}")
        except pa.ArrowException as exc:
            yield error_input(path, "malformed", f"{path}: not a readable Parquet file ({exc})")


# -- output ----------------------------------------------------------------------------

def file_schema() -> pa.Schema:
    """Schema of the files on disk: the partition column lives in the folder name."""
    return OUTPUT_SCHEMA.remove(OUTPUT_SCHEMA.get_field_index("published_month"))


class PartitionWriter:
    """Spool rows per month, then write each month sorted into a temp folder and swap.

    Spooling keeps memory bounded by one month (not the corpus); sorting at the end makes
    the files independent of worker timing."""

    def __init__(self, output: str | Path):
        self.output = Path(output)
        self.staging = self.output.with_name(f".{self.output.name}.tmp-{os.getpid()}")
        shutil.rmtree(self.staging, ignore_errors=True)
        (self.staging / "_spool").mkdir(parents=True)
        self.spools: dict[str, pq.ParquetWriter] = {}
        self.schema = file_schema()

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        months = batch.column("published_month").to_pylist()
        table = pa.Table.from_batches([batch]).drop_columns(["published_month"])
        for month in sorted(set(months)):
            mask = pa.array([m == month for m in months])
            part = table.filter(mask)
            w = self.spools.get(month)
            if w is None:
                w = pq.ParquetWriter(self.staging / "_spool" / f"{month}.parquet", self.schema)
                self.spools[month] = w
            w.write_table(part)

    def finish(self) -> list[str]:
        """Sort, write the final files, swap them in; returns the partition names."""
        for w in self.spools.values():
            w.close()
        for month in sorted(self.spools):
            spool = self.staging / "_spool" / f"{month}.parquet"
            table = pq.read_table(spool).sort_by([("id", "ascending"), ("input", "ascending")])
            target = self.staging / f"published_month={month}"
            target.mkdir()
            for i, start in enumerate(range(0, max(table.num_rows, 1), MAX_ROWS_PER_FILE)):
                pq.write_table(table.slice(start, MAX_ROWS_PER_FILE),
                               target / f"part-{i:05d}.parquet", compression="zstd")
        shutil.rmtree(self.staging / "_spool")
        swap_into_place(self.staging, self.output)
        return sorted(self.spools)

    def abort(self) -> None:
        for w in self.spools.values():
            try:
                w.close()
            except Exception:  # noqa: BLE001,S110 - cleaning up after a failure
                pass
        shutil.rmtree(self.staging, ignore_errors=True)


def swap_into_place(new: Path, output: Path) -> None:
    """Replace `output` by `new` with two renames; the old output is removed last, so an
    interrupted swap leaves either the old or the new dataset (plus a stale folder)."""
    old = output.with_name(f".{output.name}.old-{os.getpid()}")
    if output.exists():
        os.replace(output, old)
    os.replace(new, output)
    shutil.rmtree(old, ignore_errors=True)


def read_output(output: str | Path) -> pa.Table:
    """The batch dataset as one table (partition column restored), sorted like the files."""
    import pyarrow.dataset as ds

    dataset = ds.dataset(str(output), format="parquet", partitioning="hive",
                         exclude_invalid_files=True)
    table = dataset.to_table()
    idx = table.schema.get_field_index("published_month")
    if idx >= 0 and table.schema.field(idx).type != pa.string():
        table = table.set_column(idx, "published_month", table.column(idx).cast(pa.string()))
    return table.sort_by([("published_month", "ascending"), ("id", "ascending"),
                          ("input", "ascending")])


# -- into the corpus store -------------------------------------------------------------

def load_into_store(output: str | Path, db: str | None, batch_rows: int = 256) -> BatchStats:
    """Put a batch output into the corpus store (`lagebild load`).

    Same contract as `lagebild ingest`: articles already stored (by content hash) are
    skipped, each article is one transaction, failed rows become the store's failures.
    The records are stored as analysed by the batch; nothing is re-analysed."""
    import pyarrow.dataset as ds

    from ..corpus import Corpus
    from ..schema import Record
    from ..store import DuplicateIdError

    t0 = time.perf_counter()
    stats = BatchStats()
    dataset = ds.dataset(str(output), format="parquet", partitioning="hive")
    order = sorted(dataset.files)  # months in order, rows in id order: a stable load order
    with Corpus(db) as corpus:
        store = corpus.store
        known = store.known_hashes()
        for path in order:
            for batch in pq.ParquetFile(path).iter_batches(
                    batch_size=batch_rows,
                    columns=["input", "content_hash", "record", "error_reason", "error"]):
                for r in batch.to_pylist():
                    ref = r["input"] or ""
                    if r["error_reason"] is not None:
                        store.add_failure(ref, r["error_reason"], r["error"] or "")
                        stats.add(r["error_reason"])
                        continue
                    h = r["content_hash"]
                    if h in known:
                        stats.add(None)
                        continue
                    record = Record.model_validate_json(r["record"])
                    try:
                        store.add_record(record, h, ref)
                    except DuplicateIdError as exc:
                        store.add_failure(ref, "duplicate_id", str(exc), h)
                        stats.add("duplicate_id")
                        continue
                    known.add(h)
                    stats.add(None)
    stats.elapsed_s = time.perf_counter() - t0
    return stats
