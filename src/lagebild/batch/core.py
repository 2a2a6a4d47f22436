"""The per-article batch function: one input row -> one output row (a plain dict).

Both engines call `process_row` and nothing else, so `local` and `spark` cannot drift
apart. Analysis is `lagebild.pipeline.analyze_document`, reading is the corpus readers'
`document_from_obj` / `html_to_document`: batch adds only the row layout.

Output row = document fields (with `content_hash`, the store's duplicate key) + the lossless record as JSON (`record`) + nested columns
that Spark can aggregate without parsing JSON again. The nested columns carry the keys
the corpus store uses, computed here once per article:

* `entities.key` — a stateless corpus entity id (`entity_key`): the id the store gives
  an entity it has not seen before. The store additionally merges by secondary keys and
  bare surnames and splits same-name referents, which depends on the order articles
  arrive in and so cannot be done per partition.
* `quantities.what` — the claims grouping key (`store.what_key`), `lo`/`hi` the
  figure's interval under its hedge (`Corpus._interval`), `source_key` the source with
  the store's fallback to the statement's speaker.
* `statements.about` — keys of the entities mentioned inside the statement (minus the
  speaker), as the store's `statement_about` table.

A failure never raises: the row keeps what is known (input, id when given) and sets
`error_reason` (a stable code from `InputError`, or `internal`) and `error`.
"""

from __future__ import annotations

import hashlib
import json
import traceback
from datetime import date
from typing import Any

import pyarrow as pa

from ..ingest import InputError, content_id, decode, html_to_document, make_document
from ..schema import Document, Entity, Record
from ..sources import Options, _charset, document_from_obj

#: Columns of an input row; readers fill what their format has, the rest stay None.
#: `line` is a raw JSON Lines line, `content`/`content_type` a WARC payload, the
#: string columns a Parquet/table row; `error_reason`/`error` a reader-side failure.
INPUT_SCHEMA = pa.schema([
    ("input", pa.string()), ("line", pa.string()), ("id", pa.string()),
    ("text", pa.string()), ("title", pa.string()), ("published", pa.string()),
    ("url", pa.string()), ("source", pa.string()), ("content", pa.binary()),
    ("content_type", pa.string()), ("error_reason", pa.string()), ("error", pa.string()),
])

_ENTITY = pa.struct([
    ("id", pa.string()), ("key", pa.string()), ("name", pa.string()), ("type", pa.string()),
    ("iso3166", pa.string()), ("geonames", pa.int64()), ("n_mentions", pa.int32()),
    ("first_start", pa.int32()),
])
_STATEMENT = pa.struct([
    ("id", pa.string()), ("kind", pa.string()), ("mood", pa.string()),
    ("speaker", pa.string()), ("speaker_key", pa.string()), ("speaker_text", pa.string()),
    ("cue", pa.string()), ("content", pa.string()), ("start", pa.int32()), ("end", pa.int32()),
    ("confidence", pa.float64()), ("about", pa.list_(pa.string())),
])
_QUANTITY = pa.struct([
    ("id", pa.string()), ("text", pa.string()), ("start", pa.int32()), ("end", pa.int32()),
    ("value", pa.float64()), ("low", pa.float64()), ("high", pa.float64()),
    ("approximate", pa.string()), ("unit", pa.string()), ("quantifies", pa.string()),
    ("what", pa.string()), ("lo", pa.float64()), ("hi", pa.float64()),
    ("source", pa.string()), ("source_key", pa.string()), ("source_name", pa.string()),
    ("statement", pa.string()),
])
_EVENT = pa.struct([
    ("id", pa.string()), ("type", pa.string()), ("mode", pa.string()),
    ("modality", pa.string()), ("trigger", pa.string()), ("start", pa.int32()),
    ("end", pa.int32()), ("actor", pa.string()), ("actor_key", pa.string()),
    ("target", pa.string()), ("target_key", pa.string()), ("source", pa.string()),
    ("statement", pa.string()), ("time", pa.string()), ("place", pa.string()),
])
_TIME = pa.struct([
    ("id", pa.string()), ("text", pa.string()), ("start", pa.int32()), ("end", pa.int32()),
    ("value", pa.string()), ("type", pa.string()),
])

#: One row per article. `published_month` is the partition column (YYYY-MM or unknown).
OUTPUT_SCHEMA = pa.schema([
    ("id", pa.string()), ("content_hash", pa.string()), ("input", pa.string()), ("published", pa.date32()),
    ("published_month", pa.string()), ("title", pa.string()), ("url", pa.string()),
    ("source", pa.string()), ("language", pa.string()), ("text", pa.string()),
    ("n_entities", pa.int32()), ("n_statements", pa.int32()), ("n_quantities", pa.int32()),
    ("n_events", pa.int32()), ("n_times", pa.int32()),
    ("entities", pa.list_(_ENTITY)), ("statements", pa.list_(_STATEMENT)),
    ("quantities", pa.list_(_QUANTITY)), ("events", pa.list_(_EVENT)),
    ("times", pa.list_(_TIME)), ("record", pa.string()),
    ("error_reason", pa.string()), ("error", pa.string()),
])

_OPTS = Options()


def to_document(row: dict[str, Any]) -> Document:
    """Input row -> validated `Document`, or `InputError` (same rules as `lagebild ingest`)."""
    name = row.get("input") or "input"
    if row.get("error_reason"):
        raise InputError(row["error_reason"], row.get("error") or row["error_reason"])
    line = row.get("line")
    if line is not None:
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError("malformed", f"{name}: not valid JSON ({exc.msg} at column "
                                          f"{exc.colno})") from exc
        return document_from_obj(obj, name, _OPTS)
    content = row.get("content")
    if content is not None:
        ctype = row.get("content_type") or ""
        text = decode(content, encoding=_charset(ctype), name=name)
        if "html" in ctype.lower() or text.lstrip()[:15].lower().startswith(
                ("<!doctype", "<html")):
            return html_to_document(text, name=name, url=row.get("url"))
        return make_document(text, url=row.get("url"), name=name)
    obj = {k: row[k] for k in ("id", "text", "title", "published", "url", "source")
           if row.get(k) is not None}
    return document_from_obj(obj, name, _OPTS)


def month_of(published: date | None) -> str:
    """Partition value: 'YYYY-MM', or 'unknown' for undated articles."""
    return published.strftime("%Y-%m") if published else "unknown"


def fallback_id(row: dict[str, Any]) -> str:
    """Id of a row that never became a document: the given id, else a hash of the locator
    (stable across reruns and engines, so failed rows sort deterministically too)."""
    if row.get("id"):
        return str(row["id"])
    return "x" + hashlib.sha1((row.get("input") or "").encode("utf-8")).hexdigest()[:15]


def _failed_month(row: dict[str, Any]) -> str:
    raw = row.get("published")
    if raw and len(str(raw)) >= 7 and str(raw)[4] == "-":
        return str(raw)[:7]
    return "unknown"


def _row_meta(row: dict[str, Any]) -> dict[str, Any]:
    """Metadata of a row that failed: its own columns, or the JSON object of its line."""
    meta = {k: row.get(k) for k in ("input", "id", "title", "published", "url", "source")}
    if row.get("line") is not None:
        try:
            obj = json.loads(row["line"])
        except ValueError:
            return meta
        if isinstance(obj, dict):
            for k in ("id", "title", "published", "url", "source"):
                v = obj.get(k)
                meta[k] = str(v) if isinstance(v, str | int) and v != "" else None
    return meta


def error_row(row: dict[str, Any], reason: str, message: str) -> dict[str, Any]:
    row = _row_meta(row)
    out: dict[str, Any] = {name: None for name in OUTPUT_SCHEMA.names}
    out.update(id=fallback_id(row), input=row.get("input"), published_month=_failed_month(row),
               title=row.get("title"), url=row.get("url"), source=row.get("source"),
               error_reason=reason, error=message)
    return out


def entity_key(ent: Entity) -> str:
    """Stateless corpus id of a per-article entity: the id `store.identity.Resolver`
    gives an entity it has not seen before (first strong key, else family:name)."""
    from ..store.identity import FAMILY, entity_id_for, norm, strong_keys

    keys = strong_keys(ent)
    return entity_id_for(keys[0] if keys else f"{FAMILY.get(ent.type, ent.type)}:{norm(ent.name)}")


def record_row(record: Record, input_ref: str | None) -> dict[str, Any]:
    """The output row of one analysed article (document fields, nested layers, JSON)."""
    from ..corpus import Corpus
    from ..store import what_key

    doc = record.document
    keys = {e.id: entity_key(e) for e in record.entities}
    names = {e.id: e.name for e in record.entities}
    spans = sorted((m.start, m.end, keys[e.id]) for e in record.entities for m in e.mentions)

    def inside(start: int, end: int) -> set[str]:
        return {k for s, t, k in spans if s >= start and t <= end}

    speaker_of = {s.id: s.speaker for s in record.statements}
    speaker_text = {s.id: s.speaker_span.text if s.speaker_span else None
                    for s in record.statements}
    statements = []
    for s in record.statements:
        about: set[str] = set()
        for part in s.parts or [s.content]:
            about |= inside(part.start, part.end)
        about.discard(keys.get(s.speaker) if s.speaker else None)  # type: ignore[arg-type]
        statements.append({
            "id": s.id, "kind": s.kind, "mood": s.mood, "speaker": s.speaker,
            "speaker_key": keys.get(s.speaker) if s.speaker else None,
            "speaker_text": s.speaker_span.text if s.speaker_span else None,
            "cue": s.cue.text if s.cue else None, "content": s.content.text,
            "start": s.content.start, "end": s.content.end, "confidence": s.confidence,
            "about": sorted(about),
        })
    quantities = []
    for q in record.quantities:
        src = q.source if q.source in keys else None
        if src is None and q.statement:
            src = speaker_of.get(q.statement)
        iv = Corpus._interval({"value": q.value, "low": q.low, "high": q.high,
                               "approximate": q.approximate})
        # the corpus' source label: linked entity, else speaker as written, else the outlet
        label = (names.get(src) if src else None) or (
            speaker_text.get(q.statement) if q.statement else None) or (
            f"{doc.source} (author)" if doc.source else "author")
        quantities.append({
            "id": q.id, "text": q.span.text, "start": q.span.start, "end": q.span.end,
            "value": q.value, "low": q.low, "high": q.high, "approximate": q.approximate,
            "unit": q.unit, "quantifies": q.quantifies, "what": what_key(q.unit, q.quantifies),
            "lo": iv[0] if iv else None, "hi": iv[1] if iv else None,
            "source": q.source, "source_key": keys.get(src) if src else None,
            "source_name": label, "statement": q.statement,
        })
    times = {t.id: t.value for t in record.times}
    return {
        "id": doc.id, "content_hash": content_id(doc.text), "input": input_ref,
        "published": doc.published,
        "published_month": month_of(doc.published), "title": doc.title, "url": doc.url,
        "source": doc.source, "language": doc.language, "text": doc.text,
        "n_entities": len(record.entities), "n_statements": len(record.statements),
        "n_quantities": len(record.quantities), "n_events": len(record.events),
        "n_times": len(record.times),
        "entities": [{
            "id": e.id, "key": keys[e.id], "name": e.name, "type": e.type,
            "iso3166": e.links.iso3166, "geonames": e.links.geonames,
            "n_mentions": len(e.mentions),
            "first_start": min((m.start for m in e.mentions), default=None),
        } for e in record.entities],
        "statements": statements,
        "quantities": quantities,
        "events": [{
            "id": ev.id, "type": ev.type, "mode": ev.mode, "modality": ev.modality,
            "trigger": ev.trigger.text, "start": ev.trigger.start, "end": ev.trigger.end,
            "actor": ev.actor, "actor_key": keys.get(ev.actor) if ev.actor else None,
            "target": ev.target, "target_key": keys.get(ev.target) if ev.target else None,
            "source": ev.source, "statement": ev.statement,
            "time": times.get(ev.time) if ev.time else None, "place": ev.place,
        } for ev in record.events],
        "times": [{"id": t.id, "text": t.span.text, "start": t.span.start, "end": t.span.end,
                   "value": t.value, "type": t.type} for t in record.times],
        "record": record.to_json(indent=None),
        "error_reason": None, "error": None,
    }


def process_row(row: dict[str, Any], use_models: bool = True) -> dict[str, Any] | None:
    """Input row -> output row; None for rows that are not articles (blank JSONL lines).

    Never raises for bad content: an `InputError` keeps its reason code, anything else
    becomes `internal` with the exception's repr, so one article cannot fail a job."""
    from ..pipeline import analyze_document

    line = row.get("line")
    if line is not None and not line.strip():
        return None
    try:
        document = to_document(row)
    except InputError as exc:
        return error_row(row, exc.reason, exc.message)
    except Exception as exc:  # noqa: BLE001 - readers of foreign data raise many types
        return error_row(row, "malformed", f"{row.get('input')}: {exc!r}")
    try:
        record = analyze_document(document, use_models=use_models)
        return record_row(record, row.get("input"))
    except Exception as exc:  # noqa: BLE001 - one article must never stop a batch
        out = error_row(row, "internal", f"analysis failed: {exc!r}{_where(exc)}")
        out.update(id=document.id, content_hash=content_id(document.text),
                   published=document.published,
                   published_month=month_of(document.published), title=document.title,
                   url=document.url, source=document.source, text=document.text,
                   language=document.language)
        return out


def _where(exc: BaseException) -> str:
    """' at extract/time.py:88 in resolve': where a bug hit, so a failed row can be
    reported without rerunning the article under a debugger."""
    tb = traceback.extract_tb(exc.__traceback__)
    if not tb:
        return ""
    frame = tb[-1]
    path = frame.filename.replace("\\", "/")
    short = path.split("/lagebild/", 1)[-1] if "/lagebild/" in path else path.rsplit("/", 1)[-1]
    return f" at {short}:{frame.lineno} in {frame.name}"


def process_batch(batch: pa.RecordBatch, use_models: bool = True) -> pa.RecordBatch:
    """Arrow in, Arrow out: the unit both engines hand to workers."""
    rows = (process_row(r, use_models) for r in batch.to_pylist())
    return rows_to_batch([r for r in rows if r is not None])


def rows_to_batch(rows: list[dict[str, Any]]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist(rows, schema=OUTPUT_SCHEMA)


def sort_key(row: dict[str, Any]) -> tuple[str, str]:
    """Row order inside a partition: document id, then locator (two copies of one article)."""
    return row["id"] or "", row["input"] or ""
