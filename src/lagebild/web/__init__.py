"""`lagebild serve`: a REST API and server-rendered pages on top of the corpus store.

`create_app(db_url, token)` builds the FastAPI application; `lagebild.cli_web` wires it
to the command line. Everything the browser needs (CSS, the two small scripts) is served
by the app itself, so the tool works on an air-gapped analyst machine.
"""

from __future__ import annotations

__all__ = ["create_app"]


def create_app(*args, **kwargs):
    """Lazy re-export: importing `lagebild.web` must not pull in FastAPI."""
    from .app import create_app as _create

    return _create(*args, **kwargs)
