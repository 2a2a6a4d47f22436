"""End to end in a real browser: the seed article is ingested into a fresh store, the
server runs on a free loopback port, and the system Chromium (via Playwright) opens the
article, follows Gressel's quote to Gressel's page, and opens the claim tracker and the
actor network. Screenshots go to tests/artifacts/browser/ for a human to look at.

Needs `apt-get install chromium` and `pip install playwright` (never `playwright
install`: it downloads a browser); skips with a message when either or ../shared is
missing.
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
SEED = REPO.parent / "shared" / "seeds" / "000_897bf336ee5c3dea.txt"
GOLD = REPO.parent / "shared" / "gold" / "seed.json"


def _gold_quote_start() -> str:
    """The first words of Gressel's direct quote, read from the gold record (no article text
    is written into the repository)."""
    import json

    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    st = next(s for s in gold["statements"]
              if s.get("speaker") == "Gressel" and s.get("kind") == "direct")
    return " ".join(st["content"]["text"].split()[:3])
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO / "tests" / "artifacts" / "browser"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    pytest.importorskip("fastapi")
    uvicorn = pytest.importorskip("uvicorn")
    if not SEED.is_file():
        pytest.skip(f"seed article not found at {SEED} (../shared is needed for this test)")
    from lagebild.corpus import Corpus
    from lagebild.web.app import create_app

    db = tmp_path_factory.mktemp("browser") / "seed.db"
    with Corpus(db) as corpus:
        stats = corpus.ingest([SEED], progress=False)
    assert stats.added == 1, stats.failures
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(str(db)), host="127.0.0.1", port=port,
                                        log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the web server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def page(server):
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed (pip install playwright)")
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"no system Chromium at {CHROMIUM} (apt-get install chromium)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        pg.lagebild_errors = errors  # type: ignore[attr-defined]
        yield pg
        browser.close()


def test_seed_article_to_gressel_to_claims(server, page):
    page.goto(f"{server}/documents")
    page.locator("ul.docs a").first.click()
    page.wait_for_url(re.compile(r"/documents/[^/]+$"))

    # Gressel's direct quote is highlighted ...
    quote_start = _gold_quote_start()
    quote = page.locator('span.quote[data-speaker-name="Gressel"]').filter(
        has_text=quote_start).first
    quote.wait_for(state="visible")
    bg = quote.evaluate("el => getComputedStyle(el).backgroundColor")
    assert bg not in ("rgba(0, 0, 0, 0)", "transparent"), bg
    # ... and linked to Gressel: the speaker tag after the quote points at his entity page
    stmt_id = quote.get_attribute("data-statement")
    speaker_id = quote.get_attribute("data-speaker")
    assert speaker_id, "the quote's speaker is not linked to a corpus entity"
    tag = page.locator(f'a.speaker-tag[data-for="{stmt_id}"]')
    assert tag.inner_text().strip() == "Gressel"
    assert tag.get_attribute("href") == f"/entities/{speaker_id}"
    # the side panel lists the statement with its speaker
    assert page.locator("#panel-statements a.who", has_text="Gressel").count() >= 1
    quote.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "01_article.png"), full_page=True)

    tag.click()
    page.wait_for_url(f"**/entities/{speaker_id}")
    assert "Gressel" in page.locator("h1").inner_text()
    said = page.locator("#said")
    assert said.get_by_text(quote_start, exact=False).count() >= 1
    # mentions over time: a chart, or a note when the articles carry no date (the seed)
    assert page.get_by_role("heading", name="Mentions over time").count() == 1
    page.screenshot(path=str(ARTIFACTS / "02_entity_gressel.png"), full_page=True)

    page.get_by_role("link", name="Claims", exact=True).click()
    page.wait_for_url("**/claims")
    groups = page.locator("section.claim")
    assert groups.count() >= 1
    soldiers = page.locator('section.claim[data-what="soldat"]')
    assert soldiers.count() == 1
    assert soldiers.get_by_role("link", name="Gressel").count() >= 1  # the figure's source
    page.screenshot(path=str(ARTIFACTS / "03_claims.png"), full_page=True)

    page.get_by_role("link", name="Network", exact=True).click()
    page.wait_for_url("**/network")
    page.wait_for_selector('svg#network[data-ready="1"]')
    assert page.locator("svg#network g.node").count() >= 2
    page.screenshot(path=str(ARTIFACTS / "04_network.png"), full_page=True)

    assert page.lagebild_errors == []  # no script errors, no CSP violations


def test_analyze_page_in_browser(server, page):
    page.goto(f"{server}/analyze")
    page.fill("textarea#text", "Die Ministerin Eva Roth sagte am Montag in Berlin, die "
                               "Regierung werde 2.000 zusätzliche Lehrer einstellen. Die "
                               "Opposition kritisierte den Plan als unzureichend.")
    page.fill('input[name="published"]', "2026-05-04")
    page.get_by_role("button", name="Analyze").click()
    page.wait_for_selector("article#article-text")
    assert "not stored" in page.content()
    assert page.locator("article#article-text .ent").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "05_analyze.png"), full_page=True)
