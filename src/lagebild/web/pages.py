"""Server-rendered pages: the same queries as the API, as HTML for people.

Pages never take a write action; the only form (`/analyze`) analyses pasted text and
stores nothing. Bad filter values give the page back with a message and status 400
instead of a stack trace; unknown ids give a 404 page.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from ..schema import PloverType, Record
from . import queries
from .api import (
    AnalyzeIn,
    claims_page,
    ctx_of,
    entity_index,
    network,
    resolve,
    run_analysis,
    search,
)
from .app import HERE
from .queries import CursorError
from .views import (
    STATEMENT_LABEL,
    annotate,
    claim_chart,
    entity_href,
    fmt_value,
    mentions_chart,
    outliers,
)

router = APIRouter(include_in_schema=False)

_env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True,
                   trim_blocks=True, lstrip_blocks=True)
_env.filters["num"] = lambda v: fmt_value(v) if isinstance(v, int | float) else v
_env.tests["web_url"] = lambda v: isinstance(v, str) and v.lower().startswith(("http://", "https://"))
_env.globals.update(entity_href=entity_href, fmt_value=fmt_value,
                    statement_label=STATEMENT_LABEL)
templates = Jinja2Templates(env=_env)

PLOVER_TYPES = list(PloverType.__args__)  # type: ignore[attr-defined]
ENTITY_TYPES = ["PER", "ORG", "GPE", "LOC", "MISC"]
#: Edge colours of the actor network, one per relation (the legend shows them): hostile
#: relations in reds/oranges, cooperative ones in greens/blues, speech in grey.
RELATION_COLOURS = {
    "ASSAULT": "#c53030", "COERCE": "#9b2c2c", "THREATEN": "#dd6b20", "SANCTION": "#b7791f",
    "MOBILIZE": "#ed64a6", "ACCUSE": "#d53f8c", "REJECT": "#805ad5", "PROTEST": "#6b46c1",
    "AGREE": "#2f855a", "COOPERATE": "#38a169", "AID": "#319795", "SUPPORT": "#3182ce",
    "CONSULT": "#63b3ed", "CONCEDE": "#68d391", "RETREAT": "#975a16", "REQUEST": "#2c5282",
    "OTHER": "#4a5568", "STATEMENT": "#a0aec0",
}


class PageError(Exception):
    """A user-facing problem with a page's parameters (rendered, not raised to the client)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"args": request.query_params, **ctx},
                                      status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status=status, status_code=status, message=message)


def next_link(request: Request, cursor: str | None) -> str | None:
    """This page's URL with `cursor` replaced: the 'next page' link."""
    if not cursor:
        return None
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    params.append(("cursor", cursor))
    return f"{request.url.path}?{urlencode(params)}"


def _date(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise PageError(400, f"{name}: {raw!r} is not a date (YYYY-MM-DD)") from None


def _param(request: Request, name: str, choices: list[str] | None = None,
           max_len: int = 300) -> str | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    if len(raw) > max_len:
        raise PageError(400, f"{name} is longer than {max_len} characters")
    if choices is not None and raw not in choices:
        raise PageError(400, f"{name}: {raw!r} is not one of {', '.join(choices)}")
    return raw


def _number(request: Request, name: str, default: float, lo: float, hi: float) -> float:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return default
    try:
        v = float(raw)
    except ValueError:
        raise PageError(400, f"{name}: {raw!r} is not a number") from None
    if not lo <= v <= hi:
        raise PageError(400, f"{name} must be between {lo:g} and {hi:g}")
    return v


def guarded(fn):
    """Turn parameter problems into a rendered error page with the right status."""
    import functools

    @functools.wraps(fn)
    def wrapper(request: Request, *a, **kw):
        try:
            return fn(request, *a, **kw)
        except PageError as exc:
            return error_page(request, exc.status, exc.message)
        except CursorError as exc:
            return error_page(request, 400, str(exc))
        except HTTPException as exc:
            return error_page(request, exc.status_code, str(exc.detail))

    return wrapper


# -- pages --------------------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
@guarded
def home(request: Request) -> HTMLResponse:
    ctx = ctx_of(request)
    engine = ctx.corpus.engine
    stats = ctx.cached("counts", lambda: queries.counts(engine))
    docs, _ = queries.list_documents(engine, limit=15)
    ents, _ = queries.list_entities(engine, limit=15, index=entity_index(ctx))
    return render(request, "home.html", stats=stats, docs=docs, ents=ents)


@router.get("/documents", response_class=HTMLResponse)
@guarded
def documents_page(request: Request) -> HTMLResponse:
    ctx = ctx_of(request)
    since, until = _date(request, "since"), _date(request, "until")
    entity = _param(request, "entity")
    docs, nxt = queries.list_documents(
        ctx.corpus.engine, entity_ids=resolve(ctx, entity), source=_param(request, "source"),
        since=since, until=until, cursor=_param(request, "cursor", max_len=2000), limit=50)
    return render(request, "documents.html", docs=docs, next=next_link(request, nxt))


@router.get("/documents/{doc_id}", response_class=HTMLResponse)
@guarded
def article_page(request: Request, doc_id: str) -> HTMLResponse:
    ctx = ctx_of(request)
    raw = ctx.corpus.document(doc_id)
    if raw is None:
        raise PageError(404, f"There is no article with id {doc_id!r} in this corpus.")
    record = Record.model_validate(raw)
    ids = queries.local_to_corpus(ctx.corpus.engine, doc_id)
    return render(request, "article.html", **article_context(record, ids), stored=True)


def article_context(record: Record, ids: dict[str, str]) -> dict[str, Any]:
    """Everything the article template shows: the annotated text and the side panel."""
    names = {e.id: e.name for e in record.entities}
    by_type: dict[str, list] = {}
    for e in sorted(record.entities, key=lambda e: (-len(e.mentions), e.name)):
        by_type.setdefault(e.type, []).append(
            {"id": e.id, "name": e.name, "n": len(e.mentions),
             "href": entity_href(ids.get(e.id), e.name)})

    def link(eid: str | None) -> dict | None:
        if not eid or eid not in names:
            return None
        return {"name": names[eid], "href": entity_href(ids.get(eid), names[eid])}

    stmts = [{"id": s.id, "kind": s.kind, "mood": s.mood, "speaker": link(s.speaker),
              "speaker_text": s.speaker_span.text if s.speaker_span else None,
              "cue": s.cue.text if s.cue else None, "content": s.content.text}
             for s in record.statements]
    figs = [{"id": q.id, "text": q.span.text,
             "value": fmt_value(q.value, q.low, q.high, q.approximate),
             "quantifies": q.quantifies, "source": link(q.source), "statement": q.statement}
            for q in record.quantities]
    evs = [{"id": ev.id, "type": ev.type, "modality": ev.modality, "trigger": ev.trigger.text,
            "actor": link(ev.actor), "target": link(ev.target), "source": link(ev.source)}
           for ev in record.events]
    return {"doc": record.document, "body": annotate(record, ids), "entities": by_type,
            "statements": stmts, "figures": figs, "events": evs,
            "times": [{"text": t.span.text, "value": t.value} for t in record.times]}


@router.get("/entities", response_class=HTMLResponse)
@guarded
def entities_page(request: Request) -> HTMLResponse:
    ctx = ctx_of(request)
    sort = _param(request, "sort", ["docs", "name"]) or "docs"
    ents, nxt = queries.list_entities(
        ctx.corpus.engine, type=_param(request, "type", ENTITY_TYPES), q=_param(request, "q"),
        sort=sort, cursor=_param(request, "cursor", max_len=2000), limit=50,
        index=entity_index(ctx) if sort == "docs" else None)
    return render(request, "entities.html", ents=ents, next=next_link(request, nxt),
                  types=ENTITY_TYPES)


@router.get("/entities/{entity_id}", response_class=HTMLResponse)
@guarded
def entity_page(request: Request, entity_id: str) -> HTMLResponse:
    ctx = ctx_of(request)
    prof = ctx.corpus.entity_profile(entity_id) if len(entity_id) <= 300 else None
    if prof is None:
        raise PageError(404, f"No entity matches {entity_id!r}.")
    engine, eid = ctx.corpus.engine, prof["id"]
    said, said_next = queries.list_statements(engine, speaker_ids=[eid], limit=30)
    about, about_next = queries.list_statements(engine, about_ids=[eid], limit=30)
    acts, _ = queries.list_events(engine, actor_ids=[eid], limit=30)
    targeted, _ = queries.list_events(engine, target_ids=[eid], limit=30)
    return render(request, "entity.html", p=prof, said=said, about=about, acts=acts,
                  targeted=targeted, chart=mentions_chart(prof["mentions_over_time"]),
                  more_said=bool(said_next), more_about=bool(about_next))


@router.get("/claims", response_class=HTMLResponse)
@guarded
def claims_tracker(request: Request) -> HTMLResponse:
    ctx = ctx_of(request)
    since, until = _date(request, "since"), _date(request, "until")
    tolerance = _number(request, "tolerance", 0.1, 0, 10)
    min_docs = int(_number(request, "min_docs", 1, 1, 1000))
    what, entity = _param(request, "what", max_len=100), _param(request, "entity")
    groups = claims_page(ctx, what=what, about=entity, since=since, until=until,
                         tolerance=tolerance, min_docs=min_docs, n=20)
    shown = []
    for g in groups:
        odd = outliers(g["figures"], tolerance) if g["disagreement"] else set()
        shown.append({**g, "chart": claim_chart(g["figures"]),
                      "rows": [{**f, "outlier": i in odd,
                                "shown": fmt_value(f["value"], f["low"], f["high"],
                                                   f["approximate"])}
                               for i, f in enumerate(g["figures"])]})
    suggestions = ctx.cached("top_what", lambda: queries.top_what(ctx.corpus.engine))
    return render(request, "claims.html", groups=shown, suggestions=suggestions)


@router.get("/network", response_class=HTMLResponse)
@guarded
def network_page(request: Request) -> HTMLResponse:
    ctx = ctx_of(request)
    rel = _param(request, "type", PLOVER_TYPES + ["STATEMENT"])
    limit = int(_number(request, "limit", 150, 1, 1000))
    min_weight = int(_number(request, "min_weight", 1, 1, 100000))
    data = network(ctx, type=rel, entity=_param(request, "entity"), min_weight=min_weight,
                   limit=limit)
    data["colours"] = RELATION_COLOURS
    used = sorted({e["relation"] for e in data["edges"]})
    return render(request, "network.html", data=data, graph_json=_json_for_html(data),
                  relations=PLOVER_TYPES + ["STATEMENT"],
                  legend=[(r, RELATION_COLOURS.get(r, "#718096")) for r in used])


def _json_for_html(obj: Any) -> Markup:
    """JSON safe inside <script type="application/json">: no '<', '>' or '&' survive."""
    s = json.dumps(obj, ensure_ascii=False, default=str)
    s = s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(s.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


@router.get("/search", response_class=HTMLResponse)
@guarded
def search_page(request: Request) -> HTMLResponse:
    ctx = ctx_of(request)
    q = _param(request, "q", max_len=500)
    scope = _param(request, "scope", ["documents", "statements"]) or "documents"
    hits = search(ctx, q, scope, 50) if q else []
    for h in hits:
        h["snippet_html"] = _snippet(h.get("snippet") or "")
    return render(request, "search.html", hits=hits, q=q or "", scope=scope)


def _snippet(s: str) -> Markup:
    """FTS snippets mark hits with [ ]: escape the text, then turn only those into <mark>."""
    from markupsafe import escape

    out, depth = [], 0
    for ch in s:
        if ch == "[" and depth == 0:
            out.append("<mark>")
            depth = 1
        elif ch == "]" and depth == 1:
            out.append("</mark>")
            depth = 0
        else:
            out.append(str(escape(ch)))
    if depth:
        out.append("</mark>")
    return Markup("".join(out))


@router.get("/analyze", response_class=HTMLResponse)
def analyze_form(request: Request) -> HTMLResponse:
    return render(request, "analyze.html", text="", published="")


@router.post("/analyze", response_class=HTMLResponse)
async def analyze_submit(request: Request) -> Response:
    """The form posts url-encoded fields; parsed here to avoid a multipart dependency."""
    ctx = ctx_of(request)
    raw = await request.body()
    try:
        form = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return error_page(request, 400, "The form data could not be read (UTF-8 expected).")
    text = (form.get("text") or [""])[0]
    published = (form.get("published") or [""])[0].strip()
    try:
        if not text.strip():
            raise ValueError("empty")
        body = AnalyzeIn(text=text, published=published or None)
    except ValueError:
        return render(request, "analyze.html", status=400, text=text, published=published,
                      message="Please paste a German text and give the date as YYYY-MM-DD.")
    try:
        record = await run_analysis(ctx, body)
    except HTTPException as exc:
        return render(request, "analyze.html", status=exc.status_code, text=text,
                      published=published, message=str(exc.detail))
    return render(request, "article.html", **article_context(record, {}), stored=False)


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """The OpenAPI description as a plain page (the stock Swagger UI needs a CDN)."""
    spec = request.app.openapi()
    ops = []
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            params = [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                       "type": _schema_text(p.get("schema", {})),
                       "description": p.get("description") or p.get("schema", {})
                       .get("description", "")} for p in op.get("parameters", [])]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ops.append({"method": method.upper(), "path": path, "summary": op.get("summary"),
                        "description": op.get("description"), "params": params,
                        "body": _schema_text(body.get("schema", {})) if body else None,
                        "responses": sorted(op.get("responses", {}))})
    return render(request, "apidocs.html", ops=ops, title=spec["info"]["title"],
                  version=spec["info"]["version"])


def _schema_text(s: dict) -> str:
    if "$ref" in s:
        return s["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in s:
        return " | ".join(_schema_text(x) for x in s["anyOf"])
    if "enum" in s:
        return " | ".join(map(str, s["enum"]))
    if s.get("type") == "array":
        return f"list[{_schema_text(s.get('items', {}))}]"
    return str(s.get("type", "any")) + (f" ({s['format']})" if "format" in s else "")
