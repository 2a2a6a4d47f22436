"""Corpus commands: `lagebild ingest|failures|query|export`, registered by `add_commands`.

The store is `--db` (a path or a postgresql:// URL), else `$LAGEBILD_DB`, else
`lagebild.db` in the current folder. Query output is a readable listing by default and
JSON with `--json` (for scripts; the same dicts the Python API returns).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .ingest import MAX_BYTES


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="store: SQLite path or postgresql://user@host/db "
                                "(default: $LAGEBILD_DB or ./lagebild.db)")


def _open(args: argparse.Namespace):
    from .corpus import Corpus

    return Corpus(args.db)


def _dump(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=1, default=str) + "\n")


def cmd_ingest(args: argparse.Namespace) -> int:
    progress = False if args.quiet else (True if args.progress else None)
    with _open(args) as corpus:
        stats = corpus.ingest(args.paths, use_models=not args.no_models,
                              published=args.published, encoding=args.encoding,
                              max_bytes=args.max_bytes, progress=progress)
    for f in stats.failures[:20]:
        print(f"lagebild: {f['input']}: {f['message']} [{f['reason']}]", file=sys.stderr)
    if len(stats.failures) > 20:
        print(f"lagebild: ... {len(stats.failures) - 20} more (see `lagebild failures`)",
              file=sys.stderr)
    if args.json:
        d = stats.to_dict()
        d.pop("failures")
        _dump(d)
    rate = stats.added / stats.elapsed_s if stats.elapsed_s else 0.0
    print(f"lagebild: {stats.items} inputs: added {stats.added}, already stored "
          f"{stats.existing}, failed {stats.failed} in {stats.elapsed_s:.1f}s "
          f"({rate:.1f} articles/s, store {100 * stats.store_overhead:.1f}% of analysis)",
          file=sys.stderr)
    return 1 if stats.failed else 0


def cmd_failures(args: argparse.Namespace) -> int:
    with _open(args) as corpus:
        rows = corpus.failures()
    if args.json:
        _dump(rows)
        return 0
    for r in rows:
        print(f"{r['input']}\t{r['reason']}\t{r['message']}")
    print(f"{len(rows)} failed input(s)", file=sys.stderr)
    return 0


def _fmt_value(f: dict) -> str:
    if f["value"] is not None:
        v = f"{f['value']:,.0f}".replace(",", ".") if float(f["value"]).is_integer() \
            else str(f["value"])
    else:
        v = f"{f['low']}–{f['high']}"
    return f"{f['approximate'] + ' ' if f['approximate'] else ''}{v}"


def cmd_query(args: argparse.Namespace) -> int:
    with _open(args) as corpus:
        kind = args.query
        if kind == "statements":
            rows: Any = corpus.statements(speaker=args.speaker, about=args.about,
                                          since=args.since, until=args.until, kind=args.kind,
                                          limit=args.limit)
        elif kind == "claims":
            rows = corpus.claims(what=args.what, about=args.about, since=args.since,
                                 until=args.until, tolerance=args.tolerance,
                                 min_docs=args.min_docs, limit=args.limit)
        elif kind == "timeline":
            rows = corpus.timeline(actor=args.actor, target=args.target, type=args.type,
                                   modality=args.modality, since=args.since, until=args.until,
                                   limit=args.limit)
        elif kind == "entity":
            rows = corpus.entity_profile(args.name)
            if rows is None:
                print(f"lagebild: no entity matches {args.name!r}", file=sys.stderr)
                return 1
        else:
            rows = corpus.search(args.text, scope="statements" if args.statements
                                 else "documents", limit=args.limit)
    if args.json:
        _dump(rows)
        return 0
    _print_query(kind, rows)
    return 0


def _print_query(kind: str, rows: Any) -> None:
    out = sys.stdout
    if kind == "statements":
        for r in rows:
            out.write(f"{r['published'] or '----------'}  {r['speaker'] or '(unnamed)'} "
                      f"[{r['kind']}, {r['mood']}] ({r['outlet'] or r['doc_id']}):\n"
                      f"    {r['content']}\n")
    elif kind == "claims":
        for g in rows:
            flag = "  DISAGREEMENT" if g["disagreement"] else ""
            spread = g["spread"] or {}
            out.write(f"{g['what']}: {g['n_figures']} figures in {g['n_docs']} articles, "
                      f"{spread.get('min')} … {spread.get('max')}{flag}\n")
            for f in g["figures"]:
                out.write(f"  {f['published'] or '----------'}  {_fmt_value(f):>16}  "
                          f"{f['source']:<28} {f['text']!r} ({f['outlet'] or f['doc_id']})\n")
    elif kind == "timeline":
        for e in rows:
            out.write(f"{e['date'] or '----------'}  {e['type']:<10} {e['modality']:<11} "
                      f"{e['actor'] or '?'} -> {e['target'] or '?'}  ({e['trigger']!r}, "
                      f"{e['outlet'] or e['doc_id']})\n")
    elif kind == "entity":
        p = rows
        out.write(f"{p['name']} ({p['type']}, {p['id']}): {p['n_mentions']} mentions in "
                  f"{p['n_docs']} articles\n  also written: {', '.join(p['aliases'])}\n"
                  f"  roles: {', '.join(f'{k} {v}' for k, v in p['roles'].items())}\n"
                  "  with: " + ", ".join(f"{c['name']} ({c['docs']})" for c in p["co_occurring"])
                  + "\n  over time: " + ", ".join(f"{m['month']}: {m['docs']}"
                                                  for m in p["mentions_over_time"]) + "\n")
    else:
        for h in rows:
            out.write(f"{h['published'] or '----------'}  {h['doc_id']}  "
                      f"{h['title'] or ''}\n    {h['snippet']}\n")


def cmd_export(args: argparse.Namespace) -> int:
    with _open(args) as corpus:
        written = corpus.export(args.format, args.out, table=args.table)
    for path in written:
        print(f"lagebild: wrote {path}", file=sys.stderr)
    return 0


def add_commands(subparsers) -> None:
    """Register the corpus commands on the `lagebild` parser's sub-parsers."""
    i = subparsers.add_parser(
        "ingest", help="analyse articles into the corpus store (resumable, no duplicates)",
        description="Reads text/HTML files, JSON Lines, JSON, RSS/Atom feeds, WARC and CSV, "
                    "folders recursively. Already stored articles are skipped; failed inputs "
                    "are recorded (see `lagebild failures`).")
    i.add_argument("paths", nargs="+", help="files or folders")
    _db_arg(i)
    i.add_argument("--published", help="default publication date YYYY-MM-DD")
    i.add_argument("--encoding", help="input encoding if not UTF-8")
    i.add_argument("--max-bytes", type=int, default=MAX_BYTES, help="size limit per article")
    i.add_argument("--no-models", action="store_true", help="rules only (no trained models)")
    i.add_argument("--progress", action="store_true", help="progress bar even without a TTY")
    i.add_argument("--quiet", action="store_true", help="no progress bar")
    i.add_argument("--json", action="store_true", help="print run statistics as JSON")
    i.set_defaults(func=cmd_ingest)

    f = subparsers.add_parser("failures", help="list inputs that could not be ingested, with why")
    _db_arg(f)
    f.add_argument("--json", action="store_true")
    f.set_defaults(func=cmd_failures)

    q = subparsers.add_parser("query", help="ask the corpus: statements, claims, timeline, "
                                            "entity, search")
    qs = q.add_subparsers(dest="query", required=True)

    def common(p: argparse.ArgumentParser, dates: bool = True, limit: int = 50) -> None:
        _db_arg(p)
        p.add_argument("--json", action="store_true", help="JSON output")
        p.add_argument("--limit", type=int, default=limit)
        if dates:
            p.add_argument("--since", help="published on or after YYYY-MM-DD")
            p.add_argument("--until", help="published on or before YYYY-MM-DD")
        p.set_defaults(func=cmd_query)

    s = qs.add_parser("statements", help="who said what (by speaker and/or about an entity)")
    s.add_argument("--speaker")
    s.add_argument("--about")
    s.add_argument("--kind", choices=["direct", "indirect", "mixed", "according_to", "reported"])
    common(s)
    c = qs.add_parser("claims", help="figures about the same thing across articles")
    c.add_argument("--what", help="what is counted, e.g. Soldaten")
    c.add_argument("--about", help="entity the figures are about, e.g. Nordkorea")
    c.add_argument("--tolerance", type=float, default=0.1,
                   help="relative difference still counted as agreement")
    c.add_argument("--min-docs", type=int, default=1)
    common(c, limit=20)
    t = qs.add_parser("timeline", help="events by actor/target/type/modality in date order")
    t.add_argument("--actor")
    t.add_argument("--target")
    t.add_argument("--type", help="PLOVER type, e.g. THREATEN")
    t.add_argument("--modality")
    common(t, limit=200)
    e = qs.add_parser("entity", help="profile of one entity: mentions over time, roles, company")
    e.add_argument("name")
    common(e, dates=False)
    x = qs.add_parser("search", help="full-text search over articles or statements")
    x.add_argument("text")
    x.add_argument("--statements", action="store_true", help="search statements, not articles")
    common(x, dates=False, limit=20)

    ex = subparsers.add_parser("export", help="write the corpus as JSON Lines, CSV, Parquet "
                                              "or GraphML")
    ex.add_argument("format", choices=["jsonl", "csv", "parquet", "graphml"])
    ex.add_argument("out", help="file, or folder for all tables (csv/parquet without --table)")
    ex.add_argument("--table", choices=["records", "documents", "entities", "mentions",
                                        "statements", "quantities", "events"],
                    help="one table (jsonl default: whole records)")
    _db_arg(ex)
    ex.set_defaults(func=cmd_export)
