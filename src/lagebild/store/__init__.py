"""The corpus store: one schema on SQLite (default, `lagebild.db`) or PostgreSQL.

`open_store(url)` connects, migrates to the newest schema (Alembic scripts shipped in
`lagebild/store/migrations`) and returns a `Store`. Writing is one transaction per
article (`add_record`): a kill -9 loses at most the article in flight (rolled back,
redone by the next run) and duplicates nothing, because the content hash is unique
(the ingest loop skips known hashes before analysis; the constraint guards the rest).

URLs: a plain path or `sqlite:///path` -> SQLite with WAL (readers never block the
ingest), `postgresql://...` / `postgres://...` / `postgresql+psycopg://...` -> psycopg 3.
"""

from __future__ import annotations

import os
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, delete, event, select, text, update
from sqlalchemy.engine import Connection

from ..schema import SCHEMA_VERSION, Record
from .dml import batch, execute_raw, insert_rows, integrity_errors
from .identity import Resolver, _insert_ignore
from .schema import (
    doc_entities,
    documents,
    events,
    failures,
    quantities,
    quantity_about,
    statement_about,
    statements,
)

__all__ = ["DEFAULT_DB", "HEAD_REVISION", "DuplicateIdError", "Store", "open_store", "to_url"]

DEFAULT_DB = "lagebild.db"
#: The newest migration; `open_store` skips Alembic entirely when the store is at it.
HEAD_REVISION = "0001"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

INTEGRITY_ERRORS = integrity_errors()
_SENT_END = re.compile(r"[.!?…][\"'“”»«]?\s+(?=[\"„»«(]?[A-ZÄÖÜ0-9])|\n\s*")


class DuplicateIdError(ValueError):
    """A different article already has this id (ids given by users must be unique)."""


def to_url(db: str | os.PathLike | None) -> str:
    """Path or URL -> SQLAlchemy URL with the drivers we ship (pysqlite, psycopg 3)."""
    raw = str(db) if db is not None else os.environ.get("LAGEBILD_DB", DEFAULT_DB)
    if raw.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + raw.split("://", 1)[1]
    if "://" in raw:
        return raw
    return "sqlite:///" + str(Path(raw).expanduser().resolve())


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # WAL: the web app and queries can read while an ingest writes; NORMAL sync is
    # crash-safe in WAL mode (a power cut may lose the last commits, never corrupt).
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_pre_ping=True)
    # one multi-row INSERT per executemany instead of one statement per row (see dml.py)
    engine.dialect.use_insertmanyvalues_wo_returning = True
    event.listen(engine, "connect", _postgres_session)
    return engine


def _postgres_session(dbapi_conn, _record) -> None:
    """The same durability trade as SQLite's WAL + synchronous=NORMAL above: a commit
    returns before its WAL record reaches the disk, so a crash may lose the last
    commits (never corrupt the database). Ingest writes one transaction per article and
    a re-run skips stored content by hash, so such a loss is re-done on the next run;
    waiting for the flush was a third of the per-article store time."""
    cur = dbapi_conn.cursor()
    cur.execute("SET synchronous_commit TO off")
    cur.close()
    dbapi_conn.commit()


def current_revision(conn: Connection) -> str | None:
    try:
        with conn.begin_nested():
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 - no table yet = empty store
        return None


def migrate(engine: Engine) -> None:
    """Bring the store to `HEAD_REVISION`; a store already there costs one SELECT."""
    with engine.connect() as conn:
        if current_revision(conn) == HEAD_REVISION:
            return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@dataclass
class AddResult:
    status: str  # "added" | "exists"
    doc_id: str


class _Sentences:
    """Sentence spans of a text from one regex pass (cheap boundaries; good enough to
    scope what a figure is about), looked up by bisection per quantity."""

    def __init__(self, text_: str):
        # a match starts at the final punctuation (kept in the sentence) or a newline
        cuts = [(m.start() + (text_[m.start()] != "\n"), m.end())
                for m in _SENT_END.finditer(text_)]
        self.starts = [a for a, _ in cuts]
        self.ends = [b for _, b in cuts]
        self.n = len(text_)

    def around(self, pos: int) -> tuple[int, int]:
        i = bisect_right(self.ends, pos)
        start = self.ends[i - 1] if i else 0
        j = bisect_left(self.starts, pos)
        return start, (self.starts[j] if j < len(self.starts) else self.n)


def _head(phrase: str) -> str | None:
    """Head noun of a German noun phrase: its last capitalised word (nouns are capitalised)."""
    words = re.findall(r"[\w%€$£-]+", phrase)
    nouns = [w for w in words if w[:1].isupper()]
    return (nouns or words or [None])[-1]


def what_key(unit: str | None, quantifies: str | None) -> str | None:
    """What a figure counts, as a lemma key: 'nordkoreanische Soldaten' -> 'soldat',
    '30 Prozent der Stimmen' -> 'prozent stimme'. Claims are grouped by this key."""
    unit_head = _head(unit) if unit else None
    q_head = _head(quantifies) if quantifies else None
    if unit_head and q_head and lemma_key(unit_head) != lemma_key(q_head):
        return f"{lemma_key(unit_head)} {lemma_key(q_head)}"
    head = q_head or unit_head
    return lemma_key(head) if head else None


def lemma_key(word: str) -> str:
    """Case-folded lemma (simplemma, already a dependency) so Soldaten/Soldat/Soldats meet."""
    from simplemma import lemmatize

    word = word.strip(" .,;:")
    return lemmatize(word, lang="de").casefold() if word.isalpha() else word.casefold()


class Store:
    """Connection, migrations and per-article writes. Queries live in `lagebild.corpus`."""

    def __init__(self, url: str | os.PathLike | None = None, migrate_schema: bool = True):
        self.url = to_url(url)
        self.engine = make_engine(self.url)
        if migrate_schema:
            migrate(self.engine)
        self.resolver = Resolver()
        self._wconn: Connection | None = None
        self._failed_inputs: set[str] = set()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _writer(self) -> Connection:
        """One long-lived connection for writes: a pool checkout per article costs more
        than the article's inserts."""
        if self._wconn is None or self._wconn.closed:
            self._wconn = self.engine.connect()
        return self._wconn

    def close(self) -> None:
        if self._wconn is not None:
            self._wconn.close()
            self._wconn = None
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reads used by ingest ---------------------------------------------------------
    def known_hashes(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.execute(select(documents.c.content_hash)).scalars())

    def count(self, table=documents) -> int:
        from sqlalchemy import func

        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)

    # -- writes -----------------------------------------------------------------------
    def add_record(self, record: Record, content_hash: str, input_ref: str | None = None
                   ) -> AddResult:
        """Store one analysed article and everything extracted from it, atomically.

        Returns status "exists" (and writes nothing) when the same content is already
        stored; raises `DuplicateIdError` when the id belongs to different content.
        """
        doc = record.document
        conn = self._writer()
        if not self.resolver.loaded:
            with conn.begin():
                self.resolver.load(conn)
                self._failed_inputs = set(conn.execute(select(failures.c.input)).scalars())
        try:
            # no SELECT first: the unique id and content hash make the INSERT the check
            # (one round trip less per article; the ingest loop already skips known hashes)
            with conn.begin(), batch(conn):
                self._write(conn, record, content_hash, input_ref)
        except INTEGRITY_ERRORS:
            self.resolver.rollback()
            with self.engine.connect() as c2:
                row = c2.execute(
                    select(documents.c.id, documents.c.content_hash)
                    .where((documents.c.content_hash == content_hash)
                           | (documents.c.id == doc.id))).first()
            if row is None:  # a conflict inside the record itself (e.g. repeated local ids)
                raise
            if row.content_hash == content_hash:
                return AddResult("exists", row.id)
            raise DuplicateIdError(
                f"id {doc.id!r} is already used by a different article (content "
                f"{row.content_hash}); give each article its own id") from None
        except BaseException:
            self.resolver.rollback()
            raise
        self.resolver.commit()
        if input_ref:
            self._failed_inputs.discard(input_ref)
        return AddResult("added", doc.id)

    def _write(self, conn: Connection, record: Record, content_hash: str,
               input_ref: str | None) -> None:
        doc = record.document
        did = doc.id
        now = datetime.now(UTC)
        insert_rows(conn, documents, {
            "id": did, "content_hash": content_hash, "title": doc.title,
            "published": doc.published, "source": doc.source, "url": doc.url, "text": doc.text,
            "input": input_ref, "ingested_at": now, "schema_version": SCHEMA_VERSION,
            "record": record.to_json(indent=None),
        })
        ids = self.resolver.resolve(conn, record.entities)
        if record.entities:
            insert_rows(conn, doc_entities, [
                {"doc_id": did, "local_id": e.id, "entity_id": ids[e.id], "name": e.name,
                 "n_mentions": len(e.mentions),
                 "first_start": min((m.start for m in e.mentions), default=None)}
                for e in record.entities
            ])
        # mentions sorted by offset, for "which entities lie inside this span"
        spans = sorted((m.start, m.end, ids[e.id]) for e in record.entities for m in e.mentions)

        def inside(start: int, end: int) -> set[str]:
            return {eid for s, t, eid in spans if s >= start and t <= end}

        speaker_of: dict[str, str | None] = {}
        if record.statements:
            st_rows, about_rows = [], []
            for s in record.statements:
                spk = ids.get(s.speaker) if s.speaker else None
                speaker_of[s.id] = spk
                st_rows.append({
                    "doc_id": did, "local_id": s.id, "kind": s.kind, "mood": s.mood,
                    "speaker_id": spk,
                    "speaker_text": s.speaker_span.text if s.speaker_span else None,
                    "cue": s.cue.text if s.cue else None, "content": s.content.text,
                    "start": s.content.start, "end": s.content.end, "confidence": s.confidence,
                })
                about: set[str] = set()
                for part in s.parts or [s.content]:
                    about |= inside(part.start, part.end)
                about.discard(spk)  # type: ignore[arg-type]
                about_rows += [{"doc_id": did, "local_id": s.id, "entity_id": a}
                               for a in sorted(about)]
            insert_rows(conn, statements, st_rows)
            if about_rows:
                insert_rows(conn, statement_about, about_rows)
        if record.quantities:
            q_rows, qa_rows = [], []
            sentences = _Sentences(doc.text)
            for q in record.quantities:
                src = ids.get(q.source) if q.source else None
                if src is None and q.statement:
                    src = speaker_of.get(q.statement)
                s0, s1 = sentences.around(q.span.start)
                q_rows.append({
                    "doc_id": did, "local_id": q.id, "text": q.span.text,
                    "start": q.span.start, "end": q.span.end, "value": q.value, "low": q.low,
                    "high": q.high, "approximate": q.approximate, "unit": q.unit,
                    "quantifies": q.quantifies, "what": what_key(q.unit, q.quantifies),
                    "source_id": src, "statement": q.statement,
                    "sentence": doc.text[s0:s1].strip()[:2000],
                })
                about = inside(s0, s1)
                about.discard(src)  # type: ignore[arg-type]
                qa_rows += [{"doc_id": did, "local_id": q.id, "entity_id": a}
                            for a in sorted(about)]
            insert_rows(conn, quantities, q_rows)
            if qa_rows:
                insert_rows(conn, quantity_about, qa_rows)
        if record.events:
            times = {t.id: t.value for t in record.times}
            insert_rows(conn, events, [
                {"doc_id": did, "local_id": ev.id, "type": ev.type, "mode": ev.mode,
                 "modality": ev.modality, "trigger": ev.trigger.text, "start": ev.trigger.start,
                 "end": ev.trigger.end, "actor_id": ids.get(ev.actor) if ev.actor else None,
                 "target_id": ids.get(ev.target) if ev.target else None,
                 "source_id": ids.get(ev.source) if ev.source else None,
                 "place_id": ids.get(ev.place) if ev.place else None,
                 "time": times.get(ev.time) if ev.time else None, "statement": ev.statement}
                for ev in record.events
            ])
        if input_ref and input_ref in self._failed_inputs:
            execute_raw(conn, "DELETE FROM failures WHERE input = ?", (input_ref,))

    def add_failure(self, input_ref: str, reason: str, message: str,
                    content_hash: str | None = None) -> None:
        """Record (or refresh) why an input could not be ingested; one row per input."""
        now = datetime.now(UTC)
        conn = self._writer()
        with conn.begin():
            res = conn.execute(
                update(failures).where(failures.c.input == input_ref)
                .values(reason=reason, message=message, content_hash=content_hash,
                        attempts=failures.c.attempts + 1, last_seen=now)
            )
            self._failed_inputs.add(input_ref)
            if res.rowcount == 0:
                conn.execute(_insert_ignore(conn, failures), {
                    "input": input_ref, "reason": reason, "message": message,
                    "content_hash": content_hash, "attempts": 1, "first_seen": now,
                    "last_seen": now,
                })

    def clear_failure(self, input_ref: str) -> None:
        conn = self._writer()
        with conn.begin():
            conn.execute(delete(failures).where(failures.c.input == input_ref))

    def failures(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(failures).order_by(failures.c.id)).mappings().all()
        return [dict(r) for r in rows]

    def resolve_name(self, name: str) -> list[str]:
        """Corpus entity ids a user-typed name can mean (id, name, alias, demonym ...)."""
        from .identity import name_variants
        from .schema import entities, entity_keys, entity_names

        with self.engine.connect() as conn:
            if re.fullmatch(r"E[0-9a-f]{12}", name):
                hit = conn.execute(select(entities.c.id).where(entities.c.id == name)).scalar()
                if hit:
                    return [hit]
            variants = name_variants(name)
            variants += [v + "s" for v in variants]  # stored genitive forms (Pjöngjangs)
            keys = [f"{fam}:{v}" for fam in ("PER", "ORG", "LOC", "MISC") for v in variants]
            if re.fullmatch(r"[A-Za-z]{2}", name):
                keys.append(f"iso:{name.upper()}")
            found = list(conn.execute(select(entity_keys.c.entity_id)
                                      .where(entity_keys.c.key.in_(keys))).scalars())
            found += conn.execute(select(entity_names.c.entity_id)
                                  .where(entity_names.c.norm.in_(variants))).scalars()
        return list(dict.fromkeys(found))


def open_store(url: str | os.PathLike | None = None) -> Store:
    return Store(url)

