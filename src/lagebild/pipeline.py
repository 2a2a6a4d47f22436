"""The per-article function: `Document` -> spaCy `Doc` -> `Record`.

This is the one function every front end calls (CLI, API, corpus ingest, Spark batch),
so that a record never depends on how the article reached us.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from spacy.tokens import Doc

from .nlp import get_nlp
from .schema import Document, Record


def doc_to_record(document: Document, doc: Doc) -> Record:
    """Collect the layers' output from `doc._` into a `Record`."""
    return Record(
        document=document,
        entities=doc._.lb_entities or [],
        statements=doc._.lb_statements or [],
        quantities=doc._.lb_quantities or [],
        events=doc._.lb_events or [],
        times=doc._.lb_times or [],
    )


def _prepare(nlp, document: Document) -> Doc:
    doc = nlp.make_doc(document.text)
    doc._.lb_published = document.published
    return doc


def analyze_document(document: Document, use_models: bool = True) -> Record:
    nlp = get_nlp(use_models)
    doc = _prepare(nlp, document)
    for _, proc in nlp.pipeline:
        doc = proc(doc)
    return doc_to_record(document, doc)


def analyze_documents(documents: Iterable[Document], use_models: bool = True,
                      batch_size: int = 16) -> Iterator[Record]:
    """Stream many documents through one loaded pipeline (the fast path for batches)."""
    nlp = get_nlp(use_models)
    docs_in = ((_prepare(nlp, d), d) for d in documents)
    for doc, document in nlp.pipe(docs_in, as_tuples=True, batch_size=batch_size):
        yield doc_to_record(document, doc)
