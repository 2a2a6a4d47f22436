"""The corpus store, run against SQLite and PostgreSQL with the same tests.

PostgreSQL: `LAGEBILD_TEST_PG_URL` or `DATABASE_URL` if set; otherwise a throwaway
server is started with `.ci/postgres.sh` when the PostgreSQL binaries are installed;
otherwise those tests skip with the reason. Each test gets its own fresh database.
Records are built by hand here so the tests pin the store, not the extraction layers.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from lagebild.ingest import content_id
from lagebild.schema import (
    Document,
    Entity,
    EntityLinks,
    Event,
    Mention,
    Quantity,
    Record,
    Span,
    Statement,
)
from lagebild.store import HEAD_REVISION, DuplicateIdError, Store, to_url, what_key
from lagebild.store.identity import norm
from lagebild.store.schema import (
    doc_entities,
    documents,
    entities,
    metadata,
    quantity_about,
    statement_about,
    statements,
)

REPO = Path(__file__).resolve().parents[1]


# -- PostgreSQL server for the session -------------------------------------------------

@cache
def pg_server_url() -> str | None:
    """URL of a PostgreSQL server: given by the environment, or started once per session."""
    url = os.environ.get("LAGEBILD_TEST_PG_URL") or os.environ.get("DATABASE_URL")
    if url:
        return url
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")) and not shutil.which("initdb"):
        return None
    proc = subprocess.run(["bash", str(REPO / ".ci" / "postgres.sh"), "start"],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        pytest.fail(f".ci/postgres.sh start failed:\n{proc.stderr}")
    env = dict(line.removeprefix("export ").split("=", 1) for line in proc.stdout.splitlines()
               if line.startswith("export "))
    atexit.register(subprocess.run, ["bash", str(REPO / ".ci" / "postgres.sh"), "stop",
                                     env["PGCI_ROOT"]], capture_output=True, timeout=60)
    return env["DATABASE_URL"]


def fresh_pg_database() -> tuple[str, Callable[[], None]]:
    """A new empty database on the server, and a function that drops it."""
    base = pg_server_url()
    if base is None:
        pytest.skip("PostgreSQL not available: set LAGEBILD_TEST_PG_URL/DATABASE_URL or "
                    "install the server (apt-get install postgresql) for .ci/postgres.sh")
    name = "lbtest_" + uuid.uuid4().hex[:12]
    admin = create_engine(to_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = to_url(base).rsplit("/", 1)[0] + "/" + name

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()

    return url, drop


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty store URL for each backend."""
    if request.param == "sqlite":
        yield str(tmp_path / "corpus.db")
        return
    url, drop = fresh_pg_database()
    yield url
    drop()


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    yield s
    s.close()


# -- hand-built records ----------------------------------------------------------------

def span(text_: str, part: str, start: int = 0) -> Span:
    i = text_.index(part, start)
    return Span(start=i, end=i + len(part), text=part)


def mention(text_: str, part: str, kind: str = "name", start: int = 0) -> Mention:
    s = span(text_, part, start)
    return Mention(start=s.start, end=s.end, text=s.text, kind=kind)


def make_record(text_: str, ents: list[tuple[str, str, str, list[str], str | None]],
                published: date | None = None, source: str | None = None,
                doc_id: str | None = None, statements_: list[dict] | None = None,
                quantities_: list[dict] | None = None, events_: list[dict] | None = None
                ) -> Record:
    """ents: (local id, canonical name, type, mention texts ('~' prefix = adjectival), iso)."""
    entities_ = []
    for eid, name, typ, mentions, iso in ents:
        ms = []
        for m in mentions:
            kind = "adjectival" if m.startswith("~") else "name"
            ms.append(mention(text_, m.lstrip("~"), kind))
        entities_.append(Entity(id=eid, name=name, type=typ, mentions=ms,
                                links=EntityLinks(iso3166=iso)))
    sts = [Statement(id=s["id"], kind=s.get("kind", "indirect"), speaker=s.get("speaker"),
                     speaker_span=span(text_, s["speaker_text"]) if s.get("speaker_text") else None,
                     cue=span(text_, s["cue"]) if s.get("cue") else None,
                     content=span(text_, s["content"]), mood=s.get("mood", "indicative"))
           for s in statements_ or []]
    qs = [Quantity(id=q["id"], span=span(text_, q["text"]), value=q.get("value"),
                   low=q.get("low"), high=q.get("high"), approximate=q.get("approximate"),
                   unit=q.get("unit"), quantifies=q.get("quantifies"), source=q.get("source"),
                   statement=q.get("statement"))
          for q in quantities_ or []]
    evs = [Event(id=e["id"], type=e["type"], trigger=span(text_, e["trigger"]),
                 actor=e.get("actor"), target=e.get("target"),
                 modality=e.get("modality", "actual"))
           for e in events_ or []]
    doc = Document(id=doc_id or content_id(text_), text=text_, published=published,
                   source=source)
    return Record(document=doc, entities=entities_, statements=sts, quantities=qs, events=evs)


TEXT1 = ("Wladimir Putin sagte, Russland brauche mehr Soldaten. Die russischen Truppen "
         "seien erschöpft.")
TEXT2 = ("Putin drohte dem Westen. Laut Kreml stehen 5.000 Soldaten an der Grenze zur "
         "Ukraine. Putins Sprecher schwieg.")
TEXT3 = "Die Russen und das Pentagon: Washington und die USA reagierten gelassen."


def rec1() -> Record:
    return make_record(
        TEXT1, [("e1", "Wladimir Putin", "PER", ["Wladimir Putin"], None),
                ("e2", "Russland", "GPE", ["Russland", "~russischen"], "RU")],
        published=date(2024, 10, 1), source="Blatt A",
        statements_=[{"id": "s1", "speaker": "e1", "speaker_text": "Wladimir Putin",
                      "cue": "sagte", "content": "Russland brauche mehr Soldaten",
                      "mood": "subjunctive"}])


def rec2() -> Record:
    return make_record(
        TEXT2, [("e1", "Putin", "PER", ["Putin", "Putins"], None),
                ("e2", "Kreml", "ORG", ["Kreml"], None),
                ("e3", "Ukraine", "GPE", ["Ukraine"], "UA")],
        published=date(2024, 10, 5), source="Blatt B",
        statements_=[{"id": "s1", "kind": "according_to", "speaker": "e2",
                      "speaker_text": "Kreml", "cue": "Laut",
                      "content": "stehen 5.000 Soldaten an der Grenze zur Ukraine"}],
        quantities_=[{"id": "q1", "text": "5.000 Soldaten", "value": 5000, "unit": "Soldaten",
                      "source": "e2", "statement": "s1"}],
        events_=[{"id": "v1", "type": "THREATEN", "trigger": "drohte", "actor": "e1"}])


def rec3() -> Record:
    return make_record(
        TEXT3, [("e1", "Russland", "GPE", ["~Russen"], "RU"),
                ("e2", "Pentagon", "ORG", ["Pentagon"], "US"),
                ("e3", "USA", "GPE", ["Washington", "USA"], "US")])


def add(store: Store, record: Record, ref: str | None = None):
    return store.add_record(record, content_id(record.document.text), ref)


def count(store: Store, table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


# -- schema and migrations -------------------------------------------------------------

def test_open_migrates_to_head_and_reopen_is_cheap(db_url):
    s = Store(db_url)
    with s.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() \
            == HEAD_REVISION
    s.close()
    s2 = Store(db_url)  # at head: no Alembic run, data kept
    assert s2.count() == 0
    s2.close()


def test_migrations_create_exactly_the_declared_schema(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def include(obj, name, type_, reflected, compare_to):
        # full-text machinery is dialect-specific DDL outside the portable metadata
        return not (name and (name.endswith("_fts") or "_fts_" in name or name == "tsv"
                              or name.startswith("ix_") and name.endswith("_tsv")))

    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": include,
                                                     "compare_type": False})
        diff = compare_metadata(ctx, metadata)
    assert diff == []


def test_to_url():
    assert to_url("postgresql://u@h:5/db") == "postgresql+psycopg://u@h:5/db"
    assert to_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert to_url("x.db").startswith("sqlite:////")
    assert to_url("sqlite:///rel.db") == "sqlite:///rel.db"


# -- writes ----------------------------------------------------------------------------

def test_add_record_writes_everything_and_readd_is_a_noop(store):
    r = rec1()
    res = add(store, r, "a.txt")
    assert res.status == "added"
    assert count(store, documents) == 1 and count(store, statements) == 1
    assert count(store, doc_entities) == 2
    again = add(store, r, "copy-of-a.txt")
    assert again.status == "exists"
    assert count(store, documents) == 1 and count(store, statements) == 1
    with store.engine.connect() as conn:
        stored = conn.execute(select(documents.c.record)).scalar()
        about = conn.execute(select(entities.c.name).join(
            statement_about, statement_about.c.entity_id == entities.c.id)).scalars().all()
    assert Record.model_validate_json(stored) == r
    assert about == ["Russland"]  # speaker excluded from what the statement is about


def test_duplicate_id_with_other_content_is_refused_and_writes_nothing(store):
    add(store, make_record(TEXT1, [], doc_id="artikel-1"))
    with pytest.raises(DuplicateIdError, match="artikel-1"):
        add(store, make_record(TEXT2, [("e1", "Putin", "PER", ["Putin"], None)],
                               doc_id="artikel-1"))
    assert count(store, documents) == 1 and count(store, entities) == 0


def test_failed_write_rolls_back_document_and_identity_cache(store):
    bad = make_record(TEXT2, [("e1", "Putin", "PER", ["Putin"], None)],
                      statements_=[{"id": "s1", "content": "Putin drohte"},
                                   {"id": "s1", "content": "Putins Sprecher"}])  # same id
    with pytest.raises(Exception):  # noqa: B017 - the driver's IntegrityError
        add(store, bad)
    assert count(store, documents) == 0 and count(store, entities) == 0
    add(store, rec2())  # the entity the failed write created must not linger in the cache
    assert count(store, entities) == 3


def test_failures_one_row_per_input_and_cleared_by_success(store):
    store.add_failure("a.txt", "encoding", "not UTF-8")
    store.add_failure("a.txt", "encoding", "still not UTF-8")
    [row] = store.failures()
    assert row["attempts"] == 2 and row["message"] == "still not UTF-8"
    add(store, rec1(), "a.txt")
    assert store.failures() == []


# -- cross-article identity ------------------------------------------------------------

def corpus_id(store: Store, doc_text: str, local: str) -> str:
    with store.engine.connect() as conn:
        return conn.execute(select(doc_entities.c.entity_id).where(
            doc_entities.c.doc_id == content_id(doc_text),
            doc_entities.c.local_id == local)).scalar()


def test_identity_across_articles(store):
    for r in (rec1(), rec2(), rec3()):
        add(store, r)
    putin = corpus_id(store, TEXT1, "e1")
    assert corpus_id(store, TEXT2, "e1") == putin  # bare surname joins the full name
    russia = corpus_id(store, TEXT1, "e2")
    assert corpus_id(store, TEXT3, "e1") == russia  # demonym-only article, via ISO code
    usa = corpus_id(store, TEXT3, "e3")
    assert corpus_id(store, TEXT3, "e2") != usa  # the Pentagon is not the United States
    assert store.resolve_name("Russen") == [russia]
    assert store.resolve_name("Putins") == [putin]
    assert store.resolve_name("RU") == [russia]
    assert store.resolve_name(putin) == [putin]


def test_bare_name_first_then_full_name_and_ambiguous_surnames(store):
    t1 = "Scholz warnte am Montag vor Eile."
    t2 = "Olaf Scholz sprach in Berlin."
    t3 = "Anna Scholz gewann das Rennen."
    t4 = "Scholz blieb dabei."
    for t, name in ((t1, "Scholz"), (t2, "Olaf Scholz"), (t3, "Anna Scholz"), (t4, "Scholz")):
        add(store, make_record(t, [("e1", name, "PER", [name], None)]))
    olaf = corpus_id(store, t2, "e1")
    assert corpus_id(store, t1, "e1") == olaf  # "Olaf Scholz" adopted the earlier bare name
    assert corpus_id(store, t3, "e1") != olaf  # a different first name is a different person
    assert corpus_id(store, t4, "e1") not in (olaf, corpus_id(store, t3, "e1"))  # ambiguous
    with store.engine.connect() as conn:
        name = conn.execute(select(entities.c.name).where(entities.c.id == olaf)).scalar()
    assert name == "Olaf Scholz"


def test_ids_are_stable_across_stores(tmp_path):
    ids = []
    for n in (1, 2):
        s = Store(tmp_path / f"s{n}.db")
        for r in (rec1(), rec2(), rec3()):
            add(s, r)
        with s.engine.connect() as conn:
            ids.append(sorted(conn.execute(select(entities.c.id, entities.c.name)).all()))
        s.close()
    assert ids[0] == ids[1]


def test_quantity_about_and_what_key(store):
    add(store, rec2())
    with store.engine.connect() as conn:
        about = conn.execute(select(entities.c.name).join(
            quantity_about, quantity_about.c.entity_id == entities.c.id)).scalars().all()
    assert about == ["Ukraine"]  # same sentence; the source (Kreml) and Putin's sentence not
    assert what_key("Soldaten", "nordkoreanische Soldaten") == "soldat"
    assert what_key("Prozent", "der Stimmen") == "prozent stimme"
    assert norm("  Kim\u2011Jong\u2013un’s ") == "kim-jong-un's"
