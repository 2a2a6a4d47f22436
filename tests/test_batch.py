"""`lagebild batch` with the local engine: rows, failure rows, rerun determinism, load.

All articles here are invented for the tests (names, places and figures are made up).
The runs here use the rules-only pipeline (`--no-models`): they test the batch
machinery, which is the same for any pipeline, in seconds and independently of the
trained models; `tests/test_spark.py` runs the full pipeline on real articles.
"""

from __future__ import annotations

import gzip
import io
import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lagebild.batch import aggregate as agg
from lagebild.batch.core import INPUT_SCHEMA, OUTPUT_SCHEMA, process_row
from lagebild.batch.io import list_inputs, read_output
from lagebild.batch.local import run_local
from lagebild.cli import main
from lagebild.schema import Record

PEOPLE = ["Jana Reuter", "Tomasz Lewicki", "Elif Aydin", "Henrik Solberg", "Marta Kowalczyk"]
PAIRS = [("Russland", "die Ukraine"), ("Frankreich", "Mali"), ("China", "Taiwan"),
         ("Polen", "Belarus"), ("Israel", "den Libanon")]


def invented_article(i: int) -> dict:
    person = PEOPLE[i % 5]
    a, b = PAIRS[i % 5]
    month = 1 + i % 4
    text = (f"{a} hat am Montag {b} angegriffen. {person}, Sprecherin des Außenministeriums, "
            f"sagte, {a} habe {100 * (i + 3)} Soldaten an die Grenze verlegt. Laut dem Roten "
            f"Kreuz wurden mindestens {i + 12} Menschen verletzt. {a} drohte {b} mit weiteren "
            f"Sanktionen. Laut {a} ist {b} für die Eskalation verantwortlich. "
            f"Bundeskanzler Olaf Scholz sagte, {a} müsse den Angriff auf {b} "
            "sofort beenden. Die Regierung in Berlin forderte Gespräche.")
    return {"id": f"art-{i:03d}", "published": f"2025-{month:02d}-{1 + i:02d}",
            "title": f"Meldung {i}", "source": "Testblatt", "text": text}


BAD_LINES = [
    "das ist kein JSON",                                   # malformed JSON
    json.dumps({"id": "no-text", "title": "ohne Text"}),    # no text field
    json.dumps({"id": "english", "published": "2025-02-03", "text":
                "The minister said that the government would double its aid next year and "
                "that this decision was final, according to officials in the capital city."}),
    json.dumps({"id": "bad-date", "published": "gestern", "text": "Die Lage ist ruhig."}),
    json.dumps({"id": "empty", "text": "   "}),
]

HTML = ("<html><head><title>Hafen geschlossen</title></head><body><article>"
        "<h1>Hafen geschlossen</h1>"
        "<p>Die Behörden in Danzig haben am Dienstag den Hafen für drei Tage geschlossen. "
        "Nach Angaben der Hafenverwaltung sind rund 40 Schiffe betroffen.</p>"
        "<p>Der Bürgermeister Piotr Nowicki sagte, man arbeite mit Hochdruck an einer Lösung "
        "und hoffe, den Betrieb bald wieder aufnehmen zu können. Die Reedereien forderten "
        "eine Entschädigung für die Ausfälle.</p></article></body></html>")


def write_warc(path: Path) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as fh:
        w = WARCWriter(fh, gzip=True)
        for url, status, ctype, body in [
            ("https://example.invalid/hafen", "200 OK", "text/html; charset=utf-8", HTML),
            ("https://example.invalid/missing", "404 Not Found", "text/html", "<p>weg</p>"),
            ("https://example.invalid/logo.png", "200 OK", "image/png", "\x89PNG"),
        ]:
            headers = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(url, "response",
                                                payload=io.BytesIO(body.encode("utf-8")),
                                                http_headers=headers))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("batch_in")
    with (d / "a.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(12):
            fh.write(json.dumps(invented_article(i), ensure_ascii=False) + "\n")
        fh.write("\n")  # blank lines are skipped, not failures
        for line in BAD_LINES:
            fh.write(line + "\n")
    rows = [invented_article(i) for i in range(12, 16)]
    rows[0]["published"] = None  # -> partition "unknown"
    pq.write_table(pa.Table.from_pylist(rows), d / "b.parquet")
    write_warc(d / "c.warc.gz")
    good = (d / "c.warc.gz").read_bytes()
    (d / "sub").mkdir()
    (d / "sub" / "d.warc.gz").write_bytes(good[: len(good) // 2])  # truncated archive
    (d / ".hidden.jsonl").write_text("{}\n")  # hidden files are not inputs
    return d


@pytest.fixture(scope="module")
def out0(inputs: Path, tmp_path_factory) -> Path:
    """In-process run through the CLI (workers 0)."""
    out = tmp_path_factory.mktemp("batch_out") / "out"
    assert main(["batch", str(inputs), str(out), "--workers", "0", "--no-models"]) == 0
    return out


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def test_inputs_are_listed_in_stable_order(inputs: Path):
    listed = [(Path(p).relative_to(inputs).as_posix(), k) for p, k in list_inputs([str(inputs)])]
    assert listed == [("a.jsonl", "jsonl"), ("b.parquet", "parquet"), ("c.warc.gz", "warc"),
                      ("sub/d.warc.gz", "warc")]


def test_one_row_per_article_and_failures_are_rows(out0: Path, inputs: Path):
    table = read_output(out0)
    rows = {r["input"].replace(str(inputs) + "/", ""): r for r in table.to_pylist()}
    ok = [r for r in rows.values() if r["error_reason"] is None]
    # 12 JSONL + 4 Parquet + the WARC page, and again from the truncated copy (its first
    # record is complete): same content, same id, two rows told apart by `input`
    assert len(ok) == 18
    pages = [r for r in ok if "warc.gz@" in r["input"]]
    assert len(pages) == 2 and pages[0]["id"] == pages[1]["id"]
    reasons = {k: r["error_reason"] for k, r in rows.items() if r["error_reason"]}
    assert reasons == {"a.jsonl:14": "malformed", "a.jsonl:15": "malformed",
                       "a.jsonl:16": "not_german", "a.jsonl:17": "malformed",
                       "a.jsonl:18": "empty", "sub/d.warc.gz": "truncated"}
    assert rows["a.jsonl:15"]["id"] == "no-text"  # ids of failed rows are kept when given
    assert rows["a.jsonl:16"]["published_month"] == "2025-02"
    page = pages[0]
    assert page["url"] == "https://example.invalid/hafen" and "Danzig" in page["text"]
    assert rows["b.parquet#art-012"]["published_month"] == "unknown"
    for r in ok:
        rec = Record.model_validate_json(r["record"])
        assert rec.check_offsets() == []
        assert rec.document.id == r["id"]
        assert r["n_entities"] == len(rec.entities) == len(r["entities"])
        assert r["published_month"] == (r["published"].strftime("%Y-%m") if r["published"]
                                        else "unknown")


def test_row_equals_the_pipeline_record(out0: Path):
    """The batch row's record is exactly what `analyze_document` gives for the article."""
    from lagebild.ingest import make_document
    from lagebild.pipeline import analyze_document

    art = invented_article(3)
    row = next(r for r in read_output(out0).to_pylist() if r["id"] == art["id"])
    doc = make_document(art["text"], published=art["published"], title=art["title"],
                        doc_id=art["id"], source=art["source"])
    assert row["record"] == analyze_document(doc, use_models=False).to_json(indent=None)


def test_partitions_sorted_by_id(out0: Path):
    parts = sorted(p.name for p in out0.iterdir())
    assert parts == ["published_month=2025-01", "published_month=2025-02",
                     "published_month=2025-03", "published_month=2025-04",
                     "published_month=unknown"]
    for part in out0.iterdir():
        for f in part.glob("*.parquet"):
            t = pq.read_table(f)
            keys = list(zip(t.column("id").to_pylist(), t.column("input").to_pylist(),
                            strict=True))
            assert keys == sorted(keys)
            assert "published_month" not in t.schema.names  # it is the folder name


def test_pool_rerun_overwrites_with_identical_files(out0: Path, inputs: Path, tmp_path: Path):
    out = tmp_path / "out"
    first = run_local([str(inputs)], out, workers=0, use_models=False)
    (out / "published_month=1999-01").mkdir()
    (out / "published_month=1999-01" / "stale.parquet").write_bytes(b"old")
    second = run_local([str(inputs)], out, workers=2, use_models=False)
    assert (first.rows, first.ok, first.failed) == (second.rows, second.ok, second.failed) \
        == (24, 18, 6)
    assert _files(out) == _files(out0)  # byte-identical: pool timing does not leak into files
    assert not list(tmp_path.glob(".out.*"))  # no temp folders left behind


def test_internal_error_becomes_a_row(monkeypatch):
    import lagebild.pipeline as pipeline

    def boom(document, use_models=True):
        raise RuntimeError("kaputt")

    monkeypatch.setattr(pipeline, "analyze_document", boom)
    row = dict.fromkeys(INPUT_SCHEMA.names)
    row.update(input="x.jsonl:1", line=json.dumps(invented_article(1)))
    out = process_row(row, use_models=False)
    assert out is not None and out["error_reason"] == "internal"
    assert "kaputt" in out["error"] and out["id"] == "art-001"
    assert out["published"] == date(2025, 2, 2) and out["published_month"] == "2025-02"
    pa.RecordBatch.from_pylist([out], schema=OUTPUT_SCHEMA)  # fits the output schema


def test_load_and_aggregates_agree_with_corpus(out0: Path, tmp_path: Path):
    """Batch aggregates == corpus queries over the same articles loaded into the store."""
    from sqlalchemy import func, select

    from lagebild.corpus import Corpus
    from lagebild.store.schema import doc_entities, documents

    db = tmp_path / "c.db"
    assert main(["load", str(out0), "--db", str(db)]) == 0
    assert main(["load", str(out0), "--db", str(db)]) == 0  # second load adds nothing
    mine = agg.aggregate_output(out0)
    with Corpus(db) as corpus:
        assert corpus.store.count() == 17
        assert {f["input"].rsplit("/", 1)[-1] for f in corpus.failures()} == {
            "a.jsonl:14", "a.jsonl:15", "a.jsonl:16", "a.jsonl:17", "a.jsonl:18", "d.warc.gz"}
        theirs = {g["what"]: g for g in corpus.claims(limit=10_000)}
        _, edges = corpus.actor_network()
        with corpus.engine.connect() as conn:
            per_day = {(e, d): (n, m) for e, d, n, m in conn.execute(
                select(doc_entities.c.entity_id, documents.c.published,
                       func.count(func.distinct(doc_entities.c.doc_id)),
                       func.sum(doc_entities.c.n_mentions))
                .join(documents, documents.c.id == doc_entities.c.doc_id)
                .group_by(doc_entities.c.entity_id, documents.c.published))}
    assert {c["what"] for c in mine["claims"]} == set(theirs) and len(theirs) >= 2
    for c in mine["claims"]:
        g = theirs[c["what"]]
        assert (c["n_figures"], c["n_docs"], c["disagreement"], c["sources"]) == (
            g["n_figures"], g["n_docs"], g["disagreement"], g["sources"])
        assert (c["min"], c["max"]) == (g["spread"]["min"], g["spread"]["max"])
    assert {(e["source"], e["target"], e["relation"]):
            (e["weight"], e["n_docs"], e["first"], e["last"]) for e in mine["edges"]} == {
        k: (v["weight"], len(v["docs"]), v["first"], v["last"]) for k, v in edges.items()}
    assert {e["relation"] for e in mine["edges"]} >= {"ASSAULT", "STATEMENT"}
    assert {(m["key"], m["day"]): (m["n_docs"], m["n_mentions"])
            for m in mine["mentions"]} == per_day


def test_aggregate_command_writes_tables(out0: Path, tmp_path: Path):
    dest = tmp_path / "agg"
    assert main(["aggregate", str(out0), str(dest)]) == 0
    claims = pq.read_table(dest / "claims.parquet").to_pylist()
    assert {c["what"] for c in claims} >= {"soldat", "mensch"}
    assert pq.read_table(dest / "edges.parquet").num_rows > 0


def test_jsonl_gz_and_missing_input(tmp_path: Path):
    src = tmp_path / "x.jsonl.gz"
    with gzip.open(src, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps(invented_article(0), ensure_ascii=False) + "\n")
    stats = run_local([str(src), str(tmp_path / "nope.jsonl")], tmp_path / "o", workers=0,
                      use_models=False)
    assert (stats.ok, stats.reasons) == (1, {"unreadable": 1})
