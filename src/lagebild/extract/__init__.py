"""Extraction layers. Each layer is one module and one spaCy pipeline component.

Components communicate only through the `Doc._` attributes registered here, and each
writes the final pydantic objects of `lagebild.schema` (no second internal model):
    doc._.lb_entities    list[Entity]      (entities.py)
    doc._.lb_times       list[TimeExpr]    (time.py)
    doc._.lb_statements  list[Statement]   (attribution.py)
    doc._.lb_quantities  list[Quantity]    (quantities.py)
    doc._.lb_events      list[Event]       (events.py)
    doc._.lb_published   datetime.date | None, set by the caller before the pipeline runs
Token mood (Konjunktiv) is kept in the standard `token.morph` (`Mood=Sub`), so a trained
morphologizer can replace the rule-based one without touching the consumers.
"""

from __future__ import annotations

from spacy.tokens import Doc, Span, Token

from ..schema import Span as SpanModel

LAYER_ATTRS = ("lb_entities", "lb_times", "lb_statements", "lb_quantities", "lb_events")

for _name in LAYER_ATTRS:
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)
if not Doc.has_extension("lb_published"):
    Doc.set_extension("lb_published", default=None)
if not Doc.has_extension("lb_entity_index"):
    # char start -> (end, entity id) for every entity mention; built by entities.py
    Doc.set_extension("lb_entity_index", default=None)


def doc_text(doc: Doc) -> str:
    """`doc.text`, cached: spaCy rebuilds the string from all tokens on every access, which
    made span construction quadratic in article length. The text of a Doc never changes."""
    text = doc.user_data.get("lb_text")
    if text is None:
        text = doc.user_data["lb_text"] = doc.text
    return text


def span_model(doc: Doc, start: int, end: int) -> SpanModel:
    """A schema span for character offsets [start, end) of `doc.text`."""
    return SpanModel(start=start, end=end, text=doc_text(doc)[start:end])


def token_span(tokens: Span | Token | list[Token]) -> SpanModel:
    """A schema span covering spaCy tokens or a spaCy span."""
    if isinstance(tokens, Token):
        doc, start, end = tokens.doc, tokens.idx, tokens.idx + len(tokens)
    elif isinstance(tokens, Span):
        doc, start, end = tokens.doc, tokens.start_char, tokens.end_char
    else:
        doc = tokens[0].doc
        start, end = tokens[0].idx, tokens[-1].idx + len(tokens[-1])
    return span_model(doc, start, end)


def is_subjunctive(token: Token) -> bool:
    return "Sub" in token.morph.get("Mood")


def entity_at(doc: Doc, start: int, end: int) -> str | None:
    """Id of the entity with a mention overlapping [start, end), preferring the longest."""
    index = doc._.lb_entity_index or {}
    cached = doc.user_data.get("lb_entity_spans")
    if cached is None or cached[0] is not index or cached[1] != len(index):
        # one lookup structure per index: a scan per call made long texts quadratic
        from .spans import Containers

        spans = Containers((m_start, m_end, k)
                           for k, (m_start, (m_end, _)) in enumerate(index.items()))
        cached = doc.user_data["lb_entity_spans"] = (index, len(index), spans)
    spans = cached[2]
    best: tuple[int, int, str] | None = None
    for j in spans.overlapping(start, end):
        m_start, m_end, k = spans.spans[j]
        # the longest; among equally long ones the first in the index, as a scan finds
        if best is None or (m_end - m_start, -k) > best[:2]:
            best = (m_end - m_start, -k, index[m_start][1])
    return best[2] if best else None
