"""A CRF named-entity tagger (GermEval 2014 labels) as a spaCy component.

Why a CRF: on two shared CPU cores a linear-chain CRF over rich sparse features
(shape, affixes, capitalisation, word clusters from our own floret vectors) trains in
minutes and tags tens of thousands of words per second; it is the classic strong CPU
baseline for GermEval 2014. Gazetteer features add what word features cannot: the
package's own state/organisation lists (shared with the entity layer) and entity strings
mined from GermEval train (jackknifed in training, see training/ner/train_crf.py), and
`lexicon_class` says whether a capitalised word is a known German word (every noun is
capitalised, so capitalisation alone says little); `head_class` and `form_class` refine
it (an unknown word ending in a known noun is a compound, a known word without a plural
is likelier a name). The same `token_features` function serves training
(training/ner/train_crf.py) and inference, so the two can never drift apart.

The component stores its crfsuite model and the word->cluster table inside the
pipeline directory, so `spacy.load(dir)` restores it once this module is imported
(the factory must be registered first).

Which feature groups a model was trained with (window width, gazetteers, richer context)
is recorded in its `crf.json`, so older model directories keep getting exactly the
features they were trained on.

With `"ensemble"` in `crf.json` the component tags with the product of this CRF and the
BiLSTM-CRF of `ner_bilstm.py`: the CRF's weights are read into arrays (`CRFWeights`, so
its scores can be added to another model's), both models' potentials are summed with the
stored weight and one Viterbi pass decodes them (training/ner/MODEL_CARD_NER.md).
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
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
_GAZ_FILE = "gazetteer.tsv"
_STACK_FILE = "crf2.model"
_WEIGHTS_FILE = "crf_weights.npz"
_MAX_SEGMENT = 250  # tokens; GermEval's longest training sentences are far shorter
#: tokens of a document tagged in one batch; a 5 MB text is tagged in pieces of this size
#: so the per-token score arrays of all its sentences never exist at once
_TOKENS_AT_ONCE = 20_000


def _offsets(window: int) -> list[int]:
    """Neighbour offsets of a +-`window` context, in the order features are summed."""
    return [o for o in range(-window, window + 1) if o]


@lru_cache(maxsize=20_000)  # a word's own and neighbour features both need it
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


def token_features(
    words: list[str],
    clusters: list[tuple[str, ...]],
    extra: Sequence[Sequence[str]] | None = None,
    window: int = 2,
    rich: bool = False,
) -> list[list[str]]:
    """CRF attributes per token: own features plus a +-`window` window of neighbour features.

    `clusters` holds each token's cluster ids (see `ClusterLookup`), one tuple per word.
    `extra` adds per-token features that depend on context (gazetteer matches).
    `rich` adds lower-case bigrams one step further out and cluster bigrams: trigger
    words ("Herr", "in", "Minister") two tokens back still mark the entity type.
    """
    own = [_own_cached(w, c) for w, c in zip(words, clusters, strict=True)]
    ctx = [_ctx_cached(w, c, window) for w, c in zip(words, clusters, strict=True)]
    n = len(words)
    offs = _offsets(window)
    out: list[list[str]] = []
    for i in range(n):
        feats = ["bias", *own[i]]
        if i == 0:
            feats.append("BOS")
        if i == n - 1:
            feats.append("EOS")
        for off in offs:
            j = i + off
            if 0 <= j < n:
                feats.extend(ctx[j][off])
        if i > 0:
            feats.append(f"bi-1={ctx[i - 1][0]}|{ctx[i][0]}")
        if i + 1 < n:
            feats.append(f"bi+1={ctx[i][0]}|{ctx[i + 1][0]}")
        if rich:
            if i > 1:
                feats.append(f"bi-2={ctx[i - 2][0]}|{ctx[i - 1][0]}")
            if i + 2 < n:
                feats.append(f"bi+2={ctx[i + 1][0]}|{ctx[i + 2][0]}")
            if i > 0:
                feats.append(f"cb-1={ctx[i - 1]['c']}|{ctx[i]['c']}")
            if i + 1 < n:
                feats.append(f"cb+1={ctx[i]['c']}|{ctx[i + 1]['c']}")
        if extra is not None:
            feats.extend(extra[i])
            if i > 0:
                feats.extend(f"-1{f}" for f in extra[i - 1])
            if i + 1 < n:
                feats.extend(f"+1{f}" for f in extra[i + 1])
        out.append(feats)
    return out


# Words repeat within and across articles; caching their feature strings (bounded, so
# memory stays flat) halves the tagger's time. The features are identical either way.
@lru_cache(maxsize=20_000)
def _own_cached(word: str, cl: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_word_feats(word, cl))


@lru_cache(maxsize=20_000)
def _ctx_cached(word: str, cl: tuple[str, ...], window: int = 2) -> dict:
    """A word's neighbour attributes, prefixed for each offset up to +-`window` (only
    those: building unused offsets was a third of the cost of a word not seen before)."""
    feats = _context_feats(word, cl)
    out: dict = {off: tuple(f"{off}{f}" for f in feats) for off in _offsets(window)}
    out[0] = feats[0]
    out["c"] = cl[1] if len(cl) > 1 else cl[0]
    return out


def to_bioes(tags: Sequence[str]) -> list[str]:
    """BIO -> BIOES: single-token chunks become S-, chunk ends E- (via `bio_spans`)."""
    out = ["O"] * len(tags)
    for start, end, label in bio_spans(tags):
        if end - start == 1:
            out[start] = f"S-{label}"
            continue
        out[start] = f"B-{label}"
        for k in range(start + 1, end - 1):
            out[k] = f"I-{label}"
        out[end - 1] = f"E-{label}"
    return out


@lru_cache(maxsize=20_000)
def _package_word(word: str) -> str | None:
    """Single-word package gazetteer class: state adjective or demonym (cached, hot path)."""
    from .entities import _adjective, gazetteer

    gaz = gazetteer()
    if not word[:1].isalpha():
        return None
    if word in gaz.demonyms:
        return "pk=dem"
    if _adjective(gaz, word) is not None:
        return "pk=adj"
    return None



def _mark_span(out: list[list[str]], i: int, length: int, key: str, label: str) -> None:
    """BIO features for a gazetteer match of `length` tokens starting at token i."""
    out[i].append(f"{key}=B-{label}")
    for k in range(i + 1, i + length):
        out[k].append(f"{key}=I-{label}")

def package_gazetteer_features(words: Sequence[str]) -> list[list[str]]:
    """Longest matches against the package's own gazetteer (states, aliases, CLDR names).

    Reuses `entities.gazetteer()` so the NER model and the entity layer agree on what a
    state, capital or fixed organisation is. Multi-word names give `pk=B-TYPE`,
    `pk=I-TYPE`; capitals `pk=B-CAP`; adjectives (*französische*) `pk=adj`; demonyms
    (*Russen*) `pk=dem`. The CRF learns how far to trust each.
    """
    from .entities import _lookup_name, _strip_genitive, gazetteer

    gaz = gazetteer()
    n = len(words)
    out: list[list[str]] = [[] for _ in range(n)]
    i = 0
    while i < n:
        word = words[i]
        max_len = 0
        if word[:1].isupper():
            max_len = gaz.first_words.get(word) or gaz.first_words.get(_strip_genitive(word)) or 0
        matched = 0
        for length in range(min(max_len, n - i), 0, -1):
            key = tuple(words[i : i + length])
            entry = _lookup_name(gaz, key)
            typ = entry.type if entry is not None else None
            if typ is None and (
                key in gaz.capitals or (*key[:-1], _strip_genitive(key[-1])) in gaz.capitals
            ):
                typ = "CAP"
            if typ is not None:
                _mark_span(out, i, length, "pk", typ)
                matched = length
                break
        if matched:
            i += matched
            continue
        single = _package_word(word)
        if single is not None:
            out[i].append(single)
        i += 1
    return out


@lru_cache(maxsize=1)
def _lexicon() -> object:
    """simplemma's German form -> lemma table, the same instance its lemmatizer (and so
    the morph layer) already holds, so the feature costs no second copy in memory."""
    try:
        from simplemma.strategies import DEFAULT_DICTIONARY_FACTORY as factory
    except ImportError:  # a simplemma without the shared instance: load a copy
        from simplemma.strategies import DefaultDictionaryFactory

        factory = DefaultDictionaryFactory()
    table = factory.get_dictionary("de")
    # the features were trained on str lookups; simplemma 1.x tables had bytes keys
    if table.get("Haus") is None:
        raise RuntimeError("the NER's lexicon classes need simplemma >= 2.0 (str-keyed tables)")
    return table


@lru_cache(maxsize=20_000)
def lexicon_class(word: str) -> str | None:
    """Lexicon class of a capitalised word (None for others): `lx=self` (a form that is its
    own lemma: names and singular nouns), `lx=infl` (an inflected noun, *Soldaten*),
    `lx=low` (a form of a lower-case lemma: adjectives, verbs, function words), `lx=cap`
    (only its lower-case form is listed: a capitalised common word) or `lx=unk`.

    Why: in German every noun is capitalised, so capitalisation alone says little; among
    the capitalised words of GermEval dev unseen in train, 58 % of those simplemma does not
    list are inside a name against 18 % of those it lists."""
    if not word[:1].isupper():
        return None
    lex = _lexicon()
    lemma = lex.get(word)  # type: ignore[attr-defined]
    if lemma is not None:
        if lemma == word:
            return "lx=self"
        return "lx=infl" if lemma[:1].isupper() else "lx=low"
    return "lx=cap" if lex.get(word.lower()) is not None else "lx=unk"  # type: ignore[attr-defined]


#: shortest noun at the end of a compound, and shortest modifier in front of it, for
#: `head_class`; a head of `_LONG_HEAD` letters or more is `hd=long`
_MIN_HEAD, _MIN_MODIFIER, _LONG_HEAD = 4, 3, 6


@lru_cache(maxsize=20_000)
def head_class(word: str) -> str | None:
    """For a capitalised word simplemma does not list (`lx=unk`) and without a hyphen:
    `hd=long` if it ends in a listed German noun of at least six letters after a modifier
    of at least three (an unlisted *…ministerium* compound), `hd=short` if the noun at its
    end has four or five letters (*…haus*), else None.

    Why: most unlisted capitalised words are either new compounds or names, and the
    lexicon class cannot tell them apart. Among the unlisted capitalised words of GermEval
    dev unseen in train, 86 % of those with no listed noun at their end are inside a name,
    against 18 % of those ending in a long one (62 % for a short one).
    The longest listed head wins; looked up in the same simplemma table, nothing copied."""
    if "-" in word or lexicon_class(word) != "lx=unk":
        return None
    lex = _lexicon()
    for k in range(_MIN_MODIFIER, len(word) - _MIN_HEAD + 1):
        head = word[k].upper() + word[k + 1 :]
        lemma = lex.get(head)  # type: ignore[attr-defined]
        if lemma is not None and lemma[:1].isupper():
            return "hd=long" if len(head) >= _LONG_HEAD else "hd=short"
    return None


#: endings of a noun's plural and case forms, for `form_class`
_NOUN_ENDINGS = ("e", "en", "n", "er", "es", "ern", "nen")


@lru_cache(maxsize=20_000)
def form_class(word: str) -> str | None:
    """For a capitalised word simplemma lists as its own lemma (`lx=self`): `fm=none` if
    no other form of it is listed, `fm=gen` if only its genitive in -s is, None if a
    plural or case form is (*Soldat*: *Soldaten*).

    Why: `lx=self` holds both singular nouns and the names simplemma happens to list
    (*Zwickau*, *Kim*). Common nouns come with their plural in the table, names rarely
    do: among the `lx=self` words of GermEval dev unseen in train, 10 % of those with a
    listed plural or case form are inside a name, against 56 % of those with no other
    form and 40 % of those with only a genitive."""
    if lexicon_class(word) != "lx=self":
        return None
    lex = _lexicon()
    if any(lex.get(word + e) == word for e in _NOUN_ENDINGS):  # type: ignore[attr-defined]
        return None
    return "fm=gen" if lex.get(word + "s") == word else "fm=none"  # type: ignore[attr-defined]


@lru_cache(maxsize=20_000)
def hyphen_class(word: str) -> str | None:
    """For a capitalised word with a hyphen: `h1=` and the lexicon, head and form classes
    of its first part (*Xqz-Kommission* -> `h1=lx=unk`), else None.

    Why: the GermEval `-part` labels sit on such words (*EU-Kommission*, ORGpart), and
    whether the first part is a known common word decides it: among hyphenated
    capitalised dev words unseen in train, 22 % of those whose first part is a plain listed
    word are inside a name, against 69 % of those with an unlisted first part."""
    first = word.split("-", 1)[0]
    if not first or not word[:1].isupper() or "-" not in word:
        return None
    return "h1=" + "|".join(word_classes(first, heads=True, forms=True))


def word_classes(
    word: str, heads: bool = False, forms: bool = False, hyphens: bool = False
) -> tuple[str, ...]:
    """The word's `lexicon_class`, with `heads` its `head_class`, with `forms` its
    `form_class` and with `hyphens` its `hyphen_class`, where it has them: the extra
    features that depend on the word form alone."""
    c = lexicon_class(word)
    if c is None:
        return ()
    out = (c,)
    if heads and (h := head_class(word)) is not None:
        out += (h,)
    if forms and (f := form_class(word)) is not None:
        out += (f,)
    if hyphens and (y := hyphen_class(word)) is not None:
        out += (y,)
    return out


def _odd(word: str) -> bool:
    """Words the one-line-per-entry gazetteer file cannot hold."""
    return not word or any(c in word for c in " \t\n\r")


def _share_bin(share: float) -> str:
    return "hi" if share >= 0.7 else "mid" if share >= 0.3 else "lo"


class MinedGazetteer:
    """Entity strings and word label profiles mined from labelled training sentences.

    Why: the CRF's word features only fire for the exact token; a gazetteer feature
    (`gz=B-PER`, `gz=I-PER`) marks whole known names and their extent, and a word's
    label profile (`u=PER:hi`) is shared by all words with that profile. For training
    features it must be built by jackknifing (each fold's gazetteer from the other
    folds), otherwise it covers every training entity and the CRF trusts it blindly.
    """

    def __init__(
        self, entries: dict[tuple[str, ...], str] | None = None, words: dict[str, str] | None = None
    ) -> None:
        self.entries = entries or {}
        self.words = words or {}
        self._index()

    def _index(self) -> None:
        self._part_cache: dict[str, tuple[str, ...]] = {}
        self.first: dict[str, int] = {}
        for key in self.entries:
            self.first[key[0]] = max(self.first.get(key[0], 0), len(key))

    @classmethod
    def build(
        cls, sents: Iterable[tuple[list[str], list[str]]], min_ratio: float = 0.5, max_len: int = 6
    ) -> MinedGazetteer:
        """Entity strings labelled in at least `min_ratio` of their occurrences, plus
        the majority label and its share for every word seen inside an entity."""
        sents = list(sents)
        labelled: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
        per_word: dict[str, Counter[str]] = defaultdict(Counter)
        for words, tags in sents:
            for start, end, label in bio_spans(tags):
                key = tuple(words[start:end])
                if end - start <= max_len and not any(_odd(w) for w in key):
                    labelled[key][label] += 1
            for word, tag in zip(words, tags, strict=True):
                if not _odd(word):
                    per_word[word][tag[2:] or "O"] += 1
        first = {key[0] for key in labelled}
        seen: Counter[tuple[str, ...]] = Counter()
        named: Counter[tuple[str, ...]] = Counter()  # occurrences inside some entity
        for words, tags in sents:
            n = len(words)
            chunk = [-1] * n
            for k, (start, end, _) in enumerate(bio_spans(tags)):
                chunk[start:end] = [k] * (end - start)
            for i, word in enumerate(words):
                if word not in first:
                    continue
                for length in range(1, min(max_len, n - i) + 1):
                    key = tuple(words[i : i + length])
                    if key in labelled:
                        seen[key] += 1
                        if chunk[i] >= 0 and chunk[i + length - 1] == chunk[i]:
                            named[key] += 1
        entries = {}
        for key, labels in labelled.items():
            # "Merkel" inside "Angela Merkel" still counts as a name, "Die" in "Die Zeit" not
            if named[key] >= min_ratio * seen[key]:
                entries[key] = labels.most_common(1)[0][0]
        profiles = {}
        for word, labels in per_word.items():
            total = sum(labels.values())
            ents = [(c, lab) for lab, c in labels.items() if lab != "O"]
            count, label = max(ents) if ents else (0, "O")
            if count >= 0.1 * total:  # rarer shares are noise ("der" inside ORG names)
                profiles[word] = f"{label}:{_share_bin(count / total)}"
            elif total >= 2 and word[:1].isupper():
                profiles[word] = "O"  # capitalised, seen, never an entity (nouns)
        return cls(entries, profiles)

    def features(self, words: Sequence[str]) -> list[list[str]]:
        """Greedy longest match of entity strings, plus each word's label profile."""
        n = len(words)
        out: list[list[str]] = [[] for _ in range(n)]
        entries, first = self.entries, self.first
        i = 0
        while i < n:
            max_len = first.get(words[i], 0)
            step = 1
            for length in range(min(max_len, n - i), 0, -1):
                label = entries.get(tuple(words[i : i + length]))
                if label is not None:
                    _mark_span(out, i, length, "gz", label)
                    step = length
                    break
            i += step
        prof = self.words
        for i, word in enumerate(words):
            p = prof.get(word)
            if p is not None:
                out[i].append(f"u={p}")
        return out

    def part_features(self, words: Sequence[str]) -> list[list[str]]:
        """Known names inside compounds: the GermEval `-part` labels (*EU-Kommission*,
        *Deutschlandreise*) are words that contain a name, which word features miss."""
        return [list(self._part(w)) for w in words]

    def _part(self, word: str) -> tuple[str, ...]:
        cache = self._part_cache
        hit = cache.get(word)
        if hit is None:
            hit = self._part_uncached(word)
            if len(cache) < 50_000:
                cache[word] = hit
        return hit

    def _part_uncached(self, word: str) -> tuple[str, ...]:
        entries = self.entries
        feats = []
        if "-" in word:
            for piece in word.split("-")[:-1]:
                label = entries.get((piece,))
                if label is not None:
                    feats.append(f"hp={label}")
        elif len(word) >= 7 and word[:1].isupper():
            for cut in range(len(word) - 3, 3, -1):
                head = word[:cut]
                label = entries.get((head,))
                if label is None and head.endswith("s"):
                    label = entries.get((head[:-1],))
                if label is not None:
                    feats.append(f"cp={label}")
                    break
        return tuple(feats)

    def to_file(self, path: Path) -> None:
        with path.open("w", encoding="utf-8") as fh:
            fh.writelines(f"e\t{' '.join(k)}\t{v}\n" for k, v in sorted(self.entries.items()))
            fh.writelines(f"w\t{k}\t{v}\n" for k, v in sorted(self.words.items()))

    @classmethod
    def from_file(cls, path: Path) -> MinedGazetteer:
        entries: dict[tuple[str, ...], str] = {}
        words: dict[str, str] = {}
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                kind, key, value = line.rstrip("\n").split("\t")
                if kind == "e":
                    entries[tuple(key.split(" "))] = value
                else:
                    words[key] = value
        return cls(entries, words)


class FeatureSet:
    """Everything that turns a sentence into CRF attributes, as recorded in crf.json.

    Defaults reproduce the original feature set, so a model directory without the newer
    keys is tagged exactly as it was trained.
    """

    def __init__(
        self,
        window: int = 2,
        rich: bool = False,
        package_gaz: bool = False,
        mined: MinedGazetteer | None = None,
        parts: bool = False,
        lexicon: bool = False,
        heads: bool = False,
        forms: bool = False,
        hyphens: bool = False,
    ) -> None:
        self.parts = parts
        self.lexicon = lexicon
        self.heads = heads  # compound heads (`head_class`) with the lexicon classes
        self.forms = forms  # listed other forms (`form_class`) with the lexicon classes
        self.hyphens = hyphens  # first parts of hyphenated words (`hyphen_class`)
        self.window = window
        self.rich = rich
        self.package_gaz = package_gaz
        self.mined = mined

    def config(self) -> dict:
        return {
            "window": self.window,
            "rich": self.rich,
            "package_gaz": self.package_gaz,
            "mined_gaz": self.mined is not None,
            "parts": self.parts,
            "lexicon": self.lexicon,
            "heads": self.heads,
            "forms": self.forms,
            "hyphens": self.hyphens,
        }

    def extras(
        self,
        words: Sequence[str],
        mined: MinedGazetteer | None = None,
        pk: list[list[str]] | None = None,
        lexicon: bool | None = None,
    ) -> list[list[str]] | None:
        """Gazetteer (and lexicon) features of each token on its own (None when no
        gazetteer is used). `lexicon=False` leaves the lexicon classes (with the compound
        heads and form classes) out even if the model uses them: the ensemble's
        `CRFWeights` adds them per word form, cached.

        Separate from `__call__` so the second stage can reuse them without recomputing.
        """
        extra: list[list[str]] | None = None
        gaz = mined or self.mined
        if gaz is not None:
            extra = gaz.features(words)
            if self.parts:
                extra = [a + b for a, b in zip(extra, gaz.part_features(words), strict=True)]
        if self.package_gaz:
            pk = package_gazetteer_features(words) if pk is None else pk
            extra = pk if extra is None else [a + b for a, b in zip(extra, pk, strict=True)]
        if self.lexicon if lexicon is None else lexicon:
            lx = [list(self.word_classes(w)) for w in words]
            extra = lx if extra is None else [a + b for a, b in zip(extra, lx, strict=True)]
        return extra

    def word_classes(self, word: str) -> tuple[str, ...]:
        """The word's `word_classes` with this set's switches (with `lexicon` on): the
        extra features that depend on the word form alone."""
        return word_classes(word, self.heads, self.forms, self.hyphens)

    def __call__(
        self,
        words: list[str],
        clusters: list[tuple[str, ...]],
        mined: MinedGazetteer | None = None,
        extra: list[list[str]] | None = None,
    ) -> list[list[str]]:
        """Features of one sentence; `mined` overrides the stored gazetteer (jackknifing),
        `extra` passes gazetteer features already computed by `extras`."""
        if extra is None:
            extra = self.extras(words, mined)
        return token_features(words, clusters, extra, self.window, self.rich)


def stage1_tag(
    tagger: object, labels: Sequence[str], xseq: list[list[str]]
) -> tuple[list[str], list[float], list[str | None]]:
    """Viterbi tags of a pycrfsuite tagger, each tag's marginal, and the runner-up label
    where the tagger is unsure (marginal < 0.9): the second stage's view of stage 1."""
    tagger.set(xseq)  # type: ignore[attr-defined]
    tags = tagger.tag()  # type: ignore[attr-defined]
    marginal = tagger.marginal  # type: ignore[attr-defined]
    margs = [marginal(t, i) for i, t in enumerate(tags)]
    alts: list[str | None] = []
    for i, (t, m) in enumerate(zip(tags, margs, strict=True)):
        if m < 0.9:
            alts.append(max((marginal(y, i), y) for y in labels if y != t)[1])
        else:
            alts.append(None)
    return tags, margs, alts


def _bucket(m: float) -> str:
    return "a" if m >= 0.97 else "b" if m >= 0.9 else "c" if m >= 0.7 else "d" if m >= 0.5 else "e"


def stack_features(
    words: Sequence[str],
    clusters: Sequence[tuple[str, ...]],
    extra: Sequence[Sequence[str]] | None,
    tags: Sequence[str],
    margs: Sequence[float],
    alts: Sequence[str | None],
    word_feats: str = "lite",
) -> list[list[str]]:
    """Second-stage CRF attributes from the first stage's output on one sentence.

    Why: the first CRF sees a +-2 feature window and one label transition; the second
    sees its labels at +-2, its confidence (bucketed marginal, runner-up label), the
    entity each token sits in (position B/I/E/S, type, length) and the labels the first
    stage gave the same word form elsewhere in the sentence (GermEval has no documents,
    so consistency is sentence-level). word_feats "lite" adds the token's own word and
    gazetteer features and its lower-cased +-1 neighbours; "none" uses stage 1 only.
    """
    n = len(words)
    padded = ["<s>", "<s>", *tags, "</s>", "</s>"]
    ent_type = ["O"] * n
    ent_pos = [""] * n
    ent_len = [0] * n
    for s, e, lab in bio_spans(tags):
        for k in range(s, e):
            ent_type[k] = lab
            ent_len[k] = e - s
            ent_pos[k] = "S" if e - s == 1 else "B" if k == s else "E" if k == e - 1 else "I"
    positions: dict[str, list[int]] = {}
    for i, w in enumerate(words):
        if len(w) > 1 and w[:1].isalnum():
            positions.setdefault(w, []).append(i)
    out: list[list[str]] = []
    for i in range(n):
        t = tags[i]
        b = _bucket(margs[i])
        f = [
            "bias",
            f"p0={t}",
            f"p-1={padded[i + 1]}",
            f"p-2={padded[i]}",
            f"p+1={padded[i + 3]}",
            f"p+2={padded[i + 4]}",
            f"p-1|0={padded[i + 1]}|{t}",
            f"p0|+1={t}|{padded[i + 3]}",
            f"p-101={padded[i + 1]}|{t}|{padded[i + 3]}",
            f"m={b}",
            f"mt={t}:{b}",
        ]
        if alts[i] is not None:
            f.append(f"alt={alts[i]}")
            f.append(f"alt|p0={alts[i]}|{t}")
        if ent_len[i]:
            f.append(f"ep={ent_pos[i]}")
            f.append(f"ept={ent_pos[i]}|{ent_type[i]}")
            f.append(f"el={min(ent_len[i], 5)}|{ent_type[i]}")
        same = positions.get(words[i])
        if same is not None and len(same) > 1:
            others = {ent_type[j] for j in same if j != i}
            for o in sorted(others):
                f.append(f"sf={o}")
                f.append(f"sf|t={o}|{ent_type[i]}")
        if word_feats == "lite":
            f.extend(_own_cached(words[i], tuple(clusters[i])))
            if extra is not None:
                f.extend(extra[i])
            if i > 0:
                f.append("-1" + _ctx_cached(words[i - 1], tuple(clusters[i - 1]))[0])
            if i + 1 < n:
                f.append("+1" + _ctx_cached(words[i + 1], tuple(clusters[i + 1]))[0])
        out.append(f)
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
    """(start, end, label) chunks from BIO or BIOES tags.

    An I-/E- without an open chunk of its label starts one; E-/S- close the chunk.
    """
    start = -1
    label = ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, lab = tag.partition("-")
        if start >= 0 and (prefix not in ("I", "E") or lab != label):
            yield start, i, label
            start = -1
        if prefix in ("B", "S") or (prefix in ("I", "E") and start < 0):
            start, label = i, lab
        if prefix in ("E", "S"):
            yield start, i + 1, label
            start = -1


class WordCache(dict):
    """A bounded cache of per-word-form results with two generations: when the current one
    is full it becomes the old one, and old entries still hit (and move back). Frequent
    words stay, memory stays flat, and no entry is ever stale (values are pure functions
    of the word form)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self.old: dict = {}

    def lookup(self, key: object) -> object | None:
        hit = self.get(key)
        if hit is None:
            hit = self.old.get(key)
            if hit is not None:
                self.store(key, hit)
        return hit

    def store(self, key: object, value: object) -> None:
        if len(self) >= self.size:
            self.old = dict(self)
            self.clear()
        self[key] = value


class CRFWeights:
    """The crfsuite model's weights as arrays, so its potentials can be summed with another
    model's (the ensemble). `emissions` reproduces crfsuite's state scores exactly: every
    attribute has value 1 and a label's score is the sum of its attributes' weights."""

    def __init__(self, attrs: list[str], labels: list[str], state: np.ndarray,
                 trans: np.ndarray) -> None:
        self.attrs = attrs
        self.labels = labels
        self.index = {a: i for i, a in enumerate(attrs)}
        # one extra all-zero row for attributes the model never weighted
        self.state = np.vstack([state, np.zeros((1, len(labels)), np.float32)])
        self.trans = trans
        self._cache = WordCache(8_000)
        # set by CRFNer.set_ensemble for models with lexicon features (the feature set's
        # `FeatureSet.word_classes`): a word's classes are then scored with its cached own
        # and neighbour scores (`_word_scores`), and the caller leaves them out of the
        # extra features
        self.word_classes: Callable[[str], tuple[str, ...]] | None = None
        # an extra (gazetteer, lexicon) feature's own, previous- and next-token rows
        self._extra_row_cache: dict[str, tuple[int, int, int]] = {}

    @classmethod
    def from_tagger(cls, tagger: object) -> CRFWeights:
        info = tagger.info()  # type: ignore[attr-defined]
        labels = list(tagger.labels())  # type: ignore[attr-defined]
        lab = {y: i for i, y in enumerate(labels)}
        attrs: dict[str, int] = {}
        rows, cols, vals = [], [], []
        for (a, y), w in info.state_features.items():
            rows.append(attrs.setdefault(a, len(attrs)))
            cols.append(lab[y])
            vals.append(w)
        state = np.zeros((len(attrs), len(labels)), np.float32)
        state[rows, cols] = vals
        trans = np.zeros((len(labels), len(labels)), np.float32)
        for (a, b), w in info.transitions.items():
            trans[lab[a], lab[b]] = w
        return cls(list(attrs), labels, state, trans)

    def emissions(self, xseq: list[list[str]]) -> np.ndarray:
        """(n_tokens, n_labels) state scores of one sentence's attribute lists."""
        unk = len(self.attrs)
        get = self.index.get
        idx = [get(f, unk) for feats in xseq for f in feats]
        offs = np.cumsum([0] + [len(f) for f in xseq[:-1]])
        return np.add.reduceat(self.state[idx], offs, axis=0)

    def doc_emissions(
        self,
        sents: Sequence[list[str]],
        clusters: Sequence[list[tuple[str, ...]]],
        extras: Sequence[Sequence[Sequence[str]] | None],
        window: int = 2,
    ) -> list[np.ndarray]:
        """Each sentence's `emissions(token_features(...))` (rich=False), without building
        the attribute strings: a word's own and neighbour attributes are summed once per
        word form and cached, leaving per token only the bigram and gazetteer lookups; all
        sentences of a document are scored in one set of array operations. This is what
        keeps the ensemble within the pipeline's speed budget. Every row gets its terms
        in the order the per-sentence sum adds them, so the scores are the same floats."""
        lens = [len(w) for w in sents]
        total = sum(lens)
        if not total:
            return [np.zeros((0, len(self.labels)), np.float32) for _ in sents]
        get = self.index.get
        unk = len(self.attrs)
        state = self.state
        offs = _offsets(window)
        keys = [k for ws, cs in zip(sents, clusters, strict=True)
                for k in zip(ws, cs, strict=True)]
        # every word form of the document not yet cached is scored in one batch
        known = {k: self._cache.lookup(k) for k in dict.fromkeys(keys)}
        missing = [k for k, v in known.items() if v is None]
        if missing:
            known.update(self._word_scores(missing, window))
        scores = [known[k] for k in keys]
        em = np.stack([sc[0] for sc in scores])
        ctx = np.stack([sc[1] for sc in scores])  # (total, len(offs), K)
        starts = np.cumsum([0, *lens[:-1]])
        length = np.repeat(lens, lens)
        at = np.arange(total) - np.repeat(starts, lens)  # position inside the sentence
        for k, off in enumerate(offs):
            dst = np.flatnonzero((at + off >= 0) & (at + off < length))
            em[dst] += ctx[dst + off, k]
        em += state[get("bias", unk)]
        nonempty = np.array([n > 0 for n in lens])
        first = starts[nonempty]
        em[first] += state[get("BOS", unk)]
        em[first + np.array(lens)[nonempty] - 1] += state[get("EOS", unk)]
        low = [sc[2] for sc in scores]
        idx: list[int] = []
        pos: list[int] = []
        for base, n, extra in zip(starts.tolist(), lens, extras, strict=True):
            for i in range(base, base + n):
                if i > base:
                    idx.append(get(f"bi-1={low[i - 1]}|{low[i]}", unk))
                    pos.append(i)
                if i + 1 < base + n:
                    idx.append(get(f"bi+1={low[i]}|{low[i + 1]}", unk))
                    pos.append(i)
                if extra is not None:
                    for f in extra[i - base]:
                        rows = self._extra_rows(f)
                        idx.append(rows[0])
                        pos.append(i)
                        if i + 1 < base + n:
                            idx.append(rows[1])
                            pos.append(i + 1)
                        if i > base:
                            idx.append(rows[2])
                            pos.append(i - 1)
        if idx:
            np.add.at(em, pos, state[idx])
        return np.split(em, starts[1:])

    def _extra_rows(self, f: str) -> tuple[int, int, int]:
        """Rows of an extra feature `f` as the token's own (f), as seen from the next
        token ("-1f") and from the previous one ("+1f"); a few hundred distinct ones."""
        rows = self._extra_row_cache.get(f)
        if rows is None:
            get, unk = self.index.get, len(self.attrs)
            rows = self._extra_row_cache[f] = (
                get(f, unk), get(f"-1{f}", unk), get(f"+1{f}", unk))
        return rows

    def _word_scores(
        self, keys: list[tuple[str, tuple[str, ...]]], window: int
    ) -> dict[tuple[str, tuple[str, ...]], tuple[np.ndarray, np.ndarray, str]]:
        """(own score, per-offset neighbour scores, lower-case attribute) of word forms
        not yet cached, all at once (one gather and one segment sum per attribute group)."""
        get = self.index.get
        unk = len(self.attrs)

        def summed(groups: list[Sequence[str]]) -> np.ndarray:
            idx = [get(f, unk) for g in groups for f in g]
            starts = np.cumsum([0] + [len(g) for g in groups[:-1]])
            return np.add.reduceat(self.state[idx], starts, axis=0)

        offs = _offsets(window)
        ctxs = [_ctx_cached(w, c, window) for w, c in keys]
        own = summed([_own_cached(w, c) for w, c in keys])
        near = np.stack([summed([ctx[off] for ctx in ctxs]) for off in offs], axis=1)
        if self.word_classes is not None:
            # as an extra feature, class f of word j is scored at j (f), at j + 1 ("-1f")
            # and at j - 1 ("+1f"): the neighbour offsets -1 and +1 of its cached scores
            state = self.state
            k_prev, k_next = offs.index(-1), offs.index(1)
            for i, (w, _) in enumerate(keys):
                for f in self.word_classes(w):
                    own_row, prev_row, next_row = self._extra_rows(f)
                    own[i] += state[own_row]
                    near[i, k_prev] += state[prev_row]
                    near[i, k_next] += state[next_row]
        out = {}
        for i, key in enumerate(keys):
            out[key] = hit = (own[i].copy(), near[i].copy(), ctxs[i][0])
            self._cache.store(key, hit)
        return out

    def to_file(self, path: Path) -> None:
        rows, cols = np.nonzero(self.state[:-1])
        meta = json.dumps({"attrs": self.attrs, "labels": self.labels}, ensure_ascii=False)
        np.savez_compressed(
            path, rows=rows.astype(np.int32), cols=cols.astype(np.int8),
            vals=self.state[rows, cols], trans=self.trans,
            meta=np.frombuffer(meta.encode("utf-8"), dtype=np.uint8),
        )

    @classmethod
    def from_file(cls, path: Path) -> CRFWeights:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode("utf-8"))
            state = np.zeros((len(meta["attrs"]), len(meta["labels"])), np.float32)
            state[z["rows"], z["cols"]] = z["vals"]
            return cls(meta["attrs"], meta["labels"], state, z["trans"])


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
        self.features = FeatureSet()
        # optional second-stage CRF over the first stage's labels and marginals
        self._stack_tagger = None
        self._labels: tuple[str, ...] = ()
        self._model_file: Path | None = None
        self._stack_bytes = b""
        self.stack_word_feats = "lite"
        # optional ensemble with the numpy BiLSTM-CRF (ner_bilstm.py): both models' CRF
        # potentials are summed with weights `ensemble_weight` (CRF) and 1 - it (BiLSTM)
        self._neural = None
        self.ensemble_weight = 1.0
        self._crf_weights: CRFWeights | None = None
        # set by `set_ensemble`: the BiLSTM's tag columns in the CRF's label order and the
        # summed transition/start/end scores with the BIOES constraints applied
        self._nn_cols = np.zeros(0, dtype=np.int64)
        self._ens_trans = self._ens_start = self._ens_end = np.zeros(0, dtype=np.float32)

    @property
    def labels(self) -> tuple[str, ...]:
        """Entity labels the CRF can emit (BIO prefixes stripped)."""
        return tuple(sorted({t[2:] for t in self._labels if t != "O"}))

    def _segments(self, doc: Doc) -> Iterator[tuple[int, int]]:
        """Sentences if set (the CRF was trained on sentences), else chunks of <= 100 tokens.

        A "sentence" longer than `_MAX_SEGMENT` tokens (a list or a text without full
        stops) is cut into pieces of that size: the models' memory grows with the longest
        segment, and a 5 MB input without one full stop must not take gigabytes."""
        if doc.has_annotation("SENT_START"):
            for sent in doc.sents:
                for start in range(sent.start, sent.end, _MAX_SEGMENT):
                    yield start, min(start + _MAX_SEGMENT, sent.end)
            return
        for start in range(0, len(doc), 100):
            yield start, min(start + 100, len(doc))

    def __call__(self, doc: Doc) -> Doc:
        if self._tagger is None and self._crf_weights is None:
            raise ValueError("lagebild_ner_crf has no model: load it from a pipeline directory")
        spans: list[Span] = []
        # space tokens (a double space in the source, "des  Unternehmens") are left out of
        # the tagged sequence: the CRF never saw them in training; `keep` maps back. Line
        # breaks stay: a name does not run across a paragraph
        keep: list[int] = []
        words_all: list[str] = []
        for i, t in enumerate(doc):  # one pass: each Token object costs its creation
            text = t.text
            if not (t.is_space and "\n" not in text):
                keep.append(i)
                words_all.append(text)
        clusters_all = self.clusters(words_all) if words_all else []
        segs = []
        for seg_start, seg_end in self._segments(doc):
            start, end = bisect_left(keep, seg_start), bisect_left(keep, seg_end)
            if end > start:
                segs.append((start, end))
        tagged: list[list[str]] = []
        first = 0
        while first < len(segs):  # a few thousand sentences at a time bound the memory
            last, size = first, 0
            while last < len(segs) and (last == first or size < _TOKENS_AT_ONCE):
                size += segs[last][1] - segs[last][0]
                last += 1
            part = segs[first:last]
            tagged += self._tag_all(
                [words_all[s:e] for s, e in part], [clusters_all[s:e] for s, e in part]
            )
            first = last
        for (start, _end), tags in zip(segs, tagged, strict=True):
            for s, e, lab in bio_spans(tags):
                a, b = keep[start + s], keep[start + e - 1] + 1
                while a < b and _link(doc[a]):  # "pic.twitter.com/x Newman": the link is no name
                    a += 1
                while b > a and _link(doc[b - 1]):
                    b -= 1
                if b > a:
                    spans.append(Span(doc, a, b, label=lab))
        doc.ents = filter_spans([*doc.ents, *spans]) if doc.ents else spans
        return doc

    def _tag_all(
        self, sents: list[list[str]], clusters: list[list[tuple[str, ...]]]
    ) -> list[list[str]]:
        """All sentences of a document: one by one, or (ensemble) the BiLSTM over all at once."""
        if self._neural is None or self._crf_weights is None:
            return [self._tag(w, c) for w, c in zip(sents, clusters, strict=True)]
        from .ner_bilstm import viterbi_batch

        w = self.ensemble_weight
        cw = self._crf_weights
        feats = self.features
        assert not feats.rich, "the ensemble's fast CRF scores assume rich=False"
        pks = [package_gazetteer_features(words) for words in sents]  # both models use it
        nn = self._neural.emissions(sents, pks)  # type: ignore[attr-defined]
        # cw scores the lexicon classes itself
        lexicon = False if cw.word_classes is not None else None
        crf = cw.doc_emissions(
            sents, clusters, [feats.extras(ws, pk=pk, lexicon=lexicon) for ws, pk in
                              zip(sents, pks, strict=True)], feats.window
        )
        ems = [w * c + (1 - w) * e[:, self._nn_cols] for c, e in zip(crf, nn, strict=True)]
        labels = cw.labels
        return [
            [labels[k] for k in path]
            for path in viterbi_batch(ems, self._ens_trans, self._ens_start, self._ens_end)
        ]

    def set_ensemble(self, neural: object, weight: float) -> None:
        """Tag with the product of this CRF (weight `weight`) and a `BiLSTMTagger`."""
        from .ner_bilstm import bioes_allowed

        if self._crf_weights is None:
            assert self._tagger is not None
            self._crf_weights = CRFWeights.from_tagger(self._tagger)
        cw = self._crf_weights
        cw.word_classes = self.features.word_classes if self.features.lexicon else None
        self._labels = tuple(cw.labels)
        self._neural = neural
        self.ensemble_weight = weight
        nn_index = {t: i for i, t in enumerate(neural.tags)}  # type: ignore[attr-defined]
        self._nn_cols = np.array([nn_index[t] for t in cw.labels])
        cols = self._nn_cols
        ok_s, ok_t, ok_e = bioes_allowed(cw.labels)
        neg = np.float32(-1e9)
        n_tr = neural.trans[np.ix_(cols, cols)]  # type: ignore[attr-defined]
        self._ens_trans = np.where(ok_t, weight * cw.trans + (1 - weight) * n_tr, neg)
        self._ens_start = np.where(ok_s, (1 - weight) * neural.start[cols], neg)  # type: ignore[attr-defined]
        self._ens_end = np.where(ok_e, (1 - weight) * neural.end[cols], neg)  # type: ignore[attr-defined]

    def _tag(self, words: list[str], clusters: list[tuple[str, ...]]) -> list[str]:
        """One sentence: stage 1, then (if the model has one) the stacked stage 2."""
        assert self._tagger is not None
        if self._stack_tagger is None:
            return self._tagger.tag(self.features(words, clusters))
        extra = self.features.extras(words)
        x = self.features(words, clusters, extra=extra)
        tags, margs, alts = stage1_tag(self._tagger, self._labels, x)
        x2 = stack_features(words, clusters, extra, tags, margs, alts, self.stack_word_feats)
        return self._stack_tagger.tag(x2)

    def load_model(self, model_file: Path) -> None:
        import pycrfsuite

        self._model_bytes = model_file.read_bytes()
        self._tagger = pycrfsuite.Tagger()
        self._tagger.open(str(model_file))
        self._labels = tuple(self._tagger.labels())
        self._model_file = model_file

    def load_stack_model(self, model_file: Path, word_feats: str = "lite") -> None:
        """Add the second-stage CRF (trained by training/ner/train_stack.py)."""
        import pycrfsuite

        self._stack_bytes = model_file.read_bytes()
        self._stack_tagger = pycrfsuite.Tagger()
        self._stack_tagger.open(str(model_file))
        self.stack_word_feats = word_feats

    def to_disk(self, path: str | Path, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        model_bytes = self._model_bytes or self._model_file.read_bytes()  # type: ignore[union-attr]
        (path / _MODEL_FILE).write_bytes(model_bytes)
        cl = self.clusters
        with (path / _CLUSTER_FILE).open("w", encoding="utf-8") as fh:
            fh.writelines(f"{w}\t" + "\t".join(ids) + "\n" for w, ids in sorted(cl.table.items()))
        cfg = {"ks": list(cl.ks), **self.features.config()}
        if self._stack_tagger is not None:
            (path / _STACK_FILE).write_bytes(self._stack_bytes)
            cfg["stack"] = {"word_feats": self.stack_word_feats}
        if self._neural is not None and self._crf_weights is not None:
            self._crf_weights.to_file(path / _WEIGHTS_FILE)
            self._neural.to_dir(path)  # type: ignore[attr-defined]
            cfg["ensemble"] = {"weight": self.ensemble_weight}
        (path / _CFG_FILE).write_text(json.dumps(cfg), encoding="utf-8")
        if self.features.mined is not None:
            self.features.mined.to_file(path / _GAZ_FILE)
        if cl.centers is not None:
            np.save(path / _CENTERS_FILE, cl.centers.astype(np.float32))
        if cl.vectors is not None:
            cl.vectors.to_disk(path / _VECTORS_DIR)

    def from_disk(self, path: str | Path, exclude: Iterable[str] = ()) -> CRFNer:
        path = Path(path)
        cfg = json.loads((path / _CFG_FILE).read_text(encoding="utf-8"))
        if cfg.get("ensemble"):
            # the ensemble scores the CRF from its weight arrays: crfsuite's own copy of the
            # model (and its bytes) would only cost memory; to_disk copies the file
            self._tagger, self._model_bytes, self._model_file = None, b"", path / _MODEL_FILE
        else:
            self.load_model(path / _MODEL_FILE)
        centers = np.load(path / _CENTERS_FILE) if (path / _CENTERS_FILE).exists() else None
        vectors = None
        if (path / _VECTORS_DIR).exists():
            vectors = Vectors()
            vectors.from_disk(path / _VECTORS_DIR)
        self.clusters = ClusterLookup(
            read_clusters(path / _CLUSTER_FILE), vectors, centers, tuple(cfg["ks"])
        )
        mined = None
        if cfg.get("mined_gaz"):
            mined = MinedGazetteer.from_file(path / _GAZ_FILE)
        self.features = FeatureSet(
            cfg.get("window", 2),
            cfg.get("rich", False),
            cfg.get("package_gaz", False),
            mined,
            cfg.get("parts", False),
            cfg.get("lexicon", False),
            cfg.get("heads", False),
            cfg.get("forms", False),
            cfg.get("hyphens", False),
        )
        self._stack_tagger = None
        if cfg.get("stack"):
            self.load_stack_model(path / _STACK_FILE, cfg["stack"].get("word_feats", "lite"))
        self._neural = None
        self._crf_weights = None
        if cfg.get("ensemble"):
            from .ner_bilstm import BiLSTMTagger

            self._crf_weights = CRFWeights.from_file(path / _WEIGHTS_FILE)
            self.set_ensemble(BiLSTMTagger.from_dir(path), cfg["ensemble"]["weight"])
        return self


def _link(token) -> bool:
    """A web link with a path ("pic.twitter.com/x"); a bare domain ("bild.de",
    "www.spiegel.de") can be a name, and GermEval marks it as one."""
    return token.like_url and "/" in token.text


@Language.factory("lagebild_ner_crf")
def make_crf_ner(nlp: Language, name: str) -> CRFNer:
    return CRFNer(nlp, name)
