"""Lagebild: German news articles to a sourced record.

    >>> import lagebild
    >>> record = lagebild.analyze("„Wir liefern keine Waffen“, sagte der Minister.")
    >>> record.statements[0].kind
    'direct'
"""

from __future__ import annotations

from .schema import SCHEMA_VERSION, Record

__version__ = "0.1.0"
__all__ = ["SCHEMA_VERSION", "Record", "analyze", "__version__"]


def analyze(text: str, published=None, title: str | None = None, doc_id: str | None = None,
            use_models: bool = True) -> Record:
    """Analyse one German article and return its sourced record.

    `published` (a `datetime.date` or ISO string) anchors relative times ("am Mittwoch").
    Raises `lagebild.ingest.InputError` for empty, binary, oversized or non-German text.
    """
    from .ingest import make_document
    from .pipeline import analyze_document

    document = make_document(text, published=published, title=title, doc_id=doc_id)
    return analyze_document(document, use_models=use_models)
