"""Ingest: bytes from files or callers -> validated `Document`.

Every check here exists so that a batch never dies on one bad file: each problem is an
`InputError` with a stable `reason` code (empty, binary, too_large, encoding, not_german,
malformed) and a message a person can act on. Callers record the error and go on.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

from .resources import read_tsv
from .schema import Document

#: Default size limit. News articles are 2-50 kB; a 5 MB "article" is almost always a
#: dump or a wrong file, and analysing it would hold a worker for minutes.
MAX_BYTES = 5_000_000

HTML_SUFFIXES = {".html", ".htm", ".xhtml"}


class InputError(ValueError):
    """Bad input, with a machine-readable `reason` and a human message."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"


def content_id(text: str) -> str:
    """Stable document id from the normalised text: re-ingesting the same article is a no-op."""
    norm = re.sub(r"\s+", " ", text).strip()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:16]


def decode(data: bytes, encoding: str | None = None, name: str = "input") -> str:
    """Bytes -> text. UTF-8 unless told otherwise; never guess silently.

    A silently wrong guess would shift every offset users cite, so mis-encoded input is
    an error that names the probable encoding and the flag to pass.
    """
    if b"\x00" in data[:8192] or _control_ratio(data[:8192]) > 0.1:
        raise InputError("binary", f"{name} looks like a binary file, not text")
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError("encoding", f"{name} cannot be decoded as {encoding}: {exc}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        guess = _guess_encoding(data)
        hint = f" (it looks like {guess}; re-run with --encoding {guess})" if guess else ""
        raise InputError("encoding", f"{name} is not valid UTF-8{hint}") from exc
    return text.removeprefix("\ufeff")


def _control_ratio(data: bytes) -> float:
    if not data:
        return 0.0
    bad = sum(1 for b in data if b < 32 and b not in (9, 10, 12, 13))
    return bad / len(data)


def _guess_encoding(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - dependency of the package
        return None
    best = from_bytes(data[:65536]).best()
    return best.encoding if best else None


def _stopwords() -> dict[str, frozenset[str]]:
    by_lang: dict[str, set[str]] = {}
    for row in read_tsv("stopwords.tsv"):
        by_lang.setdefault(row["lang"], set()).add(row["word"])
    return {k: frozenset(v) for k, v in by_lang.items()}


_WORD = re.compile(r"[^\W\d_]+")


def detect_language(text: str, sample: int = 20000) -> str | None:
    """Cheap stopword vote over the first `sample` characters; None when undecidable.

    Good enough to keep English or French text out of a German pipeline; a real
    language identifier is not needed for that and would cost a dependency.
    """
    words = [w.lower() for w in _WORD.findall(text[:sample])]
    if not words:
        return None
    scores = {lang: sum(1 for w in words if w in sw) for lang, sw in _stopwords().items()}
    lang, best = max(scores.items(), key=lambda kv: kv[1])
    if best < max(2, 0.05 * len(words)):
        return None
    return lang


def validate_text(text: str, name: str = "input", max_bytes: int = MAX_BYTES,
                  check_language: bool = True) -> str:
    if not text or not text.strip():
        raise InputError("empty", f"{name} is empty")
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise InputError(
            "too_large",
            f"{name} has {size / 1e6:.1f} MB of text, over the limit of {max_bytes / 1e6:.1f} MB "
            "(raise it with --max-bytes if this really is one article)",
        )
    if "\x00" in text:
        raise InputError("binary", f"{name} contains NUL characters")
    if check_language:
        lang = detect_language(text)
        if lang is not None and lang != "de":
            raise InputError("not_german", f"{name} looks like '{lang}', not German text")
        if lang is None and len(text) > 200:
            raise InputError("not_german", f"{name} does not look like German text")
    return text


def _as_date(value) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise InputError("malformed", f"publication date {value!r} is not YYYY-MM-DD") from exc


def make_document(text: str, published=None, title: str | None = None,
                  doc_id: str | None = None, url: str | None = None, source: str | None = None,
                  name: str = "input", max_bytes: int = MAX_BYTES) -> Document:
    text = validate_text(text, name=name, max_bytes=max_bytes)
    return Document(
        id=doc_id or content_id(text), title=title, published=_as_date(published),
        language="de", text=text, url=url, source=source,
    )


def html_to_document(html: str, published=None, name: str = "input", url: str | None = None,
                     max_bytes: int = MAX_BYTES) -> Document:
    """Main text, title and date of a web page (boilerplate removed by trafilatura)."""
    import trafilatura

    if len(html.encode("utf-8")) > 4 * max_bytes:
        raise InputError("too_large", f"{name} is a page of over {4 * max_bytes / 1e6:.0f} MB")
    result = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, favor_precision=True
    )
    if result is None:
        raise InputError("malformed", f"{name}: no article text found in the HTML")
    meta = result.as_dict() if hasattr(result, "as_dict") else dict(result)
    text = meta.get("text") or ""
    pub = published or meta.get("date")
    return make_document(text, published=pub, title=meta.get("title"), url=url or meta.get("url"),
                         source=meta.get("sitename"), name=name, max_bytes=max_bytes)


def read_path(path: Path, published=None, encoding: str | None = None,
              max_bytes: int = MAX_BYTES) -> Document:
    """One file (plain text or HTML) -> `Document`, or `InputError`."""
    name = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError("unreadable", f"{name}: {exc.strerror or exc}") from exc
    limit = 4 * max_bytes if path.suffix.lower() in HTML_SUFFIXES else max_bytes
    if size > limit:
        raise InputError(
            "too_large",
            f"{name} has {size / 1e6:.1f} MB, over the limit of {limit / 1e6:.1f} MB "
            "(raise it with --max-bytes if this really is one article)",
        )
    data = path.read_bytes()
    text = decode(data, encoding=encoding, name=name)
    if path.suffix.lower() in HTML_SUFFIXES or text.lstrip()[:15].lower().startswith(
        ("<!doctype html", "<html")
    ):
        return html_to_document(text, published=published, name=name, max_bytes=max_bytes)
    return make_document(text, published=published, title=_title_line(text), name=name,
                         max_bytes=max_bytes)


def _title_line(text: str) -> str | None:
    """A short first line without final punctuation followed by a blank line is a headline."""
    head, sep, _ = text.lstrip().partition("\n")
    head = head.strip()
    if sep and 0 < len(head) <= 160 and not head.endswith((".", "!", "?", "“", "\"")):
        return head
    return None
