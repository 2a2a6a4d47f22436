"""UD CoNLL-U -> spaCy Docs with heads, deprels and UPOS, plus the parser's scores.

Own small converter instead of `spacy convert`: we need the *syntactic* words (multiword
tokens such as "am" = "an dem" expanded, as the UD trees are built over them), the exact
SpaceAfter of the surface token, and nothing else (no NER, no sentence grouping). The
UPOS goes into `token.tag_` (what the spaCy `tagger` learns) and `token.pos_`.

Kept apart from `run.py` so the tests and the slow LAS recomputation use exactly the code
that produced `training/results/parser.json`. Data stay in `../shared/data/ud_german`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from spacy.tokens import Doc
from spacy.vocab import Vocab

UD_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ud_german"
FILES = {
    "gsd_dev": "de_gsd-ud-dev.conllu",
    "gsd_test": "de_gsd-ud-test.conllu",
    "pud_test": "de_pud-ud-test.conllu",
}
#: UD relations that make a word the subject of its head.
SUBJ_RELS = frozenset({"nsubj", "nsubj:pass", "csubj", "csubj:pass"})
NOMINAL_SUBJ = frozenset({"nsubj", "nsubj:pass"})
#: Function words that UD hangs below the content predicate: the finite verb of a clause is
#: often one of these, so the verbal complex of a predicate is it plus these children.
COMPLEX_RELS = frozenset({"aux", "aux:pass", "cop"})


@dataclass
class Sentence:
    """One UD sentence over syntactic words; heads are 0-based sentence indices (root: self)."""

    sent_id: str
    words: list[str] = field(default_factory=list)
    spaces: list[bool] = field(default_factory=list)
    upos: list[str] = field(default_factory=list)
    feats: list[str] = field(default_factory=list)
    heads: list[int] = field(default_factory=list)
    deps: list[str] = field(default_factory=list)


def parse_conllu(text: str) -> list[Sentence]:
    """Sentences of a CoNLL-U string.

    Multiword tokens become their words; the surface token's SpaceAfter goes to its last
    word, the inner words get no space (the text is then "an dem" -> "andem"-like glued
    words, which only matters for `doc.text`, not for the trees). Empty nodes (ids with a
    dot, enhanced UD) are skipped. The root's head is the word itself, as in spaCy.
    """
    sents: list[Sentence] = []
    cur: Sentence | None = None
    mwt_end, mwt_space = -1, True
    for line in text.splitlines():
        line = line.rstrip("\r")
        if not line.strip():
            if cur is not None and cur.words:
                sents.append(cur)
            cur, mwt_end = None, -1
            continue
        if cur is None:
            cur = Sentence(sent_id=str(len(sents)))
        if line.startswith("#"):
            if line.startswith("# sent_id = "):
                cur.sent_id = line[12:].strip()
            continue
        cols = line.split("\t")
        if len(cols) != 10:
            raise ValueError(f"not a CoNLL-U word line: {line!r}")
        if "-" in cols[0]:
            mwt_end = int(cols[0].split("-")[1])
            mwt_space = "SpaceAfter=No" not in cols[9]
            continue
        if "." in cols[0]:
            continue
        idx = int(cols[0])
        space = "SpaceAfter=No" not in cols[9]
        if idx <= mwt_end:
            space = mwt_space if idx == mwt_end else False
        head = int(cols[6])
        cur.words.append(cols[1])
        cur.spaces.append(space)
        cur.upos.append(cols[3])
        cur.feats.append(cols[5])
        cur.heads.append(idx - 1 if head == 0 else head - 1)
        cur.deps.append(cols[7])
    if cur is not None and cur.words:
        sents.append(cur)
    return sents


def load(split: str) -> list[Sentence]:
    return parse_conllu((UD_DIR / FILES[split]).read_text(encoding="utf-8"))


def to_doc(vocab: Vocab, s: Sentence) -> Doc:
    """A gold Doc: one sentence, heads/deps/UPOS set (UPOS in tag_ and pos_)."""
    return Doc(vocab, words=s.words, spaces=s.spaces, tags=s.upos, pos=s.upos,
               heads=s.heads, deps=s.deps, sent_starts=[True] + [False] * (len(s.words) - 1))


def to_docs(vocab: Vocab, sents: Iterable[Sentence]) -> list[Doc]:
    return [to_doc(vocab, s) for s in sents]


# --------------------------------------------------------------------------- scores

PUNCT = "PUNCT"


def _label(dep: str) -> str:
    """spaCy's parser names the root relation "ROOT", UD "root": the same label."""
    return "root" if dep.lower() == "root" else dep


def attachment_scores(gold: list[Sentence], pred: list[Doc]) -> dict[str, float | int]:
    """UAS/LAS (full label, and base label before ':') and UPOS accuracy.

    CoNLL 2018 convention: punctuation words (gold UPOS PUNCT) are *excluded* from UAS/LAS;
    `las_with_punct` includes them. UPOS is over all words.
    """
    n = uas = las = las_base = 0
    n_all = las_all = upos = 0
    for s, doc in zip(gold, pred, strict=True):
        if len(doc) != len(s.words):
            raise ValueError(f"tokenisation differs in {s.sent_id}")
        for i, tok in enumerate(doc):
            head_ok = tok.head.i == s.heads[i]
            lab_ok = head_ok and _label(tok.dep_) == _label(s.deps[i])
            n_all += 1
            las_all += lab_ok
            upos += (tok.tag_ or tok.pos_) == s.upos[i]
            if s.upos[i] == PUNCT:
                continue
            n += 1
            uas += head_ok
            las += lab_ok
            las_base += head_ok and _label(tok.dep_).split(":")[0] == _label(s.deps[i]).split(":")[0]
    return {"words": n_all, "scored_words_no_punct": n,
            "uas": round(uas / n, 4), "las": round(las / n, 4),
            "las_base_label": round(las_base / n, 4),
            "las_with_punct": round(las_all / n_all, 4), "upos": round(upos / n_all, 4)}


def prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "tp": tp, "fp": fp, "fn": fn}


def gold_subject_pairs(s: Sentence) -> set[tuple[int, int]]:
    """(predicate, subject) for every nominal subject (nsubj, nsubj:pass) in the gold tree."""
    return {(s.heads[i], i) for i, d in enumerate(s.deps) if d in NOMINAL_SUBJ}


def verbal_complex(s: Sentence) -> dict[int, set[int]]:
    """Predicate -> {predicate, its aux/aux:pass/cop children}: any of them may stand for it.

    A heuristic finds the *finite* verb ("hat" in "Er hat gewonnen"), UD attaches the subject
    to the content word ("gewonnen"); both name the same clause, which is what the events
    layer needs.
    """
    out: dict[int, set[int]] = {}
    for i, d in enumerate(s.deps):
        out.setdefault(i, {i})
        if d in COMPLEX_RELS:
            out.setdefault(s.heads[i], {s.heads[i]}).add(i)
    return out


def subject_scores(gold: list[Sentence], pred: list[set[tuple[int, int]]]
                   ) -> dict[str, dict[str, float | int]]:
    """Subject attachment P/R/F1 over (predicate, subject word) pairs.

    `strict`: the predicted predicate is the gold head word. `clause`: it is the gold head
    or one of its aux/cop children (the same verbal complex) — the fair measure for a
    heuristic that anchors on the finite verb. Gold pairs: nsubj and nsubj:pass.
    """
    res: dict[str, dict[str, float | int]] = {}
    for mode in ("strict", "clause"):
        tp = fp = fn = 0
        for s, pairs in zip(gold, pred, strict=True):
            gp = gold_subject_pairs(s)
            by_subj = {d: h for h, d in gp}  # basic UD: a word has one head
            cx = verbal_complex(s)
            matched: set[tuple[int, int]] = set()
            for h, d in pairs:
                gh = by_subj.get(d)
                ok = gh is not None and (gh, d) not in matched and (
                    h == gh or (mode == "clause" and h in cx.get(gh, {gh})))
                if ok and gh is not None:
                    matched.add((gh, d))
                    tp += 1
                else:
                    fp += 1
            fn += len(gp - matched)
        res[mode] = prf(tp, fp, fn)
    return res
