"""Every server-rendered page renders (TestClient), shows what it is for, and turns bad
parameters into an error page with a 4xx status."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from lagebild.web.app import create_app  # noqa: E402
from test_api import TOKEN, make_store  # noqa: E402


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    db: Path = make_store(tmp_path_factory.mktemp("pages") / "pages.db")
    return TestClient(create_app(str(db), token=TOKEN, use_models=False))


def entity_id(client: TestClient, name: str) -> str:
    items = client.get("/api/entities", params={"q": name}).json()["items"]
    return next(e["id"] for e in items if e["name"] == name)


def test_home(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "Manöver an der Grenze" in r.text and "Mara Feld" in r.text
    assert re.search(r"<strong>3</strong> articles", r.text)


def test_documents_page_and_paging(client):
    r = client.get("/documents")
    assert r.status_code == 200
    assert r.text.index("Mehr Soldaten") < r.text.index("Manöver an der Grenze")
    r = client.get("/documents?since=2026-03-05")
    assert "Mehr Soldaten" in r.text and "Manöver an der Grenze" not in r.text


def test_article_page(client):
    r = client.get("/documents/art-a")
    assert r.status_code == 200
    html = r.text
    feld = entity_id(client, "Mara Feld")
    # the quote is highlighted, carries its speaker, and links to the speaker's page
    assert re.search(r'<span class="quote q-direct" data-statement="s1"[^>]*'
                     rf'data-speaker-name="Mara Feld" data-speaker="{feld}">„?Wir werden', html)
    assert f'class="speaker-tag" data-for="s1" href="/entities/{feld}"' in html
    # entities coloured by type and linked; figure with its source; event with modality
    assert re.search(r'<a class="ent ent-GPE" href="/entities/E[0-9a-f]+"[^>]*>Nordland</a>', html)
    assert re.search(r'<span class="fig" id="fig-q1" title="figure: 5\.000 Soldaten '
                     r'\(source: Mara Feld\)">5\.000 Soldaten</span>', html)
    assert 'class="ev mod-planned" id="ev-v1" title="MOBILIZE (planned): Nordland → ?"' in html
    # the figure sits inside the quote (nested, not dropped)
    q = html.index('data-statement="s1"')
    assert q < html.index('id="fig-q1"') < html.index('data-for="s1"')
    # side panel
    assert 'id="panel-statements"' in html and "direct quote" in html
    assert "MOBILIZE" in html and "ACCUSE" in html


def test_article_404(client):
    r = client.get("/documents/does-not-exist")
    assert r.status_code == 404 and "no article" in r.text.lower()


def test_entities_page(client):
    r = client.get("/entities?type=PER&sort=name")
    assert r.status_code == 200
    assert r.text.index("Jonas Brink") < r.text.index("Mara Feld")
    assert "Nordland" not in r.text
    assert client.get("/entities?type=ALIEN").status_code == 400


def test_entity_page(client):
    feld = entity_id(client, "Mara Feld")
    r = client.get(f"/entities/{feld}")
    assert r.status_code == 200
    html = r.text
    assert "Statements by Mara Feld" in html and "Wir werden 5.000 Soldaten" in html
    assert '<svg class="chart"' in html and "2026-03" in html
    nord = entity_id(client, "Nordland")
    r = client.get(f"/entities/{nord}")
    assert "Events with Nordland as actor" in r.text and "MOBILIZE" in r.text
    assert "Events with Nordland as target" in r.text and "ACCUSE" in r.text
    assert "Nordland habe höchstens 3.000 Soldaten verlegt" in r.text  # statement about it
    assert client.get("/entities/E000000000000").status_code == 404


def test_claims_page(client):
    r = client.get("/claims?what=Soldaten")
    assert r.status_code == 200
    html = r.text
    assert 'class="claim disagree"' in html and "disagreement" in html
    assert "Jonas Brink" in html and "Mara Feld" in html
    assert 'class="outlier"' in html  # the figure that cannot agree is marked
    assert html.count("<circle") >= 3  # chart of values over time
    assert client.get("/claims?since=garbage").status_code == 400
    assert client.get("/claims?tolerance=abc").status_code == 400


def test_network_page(client):
    r = client.get("/network")
    assert r.status_code == 200
    assert '<script src="/static/network.js"></script>' in r.text
    data = re.search(r'<script type="application/json" id="network-data">(.*?)</script>',
                     r.text, re.S).group(1)
    assert '"ACCUSE"' in data and "<" not in data
    assert client.get("/network?type=ACCUSE").status_code == 200
    assert client.get("/network?type=KISS").status_code == 400
    assert client.get("/static/network.js").status_code == 200
    assert client.get("/static/lagebild.css").status_code == 200


def test_search_page(client):
    r = client.get("/search?q=Soldaten")
    assert r.status_code == 200 and "Manöver an der Grenze" in r.text
    assert "<mark>Soldaten</mark>" in r.text
    r = client.get("/search?q=Grenze&scope=statements")
    assert r.status_code == 200 and "Mara Feld" in r.text
    assert client.get("/search").status_code == 200
    assert client.get("/search?q=<script>").status_code == 200


def test_analyze_page(client):
    r = client.get("/analyze")
    assert r.status_code == 200 and "<textarea" in r.text
    r = client.post("/analyze", data={"text": "", "published": ""})
    assert r.status_code == 400 and 'role="alert"' in r.text
    text = ("Die Bürgermeisterin Anna Holm sagte am Freitag, die Stadt werde 300 Bäume "
            "pflanzen. Der Gemeinderat stimmte dem Plan nach langer Debatte zu. <script>x</script>")
    r = client.post("/analyze", data={"text": text, "published": "2026-04-03"})
    assert r.status_code == 200, r.text
    assert "analysed now, not stored" in r.text
    assert "<script>x</script>" not in r.text and "&lt;script&gt;x&lt;/script&gt;" in r.text
    assert client.get("/api/stats").json()["documents"] == 3


def test_api_docs_page(client):
    r = client.get("/docs")
    assert r.status_code == 200
    for path in ("/api/statements", "/api/claims", "/api/documents/{doc_id}"):
        assert f"<code>{path}</code>" in r.text
    assert "cdn" not in r.text.lower()


def test_no_external_assets(client):
    """Every page works offline: no asset is loaded from another host."""
    for url in ("/", "/documents", "/documents/art-a", "/entities", "/claims", "/network",
                "/search?q=Grenze", "/analyze", "/docs"):
        html = client.get(url).text
        assert not re.search(r'(src|href)="(https?:)?//', html), url
