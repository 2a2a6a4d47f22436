"""Second-stage (stacked) CRF over the first-stage CRF's predictions: an experiment.

Why: a linear-chain CRF only sees its +-2 feature window and one transition; a second
CRF that sees the first one's labels (+-2), its confidence (bucketed marginals), the
entity it is inside (type, B/I/E/S position, length) and what the first stage said
about the same word form elsewhere in the sentence can fix inconsistent or
low-confidence decisions. GermEval has no document boundaries, so consistency is
sentence-level only.

Stage 1 is jackknifed on train (`--folds` fold models, each trained with the shipped
recipe on the other folds, its mined gazetteer built only from those folds, nested
5-fold for its own training features), so stage 2 learns from stage-1 errors as they
happen on unseen text. On dev stage 1 is the shipped model (trained on all of train).
Only dev is scored here (selection); test is scored once by evaluate.py if shipped.

Usage:
  python training/ner/train_stack.py --work DIR            # stage-1 jackknife + stage 2
  python training/ner/train_stack.py --work DIR --c2 1.0   # reuses DIR/stage1.pkl
  python training/ner/train_stack.py --stage1 MODEL_DIR --out DIR   # pipeline with stage 2
Writes DIR/stage1.pkl (cached stage-1 outputs), DIR/stack-*.model, DIR/scores.jsonl.
The stage-2 features (`stack_features`) live in lagebild.extract.ner_crf, shared with
the component.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

from train_crf import CORPUS, read_bio  # noqa: E402

from lagebild.extract.ner_crf import (  # noqa: E402
    FeatureSet,
    MinedGazetteer,
    bio_spans,
    stack_features,
    stage1_tag,
    to_bioes,
)

SHIPPED = ROOT / "src" / "lagebild" / "models" / "ner"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def strict_f1(gold: list[list[str]], pred: list[list[str]]) -> dict[str, float | int]:
    """GermEval outer strict micro P/R/F1 (exact span + exact label), as evaluate.py."""
    tp = n_pred = n_gold = 0
    for g, p in zip(gold, pred, strict=True):
        gs, ps = set(bio_spans(g)), set(bio_spans(p))
        tp += len(gs & ps)
        n_pred += len(ps)
        n_gold += len(gs)
    prec = tp / n_pred if n_pred else 0.0
    rec = tp / n_gold if n_gold else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"p": round(prec, 4), "r": round(rec, 4), "f1": round(f1, 4), "tp": tp}


def load_stage1_component(model_dir: Path):  # noqa: ANN201 - CRFNer
    """The stage-1 component of a CRF pipeline directory (without any stage 2)."""
    import spacy

    import lagebild.extract.ner_crf  # noqa: F401 - registers the factory

    comp = spacy.load(model_dir).get_pipe("ner")
    comp._stack_tagger = None
    return comp


def run_stage1(
    stage1: Path, folds: int, c1: float, c2: float, iters: int, work: Path
) -> dict[str, list]:
    """Jackknifed stage-1 outputs on train, shipped-model outputs on dev."""
    import pycrfsuite

    comp = load_stage1_component(stage1)
    base: FeatureSet = comp.features
    clusters = comp.clusters
    train = read_bio(CORPUS / "train.bio")
    dev = read_bio(CORPUS / "dev.bio")
    out: dict[str, list] = {"train": [None] * len(train), "dev": []}
    labels = comp._tagger.labels()
    for words, _ in dev:
        cl = clusters(words)
        tags, margs, alts = stage1_tag(comp._tagger, labels, base(words, cl))
        out["dev"].append((tags, margs, alts, base.extras(words)))
    log(f"stage 1 dev: {strict_f1([t for _, t in dev], [o[0] for o in out['dev']])}")
    for k in range(folds):
        idx = [i for i in range(len(train)) if i % folds != k]
        held = [i for i in range(len(train)) if i % folds == k]
        data = [train[i] for i in idx]
        gaz_all = MinedGazetteer.build(data)
        inner = [MinedGazetteer.build(s for j, s in enumerate(data) if j % 5 != f) for f in range(5)]
        trainer = pycrfsuite.Trainer(verbose=False)
        for j, (words, tags) in enumerate(data):
            trainer.append(base(words, clusters(words), inner[j % 5]), to_bioes(tags))
        trainer.set_params(
            {"c1": c1, "c2": c2, "max_iterations": iters, "feature.possible_transitions": True}
        )
        model = work / f"fold{k}.model"
        log(f"fold {k}: training on {len(data)} sentences")
        trainer.train(str(model))
        del trainer
        tagger = pycrfsuite.Tagger()
        tagger.open(str(model))
        fold_labels = tagger.labels()
        for i in held:
            words = train[i][0]
            x = base(words, clusters(words), gaz_all)
            tags, margs, alts = stage1_tag(tagger, fold_labels, x)
            out["train"][i] = (tags, margs, alts, base.extras(words, gaz_all))
        score = strict_f1([train[i][1] for i in held], [out["train"][i][0] for i in held])
        log(f"fold {k}: held-out {score}")
        tagger.close()
        model.unlink()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=None, help="private dir (default: mkdtemp)")
    ap.add_argument("--folds", type=int, default=4, help="stage-1 jackknife folds")
    ap.add_argument("--c1", type=float, default=0.2, help="stage 2 L1 (0.2 shipped)")
    ap.add_argument("--c2", type=float, default=0.3, help="stage 2 L2")
    ap.add_argument("--iters", type=int, default=150, help="stage 2 iterations")
    ap.add_argument("--word-feats", choices=("lite", "none"), default="lite")
    ap.add_argument("--name", default=None)
    ap.add_argument(
        "--stage1", type=Path, default=SHIPPED, help="stage-1 pipeline (trained on all of train)"
    )
    ap.add_argument("--out", type=Path, default=None, help="write stage 1 + 2 pipeline here")
    args = ap.parse_args(argv)
    import pycrfsuite

    work = args.work or Path(tempfile.mkdtemp(prefix="ner_stack_"))
    work.mkdir(parents=True, exist_ok=True)
    log(f"work dir {work}")
    cache = work / "stage1.pkl"
    if cache.exists():
        s1 = pickle.loads(cache.read_bytes())
    else:
        s1 = run_stage1(args.stage1, args.folds, 0.1, 0.3, 200, work)
        s1["folds"] = args.folds
        cache.write_bytes(pickle.dumps(s1))
    comp = load_stage1_component(args.stage1)
    clusters = comp.clusters
    train = read_bio(CORPUS / "train.bio")
    dev = read_bio(CORPUS / "dev.bio")
    log(f"stage 1 train (jackknifed): {strict_f1([t for _, t in train], [o[0] for o in s1['train']])}")
    trainer = pycrfsuite.Trainer(verbose=False)
    for (words, gold), (tags, margs, alts, ex) in zip(train, s1["train"], strict=True):
        x = stack_features(words, clusters(words), ex, tags, margs, alts, args.word_feats)
        trainer.append(x, to_bioes(gold))
    trainer.set_params(
        {
            "c1": args.c1,
            "c2": args.c2,
            "max_iterations": args.iters,
            "feature.possible_transitions": True,
        }
    )
    name = args.name or f"stack-{args.word_feats}-c1{args.c1}-c2{args.c2}-i{args.iters}"
    model = work / f"{name}.model"
    t0 = time.time()
    trainer.train(str(model))
    log(f"stage 2 trained in {time.time() - t0:.0f}s, {model.stat().st_size / 1e6:.1f} MB")
    tagger = pycrfsuite.Tagger()
    tagger.open(str(model))
    pred = []
    t0 = time.time()
    for (words, _), (tags, margs, alts, ex) in zip(dev, s1["dev"], strict=True):
        pred.append(tagger.tag(stack_features(words, clusters(words), ex, tags, margs, alts,
                                              args.word_feats)))
    n_words = sum(len(w) for w, _ in dev)
    stage2_wps = n_words / (time.time() - t0)
    row = {
        "name": name,
        "folds": s1.get("folds", args.folds),
        "stage1_dev": strict_f1([t for _, t in dev], [o[0] for o in s1["dev"]]),
        "stage2_dev": strict_f1([t for _, t in dev], pred),
        "stage2_mb": round(model.stat().st_size / 1e6, 2),
        "stage2_only_words_per_s": round(stage2_wps),
    }
    log(json.dumps(row))
    with (work / "scores.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")
    if args.out is not None:
        import spacy

        nlp = spacy.load(args.stage1)
        nlp.get_pipe("ner").load_stack_model(model, args.word_feats)
        nlp.to_disk(args.out)
        log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
