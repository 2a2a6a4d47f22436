"""Layer: attribution. (Placeholder until the layer lands.)"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc


@Language.component("lagebild_attribution")
def attribution_component(doc: Doc) -> Doc:
    doc._.lb_statements = []
    return doc
