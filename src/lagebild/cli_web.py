"""`lagebild serve`: the web app and REST API on a corpus store (registered by `add_commands`).

Binds to 127.0.0.1 by default: the corpus may hold unpublished material, so exposing it
on a network is a decision (`--host 0.0.0.0`), not an accident. Writing (POST
/api/documents) is only possible when `$LAGEBILD_TOKEN` is set.
"""

from __future__ import annotations

import argparse
import os
import sys


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:  # pragma: no cover - uvicorn is a dependency
        print("lagebild serve: needs uvicorn (pip install uvicorn)", file=sys.stderr)
        return 2
    if args.db:
        os.environ["LAGEBILD_DB"] = args.db
    token = "on" if os.environ.get("LAGEBILD_TOKEN") else "off (read-only)"
    print(f"lagebild: serving {os.environ.get('LAGEBILD_DB', 'lagebild.db')} on "
          f"http://{args.host}:{args.port}/ (API docs /docs, writing {token})", file=sys.stderr)
    if args.workers > 1:
        uvicorn.run("lagebild.web.app:create_app_from_env", factory=True, host=args.host,
                    port=args.port, workers=args.workers, log_level=args.log_level,
                    timeout_keep_alive=30)
        return 0
    from .web.app import create_app

    app = create_app(args.db)
    if not args.no_preload:
        import threading

        from .nlp import get_nlp

        # load the models in the background: the first /api/analyze need not wait for it
        threading.Thread(target=get_nlp, daemon=True, name="lagebild-preload").start()
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level,
                timeout_keep_alive=30)
    return 0


def add_commands(subparsers) -> None:
    """Register `serve` on the `lagebild` parser's sub-parsers."""
    s = subparsers.add_parser("serve", help="web app and REST API on the corpus store",
                              description="Pages for articles, entities, claims and the actor "
                                          "network, and a JSON API (docs at /docs). Read-only "
                                          "unless $LAGEBILD_TOKEN is set.")
    s.add_argument("--db", help="store: SQLite path or postgresql://user@host/db "
                                "(default: $LAGEBILD_DB or ./lagebild.db)")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1,
                   help="server processes (more use more cores; each loads its own models)")
    s.add_argument("--log-level", default="info",
                   choices=["critical", "error", "warning", "info", "debug"])
    s.add_argument("--no-preload", action="store_true",
                   help="load the NLP models on the first analysis, not at start")
    s.set_defaults(func=cmd_serve)
