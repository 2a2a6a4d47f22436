"""REST routes under /api: JSON in, JSON out, every failure a 4xx with a sentence saying why.

Lists share one shape - `{"items": [...], "next_cursor": "..."}` - and one way of paging:
pass `next_cursor` back as `cursor` until it is null. Names in filters (`speaker`,
`entity`, `actor` ...) are resolved like on the command line: a corpus id (`E3f...`), a
name, an alias or a demonym ('Russen' finds Russland); an unknown name matches nothing.
Read routes are plain `def` functions: FastAPI runs them in its thread pool, which is
what a blocking database driver needs.
"""

from __future__ import annotations

import asyncio
import hmac
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from ..ingest import InputError, content_id, html_to_document, make_document
from ..schema import Document, EntityType, Modality, Mood, PloverType, Record, StatementKind
from ..store import DuplicateIdError
from ..store.schema import documents
from . import queries
from .app import WebContext
from .queries import CursorError, decode_cursor, encode_cursor

router = APIRouter(prefix="/api", tags=["api"])
#: Documents the bearer scheme in OpenAPI; the check itself is `check_token` (auto_error
#: off, so a missing header gets our 401 with a sentence instead of FastAPI's 403).
_bearer = HTTPBearer(auto_error=False, scheme_name="LAGEBILD_TOKEN")

# -- models (documentation and request validation; responses are built as plain dicts) --


class ErrorOut(BaseModel):
    detail: str | list[Any]


class _Page(BaseModel):
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page.")


class DocumentSummary(BaseModel):
    id: str
    title: str | None
    published: date | None
    source: str | None
    url: str | None
    n_chars: int
    n_statements: int
    n_events: int


class DocumentPage(_Page):
    items: list[DocumentSummary]


class DocumentOut(BaseModel):
    record: Record
    entity_ids: dict[str, str] = Field(
        description="Record-local entity id (e3) -> corpus entity id, for /api/entities/{id}.")


class EntitySummary(BaseModel):
    id: str
    name: str
    type: str
    iso3166: str | None
    n_docs: int
    n_mentions: int


class EntityPage(_Page):
    items: list[EntitySummary]


class StatementOut(BaseModel):
    doc_id: str
    id: str
    published: date | None
    outlet: str | None
    title: str | None
    kind: str
    mood: str
    speaker_id: str | None
    speaker: str | None
    speaker_text: str | None
    cue: str | None
    content: str
    start: int
    end: int
    confidence: float | None


class StatementPage(_Page):
    items: list[StatementOut]


class EventOut(BaseModel):
    doc_id: str
    id: str
    published: date | None
    outlet: str | None
    title: str | None
    type: str
    mode: str | None
    modality: str
    trigger: str
    start: int
    end: int
    actor_id: str | None
    actor: str | None
    target_id: str | None
    target: str | None
    source_id: str | None
    source: str | None
    time: str | None
    statement: str | None


class EventPage(_Page):
    items: list[EventOut]


class ClaimGroup(BaseModel):
    what: str
    n_figures: int
    n_docs: int
    sources: list[str]
    spread: dict[str, Any] | None
    disagreement: bool
    changes: list[dict[str, Any]]
    figures: list[dict[str, Any]]


class ClaimPage(_Page):
    items: list[ClaimGroup]


class SearchHit(BaseModel):
    doc_id: str
    title: str | None
    published: date | None
    outlet: str | None
    snippet: str | None
    rank: float
    id: str | None = None
    speaker_text: str | None = None


class SearchPage(_Page):
    items: list[SearchHit]


class NetworkOut(BaseModel):
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    n_edges_total: int


class _TextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, description="Plain article text (German).")
    html: str | None = Field(default=None, description="A web page; its main text is used.")
    published: date | None = Field(default=None, description="Anchors relative dates.")
    title: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _one_input(self):
        if (self.text is None) == (self.html is None):
            raise ValueError("give exactly one of 'text' or 'html'")
        return self


class AnalyzeIn(_TextIn):
    pass


class IngestIn(_TextIn):
    id: str | None = Field(default=None, min_length=1, max_length=200,
                           pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
                           description="Your id for the article; default: content hash.")
    url: str | None = Field(default=None, max_length=2000)
    source: str | None = Field(default=None, max_length=300, description="Outlet name.")


class IngestOut(BaseModel):
    id: str
    status: Literal["added", "exists"]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {c: {"model": ErrorOut} for c in codes}


# -- helpers ------------------------------------------------------------------------------

def ctx_of(request: Request) -> WebContext:
    return request.app.state.ctx


def entity_index(ctx: WebContext) -> list[dict]:
    return ctx.cached("entity_index", lambda: queries.entity_index(ctx.corpus.engine))


def resolve(ctx: WebContext, name: str | None) -> list[str] | None:
    """Filter value -> corpus ids (None: no filter; []: matches nothing)."""
    if name is None or not name.strip():
        return None
    return ctx.corpus.entity_ids(name.strip())


def _check_dates(since: date | None, until: date | None) -> None:
    if since and until and since > until:
        raise HTTPException(400, f"since ({since}) is after until ({until})")


def _listing(items: list[dict], nxt: str | None) -> JSONResponse:
    return JSONResponse({"items": items, "next_cursor": nxt})


def _offset(tag: str, cursor: str | None, max_offset: int = 10_000) -> int:
    if not cursor:
        return 0
    (offset,) = decode_cursor(tag, cursor, ["int"])
    if not 0 <= offset <= max_offset:
        raise CursorError("cursor is out of range")
    return offset


Limit = Annotated[int, Query(ge=1, le=200, description="Items per page.")]
Cursor = Annotated[str | None, Query(max_length=2000, description="`next_cursor` of the "
                                                                  "previous page.")]
Since = Annotated[date | None, Query(description="Published on or after (YYYY-MM-DD).")]
Until = Annotated[date | None, Query(description="Published on or before (YYYY-MM-DD).")]
Name = Annotated[str | None, Query(max_length=300)]


# -- read routes --------------------------------------------------------------------------

@router.get("/documents", response_model=DocumentPage, responses=_errors(400),
            summary="Articles, newest first")
def get_documents(request: Request, entity: Name = None,
                  source: Annotated[str | None, Query(max_length=300)] = None,
                  since: Since = None, until: Until = None, cursor: Cursor = None,
                  limit: Limit = 50) -> JSONResponse:
    ctx = ctx_of(request)
    _check_dates(since, until)
    items, nxt = queries.list_documents(ctx.corpus.engine, entity_ids=resolve(ctx, entity),
                                        source=source, since=since, until=until,
                                        cursor=cursor, limit=limit)
    return _listing(items, nxt)


@router.get("/documents/{doc_id}", response_model=DocumentOut, responses=_errors(404),
            summary="One article's full record")
def get_document(request: Request, doc_id: str) -> JSONResponse:
    ctx = ctx_of(request)
    rec = ctx.corpus.document(doc_id)
    if rec is None:
        raise HTTPException(404, f"no article with id {doc_id!r}")
    return JSONResponse({"record": rec,
                         "entity_ids": queries.local_to_corpus(ctx.corpus.engine, doc_id)})


@router.get("/entities", response_model=EntityPage, responses=_errors(400),
            summary="Entities across the corpus")
def get_entities(request: Request, type: EntityType | None = None,  # noqa: A002
                 q: Annotated[str | None, Query(max_length=300,
                                                description="Part of the name.")] = None,
                 sort: Literal["docs", "name"] = "docs", cursor: Cursor = None,
                 limit: Limit = 50) -> JSONResponse:
    ctx = ctx_of(request)
    items, nxt = queries.list_entities(ctx.corpus.engine, type=type, q=q, sort=sort,
                                       cursor=cursor, limit=limit, index=entity_index(ctx))
    return _listing(items, nxt)


@router.get("/entities/{entity_id}", response_model=dict[str, Any], responses=_errors(404),
            summary="Profile of one entity: mentions over time, roles, company")
def get_entity(request: Request, entity_id: str) -> JSONResponse:
    ctx = ctx_of(request)
    if len(entity_id) > 300:
        raise HTTPException(404, "no entity with that id")
    prof = ctx.corpus.entity_profile(entity_id)
    if prof is None:
        raise HTTPException(404, f"no entity matches {entity_id!r}")
    return JSONResponse(prof)


@router.get("/statements", response_model=StatementPage, responses=_errors(400),
            summary="Who said what")
def get_statements(request: Request, speaker: Name = None,
                   entity: Annotated[str | None, Query(max_length=300, description=
                                                       "Entity the statement is about.")] = None,
                   kind: StatementKind | None = None, mood: Mood | None = None,
                   doc_id: Annotated[str | None, Query(max_length=200)] = None,
                   since: Since = None, until: Until = None, cursor: Cursor = None,
                   limit: Limit = 50) -> JSONResponse:
    ctx = ctx_of(request)
    _check_dates(since, until)
    items, nxt = queries.list_statements(
        ctx.corpus.engine, speaker_ids=resolve(ctx, speaker),
        speaker_text=speaker.strip() if speaker and speaker.strip() else None,
        about_ids=resolve(ctx, entity), kind=kind, mood=mood, doc_id=doc_id, since=since,
        until=until, cursor=cursor, limit=limit)
    return _listing(items, nxt)


@router.get("/claims", response_model=ClaimPage, responses=_errors(400),
            summary="Figures about the same thing across articles, with disagreements")
def get_claims(request: Request,
               what: Annotated[str | None, Query(max_length=100, description=
                                                 "What is counted, e.g. Soldaten.")] = None,
               entity: Name = None, since: Since = None, until: Until = None,
               tolerance: Annotated[float, Query(ge=0, le=10)] = 0.1,
               min_docs: Annotated[int, Query(ge=1, le=1000)] = 1,
               cursor: Cursor = None, limit: Annotated[int, Query(ge=1, le=100)] = 20
               ) -> JSONResponse:
    ctx = ctx_of(request)
    _check_dates(since, until)
    offset = _offset("claims", cursor, max_offset=5000)
    if what is not None and not what.strip():
        what = None
    groups = claims_page(ctx, what=what, about=entity, since=since, until=until,
                         tolerance=tolerance, min_docs=min_docs, n=offset + limit + 1)
    items = groups[offset:offset + limit]
    nxt = encode_cursor("claims", [offset + limit]) if len(groups) > offset + limit else None
    return _listing(items, nxt)


def claims_page(ctx: WebContext, *, what: str | None, about: str | None, since, until,
                tolerance: float, min_docs: int, n: int) -> list[dict]:
    """`Corpus.claims` with an unknown `about` name matching nothing (not everything)."""
    if about and not resolve(ctx, about):
        return []
    return ctx.corpus.claims(what=what, about=about or None, since=since, until=until,
                             tolerance=tolerance, min_docs=min_docs, limit=n)


@router.get("/events", response_model=EventPage, responses=_errors(400),
            summary="Political events (PLOVER) with actor, target and modality")
def get_events(request: Request, actor: Name = None, target: Name = None,
               entity: Annotated[str | None, Query(max_length=300, description=
                                                   "Actor or target.")] = None,
               type: PloverType | None = None, modality: Modality | None = None,  # noqa: A002
               source: Annotated[str | None, Query(max_length=300, description=
                                                   "Who reports the event.")] = None,
               doc_id: Annotated[str | None, Query(max_length=200)] = None,
               since: Since = None, until: Until = None, cursor: Cursor = None,
               limit: Limit = 50) -> JSONResponse:
    ctx = ctx_of(request)
    _check_dates(since, until)
    items, nxt = queries.list_events(
        ctx.corpus.engine, actor_ids=resolve(ctx, actor), target_ids=resolve(ctx, target),
        entity_ids=resolve(ctx, entity), type=type, modality=modality,
        source_ids=resolve(ctx, source), doc_id=doc_id, since=since, until=until,
        cursor=cursor, limit=limit)
    return _listing(items, nxt)


@router.get("/search", response_model=SearchPage, responses=_errors(400),
            summary="Full-text search over articles or statements")
def get_search(request: Request,
               q: Annotated[str, Query(min_length=1, max_length=500,
                                       description="Words; \"a phrase\"; word* for prefixes.")],
               scope: Literal["documents", "statements"] = "documents",
               cursor: Cursor = None, limit: Annotated[int, Query(ge=1, le=100)] = 20
               ) -> JSONResponse:
    ctx = ctx_of(request)
    offset = _offset(f"search:{scope}", cursor, max_offset=1000)
    hits = search(ctx, q, scope, offset + limit + 1)
    nxt = (encode_cursor(f"search:{scope}", [offset + limit])
           if len(hits) > offset + limit and offset + limit <= 1000 else None)
    return _listing(hits[offset:offset + limit], nxt)


def search(ctx: WebContext, q: str, scope: str, n: int) -> list[dict]:
    if "\x00" in q:
        raise HTTPException(400, "the query contains a NUL character")
    try:
        return ctx.corpus.search(q, scope=scope, limit=n)
    except DBAPIError as exc:
        raise HTTPException(400, "the search engine could not parse this query; "
                                 "try plain words") from exc


@router.get("/network", response_model=NetworkOut, responses=_errors(400),
            summary="Actor network: who acts on whom (events) and speaks about whom")
def get_network(request: Request, type: Annotated[str | None, Query(
                    max_length=20, description="PLOVER type or STATEMENT")] = None,
                entity: Name = None,
                min_weight: Annotated[int, Query(ge=1, le=100000)] = 1,
                limit: Annotated[int, Query(ge=1, le=2000)] = 300) -> JSONResponse:
    return JSONResponse(network(ctx_of(request), type=type, entity=entity,
                                min_weight=min_weight, limit=limit))


def network(ctx: WebContext, *, type: str | None = None,  # noqa: A002
            entity: str | None = None, min_weight: int = 1, limit: int = 300) -> dict:
    """The heaviest `limit` edges of the actor network (optionally one relation type, or
    the ego network of one entity), with the nodes they touch."""
    nodes, edges = ctx.cached("network", ctx.corpus.actor_network)
    rel = type.upper() if type else None
    if rel and rel not in _RELATIONS:
        raise HTTPException(400, f"unknown relation {type!r}; use a PLOVER type or STATEMENT")
    ego = set(resolve(ctx, entity) or []) if entity else None
    picked = [(k, e) for k, e in edges.items()
              if e["weight"] >= min_weight and (rel is None or k[2] == rel)
              and (ego is None or k[0] in ego or k[1] in ego)]
    picked.sort(key=lambda kv: (-kv[1]["weight"], kv[0]))
    total = len(picked)
    picked = picked[:limit]
    used = {n for (a, t, _), _ in picked for n in (a, t)}
    return {
        "nodes": [{"id": n, "name": nodes[n]["name"], "type": nodes[n]["type"]}
                  for n in sorted(used) if n in nodes],
        "edges": [{"source": a, "target": t, "relation": r, "weight": e["weight"],
                   "docs": len(e["docs"]),
                   "first": e["first"].isoformat() if e["first"] else None,
                   "last": e["last"].isoformat() if e["last"] else None}
                  for (a, t, r), e in picked],
        "n_edges_total": total,
    }


_RELATIONS = set(PloverType.__args__) | {"STATEMENT"}  # type: ignore[attr-defined]


@router.get("/stats", response_model=dict[str, int], summary="Corpus size")
def get_stats(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    return JSONResponse(ctx.cached("counts", lambda: queries.counts(ctx.corpus.engine)))


# -- analysis and ingest ------------------------------------------------------------------

_EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lagebild-analyze")
_RUN_LOCK = threading.Lock()


def _document(body: _TextIn, name: str) -> Document:
    if body.html is not None:
        return html_to_document(body.html, published=body.published, name=name,
                                url=getattr(body, "url", None))
    doc = make_document(body.text or "", published=body.published, title=body.title,
                        doc_id=getattr(body, "id", None), url=getattr(body, "url", None),
                        source=getattr(body, "source", None), name=name)
    return doc


async def run_analysis(ctx: WebContext, body: _TextIn, name: str = "the text") -> Record:
    """Read + analyse in a bounded pool under `ctx.analyze_timeout`: at most
    `ctx.max_analyses` at once (503 beyond), 504 when one takes too long. A thread cannot
    be killed, so the slot is only freed when the analysis really ends."""
    with _RUN_LOCK:
        if ctx.running >= ctx.max_analyses:
            raise HTTPException(503, "the server is busy analysing other texts; retry in a "
                                     "few seconds", headers={"Retry-After": "5"})
        ctx.running += 1

    def work() -> Record:
        try:
            from ..pipeline import analyze_document

            document = _document(body, name)
            if isinstance(body, IngestIn) and body.html is not None:
                document = document.model_copy(update={
                    k: v for k, v in (("id", body.id), ("title", body.title),
                                      ("source", body.source)) if v})
            return analyze_document(document, use_models=ctx.use_models)
        finally:
            with _RUN_LOCK:
                ctx.running -= 1

    fut = asyncio.get_running_loop().run_in_executor(_EXECUTOR, work)
    try:
        return await asyncio.wait_for(fut, timeout=ctx.analyze_timeout)
    except TimeoutError as exc:
        raise HTTPException(504, f"analysis took longer than {ctx.analyze_timeout:g} s") \
            from exc
    except InputError as exc:
        status = 413 if exc.reason == "too_large" else 422
        raise HTTPException(status, exc.message) from exc


@router.post("/analyze", response_model=Record, responses=_errors(400, 413, 422, 503, 504),
             summary="Analyse a text or web page (nothing is stored)")
async def post_analyze(request: Request, body: AnalyzeIn) -> JSONResponse:
    record = await run_analysis(ctx_of(request), body)
    return JSONResponse(record.to_dict())


@router.post("/documents", response_model=IngestOut, status_code=201,
             responses={200: {"model": IngestOut, "description": "Already stored"},
                        **_errors(400, 401, 403, 409, 413, 422, 503, 504)},
             summary="Analyse and store an article (needs the bearer token)")
async def post_document(request: Request, body: IngestIn,
                        auth: Annotated[HTTPAuthorizationCredentials | None,
                                        Depends(_bearer)] = None) -> JSONResponse:
    ctx = ctx_of(request)
    check_token(ctx, auth)
    if body.text is not None:
        existing = await run_in_threadpool(_stored_id, ctx, content_id(body.text))
        if existing:
            return JSONResponse({"id": existing, "status": "exists"}, status_code=200)
    record = await run_analysis(ctx, body, name="the article")
    try:
        res = await run_in_threadpool(_store, ctx, record)
    except DuplicateIdError as exc:
        raise HTTPException(409, str(exc)) from exc
    code = 201 if res.status == "added" else 200
    headers = {"Location": f"/api/documents/{res.doc_id}"} if code == 201 else None
    return JSONResponse({"id": res.doc_id, "status": res.status}, status_code=code,
                        headers=headers)


def check_token(ctx: WebContext, auth: HTTPAuthorizationCredentials | None) -> None:
    """Constant-time comparison with the server's token; 403 when the server has none."""
    if not ctx.token:
        raise HTTPException(403, "this server is read-only: start it with LAGEBILD_TOKEN set "
                                 "to allow storing articles")
    given = auth.credentials.strip() if auth and auth.scheme.lower() == "bearer" else ""
    if not hmac.compare_digest(given.encode(), ctx.token.encode()):
        raise HTTPException(401, "a valid 'Authorization: Bearer <token>' header is needed",
                            headers={"WWW-Authenticate": "Bearer"})


def _stored_id(ctx: WebContext, h: str) -> str | None:
    with ctx.corpus.engine.connect() as conn:
        return conn.execute(select(documents.c.id)
                            .where(documents.c.content_hash == h)).scalar()


def _store(ctx: WebContext, record: Record):
    with ctx.write_lock:
        res = ctx.corpus.store.add_record(record, content_id(record.document.text), "api")
    ctx.invalidate()
    return res


# -- errors -------------------------------------------------------------------------------

def install_error_handlers(app: FastAPI) -> None:
    """Bad cursors are the client's fault (400), not a server error."""

    async def bad_cursor(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    app.add_exception_handler(CursorError, bad_cursor)
