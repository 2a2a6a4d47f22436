"""Layer: entities. (Placeholder until the layer lands.)"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc


@Language.component("lagebild_entities")
def entities_component(doc: Doc) -> Doc:
    doc._.lb_entities = []
    return doc
