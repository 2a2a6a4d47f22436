"""A character-aware BiLSTM-CRF tagger, run in numpy: the second member of the NER ensemble.

Why a second model: the CRF (`ner_crf.py`) sees sparse features of a +-2 window; a
BiLSTM over characters, our own floret vectors and the package gazetteer sees the whole
sentence and spells out unseen names. Models trained with `--lexicon` also read each
capitalised word's lexicon class (`ner_crf.lexicon_class`): whether simplemma's German
dictionary lists it, and as what kind of form; with `--heads`, also whether an unlisted
word ends in a listed noun (`ner_crf.head_class`), and with `--forms` whether a listed one
has other forms listed (`ner_crf.form_class`). The two err differently, and on GermEval
dev their product (a weighted sum of both models' CRF potentials, decoded once) is several
points better than either alone (`training/ner/MODEL_CARD_NER.md`).

Why numpy: PyTorch trains the model (`training/ner/train_bilstm.py`), but a several-GB
dependency for one small recurrent layer at run time is not what a pip-installable
CPU tool should ask for. The forward pass is a few matrix products per time step; the
weights are exported to `bilstm.npz` and the floret table to `floret.npy` (both float16
on disk, float32 in memory). Training and inference share the featurisation below
(`casing`, `char_ids`, `gaz_multi_hot`), so the two cannot drift apart.

Speed: everything that depends on the word alone (floret vector, word and character
embeddings, casing, and their product with the LSTM input weights) is cached per word
form; what is left per token is the recurrence, run for all sentences of a document at
once with sentences sorted by length.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from spacy.vectors import Vectors

from .ner_crf import WordCache, package_gazetteer_features, word_classes

WEIGHTS_FILE = "bilstm.npz"
FLORET_FILE = "floret.npy"
FLORET_CFG = "floret.json"

#: package-gazetteer features the model sees, as a multi-hot vector (order matters)
GAZ_FEATS = ("pk=B-GPE", "pk=I-GPE", "pk=adj", "pk=dem", "pk=B-CAP", "pk=I-CAP",
             "pk=B-ORG", "pk=I-ORG", "pk=B-LOC", "pk=I-LOC", "pk=B-MISC", "pk=I-MISC")
_GAZ_INDEX = {f: i for i, f in enumerate(GAZ_FEATS)}
#: lexicon classes of capitalised words (`ner_crf.lexicon_class`), appended to the
#: gazetteer vector by models trained with them (their `gaz.weight` is wider)
LEX_FEATS = ("lx=self", "lx=infl", "lx=low", "lx=cap", "lx=unk")
#: compound heads of unlisted words (`ner_crf.head_class`), after the lexicon classes in
#: models trained with `--heads`, and then the form classes of listed ones
#: (`ner_crf.form_class`) in models trained with `--forms` too
HEAD_FEATS = ("hd=long", "hd=short")
FORM_FEATS = ("fm=none", "fm=gen")
_WORD_INDEX = {f: i for i, f in enumerate((*LEX_FEATS, *HEAD_FEATS, *FORM_FEATS))}
MAX_CHARS = 30  # longer words keep their first and last 14 characters
PAD, UNK = 0, 1
N_CASING = 10
_NEG = -1e4
_CACHE_SIZE = 8_000  # word forms per generation (see WordCache)
#: sentences are run together in groups of at most this many padded token slots: the
#: gate and state arrays grow with (sentences x longest sentence), and one 5 MB input
#: holds tens of thousands of sentences (4,096 slots: 8 MB of gates at 64 units)
MAX_SLOTS = 4_096


def length_groups(lengths: Sequence[int], max_slots: int = MAX_SLOTS) -> list[list[int]]:
    """Indices of `lengths`, longest first, cut into runs whose padded size (count x the
    run's first, longest, length) stays within `max_slots` (a longer item is alone)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    groups: list[list[int]] = []
    for i in order:
        if groups and (len(groups[-1]) + 1) * lengths[groups[-1][0]] <= max_slots:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def casing(word: str) -> int:
    """Small casing/shape class (0 is padding)."""
    if word.isdigit():
        return 1
    if any(c.isdigit() for c in word):
        return 2
    if not any(c.isalpha() for c in word):
        return 3
    if word.islower():
        return 4
    if word.isupper():
        return 5 if len(word) > 1 else 6
    if word[0].isupper():
        return 7 if word[1:].islower() or len(word) == 1 else 8
    return 9


def char_ids(word: str, chars: dict[str, int]) -> list[int]:
    """Char ids with begin/end-of-word markers (2, 3); long words keep both ends."""
    if len(word) > MAX_CHARS - 2:
        half = (MAX_CHARS - 2) // 2
        word = word[:half] + word[-half:]
    get = chars.get
    return [2, *[get(c, UNK) for c in word], 3]


def lexicon_width(lexicon: bool, heads: bool = False, forms: bool = False) -> int:
    """Columns after the gazetteer's: the lexicon classes, the compound heads and the form
    classes (each level needs the one before, so a width names its features)."""
    if not lexicon:
        return 0
    if not heads:
        return len(LEX_FEATS)
    return len(LEX_FEATS) + len(HEAD_FEATS) + (len(FORM_FEATS) if forms else 0)


def gaz_multi_hot(
    words: Sequence[str], pk: list[list[str]] | None = None, lexicon: bool = False,
    heads: bool = False, forms: bool = False,
) -> np.ndarray:
    """(n, len(GAZ_FEATS)) 0/1 matrix of the package gazetteer's matches in one sentence
    (`pk`: its `package_gazetteer_features`, when the caller has them already); with
    `lexicon`, `lexicon_width` more columns for each word's lexicon class (and with
    `heads` its compound head, with `forms` its form class)."""
    width = len(GAZ_FEATS) + lexicon_width(lexicon, heads, forms)
    out = np.zeros((len(words), width), dtype=np.float32)
    for i, feats in enumerate(package_gazetteer_features(words) if pk is None else pk):
        for f in feats:
            j = _GAZ_INDEX.get(f)
            if j is not None:
                out[i, j] = 1.0
    if lexicon:
        for i, w in enumerate(words):
            for k in lexicon_columns(w, heads, forms):
                out[i, len(GAZ_FEATS) + k] = 1.0
    return out


def lexicon_columns(word: str, heads: bool = False, forms: bool = False) -> list[int]:
    """The word's `ner_crf.word_classes` as column indices after the gazetteer's
    (LEX_FEATS, then HEAD_FEATS, then FORM_FEATS); none for lower-case words."""
    return [_WORD_INDEX[f] for f in word_classes(word, heads, forms)]


def bioes_allowed(tags: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean start, transition and end masks of valid BIOES sequences."""

    def split(t: str) -> tuple[str, str]:
        return (t, "") if t == "O" else (t[0], t[2:])

    parts = [split(t) for t in tags]
    start = np.array([p not in ("I", "E") for p, _ in parts])
    end = np.array([p not in ("B", "I") for p, _ in parts])
    trans = np.array(
        [
            [(pb in ("I", "E") and lb == la) if pa in ("B", "I") else pb in ("O", "B", "S")
             for pb, lb in parts]
            for pa, la in parts
        ]
    )
    return start, trans, end


def viterbi_batch(
    emissions: Sequence[np.ndarray], trans: np.ndarray, start: np.ndarray, end: np.ndarray,
    max_slots: int = MAX_SLOTS,
) -> list[list[int]]:
    """Best label path of each sentence; sentences of a length group advance together."""
    paths: list[list[int]] = [[] for _ in emissions]
    for group in length_groups([len(e) for e in emissions], max_slots):
        for i, path in zip(group, _viterbi_sorted([emissions[i] for i in group], trans,
                                                  start, end), strict=True):
            paths[i] = path
    return paths


def _viterbi_sorted(
    emissions: Sequence[np.ndarray], trans: np.ndarray, start: np.ndarray, end: np.ndarray
) -> list[list[int]]:
    """`viterbi_batch` for sentences sorted longest first."""
    lens = np.array([len(e) for e in emissions])
    if not len(lens) or lens[0] == 0:
        return [[] for _ in emissions]
    k = trans.shape[0]
    t_max = int(lens[0])
    em = np.zeros((len(lens), t_max, k), dtype=np.float32)
    for j, e in enumerate(emissions):
        em[j, : lens[j]] = e
    score = (start + em[:, 0]).astype(np.float32)
    back = np.zeros((len(lens), t_max, k), dtype=np.int16)
    final = score.copy()
    trans_t = np.ascontiguousarray(trans.T, dtype=np.float32)  # [to, from]: reduce last axis
    for t in range(1, t_max):
        n = int((lens > t).sum())
        cand = score[:n, None, :] + trans_t  # (n, to, from)
        arg = cand.argmax(2)
        back[:n, t] = arg
        score = np.take_along_axis(cand, arg[:, :, None], 2)[:, :, 0]
        score += em[:n, t]
        done = lens[:n] == t + 1
        final[:n][done] = score[done]
    final = final + end
    paths: list[list[int]] = []
    for j, n in enumerate(lens.tolist()):
        if not n:
            paths.append([])
            continue
        y = int(final[j].argmax())
        path = [y]
        for t in range(n - 1, 0, -1):
            y = int(back[j, t, y])
            path.append(y)
        path.reverse()
        paths.append(path)
    return paths


class BiLSTMTagger:
    """Numpy forward pass of the model trained by training/ner/train_bilstm.py."""

    def __init__(
        self,
        params: dict[str, np.ndarray],
        words: dict[str, int],
        chars: dict[str, int],
        tags: list[str],
        vectors: Vectors,
    ) -> None:
        self.params = params
        self.words = words
        self.chars = chars
        self.tags = tags
        self.vectors = vectors
        p = {k: v.astype(np.float32) for k, v in params.items()}
        self.hidden = hid = p["lstm.weight_hh_l0"].shape[1]
        # sigmoid(x) = (tanh(x/2) + 1) / 2, so one tanh serves all four gates per step if the
        # input, forget and output gate rows are halved; done here once, in every weight
        # that feeds the gates (halving is exact in floating point)
        scale = np.full(4 * hid, 0.5, dtype=np.float32)
        scale[2 * hid : 3 * hid] = 1.0
        n_gaz = p["gaz.weight"].shape[1]
        d_gaz = p["gaz.weight"].shape[0]
        w_ih = np.stack([p["lstm.weight_ih_l0"], p["lstm.weight_ih_l0_reverse"]])  # (2,4H,d)
        d_word = w_ih.shape[2] - d_gaz
        self._w_word = w_ih[:, :, :d_word].transpose(0, 2, 1) * scale  # (2, d_word, 4H)
        # gazetteer multi-hot -> embedding -> LSTM input, folded into one (2, n_gaz, 4H)
        w_gaz = np.einsum("gn,zhg->znh", p["gaz.weight"], w_ih[:, :, d_word:]) * scale
        assert w_gaz.shape[1] == n_gaz
        # the lexicon columns depend on the word form alone, so they join the cached word
        # inputs (`_word_inputs`); the package gazetteer's depend on the sentence
        self.lexicon = n_gaz > len(GAZ_FEATS)
        self.heads = n_gaz >= len(GAZ_FEATS) + lexicon_width(True, True)
        self.forms = n_gaz == len(GAZ_FEATS) + lexicon_width(True, True, True)
        assert n_gaz == len(GAZ_FEATS) + lexicon_width(self.lexicon, self.heads, self.forms)
        self._w_gaz = np.ascontiguousarray(w_gaz[:, : len(GAZ_FEATS)])
        self._w_lex = np.ascontiguousarray(w_gaz[:, len(GAZ_FEATS) :])
        self._bias = np.stack(
            [
                p["lstm.bias_ih_l0"] + p["lstm.bias_hh_l0"],
                p["lstm.bias_ih_l0_reverse"] + p["lstm.bias_hh_l0_reverse"],
            ]
        ) * scale
        self._w_hh = np.stack(
            [p["lstm.weight_hh_l0"].T, p["lstm.weight_hh_l0_reverse"].T]
        ) * scale  # (2, H, 4H)
        self._out_w = p["out.weight"].T.copy()
        self._out_b = p["out.bias"]
        self._word_emb = p["word_emb.weight"]
        self._char_emb = p["char_emb.weight"]
        self._conv_w = p["char_cnn.weight"]  # (filters, char_dim, 3)
        self._conv_b = p["char_cnn.bias"]
        self._case_emb = p["case_emb.weight"]
        # the CRF layer's scores as trained; the decoder (CRFNer.set_ensemble) forbids
        # invalid BIOES sequences itself
        self.start, self.trans, self.end = p["crf.start"], p["crf.trans"], p["crf.end"]
        self._cache = WordCache(_CACHE_SIZE)
        self.max_slots = MAX_SLOTS

    # -- persistence ---------------------------------------------------------------------
    @classmethod
    def from_dir(cls, path: Path) -> BiLSTMTagger:
        with np.load(path / WEIGHTS_FILE, allow_pickle=False) as z:
            params = {k: z[k] for k in z.files if not k.startswith("meta.")}
            meta = json.loads(bytes(z["meta.json"]).decode("utf-8"))
        cfg = json.loads((path / FLORET_CFG).read_text(encoding="utf-8"))
        table = np.load(path / FLORET_FILE).astype(np.float32)
        vectors = Vectors(data=table, mode="floret", **cfg)
        return cls(params, meta["words"], meta["chars"], meta["tags"], vectors)

    def to_dir(self, path: Path) -> None:
        meta = json.dumps({"words": self.words, "chars": self.chars, "tags": self.tags},
                          ensure_ascii=False).encode("utf-8")
        arrays = {k: v.astype(np.float16) for k, v in self.params.items()}
        np.savez_compressed(path / WEIGHTS_FILE, **arrays,
                            **{"meta.json": np.frombuffer(meta, dtype=np.uint8)})
        np.save(path / FLORET_FILE, self.vectors.data.astype(np.float16))
        cfg = {k: getattr(self.vectors, k) for k in
               ("minn", "maxn", "hash_count", "hash_seed", "bow", "eow")}
        (path / FLORET_CFG).write_text(json.dumps(cfg), encoding="utf-8")

    # -- forward pass --------------------------------------------------------------------
    def _char_vectors(self, forms: list[str]) -> np.ndarray:
        """Max-pooled width-3 character convolution of each word form."""
        ids = [char_ids(w, self.chars) for w in forms]
        width = max(len(i) for i in ids)
        mat = np.zeros((len(ids), width + 2), dtype=np.int64)  # zero padding = conv padding
        for r, i in enumerate(ids):
            mat[r, 1 : 1 + len(i)] = i
        emb = self._char_emb[mat]  # (n, width+2, dim); row PAD is zero
        w = self._conv_w
        conv = emb[:, :width] @ w[:, :, 0].T  # (n, width, filters)
        conv += emb[:, 1 : 1 + width] @ w[:, :, 1].T
        conv += emb[:, 2 : 2 + width] @ w[:, :, 2].T
        conv += self._conv_b
        valid = np.arange(width)[None, :] < np.array([len(i) for i in ids])[:, None]
        conv = np.where(valid[:, :, None], conv, _NEG)
        return conv.max(1)

    def _word_inputs(self, forms: list[str]) -> np.ndarray:
        """(2, n, 4H): each form's contribution to the LSTM gates, cached per form."""
        cache = self._cache
        found = {w: cache.lookup(w) for w in dict.fromkeys(forms)}
        new = [w for w, g in found.items() if g is None]
        if new:
            x = np.concatenate(
                [
                    self.vectors.get_batch(new),
                    self._word_emb[[self.words.get(w.lower(), UNK) for w in new]],
                    self._char_vectors(new),
                    self._case_emb[[casing(w) for w in new]],
                ],
                axis=1,
            ).astype(np.float32)
            g = x @ self._w_word + self._bias[:, None, :]  # (2, n_new, 4H)
            if self.lexicon:
                for i, w in enumerate(new):
                    for k in lexicon_columns(w, self.heads, self.forms):
                        g[:, i] += self._w_lex[:, k]
            for i, w in enumerate(new):
                found[w] = g[:, i].copy()  # a copy: a view would keep all of `g` alive
                cache.store(w, found[w])
        return np.stack([found[w] for w in forms], axis=1)

    def emissions(
        self, sents: Sequence[Sequence[str]], pks: Sequence[list[list[str]]] | None = None
    ) -> list[np.ndarray]:
        """Per sentence, (n_tokens, n_tags) emission scores in `self.tags` order (`pks`:
        each sentence's package-gazetteer features, if already computed)."""
        out: list[np.ndarray] = [np.zeros((0, len(self.tags)), np.float32) for _ in sents]
        keep = [i for i, s in enumerate(sents) if len(s)]
        for group in length_groups([len(sents[i]) for i in keep], self.max_slots):
            order = [keep[j] for j in group]
            for i, em in zip(order, self._emissions_sorted(sents, order, pks), strict=True):
                out[i] = em
        return out

    def _emissions_sorted(
        self,
        sents: Sequence[Sequence[str]],
        order: list[int],
        pks: Sequence[list[list[str]]] | None,
    ) -> list[np.ndarray]:
        """Emissions of the sentences `order` (non-empty, longest first), run together."""
        lens = np.array([len(sents[i]) for i in order])
        flat = [w for i in order for w in sents[i]]
        g_tok = self._word_inputs(flat)
        gaz = np.concatenate(  # per sentence, as in training: no match across sentences
            [gaz_multi_hot(sents[i], None if pks is None else pks[i]) for i in order]
        )
        hits = np.flatnonzero(gaz.any(1))  # few tokens match the gazetteer
        if len(hits):
            g_tok[:, hits] += np.matmul(gaz[hits], self._w_gaz)
        b, t_max, hid = len(order), int(lens[0]), self.hidden
        gates = np.zeros((2, b, t_max, 4 * hid), dtype=np.float32)
        offs = np.concatenate([[0], np.cumsum(lens)])
        for j in range(b):
            n = lens[j]
            seg = g_tok[:, offs[j] : offs[j] + n]
            gates[0, j, :n] = seg[0]
            gates[1, j, :n] = seg[1, ::-1]  # the backward LSTM reads the sentence reversed
        w_hh = self._w_hh  # gate rows pre-scaled for the one-tanh sigmoid (see __init__)
        h = np.zeros((2, b, hid), dtype=np.float32)
        c = np.zeros((2, b, hid), dtype=np.float32)
        states = np.zeros((2, b, t_max, hid), dtype=np.float32)
        active = (lens[None, :] > np.arange(t_max)[:, None]).sum(1)
        i_s, f_s, g_s, o_s = (slice(k * hid, (k + 1) * hid) for k in range(4))
        for t in range(t_max):
            n = int(active[t])
            hv, cv = h[:, :n], c[:, :n]  # views: the updates below write into h and c
            a = np.matmul(hv, w_hh)
            a += gates[:, :n, t]
            np.tanh(a, out=a)
            sig = a * 0.5
            sig += 0.5
            cv *= sig[..., f_s]
            cv += sig[..., i_s] * a[..., g_s]
            np.tanh(cv, out=hv)
            hv *= sig[..., o_s]
            states[:, :n, t] = hv
        fwd = states[0] @ self._out_w[:hid]
        bwd = states[1] @ self._out_w[hid:]
        return [fwd[j, :n] + bwd[j, :n][::-1] + self._out_b for j, n in enumerate(lens.tolist())]
