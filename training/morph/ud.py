"""UD German (CoNLL-U) reading and the scores of the morph layer.

Kept separate from `run.py` so the slow test can recompute the committed Konjunktiv F1
with exactly the code that produced it. The data are read from `../shared/data/ud_german`
and never copied into the repository.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

UD_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ud_german"
FILES = {
    "gsd_dev": "de_gsd-ud-dev.conllu",
    "gsd_test": "de_gsd-ud-test.conllu",
    "pud_test": "de_pud-ud-test.conllu",
}


@dataclass
class Sentence:
    """One UD sentence: syntactic words (multiword tokens expanded) and the raw text."""

    text: str
    words: list[str] = field(default_factory=list)
    spaces: list[bool] = field(default_factory=list)
    upos: list[str] = field(default_factory=list)
    lemmas: list[str] = field(default_factory=list)
    feats: list[dict[str, str]] = field(default_factory=list)


def _feats(value: str) -> dict[str, str]:
    if value == "_":
        return {}
    return dict(kv.split("=", 1) for kv in value.split("|") if "=" in kv)


def read_conllu(path: Path) -> list[Sentence]:
    """Sentences of a CoNLL-U file. Multiword tokens ("am" = an + dem) become their words;
    the surface token's SpaceAfter is given to its last word."""
    sents: list[Sentence] = []
    cur: Sentence | None = None
    mwt_end = -1
    mwt_space = True
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line.startswith("# text = "):
                cur = Sentence(text=line[9:])
                continue
            if not line:
                if cur is not None and cur.words:
                    sents.append(cur)
                cur = None
                continue
            if line.startswith("#") or cur is None:
                continue
            cols = line.split("\t")
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
            cur.words.append(cols[1])
            cur.spaces.append(space)
            cur.upos.append(cols[3])
            cur.lemmas.append(cols[2])
            cur.feats.append(_feats(cols[5]))
    if cur is not None and cur.words:
        sents.append(cur)
    return sents


def load(split: str) -> list[Sentence]:
    return read_conllu(UD_DIR / FILES[split])


def gold_docs(nlp: Language, sents: Iterable[Sentence]) -> Iterator[tuple[Sentence, Doc]]:
    """A Doc per sentence on the gold tokenisation, so mood is scored word by word."""
    for s in sents:
        yield s, Doc(nlp.vocab, words=s.words, spaces=s.spaces)


def prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "tp": tp, "fp": fp, "fn": fn}


def is_finite(feats: dict[str, str]) -> bool:
    """Finite verb in UD: GSD marks VerbForm=Fin, PUD only gives Mood."""
    return feats.get("VerbForm") == "Fin" or "Mood" in feats


def mood_scores(nlp: Language, sents: list[Sentence], errors: list[str] | None = None
                ) -> dict[str, object]:
    """P/R/F1 of Mood=Sub over *all* words (a Sub guess on a non-verb is a false positive),
    plus mood accuracy on the gold finite verbs (Ind/Sub/Imp; no guess counts as Ind
    only if we wrote Mood=Ind)."""
    morph = nlp.get_pipe("lagebild_morph")
    tp = fp = fn = 0
    fin = fin_ok = 0
    for s, doc in gold_docs(nlp, sents):
        doc = morph(doc)
        for tok, feats in zip(doc, s.feats, strict=True):
            pred = tok.morph.get("Mood")
            pred_sub = "Sub" in pred
            gold_sub = feats.get("Mood") == "Sub"
            if pred_sub and gold_sub:
                tp += 1
            elif pred_sub:
                fp += 1
                if errors is not None:
                    errors.append(f"FP {tok.text!r} in: {s.text}")
            elif gold_sub:
                fn += 1
                if errors is not None:
                    errors.append(f"FN {tok.text!r} in: {s.text}")
            if is_finite(feats):
                fin += 1
                fin_ok += int(bool(pred) and pred[0] == feats.get("Mood", "Ind"))
    out: dict[str, object] = prf(tp, fp, fn)
    out["finite_verbs"] = fin
    out["finite_mood_accuracy"] = round(fin_ok / fin, 4) if fin else 0.0
    return out


def joined_text(sents: list[Sentence]) -> tuple[str, set[int]]:
    """The `# text` lines joined with single spaces and the gold sentence-start offsets."""
    parts: list[str] = []
    starts: set[int] = set()
    pos = 0
    for s in sents:
        starts.add(pos)
        parts.append(s.text)
        pos += len(s.text) + 1
    return " ".join(parts), starts


def sentence_scores(nlp: Language, sents: list[Sentence], errors: list[str] | None = None
                    ) -> dict[str, float | int]:
    """Boundary F1: predicted vs gold sentence starts, offset 0 excluded (always right)."""
    text, gold = joined_text(sents)
    doc = nlp.make_doc(text)
    for name in ("lagebild_sentences",):
        doc = nlp.get_pipe(name)(doc)
    pred = {sent.start_char for sent in doc.sents}
    gold.discard(0)
    pred.discard(0)
    if errors is not None:
        for off in sorted(pred - gold):
            errors.append(f"FP split: …{text[max(0, off - 60):off]}|{text[off:off + 30]}…")
        for off in sorted(gold - pred):
            errors.append(f"FN split: …{text[max(0, off - 60):off]}|{text[off:off + 30]}…")
    out = prf(len(pred & gold), len(pred - gold), len(gold - pred))
    # Many GSD review "sentences" end without punctuation: no splitter can find those.
    punct = {g for g in gold if text[:g].rstrip()[-1:] in _TERMINAL}
    out["gold_after_terminal_punct"] = len(punct)
    out["recall_after_terminal_punct"] = round(len(punct & pred) / len(punct), 4) if punct else 0.0
    return out


_TERMINAL = set(".!?…\"'“”»«)")
