"""Readers for everything `lagebild ingest` accepts -> a stream of `Item`s.

An `Item` is either a `Document` or an `InputError`, always with `input`, a locator a
person can open (`feed.xml#3`, `dump.jsonl:17`, `crawl.warc.gz@10342`). Readers never
raise for bad content: one broken line, entry or record becomes one failed item and
the reader goes on, so a corpus run stores every good article and every reason.

Formats: plain text and HTML (`lagebild.ingest.read_path`, optionally with a metadata
header, see `split_header`), JSON Lines and JSON (`text` plus optional `title`,
`published`, `url`, `source`, `id`), RSS/Atom feed files (feedparser), WARC (warcio),
CSV/TSV with a text column, and folders walked recursively in sorted order.

Size guards are checked before reading: single-article files by `stat` (a 1 GB .txt is
refused without reading a byte), whole-file formats (feeds, JSON, CSV) against
`CONTAINER_MAX_BYTES`, and streamed formats (JSON Lines, WARC) per line/record.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .ingest import MAX_BYTES, InputError, decode, html_to_document, make_document, read_path
from .schema import Document

#: Feeds, JSON and CSV are parsed whole; a bigger file is a dump that should be JSON Lines.
CONTAINER_MAX_BYTES = 200_000_000

TEXT_SUFFIXES = {".txt", ".text", ".md", ".html", ".htm", ".xhtml"}
#: Markdown is read when named, but not picked up from folders (READMEs are not articles).
FOLDER_SKIP = {".md"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
FEED_SUFFIXES = {".rss", ".atom", ".xml", ".feed", ".rdf"}
WARC_SUFFIXES = {".warc", ".arc"}
CSV_SUFFIXES = {".csv", ".tsv"}
KNOWN_SUFFIXES = TEXT_SUFFIXES | JSONL_SUFFIXES | FEED_SUFFIXES | WARC_SUFFIXES | CSV_SUFFIXES | {
    ".json"}

_HEADER_LINE = re.compile(
    r"(?i)^(titel|title|datum|date|published|veröffentlicht|quelle|source|url|id):[ \t]*(.*)$")
_HEADER_START = re.compile(r"(?i)(titel|title|datum|date|published|veröffentlicht|quelle|source|url|id):")
_HEADER_KEYS = {"titel": "title", "title": "title", "datum": "published", "date": "published",
                "published": "published", "veröffentlicht": "published", "quelle": "source",
                "source": "source", "url": "url", "id": "id"}
_DE_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_TRAILING_DATE = re.compile(r"\((\d{4}-\d{2}-\d{2})\)\s*$")
_BLOCK_TAGS = re.compile(r"(?i)<\s*(br|/p|/div|/h[1-6]|/li|/blockquote)\b[^>]*>")


@dataclass
class Item:
    """One article-to-be: a `Document`, or the `InputError` that stopped it."""

    input: str
    document: Document | None = None
    error: InputError | None = None


@dataclass
class Options:
    published: str | date | None = None
    encoding: str | None = None
    max_bytes: int = MAX_BYTES


def compound_suffix(path: Path) -> str:
    """'.warc' for x.warc.gz, '.jsonl' for x.jsonl.gz, else the plain suffix (lower case)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz" and len(suffixes) >= 2:
        return suffixes[-2]
    return suffixes[-1] if suffixes else ""


def iter_files(paths: list[str | Path]) -> Iterator[Path]:
    """Every input file; folders are walked recursively in sorted order, hidden files skipped."""
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if (f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
                        and compound_suffix(f) in KNOWN_SUFFIXES - FOLDER_SKIP):
                    yield f
        else:
            yield p


def iter_items(paths: list[str | Path], published=None, encoding: str | None = None,
               max_bytes: int = MAX_BYTES) -> Iterator[Item]:
    """All items of all inputs, in a stable order (so a resumed run sees the same sequence)."""
    opts = Options(published=published, encoding=encoding, max_bytes=max_bytes)
    for path in iter_files(paths):
        yield from iter_file(path, opts)


def iter_file(path: Path, opts: Options | None = None) -> Iterator[Item]:
    opts = opts or Options()
    name = str(path)
    if not path.exists():
        yield Item(name, error=InputError("unreadable", f"{name}: no such file or folder"))
        return
    suffix = compound_suffix(path)
    try:
        if suffix in JSONL_SUFFIXES:
            yield from read_jsonl(path, opts)
        elif suffix == ".json":
            yield from read_json(path, opts)
        elif suffix in FEED_SUFFIXES:
            yield from read_feed(path, opts)
        elif suffix in WARC_SUFFIXES:
            yield from read_warc(path, opts)
        elif suffix in CSV_SUFFIXES:
            yield from read_csv(path, opts)
        else:
            yield read_text(path, opts)
    except InputError as exc:
        yield Item(name, error=exc)
    except OSError as exc:
        yield Item(name, error=InputError("unreadable", f"{name}: {exc.strerror or exc}"))


# -- plain text / HTML -----------------------------------------------------------------

def split_header(text: str) -> tuple[dict[str, str], str]:
    """Optional metadata header of a text file: `Titel:`/`Datum:`/`Quelle:`/`URL:` lines,
    then a blank line. Only a block made entirely of such lines counts, so an article
    that starts with 'Berlin: ...' is left alone. Returns (metadata, body)."""
    if not _HEADER_START.match(text):
        return {}, text
    meta: dict[str, str] = {}
    pos = 0
    for line in text.splitlines(keepends=True):
        if not line.strip():
            return meta, text[pos + len(line):]
        m = _HEADER_LINE.match(line.rstrip("\r\n"))
        if m is None:
            return {}, text
        meta[_HEADER_KEYS[m.group(1).lower()]] = m.group(2).strip()
        pos += len(line)
    return {}, text


def _date(value: str | None) -> str | None:
    if not value:
        return None
    m = _DE_DATE.match(value.strip())
    if m:
        return f"{m.group(3)}-{int(m.group(2)):02d}-{int(m.group(1)):02d}"
    return value.strip()


def read_text(path: Path, opts: Options) -> Item:
    name = str(path)
    try:
        document = read_path(path, published=opts.published, encoding=opts.encoding,
                             max_bytes=opts.max_bytes)
    except InputError as exc:
        return Item(name, error=exc)
    meta, body = split_header(document.text)
    if meta:
        try:
            document = make_document(
                body, published=_date(meta.get("published")) or opts.published,
                title=meta.get("title"), url=meta.get("url"), source=meta.get("source"),
                doc_id=meta.get("id"), name=name, max_bytes=opts.max_bytes)
        except InputError as exc:
            return Item(name, error=exc)
    return Item(name, document=document)


# -- JSON Lines / JSON -----------------------------------------------------------------

def _open_binary(path: Path):
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rb")
    return path.open("rb")


def _check_not_binary(path: Path) -> None:
    with _open_binary(path) as fh:
        head = fh.read(8192)
    if b"\x00" in head:
        raise InputError("binary", f"{path} looks like a binary file, not text")


def _check_container_size(path: Path, kind: str) -> None:
    size = path.stat().st_size
    if size > CONTAINER_MAX_BYTES:
        raise InputError(
            "too_large",
            f"{path} is a {kind} of {size / 1e6:.0f} MB, over the limit of "
            f"{CONTAINER_MAX_BYTES / 1e6:.0f} MB for formats parsed whole; split it or "
            "convert it to JSON Lines (streamed line by line)")


def document_from_obj(obj: object, name: str, opts: Options) -> Document:
    """A JSON object with `text` (or `originalText`) and optional metadata -> Document."""
    if not isinstance(obj, dict):
        raise InputError("malformed", f"{name}: expected a JSON object, got {type(obj).__name__}")
    text = obj.get("text", obj.get("originalText"))
    if not isinstance(text, str):
        raise InputError("malformed", f"{name}: no 'text' field (a string) in the object")
    title = obj.get("title") or obj.get("documentName")
    published = obj.get("published") or obj.get("date") or opts.published
    if not published and isinstance(title, str):
        m = _TRAILING_DATE.search(title)  # "... (2005-08-20)", a common archive convention
        if m:
            published, title = m.group(1), title[:m.start()].strip()
    doc_id = obj.get("id")
    if doc_id is not None and not isinstance(doc_id, str | int):
        raise InputError("malformed", f"{name}: 'id' must be a string or a number")
    return make_document(
        text, published=published, title=title if isinstance(title, str) else None,
        doc_id=str(doc_id) if doc_id is not None else None, url=obj.get("url"),
        source=obj.get("source"), name=name, max_bytes=opts.max_bytes)


def jsonl_lines(path: Path | str, max_bytes: int) -> Iterator[tuple[str, bytes | InputError]]:
    """(name, raw line) for each non-blank line of a JSON Lines file (plain or .gz), streamed;
    a line longer than the article limit is skipped unread and given as an `InputError`.
    Shared by ingest and the batch readers, so both treat oversized lines alike."""
    path = Path(path)
    limit = max_bytes * 2 + 10_000  # JSON escapes can double the size of the text
    with _open_binary(path) as fh:
        lineno = 0
        while True:
            line = fh.readline(limit + 1)
            if not line:
                break
            lineno += 1
            name = f"{path}:{lineno}"
            if len(line) > limit and not line.endswith(b"\n"):
                while (chunk := fh.readline(1 << 20)) and not chunk.endswith(b"\n"):
                    pass
                yield name, InputError(
                    "too_large", f"{name}: line is over {limit / 1e6:.0f} MB, skipped")
                continue
            if line.strip():
                yield name, line


def read_jsonl(path: Path, opts: Options) -> Iterator[Item]:
    """Streamed line by line; a line longer than the article limit is skipped unread."""
    _check_not_binary(path)
    for name, line in jsonl_lines(path, opts.max_bytes):
        if isinstance(line, InputError):
            yield Item(name, error=line)
            continue
        try:
            obj = json.loads(decode(line, encoding=opts.encoding, name=name))
        except json.JSONDecodeError as exc:
            yield Item(name, error=InputError(
                "malformed", f"{name}: not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        except InputError as exc:
            yield Item(name, error=exc)
            continue
        try:
            yield Item(name, document=document_from_obj(obj, name, opts))
        except InputError as exc:
            yield Item(name, error=exc)


def read_json(path: Path, opts: Options) -> Iterator[Item]:
    """One JSON object, or a list of them (`file.json#3` for the third)."""
    _check_container_size(path, "JSON file")
    _check_not_binary(path)
    name = str(path)
    with _open_binary(path) as fh:
        raw = fh.read()
    try:
        data = json.loads(decode(raw, encoding=opts.encoding, name=name))
    except json.JSONDecodeError as exc:
        raise InputError("malformed", f"{name}: not valid JSON ({exc.msg} at line {exc.lineno})"
                         ) from exc
    objs = data if isinstance(data, list) else [data]
    for i, obj in enumerate(objs, 1):
        item_name = f"{name}#{i}" if isinstance(data, list) else name
        try:
            yield Item(item_name, document=document_from_obj(obj, item_name, opts))
        except InputError as exc:
            yield Item(item_name, error=exc)


# -- feeds -----------------------------------------------------------------------------

def html_fragment_text(fragment: str) -> str:
    """Text of an HTML snippet (feed summaries/content), paragraphs kept as line breaks."""
    if "<" not in fragment:
        return fragment.strip()
    import lxml.html

    marked = _BLOCK_TAGS.sub(lambda m: m.group(0) + "\n", fragment)
    try:
        text = lxml.html.fromstring(f"<div>{marked}</div>").text_content()
    except Exception:  # noqa: BLE001 - lxml raises several types on junk; fall back to tags stripped
        text = re.sub(r"<[^>]+>", " ", fragment)
    return re.sub(r"[ \t]*\n\s*", "\n", re.sub(r"[ \t]+", " ", text)).strip()


def _entry_date(entry) -> str | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        t = entry.get(key)
        if t:
            return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"
    return None


def read_feed(path: Path, opts: Options) -> Iterator[Item]:
    """RSS/Atom via feedparser. A malformed feed with recoverable entries yields them and
    one failed item for the file (so the problem is recorded); one with none is an error."""
    import feedparser

    _check_container_size(path, "feed")
    _check_not_binary(path)
    name = str(path)
    with _open_binary(path) as fh:
        raw = fh.read()
    parsed = feedparser.parse(raw)
    entries = parsed.get("entries") or []
    if parsed.get("bozo") and not entries:
        exc = parsed.get("bozo_exception")
        raise InputError("malformed", f"{name}: not a readable RSS/Atom feed ({exc})")
    if not entries and not parsed.get("feed"):
        raise InputError("malformed", f"{name}: no feed entries found")
    outlet = parsed.feed.get("title") if parsed.get("feed") else None
    for i, entry in enumerate(entries, 1):
        item_name = f"{name}#{i}"
        content = entry.get("content") or []
        body = content[0].get("value") if content else None
        body = body or entry.get("summary") or entry.get("description") or ""
        try:
            text = html_fragment_text(body)
            document = make_document(
                text, published=_entry_date(entry) or opts.published, title=entry.get("title"),
                url=entry.get("link"), source=outlet, name=item_name, max_bytes=opts.max_bytes)
            yield Item(item_name, document=document)
        except InputError as exc:
            yield Item(item_name, error=exc)
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        yield Item(name, error=InputError(
            "malformed", f"{name}: feed is not well-formed ({exc}); {len(entries)} entries "
            "were recovered and ingested, later ones may be missing"))


# -- WARC ------------------------------------------------------------------------------

def _charset(content_type: str | None) -> str | None:
    m = re.search(r"charset=([\w.-]+)", content_type or "", re.I)
    return m.group(1) if m else None


def article_content_type(rec) -> str | None:
    """The content type ("" if not given) of a WARC record that can hold an article — a
    successful response or a resource of HTML or plain text — else None. Shared by ingest
    and batch, so both skip the same records."""
    if rec.rec_type == "response":
        if rec.http_headers is None:
            return None
        status = rec.http_headers.get_statuscode()
        if status and not status.startswith("2"):
            return None
        ctype = rec.http_headers.get_header("Content-Type") or ""
    elif rec.rec_type == "resource":
        ctype = rec.rec_headers.get_header("Content-Type") or ""
    else:
        return None
    if ctype and not any(t in ctype.lower() for t in ("html", "text/plain")):
        return None
    return ctype


def read_warc(path: Path, opts: Options) -> Iterator[Item]:
    """HTML/text `response` and `resource` records of a WARC (gzipped or not), streamed.

    A truncated or corrupt archive yields the records before the damage and one failed
    item that says where it stopped."""
    from warcio.archiveiterator import ArchiveIterator

    name = str(path)
    limit = 4 * opts.max_bytes
    n = 0
    offset = 0
    with path.open("rb") as fh:
        magic = fh.read(5)
        fh.seek(0)
        if not (magic.startswith(b"\x1f\x8b") or magic in (b"WARC/", b"filed") or not magic):
            raise InputError("malformed", f"{name} is not a WARC file (it does not start "
                                          "with a WARC header or gzip data)")
        it = ArchiveIterator(fh)
        try:
            for rec in it:
                n += 1
                if rec.length is None:  # header cut off before its Content-Length
                    raise EOFError(f"record {n} has no Content-Length")
                ctype = article_content_type(rec)
                if ctype is None:
                    continue
                url = rec.rec_headers.get_header("WARC-Target-URI")
                data = rec.content_stream().read(limit + 1)
                left = getattr(rec.raw_stream, "limit", None)
                if left and len(data) <= limit:
                    # uncompressed WARCs end silently mid-record: the payload is shorter
                    # than its Content-Length says
                    raise EOFError(f"record {n} ends before its declared length")
                offset = it.get_record_offset()  # only valid once the content was read
                item_name = f"{name}@{offset}"
                if len(data) > limit:
                    yield Item(item_name, error=InputError(
                        "too_large", f"{item_name} ({url}): page over {limit / 1e6:.0f} MB"))
                    continue
                try:
                    text = decode(data, encoding=opts.encoding or _charset(ctype), name=item_name)
                    if "html" in ctype.lower() or text.lstrip()[:15].lower().startswith(
                            ("<!doctype", "<html")):
                        document = html_to_document(text, published=opts.published,
                                                    name=item_name, url=url,
                                                    max_bytes=opts.max_bytes)
                    else:
                        document = make_document(text, published=opts.published, url=url,
                                                 name=item_name, max_bytes=opts.max_bytes)
                    yield Item(item_name, document=document)
                except InputError as exc:
                    yield Item(item_name, error=exc)
        except Exception as exc:  # noqa: BLE001 - warcio/zlib raise many types on damage
            yield Item(name, error=InputError(
                "truncated", f"{name}: the archive is truncated or corrupt after offset "
                f"{offset} ({type(exc).__name__}: {exc}); the records before the damage "
                "were read"))


# -- CSV -------------------------------------------------------------------------------

def csv_dialect(first_line: str) -> tuple[str, str]:
    """(delimiter, quotechar) from the first line; csv.Sniffer fails on long text fields."""
    for delim in ("\t", ";", ","):
        for quote in ('"', "'"):
            if f"{delim}{quote}" in first_line or (
                    first_line.startswith(quote) and f"{quote}{delim}" in first_line):
                return delim, quote
    counts = {d: first_line.count(d) for d in ("\t", ";", ",")}
    return max(counts, key=lambda d: counts[d]), '"'


def read_csv(path: Path, opts: Options) -> Iterator[Item]:
    """CSV/TSV: a header with a `text` column (plus optional metadata columns), or no header
    and the longest column taken as the text (label;text dumps such as 10kGNAD)."""
    _check_container_size(path, "CSV file")
    _check_not_binary(path)
    name = str(path)
    with _open_binary(path) as fh:
        raw = fh.read()
    content = decode(raw, encoding=opts.encoding, name=name)
    first = content.split("\n", 1)[0]
    delim, quote = ("\t", '"') if path.suffix.lower() == ".tsv" else csv_dialect(first)
    csv.field_size_limit(max(opts.max_bytes * 2, 131072))
    reader = csv.reader(io.StringIO(content), delimiter=delim, quotechar=quote)
    header: list[str] | None = None
    text_col: int | None = None
    rowno = 0
    try:
        for row in reader:
            rowno += 1
            if not row or not any(c.strip() for c in row):
                continue
            if rowno == 1 and any(c.strip().lower() in ("text", "body", "content") for c in row):
                header = [c.strip().lower() for c in row]
                continue
            item_name = f"{name}:{reader.line_num}"
            if header is not None:
                obj: dict = dict(zip(header, row, strict=False))
                obj.setdefault("text", obj.get("body") or obj.get("content"))
            else:
                if text_col is None:
                    text_col = max(range(len(row)), key=lambda i: len(row[i]))
                if text_col >= len(row):
                    yield Item(item_name, error=InputError(
                        "malformed", f"{item_name}: row has {len(row)} columns"))
                    continue
                obj = {"text": row[text_col]}
            try:
                yield Item(item_name, document=document_from_obj(obj, item_name, opts))
            except InputError as exc:
                yield Item(item_name, error=exc)
    except csv.Error as exc:
        yield Item(f"{name}:{reader.line_num}", error=InputError(
            "malformed", f"{name}: CSV unreadable from line {reader.line_num} on ({exc})"))


# -- progress estimate -----------------------------------------------------------------

def estimate_count(paths: list[str | Path]) -> int | None:
    """Number of items, cheaply (newlines for JSON Lines/CSV, 1 per text file); None if
    a feed or WARC makes it unknowable without parsing. Only used for the ETA."""
    total = 0
    for path in iter_files(paths):
        suffix = compound_suffix(path)
        if suffix in TEXT_SUFFIXES or suffix == ".json" or suffix not in KNOWN_SUFFIXES:
            total += 1  # a JSON list counts as one: the estimate only drives the ETA
        elif suffix in JSONL_SUFFIXES | CSV_SUFFIXES and path.suffix.lower() != ".gz":
            try:
                if path.stat().st_size > CONTAINER_MAX_BYTES * 10:
                    return None
                with path.open("rb") as fh:
                    total += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
            except OSError:
                total += 1
        else:
            return None
    return total
