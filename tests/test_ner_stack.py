"""Stacked (second-stage) CRF: its features and the component round trip (invented text).

Why: the second CRF only sees what `stack_features` derives from the first stage's
output, and the component must save and restore both CRFs; a slip in either would
silently cost F1 at run time while training looked fine.
"""

from __future__ import annotations

from pathlib import Path

import pycrfsuite
import spacy

from lagebild.extract.ner_crf import (
    ClusterLookup,
    CRFNer,
    FeatureSet,
    stack_features,
    to_bioes,
)

WORDS = "Gestern traf Jonna Velk in Marbrück Velk wieder .".split()
TAGS = ["O", "O", "B-PER", "E-PER", "O", "S-LOC", "S-ORG", "O", "O"]
CLUSTERS = [("-", "-", "-")] * len(WORDS)


def test_stack_features_describe_stage_one() -> None:
    margs = [0.99, 0.99, 0.95, 0.92, 0.99, 0.8, 0.55, 0.99, 1.0]
    alts = [None, None, None, None, None, "S-ORG", "S-PER", None, None]
    rows = stack_features(WORDS, CLUSTERS, None, TAGS, margs, alts)
    assert len(rows) == len(WORDS)
    velk = rows[3]
    assert {"p0=E-PER", "p-1=B-PER", "p+2=S-LOC", "ep=E", "ept=E|PER", "el=2|PER"} <= set(velk)
    assert "sf=ORG" in velk  # the other "Velk" was tagged ORG by stage 1
    second = rows[6]
    assert {"sf=PER", "sf|t=PER|ORG", "m=d", "alt=S-PER", "w=Velk"} <= set(second)
    assert "p+2=</s>" in rows[7] and "p-2=<s>" in rows[0]
    bare = stack_features(WORDS, CLUSTERS, None, TAGS, margs, alts, word_feats="none")
    assert not any(f.startswith("w=") for f in bare[3])


def _train_crf(path: Path, xs: list[list[list[str]]], ys: list[list[str]]) -> None:
    trainer = pycrfsuite.Trainer(verbose=False)
    for x, y in zip(xs, ys, strict=True):
        trainer.append(x, y)
    trainer.set_params({"max_iterations": 20})
    trainer.train(str(path))


def test_component_with_stack_round_trip(tmp_path: Path) -> None:
    sents = [
        ("Jonna Velk wohnt in Marbrück .".split(), ["B-PER", "I-PER", "O", "O", "B-LOC", "O"]),
        ("In Marbrück lacht Velk .".split(), ["O", "B-LOC", "O", "B-PER", "O"]),
    ]
    feats = FeatureSet()
    clusters = ClusterLookup(ks=(50, 200, 1000))  # empty table: every word gets "-"
    xs = [feats(w, clusters(w)) for w, _ in sents]
    ys = [to_bioes(t) for _, t in sents]
    _train_crf(tmp_path / "s1.model", xs, ys)
    comp = CRFNer(spacy.blank("de"), "ner")
    comp.load_model(tmp_path / "s1.model")
    comp.clusters = clusters
    x2 = [stack_features(w, clusters(w), None, y, [0.99] * len(w), [None] * len(w))
          for (w, _), y in zip(sents, ys, strict=True)]
    _train_crf(tmp_path / "s2.model", x2, ys)
    comp.load_stack_model(tmp_path / "s2.model", "lite")
    comp.to_disk(tmp_path / "comp")
    assert (tmp_path / "comp" / "crf2.model").exists()
    again = CRFNer(spacy.blank("de"), "ner").from_disk(tmp_path / "comp")
    assert again._stack_tagger is not None and again.stack_word_feats == "lite"
    nlp = spacy.blank("de")
    doc = again(nlp("Jonna Velk wohnt in Marbrück ."))
    assert {(e.text, e.label_) for e in doc.ents} >= {("Marbrück", "LOC")}
