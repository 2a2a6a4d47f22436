"""Speaker choice by ranking candidate noun phrases.

Why a ranker on top of the speaker CRF: the CRF labels tokens, so it never compares
whole phrases. Most of its wrong speakers are a plausible noun phrase in the wrong role:
the object right after the verb ("Sie bezeichneten *die Übereinkunft* als …"), a dative
("sagte *dem Sender*"), a genitive or a noun inside a prepositional phrase. Those are
properties of a phrase (its first word, what stands before it, where it sits relative to
the cue verb), which a phrase-level model sees at once.

For every statement the attribution layer already has a cue and the CRF's guesses. This
module gathers the candidates (the CRF's runs, the rules' subject of the cue verb, the
rules' speaker, every noun phrase chunk near the quotation, and "no speaker"), describes
each with a few dozen string features, and scores them with a conditional-logit model
(one softmax per statement, L2-regularised) trained on WikiNews train by
`training/attribution/train_crf.py`. The candidate with the highest score wins, so "no
speaker" is a real choice and not a threshold.

The weights are a small JSON file next to the CRFs; without it the layer keeps the CRF's
choice.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
from spacy.tokens import Doc

from ..resources import model_path
from . import attribution as attr  # one direction only: attribution imports this module lazily

MODEL_FILE = "speaker_rank.json"

#: Words that open a phrase which cannot be a nominative subject: the case check's set
#: plus the oblique relative pronouns.
OBLIQUE = attr._OBLIQUE_OPENERS | {"denen", "welchem"}
_NOM_DETS = frozenset({"der", "die", "das", "ein", "eine", "dieser", "diese", "dieses", "sein",
                       "seine", "ihr", "ihre", "beide", "mehrere", "viele", "einige", "zahlreiche",
                       "alle", "kein", "keine"})
_GEN = frozenset({"des", "eines", "einer", "seines", "ihres"})
_PRONOUNS = frozenset({"er", "sie", "man", "wir", "ich", "es", "dieser", "diese", "jener"})


@dataclass
class Candidate:
    """One possible speaker of a statement; `span` None is "no speaker"."""

    span: tuple[int, int] | None
    sources: set[str] = field(default_factory=set)


def _chunks(doc: Doc, facts, lo: int, hi: int, a: int, b: int, np_token) -> list[tuple[int, int]]:
    """Noun-phrase chunks in [lo, hi) outside the quotation [a, b): maximal runs of
    noun-phrase words, cut at commas and where a determiner follows a noun ("die OSZE |
    die Berichte"); each run also without the prepositional phrases it ends with ("Ken Rice
    vom Institut" -> "Ken Rice"), since the data marks either."""
    texts = facts.texts
    out = []
    k = lo
    while k < hi:
        if a <= k < b or not np_token(k) or texts[k] == ",":
            k = b if a <= k < b else k + 1
            continue
        s = k
        k += 1
        sid = facts.sent_id[s]
        while (k < hi and not (a <= k < b) and np_token(k) and texts[k] != ","
               and facts.sent_id[k] == sid):
            low = texts[k].lower()
            prev = texts[k - 1]
            if (low in attr._DETS and attr._is_cap(prev) and prev.lower() not in attr._DETS
                    and prev.lower() not in attr._NON_SUBJECT_START):
                if low not in attr._GEN_DETS:
                    break
                out.append((s, k))  # "der Chef der Firma": genitive attribute or a new phrase
            k += 1
        out.append((s, k))
        out += [(s, p) for p in range(s + 1, k) if texts[p].lower() in attr._PREPS]
    return out


@cache
def _all_preps() -> frozenset[str]:
    return attr._PREPS | attr.lexicon().preps


def _tidy(doc: Doc, facts, span: tuple[int, int]) -> tuple[int, int] | None:
    """A candidate as a phrase: leading prepositions off ("Laut diesem Zeugen" ->
    "diesem Zeugen"), nothing with a verb in it, at least one name-like word."""
    s, e = span
    texts = facts.texts
    preps = _all_preps()
    while s < e and (texts[s].lower() in preps or texts[s] in attr._NP_INNER):
        s += 1
    def loose_end(t: str) -> bool:  # a phrase ends in a name, a noun, a number or a pronoun
        return t in attr._NP_INNER - {")", "“", "«", "»", "\""} or (
            t[:1].islower() and t.lower() not in attr._SPEAKER_PRONOUNS and not t[:1].isdigit())

    while e > s and loose_end(texts[e - 1]):
        e -= 1
    if e <= s:
        return None
    for k in range(s, e):
        if facts.cue_strength[k] or facts.finite[k] or texts[k].lower() in attr._AUX:
            return None
    if not any(attr._is_cap(texts[k]) or texts[k].lower() in attr._SPEAKER_PRONOUNS for k in range(s, e)):
        return None
    return s, e


def gather(doc: Doc, facts, a: int, b: int, lo: int, hi: int, cue: tuple[int, int] | None,
           viterbi: list[tuple[int, int]], marginal: tuple[int, int] | None,
           rule_speaker: tuple[int, int] | None, first: tuple[int, int] | None = None,
           inside: bool = False, previous: tuple[int, int] | None = None) -> list[Candidate]:
    """Candidates for the speaker of the quotation [a, b) (see the module docstring).
    `first` is the speaker the first-stage CRF or the fallback rules gave the statement;
    `inside` lets chunks come from the statement itself (reported speech with its source
    in the middle: "Der Mann wurde nach Angaben der Polizei gefasst"). `previous` is the
    speaker of the statement before, which a cue-less continuation inherits."""
    texts = facts.texts

    def np_token(k: int) -> bool:
        t = texts[k]
        tl = t.lower()
        if facts.cue_strength[k] or tl in attr._AUX or facts.finite[k]:
            return False  # "sagte" looks like an inflected adjective to `_is_adj`
        return (attr._is_cap(t) or t[:1].isdigit() or tl in attr._DETS or attr._is_adj(t)
                or tl in attr._NAME_LINKS or tl in attr._PREPS or t in attr._NP_INNER
                or tl in attr._SPEAKER_PRONOUNS)

    found: dict[tuple[int, int], Candidate] = {}

    def add(span: tuple[int, int] | None, source: str) -> None:
        span = _tidy(doc, facts, span) if span is not None else None
        if span is None:
            return
        found.setdefault(span, Candidate(span)).sources.add(source)

    for r in viterbi:
        add(r, "vit")
    add(marginal, "marg")
    add(rule_speaker, "rule")
    add(first, "s1")
    add(previous, "prev")
    if cue is not None and facts.cue_strength[cue[0]]:
        add(facts.subject_of.get(cue[0]), "subj")
    for r in _chunks(doc, facts, lo, hi, b if inside else a, b, np_token):
        add(r, "chunk")
        add(attr.clean_speaker(doc, r, texts), "chunk")
        if r[0] == facts.sents[facts.sent_id[r[0]]][0] and r[1] - r[0] > 1:
            add((r[0] + 1, r[1]), "chunk")  # "Auch die Ministerin": a sentence adverb first
    for r in list(found.values()):
        s0, e0 = r.span
        if not ((s0 > 0 and texts[s0 - 1] == ",") or (e0 < facts.n and (
                texts[e0] == "," or texts[e0].lower() in attr._PREPS))):
            continue  # `_apposition` only ever widens over a comma or a PP
        s_start, s_end = facts.sents[facts.sent_id[s0]]
        wide = attr._apposition(doc, r.span, s_start, s_end)
        if wide != r.span and (wide[1] <= a or wide[0] >= b):
            add(wide, "appo")
    return [Candidate(None, {"none"}), *found.values()]


def _bucket(x: float, edges: tuple[float, ...]) -> str:
    for n, e in enumerate(edges):
        if x < e:
            return str(n)
    return str(len(edges))


def cue_frame(doc: Doc, facts, cue: tuple[int, int]) -> tuple[int, str, str, bool]:
    """What every candidate of a statement is compared with, computed once per statement:
    the cue's clause start, what fills the cue verb's prefield, its lemma, passive voice.

    The prefield decides whether a phrase right after the verb is its subject ("Gestern
    sagte der Minister") or an object ("Er rief die Armee auf"); some verbs take the speaker
    as object ("zitiert X mit"), hence the lemma."""
    texts = facts.texts
    cs = cue[0]
    c_start = attr._clause_start(doc, cs, facts.sents[facts.sent_id[cs]][0])
    pfc = lemma = ""
    if facts.cue_strength[cs]:
        pf = texts[c_start].lower() if c_start < cs else ""
        pfc = ("none" if not pf else "conj" if pf in ("und", "oder", "aber", "sondern")
               else "sub" if pf in attr._SUBORDINATORS else "adv" if pf in attr._NON_SUBJECT_START
               else "np")
        lemma = doc[cs].lemma_.lower()
    passive = any(texts[k].lower() in attr._PASSIVE_AUX for k in range(c_start, cs))
    return c_start, pfc, lemma, passive


#: Number agreement between the cue verb and a candidate (a feature of the ranker).
AGREEMENT = True
_SG_AUX = frozenset("hat hatte ist war wird wurde sei habe hätte wäre soll sollte will wollte "
                    "kann konnte muss musste darf durfte".split())
_PL_AUX = frozenset("haben hatten sind waren werden wurden seien hätten wären sollen sollten "
                    "wollen wollten können konnten müssen mussten dürfen durften".split())
_SG_DETS = frozenset({"der", "des", "dem", "ein", "eine", "einem", "eines", "sein", "seine", "ihr"})


def verb_number(texts: list[str], c_start: int, cue: tuple[int, int]) -> str:
    """"sg"/"pl" of the cue clause's finite verb, by form: a finite auxiliary if the clause
    has one before the cue (perfect, passive, modal), else the cue verb itself ("sagten",
    "erklären" plural; "sagte", "sprach" singular)."""
    for k in range(c_start, cue[0]):
        low = texts[k].lower()
        if low in _SG_AUX:
            return "sg"
        if low in _PL_AUX:
            return "pl"
    verb = texts[cue[0]]
    if not verb[:1].islower():
        return ""
    return "pl" if verb.endswith("en") else "sg"


def phrase_number(texts: list[str], s: int, e: int) -> str:
    """"sg"/"pl"/"unk" of a noun phrase by form: coordination and plural heads after
    "die"/no article are plural, singular articles and names singular."""
    words = [texts[k] for k in range(s, e)]
    low = [w.lower() for w in words]
    if "und" in low or "sowie" in low:
        return "pl"
    if low[0] in ("er", "ich", "es"):
        return "sg"
    if low[0] == "wir":
        return "pl"
    if low[0] in _SG_DETS:
        return "sg"
    head = next((w for w, lw in zip(words, low, strict=True) if w[:1].isupper() and lw not in attr._DETS), "")
    if head.endswith(("en", "innen")) and low[0] in ("die", "den", head.lower()):
        return "pl"
    if all(w[:1].isupper() for w in words):
        return "sg"
    return "unk"


def features(doc: Doc, facts, cand: Candidate, a: int, b: int, cue: tuple[int, int] | None,
             probs, context: list[str], frame: tuple[int, str, str, bool] | None = None) -> list[str]:
    """String features of one candidate; `context` holds statement-level features that
    only make sense next to "no speaker" (cue type, quote kind, whether the CRF tagged);
    `frame` is `cue_frame(doc, facts, cue)`, passed in so it is computed once."""
    if cand.span is None:
        return ["none", *("none|" + c for c in context)]
    s, e = cand.span
    texts = facts.texts
    ct = next((c for c in context if c.startswith("ct=")), "ct=none")
    f = ["src=" + "+".join(sorted(cand.sources))]
    f += ["has=" + x for x in cand.sources]
    m = [probs(k) for k in range(s, e)]
    mean = sum(m) / len(m)
    f.append("m=" + _bucket(mean, (0.05, 0.15, 0.3, 0.5, 0.7, 0.9)))
    f.append("mx=" + _bucket(max(m), (0.05, 0.15, 0.3, 0.5, 0.7, 0.9)))
    f.append("len=" + _bucket(e - s, (2, 3, 4, 6, 9)))
    first = texts[s].lower()
    if first in OBLIQUE:
        fc = "obl"
    elif first in _GEN:
        fc = "gen"
    elif first in attr._PREPS:
        fc = "prep"
    elif first in _PRONOUNS and e - s == 1:
        fc = "pron"
    elif first in _NOM_DETS:
        fc = "det"
    elif attr._is_cap(texts[s]):
        fc = "cap"
    else:
        fc = "low"
    f += ["f=" + fc, "f|" + ct + "|" + fc, "fw=" + first,
          "lastcap=" + str(attr._is_cap(texts[e - 1])),
          "pp=" + next((texts[k].lower() for k in range(s + 1, e) if texts[k].lower() in attr._PREPS), "-"),
          "dets=" + str(min(2, sum(1 for k in range(s, e) if texts[k].lower() in attr._DETS)))]
    prev = texts[s - 1].lower() if s > 0 else "<s>"
    sid = facts.sent_id[s]
    sent_start = facts.sents[sid][0]
    if s == sent_start or (s == sent_start + 1 and prev in attr._ALL_QUOTES):
        f.append("bos")
    elif prev in _all_preps():
        f += ["afterprep", "afterprep=" + (prev if prev in ("von", "vom", "durch", "laut", "nach", "seitens",
                                                             "gegenüber", "mit", "bei") else "x")]
    elif prev == ",":
        f.append("aftercomma")
    elif attr._is_cap(texts[s - 1]) and texts[s - 1].lower() not in attr._DETS:
        f.append("aftercap")  # "Stadt der Katastrophe": a genitive attribute
    else:
        f.append("prev=" + (prev if prev in attr._AUX or prev in ("und", "so", "wie") else "x"))
    nxt = texts[e] if e < facts.n else "</s>"
    f.append("next=" + (nxt if nxt in (",", ".", ":", "(") or nxt.lower() in attr._AUX else
                        "cue" if e < facts.n and facts.cue_strength[e] else "x"))
    lex = attr.lexicon()
    caps = 0
    role = None
    flags = set()
    for k in range(s, e):  # one pass over the phrase
        t = texts[k]
        if attr._is_cap(t):
            caps += 1
            if role is None and t in lex.roles:
                role = lex.roles[t]
            if lex.is_noun(t):
                flags.add("srcnoun")
        if facts.in_quote[k]:
            flags.add("inquote")
        if facts.cue_strength[k]:
            flags.add("hascue")
    f.append("caps=" + _bucket(caps, (1, 2, 3, 5)))
    if role:
        f += ["role", "role=" + role]
    f += sorted(flags)
    # where it stands: relative to the quotation, then to the cue
    if e <= a:
        side, d = "before", a - e
    elif s >= b:
        side, d = "after", s - b
    else:
        side, d = "inside", 0
    sd = max(-2, min(2, sid - facts.sent_id[a if side != "after" else b - 1]))
    f += ["side=" + side, "sd=" + str(sd), "side|sd=" + side + str(sd), "side|" + ct + "|" + side,
          "d=" + _bucket(d, (1, 2, 4, 8, 15, 30))]
    if cue is not None:
        cs, ce = cue
        same = facts.sent_id[cs] == sid
        if not same:
            rel = "othersent"
        elif s == ce or (s == ce + 1 and texts[ce] in ("dann", "nun", "jedoch", "aber", "auch")):
            rel = "rightafter"
        elif e == cs:
            rel = "rightbefore"
        elif e <= cs:
            rel = "before"
        elif s >= ce:
            rel = "after"
        else:
            rel = "over"
        between = range(e, cs) if e <= cs else range(ce, s)
        commas = sum(1 for k in between if texts[k] == ",")
        f += ["cr=" + rel, "cr|f=" + rel + "|" + fc, "cr|" + ct + "|" + rel,
              "cc=" + _bucket(commas, (1, 2, 3))]
        c_start, pfc, lemma, passive = frame if frame is not None else cue_frame(doc, facts, cue)
        if pfc:
            f += ["pf|cr=" + pfc + "|" + rel, "pf|cr|f=" + pfc + "|" + rel + "|" + fc,
                  "lemma|cr=" + lemma + "|" + rel]
        if passive:
            f += ["passive", "passive|f=" + fc, "passive|von=" + str(prev in ("von", "vom", "durch"))]
        if AGREEMENT and pfc:
            vn = verb_number(texts, c_start, cue)
            if vn:
                pn = phrase_number(texts, s, e)
                f.append("agr=" + ("unk" if pn == "unk" else "ok" if pn == vn else "clash"))
    else:
        f.append("cr=nocue")
    return f


@dataclass
class Ranker:
    """Conditional-logit weights over string features."""

    weights: dict[str, float]

    def scores(self, groups: list[list[str]]) -> list[float]:
        w = self.weights
        return [sum(w.get(x, 0.0) for x in fs) for fs in groups]

    def choose(self, groups: list[list[str]]) -> int:
        sc = self.scores(groups)
        return max(range(len(sc)), key=sc.__getitem__)

    def to_file(self, path: Path) -> None:
        path.write_text(json.dumps({"model": "lagebild.speaker_rank/1", "weights": {
            k: round(v, 5) for k, v in sorted(self.weights.items()) if abs(v) >= 1e-4}},
            ensure_ascii=False), encoding="utf-8")

    @classmethod
    def from_file(cls, path: Path) -> Ranker:
        return cls(json.loads(path.read_text(encoding="utf-8"))["weights"])


def train(examples: list[tuple[list[list[str]], int]], l2: float = 1.0, iterations: int = 300) -> Ranker:
    """Fit the conditional logit: one softmax per statement over its candidates, the label
    is the index of the candidate that best matches the gold speaker. L-BFGS, L2."""
    from scipy.optimize import minimize
    from scipy.sparse import csr_matrix

    index: dict[str, int] = {}
    rows, cols = [], []
    starts, gold = [], []
    r = 0
    for groups, label in examples:
        starts.append(r)
        gold.append(r + label)
        for fs in groups:
            for x in set(fs):
                rows.append(r)
                cols.append(index.setdefault(x, len(index)))
            r += 1
    X = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(r, len(index)))
    starts_a = np.array(starts)
    gold_a = np.array(gold)
    group_of = np.repeat(np.arange(len(starts)), np.diff(np.append(starts_a, r)))

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = X @ w
        zmax = np.maximum.reduceat(z, starts_a)
        ez = np.exp(z - zmax[group_of])
        denom = np.add.reduceat(ez, starts_a)
        p = ez / denom[group_of]
        nll = -(z[gold_a] - zmax - np.log(denom)).sum()
        g = p.copy()
        g[gold_a] -= 1.0
        grad = X.T @ g + l2 * w
        return nll + 0.5 * l2 * float(w @ w), grad

    res = minimize(loss, np.zeros(len(index)), jac=True, method="L-BFGS-B",
                   options={"maxiter": iterations})
    names = sorted(index, key=index.__getitem__)
    return Ranker({n: float(v) for n, v in zip(names, res.x, strict=True)})


@cache
def load(path: str | None = None) -> Ranker | None:
    """The shipped ranker, or None where the model folder has none."""
    p = Path(path) if path else model_path("attribution") / MODEL_FILE
    return Ranker.from_file(p) if p.exists() else None


def overlap_f1(x: set[int], y: set[int]) -> float:
    inter = len(x & y)
    if not inter:
        return 0.0
    return 2 * inter / (len(x) + len(y))


def label_of(cands: list[Candidate], gold: set[int], floor: float = 0.34) -> int | None:
    """Index of the training label: "no speaker" where the gold has none, else the
    candidate that overlaps the gold speaker best (None where none reaches `floor`)."""
    if not gold:
        return 0
    best, best_f = None, floor
    for n, c in enumerate(cands):
        if c.span is None:
            continue
        f = overlap_f1(set(range(*c.span)), gold)
        if f > best_f or (math.isclose(f, best_f) and best is None):
            best, best_f = n, f
    return best
