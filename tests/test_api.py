"""REST API: every endpoint, its filters and paging, bad input, and the safety rules
(token for writes, body limit, no CORS by default, no HTML injection).

The store is filled with hand-built records of invented articles, so the assertions do
not depend on what the NLP layers happen to find; only the analyze/ingest tests run the
(rules-only) pipeline.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from lagebild.corpus import Corpus  # noqa: E402
from lagebild.ingest import content_id  # noqa: E402
from lagebild.schema import (  # noqa: E402
    Document,
    Entity,
    Event,
    Mention,
    Quantity,
    Record,
    Span,
    Statement,
)
from lagebild.web.app import create_app  # noqa: E402

TOKEN = "test-token-123"

# Invented articles (written for these tests).
TEXT_A = ("Die Regierung von Nordland kündigte am Montag neue Manöver an. "
          "„Wir werden 5.000 Soldaten an die Grenze schicken“, sagte Verteidigungsministerin "
          "Mara Feld. Südland warf Nordland daraufhin Provokation vor.")
TEXT_B = ("Laut Mara Feld sind inzwischen 8.000 Soldaten an der Grenze. Der Analyst Jonas Brink "
          "sagte, Nordland habe höchstens 3.000 Soldaten verlegt. Südland drohte mit Sanktionen.")
TEXT_X = ("Ein Leser schrieb <script>alert('x')</script> in einen Kommentar. "
          "„<b>fett</b> & <img src=x onerror=alert(1)>“, sagte Mara Feld.")


def _sp(text: str, needle: str, nth: int = 0) -> Span:
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    return Span(start=start, end=start + len(needle), text=needle)


def _mention(text: str, needle: str, nth: int = 0) -> Mention:
    s = _sp(text, needle, nth)
    return Mention(start=s.start, end=s.end, text=s.text)


def record_a() -> Record:
    t = TEXT_A
    return Record(
        document=Document(id="art-a", title="Manöver an der Grenze", published=date(2026, 3, 2),
                          text=t, source="Testblatt"),
        entities=[
            Entity(id="e1", name="Nordland", type="GPE",
                   mentions=[_mention(t, "Nordland"), _mention(t, "Nordland", 1)]),
            Entity(id="e2", name="Mara Feld", type="PER", mentions=[_mention(t, "Mara Feld")]),
            Entity(id="e3", name="Südland", type="GPE", mentions=[_mention(t, "Südland")]),
        ],
        statements=[Statement(id="s1", kind="direct", speaker="e2",
                              speaker_span=_sp(t, "Mara Feld"), cue=_sp(t, "sagte"),
                              content=_sp(t, "Wir werden 5.000 Soldaten an die Grenze schicken"))],
        quantities=[Quantity(id="q1", span=_sp(t, "5.000 Soldaten"), value=5000,
                             quantifies="Soldaten", source="e2", statement="s1")],
        events=[Event(id="v1", type="MOBILIZE", trigger=_sp(t, "schicken"), actor="e1",
                      modality="planned", source="e2", statement="s1"),
                Event(id="v2", type="ACCUSE", trigger=_sp(t, "warf"), actor="e3", target="e1")],
    )


def record_b() -> Record:
    t = TEXT_B
    return Record(
        document=Document(id="art-b", title="Mehr Soldaten", published=date(2026, 3, 9),
                          text=t, source="Abendpost"),
        entities=[
            Entity(id="e1", name="Mara Feld", type="PER", mentions=[_mention(t, "Mara Feld")]),
            Entity(id="e2", name="Jonas Brink", type="PER", mentions=[_mention(t, "Jonas Brink")]),
            Entity(id="e3", name="Nordland", type="GPE", mentions=[_mention(t, "Nordland")]),
            Entity(id="e4", name="Südland", type="GPE", mentions=[_mention(t, "Südland")]),
        ],
        statements=[
            Statement(id="s1", kind="according_to", speaker="e1",
                      speaker_span=_sp(t, "Mara Feld"), cue=_sp(t, "Laut"),
                      content=_sp(t, "sind inzwischen 8.000 Soldaten an der Grenze")),
            Statement(id="s2", kind="indirect", speaker="e2", mood="subjunctive",
                      speaker_span=_sp(t, "Jonas Brink"), cue=_sp(t, "sagte"),
                      content=_sp(t, "Nordland habe höchstens 3.000 Soldaten verlegt")),
        ],
        quantities=[
            Quantity(id="q1", span=_sp(t, "8.000 Soldaten"), value=8000, quantifies="Soldaten",
                     source="e1", statement="s1"),
            Quantity(id="q2", span=_sp(t, "höchstens 3.000 Soldaten"), value=3000,
                     approximate="höchstens", quantifies="Soldaten", source="e2",
                     statement="s2"),
        ],
        events=[Event(id="v1", type="THREATEN", trigger=_sp(t, "drohte"), actor="e4",
                      modality="threatened")],
    )


def record_x() -> Record:
    t = TEXT_X
    return Record(
        document=Document(id="art-x", title="<i>Titel</i> mit Markup", published=None, text=t,
                          url="javascript:alert(1)"),
        entities=[Entity(id="e1", name="Mara Feld", type="PER", mentions=[_mention(t, "Mara Feld")])],
        statements=[Statement(id="s1", kind="direct", speaker="e1",
                              speaker_span=_sp(t, "Mara Feld"),
                              content=_sp(t, "<b>fett</b> & <img src=x onerror=alert(1)>"))],
    )


def make_store(path: Path | str) -> Path | str:
    """A small store of invented articles (used by the page tests too)."""
    with Corpus(path) as corpus:
        for rec in (record_a(), record_b(), record_x()):
            assert not rec.check_offsets()
            corpus.store.add_record(rec, content_id(rec.document.text), f"test:{rec.document.id}")
    return path


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db(request, tmp_path_factory) -> Iterator[str]:
    """The same tests on SQLite and, where `$LAGEBILD_TEST_PG_URL` names a server (CI
    starts one), on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield str(make_store(tmp_path_factory.mktemp("web") / "web.db"))
        return
    base = os.environ.get("LAGEBILD_TEST_PG_URL")
    if not base:
        pytest.skip("PostgreSQL variant: set LAGEBILD_TEST_PG_URL (CI does)")
    from sqlalchemy import create_engine, text

    from lagebild.store import to_url

    name = "lbweb_" + uuid.uuid4().hex[:10]
    admin = create_engine(to_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = to_url(base).rsplit("/", 1)[0] + "/" + name
    try:
        yield str(make_store(url))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(scope="module")
def client(db) -> TestClient:
    return TestClient(create_app(str(db), token=TOKEN, use_models=False))


def ids_of(resp) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [it["id"] for it in resp.json()["items"]]


# -- reads --------------------------------------------------------------------------------

def test_documents_list_filters_and_paging(client):
    assert ids_of(client.get("/api/documents")) == ["art-b", "art-a", "art-x"]  # newest first
    assert ids_of(client.get("/api/documents?since=2026-03-05")) == ["art-b"]
    assert ids_of(client.get("/api/documents?until=2026-03-05")) == ["art-a"]
    assert ids_of(client.get("/api/documents?entity=Jonas Brink")) == ["art-b"]
    assert ids_of(client.get("/api/documents?source=Testblatt")) == ["art-a"]
    assert ids_of(client.get("/api/documents?entity=Niemand")) == []  # unknown name: nothing
    seen, cursor = [], None
    while True:
        r = client.get("/api/documents", params={"limit": 1, **({"cursor": cursor} if cursor else {})})
        seen += ids_of(r)
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == ["art-b", "art-a", "art-x"]


def test_document_detail(client):
    r = client.get("/api/documents/art-a")
    assert r.status_code == 200
    body = r.json()
    assert body["record"]["document"]["text"] == TEXT_A
    assert Record.model_validate(body["record"]).check_offsets() == []
    assert set(body["entity_ids"]) == {"e1", "e2", "e3"}
    assert all(v.startswith("E") for v in body["entity_ids"].values())
    r = client.get("/api/documents/nope")
    assert r.status_code == 404 and "nope" in r.json()["detail"]


def test_entities_list_and_profile(client):
    r = client.get("/api/entities")
    items = r.json()["items"]
    by_name = {e["name"]: e for e in items}
    assert by_name["Mara Feld"]["n_docs"] == 3 and by_name["Mara Feld"]["type"] == "PER"
    assert [e["n_docs"] for e in items] == sorted((e["n_docs"] for e in items), reverse=True)
    names = [e["name"] for e in client.get("/api/entities?sort=name").json()["items"]]
    assert names == sorted(names)
    assert [e["name"] for e in client.get("/api/entities?type=PER&q=brink").json()["items"]] \
        == ["Jonas Brink"]
    # paging by name visits every entity once
    seen, cursor = [], None
    while True:
        r = client.get("/api/entities", params={"sort": "name", "limit": 2,
                                                **({"cursor": cursor} if cursor else {})})
        seen += [e["name"] for e in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert seen == names
    eid = by_name["Mara Feld"]["id"]
    prof = client.get(f"/api/entities/{eid}").json()
    assert prof["name"] == "Mara Feld" and prof["n_docs"] == 3
    assert prof["roles"]["speaker"] == 3
    assert {m["month"] for m in prof["mentions_over_time"]} == {"2026-03", "undated"}
    assert client.get("/api/entities/E000000000000").status_code == 404


def test_statements_filters(client):
    r = client.get("/api/statements?speaker=Mara Feld")
    rows = r.json()["items"]
    assert [(s["doc_id"], s["id"]) for s in rows] == [("art-b", "s1"), ("art-a", "s1"),
                                                     ("art-x", "s1")]
    assert rows[0]["speaker"] == "Mara Feld" and rows[0]["kind"] == "according_to"
    assert ids_of(client.get("/api/statements?kind=indirect")) == ["s2"]
    assert ids_of(client.get("/api/statements?mood=subjunctive")) == ["s2"]
    assert ids_of(client.get("/api/statements?entity=Nordland")) == ["s2"]  # about Nordland
    assert ids_of(client.get("/api/statements?speaker=Mara Feld&since=2026-03-03")) == ["s1"]
    assert ids_of(client.get("/api/statements?doc_id=art-a")) == ["s1"]
    first = client.get("/api/statements?limit=2").json()
    rest = client.get("/api/statements", params={"limit": 2, "cursor": first["next_cursor"]})
    assert len(first["items"]) == 2 and len(rest.json()["items"]) == 2
    assert rest.json()["next_cursor"] is None


def test_events_filters(client):
    assert ids_of(client.get("/api/events?type=ACCUSE")) == ["v2"]
    rows = client.get("/api/events?actor=Nordland").json()["items"]
    assert [(e["type"], e["modality"]) for e in rows] == [("MOBILIZE", "planned")]
    assert rows[0]["source"] == "Mara Feld"
    assert ids_of(client.get("/api/events?target=Nordland")) == ["v2"]
    assert sorted(ids_of(client.get("/api/events?entity=Südland"))) == ["v1", "v2"]
    assert ids_of(client.get("/api/events?modality=threatened")) == ["v1"]
    assert ids_of(client.get("/api/events?since=2026-03-05&type=THREATEN")) == ["v1"]


def test_claims_disagreement(client):
    r = client.get("/api/claims?what=Soldaten")
    assert r.status_code == 200
    (group,) = r.json()["items"]
    assert group["n_docs"] == 2 and group["n_figures"] == 3
    assert group["disagreement"] is True  # 8.000 vs "höchstens 3.000"
    assert {f["source"] for f in group["figures"]} == {"Mara Feld", "Jonas Brink"}
    assert client.get("/api/claims?what=Soldaten&entity=Niemand").json()["items"] == []
    assert client.get("/api/claims?what=Soldaten&until=2026-03-05").json()["items"][0][
        "disagreement"] is False


def test_search_and_network_and_stats(client):
    hits = client.get("/api/search?q=Soldaten").json()["items"]
    assert {h["doc_id"] for h in hits} == {"art-a", "art-b"}
    hits = client.get("/api/search?q=Grenze&scope=statements").json()["items"]
    assert {h["doc_id"] for h in hits} == {"art-a", "art-b"}
    page1 = client.get("/api/search?q=Soldaten&limit=1").json()
    page2 = client.get("/api/search", params={"q": "Soldaten", "limit": 1,
                                              "cursor": page1["next_cursor"]}).json()
    assert {page1["items"][0]["doc_id"], page2["items"][0]["doc_id"]} == {"art-a", "art-b"}
    net = client.get("/api/network").json()
    rels = {e["relation"] for e in net["edges"]}
    assert {"ACCUSE", "STATEMENT"} <= rels
    assert {e["relation"] for e in client.get("/api/network?type=ACCUSE").json()["edges"]} \
        == {"ACCUSE"}
    assert client.get("/api/stats").json()["documents"] == 3


# -- bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize("url,status,needle", [
    ("/api/documents?cursor=not-a-cursor", 400, "cursor"),
    ("/api/documents?since=2026-13-01", 422, "since"),
    ("/api/documents?since=2026-03-09&until=2026-03-01", 400, "after"),
    ("/api/documents?limit=0", 422, "limit"),
    ("/api/documents?limit=100000", 422, "limit"),
    ("/api/entities?type=PERSON", 422, "type"),
    ("/api/statements?kind=shouted", 422, "kind"),
    ("/api/events?type=INVADE", 422, "type"),
    ("/api/events?modality=maybe", 422, "modality"),
    ("/api/claims?tolerance=-1", 422, "tolerance"),
    ("/api/claims?cursor=abc", 400, "cursor"),
    ("/api/search", 422, "q"),
    ("/api/search?q=x&scope=everything", 422, "scope"),
    ("/api/network?type=HUG", 400, "relation"),
    ("/api/nothing-here", 404, "Not Found"),
])
def test_bad_input_is_a_clear_4xx(client, url, status, needle):
    r = client.get(url)
    assert r.status_code == status, r.text
    assert needle.lower() in r.text.lower()


def test_cursor_of_another_list_is_rejected(client):
    cur = client.get("/api/documents?limit=1").json()["next_cursor"]
    r = client.get("/api/statements", params={"cursor": cur})
    assert r.status_code == 400 and "does not belong" in r.json()["detail"]


def test_search_query_syntax_never_500(client):
    for q in ['"', "NOT", "a OR", "(((", "*", "Soldat*", 'x" OR "y', "^:", "\u00a0"]:
        r = client.get("/api/search", params={"q": q})
        assert r.status_code in (200, 400), (q, r.text)


# -- writes, limits, safety ---------------------------------------------------------------

NEW_TEXT = ("Der Bürgermeister von Kleinstadt sagte am Dienstag, die Stadt werde 200 neue "
            "Wohnungen bauen. Die Opposition kritisierte den Plan scharf und forderte mehr "
            "Geld für die Schulen der Gemeinde.")


def test_ingest_needs_token(db):
    client = TestClient(create_app(str(db), token=TOKEN, use_models=False))
    body = {"text": NEW_TEXT, "id": "neu-1"}
    r = client.post("/api/documents", json=body)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = client.post("/api/documents", json=body, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    readonly = TestClient(create_app(str(db), token="", use_models=False))
    r = readonly.post("/api/documents", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 403 and "read-only" in r.json()["detail"]


def test_ingest_and_analyze_with_pipeline(tmp_path):
    path = make_store(tmp_path / "w.db")
    client = TestClient(create_app(str(path), token=TOKEN, use_models=False))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = client.post("/api/documents", json={"text": NEW_TEXT, "id": "neu-1",
                                            "published": "2026-03-10", "source": "Lokal"},
                    headers=auth)
    assert r.status_code == 201, r.text
    assert r.json() == {"id": "neu-1", "status": "added"}
    assert r.headers["location"] == "/api/documents/neu-1"
    assert client.get("/api/documents/neu-1").json()["record"]["document"]["source"] == "Lokal"
    r = client.post("/api/documents", json={"text": NEW_TEXT}, headers=auth)
    assert r.status_code == 200 and r.json()["status"] == "exists"
    r = client.post("/api/documents", json={"text": NEW_TEXT + " Ein Satz mehr.", "id": "neu-1"},
                    headers=auth)
    assert r.status_code == 409
    assert client.get("/api/stats").json()["documents"] == 4
    # analyze: a record back, nothing stored
    r = client.post("/api/analyze", json={"text": NEW_TEXT + " Noch ein Satz.",
                                          "published": "2026-03-10"})
    assert r.status_code == 200, r.text
    rec = Record.model_validate(r.json())
    assert rec.check_offsets() == []
    assert rec.document.published == date(2026, 3, 10)
    assert client.get("/api/stats").json()["documents"] == 4


@pytest.mark.parametrize("body,status,needle", [
    ({}, 422, "exactly one"),
    ({"text": "x", "html": "<p>x</p>"}, 422, "exactly one"),
    ({"text": "   "}, 422, "empty"),
    ({"text": "This is plainly an English text about nothing in particular, written to see "
              "whether the language check rejects it before any analysis is done at all, "
              "which it should because the pipeline only reads German news."}, 422, "german"),
    ({"text": "Hallo", "published": "gestern"}, 422, "published"),
    ({"text": "Hallo", "extra": 1}, 422, "extra"),
])
def test_analyze_bad_input(client, body, status, needle):
    r = client.post("/api/analyze", json=body)
    assert r.status_code == status, r.text
    assert needle in r.text.lower()


def test_analyze_rejects_non_json(client):
    r = client.post("/api/analyze", content=b"plain text", headers={"Content-Type": "text/plain"})
    assert r.status_code == 422


def test_request_size_limit(db):
    client = TestClient(create_app(str(db), token=TOKEN, use_models=False, max_body=10_000))
    big = {"text": "Wort " * 5000}
    r = client.post("/api/analyze", json=big)
    assert r.status_code == 413 and "limit" in r.json()["detail"]

    def chunks():  # no Content-Length: counted while streaming
        for _ in range(20):
            yield b"x" * 1000

    r = client.post("/api/analyze", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_analysis_timeout_and_busy(db, monkeypatch):
    import time

    import lagebild.pipeline as pipeline

    def slow(document, use_models=True):
        time.sleep(1.0)
        raise AssertionError("should have timed out")

    monkeypatch.setattr(pipeline, "analyze_document", slow)
    app = create_app(str(db), token=TOKEN, use_models=False, analyze_timeout=0.2)
    r = TestClient(app).post("/api/analyze", json={"text": NEW_TEXT})
    assert r.status_code == 504 and "longer than" in r.json()["detail"]
    app.state.ctx.running = app.state.ctx.max_analyses  # all slots taken
    r = TestClient(app).post("/api/analyze", json={"text": NEW_TEXT})
    assert r.status_code == 503 and r.headers["retry-after"]
    time.sleep(1.0)  # let the abandoned analysis finish before monkeypatch is undone


def test_cors_off_by_default(client, db):
    r = client.get("/api/documents", headers={"Origin": "https://evil.example"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    r = client.options("/api/documents", headers={"Origin": "https://evil.example",
                                                  "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in r.headers
    allowed = TestClient(create_app(str(db), cors_origins=["https://ok.example"],
                                    use_models=False))
    r = allowed.get("/api/documents", headers={"Origin": "https://ok.example"})
    assert r.headers["access-control-allow-origin"] == "https://ok.example"


def test_security_headers(client):
    r = client.get("/api/documents")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_html_injection_is_escaped(client):
    r = client.get("/documents/art-x")
    assert r.status_code == 200
    html = r.text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "<b>fett</b>" not in html
    assert "&lt;b&gt;fett&lt;/b&gt; &amp; &lt;img src=x onerror=alert(1)&gt;" in html
    assert "<i>Titel</i>" not in html and "&lt;i&gt;Titel&lt;/i&gt;" in html
    assert 'href="javascript:' not in html
    # the only script tags are the app's own
    assert re.findall(r"<script\b[^>]*>", html) == []
    # JSON API returns the text verbatim, as data
    assert client.get("/api/documents/art-x").json()["record"]["document"]["text"] == TEXT_X


def test_openapi_lists_every_endpoint(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for p in ["/api/analyze", "/api/documents", "/api/documents/{doc_id}", "/api/entities",
              "/api/entities/{entity_id}", "/api/statements", "/api/claims", "/api/events",
              "/api/search"]:
        assert p in paths, p
    assert "post" in paths["/api/documents"] and "get" in paths["/api/documents"]
    assert not any(p.startswith("/documents") for p in paths)  # pages are not API


def test_response_cache_follows_the_corpus(tmp_path):
    """Cached answers are reused, and dropped as soon as the corpus changes - through this
    server (at once) or through another process writing the store (within recheck_s)."""
    import time

    path = make_store(tmp_path / "c.db")
    app = create_app(str(path), token=TOKEN, use_models=False)
    client = TestClient(app)
    first = client.get("/api/documents")
    assert first.headers["x-cache"] == "miss"
    again = client.get("/api/documents")
    assert again.headers["x-cache"] == "hit" and again.json() == first.json()
    assert "content-security-policy" in again.headers
    # another writer (e.g. `lagebild ingest`) adds an article to the same store
    rec = record_a().model_copy(deep=True)
    rec.document = rec.document.model_copy(update={"id": "art-c", "text": TEXT_A + " Ende."})
    with Corpus(path) as other:
        other.store.add_record(rec, content_id(rec.document.text), "other")
    time.sleep(app.state.ctx.recheck_s + 0.1)
    fresh = client.get("/api/documents")
    assert fresh.headers["x-cache"] == "miss"
    assert "art-c" in [d["id"] for d in fresh.json()["items"]]
    assert client.get("/api/stats").json()["documents"] == 4
    off = TestClient(create_app(str(path), use_models=False, response_cache=False))
    assert "x-cache" not in off.get("/api/documents").headers
