"""Train the CRF alternative (lagebild_ner_crf) on GermEval 2014 train, write a spaCy pipeline.

Why: the CRF is the fast CPU reference we compare the spaCy CNN against. Word clusters
come from k-means over our floret word vectors (k = 50, 200, 1000): a cheap way to
give a sparse model distributional knowledge of words it never saw labelled.

The mined gazetteer (entity strings from GermEval train) is built by k-fold
jackknifing for the training features: each fold's sentences are featurised with a
gazetteer built from the other folds, so the gazetteer fires on training sentences
about as often (and as wrongly) as it will on unseen text; the model directory stores
the gazetteer built from all of train, used for dev, test and inference.

Usage: python training/ner/train_crf.py [--c1 0.1 --c2 0.3 --iters 200] [--out DIR]
       [--scheme bio|bioes] [--no-package-gaz] [--no-mined-gaz] [--no-parts] [--window 3 --rich]
Needs training/corpus/{train,dev}.bio (convert.py) and optionally floret.bin (vectors.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "training" / "corpus"
sys.path.insert(0, str(ROOT / "src"))

from lagebild.extract.ner_crf import (  # noqa: E402
    ClusterLookup,
    FeatureSet,
    MinedGazetteer,
    to_bioes,
)


def read_bio(path: Path) -> list[tuple[list[str], list[str]]]:
    sents: list[tuple[list[str], list[str]]] = []
    words: list[str] = []
    tags: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                if words:
                    sents.append((words, tags))
                words, tags = [], []
                continue
            w, t = line.split("\t")
            words.append(w)
            tags.append(t)
    if words:
        sents.append((words, tags))
    return sents


def spherical_kmeans(vecs: np.ndarray, k: int, iters: int = 15, seed: int = 0) -> np.ndarray:
    """Cosine k-means with matrix products (BLAS), far faster than scipy's vq on one core."""
    rng = np.random.default_rng(seed)
    centers = vecs[rng.choice(len(vecs), size=k, replace=False)].copy()
    labels = np.zeros(len(vecs), dtype=np.int64)
    for _ in range(iters):
        labels = np.argmax(vecs @ centers.T, axis=1)
        sums = np.zeros_like(centers)
        np.add.at(sums, labels, vecs)
        empty = ~sums.any(axis=1)
        sums[empty] = centers[empty]
        centers = sums / (np.linalg.norm(sums, axis=1, keepdims=True) + 1e-9)
    return labels


def build_clusters(
    vectors_dir: Path, floret_bin: Path, ks: tuple[int, ...] = (50, 200, 1000)
) -> ClusterLookup:
    """k-means (cosine) over the floret vectors of the vectors' vocabulary, several k.

    Vectors come from the spaCy floret table (the same lookup as at inference time),
    so table entries and on-the-fly OOV assignments are consistent.
    """
    if not vectors_dir.exists() or not floret_bin.exists():
        return ClusterLookup()
    import floret
    import spacy

    vectors = spacy.load(vectors_dir).vocab.vectors
    words = sorted(w for w in floret.load_model(str(floret_bin)).words if w != "</s>")
    vecs = np.asarray(vectors.get_batch(words), dtype=np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True) + 1e-9
    centers = []
    for k in ks:
        labels = spherical_kmeans(vecs, k, seed=k)
        sums = np.zeros((k, vecs.shape[1]), dtype=np.float32)
        np.add.at(sums, labels, vecs)
        centers.append(sums / (np.linalg.norm(sums, axis=1, keepdims=True) + 1e-9))
    lookup = ClusterLookup({}, vectors, np.concatenate(centers), ks)
    lookup.table = dict(zip(words, lookup.assign(vecs), strict=True))
    return lookup


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--c1", type=float, default=0.1)
    ap.add_argument("--c2", type=float, default=0.3)
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--no-clusters", action="store_true")
    # defaults = the shipped recipe; each switch was measured on dev (MODEL_CARD_NER.md)
    ap.add_argument("--scheme", choices=("bio", "bioes"), default="bioes", help="training tags")
    ap.add_argument("--window", type=int, default=2, choices=(2, 3), help="neighbour window")
    ap.add_argument("--rich", action="store_true", help="far bigrams and cluster bigrams")
    # feature groups, all on in the shipped recipe (--no-X switches one off)
    for flag, what in (
        ("package-gaz", "package gazetteer features (states, aliases, CLDR names)"),
        ("mined-gaz", "gazetteer mined from train (jackknifed)"),
        ("parts", "mined names inside compounds (needs --mined-gaz)"),
        ("lexicon", "simplemma lexicon class of capitalised words"),
        ("heads", "with --lexicon: compound heads of unlisted capitalised words"),
        ("forms", "with --heads: whether listed capitalised words have other forms listed"),
    ):
        ap.add_argument(f"--{flag}", action=argparse.BooleanOptionalAction, default=True,
                        help=what)
    ap.add_argument("--hyphens", action=argparse.BooleanOptionalAction, default=False,
                    help="with --lexicon: lexicon classes of a hyphenated word's first part")
    ap.add_argument("--folds", type=int, default=5, help="jackknife folds for --mined-gaz")
    ap.add_argument("--verbose", action="store_true", help="crfsuite progress per iteration")
    ap.add_argument(
        "--oov-vectors",
        action="store_true",
        help="ship the floret vectors so unseen words get clusters too (+20 MB, slower)",
    )
    ap.add_argument(
        "--out", type=Path, default=ROOT / "training" / "output" / "ner_crf" / "model-best"
    )
    args = ap.parse_args(argv)

    import pycrfsuite
    import spacy

    import lagebild.extract.ner_crf as ner_crf

    t0 = time.time()
    clusters = (
        ClusterLookup()
        if args.no_clusters
        else build_clusters(CORPUS / "vectors", CORPUS / "floret.bin")
    )
    if not args.oov_vectors:
        # measured: floret clusters for OOV words gave no gain on dev (0.7210 vs 0.7208)
        # but cost half the speed and 20 MB, so by default unseen words get no cluster
        clusters.vectors = None
        clusters.centers = None
    print(f"clusters: {len(clusters.table)} words ({time.time() - t0:.0f}s)", file=sys.stderr)
    train = read_bio(CORPUS / "train.bio")
    mined = MinedGazetteer.build(train) if args.mined_gaz else None
    feats = FeatureSet(
        args.window, args.rich, args.package_gaz, mined, args.parts, args.lexicon,
        args.lexicon and args.heads, args.lexicon and args.heads and args.forms,
        args.lexicon and args.hyphens,
    )
    fold_gaz: list[MinedGazetteer | None] = [None] * args.folds
    if mined is not None:
        for f in range(args.folds):
            fold_gaz[f] = MinedGazetteer.build(
                s for i, s in enumerate(train) if i % args.folds != f
            )
        print(
            f"gazetteer: {len(mined.entries)} entries, {len(mined.words)} words "
            f"({time.time() - t0:.0f}s)",
            file=sys.stderr,
        )
    trainer = pycrfsuite.Trainer(verbose=args.verbose)
    for i, (words, tags) in enumerate(train):
        x = feats(words, clusters(words), fold_gaz[i % args.folds])
        trainer.append(x, to_bioes(tags) if args.scheme == "bioes" else tags)
    trainer.set_params(
        {
            "c1": args.c1,
            "c2": args.c2,
            "max_iterations": args.iters,
            "feature.possible_transitions": True,
        }
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model_file = args.out.parent / "crf.model"
    print(f"features built ({time.time() - t0:.0f}s), training ...", file=sys.stderr)
    trainer.train(str(model_file))
    print(f"trained ({time.time() - t0:.0f}s)", file=sys.stderr)

    nlp = spacy.blank("de")
    comp = nlp.add_pipe("lagebild_ner_crf", name="ner")
    assert isinstance(comp, ner_crf.CRFNer)
    comp.load_model(model_file)
    comp.clusters = clusters
    comp.features = feats
    nlp.meta["name"] = "ner_crf"
    nlp.to_disk(args.out)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
