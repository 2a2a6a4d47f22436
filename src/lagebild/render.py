"""Human-readable views of a record: a terminal report and a standalone HTML page.

Both are for people who do not read German fluently: every item shows the German
evidence verbatim next to what Lagebild made of it, so a reader can check the claim.
"""

from __future__ import annotations

import html
import textwrap

from .schema import Record, Span


def _clip(text: str, width: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _source(names: dict[str, str], stmts: dict, source: str | None, statement: str | None) -> str:
    """Who a figure or event is attributed to: the entity, else the unnamed source of its
    statement ("die Handelskammer in s8"), else the author (null source, no statement)."""
    if source in names:
        return names[source]  # type: ignore[index]
    st = stmts.get(statement or "")
    if st is not None:
        who = st.speaker_span.text if st.speaker_span else "unnamed source"
        return f"{who} in {st.id}"
    return "author"


def to_text(record: Record) -> str:
    doc = record.document
    names = {e.id: e.name for e in record.entities}
    stmts = {s.id: s for s in record.statements}
    out: list[str] = []
    head = f"Document {doc.id}"
    if doc.title:
        head += f" — {doc.title}"
    if doc.published:
        head += f" ({doc.published.isoformat()})"
    out += [head, "=" * min(len(head), 100), ""]

    out.append(f"Entities ({len(record.entities)})")
    for e in record.entities:
        kinds = sorted({m.kind for m in e.mentions} - {"name"})
        extra = f" [{', '.join(kinds)}]" if kinds else ""
        link = f" {e.links.iso3166}" if e.links.iso3166 else ""
        out.append(f"  {e.id:<5} {e.type:<4} {e.name}{link} ×{len(e.mentions)}{extra}")
    out.append("")

    out.append(f"Statements ({len(record.statements)})")
    for s in record.statements:
        who = names.get(s.speaker or "", None) or (s.speaker_span.text if s.speaker_span else "?")
        cue = f" «{s.cue.text}»" if s.cue else ""
        out.append(f"  {s.id:<5} {who}{cue} [{s.kind}, {s.mood}]")
        out.append(textwrap.indent(textwrap.fill(_clip(s.content.text, 400), 96), "        "))
    out.append("")

    out.append(f"Quantities ({len(record.quantities)})")
    for q in record.quantities:
        if q.value is not None:
            val = f"{q.value:g}"
        elif q.low is not None or q.high is not None:
            val = f"{q.low:g}..{q.high:g}" if q.low is not None and q.high is not None else "?"
        else:
            val = "?"
        src = _source(names, stmts, q.source, q.statement)
        what = f" {q.quantifies}" if q.quantifies else ""
        out.append(f"  {q.id:<5} «{q.span.text}» = {val}{what}  (source: {src})")
    out.append("")

    out.append(f"Events ({len(record.events)})")
    for ev in record.events:
        actor = names.get(ev.actor or "", "—")
        target = names.get(ev.target or "", "—")
        src = _source(names, stmts, ev.source, ev.statement)
        via = f" in {ev.statement}" if ev.statement and ev.statement in stmts and ev.source else ""
        out.append(f"  {ev.id:<5} {ev.type:<9} {ev.modality:<12} {actor} → {target}  "
                   f"«{ev.trigger.text}»  (source: {src}{via})")
    out.append("")

    out.append(f"Times ({len(record.times)})")
    for t in record.times:
        out.append(f"  {t.id:<5} «{t.span.text}» = {t.value or '?'}")
    return "\n".join(out) + "\n"


_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;line-height:1.6;color:#222}
.txt{white-space:pre-wrap;border:1px solid #ddd;padding:1rem;border-radius:6px}
mark{padding:0 .1em;border-radius:3px}
.PER{background:#cfe8ff}.ORG{background:#ffe0b3}.GPE{background:#d6f5d6}.LOC{background:#e6f0c2}
.MISC{background:#eee}.quote{background:#fff3a8}.num{background:#f7c6e0}
table{border-collapse:collapse;font-size:.9rem}td,th{border-bottom:1px solid #eee;padding:.2rem .5rem;
text-align:left;vertical-align:top}
"""


def _highlight(text: str, spans: list[tuple[Span, str, str]]) -> str:
    """Text with non-overlapping spans wrapped in <mark>; everything escaped."""
    spans = sorted(spans, key=lambda x: (x[0].start, -(x[0].end - x[0].start)))
    out, pos = [], 0
    for span, cls, title in spans:
        if span.start < pos:
            continue
        out.append(html.escape(text[pos : span.start]))
        out.append(f'<mark class="{cls}" title="{html.escape(title)}">'
                   f"{html.escape(text[span.start:span.end])}</mark>")
        pos = span.end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def to_html(record: Record) -> str:
    names = {e.id: e.name for e in record.entities}
    stmts = {s.id: s for s in record.statements}
    spans: list[tuple[Span, str, str]] = []
    for e in record.entities:
        spans += [(m, e.type, f"{e.type}: {e.name}") for m in e.mentions]
    for q in record.quantities:
        spans.append((q.span, "num", f"figure, source: {_source(names, stmts, q.source, q.statement)}"))
    # quotes last: they are long and would hide the entities inside them
    body = _highlight(record.document.text, spans)
    rows = "".join(
        f"<tr><td>{html.escape(names.get(s.speaker or '', s.speaker_span.text if s.speaker_span else '?'))}"
        f"</td><td>{s.kind}</td><td>{html.escape(s.content.text)}</td></tr>"
        for s in record.statements
    )
    evs = "".join(
        f"<tr><td>{ev.type}</td><td>{ev.modality}</td><td>{html.escape(names.get(ev.actor or '', '—'))}"
        f"</td><td>{html.escape(names.get(ev.target or '', '—'))}</td>"
        f"<td>{html.escape(ev.trigger.text)}</td></tr>"
        for ev in record.events
    )
    title = html.escape(record.document.title or record.document.id)
    return (
        f"<!doctype html><html lang=de><meta charset=utf-8><title>{title}</title>"
        f"<style>{_CSS}</style><h1>{title}</h1><div class=txt>{body}</div>"
        f"<h2>Statements</h2><table><tr><th>speaker</th><th>kind</th><th>content</th></tr>{rows}</table>"
        f"<h2>Events</h2><table><tr><th>type</th><th>modality</th><th>actor</th><th>target</th>"
        f"<th>evidence</th></tr>{evs}</table></html>\n"
    )
