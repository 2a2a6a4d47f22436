"""Train the CRF alternative (lagebild_ner_crf) on GermEval 2014 train, write a spaCy pipeline.

Why: the CRF is the fast CPU reference we compare the spaCy CNN against. Word clusters
come from k-means over our floret word vectors (k = 50, 200, 1000): a cheap way to
give a sparse model distributional knowledge of words it never saw labelled.

Usage: python training/ner/train_crf.py [--c1 0.05 --c2 0.01 --iters 200] [--out DIR]
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

from lagebild.extract.ner_crf import ClusterLookup, token_features  # noqa: E402


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
    ap.add_argument("--c1", type=float, default=0.05)
    ap.add_argument("--c2", type=float, default=0.01)
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--no-clusters", action="store_true")
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
    trainer = pycrfsuite.Trainer(verbose=args.verbose)
    for words, tags in read_bio(CORPUS / "train.bio"):
        trainer.append(token_features(words, clusters(words)), tags)
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
    nlp.meta["name"] = "ner_crf"
    nlp.to_disk(args.out)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
