"""The corpus: ingest many articles into a store and answer questions across them.

    >>> from lagebild.corpus import Corpus
    >>> corpus = Corpus("lagebild.db")                 # or "postgresql://..."
    >>> corpus.ingest(["artikel/", "feed.xml"])       # analyse + store, resumable
    >>> corpus.statements(speaker="Lindqvist", since="2024-06-01")
    >>> corpus.claims(what="Soldaten", about="Nordkorea")

Every query returns plain JSON-ready dicts (dates as ISO strings), so the CLI, the
REST API and notebooks print or serialise them without a second model layer.

Ingest contract ("nothing lost, nothing twice"): the content hash of every article is
looked up before analysis (a re-run is a no-op costing one hash per article); each
article is stored in its own transaction, so a kill -9 loses at most the article in
flight, which the next run redoes; every input that fails is stored with its reason
(`failures()`), and a later success clears it.
"""

from __future__ import annotations

import csv
import json
import math
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import and_, exists, func, or_, select, text
from sqlalchemy.sql import Select

from .ingest import MAX_BYTES, content_id
from .sources import Item, estimate_count, iter_items
from .store import DuplicateIdError, Store, lemma_key
from .store.schema import (
    doc_entities,
    documents,
    entities,
    entity_names,
    events,
    quantities,
    quantity_about,
    statement_about,
    statements,
)

__all__ = ["Corpus", "IngestStats", "EXPORT_TABLES"]

#: Hedges that leave the upper end open ("mehr als 10.000" is not contradicted by 12.000).
_OPEN_ABOVE = ("mehr als", "über", "mindestens", "wenigstens", "more than", "at least")
_OPEN_BELOW = ("weniger als", "unter", "höchstens", "bis zu", "maximal")


@dataclass
class IngestStats:
    """What one `ingest` run did, and where the time went (for the store-overhead figure)."""

    items: int = 0
    added: int = 0
    existing: int = 0
    failed: int = 0
    read_s: float = 0.0
    analysis_s: float = 0.0
    store_s: float = 0.0
    load_s: float = 0.0
    elapsed_s: float = 0.0
    failures: list[dict] = field(default_factory=list)

    @property
    def store_overhead(self) -> float:
        """Store time as a share of analysis time (the target is < 10 %)."""
        return self.store_s / self.analysis_s if self.analysis_s else 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["articles_per_s"] = round(self.added / self.elapsed_s, 2) if self.elapsed_s else None
        d["store_overhead_pct"] = round(100 * self.store_overhead, 2)
        return d


def _iso(value) -> str | None:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _as_date(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _fts5_query(q: str) -> str:
    """User text -> a safe FTS5 query: words AND-ed, "phrases" kept, word* as prefix,
    OR/NOT passed through. Quoting every term keeps FTS5 syntax errors away from users."""
    out: list[str] = []
    for m in re.finditer(r'"([^"]+)"|(\S+)', q):
        if m.group(1):
            out.append('"' + m.group(1).replace('"', "") + '"')
            continue
        word = m.group(2)
        if word in ("OR", "NOT", "AND"):
            out.append(word)
            continue
        prefix = word.endswith("*")
        word = re.sub(r"[\"*()^:]", "", word)
        if word:
            out.append(f'"{word}"' + ("*" if prefix else ""))
    while out and out[-1] in ("OR", "NOT", "AND"):
        out.pop()
    return " ".join(out)


class Corpus:
    """Ingest and queries over one `Store` (SQLite path or PostgreSQL URL)."""

    def __init__(self, store: Store | str | Path | None = None):
        self.store = store if isinstance(store, Store) else Store(store)
        self.engine = self.store.engine

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Corpus:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- ingest -------------------------------------------------------------------------
    def ingest(self, paths: Iterable[str | Path], *, use_models: bool = True,
               published=None, encoding: str | None = None, max_bytes: int = MAX_BYTES,
               progress: bool | None = None,
               analyze: Callable | None = None) -> IngestStats:
        """Read, analyse and store every article under `paths`; see the module doc.

        `analyze` replaces the pipeline (Document -> Record) for tests and benchmarks that
        measure the store alone; by default it is `pipeline.analyze_document`.
        """
        from tqdm import tqdm

        paths = list(paths)
        stats = IngestStats()
        t_start = time.perf_counter()
        if analyze is None:
            from .nlp import get_nlp
            from .pipeline import analyze_document

            t = time.perf_counter()
            get_nlp(use_models)
            stats.load_s = time.perf_counter() - t

            def analyze(doc):
                return analyze_document(doc, use_models=use_models)

        known = self.store.known_hashes()
        if progress is None:
            progress = sys.stderr.isatty()
        bar = tqdm(total=estimate_count(paths) if progress else None, disable=not progress,
                   file=sys.stderr, unit=" art", dynamic_ncols=True, smoothing=0.1,
                   desc="ingest")
        items: Iterator[Item] = iter_items(paths, published=published, encoding=encoding,
                                           max_bytes=max_bytes)
        try:
            while True:
                t = time.perf_counter()
                item = next(items, None)
                stats.read_s += time.perf_counter() - t
                if item is None:
                    break
                stats.items += 1
                self._ingest_item(item, known, analyze, stats)
                bar.update(1)
                bar.set_postfix(added=stats.added, skipped=stats.existing,
                                failed=stats.failed, refresh=False)
        finally:
            bar.close()
        stats.elapsed_s = time.perf_counter() - t_start
        return stats

    def _fail(self, stats: IngestStats, input_ref: str, reason: str, message: str,
              content_hash: str | None = None) -> None:
        t = time.perf_counter()
        self.store.add_failure(input_ref, reason, message, content_hash)
        stats.store_s += time.perf_counter() - t
        stats.failed += 1
        stats.failures.append({"input": input_ref, "reason": reason, "message": message})

    def _ingest_item(self, item: Item, known: set[str], analyze: Callable,
                     stats: IngestStats) -> None:
        if item.error is not None or item.document is None:
            err = item.error
            self._fail(stats, item.input, err.reason if err else "internal",
                       err.message if err else "reader returned nothing")
            return
        document = item.document
        h = content_id(document.text)
        if h in known:
            stats.existing += 1
            return
        t = time.perf_counter()
        try:
            record = analyze(document)
        except Exception as exc:  # noqa: BLE001 - one article must never stop a corpus run
            stats.analysis_s += time.perf_counter() - t
            self._fail(stats, item.input, "internal", f"analysis failed: {exc!r}", h)
            return
        stats.analysis_s += time.perf_counter() - t
        t = time.perf_counter()
        try:
            res = self.store.add_record(record, h, item.input)
        except DuplicateIdError as exc:
            stats.store_s += time.perf_counter() - t
            self._fail(stats, item.input, "duplicate_id", str(exc), h)
            return
        stats.store_s += time.perf_counter() - t
        known.add(h)
        if res.status == "added":
            stats.added += 1
        else:
            stats.existing += 1

    def failures(self) -> list[dict]:
        return [{k: _iso(v) for k, v in row.items()} for row in self.store.failures()]

    # -- entities -----------------------------------------------------------------------
    def entity_ids(self, name: str) -> list[str]:
        """Corpus ids for a name, alias, demonym, ISO code or id ('Russen' -> Russland)."""
        return self.store.resolve_name(name)

    def _names(self, ids: Iterable[str | None]) -> dict[str, str]:
        ids = {i for i in ids if i}
        if not ids:
            return {}
        with self.engine.connect() as conn:
            return dict(conn.execute(select(entities.c.id, entities.c.name)
                                     .where(entities.c.id.in_(ids))).all())

    @staticmethod
    def _date_filter(stmt: Select, since, until) -> Select:
        if since:
            stmt = stmt.where(documents.c.published >= _as_date(since))
        if until:
            stmt = stmt.where(documents.c.published <= _as_date(until))
        return stmt

    # -- statements ---------------------------------------------------------------------
    def statements(self, speaker: str | None = None, about: str | None = None,
                   since=None, until=None, kind: str | None = None,
                   limit: int = 100) -> list[dict]:
        """Who said what: by speaker and/or about an entity, newest first."""
        spk = entities.alias("spk")
        stmt = (select(statements, documents.c.published, documents.c.source.label("outlet"),
                       documents.c.title, spk.c.name.label("speaker_name"))
                .join(documents, documents.c.id == statements.c.doc_id)
                .outerjoin(spk, spk.c.id == statements.c.speaker_id))
        if speaker:
            ids = self.entity_ids(speaker)
            stmt = stmt.where(or_(statements.c.speaker_id.in_(ids),
                                  func.lower(statements.c.speaker_text) == speaker.lower()))
        if about:
            ids = self.entity_ids(about)
            stmt = stmt.where(exists().where(and_(
                statement_about.c.doc_id == statements.c.doc_id,
                statement_about.c.local_id == statements.c.local_id,
                statement_about.c.entity_id.in_(ids))))
        if kind:
            stmt = stmt.where(statements.c.kind == kind)
        stmt = self._date_filter(stmt, since, until)
        stmt = stmt.order_by(documents.c.published.desc().nulls_last(), statements.c.doc_id,
                             statements.c.start).limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        return [{
            "doc_id": r["doc_id"], "id": r["local_id"], "published": _iso(r["published"]),
            "outlet": r["outlet"], "title": r["title"], "kind": r["kind"], "mood": r["mood"],
            "speaker_id": r["speaker_id"], "speaker": r["speaker_name"] or r["speaker_text"],
            "speaker_text": r["speaker_text"], "cue": r["cue"], "content": r["content"],
            "start": r["start"], "end": r["end"], "confidence": r["confidence"],
        } for r in rows]

    # -- claims -------------------------------------------------------------------------
    def claims(self, what: str | None = None, about: str | None = None, since=None,
               until=None, tolerance: float = 0.1, min_docs: int = 1,
               limit: int = 50) -> list[dict]:
        """Figures about the same thing across articles, grouped by what they count.

        Each group lists every figure with its source (speaker, or the outlet when the
        author states it), date and article, the spread of values, how the figure changed
        over time, and `disagreement`: true when the stated ranges cannot all be right
        at once (beyond `tolerance`, relative)."""
        src = entities.alias("src")
        st = statements.alias("st")
        stmt = (select(quantities, documents.c.published, documents.c.source.label("outlet"),
                       documents.c.title, src.c.name.label("source_name"),
                       st.c.speaker_text)
                .join(documents, documents.c.id == quantities.c.doc_id)
                .outerjoin(src, src.c.id == quantities.c.source_id)
                .outerjoin(st, and_(st.c.doc_id == quantities.c.doc_id,
                                    st.c.local_id == quantities.c.statement))
                .where(quantities.c.what.is_not(None)))
        if what:
            key = " ".join(lemma_key(w) for w in what.split())
            stmt = stmt.where(or_(quantities.c.what == key,
                                  quantities.c.what.like(f"%{key}")))
        if about:
            ids = self.entity_ids(about)
            stmt = stmt.where(exists().where(and_(
                quantity_about.c.doc_id == quantities.c.doc_id,
                quantity_about.c.local_id == quantities.c.local_id,
                quantity_about.c.entity_id.in_(ids))))
        stmt = self._date_filter(stmt, since, until).limit(20000)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
            doc_ids = {r["doc_id"] for r in rows}
            about_rows = conn.execute(
                select(quantity_about.c.doc_id, quantity_about.c.local_id, entities.c.name)
                .join(entities, entities.c.id == quantity_about.c.entity_id)
                .where(quantity_about.c.doc_id.in_(doc_ids))).all() if doc_ids else []
        about_of: dict[tuple[str, str], list[str]] = defaultdict(list)
        for d, loc, name in about_rows:
            about_of[(d, loc)].append(name)
        groups: dict[str, list[dict]] = defaultdict(list)
        for r in rows:
            groups[r["what"]].append({
                "doc_id": r["doc_id"], "id": r["local_id"], "published": _iso(r["published"]),
                "outlet": r["outlet"], "title": r["title"], "text": r["text"],
                "value": r["value"], "low": r["low"], "high": r["high"],
                "approximate": r["approximate"], "unit": r["unit"],
                "quantifies": r["quantifies"],
                "source_id": r["source_id"],
                # the linked entity, else the speaker as written (a person the entity
                # layer missed), else the outlet itself
                "source": r["source_name"] or r["speaker_text"]
                or (f"{r['outlet']} (author)" if r["outlet"] else "author"),
                "statement": r["statement"], "sentence": r["sentence"],
                "about": sorted(about_of.get((r["doc_id"], r["local_id"]), [])),
                "start": r["start"], "end": r["end"],
            })
        out = [self._claim_group(key, figs, tolerance) for key, figs in groups.items()]
        out = [g for g in out if g["n_docs"] >= min_docs]
        out.sort(key=lambda g: (-g["n_docs"], -len(g["figures"]), g["what"]))
        return out[:limit]

    @staticmethod
    def _interval(f: dict) -> tuple[float, float] | None:
        value, low, high = f["value"], f["low"], f["high"]
        hedge = (f["approximate"] or "").lower()
        lo = low if low is not None else value
        hi = high if high is not None else value
        if lo is None and hi is None:
            return None
        if hedge.startswith(_OPEN_ABOVE):
            hi = math.inf
        if hedge.startswith(_OPEN_BELOW):
            lo = 0.0
        return (lo if lo is not None else 0.0), (hi if hi is not None else math.inf)

    def _claim_group(self, key: str, figs: list[dict], tolerance: float) -> dict:
        figs.sort(key=lambda f: (f["published"] or "9999", f["doc_id"], f["start"]))
        intervals = [iv for f in figs if (iv := self._interval(f)) is not None]
        points = []
        for f in figs:
            if f["value"] is not None:
                points.append(f["value"])
            elif f["low"] is not None and f["high"] is not None:
                points.append((f["low"] + f["high"]) / 2)
        disagreement = False
        if len(intervals) > 1:
            max_lo = max(lo for lo, _ in intervals)
            min_hi = min(hi for _, hi in intervals)
            disagreement = max_lo > min_hi * (1 + tolerance)
        changes: list[dict] = []
        for f in figs:
            shown = f["value"] if f["value"] is not None else (f["low"], f["high"])
            if not changes or changes[-1]["value"] != shown:
                changes.append({"published": f["published"], "value": shown,
                                "source": f["source"], "doc_id": f["doc_id"]})
        return {
            "what": key,
            "n_figures": len(figs),
            "n_docs": len({f["doc_id"] for f in figs}),
            "sources": sorted({f["source"] for f in figs}),
            "spread": {"min": min(points), "max": max(points),
                       "ratio": round(max(points) / min(points), 3) if min(points) else None}
            if points else None,
            "disagreement": disagreement,
            "changes": changes,
            "figures": figs,
        }

    # -- events -------------------------------------------------------------------------
    def timeline(self, actor: str | None = None, target: str | None = None,
                 type: str | None = None, modality: str | None = None,  # noqa: A002
                 since=None, until=None, limit: int = 200) -> list[dict]:
        """Events in date order (the event's own time when resolved, else publication)."""
        act, tgt, src = entities.alias("act"), entities.alias("tgt"), entities.alias("src")
        stmt = (select(events, documents.c.published, documents.c.source.label("outlet"),
                       documents.c.title, act.c.name.label("actor_name"),
                       tgt.c.name.label("target_name"), src.c.name.label("source_name"))
                .join(documents, documents.c.id == events.c.doc_id)
                .outerjoin(act, act.c.id == events.c.actor_id)
                .outerjoin(tgt, tgt.c.id == events.c.target_id)
                .outerjoin(src, src.c.id == events.c.source_id))
        if actor:
            stmt = stmt.where(events.c.actor_id.in_(self.entity_ids(actor)))
        if target:
            stmt = stmt.where(events.c.target_id.in_(self.entity_ids(target)))
        if type:
            stmt = stmt.where(events.c.type == type.upper())
        if modality:
            stmt = stmt.where(events.c.modality == modality)
        stmt = self._date_filter(stmt, since, until)
        stmt = stmt.order_by(documents.c.published.nulls_last(), events.c.doc_id,
                             events.c.start).limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        out = [{
            "date": (r["time"] if r["time"] and re.match(r"\d{4}-\d{2}-\d{2}$", r["time"])
                     else _iso(r["published"])),
            "published": _iso(r["published"]), "doc_id": r["doc_id"], "id": r["local_id"],
            "outlet": r["outlet"], "title": r["title"], "type": r["type"], "mode": r["mode"],
            "modality": r["modality"], "trigger": r["trigger"],
            "actor_id": r["actor_id"], "actor": r["actor_name"],
            "target_id": r["target_id"], "target": r["target_name"],
            "source_id": r["source_id"], "source": r["source_name"], "time": r["time"],
        } for r in rows]
        out.sort(key=lambda e: (e["date"] or "9999", e["doc_id"]))
        return out

    # -- entity profile -----------------------------------------------------------------
    def entity_profile(self, name: str, top: int = 15) -> dict | None:
        """Mentions over time, co-occurring entities and roles of one entity."""
        ids = self.entity_ids(name)
        if not ids:
            return None
        eid = ids[0]
        with self.engine.connect() as conn:
            ent = conn.execute(select(entities).where(entities.c.id == eid)).mappings().first()
            aliases = list(conn.execute(
                select(entity_names.c.surface).where(entity_names.c.entity_id == eid)
                .order_by(entity_names.c.surface)).scalars())
            per_doc = conn.execute(
                select(doc_entities.c.doc_id, doc_entities.c.n_mentions, documents.c.published)
                .join(documents, documents.c.id == doc_entities.c.doc_id)
                .where(doc_entities.c.entity_id == eid)).all()
            de2 = doc_entities.alias("de2")
            co = conn.execute(
                select(de2.c.entity_id, entities.c.name, entities.c.type,
                       func.count().label("n"))
                .select_from(doc_entities.join(de2, and_(
                    de2.c.doc_id == doc_entities.c.doc_id, de2.c.entity_id != eid)))
                .join(entities, entities.c.id == de2.c.entity_id)
                .where(doc_entities.c.entity_id == eid)
                .group_by(de2.c.entity_id, entities.c.name, entities.c.type)
                .order_by(func.count().desc(), entities.c.name).limit(top)).all()

            def count(stmt) -> int:
                return int(conn.execute(stmt).scalar() or 0)

            roles = {
                "speaker": count(select(func.count()).where(statements.c.speaker_id == eid)),
                "spoken_about": count(select(func.count()).select_from(statement_about)
                                      .where(statement_about.c.entity_id == eid)),
                "figure_source": count(select(func.count()).where(quantities.c.source_id == eid)),
                "actor": count(select(func.count()).where(events.c.actor_id == eid)),
                "target": count(select(func.count()).where(events.c.target_id == eid)),
            }
            as_actor = dict(conn.execute(select(events.c.type, func.count())
                                         .where(events.c.actor_id == eid)
                                         .group_by(events.c.type)).all())
            as_target = dict(conn.execute(select(events.c.type, func.count())
                                          .where(events.c.target_id == eid)
                                          .group_by(events.c.type)).all())
        by_month: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for _, n, pub in per_doc:
            key = pub.strftime("%Y-%m") if pub else "undated"
            by_month[key][0] += 1
            by_month[key][1] += n
        return {
            "id": eid, "name": ent["name"], "type": ent["type"], "iso3166": ent["iso3166"],
            "geonames": ent["geonames"], "also_matches": ids[1:], "aliases": aliases,
            "n_docs": len(per_doc), "n_mentions": sum(n for _, n, _ in per_doc),
            "mentions_over_time": [{"month": k, "docs": v[0], "mentions": v[1]}
                                   for k, v in sorted(by_month.items())],
            "co_occurring": [{"id": i, "name": nm, "type": t, "docs": n} for i, nm, t, n in co],
            "roles": roles, "events_as_actor": as_actor, "events_as_target": as_target,
        }

    # -- full text ----------------------------------------------------------------------
    def search(self, query: str, scope: str = "documents", limit: int = 20) -> list[dict]:
        """Full-text search over article text (title+text) or statements, best first.

        SQLite: FTS5 (bm25, unicode61 tokens; use word* for German inflection).
        PostgreSQL: tsvector with the German configuration (stemming), websearch syntax."""
        if scope not in ("documents", "statements"):
            raise ValueError("scope must be 'documents' or 'statements'")
        if self.store.dialect == "postgresql":
            return self._search_pg(query, scope, limit)
        q = _fts5_query(query)
        if not q:
            return []
        if scope == "documents":
            sql = text(
                "SELECT d.id, d.title, d.published, d.source, "
                "snippet(documents_fts, 2, '[', ']', ' … ', 16) AS snippet, "
                "bm25(documents_fts) AS rank FROM documents_fts "
                "JOIN documents d ON d.id = documents_fts.doc_id "
                "WHERE documents_fts MATCH :q ORDER BY rank LIMIT :n")
        else:
            sql = text(
                "SELECT s.doc_id AS id, s.local_id, d.title, d.published, d.source, "
                "s.speaker_text, s.content AS snippet, bm25(statements_fts) AS rank "
                "FROM statements_fts JOIN statements s ON s.id = statements_fts.rowid "
                "JOIN documents d ON d.id = s.doc_id "
                "WHERE statements_fts MATCH :q ORDER BY rank LIMIT :n")
        with self.engine.connect() as conn:
            rows = conn.execute(sql, {"q": q, "n": limit}).mappings().all()
        return [self._hit(r, scope) for r in rows]

    def _search_pg(self, query: str, scope: str, limit: int) -> list[dict]:
        if scope == "documents":
            sql = text(
                "SELECT d.id, d.title, d.published, d.source, "
                "ts_headline('german', d.text, q, 'MaxFragments=1, MaxWords=30, MinWords=12, "
                "StartSel=[, StopSel=]') AS snippet, ts_rank(d.tsv, q) AS rank "
                "FROM documents d, websearch_to_tsquery('german', :q) q "
                "WHERE d.tsv @@ q ORDER BY rank DESC, d.id LIMIT :n")
        else:
            sql = text(
                "SELECT s.doc_id AS id, s.local_id, d.title, d.published, d.source, "
                "s.speaker_text, s.content AS snippet, ts_rank(s.tsv, q) AS rank "
                "FROM statements s JOIN documents d ON d.id = s.doc_id, "
                "websearch_to_tsquery('german', :q) q "
                "WHERE s.tsv @@ q ORDER BY rank DESC, s.id LIMIT :n")
        with self.engine.connect() as conn:
            rows = conn.execute(sql, {"q": query, "n": limit}).mappings().all()
        return [self._hit(r, scope) for r in rows]

    @staticmethod
    def _hit(r, scope: str) -> dict:
        hit = {"doc_id": r["id"], "title": r["title"], "published": _iso(r["published"]),
               "outlet": r["source"], "snippet": r["snippet"], "rank": float(r["rank"])}
        if scope == "statements":
            hit["id"] = r["local_id"]
            hit["speaker_text"] = r["speaker_text"]
        return hit

    def document(self, doc_id: str) -> dict | None:
        """The stored record of one article (as JSON dict)."""
        with self.engine.connect() as conn:
            raw = conn.execute(select(documents.c.record)
                               .where(documents.c.id == doc_id)).scalar()
        return json.loads(raw) if raw else None

    # -- exports ------------------------------------------------------------------------
    def table_query(self, table: str) -> Select:
        """The flat, readable rows of one export table (names joined in, dates kept)."""
        if table == "documents":
            return select(documents.c.id, documents.c.title, documents.c.published,
                          documents.c.source, documents.c.url, documents.c.input,
                          documents.c.ingested_at, documents.c.text).order_by(documents.c.id)
        if table == "entities":
            agg = (select(doc_entities.c.entity_id, func.count().label("n_docs"),
                          func.sum(doc_entities.c.n_mentions).label("n_mentions"))
                   .group_by(doc_entities.c.entity_id).subquery())
            return (select(entities.c.id, entities.c.name, entities.c.type,
                           entities.c.iso3166, entities.c.geonames,
                           func.coalesce(agg.c.n_docs, 0).label("n_docs"),
                           func.coalesce(agg.c.n_mentions, 0).label("n_mentions"))
                    .outerjoin(agg, agg.c.entity_id == entities.c.id).order_by(entities.c.id))
        if table == "mentions":
            return (select(doc_entities.c.doc_id, doc_entities.c.local_id,
                           doc_entities.c.entity_id, doc_entities.c.name,
                           doc_entities.c.n_mentions, doc_entities.c.first_start)
                    .order_by(doc_entities.c.doc_id, doc_entities.c.local_id))
        if table == "statements":
            spk = entities.alias("spk")
            return (select(statements.c.doc_id, statements.c.local_id.label("id"),
                           documents.c.published, documents.c.source.label("outlet"),
                           statements.c.kind, statements.c.mood, statements.c.speaker_id,
                           spk.c.name.label("speaker"), statements.c.speaker_text,
                           statements.c.cue, statements.c.content, statements.c.start,
                           statements.c.end, statements.c.confidence)
                    .join(documents, documents.c.id == statements.c.doc_id)
                    .outerjoin(spk, spk.c.id == statements.c.speaker_id)
                    .order_by(statements.c.doc_id, statements.c.start))
        if table == "quantities":
            src = entities.alias("src")
            return (select(quantities.c.doc_id, quantities.c.local_id.label("id"),
                           documents.c.published, documents.c.source.label("outlet"),
                           quantities.c.text, quantities.c.value, quantities.c.low,
                           quantities.c.high, quantities.c.approximate, quantities.c.unit,
                           quantities.c.quantifies, quantities.c.what, quantities.c.source_id,
                           src.c.name.label("source"), quantities.c.statement,
                           quantities.c.start, quantities.c.end, quantities.c.sentence)
                    .join(documents, documents.c.id == quantities.c.doc_id)
                    .outerjoin(src, src.c.id == quantities.c.source_id)
                    .order_by(quantities.c.doc_id, quantities.c.start))
        if table == "events":
            act, tgt = entities.alias("act"), entities.alias("tgt")
            return (select(events.c.doc_id, events.c.local_id.label("id"), documents.c.published,
                           documents.c.source.label("outlet"), events.c.type, events.c.mode,
                           events.c.modality, events.c.trigger, events.c.actor_id,
                           act.c.name.label("actor"), events.c.target_id,
                           tgt.c.name.label("target"), events.c.source_id, events.c.place_id,
                           events.c.time, events.c.statement, events.c.start, events.c.end)
                    .join(documents, documents.c.id == events.c.doc_id)
                    .outerjoin(act, act.c.id == events.c.actor_id)
                    .outerjoin(tgt, tgt.c.id == events.c.target_id)
                    .order_by(events.c.doc_id, events.c.start))
        raise ValueError(f"unknown table {table!r}; choose from {', '.join(EXPORT_TABLES)}")

    def iter_rows(self, table: str, chunk: int = 2000) -> Iterator[dict]:
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=chunk).execute(self.table_query(table))
            for row in result.mappings():
                yield dict(row)

    def iter_records(self) -> Iterator[str]:
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=500).execute(
                select(documents.c.record).order_by(documents.c.id))
            yield from result.scalars()

    def export(self, fmt: str, out: str | Path, table: str | None = None) -> list[Path]:
        """Write the corpus: `jsonl` (records, or one table), `csv`/`parquet` (one table,
        or every table into the folder `out`), `graphml` (the actor network)."""
        out = Path(out)
        if fmt == "graphml":
            out.parent.mkdir(parents=True, exist_ok=True)
            self.write_graphml(out)
            return [out]
        if fmt == "jsonl" and table in (None, "records"):
            out.parent.mkdir(parents=True, exist_ok=True)
            with _atomic(out) as fh:
                for raw in self.iter_records():
                    fh.write(raw + "\n")
            return [out]
        if fmt not in ("jsonl", "csv", "parquet"):
            raise ValueError(f"unknown export format {fmt!r}")
        tables = [table] if table else list(EXPORT_TABLES)
        written = []
        for t in tables:
            if table:
                target = out
            else:
                out.mkdir(parents=True, exist_ok=True)
                target = out / f"{t}.{fmt}"
            target.parent.mkdir(parents=True, exist_ok=True)
            {"jsonl": self._write_jsonl, "csv": self._write_csv,
             "parquet": self._write_parquet}[fmt](t, target)
            written.append(target)
        return written

    def _write_jsonl(self, table: str, path: Path) -> None:
        with _atomic(path) as fh:
            for row in self.iter_rows(table):
                fh.write(json.dumps({k: _iso(v) for k, v in row.items()},
                                    ensure_ascii=False) + "\n")

    def _write_csv(self, table: str, path: Path) -> None:
        cols = [c.name for c in self.table_query(table).selected_columns]
        with _atomic(path) as fh:
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            for row in self.iter_rows(table):
                w.writerow({k: _iso(v) for k, v in row.items()})

    def _write_parquet(self, table: str, path: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema([(c.name, _arrow_type(c.type))
                            for c in self.table_query(table).selected_columns])
        tmp = path.with_name(path.name + ".part")
        with pq.ParquetWriter(tmp, schema) as writer:
            batch: list[dict] = []
            for row in self.iter_rows(table):
                batch.append(row)
                if len(batch) >= 5000:
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                    batch = []
            if batch:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
        tmp.replace(path)

    def actor_network(self) -> tuple[dict[str, dict], dict[tuple[str, str, str], dict]]:
        """Nodes and weighted edges: event actor -> target (relation = PLOVER type) and
        speaker -> entity spoken about (relation = STATEMENT)."""
        edges: dict[tuple[str, str, str], dict] = {}
        with self.engine.connect() as conn:
            for a, t, typ, doc, pub in conn.execute(
                    select(events.c.actor_id, events.c.target_id, events.c.type, events.c.doc_id,
                           documents.c.published)
                    .join(documents, documents.c.id == events.c.doc_id)
                    .where(events.c.actor_id.is_not(None), events.c.target_id.is_not(None))):
                e = edges.setdefault((a, t, typ), {"weight": 0, "docs": set(), "first": None,
                                                   "last": None})
                _edge_add(e, doc, pub)
            for s, a, doc, pub in conn.execute(
                    select(statements.c.speaker_id, statement_about.c.entity_id,
                           statements.c.doc_id, documents.c.published)
                    .join(statement_about, and_(
                        statement_about.c.doc_id == statements.c.doc_id,
                        statement_about.c.local_id == statements.c.local_id))
                    .join(documents, documents.c.id == statements.c.doc_id)
                    .where(statements.c.speaker_id.is_not(None))):
                e = edges.setdefault((s, a, "STATEMENT"), {"weight": 0, "docs": set(),
                                                           "first": None, "last": None})
                _edge_add(e, doc, pub)
            node_ids = {n for (a, t, _) in edges for n in (a, t)}
            nodes = {r["id"]: dict(r) for r in conn.execute(
                select(entities.c.id, entities.c.name, entities.c.type, entities.c.iso3166)
                .where(entities.c.id.in_(node_ids))).mappings()} if node_ids else {}
        return nodes, edges

    def write_graphml(self, path: Path) -> None:
        """GraphML by hand: a dozen lines of XML do not justify networkx as a dependency."""
        nodes, edges = self.actor_network()
        keys = [("node", "name", "string"), ("node", "type", "string"),
                ("node", "iso3166", "string"), ("edge", "relation", "string"),
                ("edge", "weight", "int"), ("edge", "docs", "int"),
                ("edge", "first", "string"), ("edge", "last", "string")]
        with _atomic(path) as fh:
            fh.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                     '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
                     'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                     'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
                     'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n')
            for dom, name, typ in keys:
                fh.write(f'  <key id="{dom[0]}_{name}" for="{dom}" attr.name="{name}" '
                         f'attr.type="{typ}"/>\n')
            fh.write('  <graph id="actors" edgedefault="directed">\n')
            for nid in sorted(nodes):
                n = nodes[nid]
                fh.write(f"    <node id={quoteattr(nid)}>")
                for k in ("name", "type", "iso3166"):
                    if n.get(k):
                        fh.write(f'<data key="n_{k}">{escape(str(n[k]))}</data>')
                fh.write("</node>\n")
            for i, ((a, t, rel), e) in enumerate(sorted(edges.items())):
                fh.write(f'    <edge id="x{i}" source={quoteattr(a)} target={quoteattr(t)}>'
                         f'<data key="e_relation">{escape(rel)}</data>'
                         f'<data key="e_weight">{e["weight"]}</data>'
                         f'<data key="e_docs">{len(e["docs"])}</data>')
                for k in ("first", "last"):
                    if e[k]:
                        fh.write(f'<data key="e_{k}">{e[k].isoformat()}</data>')
                fh.write("</edge>\n")
            fh.write("  </graph>\n</graphml>\n")


EXPORT_TABLES = ("documents", "entities", "mentions", "statements", "quantities", "events")


def _edge_add(e: dict, doc: str, pub: date | None) -> None:
    e["weight"] += 1
    e["docs"].add(doc)
    if pub:
        e["first"] = min(e["first"], pub) if e["first"] else pub
        e["last"] = max(e["last"], pub) if e["last"] else pub


def _arrow_type(sa_type):
    import pyarrow as pa
    from sqlalchemy import Date, DateTime, Float, Integer

    if isinstance(sa_type, Integer):
        return pa.int64()
    if isinstance(sa_type, Float):
        return pa.float64()
    if isinstance(sa_type, DateTime):
        return pa.timestamp("us", tz="UTC")
    if isinstance(sa_type, Date):
        return pa.date32()
    return pa.string()


class _atomic:
    """Write to `path.part`, rename on success: an interrupted export leaves no half file."""

    def __init__(self, path: Path):
        self.path = path
        self.tmp = path.with_name(path.name + ".part")

    def __enter__(self):
        self.fh = self.tmp.open("w", encoding="utf-8", newline="")
        return self.fh

    def __exit__(self, exc_type, *rest) -> None:
        self.fh.close()
        if exc_type is None:
            self.tmp.replace(self.path)
        else:
            self.tmp.unlink(missing_ok=True)


