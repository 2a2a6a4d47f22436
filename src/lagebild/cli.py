"""Command line: `lagebild analyze|eval|schema` here; corpus, web and batch commands are
registered by `cli_corpus`, `cli_web` and `cli_batch`.

Batch semantics follow what analysts need on real folders of scraped articles: one bad
file never stops the run, every failure is reported with its reason, and re-running
with the same `--out` only does what is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from .cli_batch import add_commands as add_batch_commands
from .cli_corpus import add_commands as add_corpus_commands
from .cli_web import add_commands as add_web_commands
from .ingest import MAX_BYTES, InputError, read_path

INPUT_SUFFIXES = {".txt", ".text", ".html", ".htm", ".xhtml", ".md"}
FORMAT_SUFFIX = {"json": ".json", "text": ".txt", "html": ".html"}


def iter_inputs(paths: list[str]) -> Iterator[tuple[Path, Path]]:
    """(file, root) for every input file; folders are walked recursively in sorted order."""
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in INPUT_SUFFIXES and not f.name.startswith("."):
                    yield f, p
        else:
            yield p, p.parent


def _out_name(path: Path, root: Path, fmt: str) -> str:
    try:
        rel = path.relative_to(root)
    except ValueError:
        rel = Path(path.name)
    stem = "__".join(rel.with_suffix("").parts)
    return stem + FORMAT_SUFFIX[fmt]


def _render(record, fmt: str) -> str:
    from .render import to_html, to_text

    if fmt == "json":
        return record.to_json() + "\n"
    if fmt == "html":
        return to_html(record)
    return to_text(record)


def _atomic_write(path: Path, content: str) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(content, encoding="utf-8")
    os.replace(tmp, path)


def cmd_analyze(args: argparse.Namespace) -> int:
    from .pipeline import analyze_document

    inputs = list(iter_inputs(args.paths))
    if not inputs:
        print("lagebild: no input files found", file=sys.stderr)
        return 2
    out_dir = Path(args.out) if args.out else None
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    failures: list[dict] = []
    done = skipped = 0
    t0 = time.perf_counter()
    for path, root in inputs:
        target = out_dir / _out_name(path, root, args.format) if out_dir else None
        if target is not None and target.exists() and not args.force:
            skipped += 1
            continue
        try:
            document = read_path(path, published=args.published, encoding=args.encoding,
                                 max_bytes=args.max_bytes)
            record = analyze_document(document, use_models=not args.no_models)
        except InputError as exc:
            failures.append({"path": str(path), "reason": exc.reason, "message": exc.message})
            print(f"lagebild: {path}: {exc.message} [{exc.reason}]", file=sys.stderr)
            continue
        except Exception as exc:  # noqa: BLE001 - one article must never stop a batch
            failures.append({"path": str(path), "reason": "internal", "message": repr(exc)})
            print(f"lagebild: {path}: internal error: {exc!r}", file=sys.stderr)
            continue
        text = _render(record, args.format)
        if target is not None:
            _atomic_write(target, text)
        elif args.format == "json" and len(inputs) > 1:
            sys.stdout.write(record.to_json(indent=None) + "\n")
        else:
            sys.stdout.write(text)
        done += 1
    if out_dir is not None:
        fail_file = out_dir / "failures.jsonl"
        if failures:
            _atomic_write(fail_file, "".join(json.dumps(f, ensure_ascii=False) + "\n"
                                             for f in failures))
        elif fail_file.exists():
            fail_file.unlink()
    if len(inputs) > 1 or failures:
        dt = time.perf_counter() - t0
        print(f"lagebild: analysed {done}, skipped {skipped} (already done), failed "
              f"{len(failures)} in {dt:.1f}s", file=sys.stderr)
    return 1 if failures else 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluate.gold import evaluate_gold_dir, format_report

    result: dict = {}
    if args.gold_dir:
        result["gold"] = evaluate_gold_dir(Path(args.gold_dir), use_models=not args.no_models)
    if args.quotes:
        from .evaluate.quotes import evaluate_quotes

        result["quotes"] = evaluate_quotes(Path(args.quotes))
    if args.save:
        Path(args.save).write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n",
                                   encoding="utf-8")
    if args.json:
        print(json.dumps(result, indent=1, ensure_ascii=False))
    else:
        print(format_report(result))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from .schema import json_schema

    print(json.dumps(json_schema(), indent=1, ensure_ascii=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lagebild",
        description="German news articles to a sourced record: entities, who said what, "
        "claimed figures and political events, with character offsets.")
    sub = parser.add_subparsers(dest="command", required=True)

    a = sub.add_parser("analyze", help="analyse German articles (text or HTML) into records")
    a.add_argument("paths", nargs="+", help="files or folders (walked recursively)")
    a.add_argument("--published", help="publication date YYYY-MM-DD (anchors 'am Mittwoch')")
    a.add_argument("--format", choices=["json", "text", "html"], default="json")
    a.add_argument("--out", help="write one file per article into this folder (resumable)")
    a.add_argument("--force", action="store_true", help="with --out: redo existing outputs")
    a.add_argument("--encoding", help="input encoding if not UTF-8, e.g. latin-1")
    a.add_argument("--max-bytes", type=int, default=MAX_BYTES, help="size limit per article")
    a.add_argument("--no-models", action="store_true", help="rules only (no trained models)")
    a.set_defaults(func=cmd_analyze)

    e = sub.add_parser("eval", help="score against gold records and/or the WikiNews quote data")
    e.add_argument("gold_dir", nargs="?", help="folder of gold JSON files (see docs/EVALUATION.md)")
    e.add_argument("--quotes", help="WikiNews quotation split folder, e.g. ../shared/data/quotes_wikinews/dev")
    e.add_argument("--json", action="store_true", help="print the figures as JSON")
    e.add_argument("--save", help="also write the figures as JSON to this file")
    e.add_argument("--no-models", action="store_true")
    e.set_defaults(func=cmd_eval)

    s = sub.add_parser("schema", help="print the JSON Schema of the record format")
    s.set_defaults(func=cmd_schema)
    add_corpus_commands(sub)
    add_web_commands(sub)
    add_batch_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "command", None) == "eval" and not (args.gold_dir or args.quotes):
        print("lagebild eval: give a GOLD_DIR and/or --quotes DIR", file=sys.stderr)
        return 2
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
