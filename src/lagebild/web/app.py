"""The FastAPI application: settings, safety middleware, and the two routers.

Safety is decided here, once, for every route:
* request bodies are capped (`max_body`, default 2 MB -> 413) before anything parses them;
* every response carries a strict Content-Security-Policy (scripts and styles only from
  this server), so even an escaping bug could not run injected script;
* CORS stays off unless origins are named (`cors_origins` / `$LAGEBILD_CORS_ORIGINS`):
  a browser page on another site cannot read the corpus through a visitor's browser;
* writing needs the bearer token from `$LAGEBILD_TOKEN`; without one the server is
  read-only (analysis of pasted text stores nothing and stays open).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ..corpus import Corpus

HERE = Path(__file__).resolve().parent
DEFAULT_MAX_BODY = 2_000_000
DEFAULT_ANALYZE_TIMEOUT = 60.0

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
_SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


@dataclass
class WebContext:
    """What every route needs: the corpus, the write token, the limits and the caches."""

    corpus: Corpus
    token: str | None
    max_body: int
    analyze_timeout: float
    use_models: bool = True
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    #: analyses allowed at once; more get 503 at once instead of queueing behind a timeout
    max_analyses: int = 2
    running: int = 0
    #: how stale a cached answer may be when another process (`lagebild ingest`) writes
    recheck_s: float = 1.0
    cache: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    cache_lock: threading.Lock = field(default_factory=threading.Lock)
    _version: Any = None
    _checked: float = -1e9

    def fresh_version(self) -> Any | None:
        """The corpus version if it was checked within `recheck_s`, else None."""
        if time.monotonic() - self._checked < self.recheck_s:
            return self._version
        return None

    def version(self) -> Any:
        """A value that changes whenever an article is added (count, newest ingest time);
        read from the store at most every `recheck_s` seconds."""
        v = self.fresh_version()
        if v is not None:
            return v
        from .queries import fingerprint

        v = fingerprint(self.corpus.engine)
        with self.cache_lock:
            self._version, self._checked = v, time.monotonic()
        return v

    def invalidate(self) -> None:
        """After a write through this server: the next request sees it."""
        with self.cache_lock:
            self._checked = -1e9
            self.cache.clear()

    def cached(self, name: str, compute: Callable[[], Any]) -> Any:
        """Corpus-wide aggregates (network, entity counts) recomputed only when the corpus
        changed."""
        v = self.version()
        with self.cache_lock:
            hit = self.cache.get(name)
        if hit is not None and hit[0] == v:
            return hit[1]
        value = compute()
        with self.cache_lock:
            self.cache[name] = (v, value)
        return value


async def _send_json(send: Send, status: int, detail: str, extra: list | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(extra or [])]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Reject bodies over `max_bytes` with 413: by Content-Length up front, and by
    counting for chunked uploads that declare no length."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    size = int(value)
                except ValueError:
                    await _send_json(send, 400, "Content-Length is not a number")
                    return
                if size > limit:
                    await _send_json(send, 413, f"request body of {size} bytes is over the "
                                                f"limit of {limit} bytes")
                    return
        seen = 0
        started = responded = False

        async def counted() -> dict:
            # answer 413 ourselves and tell the app the client went away: raising here
            # would be turned into a 400 "error parsing the body" by FastAPI
            nonlocal seen, responded
            if responded:
                return {"type": "http.disconnect"}
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    if not started:
                        await _send_json(send, 413, f"request body is over the limit of "
                                                    f"{limit} bytes")
                    responded = True
                    return {"type": "http.disconnect"}
            return msg

        async def watch(msg: dict) -> None:
            nonlocal started
            if responded:
                return  # the app's reaction to the cut-off body is not sent
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counted, watch)
        except Exception:
            if not responded:
                raise


class ResponseCache:
    """Answers to GET /api/... kept until the corpus changes.

    The store is read-mostly (articles are added in batches, never edited), so a list or
    profile computed once stays right until the next article arrives; the corpus version
    (`WebContext.version`) is part of every entry. Only complete 200 responses under
    `max_entry` bytes are kept, least recently used first out. `X-Cache: hit|miss` says
    which one a client got; `create_app(response_cache=False)` turns it off."""

    def __init__(self, app, ctx: WebContext, max_entries: int = 4096,
                 max_entry: int = 1_000_000):
        from collections import OrderedDict

        self.app = app
        self.ctx = ctx
        self.max_entries = max_entries
        self.max_entry = max_entry
        self.entries: OrderedDict[bytes, tuple[Any, int, list, bytes]] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "GET"
                or not scope["path"].startswith("/api/")):
            await self.app(scope, receive, send)
            return
        version = self.ctx.fresh_version()
        if version is None:
            from starlette.concurrency import run_in_threadpool

            version = await run_in_threadpool(self.ctx.version)
        key = scope["path"].encode() + b"?" + scope.get("query_string", b"")
        hit = self.entries.get(key)
        if hit is not None and hit[0] == version:
            self.entries.move_to_end(key)
            _, status, headers, body = hit
            await send({"type": "http.response.start", "status": status,
                        "headers": [*headers, (b"x-cache", b"hit")]})
            await send({"type": "http.response.body", "body": body})
            return
        start: dict | None = None
        chunks: list[bytes] = []
        size = 0

        async def capture(msg: dict) -> None:
            nonlocal start, size
            if msg["type"] == "http.response.start":
                start = msg
                msg = {**msg, "headers": [*msg.get("headers", []), (b"x-cache", b"miss")]}
            elif msg["type"] == "http.response.body" and start is not None:
                size += len(msg.get("body", b""))
                if size <= self.max_entry:
                    chunks.append(msg.get("body", b""))
                if not msg.get("more_body") and start["status"] == 200 \
                        and size <= self.max_entry:
                    self.entries[key] = (version, 200, list(start.get("headers", [])),
                                         b"".join(chunks))
                    while len(self.entries) > self.max_entries:
                        self.entries.popitem(last=False)
            await send(msg)

        await self.app(scope, receive, capture)


class SecurityHeaders:
    """Add CSP and friends to every response (HTML, JSON and static files alike)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add(msg: dict) -> None:
            if msg["type"] == "http.response.start":
                names = {k.lower() for k, _ in msg.get("headers", [])}
                msg["headers"] = list(msg.get("headers", [])) + [
                    h for h in _SECURITY_HEADERS if h[0] not in names]
            await send(msg)

        await self.app(scope, receive, add)


def create_app(db_url: str | None = None, token: str | None = None, *,
               max_body: int = DEFAULT_MAX_BODY,
               analyze_timeout: float = DEFAULT_ANALYZE_TIMEOUT,
               cors_origins: list[str] | None = None, use_models: bool = True,
               response_cache: bool | None = None, corpus: Corpus | None = None) -> FastAPI:
    """Build the app on the store at `db_url` (SQLite path or postgresql:// URL; default
    `$LAGEBILD_DB` or ./lagebild.db). `token` defaults to `$LAGEBILD_TOKEN`; without a
    token the server is read-only."""
    from . import api, pages

    if token is None:
        token = os.environ.get("LAGEBILD_TOKEN") or None
    if response_cache is None:
        response_cache = os.environ.get("LAGEBILD_WEB_CACHE", "1") not in ("0", "off", "no")
    if cors_origins is None:
        env = os.environ.get("LAGEBILD_CORS_ORIGINS", "")
        cors_origins = [o.strip() for o in env.split(",") if o.strip()]
    ctx = WebContext(corpus=corpus if corpus is not None else Corpus(db_url), token=token,
                     max_body=max_body, analyze_timeout=analyze_timeout,
                     use_models=use_models)
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        ctx.corpus.close()

    app = FastAPI(
        title="Lagebild", lifespan=lifespan,
        summary="Sourced records of German news articles: who said what, figures with "
                "their source, political events.",
        version=_version(),
        docs_url=None, redoc_url=None,  # the stock pages load their JS from a CDN
    )
    app.state.ctx = ctx
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    api.install_error_handlers(app)
    if response_cache:
        app.add_middleware(ResponseCache, ctx=ctx)
    if cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=cors_origins,
                           allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(BodyLimit, max_bytes=max_body)
    app.add_middleware(SecurityHeaders)

    return app


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` with several workers (settings via environment)."""
    return create_app(os.environ.get("LAGEBILD_DB"))


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("lagebild")
    except Exception:  # noqa: BLE001 - running from a source tree without metadata
        return "0"
