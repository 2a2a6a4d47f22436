"""Initial corpus schema: documents, entities and identity keys, statements, quantities,
events, failures; full-text search (SQLite FTS5 with triggers / PostgreSQL tsvector+GIN
with the German configuration).

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _fk(col: str = "entities.id", **kw) -> sa.ForeignKey:
    return sa.ForeignKey(col, **kw)


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("content_hash", sa.String(32), nullable=False, unique=True),
        sa.Column("title", sa.Text),
        sa.Column("published", sa.Date),
        sa.Column("source", sa.String(300)),
        sa.Column("url", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("input", sa.Text),
        sa.Column("ingested_at", TZ, nullable=False),
        sa.Column("schema_version", sa.String(40), nullable=False),
        sa.Column("record", sa.Text, nullable=False),
    )
    op.create_index("ix_documents_published", "documents", ["published"])
    op.create_index("ix_documents_source", "documents", ["source"])

    op.create_table(
        "entities",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("type", sa.String(8), nullable=False),
        sa.Column("iso3166", sa.String(2)),
        sa.Column("geonames", sa.Integer),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "entity_keys",
        sa.Column("key", sa.String(400), primary_key=True),
        sa.Column("entity_id", sa.String(40), _fk(ondelete="CASCADE"), nullable=False),
    )
    op.create_index("ix_entity_keys_entity_id", "entity_keys", ["entity_id"])
    op.create_table(
        "entity_weak_keys",
        sa.Column("key", sa.String(400), primary_key=True),
        sa.Column("entity_id", sa.String(40), _fk(ondelete="CASCADE"), primary_key=True),
    )
    op.create_table(
        "entity_names",
        sa.Column("norm", sa.String(400), primary_key=True),
        sa.Column("entity_id", sa.String(40), _fk(ondelete="CASCADE"), primary_key=True),
        sa.Column("surface", sa.String(400), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
    )
    op.create_table(
        "doc_entities",
        sa.Column("doc_id", sa.String(200), _fk("documents.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("local_id", sa.String(40), primary_key=True),
        sa.Column("entity_id", sa.String(40), _fk(), nullable=False),
        sa.Column("name", sa.String(400), nullable=False),
        sa.Column("n_mentions", sa.Integer, nullable=False),
        sa.Column("first_start", sa.Integer),
    )
    op.create_index("ix_doc_entities_entity_id", "doc_entities", ["entity_id"])

    op.create_table(
        "statements",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("doc_id", sa.String(200), _fk("documents.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("local_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("mood", sa.String(16), nullable=False),
        sa.Column("speaker_id", sa.String(40), _fk()),
        sa.Column("speaker_text", sa.String(400)),
        sa.Column("cue", sa.String(200)),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("end", sa.Integer, nullable=False),
        sa.Column("confidence", sa.Float),
        sa.UniqueConstraint("doc_id", "local_id", name="uq_statements_doc_local"),
    )
    op.create_index("ix_statements_speaker_id", "statements", ["speaker_id"])
    op.create_table(
        "statement_about",
        sa.Column("doc_id", sa.String(200), _fk("documents.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("local_id", sa.String(40), primary_key=True),
        sa.Column("entity_id", sa.String(40), _fk(), primary_key=True),
    )
    op.create_index("ix_statement_about_entity", "statement_about", ["entity_id"])

    op.create_table(
        "quantities",
        sa.Column("doc_id", sa.String(200), _fk("documents.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("local_id", sa.String(40), primary_key=True),
        sa.Column("text", sa.String(400), nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("end", sa.Integer, nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("low", sa.Float),
        sa.Column("high", sa.Float),
        sa.Column("approximate", sa.String(60)),
        sa.Column("unit", sa.String(100)),
        sa.Column("quantifies", sa.String(300)),
        sa.Column("what", sa.String(100)),
        sa.Column("source_id", sa.String(40), _fk()),
        sa.Column("statement", sa.String(40)),
        sa.Column("sentence", sa.Text),
    )
    op.create_index("ix_quantities_what", "quantities", ["what"])
    op.create_index("ix_quantities_source_id", "quantities", ["source_id"])
    op.create_table(
        "quantity_about",
        sa.Column("doc_id", sa.String(200), _fk("documents.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("local_id", sa.String(40), primary_key=True),
        sa.Column("entity_id", sa.String(40), _fk(), primary_key=True),
    )
    op.create_index("ix_quantity_about_entity", "quantity_about", ["entity_id"])

    op.create_table(
        "events",
        sa.Column("doc_id", sa.String(200), _fk("documents.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("local_id", sa.String(40), primary_key=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("mode", sa.String(40)),
        sa.Column("modality", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(200), nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("end", sa.Integer, nullable=False),
        sa.Column("actor_id", sa.String(40), _fk()),
        sa.Column("target_id", sa.String(40), _fk()),
        sa.Column("source_id", sa.String(40), _fk()),
        sa.Column("place_id", sa.String(40), _fk()),
        sa.Column("time", sa.String(60)),
        sa.Column("statement", sa.String(40)),
    )
    op.create_index("ix_events_type", "events", ["type"])
    op.create_index("ix_events_actor_id", "events", ["actor_id"])
    op.create_index("ix_events_target_id", "events", ["target_id"])

    op.create_table(
        "failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("input", sa.Text, nullable=False, unique=True),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(32)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("first_seen", TZ, nullable=False),
        sa.Column("last_seen", TZ, nullable=False),
    )

    if op.get_bind().dialect.name == "postgresql":
        _fulltext_postgresql()
    else:
        _fulltext_sqlite()


def _fulltext_sqlite() -> None:
    """FTS5 tables kept in sync by triggers.

    Statements use an external-content table (no second copy of the text) keyed by their
    INTEGER PRIMARY KEY. Documents have a text key, and SQLite's implicit rowid of such
    a table may change on VACUUM, which would silently break an external-content index;
    so the documents index keeps its own copy of title and text, keyed by `doc_id`.
    """
    op.execute("CREATE VIRTUAL TABLE documents_fts USING fts5(doc_id UNINDEXED, title, text, "
               "tokenize='unicode61')")
    op.execute("CREATE TRIGGER documents_fts_ai AFTER INSERT ON documents BEGIN "
               "INSERT INTO documents_fts(doc_id, title, text) VALUES (new.id, new.title, "
               "new.text); END")
    op.execute("CREATE TRIGGER documents_fts_ad AFTER DELETE ON documents BEGIN "
               "DELETE FROM documents_fts WHERE doc_id = old.id; END")
    op.execute("CREATE TRIGGER documents_fts_au AFTER UPDATE ON documents BEGIN "
               "DELETE FROM documents_fts WHERE doc_id = old.id; "
               "INSERT INTO documents_fts(doc_id, title, text) VALUES (new.id, new.title, "
               "new.text); END")
    cols = "speaker_text, content"
    op.execute(f"CREATE VIRTUAL TABLE statements_fts USING fts5({cols}, content='statements', "
               "content_rowid='id', tokenize='unicode61')")
    op.execute("CREATE TRIGGER statements_fts_ai AFTER INSERT ON statements BEGIN "
               f"INSERT INTO statements_fts(rowid, {cols}) "
               "VALUES (new.id, new.speaker_text, new.content); END")
    op.execute("CREATE TRIGGER statements_fts_ad AFTER DELETE ON statements BEGIN "
               f"INSERT INTO statements_fts(statements_fts, rowid, {cols}) "
               "VALUES ('delete', old.id, old.speaker_text, old.content); END")
    op.execute("CREATE TRIGGER statements_fts_au AFTER UPDATE ON statements BEGIN "
               f"INSERT INTO statements_fts(statements_fts, rowid, {cols}) "
               "VALUES ('delete', old.id, old.speaker_text, old.content); "
               f"INSERT INTO statements_fts(rowid, {cols}) "
               "VALUES (new.id, new.speaker_text, new.content); END")


def _fulltext_postgresql() -> None:
    """Generated tsvector columns with the German configuration (stemming, stop words)."""
    op.execute("ALTER TABLE documents ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
               "setweight(to_tsvector('german', coalesce(title, '')), 'A') || "
               "setweight(to_tsvector('german', text), 'B')) STORED")
    op.execute("CREATE INDEX ix_documents_tsv ON documents USING gin (tsv)")
    op.execute("ALTER TABLE statements ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
               "to_tsvector('german', coalesce(speaker_text, '') || ' ' || content)) STORED")
    op.execute("CREATE INDEX ix_statements_tsv ON statements USING gin (tsv)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        for table, fts in (("documents", "documents_fts"), ("statements", "statements_fts")):
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
    for table in ("failures", "events", "quantity_about", "quantities", "statement_about",
                  "statements", "doc_entities", "entity_names", "entity_weak_keys",
                  "entity_keys", "entities", "documents"):
        op.drop_table(table)
