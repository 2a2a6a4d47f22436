"""The NER ensemble's numpy parts: BiLSTM forward pass, batched Viterbi, fast CRF scores.

The BiLSTM is checked against a plain per-sentence, per-step reference written out
below (random small weights), so the batching, length sorting and the reversed
backward direction cannot silently go wrong; training/ner/export_bilstm.py checks the
same forward pass against PyTorch on real weights.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import spacy
from spacy.vectors import Vectors

from lagebild.extract.ner_bilstm import (
    FORM_FEATS,
    GAZ_FEATS,
    HEAD_FEATS,
    LEX_FEATS,
    N_CASING,
    BiLSTMTagger,
    casing,
    char_ids,
    gaz_multi_hot,
    length_groups,
    lexicon_width,
    viterbi_batch,
)
from lagebild.extract.ner_crf import (
    FeatureSet,
    WordCache,
    form_class,
    head_class,
    hyphen_class,
    lexicon_class,
    token_features,
    word_classes,
)
from lagebild.resources import model_path

TAGS = ["O", "B-PER", "E-PER", "S-PER", "S-LOC"]
SENTS = [
    ["Helga", "Brommer", "reiste", "nach", "Kassel", "."],
    ["Ja", "."],
    ["Der", "Rat", "in", "Paris", "tagte", "am", "Montag", "lange", "."],
    [],
    ["Die", "Quarkelministerium", "und", "Zorbelhaus", "Xqzvbrt", "in", "Zwickau", "."],
    ["Der", "Xqz-Bericht", "kam", "."],
]


def _random_tagger(hidden: int = 3, seed: int = 0, lexicon: bool = False,
                   heads: bool = False, forms: bool = False) -> BiLSTMTagger:
    rng = np.random.default_rng(seed)
    words = {"der": 2, "rat": 3, "in": 4, "paris": 5}
    chars = {c: i + 4 for i, c in enumerate("abcdefghijklmnopqrstuvwxyzäöüßABCDEFGHIJKLMNOPQRSTUVWXYZ.")}
    d_vec, d_word, d_char, n_filt, d_case, d_gaz = 4, 3, 2, 3, 2, 2
    d_in = d_vec + d_word + n_filt + d_case + d_gaz
    k = len(TAGS)

    def r(*shape: int) -> np.ndarray:
        return rng.normal(0, 0.5, shape).astype(np.float32)

    params = {
        "word_emb.weight": r(len(words) + 2, d_word),
        "char_emb.weight": r(len(chars) + 4, d_char),
        "char_cnn.weight": r(n_filt, d_char, 3),
        "char_cnn.bias": r(n_filt),
        "case_emb.weight": r(N_CASING, d_case),
        "gaz.weight": r(d_gaz, len(GAZ_FEATS) + lexicon_width(lexicon, heads, forms)),
        "out.weight": r(k, 2 * hidden),
        "out.bias": r(k),
        "crf.start": r(k),
        "crf.trans": r(k, k),
        "crf.end": r(k),
    }
    params["char_emb.weight"][0] = 0.0  # padding row, as nn.Embedding(padding_idx=0)
    for suffix in ("", "_reverse"):
        params[f"lstm.weight_ih_l0{suffix}"] = r(4 * hidden, d_in)
        params[f"lstm.weight_hh_l0{suffix}"] = r(4 * hidden, hidden)
        params[f"lstm.bias_ih_l0{suffix}"] = r(4 * hidden)
        params[f"lstm.bias_hh_l0{suffix}"] = r(4 * hidden)
    vectors = Vectors(data=r(50, d_vec), mode="floret", minn=4, maxn=5, hash_count=2,
                      hash_seed=2166136261, bow="<", eow=">")
    return BiLSTMTagger(params, words, chars, TAGS, vectors)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _reference_emissions(tg: BiLSTMTagger, words: list[str]) -> np.ndarray:
    """One sentence, one token and one step at a time, straight from the weights."""
    p = tg.params
    gaz = gaz_multi_hot(words, lexicon=tg.lexicon, heads=tg.heads, forms=tg.forms)
    rows = []
    for i, w in enumerate(words):
        ids = char_ids(w, tg.chars)
        emb = p["char_emb.weight"][ids]  # (n, d)
        padded = np.vstack([np.zeros((1, emb.shape[1])), emb, np.zeros((1, emb.shape[1]))])
        conv = [
            sum(padded[j + k] @ p["char_cnn.weight"][:, :, k].T for k in range(3))
            + p["char_cnn.bias"]
            for j in range(len(ids))
        ]
        rows.append(np.concatenate([
            tg.vectors.get_batch([w])[0],
            p["word_emb.weight"][tg.words.get(w.lower(), 1)],
            np.max(conv, axis=0),
            p["case_emb.weight"][casing(w)],
            p["gaz.weight"] @ gaz[i],
        ]))
    x = np.array(rows)

    def run(xs: np.ndarray, suffix: str) -> np.ndarray:
        hid = p[f"lstm.weight_hh_l0{suffix}"].shape[1]
        h, c, out = np.zeros(hid), np.zeros(hid), []
        for xt in xs:
            g = (p[f"lstm.weight_ih_l0{suffix}"] @ xt + p[f"lstm.bias_ih_l0{suffix}"]
                 + p[f"lstm.weight_hh_l0{suffix}"] @ h + p[f"lstm.bias_hh_l0{suffix}"])
            i_g, f_g, g_g, o_g = np.split(g, 4)
            c = _sigmoid(f_g) * c + _sigmoid(i_g) * np.tanh(g_g)
            h = _sigmoid(o_g) * np.tanh(c)
            out.append(h)
        return np.array(out)

    hs = np.concatenate([run(x, ""), run(x[::-1], "_reverse")[::-1]], axis=1)
    return hs @ p["out.weight"].T + p["out.bias"]


@pytest.mark.parametrize(("lexicon", "heads", "forms"),
                         [(False, False, False), (True, False, False), (True, True, False),
                          (True, True, True)])
def test_numpy_bilstm_matches_step_by_step_reference(lexicon: bool, heads: bool,
                                                     forms: bool) -> None:
    tg = _random_tagger(lexicon=lexicon, heads=heads, forms=forms)
    assert (tg.lexicon, tg.heads, tg.forms) == (lexicon, heads, forms)
    got = tg.emissions(SENTS)
    assert [e.shape for e in got] == [(len(s), len(TAGS)) for s in SENTS]
    for sent, em in zip(SENTS, got, strict=True):
        if sent:
            np.testing.assert_allclose(em, _reference_emissions(tg, sent), atol=1e-4)
    # the per-word cache gives the same numbers on a second pass
    for em, again in zip(got, tg.emissions(SENTS), strict=True):
        np.testing.assert_allclose(em, again, atol=1e-6)


def test_bilstm_round_trips_through_its_files(tmp_path) -> None:
    tg = _random_tagger(seed=3)
    tg.to_dir(tmp_path)
    back = BiLSTMTagger.from_dir(tmp_path)
    assert back.tags == TAGS and back.words == tg.words
    for a, b in zip(tg.emissions(SENTS), back.emissions(SENTS), strict=True):
        np.testing.assert_allclose(a, b, atol=0.05)  # float16 on disk


def test_viterbi_batch_matches_brute_force() -> None:
    rng = np.random.default_rng(1)
    k = 3
    trans, start, end = rng.normal(size=(k, k)), rng.normal(size=k), rng.normal(size=k)
    ems = [rng.normal(size=(n, k)) for n in (1, 4, 2, 3)]
    paths = viterbi_batch(ems, trans, start, end)
    for em, path in zip(ems, paths, strict=True):

        def total(y: tuple[int, ...], em: np.ndarray = em) -> float:
            s = start[y[0]] + end[y[-1]] + sum(em[t, y[t]] for t in range(len(y)))
            return s + sum(trans[y[t - 1], y[t]] for t in range(1, len(y)))

        best = max(itertools.product(range(k), repeat=len(em)), key=total)
        assert tuple(path) == best
    assert viterbi_batch([], trans, start, end) == []


def test_word_cache_keeps_recent_entries_in_bounded_memory() -> None:
    cache = WordCache(2)
    for w in ("a", "b", "c"):
        cache.store(w, w.upper())
    assert cache.lookup("a") == "A"  # from the old generation, moved back
    assert cache.lookup("c") == "C"
    cache.store("d", "D")
    cache.store("e", "E")
    assert len(cache) + len(cache.old) <= 4
    assert cache.lookup("zzz") is None


@pytest.fixture(scope="module")
def shipped():
    import lagebild.extract.ner_crf  # noqa: F401  (registers the factory)

    return spacy.load(model_path("ner")).get_pipe("ner")


def test_fast_crf_scores_equal_the_attribute_sum(shipped) -> None:
    """The ensemble's cached CRF scores must equal crfsuite's state scores exactly."""
    import pycrfsuite

    from lagebild.extract.ner_crf import CRFWeights

    if shipped._crf_weights is not None:
        cw = shipped._crf_weights
    else:
        tagger = pycrfsuite.Tagger()
        tagger.open(str(model_path("ner") / "ner" / "crf.model"))
        cw = CRFWeights.from_tagger(tagger)
    feats = shipped.features
    # the shipped model uses lexicon classes, compound heads and form classes: the test
    # covers them
    assert feats.lexicon and feats.heads and feats.forms
    for words in [s for s in SENTS if s]:
        cl = shipped.clusters(words)
        extra = feats.extras(words)
        slow = cw.emissions(token_features(words, cl, extra, feats.window, feats.rich))
        # with lexicon features, the fast path scores them itself (cached per word form)
        cw.word_classes = feats.word_classes
        fast_extra = feats.extras(words, lexicon=False)
        fast = cw.doc_emissions([words], [cl], [fast_extra], feats.window)[0]
        np.testing.assert_allclose(fast, slow, atol=1e-4)
    # a whole document at once (an empty sentence included): the same floats per sentence
    sents = [list(w) for w in SENTS]
    cls = [shipped.clusters(w) if w else [] for w in sents]
    extras = [feats.extras(w, lexicon=False) if w else [] for w in sents]
    whole = cw.doc_emissions(sents, cls, extras, feats.window)
    assert [e.shape[0] for e in whole] == [len(w) for w in sents]
    for w, c, x, got in zip(sents, cls, extras, whole, strict=True):
        if w:
            np.testing.assert_array_equal(got, cw.doc_emissions([w], [c], [x], feats.window)[0])


def test_crf_weights_reproduce_crfsuite_viterbi(shipped) -> None:
    import pycrfsuite

    from lagebild.extract.ner_bilstm import bioes_allowed
    from lagebild.extract.ner_crf import CRFWeights

    tagger = pycrfsuite.Tagger()
    tagger.open(str(model_path("ner") / "ner" / "crf.model"))
    cw = CRFWeights.from_tagger(tagger)
    for words in SENTS[:3]:
        x = shipped.features(words, shipped.clusters(words))
        ok_s, _, ok_e = bioes_allowed(cw.labels)
        zero = np.zeros(len(cw.labels))
        (path,) = viterbi_batch([cw.emissions(x)], cw.trans, zero, zero)
        assert [cw.labels[k] for k in path] == tagger.tag(x)
        assert ok_s.any() and ok_e.any()


def test_overlong_sentences_are_tagged_in_bounded_pieces(shipped) -> None:
    """A text without full stops must not make one giant segment (memory grows with it)."""
    nlp = spacy.blank("de")
    words = ("Karl Bauer traf in Kassel die UNO und".split()) * 80
    doc = spacy.tokens.Doc(nlp.vocab, words=words, sent_starts=[True] + [False] * (len(words) - 1))
    pieces = list(shipped._segments(doc))
    assert max(b - a for a, b in pieces) <= 250
    assert pieces[0][0] == 0 and pieces[-1][1] == len(words)
    assert all(a == b for (_, a), (b, _) in zip(pieces, pieces[1:], strict=False))
    tagged = shipped(doc)
    assert any(e.text == "Kassel" for e in tagged.ents)


def test_lexicon_classes_separate_common_words_from_unknown_ones() -> None:
    """The lexicon feature of capitalised words (CRF and BiLSTM inputs alike)."""
    assert lexicon_class("Soldaten") == "lx=infl"  # an inflected noun
    assert lexicon_class("Die") == "lx=low"  # a form of a lower-case lemma
    assert lexicon_class("Gestern") == "lx=cap"  # only "gestern" is listed
    assert lexicon_class("Xqzvbrt") == "lx=unk"
    assert lexicon_class("reiste") is None  # lower-case words get no class
    words = ["Gestern", "reiste", "Xqzvbrt", "ab"]
    assert FeatureSet(lexicon=True).extras(words) == [["lx=cap"], [], ["lx=unk"], []]
    hot = gaz_multi_hot(words, lexicon=True)
    assert hot.shape == (4, len(GAZ_FEATS) + len(LEX_FEATS))
    assert hot[:, len(GAZ_FEATS):].sum(1).tolist() == [1.0, 0.0, 1.0, 0.0]
    assert gaz_multi_hot(words).shape == (4, len(GAZ_FEATS))


def test_compound_heads_split_unlisted_words() -> None:
    """An unlisted capitalised word ending in a listed noun is likelier a compound than a
    name (`head_class`); only unlisted words without a hyphen get a head class."""
    assert head_class("Quarkelministerium") == "hd=long"  # invented; ends in Ministerium
    assert head_class("Zorbelhaus") == "hd=short"  # ends in Haus
    assert head_class("Xqzvbrt") is None  # no listed noun at its end: name-like
    assert head_class("Soldaten") is None  # listed words keep their lexicon class alone
    assert head_class("Xqz-System") is None  # hyphenated: the part features cover these
    assert word_classes("Quarkelministerium") == ("lx=unk",)
    assert word_classes("Quarkelministerium", heads=True) == ("lx=unk", "hd=long")
    assert word_classes("reiste", heads=True) == ()
    words = ["Zorbelhaus", "reiste", "Xqzvbrt"]
    assert FeatureSet(lexicon=True, heads=True).extras(words) == [["lx=unk", "hd=short"], [], ["lx=unk"]]
    hot = gaz_multi_hot(words, lexicon=True, heads=True)
    assert hot.shape == (3, len(GAZ_FEATS) + len(LEX_FEATS) + len(HEAD_FEATS))
    assert hot[0, len(GAZ_FEATS) + len(LEX_FEATS) + HEAD_FEATS.index("hd=short")] == 1.0
    assert hot[:, len(GAZ_FEATS):].sum(1).tolist() == [2.0, 0.0, 1.0]


def test_form_classes_split_listed_words() -> None:
    """A listed capitalised word with no other listed form is likelier a name
    (`form_class`); the classes go after the heads in the BiLSTM's input."""
    assert form_class("Soldat") is None  # "Soldaten" is listed: a common noun
    assert form_class("Zwickau") == "fm=none"  # a town: no other form listed
    assert form_class("Xqzvbrt") is None  # unlisted words get a head class instead
    assert form_class("reiste") is None
    words = ["Soldat", "Xqzvbrt", "Zorbelhaus"]
    assert FeatureSet(lexicon=True, heads=True, forms=True).extras(words) == [
        ["lx=self"], ["lx=unk"], ["lx=unk", "hd=short"]]
    assert lexicon_width(True, True, True) == len(LEX_FEATS) + len(HEAD_FEATS) + len(FORM_FEATS)
    assert lexicon_width(True, False, True) == len(LEX_FEATS)  # forms need heads


def test_hyphen_classes_describe_the_first_part() -> None:
    """A hyphenated capitalised word carries its first part's classes (`hyphen_class`),
    the CRF's clue for the GermEval `-part` labels."""
    assert hyphen_class("Xqz-Kommission") == "h1=lx=unk"
    assert hyphen_class("Zorbelhaus-Bericht") == "h1=lx=unk|hd=short"
    assert hyphen_class("Kommission") is None  # no hyphen
    assert hyphen_class("-Kommission") is None  # no first part
    assert "h1=lx=unk" in word_classes("Xqz-Kommission", hyphens=True)
    assert not any(f.startswith("h1=") for f in word_classes("Xqz-Kommission"))


def test_fast_crf_scores_fold_in_compound_heads() -> None:
    """With heads, the cached per-word CRF scores must still equal the attribute sums
    (a random CRF over the attributes the feature set produces)."""
    from lagebild.extract.ner_crf import CRFWeights

    feats = FeatureSet(lexicon=True, heads=True, forms=True, hyphens=True)
    sents = [s for s in SENTS if s]
    xseqs = [token_features(w, [("c", "c", "c")] * len(w), feats.extras(w), feats.window)
             for w in sents]
    attrs = sorted({f for x in xseqs for fs in x for f in fs})
    # the heads and form classes are scored
    assert {"hd=long", "+1hd=short", "-1hd=short", "fm=none", "-1fm=none",
            "h1=lx=unk"} <= set(attrs)
    rng = np.random.default_rng(5)
    labels = ["O", "S-PER", "S-LOC"]
    state = rng.normal(0, 1, (len(attrs), len(labels))).astype(np.float32)
    cw = CRFWeights(attrs, labels, state, np.zeros((3, 3), np.float32))
    cw.word_classes = feats.word_classes
    for words, x in zip(sents, xseqs, strict=True):
        fast = cw.doc_emissions([words], [[("c", "c", "c")] * len(words)],
                                [feats.extras(words, lexicon=False)], feats.window)[0]
        np.testing.assert_allclose(fast, cw.emissions(x), atol=1e-4)


def test_length_groups_bound_the_padded_size() -> None:
    lens = [3, 50, 1, 7, 7, 20, 2, 0, 7]
    groups = length_groups(lens, max_slots=40)
    assert sorted(i for g in groups for i in g) == list(range(len(lens)))
    for g in groups:
        assert [lens[i] for i in g] == sorted((lens[i] for i in g), reverse=True)
        assert len(g) == 1 or len(g) * lens[g[0]] <= 40
    assert [lens[g[0]] for g in groups] == sorted((lens[g[0]] for g in groups), reverse=True)


def test_many_sentences_run_in_groups_give_the_same_tags() -> None:
    """A long document is run in bounded groups of sentences (memory); the numbers must
    not depend on how the sentences were grouped."""
    tg = _random_tagger(seed=5)
    sents = [s[: 1 + k % max(len(s), 1)] if s else s for k, s in enumerate(SENTS * 7)]
    whole = tg.emissions(sents)
    tg.max_slots = 12
    grouped = tg.emissions(sents)
    for a, b in zip(whole, grouped, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    rng = np.random.default_rng(1)
    trans = rng.normal(size=(len(TAGS), len(TAGS))).astype(np.float32)
    start, end = rng.normal(size=len(TAGS)), rng.normal(size=len(TAGS))
    assert viterbi_batch(whole, trans, start, end, max_slots=12) == viterbi_batch(
        whole, trans, start, end
    )
    assert [len(p) for p in viterbi_batch(whole, trans, start, end)] == [len(s) for s in sents]


def test_a_long_document_is_tagged_in_batches_with_the_same_entities(
    shipped, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sentences are tagged a bounded number of tokens at a time (memory on 5 MB texts);
    the batches must not change a tag."""
    import lagebild.extract.ner_crf as ner_crf

    nlp = spacy.blank("de")
    sentence = "Die Ministerin Helga Brommer besuchte am Montag die Stadtwerke in Kassel .".split()
    words = sentence * 12
    starts = [i % len(sentence) == 0 for i in range(len(words))]

    def ents() -> list[tuple[int, int, str]]:
        doc = spacy.tokens.Doc(nlp.vocab, words=words, sent_starts=starts)
        return [(e.start, e.end, e.label_) for e in shipped(doc).ents]

    whole = ents()
    monkeypatch.setattr(ner_crf, "_TOKENS_AT_ONCE", 30)
    assert ents() == whole
    assert any(label.startswith("PER") for _, _, label in whole)
