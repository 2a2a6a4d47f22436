"""Score a spaCy NER pipeline on GermEval 2014 with the official outer-chunk strict metric.

Why our own scorer: GermEval's official "outer chunks, strict" figure counts a
prediction correct only with the exact token span *and* the exact label among all 12
labels (PER, PERderiv, PERpart, LOC, ...), micro-averaged. That is what spaCy's
`ents_f` computes too, but we want the number independent of spaCy's scorer, plus
per-label and per-coarse-type figures (deriv/part folded into PER/LOC/ORG/OTH on both
sides before matching), words/s on one core and the model size, all in one JSON.

Usage: python training/ner/evaluate.py [--model DIR] [--out training/results/ner.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from convert import DEFAULT_SHARED, LABELS, ROOT, Sentence, load_splits, spans_from_bio  # noqa: E402

Span3 = tuple[int, int, str]


def coarse(label: str) -> str:
    return label[:3]


def prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float | int]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "p": round(p, 4),
        "r": round(r, 4),
        "f1": round(f, 4),
        "tp": tp,
        "pred": n_pred,
        "gold": n_gold,
    }


def _tally(gs: set[Span3], ps: set[Span3], n_gold: Counter[str], n_pred: Counter[str],
           tp: Counter[str]) -> None:
    """Count one sentence's gold, predicted and exactly matching spans per label."""
    n_gold.update(s[2] for s in gs)
    n_pred.update(s[2] for s in ps)
    tp.update(s[2] for s in gs & ps)


def score(gold: list[list[Span3]], pred: list[list[Span3]]) -> dict[str, object]:
    """Strict outer-chunk micro P/R/F1, per label, and per coarse type."""
    tp: Counter[str] = Counter()
    n_gold: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    ctp: Counter[str] = Counter()
    cgold: Counter[str] = Counter()
    cpred: Counter[str] = Counter()
    for g, p in zip(gold, pred, strict=True):
        gs, ps = set(g), set(p)
        _tally(gs, ps, n_gold, n_pred, tp)
        _tally({(a, b, coarse(c)) for a, b, c in gs}, {(a, b, coarse(c)) for a, b, c in ps},
               cgold, cpred, ctp)
    return {
        "micro": prf(sum(tp.values()), sum(n_pred.values()), sum(n_gold.values())),
        "per_label": {lab: prf(tp[lab], n_pred[lab], n_gold[lab]) for lab in LABELS},
        "per_coarse_type": {
            c: prf(ctp[c], cpred[c], cgold[c]) for c in ("PER", "LOC", "ORG", "OTH")
        },
    }


def predict(nlp, sents: list[Sentence]) -> list[list[Span3]]:  # noqa: ANN001 - spaCy Language
    """Run the pipeline on the gold tokenisation (as the official evaluation does)."""
    from spacy.tokens import Doc

    docs = (Doc(nlp.vocab, words=toks) for toks, _ in sents)
    for _name, proc in nlp.pipeline:
        docs = proc.pipe(docs, batch_size=256) if hasattr(proc, "pipe") else map(proc, docs)
    return [[(e.start, e.end, e.label_) for e in doc.ents] for doc in docs]


def words_per_second(nlp, sents: list[Sentence], n_words: int = 60000) -> float:  # noqa: ANN001
    """Throughput on raw text (tokenizer included), one thread, after a warm-up."""
    texts: list[str] = []
    total = 0
    for toks, _ in sents:
        texts.append(" ".join(toks))
        total += len(toks)
        if total >= n_words:
            break
    list(nlp.pipe(texts[:50]))
    start = time.perf_counter()
    n = sum(len(doc) for doc in nlp.pipe(texts, batch_size=256))
    return n / (time.perf_counter() - start)


def dir_size_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6, 2)


def evaluate(model: Path, shared: Path) -> dict[str, object]:
    import spacy

    try:  # registers the CRF component if the shipped model uses it
        import lagebild.extract.ner_crf  # noqa: F401
    except ImportError:
        pass
    nlp = spacy.load(model)
    splits = load_splits(shared)
    result: dict[str, object] = {}
    for split in ("dev", "test"):
        sents = splits[split]
        gold = [spans_from_bio(tags) for _, tags in sents]
        result[split] = score(gold, predict(nlp, sents))
    result["words_per_second_1core"] = round(words_per_second(nlp, splits["test"]))
    result["model_size_mb"] = dir_size_mb(model)
    result["pipeline"] = nlp.pipe_names
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=ROOT / "src" / "lagebild" / "models" / "ner")
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--out", type=Path, default=None, help="write JSON here (default: print only)")
    ap.add_argument("--command", default=None, help="the command that produced the model, recorded")
    args = ap.parse_args(argv)
    res = evaluate(args.model, args.shared)
    res["metric"] = "GermEval 2014 outer chunks, strict (exact span + exact label of 12), micro"
    res["model"] = (
        str(args.model.resolve().relative_to(ROOT))
        if args.model.resolve().is_relative_to(ROOT)
        else str(args.model)
    )
    if args.command:
        res["command"] = args.command
    text = json.dumps(res, indent=2, ensure_ascii=False)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    dev, test = res["dev"]["micro"], res["test"]["micro"]  # type: ignore[index]
    print(
        f"dev F1 {dev['f1']:.4f}  test F1 {test['f1']:.4f}  "
        f"{res['words_per_second_1core']} words/s  {res['model_size_mb']} MB",
        file=sys.stderr,
    )
    if not args.out:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
