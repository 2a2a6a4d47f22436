"""Build the Lagebild spaCy pipeline.

The pipeline is a plain spaCy `Language`: a blank German tokenizer, our trained
components loaded from package data (`lagebild/models/`), and one component per
extraction layer. Loading is the expensive part (models, lexicons), so callers keep
one `Language` per process (`get_nlp`) and stream documents through it.
"""

from __future__ import annotations

from functools import cache

import spacy
from spacy.language import Language

from . import extract  # noqa: F401  (registers Doc extensions)
from .extract import attribution, entities, events, morph, ner_crf, quantities, time  # noqa: F401
from .resources import model_path

#: Pipeline order matters: attribution needs entities (speakers) and mood; quantities
#: and events need statements (their source) and times.
LAYERS = (
    "lagebild_entities",
    "lagebild_times",
    "lagebild_attribution",
    "lagebild_quantities",
    "lagebild_events",
)


def build_nlp(use_models: bool = True) -> Language:
    """A fresh pipeline. `use_models=False` gives the rules-only pipeline (for tests/ablation)."""
    ner_dir = model_path("ner")
    if use_models and (ner_dir / "meta.json").exists():
        # Start from the NER pipeline itself rather than sourcing its component into a blank
        # one: its static vectors live in the vocab and must come along.
        nlp = spacy.load(ner_dir)
        nlp.add_pipe("lagebild_sentences", first=True)
        nlp.add_pipe("lagebild_morph", after="lagebild_sentences")
    else:
        nlp = spacy.blank("de")
        nlp.add_pipe("lagebild_sentences")
        nlp.add_pipe("lagebild_morph")
    for layer in LAYERS:
        nlp.add_pipe(layer)
    nlp.max_length = 2_000_000
    return nlp


@cache
def get_nlp(use_models: bool = True) -> Language:
    return build_nlp(use_models)
