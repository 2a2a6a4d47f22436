"""Readers for ingest: every format yields documents or per-item errors, never an exception.

All article texts here are invented for the tests.
"""

from __future__ import annotations

import gzip
import io
import json
from datetime import date
from pathlib import Path

import pytest

from lagebild.sources import (
    Options,
    csv_dialect,
    estimate_count,
    html_fragment_text,
    iter_file,
    iter_items,
    split_header,
)

ART_A = ("Der Gemeinderat von Talheim hat am Dienstag einen neuen Radweg beschlossen. "
         "Bürgermeisterin Vera Lind sagte, die Arbeiten sollen im Frühjahr beginnen. "
         "Die Kosten liegen nach Angaben der Verwaltung bei rund 400.000 Euro.")
ART_B = ("In Bergdorf ist die alte Brücke über den Mühlbach gesperrt worden. Ein Gutachter "
         "hatte Risse in den Pfeilern entdeckt, wie die Stadt mitteilte. Eine Umleitung "
         "führt über die Landstraße, die Sperrung dauert voraussichtlich drei Monate.")
ART_C = ("Die Feuerwehr von Seedorf hat bei einer Übung den Ernstfall geprobt. Mehr als "
         "sechzig Einsatzkräfte waren nach Angaben des Kommandanten beteiligt. Die Übung "
         "dauerte bis in den späten Abend, am Ende zog die Leitung eine positive Bilanz.")


def items(path: Path, **kw) -> list:
    return list(iter_file(path, Options(**kw)))


# -- text files ------------------------------------------------------------------------

def test_text_file_with_metadata_header(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text(f"Titel: Neuer Radweg\nDatum: 03.02.2025\nQuelle: Talbote\n\n{ART_A}\n",
                 encoding="utf-8")
    [item] = items(p)
    doc = item.document
    assert item.error is None and doc is not None
    assert doc.title == "Neuer Radweg"
    assert doc.published == date(2025, 2, 3)
    assert doc.source == "Talbote"
    assert doc.text.startswith("Der Gemeinderat")  # offsets are into the body only


def test_split_header_leaves_articles_alone():
    text = "Berlin: Die Koalition streitet weiter.\n\nMehr Text folgt."
    assert split_header(text) == ({}, text)
    meta, body = split_header("Datum: 2024-01-02\nURL: https://example.invalid/x\n\nText")
    assert meta == {"published": "2024-01-02", "url": "https://example.invalid/x"}
    assert body == "Text"


def test_folder_recursive_sorted_skips_hidden_and_markdown(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.txt").write_text(ART_B, encoding="utf-8")
    (tmp_path / "1.txt").write_text(ART_A, encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text(ART_C, encoding="utf-8")
    (tmp_path / "README.md").write_text("# notes", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    got = list(iter_items([tmp_path]))
    assert [Path(i.input).name for i in got] == ["1.txt", "2.txt"]
    assert all(i.document for i in got)
    assert estimate_count([tmp_path]) == 2


def test_missing_path_is_an_item_error(tmp_path):
    [item] = list(iter_items([tmp_path / "nope.txt"]))
    assert item.error is not None and item.error.reason == "unreadable"


# -- JSON Lines / JSON -----------------------------------------------------------------

def test_jsonl_good_bad_and_blank_lines(tmp_path):
    p = tmp_path / "dump.jsonl"
    lines = [
        json.dumps({"text": ART_A, "title": "Radweg", "published": "2025-02-03T08:00:00Z",
                    "url": "https://example.invalid/a", "source": "Talbote", "id": "a-1"}),
        "",
        "{not json",
        json.dumps({"title": "ohne Text"}),
        json.dumps({"text": ART_B}),
        json.dumps({"text": "   "}),
    ]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = items(p)
    assert [i.input.rsplit(":", 1)[1] for i in got] == ["1", "3", "4", "5", "6"]
    first = got[0].document
    assert first.id == "a-1" and first.source == "Talbote" and first.published == date(2025, 2, 3)
    assert [i.error.reason for i in got if i.error] == ["malformed", "malformed", "empty"]
    assert "not valid JSON" in got[1].error.message
    assert got[3].document.text == ART_B
    assert estimate_count([p]) == 6


def test_jsonl_overlong_line_is_skipped_and_reading_goes_on(tmp_path):
    p = tmp_path / "big.jsonl"
    long_text = "Wort " * 20000  # 100 kB, over the small limit below
    p.write_text(json.dumps({"text": long_text}) + "\n" + json.dumps({"text": ART_C}) + "\n",
                 encoding="utf-8")
    got = items(p, max_bytes=10_000)
    assert got[0].error.reason == "too_large"
    assert got[1].document is not None and got[1].input.endswith(":2")


def test_jsonl_gzip(tmp_path):
    p = tmp_path / "dump.jsonl.gz"
    with gzip.open(p, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"text": ART_A}) + "\n")
    [item] = items(p)
    assert item.document is not None


def test_json_list_and_archive_name_with_date(tmp_path):
    p = tmp_path / "one.json"
    p.write_text(json.dumps({"documentName": "17 - Brücke gesperrt (2019-05-04)",
                             "originalText": ART_B}), encoding="utf-8")
    [item] = items(p)
    assert item.document.published == date(2019, 5, 4)
    assert item.document.title == "17 - Brücke gesperrt"
    q = tmp_path / "many.json"
    q.write_text(json.dumps([{"text": ART_A}, {"text": 5}]), encoding="utf-8")
    got = items(q)
    assert got[0].document and got[1].error.reason == "malformed"
    assert got[1].input.endswith("#2")
    r = tmp_path / "broken.json"
    r.write_text('{"text": "abc"', encoding="utf-8")
    [bad] = items(r)
    assert bad.error.reason == "malformed"


# -- feeds -----------------------------------------------------------------------------

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Talbote</title><link>https://example.invalid</link>
<item><title>Radweg beschlossen</title><link>https://example.invalid/1</link>
<pubDate>Tue, 04 Feb 2025 09:00:00 +0100</pubDate>
<description><![CDATA[<p>{a}</p>]]></description></item>
<item><title>Brücke gesperrt</title><link>https://example.invalid/2</link>
<pubDate>Wed, 05 Feb 2025 10:00:00 +0100</pubDate><description>{b}</description></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Seebote</title>
<id>urn:example:seebote</id><updated>2025-03-01T10:00:00Z</updated>
<entry><title>Übung der Feuerwehr</title><id>urn:example:1</id>
<link href="https://example.invalid/feuerwehr"/><updated>2025-03-01T10:00:00Z</updated>
<content type="html">&lt;p&gt;{c}&lt;/p&gt;</content></entry></feed>"""


def test_rss_and_atom(tmp_path):
    p = tmp_path / "talbote.rss"
    p.write_text(RSS.format(a=ART_A, b=ART_B), encoding="utf-8")
    got = items(p)
    assert [i.document.title for i in got] == ["Radweg beschlossen", "Brücke gesperrt"]
    assert got[0].document.published == date(2025, 2, 4)
    assert got[0].document.source == "Talbote"
    assert got[0].document.url == "https://example.invalid/1"
    assert got[0].document.text == ART_A  # HTML removed
    a = tmp_path / "seebote.atom"
    a.write_text(ATOM.format(c=ART_C), encoding="utf-8")
    [entry] = items(a)
    assert entry.document.text == ART_C and entry.document.source == "Seebote"


def test_malformed_feed_is_a_clear_error(tmp_path):
    p = tmp_path / "broken.xml"
    p.write_text("<rss><channel><title>x</title><item><title>kaputt", encoding="utf-8")
    got = items(p)
    assert got[-1].error is not None and got[-1].error.reason == "malformed"
    assert "feed" in got[-1].error.message
    q = tmp_path / "garbage.rss"
    q.write_text("das ist kein feed", encoding="utf-8")
    [bad] = items(q)
    assert bad.error.reason == "malformed"


def test_feed_with_recoverable_entries_keeps_them_and_records_the_damage(tmp_path):
    p = tmp_path / "half.rss"
    text = RSS.format(a=ART_A, b=ART_B).replace("</channel></rss>", "<item><title>ab")
    p.write_text(text, encoding="utf-8")
    got = items(p)
    docs = [i for i in got if i.document]
    errs = [i for i in got if i.error]
    assert len(docs) >= 1
    assert errs and errs[-1].error.reason == "malformed" and "recovered" in errs[-1].error.message


def test_html_fragment_text_keeps_paragraphs():
    assert html_fragment_text("<p>Eins.</p><p>Zwei &amp; drei.</p>") == "Eins.\nZwei & drei."


# -- WARC ------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html><html lang="de"><head><title>Brücke gesperrt</title>
<meta property="og:site_name" content="Bachbote"></head><body><nav>Start | Lokales</nav>
<article><h1>Brücke gesperrt</h1><p>{b}</p><p>{a}</p><p>{c}</p></article>
<footer>Impressum</footer></body></html>"""


def _warc(path: Path, gz: bool = True) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as fh:
        w = WARCWriter(fh, gzip=gz)
        html = PAGE.format(a=ART_A, b=ART_B, c=ART_C).encode("utf-8")
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                protocol="HTTP/1.1")
        w.write_record(w.create_warc_record("https://example.invalid/bruecke", "response",
                                            payload=io.BytesIO(html), http_headers=http))
        w.write_record(w.create_warc_record(
            "https://example.invalid/img.png", "response", payload=io.BytesIO(b"\x89PNG"),
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "image/png")],
                                          protocol="HTTP/1.1")))
        w.write_record(w.create_warc_record(
            "urn:text:feuerwehr", "resource", payload=io.BytesIO(ART_C.encode("utf-8")),
            warc_content_type="text/plain; charset=utf-8"))


def test_warc_reads_html_and_text_records(tmp_path):
    p = tmp_path / "crawl.warc.gz"
    _warc(p)
    got = items(p)
    assert len(got) == 2, [i.error for i in got]
    page, plain = got
    assert page.error is None, page.error
    assert "Mühlbach" in page.document.text and page.document.url.endswith("/bruecke")
    assert "Impressum" not in page.document.text
    assert plain.document.text == ART_C
    assert "@" in page.input


def test_truncated_warc_keeps_records_before_the_damage(tmp_path):
    p = tmp_path / "crawl.warc"
    _warc(p, gz=False)
    data = p.read_bytes()
    cut = data.rfind(b"WARC/1") + 300  # inside the last record
    t = tmp_path / "cut.warc"
    t.write_bytes(data[:cut])
    got = items(t)
    assert got[0].document is not None
    assert got[-1].error is not None and got[-1].error.reason in ("truncated", "malformed",
                                                                  "empty")
    g = tmp_path / "cut.warc.gz"
    _warc(g)
    gdata = g.read_bytes()
    (tmp_path / "cut2.warc.gz").write_bytes(gdata[: len(gdata) - 40])
    got = items(tmp_path / "cut2.warc.gz")
    assert got[0].document is not None
    assert got[-1].error is not None and got[-1].error.reason == "truncated"
    assert "truncated" in got[-1].error.message


def test_not_a_warc(tmp_path):
    p = tmp_path / "x.warc"
    p.write_text("hello", encoding="utf-8")
    [bad] = items(p)
    assert bad.error.reason == "malformed" and "not a WARC" in bad.error.message


# -- CSV -------------------------------------------------------------------------------

def test_csv_with_header_and_label_text_dump(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text(f'id,title,published,text\nx1,Radweg,2025-02-03,"{ART_A}"\n'
                 f'x2,Brücke,2025-02-04,"{ART_B}"\n', encoding="utf-8")
    got = items(p)
    assert [i.document.id for i in got] == ["x1", "x2"]
    assert got[1].document.published == date(2025, 2, 4)
    q = tmp_path / "labels.csv"
    q.write_text(f"Lokales;'{ART_A}'\nLokales;'{ART_C}'\n", encoding="utf-8")
    got = items(q)
    assert [i.document.text for i in got] == [ART_A, ART_C]
    assert csv_dialect("Sport;'Text'") == (";", "'")


# -- size limits: never read a huge file -----------------------------------------------

@pytest.mark.parametrize("name", ["huge.txt", "huge.html", "huge.jsonl", "huge.rss",
                                  "huge.csv", "huge.json", "huge.warc"])
def test_one_gigabyte_file_is_refused_without_reading_it(tmp_path, name):
    p = tmp_path / name
    with p.open("wb") as fh:  # sparse: takes no disk space, reads as NUL bytes
        fh.truncate(1_000_000_000)
    got = items(p)
    assert len(got) == 1 and got[0].error is not None
    assert got[0].error.reason in ("too_large", "binary", "malformed")
    assert str(p) in got[0].error.message
