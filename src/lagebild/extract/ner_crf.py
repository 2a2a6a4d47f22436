"""A CRF named-entity tagger (GermEval 2014 labels) as a spaCy component.

Why a CRF: on two shared CPU cores a linear-chain CRF over rich sparse features
(shape, affixes, capitalisation, word clusters from our own floret vectors) trains in
minutes and tags tens of thousands of words per second; it is the classic strong CPU
baseline for GermEval 2014. The same `token_features` function serves training
(training/ner/train_crf.py) and inference, so the two can never drift apart.

The component stores its crfsuite model and the word->cluster table inside the
pipeline directory, so `spacy.load(dir)` restores it once this module is imported
(the factory must be registered first).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans
from spacy.vectors import Vectors

_SHAPE_UP = re.compile(r"[A-ZÄÖÜ]")
_SHAPE_LO = re.compile(r"[a-zäöüß]")
_SHAPE_DI = re.compile(r"[0-9]")
_REPEAT = re.compile(r"(.)\1+")
_MODEL_FILE = "crf.model"
_CLUSTER_FILE = "clusters.tsv"
_CENTERS_FILE = "centers.npy"
_VECTORS_DIR = "vectors"
_CFG_FILE = "crf.json"


def word_shape(word: str) -> str:
    """Compressed shape: 'Bundestag' -> 'Xx', 'NATO-Gipfel' -> 'X-Xx', '2014' -> 'd'."""
    s = _SHAPE_DI.sub("d", _SHAPE_LO.sub("x", _SHAPE_UP.sub("X", word)))
    return _REPEAT.sub(r"\1", s)


def _word_feats(word: str, cl: tuple[str, ...]) -> list[str]:
    """Features of one word on its own (computed once, then shared with neighbours)."""
    low = word.lower()
    feats = [
        f"w={word}",
        f"l={low}",
        f"sh={word_shape(word)}",
        f"p2={low[:2]}",
        f"p3={low[:3]}",
        f"p4={low[:4]}",
        f"s2={low[-2:]}",
        f"s3={low[-3:]}",
        f"s4={low[-4:]}",
        f"s5={low[-5:]}",
        f"len={min(len(word), 10)}",
    ]
    if word[:1].isupper():
        feats.append("title")
    if word.isupper() and len(word) > 1:
        feats.append("upper")
    if "-" in word:
        feats.append("hyph")
        head, _, tail = word.rpartition("-")
        feats.append(f"hyl={tail.lower()}")
        feats.append(f"hyf={head.lower()}")
    feats.extend(f"c{i}={c}" for i, c in enumerate(cl))
    return feats


def _context_feats(word: str, cl: tuple[str, ...]) -> list[str]:
    """The smaller feature set a neighbour contributes."""
    low = word.lower()
    return [f"l={low}", f"sh={word_shape(word)}", f"s3={low[-3:]}", f"c0={cl[0]}", f"c1={cl[1]}"]


def token_features(words: list[str], clusters: list[tuple[str, ...]]) -> list[list[str]]:
    """CRF attributes per token: own features plus a +-2 window of neighbour features.

    `clusters` holds each token's cluster ids (see `ClusterLookup`), one tuple per word.
    """
    own = [_own_cached(w, c) for w, c in zip(words, clusters, strict=True)]
    ctx = [_ctx_cached(w, c) for w, c in zip(words, clusters, strict=True)]
    n = len(words)
    out: list[list[str]] = []
    for i in range(n):
        feats = ["bias", *own[i]]
        if i == 0:
            feats.append("BOS")
        if i == n - 1:
            feats.append("EOS")
        for off in (-2, -1, 1, 2):
            j = i + off
            if 0 <= j < n:
                feats.extend(ctx[j][off])
        if i > 0:
            feats.append(f"bi-1={ctx[i - 1][0]}|{ctx[i][0]}")
        if i + 1 < n:
            feats.append(f"bi+1={ctx[i][0]}|{ctx[i + 1][0]}")
        out.append(feats)
    return out


# Words repeat within and across articles; caching their feature strings (bounded, so
# memory stays flat) halves the tagger's time. The features are identical either way.
@lru_cache(maxsize=20_000)
def _own_cached(word: str, cl: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_word_feats(word, cl))


@lru_cache(maxsize=20_000)
def _ctx_cached(word: str, cl: tuple[str, ...]) -> dict:
    feats = _context_feats(word, cl)
    out: dict = {off: tuple(f"{off}{f}" for f in feats) for off in (-2, -1, 1, 2)}
    out[0] = feats[0]
    return out


class ClusterLookup:
    """Word -> k-means cluster ids of its floret vector, at several granularities.

    Fast path: a table for the vectors' vocabulary. Any other word (unseen names,
    compounds) still gets clusters: floret builds its vector from hashed subwords and we
    take the nearest centre in each granularity, so OOV tokens are not all alike.
    """

    def __init__(
        self,
        table: dict[str, tuple[str, ...]] | None = None,
        vectors: Vectors | None = None,
        centers: np.ndarray | None = None,
        ks: tuple[int, ...] = (),
    ) -> None:
        self.table = table or {}
        self.vectors = vectors
        self.centers = centers
        self.ks = ks
        self._none = ("-",) * max(len(ks), 1)

    def assign(self, vecs: np.ndarray) -> list[tuple[str, ...]]:
        """Nearest centre (cosine) per granularity for rows of `vecs`."""
        assert self.centers is not None
        vecs = vecs / (np.linalg.norm(vecs, axis=1, keepdims=True) + 1e-9)
        sims = vecs @ self.centers.T
        cols = []
        start = 0
        for k in self.ks:
            cols.append(np.argmax(sims[:, start : start + k], axis=1))
            start += k
        return [tuple(str(int(col[i])) for col in cols) for i in range(len(vecs))]

    def __call__(self, words: list[str]) -> list[tuple[str, ...]]:
        table = self.table
        out = [table.get(w) for w in words]
        missing = [i for i, c in enumerate(out) if c is None]
        if missing:
            if self.vectors is not None and self.centers is not None:
                vecs = self.vectors.get_batch([words[i] for i in missing])
                for i, cl in zip(missing, self.assign(np.asarray(vecs)), strict=True):
                    out[i] = cl
            else:
                for i in missing:
                    out[i] = self._none
        return out  # type: ignore[return-value]


def read_clusters(path: Path) -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    if not path.exists():
        return table
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            word, *ids = line.rstrip("\n").split("\t")
            table[word] = tuple(ids)
    return table


def bio_spans(tags: Iterable[str]) -> Iterator[tuple[int, int, str]]:
    """(start, end, label) chunks from BIO tags (an I- without a B- starts a chunk)."""
    start = -1
    label = ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, lab = tag.partition("-")
        if start >= 0 and (prefix != "I" or lab != label):
            yield start, i, label
            start = -1
        if prefix == "B" or (prefix == "I" and start < 0):
            start, label = i, lab


class CRFNer:
    """spaCy component: tags each sentence (or the whole doc) with the CRF, sets doc.ents.

    Self-contained: the floret vectors used for cluster features live in the component's
    own directory, not in the pipeline vocab, so sourcing it into `spacy.blank("de")`
    needs no vector copying.
    """

    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name
        self._tagger = None
        self._model_bytes = b""
        self.clusters = ClusterLookup()

    @property
    def labels(self) -> tuple[str, ...]:
        """Entity labels the CRF can emit (BIO prefixes stripped)."""
        if self._tagger is None:
            return ()
        return tuple(sorted({t[2:] for t in self._tagger.labels() if t != "O"}))

    def _segments(self, doc: Doc) -> Iterator[tuple[int, int]]:
        """Sentences if set (the CRF was trained on sentences), else chunks of <= 100 tokens."""
        if doc.has_annotation("SENT_START"):
            for sent in doc.sents:
                yield sent.start, sent.end
            return
        for start in range(0, len(doc), 100):
            yield start, min(start + 100, len(doc))

    def __call__(self, doc: Doc) -> Doc:
        if self._tagger is None:
            raise ValueError("lagebild_ner_crf has no model: load it from a pipeline directory")
        spans: list[Span] = []
        words_all = [t.text for t in doc]
        clusters_all = self.clusters(words_all) if words_all else []
        for start, end in self._segments(doc):
            if end <= start:
                continue
            feats = token_features(words_all[start:end], clusters_all[start:end])
            tags = self._tagger.tag(feats)
            spans.extend(
                Span(doc, start + s, start + e, label=lab) for s, e, lab in bio_spans(tags)
            )
        doc.ents = filter_spans([*doc.ents, *spans]) if doc.ents else spans
        return doc

    def load_model(self, model_file: Path) -> None:
        import pycrfsuite

        self._model_bytes = model_file.read_bytes()
        self._tagger = pycrfsuite.Tagger()
        self._tagger.open(str(model_file))

    def to_disk(self, path: str | Path, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / _MODEL_FILE).write_bytes(self._model_bytes)
        cl = self.clusters
        with (path / _CLUSTER_FILE).open("w", encoding="utf-8") as fh:
            fh.writelines(f"{w}\t" + "\t".join(ids) + "\n" for w, ids in sorted(cl.table.items()))
        (path / _CFG_FILE).write_text(json.dumps({"ks": list(cl.ks)}), encoding="utf-8")
        if cl.centers is not None:
            np.save(path / _CENTERS_FILE, cl.centers.astype(np.float32))
        if cl.vectors is not None:
            cl.vectors.to_disk(path / _VECTORS_DIR)

    def from_disk(self, path: str | Path, exclude: Iterable[str] = ()) -> CRFNer:
        path = Path(path)
        self.load_model(path / _MODEL_FILE)
        cfg = json.loads((path / _CFG_FILE).read_text(encoding="utf-8"))
        centers = np.load(path / _CENTERS_FILE) if (path / _CENTERS_FILE).exists() else None
        vectors = None
        if (path / _VECTORS_DIR).exists():
            vectors = Vectors()
            vectors.from_disk(path / _VECTORS_DIR)
        self.clusters = ClusterLookup(
            read_clusters(path / _CLUSTER_FILE), vectors, centers, tuple(cfg["ks"])
        )
        return self


@Language.factory("lagebild_ner_crf")
def make_crf_ner(nlp: Language, name: str) -> CRFNer:
    return CRFNer(nlp, name)
