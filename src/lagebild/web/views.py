"""HTML fragments built in Python: the annotated article text and two small SVG charts.

Why not in templates: highlighting is offset arithmetic over the raw text, and an SVG
chart is coordinates; both are clearer as functions. Every piece of text that comes from
an article goes through `escape` here, and the result is wrapped in `Markup` only at the
end, so a `<script>` in an article can only ever come out as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from markupsafe import Markup, escape

from ..schema import Record

#: Kinds of statement worth a distinct colour in the text (CSS classes q-<kind>).
STATEMENT_LABEL = {"direct": "direct quote", "indirect": "indirect speech or speech act",
                   "mixed": "partly quoted", "according_to": "according to",
                   "reported": "reported"}


@dataclass(frozen=True)
class _Mark:
    start: int
    end: int
    open: str
    close: str


def entity_href(corpus_id: str | None, name: str) -> str:
    """Entity page when the entity is in the store, else a name search (analysed text)."""
    if corpus_id:
        return f"/entities/{quote(corpus_id, safe='')}"
    return f"/entities?q={quote(name, safe='')}"


def fmt_value(value: float | None, low: float | None = None, high: float | None = None,
              approximate: str | None = None) -> str:
    """12000.0 -> '12.000' (German grouping), ranges as 'low–high', hedges kept."""

    def one(v: float) -> str:
        if float(v).is_integer():
            return f"{v:,.0f}".replace(",", ".")
        return f"{v:,.2f}".replace(",", "x").replace(".", ",").replace("x", ".")

    if value is not None:
        s = one(value)
    elif low is not None or high is not None:
        s = f"{one(low) if low is not None else '?'}–{one(high) if high is not None else '?'}"
    else:
        s = "?"
    return f"{approximate} {s}" if approximate else s


def annotate(record: Record, corpus_ids: dict[str, str] | None = None) -> Markup:
    """The article text with colour-coded, linked spans.

    Two layers that nest properly: statements (long, outer) and short items inside or
    between them - entity mentions (by type, linked to the entity page), figures (with
    their source), event triggers (with modality) and time expressions. Short items that
    straddle a statement boundary, or overlap an earlier short item, are left unmarked
    rather than producing broken HTML; the side panel still lists them."""
    corpus_ids = corpus_ids or {}
    text = record.document.text
    names = {e.id: e.name for e in record.entities}

    def who(eid: str | None) -> str:
        return names.get(eid or "", "")

    outer: list[tuple[_Mark, Markup]] = []
    for s in record.statements:
        parts = sorted(s.parts or [s.content], key=lambda p: p.start)
        speaker = who(s.speaker) or (s.speaker_span.text if s.speaker_span else "")
        title = f"{speaker or 'unknown speaker'}: {STATEMENT_LABEL.get(s.kind, s.kind)}, {s.mood}"
        cid = corpus_ids.get(s.speaker or "")
        for i, p in enumerate(parts):
            attrs = (f' class="quote q-{escape(s.kind)}" data-statement="{escape(s.id)}"'
                     f' title="{escape(title)}"')
            if i == 0:
                attrs += f' id="st-{escape(s.id)}"'
            if speaker:
                attrs += f' data-speaker-name="{escape(speaker)}"'
            if cid:
                attrs += f' data-speaker="{escape(cid)}"'
            tag = Markup("")
            if i == len(parts) - 1:
                if s.speaker:
                    tag = Markup('<sup><a class="speaker-tag" data-for="{}" href="{}" '
                                 'title="statement by {}">{}</a></sup>').format(
                        s.id, entity_href(cid, speaker), speaker, speaker)
                elif speaker:
                    tag = Markup('<sup class="speaker-tag unlinked">{}</sup>').format(speaker)
            outer.append((_Mark(p.start, p.end, f"<span{attrs}>", "</span>"), tag))
    outer = _non_overlapping(outer)

    inner: list[_Mark] = []
    for e in record.entities:
        href = entity_href(corpus_ids.get(e.id), e.name)
        for m in e.mentions:
            inner.append(_Mark(m.start, m.end,
                               f'<a class="ent ent-{escape(e.type)}" href="{escape(href)}" '
                               f'data-entity="{escape(e.id)}" title="{escape(e.type)}: '
                               f'{escape(e.name)}">', "</a>"))
    for q in record.quantities:
        src = who(q.source) or "the author"
        val = fmt_value(q.value, q.low, q.high, q.approximate)
        what = f" {q.quantifies}" if q.quantifies else ""
        inner.append(_Mark(q.span.start, q.span.end,
                           f'<span class="fig" id="fig-{escape(q.id)}" title="figure: '
                           f'{escape(val)}{escape(what)} (source: {escape(src)})">', "</span>"))
    for ev in record.events:
        arrow = f"{who(ev.actor) or '?'} → {who(ev.target) or '?'}"
        inner.append(_Mark(ev.trigger.start, ev.trigger.end,
                           f'<span class="ev mod-{escape(ev.modality)}" id="ev-{escape(ev.id)}"'
                           f' title="{escape(ev.type)} ({escape(ev.modality)}): '
                           f'{escape(arrow)}">', "</span>"))
    for t in record.times:
        inner.append(_Mark(t.span.start, t.span.end,
                           '<span class="time" title="time: ' + str(escape(t.value or "?")) + '">',
                           "</span>"))
    inner_kept = _non_overlapping([(m, Markup("")) for m in inner])
    bounds = [(m.start, m.end) for m, _ in outer]
    inner_ok = [m for m, _ in inner_kept if not _straddles(m, bounds)]

    out: list[str] = []
    pos = 0
    inner_iter = iter(inner_ok)
    nxt = next(inner_iter, None)

    def emit_until(limit: int) -> None:
        """Text from `pos` to `limit` with the inner marks that lie in it."""
        nonlocal pos, nxt
        while nxt is not None and nxt.end <= limit:
            if nxt.start < pos:  # cannot happen after filtering; be safe
                nxt = next(inner_iter, None)
                continue
            out.append(str(escape(text[pos:nxt.start])))
            out.append(nxt.open + str(escape(text[nxt.start:nxt.end])) + nxt.close)
            pos = nxt.end
            nxt = next(inner_iter, None)
        out.append(str(escape(text[pos:limit])))
        pos = limit

    for mark, tag in outer:
        emit_until(mark.start)
        out.append(mark.open)
        emit_until(mark.end)
        out.append(mark.close + str(tag))
    emit_until(len(text))
    return Markup("".join(out))


def _non_overlapping(items: list[tuple[_Mark, Markup]]) -> list[tuple[_Mark, Markup]]:
    """Greedy by start, longest first: keep a mark unless it overlaps one already kept."""
    items = sorted(items, key=lambda it: (it[0].start, -(it[0].end - it[0].start)))
    kept: list[tuple[_Mark, Markup]] = []
    end = -1
    for it in items:
        m = it[0]
        if m.end <= m.start or m.start < end:
            continue
        kept.append(it)
        end = m.end
    return kept


def _straddles(m: _Mark, bounds: list[tuple[int, int]]) -> bool:
    return any(m.start < b0 < m.end or m.start < b1 < m.end for b0, b1 in bounds)


# -- charts -------------------------------------------------------------------------------

def _months(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        m += 1
        if m > 12:
            y, m = y + 1, 1
    return out


def mentions_chart(series: Sequence[dict], width: int = 640, height: int = 180) -> Markup:
    """Line chart of articles mentioning an entity per month (gaps filled with zeros)."""
    dated = {p["month"]: p["docs"] for p in series if p.get("month", "")[:1].isdigit()}
    if not dated:
        return Markup('<p class="muted">No dated mentions.</p>')
    months = _months(min(dated), max(dated))
    values = [dated.get(m, 0) for m in months]
    top = max(values) or 1
    pad_l, pad_r, pad_t, pad_b = 36, 12, 12, 28
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    step = w / max(1, len(months) - 1)
    pts = [(pad_l + (i * step if len(months) > 1 else w / 2), pad_t + h - v / top * h)
           for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="articles per month">',
             f'<line x1="{pad_l}" y1="{pad_t + h}" x2="{pad_l + w}" y2="{pad_t + h}" '
             f'stroke="#999"/>',
             f'<text x="{pad_l - 6}" y="{pad_t + 4}" text-anchor="end" font-size="11">{top}</text>',
             f'<text x="{pad_l - 6}" y="{pad_t + h}" text-anchor="end" font-size="11">0</text>']
    if len(pts) > 1:
        parts.append(f'<polyline points="{path}" fill="none" stroke="#2b6cb0" '
                     f'stroke-width="2"/>')
    every = max(1, len(months) // 8)
    for i, ((x, y), m, v) in enumerate(zip(pts, months, values, strict=True)):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#2b6cb0">'
                     f'<title>{m}: {v} article(s)</title></circle>')
        if i % every == 0 or i == len(months) - 1:
            parts.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" '
                         f'font-size="11">{m}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


PALETTE = ["#2b6cb0", "#c05621", "#2f855a", "#b83280", "#6b46c1", "#b7791f", "#00838f",
           "#c53030", "#4a5568", "#718096"]


def claim_chart(figures: Sequence[dict], width: int = 640, height: int = 200) -> Markup:
    """A figure's values by source over publication date: one colour per source, ranges
    as vertical bars, so a number that moved (or two that disagree) is visible at once."""
    pts = []
    for f in figures:
        if not f.get("published"):
            continue
        lo = f["low"] if f.get("low") is not None else f.get("value")
        hi = f["high"] if f.get("high") is not None else f.get("value")
        if lo is None and hi is None:
            continue
        lo = lo if lo is not None else hi
        hi = hi if hi is not None else lo
        pts.append((date.fromisoformat(f["published"][:10]), lo, hi, f["source"]))
    if not pts:
        return Markup('<p class="muted">No dated figures to plot.</p>')
    sources = sorted({p[3] for p in pts})
    colour = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(sources)}
    d0 = min(p[0] for p in pts).toordinal()
    d1 = max(p[0] for p in pts).toordinal()
    vmax = max(p[2] for p in pts) or 1.0
    vmin = min(0.0, min(p[1] for p in pts))
    pad_l, pad_r, pad_t, pad_b = 64, 12, 12, 28
    w, h = width - pad_l - pad_r, height - pad_t - pad_b

    def x(d: date) -> float:
        return pad_l + (w / 2 if d1 == d0 else (d.toordinal() - d0) / (d1 - d0) * w)

    def y(v: float) -> float:
        return pad_t + h - (v - vmin) / ((vmax - vmin) or 1) * h

    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="values by source over time">',
             f'<line x1="{pad_l}" y1="{pad_t + h}" x2="{pad_l + w}" y2="{pad_t + h}" '
             f'stroke="#999"/>',
             f'<text x="{pad_l - 6}" y="{pad_t + 4}" text-anchor="end" font-size="11">'
             f'{escape(fmt_value(vmax))}</text>',
             f'<text x="{pad_l - 6}" y="{pad_t + h}" text-anchor="end" font-size="11">'
             f'{escape(fmt_value(vmin))}</text>',
             f'<text x="{pad_l}" y="{height - 8}" font-size="11">'
             f'{date.fromordinal(d0).isoformat()}</text>',
             f'<text x="{pad_l + w}" y="{height - 8}" text-anchor="end" font-size="11">'
             f'{date.fromordinal(d1).isoformat()}</text>']
    for d, lo, hi, src in pts:
        c = colour[src]
        label = escape(f"{d.isoformat()} {src}: {fmt_value(lo) if lo == hi else fmt_value(None, lo, hi)}")
        if hi != lo:
            parts.append(f'<line x1="{x(d):.1f}" y1="{y(lo):.1f}" x2="{x(d):.1f}" '
                         f'y2="{y(hi):.1f}" stroke="{c}" stroke-width="3"><title>{label}</title>'
                         f'</line>')
        parts.append(f'<circle cx="{x(d):.1f}" cy="{y(hi):.1f}" r="4" fill="{c}">'
                     f'<title>{label}</title></circle>')
    parts.append("</svg>")
    legend = "".join(f'<li><svg width="10" height="10"><rect width="10" height="10" '
                     f'fill="{colour[s]}"/></svg> {escape(s)}</li>' for s in sources)
    return Markup("".join(parts) + f'<ul class="legend">{legend}</ul>')


def outliers(figures: Sequence[dict], tolerance: float) -> set[int]:
    """Indexes of figures that cannot agree with the group's median value (beyond
    `tolerance`): what the claim tracker highlights inside a disagreeing group."""
    vals = []
    for f in figures:
        if f.get("value") is not None:
            vals.append(f["value"])
        elif f.get("low") is not None and f.get("high") is not None:
            vals.append((f["low"] + f["high"]) / 2)
    if len(vals) < 2:
        return set()
    med = sorted(vals)[len(vals) // 2]
    out = set()
    for i, f in enumerate(figures):
        lo = f["low"] if f.get("low") is not None else f.get("value")
        hi = f["high"] if f.get("high") is not None else f.get("value")
        hedge = (f.get("approximate") or "").lower()
        if hedge.startswith(("mehr als", "über", "mindestens")):
            hi = float("inf")
        if hedge.startswith(("weniger als", "unter", "höchstens", "bis zu")):
            lo = 0.0
        if lo is None or hi is None:
            continue
        if med < lo / (1 + tolerance) or med > hi * (1 + tolerance):
            out.add(i)
    return out
