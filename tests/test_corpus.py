"""Corpus ingest and queries, on SQLite and PostgreSQL (fixtures from test_store).

Unit tests build records by hand; the claim test and the kill -9 test run the real
pipeline. Article texts are invented for the tests (examples/corpus, generated ones
below); the seed article is read from ../shared.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest

from lagebild.cli import main
from lagebild.corpus import Corpus, _fts5_query
from lagebild.schema import Record
from test_store import (  # noqa: F401 - fixtures are used by name
    db_url,
    make_record,
    store,
)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEED = SHARED / "seeds" / "000_897bf336ee5c3dea.txt"

T_A = ("Nach Angaben des Geheimdienstes hat Nordkorea 1.500 Soldaten nach Russland verlegt. "
       "Das Pentagon schwieg.")
T_B = "Laut Pentagon sind rund 3.000 nordkoreanische Soldaten in Russland. Die NATO warnte."
T_C = ("Der NATO zufolge hat Nordkorea mehr als 10.000 Soldaten geschickt. Russland "
       "bedrohte die Ukraine.")
T_D = "„Es sind 11.000 Soldaten aus Nordkorea“, sagte Olena Beispiel. Russland schwieg."


def claim_records() -> list[Record]:
    nk = ("x1", "Nordkorea", "GPE", ["Nordkorea"], "KP")
    ru = ("x2", "Russland", "GPE", ["Russland"], "RU")
    return [
        make_record(T_A, [nk, ru], published=date(2024, 10, 18), source="Hafenblatt",
                    quantities_=[{"id": "q1", "text": "1.500 Soldaten", "value": 1500,
                                  "unit": "Soldaten"}]),
        make_record(T_B, [("x1", "Nordkorea", "GPE", ["~nordkoreanische"], "KP"), ru,
                          ("x3", "Pentagon", "ORG", ["Pentagon"], "US")],
                    published=date(2024, 10, 23), source="Alpenblatt",
                    statements_=[{"id": "s1", "kind": "according_to", "speaker": "x3",
                                  "speaker_text": "Pentagon", "cue": "Laut",
                                  "content": "sind rund 3.000 nordkoreanische Soldaten in "
                                             "Russland"}],
                    quantities_=[{"id": "q1", "text": "rund 3.000 nordkoreanische Soldaten",
                                  "value": 3000, "approximate": "rund", "unit": "Soldaten",
                                  "quantifies": "nordkoreanische Soldaten", "source": "x3",
                                  "statement": "s1"}]),
        make_record(T_C, [nk, ru, ("x3", "NATO", "ORG", ["NATO"], None),
                          ("x4", "Ukraine", "GPE", ["Ukraine"], "UA")],
                    published=date(2024, 10, 28), source="Rheinblatt",
                    quantities_=[{"id": "q1", "text": "mehr als 10.000 Soldaten",
                                  "value": 10000, "low": 10000, "approximate": "mehr als",
                                  "unit": "Soldaten", "source": "x3"}],
                    events_=[{"id": "v1", "type": "THREATEN", "trigger": "bedrohte",
                              "actor": "x2", "target": "x4", "modality": "actual"}]),
        make_record(T_D, [nk, ru, ("x3", "Olena Beispiel", "PER", ["Olena Beispiel"], None)],
                    published=date(2024, 11, 5), source="Ostseeblatt",
                    statements_=[{"id": "s1", "kind": "direct", "speaker": "x3",
                                  "speaker_text": "Olena Beispiel", "cue": "sagte",
                                  "content": "Es sind 11.000 Soldaten aus Nordkorea"}],
                    quantities_=[{"id": "q1", "text": "11.000 Soldaten", "value": 11000,
                                  "unit": "Soldaten", "source": "x3", "statement": "s1"}]),
    ]


@pytest.fixture
def corpus(store):  # noqa: F811 - the fixture from test_store
    c = Corpus(store)
    for r in claim_records():
        store.add_record(r, r.document.id, f"hand:{r.document.source}")
    return c


# -- queries ---------------------------------------------------------------------------

def test_claims_group_sources_dates_spread_and_disagreement(corpus):
    [group] = corpus.claims(what="Soldaten", about="Nordkorea")
    assert group["what"] == "soldat"
    assert group["n_docs"] == 4
    figs = group["figures"]
    assert [f["published"] for f in figs] == ["2024-10-18", "2024-10-23", "2024-10-28",
                                              "2024-11-05"]
    assert [f["value"] for f in figs] == [1500, 3000, 10000, 11000]
    assert [f["source"] for f in figs] == ["Hafenblatt (author)", "Pentagon", "NATO",
                                           "Olena Beispiel"]
    assert group["spread"] == {"min": 1500, "max": 11000, "ratio": 7.333}
    assert group["disagreement"] is True
    assert [c["value"] for c in group["changes"]] == [1500, 3000, 10000, 11000]
    assert "Nordkorea" in figs[1]["about"]


def test_claims_tolerance_and_open_ranges(corpus):
    # "mehr als 10.000" and 11.000 agree; add nothing else -> no disagreement
    [g] = corpus.claims(what="Soldaten", since="2024-10-25")
    assert g["n_docs"] == 2 and g["disagreement"] is False
    assert corpus.claims(what="Panzer") == []
    assert corpus.claims(what="Soldaten", about="Atlantis") == []


def test_statements_by_speaker_about_and_dates(corpus):
    rows = corpus.statements(speaker="Pentagon")
    assert [r["content"][:8] for r in rows] == ["sind run"]
    assert rows[0]["outlet"] == "Alpenblatt" and rows[0]["published"] == "2024-10-23"
    about = corpus.statements(about="Nordkorea")
    assert {r["speaker"] for r in about} == {"Pentagon", "Olena Beispiel"}
    assert [r["published"] for r in about] == ["2024-11-05", "2024-10-23"]  # newest first
    assert corpus.statements(about="Nordkorea", until="2024-10-31")[0]["speaker"] == "Pentagon"
    assert corpus.statements(speaker="Olena Beispiel", kind="indirect") == []


def test_timeline_filters(corpus):
    [ev] = corpus.timeline(actor="Russland")
    assert ev["type"] == "THREATEN" and ev["target"] == "Ukraine"
    assert ev["date"] == "2024-10-28" and ev["outlet"] == "Rheinblatt"
    assert corpus.timeline(target="Ukraine", type="threaten", modality="actual") == [ev]
    assert corpus.timeline(actor="Ukraine") == []
    assert corpus.timeline(type="ASSAULT") == []


def test_entity_profile(corpus):
    p = corpus.entity_profile("nordkoreanische")
    assert p["name"] == "Nordkorea" and p["iso3166"] == "KP"
    assert p["n_docs"] == 4
    assert [m["month"] for m in p["mentions_over_time"]] == ["2024-10", "2024-11"]
    assert p["co_occurring"][0]["name"] == "Russland" and p["co_occurring"][0]["docs"] == 4
    assert p["roles"]["spoken_about"] == 2
    ru = corpus.entity_profile("Russland")
    assert ru["roles"]["actor"] == 1 and ru["events_as_actor"] == {"THREATEN": 1}
    assert corpus.entity_profile("Atlantis") is None


def test_fulltext_search(corpus):
    hits = corpus.search("Geheimdienstes Nordkorea")
    assert [h["outlet"] for h in hits] == ["Hafenblatt"]
    assert "[" in hits[0]["snippet"]
    st = corpus.search("Soldaten", scope="statements")
    assert {h["speaker_text"] for h in st} == {"Pentagon", "Olena Beispiel"}
    assert corpus.search('"; DROP TABLE documents') == []
    assert _fts5_query('Kim* "neue Waffen" OR') == '"Kim"* "neue Waffen"'


# -- exports ---------------------------------------------------------------------------

def test_exports_jsonl_csv_parquet_graphml(corpus, tmp_path):
    import csv

    import pyarrow.parquet as pq

    [p] = corpus.export("jsonl", tmp_path / "records.jsonl")
    recs = [Record.model_validate_json(line) for line in p.read_text().splitlines()]
    assert len(recs) == 4 and all(not r.check_offsets() for r in recs)
    files = corpus.export("csv", tmp_path / "csv")
    assert sorted(f.name for f in files) == sorted(
        f"{t}.csv" for t in ("documents", "entities", "mentions", "statements", "quantities",
                             "events"))
    with (tmp_path / "csv" / "quantities.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(float(r["value"]) for r in rows) == [1500, 3000, 10000, 11000]
    corpus.export("parquet", tmp_path / "pq")
    table = pq.read_table(tmp_path / "pq" / "statements.parquet")
    assert table.num_rows == 2 and "speaker" in table.column_names
    assert str(table.schema.field("published").type) == "date32[day]"
    ents = pq.read_table(tmp_path / "pq" / "entities.parquet").to_pylist()
    assert {e["name"]: e["n_docs"] for e in ents}["Nordkorea"] == 4
    [one] = corpus.export("jsonl", tmp_path / "events.jsonl", table="events")
    assert json.loads(one.read_text())["actor"] == "Russland"
    [g] = corpus.export("graphml", tmp_path / "net.graphml")
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    root = ET.parse(g).getroot()
    names = {d.text for d in root.iterfind(".//g:node/g:data[@key='n_name']", ns)}
    assert {"Russland", "Ukraine", "Pentagon", "Nordkorea"} <= names
    rels = [d.text for d in root.iterfind(".//g:edge/g:data[@key='e_relation']", ns)]
    assert "THREATEN" in rels and "STATEMENT" in rels
    assert not list(tmp_path.rglob("*.part"))


# -- ingest ----------------------------------------------------------------------------

def _empty_record(doc):
    return Record(document=doc)


ART = ("Die Stadtbibliothek von Lindental öffnet ab Montag auch sonntags. Die Leiterin "
       "sagte, man wolle damit vor allem Familien erreichen. Nach Angaben der Stadt kostet "
       "der zusätzliche Öffnungstag rund {n}.000 Euro im Jahr.")


def test_ingest_everything_nothing_lost_nothing_twice(db_url, tmp_path):  # noqa: F811
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text(ART.format(n=1), encoding="utf-8")
    (src / "sub" / "b.txt").write_text(ART.format(n=2), encoding="utf-8")
    (src / "copy.txt").write_text(ART.format(n=1), encoding="utf-8")  # same article again
    (src / "latin1.txt").write_bytes(ART.format(n=3).encode("latin-1"))
    (src / "dump.jsonl").write_text(
        json.dumps({"id": "art-1", "text": ART.format(n=4)}) + "\n"
        + json.dumps({"id": "art-1", "text": ART.format(n=5)}) + "\n"  # duplicate id
        + "{kaputt\n", encoding="utf-8")
    (src / "broken.rss").write_text("<rss><channel><item><title>x", encoding="utf-8")
    (src / "cut.warc").write_text("WARC/1.0\r\nWARC-Type: resp", encoding="utf-8")
    with (src / "huge.txt").open("wb") as fh:
        fh.truncate(1_000_000_000)
    with Corpus(db_url) as c:
        stats = c.ingest([src], analyze=_empty_record, progress=False)
        assert (stats.added, stats.existing) == (3, 1)
        fails = {Path(f["input"]).name: f["reason"] for f in c.failures()}
        assert fails == {"broken.rss": "malformed", "broken.rss#1": "empty",
                         "cut.warc": "truncated",
                         "dump.jsonl:2": "duplicate_id", "dump.jsonl:3": "malformed",
                         "huge.txt": "too_large", "latin1.txt": "encoding"}
        assert stats.items == stats.added + stats.existing + stats.failed
        again = c.ingest([src], analyze=_empty_record, progress=False)
        assert again.added == 0 and again.existing == 4
        assert c.store.count() == 3
        assert len(c.failures()) == 7 and c.failures()[0]["attempts"] == 2
        # the user fixes the encoding problem: the failure disappears
        fixed = c.ingest([src / "latin1.txt"], analyze=_empty_record, progress=False,
                         encoding="latin-1")
        assert fixed.added == 1
        assert "latin1.txt" not in {Path(f["input"]).name for f in c.failures()}


def test_ingest_analysis_error_is_recorded(tmp_path):
    (tmp_path / "a.txt").write_text(ART.format(n=7), encoding="utf-8")

    def boom(doc):
        raise RuntimeError("layer crashed")

    with Corpus(tmp_path / "c.db") as c:
        stats = c.ingest([tmp_path / "a.txt"], analyze=boom, progress=False)
        assert stats.failed == 1
        [f] = c.failures()
        assert f["reason"] == "internal" and "layer crashed" in f["message"]


def test_progress_bar_shows_rate(tmp_path, capsys):
    (tmp_path / "a.txt").write_text(ART.format(n=8), encoding="utf-8")
    with Corpus(tmp_path / "c.db") as c:
        c.ingest([tmp_path], analyze=_empty_record, progress=True)
    err = capsys.readouterr().err
    assert "ingest" in err and "art/s" in err and "1/1" in err


def _write_articles(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"{i:03d}.txt").write_text(
            f"Der Kreistag von Musterhausen hat am Dienstag über {i + 10} neue Stellen in der "
            f"Verwaltung beraten. Landrätin Petra Beispiel sagte, die Entscheidung falle im "
            f"Frühjahr. Nach Angaben der Opposition fehlen {i * 3 + 5} Fachkräfte in den "
            f"Bürgerbüros, die Wartezeit betrage {i % 7 + 2} Wochen.", encoding="utf-8")


@pytest.mark.slow
def test_kill_9_mid_ingest_resumes_without_loss_or_duplicates(tmp_path):
    src = tmp_path / "in"
    n = 25
    _write_articles(src, n)
    db = tmp_path / "k.db"
    cmd = [sys.executable, "-m", "lagebild.cli", "ingest", str(src), "--db", str(db),
           "--no-models", "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    stored = 0
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=1) as con:
                    stored = con.execute("SELECT count(*) FROM documents").fetchone()[0]
            except sqlite3.OperationalError:
                continue
            if stored >= 3:
                break
    assert proc.poll() is None, "ingest finished before it could be killed: " + \
        proc.stderr.read().decode()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 3 <= stored < n
    done = subprocess.run(cmd + ["--json"], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)
    assert stats["existing"] >= stored and stats["added"] + stats["existing"] == n
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM documents").fetchone()[0] == n
        assert con.execute("SELECT count(DISTINCT content_hash) FROM documents").fetchone()[0] == n
        assert con.execute("SELECT count(*) FROM failures").fetchone()[0] == 0
        # every record's statements are stored exactly once
        for doc_id, raw in con.execute("SELECT id, record FROM documents"):
            want = len(json.loads(raw)["statements"])
            got = con.execute("SELECT count(*) FROM statements WHERE doc_id = ?",
                              (doc_id,)).fetchone()[0]
            assert got == want


# -- the real pipeline: claims across the seed and the example articles ----------------

@pytest.mark.slow
def test_claims_across_seed_and_example_articles(db_url):  # noqa: F811
    if not SEED.exists():
        pytest.skip(f"seed article not found at {SEED}")
    with Corpus(db_url) as c:
        stats = c.ingest([REPO / "examples" / "corpus", SEED], progress=False)
        assert stats.added == 5 and stats.failed == 0
        groups = c.claims(what="Soldaten", about="Nordkorea")
        assert groups, "no soldier figures about North Korea found"
        g = groups[0]
        assert g["what"] == "soldat" and g["n_docs"] == 5
        by_doc = {f["outlet"] or "seed": f for f in g["figures"]}
        assert set(by_doc) >= {"Hafenkurier (fiktiv)", "Alpenblatt (fiktiv)",
                               "Rheinufer-Rundschau (fiktiv)", "Ostsee-Anzeiger (fiktiv)",
                               "seed"}
        values = {f["value"] for f in g["figures"]}
        assert {1500, 3000, 10000, 11000} <= values  # the seed's Pentagon figure is 10.000
        seed_fig = next(f for f in g["figures"] if f["outlet"] is None and f["value"] == 10000)
        assert seed_fig["source"] == "Pentagon"
        dated = [f["published"] for f in g["figures"] if f["published"]]
        assert dated == sorted(dated) and len(set(dated)) == 4
        assert len(g["sources"]) >= 4  # who said which number
        assert g["disagreement"] is True
        again = c.ingest([REPO / "examples" / "corpus", SEED], progress=False)
        assert again.added == 0 and again.existing == 5


# -- CLI -------------------------------------------------------------------------------

def test_cli_ingest_query_failures_export(tmp_path, capsys):
    src = tmp_path / "in"
    _write_articles(src, 3)
    (src / "bad.jsonl").write_text("{nope\n", encoding="utf-8")
    db = str(tmp_path / "cli.db")
    assert main(["ingest", str(src), "--db", db, "--no-models", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "added 3" in err and "failed 1" in err and "bad.jsonl:1" in err
    assert main(["failures", "--db", db, "--json"]) == 0
    [f] = json.loads(capsys.readouterr().out)
    assert f["reason"] == "malformed"
    assert main(["query", "search", "Musterhausen", "--db", db, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3
    assert main(["query", "entity", "Musterhausen", "--db", db]) in (0, 1)
    capsys.readouterr()
    assert main(["query", "statements", "--db", db, "--json", "--limit", "2"]) == 0
    assert len(json.loads(capsys.readouterr().out)) <= 2
    assert main(["query", "claims", "--db", db]) == 0
    assert main(["query", "timeline", "--db", db]) == 0
    out = tmp_path / "x.parquet"
    assert main(["export", "parquet", str(out), "--table", "documents", "--db", db]) == 0
    assert out.exists()
