"""Corpus-level aggregates over batch output, as Spark jobs and in plain Python.

The definitions are the corpus store's (`lagebild.corpus`), so a batch run and a
`lagebild load` into the store answer the same question the same way:

* claims — figures grouped by what they count (`quantities.what`, the store's
  `what_key`): number of figures and of articles, the spread of point values (value,
  else the middle of low..high), the sources (linked entity name, else the speaker as
  written, else "<outlet> (author)"), and `disagreement` when the figures' intervals
  (hedges applied: "mehr als" opens the top, "bis zu" the bottom) cannot all hold
  within `tolerance` (`Corpus.claims`).
* edges — the actor network of `Corpus.actor_network`: event actor -> target
  (relation = PLOVER type) and speaker -> entity mentioned in the statement
  (relation = STATEMENT), weighted by occurrences, with article count, first and last
  publication date.
* mentions — per entity and publication day: articles and mentions (the store's
  `doc_entities.n_mentions` summed).

Entities are keyed by `entities.key`, the stateless corpus id (see `core`): the store's
id for an entity first seen under that key. Only the store's order-dependent surname
merges ("Putin" joining "Wladimir Putin") are not reproduced; they cannot be computed
per partition.

Each article counts once, as in the store: of rows with the same `content_hash` (one
article read twice) the first in load order (month, id, input) is kept, then of rows
with the same id the first. (The store decides the rare chain "text under two ids, one
id reused" strictly in order; per-key dedup can differ there.)

`aggregate_rows` is the plain-Python version over output rows, `aggregate_spark` the
Spark one; `tests/test_spark.py` checks that they agree, `tests/test_batch.py` that the
Python one agrees with the corpus queries after `lagebild load`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

#: Columns the aggregates read (the article text stays on disk).
COLUMNS = ["id", "content_hash", "input", "published_month", "published", "source",
           "error_reason", "entities", "statements", "quantities", "events"]
TABLES = ("claims", "edges", "mentions")


def _name_rank(name: str, type_: str) -> tuple[int, str, str]:
    """Display name of an entity across articles: the longest, ties by text and type
    ('Wladimir Putin' over 'Putin'), so the choice does not depend on row order."""
    return len(name), name, type_


def _point(q: dict[str, Any]) -> float | None:
    if q["value"] is not None:
        return q["value"]
    if q["low"] is not None and q["high"] is not None:
        return (q["low"] + q["high"]) / 2
    return None


def _min(a: date | None, b: date | None) -> date | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: date | None, b: date | None) -> date | None:
    return b if a is None else a if b is None else max(a, b)


def _load_order(row: dict[str, Any]) -> tuple[str, str, str]:
    return str(row["published_month"]), row["id"], row["input"] or ""


def distinct_articles(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Analysed rows, one per article (see the module doc for the rule)."""
    ok = sorted((r for r in rows if r["error_reason"] is None), key=_load_order)
    first_hash: dict[str, dict[str, Any]] = {}
    for r in ok:
        first_hash.setdefault(r["content_hash"], r)
    first_id: dict[str, dict[str, Any]] = {}
    for r in first_hash.values():
        first_id.setdefault(r["id"], r)
    return list(first_id.values())


def aggregate_rows(rows: Iterable[dict[str, Any]], tolerance: float = 0.1
                   ) -> dict[str, list[dict[str, Any]]]:
    """Claims, edges and mentions over output rows (dicts with `COLUMNS`)."""
    claims: dict[str, dict[str, Any]] = {}
    edges: dict[tuple[str, str, str], dict[str, Any]] = {}
    mentions: dict[tuple[str, date | None], dict[str, Any]] = {}

    def edge(src: str, dst: str, rel: str, doc: str, pub: date | None) -> None:
        e = edges.setdefault((src, dst, rel), {"source": src, "target": dst, "relation": rel,
                                               "weight": 0, "docs": set(), "first": None,
                                               "last": None})
        e["weight"] += 1
        e["docs"].add(doc)
        e["first"], e["last"] = _min(e["first"], pub), _max(e["last"], pub)

    for r in distinct_articles(rows):
        doc, pub = r["id"], r["published"]
        for q in r["quantities"] or []:
            if q["what"] is None:
                continue
            c = claims.setdefault(q["what"], {"what": q["what"], "n_figures": 0, "docs": set(),
                                              "points": [], "sources": set(), "los": [],
                                              "his": [], "first": None, "last": None})
            c["n_figures"] += 1
            c["docs"].add(doc)
            c["sources"].add(q["source_name"])
            if (p := _point(q)) is not None:
                c["points"].append(p)
            if q["lo"] is not None:
                c["los"].append(q["lo"])
                c["his"].append(q["hi"])
            c["first"], c["last"] = _min(c["first"], pub), _max(c["last"], pub)
        for ev in r["events"] or []:
            if ev["actor_key"] and ev["target_key"]:
                edge(ev["actor_key"], ev["target_key"], ev["type"], doc, pub)
        for s in r["statements"] or []:
            if s["speaker_key"]:
                for about in s["about"] or []:
                    edge(s["speaker_key"], about, "STATEMENT", doc, pub)
        for e in r["entities"] or []:
            m = mentions.setdefault((e["key"], pub), {"key": e["key"], "day": pub, "name": "",
                                                      "type": "", "docs": set(),
                                                      "n_mentions": 0})
            m["docs"].add(doc)
            m["n_mentions"] += e["n_mentions"]
            if _name_rank(e["name"], e["type"]) > _name_rank(m["name"], m["type"]):
                m["name"], m["type"] = e["name"], e["type"]

    out_claims = []
    for c in claims.values():
        pts = c.pop("points")
        los, his = c.pop("los"), c.pop("his")
        c["n_docs"] = len(c.pop("docs"))
        c["sources"] = sorted(c["sources"])
        c["min"] = min(pts) if pts else None
        c["max"] = max(pts) if pts else None
        c["disagreement"] = len(los) > 1 and max(los) > min(his) * (1 + tolerance)
        out_claims.append(c)
    out_edges = []
    for e in edges.values():
        e["n_docs"] = len(e.pop("docs"))
        out_edges.append(e)
    out_mentions = []
    for m in mentions.values():
        m["n_docs"] = len(m.pop("docs"))
        out_mentions.append(m)
    return {"claims": sorted(out_claims, key=lambda c: c["what"]),
            "edges": sorted(out_edges, key=lambda e: (e["source"], e["target"], e["relation"])),
            # undated first, as Spark sorts nulls
            "mentions": sorted(out_mentions, key=lambda m: (m["key"], m["day"] is not None,
                                                            m["day"] or date.min))}


def aggregate_output(output: str | Path, tolerance: float = 0.1
                     ) -> dict[str, list[dict[str, Any]]]:
    """`aggregate_rows` over a batch output folder (read with pyarrow, no Spark)."""
    import pyarrow.dataset as ds

    table = ds.dataset(str(output), format="parquet", partitioning="hive").to_table(
        columns=COLUMNS)
    return aggregate_rows(table.to_pylist(), tolerance)


def aggregate_spark(spark, output: str, tolerance: float = 0.1) -> dict[str, Any]:
    """The same three tables as Spark DataFrames (lazy; write or collect them)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    order = ["published_month", "id", "input"]
    df = spark.read.parquet(output).where(F.col("error_reason").isNull()).select(*COLUMNS)
    for key in ("content_hash", "id"):
        w = Window.partitionBy(key).orderBy(*order)
        df = df.withColumn("_n", F.row_number().over(w)).where(F.col("_n") == 1).drop("_n")
    q = (df.select(F.col("id").alias("doc"), "published", F.explode("quantities").alias("q"))
         .where(F.col("q.what").isNotNull()))
    point = F.coalesce(F.col("q.value"), (F.col("q.low") + F.col("q.high")) / 2)
    claims = (q.groupBy(F.col("q.what").alias("what"))
              .agg(F.count("*").alias("n_figures"), F.countDistinct("doc").alias("n_docs"),
                   F.array_sort(F.collect_set("q.source_name")).alias("sources"),
                   F.min(point).alias("min"), F.max(point).alias("max"),
                   F.count("q.lo").alias("n_iv"), F.max("q.lo").alias("max_lo"),
                   F.min("q.hi").alias("min_hi"),
                   F.min("published").alias("first"), F.max("published").alias("last"))
              .withColumn("disagreement", (F.col("n_iv") > 1)
                          & (F.col("max_lo") > F.col("min_hi") * (1 + tolerance)))
              .withColumn("disagreement", F.coalesce("disagreement", F.lit(False)))
              .drop("n_iv", "max_lo", "min_hi"))
    ev = (df.select(F.col("id").alias("doc"), "published", F.explode("events").alias("e"))
          .where(F.col("e.actor_key").isNotNull() & F.col("e.target_key").isNotNull())
          .select("doc", "published", F.col("e.actor_key").alias("source"),
                  F.col("e.target_key").alias("target"), F.col("e.type").alias("relation")))
    st = (df.select(F.col("id").alias("doc"), "published", F.explode("statements").alias("s"))
          .where(F.col("s.speaker_key").isNotNull())
          .select("doc", "published", F.col("s.speaker_key").alias("source"),
                  F.explode("s.about").alias("target"), F.lit("STATEMENT").alias("relation")))
    edges = (ev.unionByName(st).groupBy("source", "target", "relation")
             .agg(F.count("*").alias("weight"), F.countDistinct("doc").alias("n_docs"),
                  F.min("published").alias("first"), F.max("published").alias("last")))
    ent = df.select(F.col("id").alias("doc"), F.col("published").alias("day"),
                    F.explode("entities").alias("e"))
    best = F.max(F.struct(F.length("e.name"), F.col("e.name"), F.col("e.type")))
    mentions = (ent.groupBy(F.col("e.key").alias("key"), "day")
                .agg(best.alias("best"), F.countDistinct("doc").alias("n_docs"),
                     F.sum("e.n_mentions").alias("n_mentions"))
                .select("key", "day", F.col("best.name").alias("name"),
                        F.col("best.type").alias("type"), "n_docs", "n_mentions"))
    return {"claims": claims.orderBy("what"),
            "edges": edges.orderBy("source", "target", "relation"),
            "mentions": mentions.orderBy("key", "day")}


def write_aggregates(tables: dict[str, list[dict[str, Any]]], dest: str | Path) -> list[Path]:
    """Plain-Python aggregates -> `dest/<table>.parquet`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name in TABLES:
        path = dest / f"{name}.parquet"
        tmp = path.with_name(path.name + ".part")
        pq.write_table(pa.Table.from_pylist(tables[name]), tmp)
        tmp.replace(path)
        written.append(path)
    return written


def write_aggregates_spark(frames: dict[str, Any], dest: str) -> list[str]:
    """Spark aggregates -> `dest/<table>` (Parquet folders, overwritten)."""
    out = []
    for name in TABLES:
        target = dest.rstrip("/") + f"/{name}"
        frames[name].coalesce(1).write.mode("overwrite").parquet(target)
        out.append(target)
    return out
