"""Read-only, paginated queries for the web layer, written against `lagebild.store.schema`.

Why not only `Corpus`: its queries return the first `limit` rows, which is right for the
CLI but not for an API that must page through 10,000 articles. Here every list is
ordered by a *unique* sort key and paged by keyset ("rows after this key"), so a page
costs the same at row 50 and at row 50,000, and inserts during paging never shift or
repeat rows. The key travels to the client as an opaque cursor (base64 JSON, tagged
with the list it belongs to, so a statements cursor is rejected by /api/events).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import Date, Engine, and_, exists, false, func, literal, or_, select, true
from sqlalchemy.sql import ColumnElement, Select

from ..store.schema import (
    doc_entities,
    documents,
    entities,
    events,
    quantities,
    statement_about,
    statements,
)

KeyKind = Literal["date", "str", "int"]
#: Undated articles sort after every dated one (newest first), without NULL arithmetic.
_NO_DATE = date(1, 1, 1)


class CursorError(ValueError):
    """A cursor that this server did not hand out (or for another list)."""


@dataclass(frozen=True)
class Key:
    """One column of a sort key: expression, direction, and its JSON type in cursors."""

    expr: Any
    desc: bool
    kind: KeyKind


def encode_cursor(tag: str, values: Sequence[Any]) -> str:
    """Opaque cursor for `values` (the sort key of the last row a client has seen)."""
    plain = [v.isoformat() if isinstance(v, date) else v for v in values]
    raw = json.dumps([tag, plain], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(tag: str, cursor: str, kinds: Sequence[KeyKind]) -> list[Any]:
    """Parse and type-check a cursor; any tampering raises `CursorError` (-> HTTP 400)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        got_tag, values = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise CursorError("cursor is not one this server handed out") from exc
    if got_tag != tag or not isinstance(values, list) or len(values) != len(kinds):
        raise CursorError(f"cursor does not belong to this list ({tag})")
    out: list[Any] = []
    for v, kind in zip(values, kinds, strict=True):
        if kind == "int" and isinstance(v, int) and not isinstance(v, bool):
            out.append(v)
        elif kind == "str" and isinstance(v, str):
            out.append(v)
        elif kind == "date" and isinstance(v, str):
            try:
                out.append(date.fromisoformat(v))
            except ValueError as exc:
                raise CursorError("cursor holds a malformed date") from exc
        else:
            raise CursorError("cursor holds a value of the wrong type")
    return out


def after_key(keys: Sequence[Key], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order given by `keys` (mixed directions):
    (k1 > v1) OR (k1 = v1 AND k2 > v2) OR ... - portable to SQLite and PostgreSQL."""
    ors: list[ColumnElement[bool]] = []
    for i, key in enumerate(keys):
        eqs = [keys[j].expr == values[j] for j in range(i)]
        cmp = key.expr < values[i] if key.desc else key.expr > values[i]
        ors.append(and_(*eqs, cmp) if eqs else cmp)
    return or_(*ors)


def page(engine: Engine, stmt: Select, keys: Sequence[Key], tag: str, cursor: str | None,
         limit: int) -> tuple[list[dict], str | None]:
    """Run `stmt` for one page: rows after the cursor, `limit` of them, and the next cursor
    (None on the last page). The key columns must be selected as `_k0`, `_k1`, ..."""
    if cursor:
        values = decode_cursor(tag, cursor, [k.kind for k in keys])
        stmt = stmt.where(after_key(keys, values))
    stmt = stmt.order_by(*[k.expr.desc() if k.desc else k.expr.asc() for k in keys])
    stmt = stmt.limit(limit + 1)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        nxt = encode_cursor(tag, [rows[-1][f"_k{i}"] for i in range(len(keys))])
    for r in rows:
        for i in range(len(keys)):
            r.pop(f"_k{i}", None)
    return rows, nxt


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _pub_key() -> ColumnElement:
    return func.coalesce(documents.c.published, literal(_NO_DATE, Date))


def _dates(stmt: Select, since: date | None, until: date | None) -> Select:
    if since:
        stmt = stmt.where(documents.c.published >= since)
    if until:
        stmt = stmt.where(documents.c.published <= until)
    return stmt


def _ids_filter(col, ids: list[str] | None) -> ColumnElement[bool]:
    """`col IN ids`; an empty resolution matches nothing (an unknown name is no wildcard)."""
    if ids is None:
        return true()
    return col.in_(ids) if ids else false()


def _like(q: str) -> str:
    return "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# -- documents ----------------------------------------------------------------------------

def list_documents(engine: Engine, *, entity_ids: list[str] | None = None,
                   source: str | None = None, since: date | None = None,
                   until: date | None = None, cursor: str | None = None,
                   limit: int = 50) -> tuple[list[dict], str | None]:
    """Articles newest first, with how much was extracted from each.

    Two steps: the page's ids from a slim query (SQLite sorts whole result rows, so text
    lengths and counts computed for every article would cost more than the page itself),
    then the details for just those ids."""
    pk = _pub_key()
    keys = [Key(pk, True, "date"), Key(documents.c.id, False, "str")]
    stmt = select(documents.c.id, pk.label("_k0"), documents.c.id.label("_k1"))
    if entity_ids is not None:
        # IN (subquery) rather than a correlated EXISTS: the entity index yields the
        # article set once, instead of one probe per stored article
        stmt = stmt.where(documents.c.id.in_(
            select(doc_entities.c.doc_id).where(doc_entities.c.entity_id.in_(entity_ids)))
            if entity_ids else false())
    if source:
        stmt = stmt.where(documents.c.source == source)
    rows, nxt = page(engine, _dates(stmt, since, until), keys, "documents", cursor, limit)
    ids = [r["id"] for r in rows]
    if not ids:
        return [], nxt
    n_st = (select(func.count()).where(statements.c.doc_id == documents.c.id)
            .correlate(documents).scalar_subquery())
    n_ev = (select(func.count()).where(events.c.doc_id == documents.c.id)
            .correlate(documents).scalar_subquery())
    with engine.connect() as conn:
        detail = {r["id"]: dict(r) for r in conn.execute(
            select(documents.c.id, documents.c.title, documents.c.published,
                   documents.c.source, documents.c.url,
                   func.length(documents.c.text).label("n_chars"),
                   n_st.label("n_statements"), n_ev.label("n_events"))
            .where(documents.c.id.in_(ids))).mappings()}
    out = [detail[i] for i in ids if i in detail]
    for r in out:
        r["published"] = _iso(r["published"])
    return out, nxt


# -- entities -----------------------------------------------------------------------------

def entity_index(engine: Engine) -> list[dict]:
    """Every entity with its article and mention counts, most covered first: a corpus-wide
    aggregate that the web layer caches until an article is added."""
    agg = (select(doc_entities.c.entity_id, func.count().label("n_docs"),
                  func.sum(doc_entities.c.n_mentions).label("n_mentions"))
           .group_by(doc_entities.c.entity_id).subquery())
    n_docs = func.coalesce(agg.c.n_docs, 0)
    stmt = (select(entities.c.id, entities.c.name, entities.c.type, entities.c.iso3166,
                   n_docs.label("n_docs"),
                   func.coalesce(agg.c.n_mentions, 0).label("n_mentions"))
            .outerjoin(agg, agg.c.entity_id == entities.c.id)
            .order_by(n_docs.desc(), entities.c.id))
    with engine.connect() as conn:
        out = [dict(r) for r in conn.execute(stmt).mappings()]
    for r in out:
        r["n_docs"], r["n_mentions"] = int(r["n_docs"]), int(r["n_mentions"])
    return out


def list_entities(engine: Engine, *, type: str | None = None,  # noqa: A002
                  q: str | None = None, sort: str = "docs", cursor: str | None = None,
                  limit: int = 50, index: list[dict] | None = None
                  ) -> tuple[list[dict], str | None]:
    """Corpus entities with article and mention counts; `sort=docs` (most covered first)
    or `sort=name` (alphabetical). `index` (from `entity_index`) answers `sort=docs`
    without aggregating the whole corpus per request."""
    tag = f"entities:{sort}"
    if sort != "name":
        if index is None:
            index = entity_index(engine)
        after = decode_cursor(tag, cursor, ["int", "str"]) if cursor else None
        needle = q.lower() if q else None
        rows: list[dict] = []
        for r in index:
            if after is not None and (-r["n_docs"], r["id"]) <= (-after[0], after[1]):
                continue
            if (type and r["type"] != type) or (needle and needle not in r["name"].lower()):
                continue
            rows.append(r)
            if len(rows) > limit:
                break
        nxt = None
        if len(rows) > limit:
            rows = rows[:limit]
            nxt = encode_cursor(tag, [rows[-1]["n_docs"], rows[-1]["id"]])
        return [dict(r) for r in rows], nxt
    keys = [Key(entities.c.name, False, "str"), Key(entities.c.id, False, "str")]
    stmt = select(entities.c.id, entities.c.name, entities.c.type, entities.c.iso3166,
                  entities.c.name.label("_k0"), entities.c.id.label("_k1"))
    if type:
        stmt = stmt.where(entities.c.type == type)
    if q:
        stmt = stmt.where(func.lower(entities.c.name).like(_like(q), escape="\\"))
    rows, nxt = page(engine, stmt, keys, tag, cursor, limit)
    ids = [r["id"] for r in rows]
    counts_of: dict[str, tuple[int, int]] = {}
    if ids:
        with engine.connect() as conn:
            counts_of = {i: (int(n), int(m or 0)) for i, n, m in conn.execute(
                select(doc_entities.c.entity_id, func.count(), func.sum(doc_entities.c.n_mentions))
                .where(doc_entities.c.entity_id.in_(ids)).group_by(doc_entities.c.entity_id))}
    for r in rows:
        r["n_docs"], r["n_mentions"] = counts_of.get(r["id"], (0, 0))
    return rows, nxt


def entity_row(engine: Engine, entity_id: str) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(select(entities).where(entities.c.id == entity_id)).mappings().first()
    return dict(row) if row else None


def local_to_corpus(engine: Engine, doc_id: str) -> dict[str, str]:
    """Record-local entity ids of one article (e3) -> corpus entity ids (E...)."""
    with engine.connect() as conn:
        return dict(conn.execute(select(doc_entities.c.local_id, doc_entities.c.entity_id)
                                 .where(doc_entities.c.doc_id == doc_id)).all())


# -- statements ---------------------------------------------------------------------------

def list_statements(engine: Engine, *, speaker_ids: list[str] | None = None,
                    speaker_text: str | None = None, about_ids: list[str] | None = None,
                    kind: str | None = None, mood: str | None = None,
                    doc_id: str | None = None, since: date | None = None,
                    until: date | None = None, cursor: str | None = None,
                    limit: int = 50) -> tuple[list[dict], str | None]:
    """Who said what, newest article first, in text order within an article.

    `speaker_ids` (resolved names) and `speaker_text` (the name as written, for speakers
    the entity layer did not link) are OR-ed, as in `Corpus.statements`."""
    pk = _pub_key()
    keys = [Key(pk, True, "date"), Key(statements.c.doc_id, False, "str"),
            Key(statements.c.id, False, "int")]
    # step 1 selects keys only (see list_documents); step 2 fetches the page's rows
    stmt = (select(statements.c.id.label("pk"), pk.label("_k0"),
                   statements.c.doc_id.label("_k1"), statements.c.id.label("_k2"))
            .join(documents, documents.c.id == statements.c.doc_id))
    if speaker_ids is not None or speaker_text:
        conds = [_ids_filter(statements.c.speaker_id, speaker_ids or [])]
        if speaker_text:
            conds.append(func.lower(statements.c.speaker_text) == speaker_text.lower())
        stmt = stmt.where(or_(*conds))
    if about_ids is not None:
        stmt = stmt.where(exists().where(and_(
            statement_about.c.doc_id == statements.c.doc_id,
            statement_about.c.local_id == statements.c.local_id,
            statement_about.c.entity_id.in_(about_ids))) if about_ids else false())
    if kind:
        stmt = stmt.where(statements.c.kind == kind)
    if mood:
        stmt = stmt.where(statements.c.mood == mood)
    if doc_id:
        stmt = stmt.where(statements.c.doc_id == doc_id)
    rows, nxt = page(engine, _dates(stmt, since, until), keys, "statements", cursor, limit)
    ids = [r["pk"] for r in rows]
    if not ids:
        return [], nxt
    spk = entities.alias("spk")
    with engine.connect() as conn:
        detail = {r["pk"]: dict(r) for r in conn.execute(
            select(statements.c.id.label("pk"), statements.c.doc_id,
                   statements.c.local_id.label("id"), documents.c.published,
                   documents.c.source.label("outlet"), documents.c.title, statements.c.kind,
                   statements.c.mood, statements.c.speaker_id,
                   func.coalesce(spk.c.name, statements.c.speaker_text).label("speaker"),
                   statements.c.speaker_text, statements.c.cue, statements.c.content,
                   statements.c.start, statements.c.end, statements.c.confidence)
            .join(documents, documents.c.id == statements.c.doc_id)
            .outerjoin(spk, spk.c.id == statements.c.speaker_id)
            .where(statements.c.id.in_(ids))).mappings()}
    out = [detail[i] for i in ids if i in detail]
    for r in out:
        del r["pk"]
        r["published"] = _iso(r["published"])
    return out, nxt


# -- events -------------------------------------------------------------------------------

def list_events(engine: Engine, *, actor_ids: list[str] | None = None,
                target_ids: list[str] | None = None, entity_ids: list[str] | None = None,
                type: str | None = None, modality: str | None = None,  # noqa: A002
                source_ids: list[str] | None = None, doc_id: str | None = None,
                since: date | None = None, until: date | None = None,
                cursor: str | None = None, limit: int = 50) -> tuple[list[dict], str | None]:
    """PLOVER events newest article first; `entity_ids` matches actor or target."""
    pk = _pub_key()
    keys = [Key(pk, True, "date"), Key(events.c.doc_id, False, "str"),
            Key(events.c.start, False, "int"), Key(events.c.local_id, False, "str")]
    act, tgt, src = entities.alias("act"), entities.alias("tgt"), entities.alias("src")
    stmt = (select(events.c.doc_id, events.c.local_id.label("id"), documents.c.published,
                   documents.c.source.label("outlet"), documents.c.title, events.c.type,
                   events.c.mode, events.c.modality, events.c.trigger, events.c.start,
                   events.c.end, events.c.actor_id, act.c.name.label("actor"),
                   events.c.target_id, tgt.c.name.label("target"), events.c.source_id,
                   src.c.name.label("source"), events.c.time, events.c.statement,
                   pk.label("_k0"), events.c.doc_id.label("_k1"), events.c.start.label("_k2"),
                   events.c.local_id.label("_k3"))
            .join(documents, documents.c.id == events.c.doc_id)
            .outerjoin(act, act.c.id == events.c.actor_id)
            .outerjoin(tgt, tgt.c.id == events.c.target_id)
            .outerjoin(src, src.c.id == events.c.source_id))
    if actor_ids is not None:
        stmt = stmt.where(_ids_filter(events.c.actor_id, actor_ids))
    if target_ids is not None:
        stmt = stmt.where(_ids_filter(events.c.target_id, target_ids))
    if entity_ids is not None:
        stmt = stmt.where(or_(_ids_filter(events.c.actor_id, entity_ids),
                              _ids_filter(events.c.target_id, entity_ids)))
    if source_ids is not None:
        stmt = stmt.where(_ids_filter(events.c.source_id, source_ids))
    if type:
        stmt = stmt.where(events.c.type == type)
    if modality:
        stmt = stmt.where(events.c.modality == modality)
    if doc_id:
        stmt = stmt.where(events.c.doc_id == doc_id)
    rows, nxt = page(engine, _dates(stmt, since, until), keys, "events", cursor, limit)
    for r in rows:
        r["published"] = _iso(r["published"])
    return rows, nxt


# -- small aggregates ---------------------------------------------------------------------

def counts(engine: Engine) -> dict[str, int]:
    """How big the corpus is (front page, health check)."""
    out: dict[str, int] = {}
    with engine.connect() as conn:
        for name, table in (("documents", documents), ("entities", entities),
                            ("statements", statements), ("quantities", quantities),
                            ("events", events)):
            out[name] = int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)
    return out


def fingerprint(engine: Engine) -> tuple:
    """Changes whenever an article is added: the cache key for corpus-wide aggregates."""
    with engine.connect() as conn:
        return tuple(conn.execute(select(func.count(), func.max(documents.c.ingested_at))
                                  .select_from(documents)).one())


def top_what(engine: Engine, limit: int = 30) -> list[tuple[str, int]]:
    """The most often counted things (claim tracker suggestions)."""
    with engine.connect() as conn:
        return [(w, int(n)) for w, n in conn.execute(
            select(quantities.c.what, func.count(func.distinct(quantities.c.doc_id)))
            .where(quantities.c.what.is_not(None)).group_by(quantities.c.what)
            .order_by(func.count(func.distinct(quantities.c.doc_id)).desc(), quantities.c.what)
            .limit(limit)).all()]
