"""The corpus schema as SQLAlchemy Core tables, one definition for SQLite and PostgreSQL.

Why Core and not the ORM: ingest writes tens of rows per article in a handful of
`executemany` calls inside one transaction; an identity map would only cost time.
The migrations in `migrations/versions` create exactly these tables (a test compares
them), so this module is what queries are written against.

Design notes:
* `documents.content_hash` is unique: re-ingesting an article is a no-op, whatever
  the file or feed it came from. `documents.id` is the user's id or the hash itself.
* Every extracted item keeps the document's local ids (`e3`, `s2`) *and* the
  corpus-wide entity ids (`entities.id`), so a row can be traced back to its record.
* `published`/`source` are read from `documents` by join; the tables are small enough
  per document that denormalising them would buy nothing measurable.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

documents = Table(
    "documents", metadata,
    Column("id", String(200), primary_key=True),
    Column("content_hash", String(32), nullable=False, unique=True),
    Column("title", Text),
    Column("published", Date, index=True),
    Column("source", String(300), index=True),
    Column("url", Text),
    Column("text", Text, nullable=False),
    Column("input", Text, doc="Where the article came from: path, path:line, feed entry ..."),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
    Column("schema_version", String(40), nullable=False),
    Column("record", Text, nullable=False, doc="The full record as JSON (lossless export)."),
)

entities = Table(
    "entities", metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("type", String(8), nullable=False),
    Column("iso3166", String(2)),
    Column("geonames", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: Identity keys: exactly one entity per key (iso:RU, LOC:russland, PER:wladimir putin).
entity_keys = Table(
    "entity_keys", metadata,
    Column("key", String(400), primary_key=True),
    Column("entity_id", String(40), ForeignKey("entities.id", ondelete="CASCADE"),
           nullable=False, index=True),
)

#: Weak keys (a bare surname, "PER~putin"): used only when they point at one entity.
entity_weak_keys = Table(
    "entity_weak_keys", metadata,
    Column("key", String(400), primary_key=True),
    Column("entity_id", String(40), ForeignKey("entities.id", ondelete="CASCADE"),
           primary_key=True),
)

#: Every surface form seen for an entity (normalised), for query-time name lookup.
entity_names = Table(
    "entity_names", metadata,
    Column("norm", String(400), primary_key=True),
    Column("entity_id", String(40), ForeignKey("entities.id", ondelete="CASCADE"),
           primary_key=True),
    Column("surface", String(400), nullable=False),
    Column("kind", String(16), nullable=False),
)

doc_entities = Table(
    "doc_entities", metadata,
    Column("doc_id", String(200), ForeignKey("documents.id", ondelete="CASCADE"),
           primary_key=True),
    Column("local_id", String(40), primary_key=True),
    Column("entity_id", String(40), ForeignKey("entities.id"), nullable=False, index=True),
    Column("name", String(400), nullable=False),
    Column("n_mentions", Integer, nullable=False),
    Column("first_start", Integer),
)

statements = Table(
    "statements", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("doc_id", String(200), ForeignKey("documents.id", ondelete="CASCADE"),
           nullable=False),
    Column("local_id", String(40), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("mood", String(16), nullable=False),
    Column("speaker_id", String(40), ForeignKey("entities.id"), index=True),
    Column("speaker_text", String(400)),
    Column("cue", String(200)),
    Column("content", Text, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("confidence", Float),
    UniqueConstraint("doc_id", "local_id", name="uq_statements_doc_local"),
)

#: Entities mentioned inside a statement's content: "what was said about X".
statement_about = Table(
    "statement_about", metadata,
    Column("doc_id", String(200), ForeignKey("documents.id", ondelete="CASCADE"),
           primary_key=True),
    Column("local_id", String(40), primary_key=True),
    Column("entity_id", String(40), ForeignKey("entities.id"), primary_key=True),
    Index("ix_statement_about_entity", "entity_id"),
)

quantities = Table(
    "quantities", metadata,
    Column("doc_id", String(200), ForeignKey("documents.id", ondelete="CASCADE"),
           primary_key=True),
    Column("local_id", String(40), primary_key=True),
    Column("text", String(400), nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("value", Float),
    Column("low", Float),
    Column("high", Float),
    Column("approximate", String(60)),
    Column("unit", String(100)),
    Column("quantifies", String(300)),
    Column("what", String(100), index=True, doc="Lemma of the counted noun/unit: soldat, euro."),
    Column("source_id", String(40), ForeignKey("entities.id"), index=True),
    Column("statement", String(40)),
    Column("sentence", Text, doc="The sentence the figure stands in (claims show it)."),
)

#: Entities in the same sentence as a figure: what the figure is about.
quantity_about = Table(
    "quantity_about", metadata,
    Column("doc_id", String(200), ForeignKey("documents.id", ondelete="CASCADE"),
           primary_key=True),
    Column("local_id", String(40), primary_key=True),
    Column("entity_id", String(40), ForeignKey("entities.id"), primary_key=True),
    Index("ix_quantity_about_entity", "entity_id"),
)

events = Table(
    "events", metadata,
    Column("doc_id", String(200), ForeignKey("documents.id", ondelete="CASCADE"),
           primary_key=True),
    Column("local_id", String(40), primary_key=True),
    Column("type", String(16), nullable=False, index=True),
    Column("mode", String(40)),
    Column("modality", String(16), nullable=False),
    Column("trigger", String(200), nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("actor_id", String(40), ForeignKey("entities.id"), index=True),
    Column("target_id", String(40), ForeignKey("entities.id"), index=True),
    Column("source_id", String(40), ForeignKey("entities.id")),
    Column("place_id", String(40), ForeignKey("entities.id")),
    Column("time", String(60), doc="Normalised ISO value of the event's time expression."),
    Column("statement", String(40)),
)

failures = Table(
    "failures", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("input", Text, nullable=False, unique=True),
    Column("reason", String(40), nullable=False),
    Column("message", Text, nullable=False),
    Column("content_hash", String(32)),
    Column("attempts", Integer, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
)
