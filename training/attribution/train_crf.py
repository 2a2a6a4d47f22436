"""Train the attribution CRF on German WikiNews (train split) and score rules vs CRF on dev.

One command, deterministic, a few minutes on one core:

    python training/attribution/train_crf.py            # train on train, write model + results
    python training/attribution/train_crf.py --tune     # grid on a train holdout (last 140 docs)
    python training/attribution/train_crf.py --cv 3     # 3-fold cross-validation on train

Labels: every token of our own tokenisation gets B-/I- of quote (Q), speaker (S) or cue
(C), projected from the data set's character offsets (cue > speaker > quote where they
overlap). Nested annotations (quoted fragments inside reported speech) contribute only
their speaker/cue: the evaluation adapter re-creates them from the outer statement.
Features come from `lagebild.extract.attribution.token_features` (lexical context plus the
rules' own decisions), so training and inference share one feature function.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pycrfsuite
import spacy

from lagebild.evaluate.quotes import (
    Tally,
    TokenMap,
    attribution_nlp,
    evaluate_quotes,
    gold_quotes,
    load_split,
    record_quotes,
    score_document,
)
from lagebild.extract import attribution as attr
from lagebild.extract import (
    morph,  # noqa: F401  (registers the sentence and morph components)
    speakers,
)
from lagebild.resources import model_path

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "quotes_wikinews"
RESULTS = Path(__file__).resolve().parents[1] / "results" / "attribution.json"


def base_nlp() -> spacy.language.Language:
    nlp = spacy.blank("de")
    nlp.add_pipe("lagebild_sentences")
    nlp.add_pipe("lagebild_morph")
    return nlp


def gold_labels(doc, item: dict) -> list[str]:
    """BIO labels for our tokens from the gold character spans."""
    n = len(doc)
    role = ["O"] * n
    begin = [False] * n
    starts = [t.idx for t in doc]
    ends = [t.idx + len(t) for t in doc]

    def mark(spans: list[dict], letter: str, prio: dict[str, int]) -> None:
        for sp in spans:
            a, b = sp["charBegin"], sp["charEnd"]
            first = True
            for k in range(n):
                if starts[k] < b and a < ends[k]:
                    if prio[letter] >= prio[role[k]]:
                        role[k] = letter
                        begin[k] = first
                    first = False

    prio = {"O": 0, "Q": 1, "S": 2, "C": 3}
    for ann in item["annotations"]:
        if not ann["isNested"]:
            mark(ann["quote"]["spans"], "Q", prio)
    for ann in item["annotations"]:
        mark(ann["speaker"]["spans"], "S", prio)
        mark(ann["cue"]["spans"], "C", prio)
    labels = []
    for k in range(n):
        if role[k] == "O":
            labels.append("O")
        elif begin[k] or k == 0 or role[k - 1] != role[k]:
            labels.append("B-" + role[k])
        else:
            labels.append("I-" + role[k])
    return labels


@dataclass
class Prepared:
    item: dict
    doc: object
    facts: object
    rules: list
    x1: list[list[str]]
    y1: list[str]


def prepare(items: list[dict], nlp) -> list[Prepared]:
    out = []
    for item in items:
        doc = nlp(item["originalText"])
        doc._.lb_entities = []
        facts = attr.token_facts(doc)
        rules = attr.rule_statements(doc, facts)
        out.append(Prepared(item, doc, facts, rules, attr.token_features(doc, facts, rules),
                            gold_labels(doc, item)))
    return out


def train(data: list[tuple[list[list[str]], list[str]]], path: Path, c1: float, c2: float,
          iterations: int) -> float:
    trainer = pycrfsuite.Trainer(verbose=False)
    for x, y in data:
        trainer.append(x, y)
    trainer.set_params({
        "c1": c1,
        "c2": c2,
        "max_iterations": iterations,
        "feature.possible_transitions": True,
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    trainer.train(str(path))
    return time.perf_counter() - t0


def _token_range(doc, spans: list[dict]) -> set[int]:
    out = set()
    for sp in spans:
        a, b = sp["charBegin"], sp["charEnd"]
        for t in doc:
            if t.idx < b and a < t.idx + len(t):
                out.add(t.i)
    return out


def role_examples(p: Prepared, tags1: list[str]) -> list[tuple[list[list[str]], list[str]]]:
    """Second-stage sequences: one window per gold quote, speaker/cue of that quote tagged."""
    out = []
    lexical = attr._lexical(p.facts, attr.lexicon())
    for ann in p.item["annotations"]:
        if ann["isNested"]:
            continue
        q = _token_range(p.doc, ann["quote"]["spans"])
        if not q:
            continue
        a, b = min(q), max(q) + 1
        positions, feats = attr.role_features(p.doc, p.facts, tags1, p.rules, a, b, lexical)
        spk = _token_range(p.doc, ann["speaker"]["spans"])
        cue = _token_range(p.doc, ann["cue"]["spans"])
        out.append((feats, _role_labels(positions, spk, cue)))
    return out


def _role_labels(positions: list[int], spk: set[int], cue: set[int]) -> list[str]:
    """BIO labels of a speaker-CRF window: cue wins over speaker where they overlap."""
    labels, prev = [], "O"
    for j in positions:
        role = "C" if j in cue else "S" if j in spk else "O"
        labels.append("O" if role == "O" else ("I-" if prev == role else "B-") + role)
        prev = role
    return labels


PREDICTED_WINDOWS = False  # tried: adding them lowered holdout speaker F1 (0.512 -> 0.504)


def predicted_examples(p: Prepared, tags1: list[str]) -> list[tuple[list[list[str]], list[str]]]:
    """Second-stage sequences for the quotes the first stage *predicts* (as at run time):
    labelled with the speaker/cue of the best-overlapping gold quote, or all O."""
    golds = []
    for ann in p.item["annotations"]:
        if not ann["isNested"]:
            q = _token_range(p.doc, ann["quote"]["spans"])
            if q:
                golds.append((q, _token_range(p.doc, ann["speaker"]["spans"]),
                              _token_range(p.doc, ann["cue"]["spans"])))
    out = []
    lexical = attr._lexical(p.facts, attr.lexicon())
    for a, b in attr._split_at_sentences(p.facts, attr._runs(tags1, "Q")):
        run = set(range(a, b))
        best = max(golds, key=lambda g: len(g[0] & run), default=None)
        spk, cue = (best[1], best[2]) if best and best[0] & run else (set(), set())
        positions, feats = attr.role_features(p.doc, p.facts, tags1, p.rules, a, b, lexical)
        out.append((feats, _role_labels(positions, spk, cue)))
    return out


def train_models(prepared: list[Prepared], out_dir: Path, c1: float, c2: float,
                 iterations: int, folds: int = 3, reuse: bool = False) -> dict:
    """Stage 1 on all documents; stage 2 on stage-1 tags from a jackknife (so the second CRF
    sees first-stage errors as they will be at run time); the speaker ranker on the
    statements that jackknifed stage-1 and stage-2 models produce (the same reason).

    `reuse`: keep the jackknife CRFs in `out_dir/jackknife` and reuse all CRFs found there
    (only for experiments that change nothing but the ranker)."""
    t0 = time.perf_counter()
    tags1: list[list[str] | None] = [None] * len(prepared)
    # a private folder per run: parallel runs (a CV grid) must not share model files
    tmp = out_dir / "jackknife" if reuse else Path(tempfile.mkdtemp(prefix="lagebild_attr_"))
    tmp.mkdir(parents=True, exist_ok=True)

    def fit_once(data, path: Path) -> None:
        if not (reuse and path.exists()):
            train(data, path, c1, c2, iterations)

    for k in range(folds):
        fit = [(p.x1, p.y1) for i, p in enumerate(prepared) if i % folds != k]
        fit_once(fit, tmp / f"stage1_{k}.crfsuite")
        tagger = pycrfsuite.Tagger()
        tagger.open(str(tmp / f"stage1_{k}.crfsuite"))
        for i, p in enumerate(prepared):
            if i % folds == k:
                tags1[i] = tagger.tag(p.x1)
        tagger.close()
    fit_once([(p.x1, p.y1) for p in prepared], out_dir / "crf.bin")
    per_doc = [role_examples(p, t) for p, t in zip(prepared, tags1, strict=True)]
    if PREDICTED_WINDOWS:
        for n, (p, t) in enumerate(zip(prepared, tags1, strict=True)):
            per_doc[n] = per_doc[n] + predicted_examples(p, t)
    data2 = [ex for exs in per_doc for ex in exs]
    fit_once(data2, out_dir / "crf_roles.bin")
    info = {"role_windows": len(data2)}
    ranker_file = out_dir / speakers.MODEL_FILE
    if RANKER:
        examples = []
        for k in range(folds):
            fit2 = [ex for i, exs in enumerate(per_doc) if i % folds != k for ex in exs]
            fit_once(fit2, tmp / f"roles_{k}.crfsuite")
            examples += ranker_examples([p for i, p in enumerate(prepared) if i % folds == k],
                                        tmp / f"stage1_{k}.crfsuite", tmp / f"roles_{k}.crfsuite")
        speakers.train(examples, l2=RANKER_L2).to_file(ranker_file)
        info["ranker_statements"] = len(examples)
    elif ranker_file.exists():
        ranker_file.unlink()
    if not reuse:
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()
    speakers.load.cache_clear()
    return {"train_seconds": round(time.perf_counter() - t0, 1), **info}


#: Train (and use) the speaker ranker of `lagebild.extract.speakers`.
RANKER = True
RANKER_L2 = 2.0


def ranker_examples(prepared: list[Prepared], stage1: Path, roles: Path) -> list:
    """(candidate features, label) for every statement the given models produce on these
    documents that overlaps a gold quotation; the label is the best-matching candidate."""
    tagger, role_tagger = pycrfsuite.Tagger(), pycrfsuite.Tagger()
    tagger.open(str(stage1))
    role_tagger.open(str(roles))
    out = []
    saved = attr.SPEAKER_RANKER
    attr.SPEAKER_RANKER = False
    try:
        for p in prepared:
            golds = [(_token_range(p.doc, ann["quote"]["spans"]), _token_range(p.doc, ann["speaker"]["spans"]))
                     for ann in p.item["annotations"]]
            golds = [g for g in golds if g[0]]
            attr._RANK_TRACE = []
            attr.crf_statements(p.doc, p.facts, p.rules, tagger, role_tagger)
            for a, b, cands, groups in attr._RANK_TRACE:
                q = set(range(a, b))
                best = max(golds, key=lambda g: speakers.overlap_f1(q, g[0]), default=None)
                if best is None or not best[0] & q:
                    continue
                label = speakers.label_of(cands, best[1])
                if label is not None:
                    out.append((groups, label))
    finally:
        attr._RANK_TRACE = None
        attr.SPEAKER_RANKER = saved
    tagger.close()
    role_tagger.close()
    return out


#: Decoding switches of the attribution layer that `--cv` can score without retraining.
_DECODING = ("COMBINE_EXTRA", "QUOTE_RECALL", "_SPEAKER_MARGINAL", "CLAUSE_GUARD",
             "DROP_INDICATIVE_CUELESS", "CASE_CHECK", "SPEAKER_RANKER")


def score_with(items: list[dict], nlp, model_dir: Path, roles: bool = True,
               tally: Tally | None = None, dump: list | None = None) -> dict:
    """Score the CRFs from an explicit model folder (for tuning without installing them).
    Pass `tally` to pool several folds into one figure."""
    tagger = pycrfsuite.Tagger()
    tagger.open(str(model_dir / "crf.bin"))
    attr.RANKER_DIR = str(model_dir)
    speakers.load.cache_clear()
    role_tagger = None
    if roles:
        role_tagger = pycrfsuite.Tagger()
        role_tagger.open(str(model_dir / "crf_roles.bin"))
    tally = tally if tally is not None else Tally()
    for item in items:
        doc = nlp(item["originalText"])
        doc._.lb_entities = []
        facts = attr.token_facts(doc)
        rules = attr.rule_statements(doc, facts)
        sts = attr.crf_statements(doc, facts, rules, tagger, role_tagger)
        sts = attr.combine(doc, facts, rules, sts)  # as the shipped layer combines them
        pred = record_quotes(attr._to_schema(doc, sts, facts), TokenMap(item["tokens"]))
        score_document(pred, gold_quotes(item), tally)
        if dump is not None:
            dump.append(_dump_row(item, pred))
    attr.RANKER_DIR = None
    return tally.result()


def _dump_row(item: dict, pred: list) -> dict:
    """One document's predicted and gold quotations as token-id lists (error analysis)."""
    def rows(quotes):
        return [{r: sorted(q.role(r)) for r in ("quote", "speaker", "cue")} for q in quotes]
    return {"id": item.get("id"), "tokens": {t["id"]: t["text"] for t in item["tokens"]},
            "pred": rows(pred), "gold": rows(gold_quotes(item))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--tune", action="store_true")
    ap.add_argument("--cv", type=int, default=0, metavar="K",
                    help="K-fold cross-validation on train (prints pooled F1, writes nothing)")
    ap.add_argument("--recall-grid", type=float, nargs="*", default=[],
                    help="with --cv: also score these QUOTE_RECALL thresholds")
    ap.add_argument("--role-window", type=int, nargs=2, metavar=("BEFORE", "AFTER"),
                    help="tokens before/after a quote for the speaker CRF (experiments)")
    ap.add_argument("--ablate", action="store_true",
                    help="with --cv: also score with each decoding switch turned off")
    ap.add_argument("--marginal-grid", type=float, nargs="*", default=[],
                    help="with --cv: also score these fallback speaker-marginal thresholds")
    ap.add_argument("--dump", type=Path,
                    help="with --cv: write the shipped variant's held-out predictions and gold "
                         "(JSON Lines, one document per line) for error analysis")
    ap.add_argument("--fold-models", type=Path,
                    help="with --cv: keep the fold CRFs here and reuse them on the next run; the "
                         "ranker is always retrained (valid while CRF features are unchanged)")
    ap.add_argument("--no-ranker", action="store_true", help="train no speaker ranker")
    ap.add_argument("--ranker-l2", type=float, default=2.0)
    ap.add_argument("--limit", type=int, help="use only the first N train documents (smoke tests)")
    ap.add_argument("--c1", type=float, default=1.0)
    ap.add_argument("--c2", type=float, default=0.1)
    ap.add_argument("--iterations", type=int, default=250)
    ap.add_argument("--predicted-windows", action="store_true",
                    help="also train the speaker CRF on windows of first-stage predicted quotes")
    args = ap.parse_args(argv)
    attr.WIKINEWS_CONVENTIONS = True  # every figure here is scored on WikiNews
    if args.role_window:
        attr.ROLE_BEFORE, attr.ROLE_AFTER = args.role_window
    global PREDICTED_WINDOWS, RANKER, RANKER_L2
    PREDICTED_WINDOWS = args.predicted_windows
    RANKER, RANKER_L2 = not args.no_ranker, args.ranker_l2
    if not (args.data / "train").exists():
        print(f"no WikiNews data at {args.data}", file=sys.stderr)
        return 1
    nlp = base_nlp()
    train_items = load_split(args.data / "train", args.limit)
    if args.cv:
        # k-fold cross-validation over train: every train document is scored once by
        # models that never saw it. Steadier than the 140-document holdout for choices
        # that move the score by a point or less.
        prepared_all = prepare(train_items, nlp)
        tmp = Path(tempfile.mkdtemp(prefix="lagebild_attr_cv_"))
        # decoding switches scored on the same fold models: the shipped values, then one
        # override at a time
        shipped = {name: getattr(attr, name) for name in _DECODING}
        overrides = [{}, *({"QUOTE_RECALL": t} for t in args.recall_grid),
                     *({"_SPEAKER_MARGINAL": m} for m in args.marginal_grid)]
        if args.ablate:
            overrides += [{"CLAUSE_GUARD": False}, {"DROP_INDICATIVE_CUELESS": False},
                          {"CASE_CHECK": False}, {"SPEAKER_RANKER": False}]
        variants = [{**shipped, **o} for o in overrides]
        tallies = [Tally() for _ in variants]
        rules_tally = Tally()
        dumped: list[dict] = []
        for k in range(args.cv):
            fit = [p for i, p in enumerate(prepared_all) if i % args.cv != k]
            hold = [p.item for i, p in enumerate(prepared_all) if i % args.cv == k]
            fold_dir = tmp
            if args.fold_models:
                # reuse fold models across runs that only change decoding (not features)
                fold_dir = args.fold_models / f"fold{k}of{args.cv}"
                fold_dir.mkdir(parents=True, exist_ok=True)
            train_models(fit, fold_dir, args.c1, args.c2, args.iterations,
                         reuse=bool(args.fold_models))
            for n, (v, tally) in enumerate(zip(variants, tallies, strict=True)):
                for name, value in v.items():
                    setattr(attr, name, value)
                score_with(hold, nlp, fold_dir, True, tally,
                           dumped if args.dump and n == 0 else None)
            for name, value in shipped.items():
                setattr(attr, name, value)
        for p in prepared_all:
            pred = record_quotes(attr.extract_statements(p.doc, use_model=False),
                                 TokenMap(p.item["tokens"]))
            score_document(pred, gold_quotes(p.item), rules_tally)
        if args.dump:
            args.dump.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                         for r in dumped), encoding="utf-8")
        rows = [("rules", rules_tally)] + [
            (f"crf c1={args.c1} c2={args.c2} " + " ".join(f"{n}={v[n]}" for n in _DECODING), t)
            for v, t in zip(variants, tallies, strict=True)]
        for name, t in rows:
            res = t.result()
            print(json.dumps({"cv": args.cv, "system": name,
                              **{r: res[r]["f1"] for r in ("quote", "speaker", "cue", "joint")}}),
                  flush=True)
        return 0
    if args.tune:
        fit, hold = train_items[:-140], train_items[-140:]
        prepared = prepare(fit, nlp)
        tmp = Path(tempfile.mkdtemp(prefix="lagebild_attr_tune_"))
        for c1, c2 in ((args.c1, args.c2),):
            info = train_models(prepared, tmp, c1, c2, args.iterations)
            for roles in (False, True):
                res = score_with(hold, nlp, tmp, roles)
                print(json.dumps({"c1": c1, "c2": c2, "roles": roles, **info,
                                  **{k: res[k]["f1"] for k in ("quote", "speaker", "cue", "joint")}}),
                      flush=True)
        return 0
    t0 = time.perf_counter()
    prepared = prepare(train_items, nlp)
    out_dir = model_path("attribution")
    info = train_models(prepared, out_dir, args.c1, args.c2, args.iterations)
    attr._tagger.cache_clear()
    speakers.load.cache_clear()
    attr.RANKER_DIR = None
    dev = args.data / "dev"
    rules = evaluate_quotes(dev, attribution_nlp(use_model=False))
    combined = evaluate_quotes(dev, attribution_nlp(use_model=True))
    first20 = evaluate_quotes(dev, attribution_nlp(use_model=True), limit=20)
    result = {
        "data": "German WikiNews quotation attribution (Petersen-Frey & Biemann 2024), dev split",
        "metric": "Hungarian pairing by token-overlap F1; role P/R averaged over pairs "
                  "(lagebild.evaluate.quotes)",
        "command": "python training/attribution/train_crf.py",
        "eval_command": "python -m lagebild.evaluate.quotes ../shared/data/quotes_wikinews/dev "
                        "[--rules-only]",
        "crf": {"c1": args.c1, "c2": args.c2, "iterations": args.iterations,
                "train_documents": len(train_items), **info,
                "model_bytes": sum(f.stat().st_size for f in out_dir.iterdir() if f.is_file())},
        "rules_only": rules,
        "rules_plus_crf": combined,
        "rules_plus_crf_first20": first20,
        "total_seconds": round(time.perf_counter() - t0, 1),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: {r: v[r]["f1"] for r in ("quote", "speaker", "cue", "joint")}
                      for k, v in (("rules", rules), ("crf", combined))}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
