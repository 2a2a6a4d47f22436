"""Layer: quantities. (Placeholder until the layer lands.)"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc


@Language.component("lagebild_quantities")
def quantities_component(doc: Doc) -> Doc:
    doc._.lb_quantities = []
    return doc
