"""Train and evaluate a small spaCy tagger+parser on UD German; write training/results/parser.json.

    OMP_NUM_THREADS=1 python training/parser/run.py             # convert, train (<= 20 min), evaluate
    OMP_NUM_THREADS=1 python training/parser/run.py --eval-only # evaluate the existing model
    OMP_NUM_THREADS=1 python training/parser/run.py --variant floret  # static-vectors experiment

Data (../shared/data/ud_german): GSD dev is the only UD *training* material here (no GSD
train, no HDT): 90 % of it trains, 10 % (seeded shuffle) selects the checkpoint; GSD test
and PUD test are reported only. Model: training/output/parser/model-best (git-ignored).

Why this exists (issue 3): the events layer guesses subjects with word-order rules. The
question is whether a parser we can train here finds subjects better, so besides UAS/LAS/
UPOS this script measures *subject attachment* on PUD and GSD test for the parser and for
two heuristics on the same gold words:
* `baseline_first_nominal`: the first NOUN/PROPN/PRON before the finite verb in its clause
  (clause = words between punctuation marks; region starts after the previous finite verb);
* `events_style`: closer to `lagebild.extract.events`: only "free" nominals (not inside a
  prepositional phrase), prefield first, else the first free nominal after the finite verb.
Each heuristic runs with gold UPOS + gold finiteness (an upper bound for it) and with
what the pipeline could give it (this tagger's UPOS + `lagebild_morph` Mood as finiteness).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import spacy  # noqa: E402
from spacy.language import Language  # noqa: E402
from spacy.tokens import Doc, DocBin  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import conllu  # noqa: E402

from lagebild.extract import morph as _morph  # noqa: E402,F401  (registers lagebild_morph)

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "training" / "parser"
CONFIG = HERE / "parser.cfg"
OUT = ROOT / "training" / "output" / "parser"
CORPUS = OUT / "corpus"
MODEL = OUT / "model-best"
#: floret vectors built by the NER recipe (training/ner/vectors.py) from the raw news text.
VECTORS = ROOT / "training" / "corpus" / "vectors"
RESULTS = ROOT / "training" / "results" / "parser.json"
SEED = 13
HOLDOUT = 0.1
WALL_CAP_S = 20 * 60
COMMAND = "OMP_NUM_THREADS=1 python training/parser/run.py"


# --------------------------------------------------------------------------- data

def split_dev(sents: list[conllu.Sentence]) -> tuple[list[conllu.Sentence], list[conllu.Sentence]]:
    """Seeded 90/10 split of GSD dev into training and checkpoint-selection sentences."""
    idx = list(range(len(sents)))
    random.Random(SEED).shuffle(idx)
    n_hold = round(len(sents) * HOLDOUT)
    hold = set(idx[:n_hold])
    return ([s for i, s in enumerate(sents) if i not in hold],
            [s for i, s in enumerate(sents) if i in hold])


def convert() -> dict[str, dict[str, int]]:
    """Write the DocBins; return sentence/word counts per part."""
    CORPUS.mkdir(parents=True, exist_ok=True)
    vocab = spacy.blank("de").vocab
    train, hold = split_dev(conllu.load("gsd_dev"))
    parts = {"train": train, "holdout": hold,
             "gsd_test": conllu.load("gsd_test"), "pud_test": conllu.load("pud_test")}
    counts = {}
    for name, sents in parts.items():
        DocBin(attrs=["ORTH", "SPACY", "TAG", "POS", "HEAD", "DEP", "SENT_START"],
               docs=conllu.to_docs(vocab, sents)).to_disk(CORPUS / f"{name}.spacy")
        counts[name] = {"sentences": len(sents), "words": sum(len(s.words) for s in sents)}
    return counts


def train(variant: str) -> dict[str, object]:
    """`spacy train` in a child process, one thread, killed at the wall-time cap.

    model-best is rewritten at every improvement on the holdout, so a killed run still
    leaves the best checkpoint so far (recorded as `stopped_by_wall_cap`).
    """
    out = model_dir(variant).parent
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "spacy", "train", str(CONFIG), "--output", str(out),
           "--paths.train", str(CORPUS / "train.spacy"),
           "--paths.dev", str(CORPUS / "holdout.spacy")]
    if variant == "floret":
        if not (VECTORS / "meta.json").exists():
            raise SystemExit(f"{VECTORS} missing: build it with the NER recipe's vectors step")
        cmd += ["--paths.vectors", str(VECTORS),
                "--components.tok2vec.model.embed.include_static_vectors", "true"]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    t0 = time.perf_counter()
    capped = False
    with (out / "train.log").open("w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            rc = proc.wait(timeout=WALL_CAP_S)
        except subprocess.TimeoutExpired:
            proc.terminate()
            rc = proc.wait()
            capped = True
    if rc != 0 and not capped:
        raise SystemExit(f"spacy train failed ({rc}); see {out / 'train.log'}")
    return {"train_seconds": round(time.perf_counter() - t0, 1), "stopped_by_wall_cap": capped}


def model_dir(variant: str) -> Path:
    """base: the reported model; floret: the static-vectors experiment beside it."""
    return MODEL if variant == "base" else OUT / variant / "model-best"


# --------------------------------------------------------------------------- prediction

def gold_word_docs(nlp: Language, sents: list[conllu.Sentence]) -> list[Doc]:
    """Unannotated Docs on the gold words (scores are given gold tokenisation)."""
    docs = []
    for s in sents:
        doc = Doc(nlp.vocab, words=s.words, spaces=s.spaces)
        docs.append(doc)
    return docs


def parse(nlp: Language, sents: list[conllu.Sentence]) -> list[Doc]:
    docs = gold_word_docs(nlp, sents)
    for _name, proc in nlp.pipeline:
        docs = list(proc.pipe(docs, batch_size=256))
    return docs


def speed(nlp: Language, sents: list[conllu.Sentence], repeats: int = 2) -> dict[str, float]:
    """Words/s of tok2vec+tagger+parser on one thread over the given sentences (best of n).

    Sentences are glued into ~400-word "articles" (about a news article), so the batch
    shapes look like the pipeline's; the tokenizer is excluded.
    """
    articles: list[tuple[list[str], list[bool]]] = []
    words: list[str] = []
    spaces: list[bool] = []
    for s in sents:
        words += s.words
        spaces += s.spaces
        if len(words) >= 400:
            articles.append((words, spaces))
            words, spaces = [], []
    n = sum(len(w) for w, _ in articles)
    best = 0.0
    for _ in range(repeats):
        docs = [Doc(nlp.vocab, words=w, spaces=sp) for w, sp in articles]
        t0 = time.perf_counter()
        for _, proc in nlp.pipeline:
            docs = list(proc.pipe(docs, batch_size=64))
        best = max(best, n / (time.perf_counter() - t0))
    return {"words": n, "articles": len(articles), "words_per_second": round(best),
            "ms_per_400_words": round(400 / best * 1000, 2)}


def parser_subject_pairs(doc: Doc) -> set[tuple[int, int]]:
    return {(t.head.i, t.i) for t in doc if t.dep_ in conllu.NOMINAL_SUBJ}


# --------------------------------------------------------------------------- heuristics

_NOMINAL = frozenset({"NOUN", "PROPN", "PRON"})
_NP_INNER = frozenset({"DET", "ADJ", "NUM", "NOUN", "PROPN"})
_REFLEXIVE = frozenset({"sich"})


def _clauses(words: list[str], upos: list[str]) -> list[tuple[int, int]]:
    """Stretches between punctuation words (the heuristics' notion of a clause)."""
    out, start = [], 0
    for i, p in enumerate(upos):
        if p == "PUNCT":
            if i > start:
                out.append((start, i))
            start = i + 1
    if start < len(words):
        out.append((start, len(words)))
    return out


def _free(upos: list[str], words: list[str], i: int, lo: int) -> bool:
    """Not inside a prepositional phrase: the left scan over DET/ADJ/NUM/nouns stops at no ADP."""
    j = i - 1
    while j >= lo and upos[j] in _NP_INNER:
        j -= 1
    return not (j >= lo and upos[j] == "ADP")


def heuristic_pairs(words: list[str], upos: list[str], finite: list[bool], style: str
                    ) -> set[tuple[int, int]]:
    """(finite verb, subject) guesses of the two word-order heuristics (see module doc)."""
    pairs: set[tuple[int, int]] = set()
    for lo, hi in _clauses(words, upos):
        region = lo
        verbs = [i for i in range(lo, hi) if finite[i]]
        for k, v in enumerate(verbs):
            nxt = verbs[k + 1] if k + 1 < len(verbs) else hi
            if style == "baseline_first_nominal":
                cand = [i for i in range(region, v) if upos[i] in _NOMINAL]
            else:
                cand = [i for i in range(region, v) if upos[i] in _NOMINAL
                        and words[i].lower() not in _REFLEXIVE and _free(upos, words, i, lo)]
                if not cand:
                    cand = [i for i in range(v + 1, nxt) if upos[i] in _NOMINAL
                            and words[i].lower() not in _REFLEXIVE and _free(upos, words, i, v + 1)]
            if cand:
                pairs.add((v, cand[0]))
            region = v + 1
    return pairs


def _gold_finite(feats: str) -> bool:
    return "VerbForm=Fin" in feats or "Mood=" in feats


def subject_eval(nlp: Language, sents: list[conllu.Sentence], docs: list[Doc]
                 ) -> dict[str, object]:
    """Subject attachment of the parser and of the heuristics on one split."""
    morph = spacy.blank("de")
    morph.add_pipe("lagebild_morph")
    mood = morph.get_pipe("lagebild_morph")
    out: dict[str, object] = {
        "gold_subject_pairs": sum(len(conllu.gold_subject_pairs(s)) for s in sents),
        "parser": conllu.subject_scores(sents, [parser_subject_pairs(d) for d in docs]),
    }
    pred_finite: list[list[bool]] = []
    for s in sents:
        d = Doc(morph.vocab, words=s.words, spaces=s.spaces,
                sent_starts=[True] + [False] * (len(s.words) - 1))
        d = mood(d)
        pred_finite.append([bool(t.morph.get("Mood")) for t in d])
    for style in ("baseline_first_nominal", "events_style"):
        gold_in = [heuristic_pairs(s.words, s.upos, [_gold_finite(f) for f in s.feats], style)
                   for s in sents]
        pred_in = [heuristic_pairs(s.words, [t.tag_ for t in d], fin, style)
                   for s, d, fin in zip(sents, docs, pred_finite, strict=True)]
        out[style] = {"gold_upos_gold_finite": conllu.subject_scores(sents, gold_in),
                      "tagger_upos_morph_finite": conllu.subject_scores(sents, pred_in)}
    return out


# --------------------------------------------------------------------------- main

def evaluate_model(model: Path) -> dict[str, object]:
    """All figures of one trained model: holdout at selection, test sets, subjects, speed."""
    nlp = spacy.load(model)
    meta = json.loads((model / "meta.json").read_text())
    res: dict[str, object] = {
        "holdout_scores_at_selection": {k: meta.get("performance", {}).get(k)
                                        for k in ("tag_acc", "dep_uas", "dep_las")},
    }
    for split in ("gsd_test", "pud_test"):
        sents = conllu.load(split)
        docs = parse(nlp, sents)
        res[split] = conllu.attachment_scores(sents, docs)
        res[f"subjects_{split}"] = subject_eval(nlp, sents, docs)
        print(model, split, json.dumps(res[split]), flush=True)
    speed_sents = conllu.load("pud_test") + conllu.load("gsd_test")
    res["speed_one_thread"] = speed(nlp, speed_sents)
    # What a heuristic that needs UPOS would pay: the same model without the parser.
    with nlp.select_pipes(disable=["parser"]):
        res["speed_one_thread_tagger_only"] = speed(nlp, speed_sents)
    print("speed", res["speed_one_thread"], res["speed_one_thread_tagger_only"], flush=True)
    return res


def results(variant: str, counts: dict[str, dict[str, int]] | None,
            train_info: dict[str, object] | None) -> dict[str, object]:
    """parser.json: the base model's figures on top, the vectors experiment under
    `experiments`; parts not rerun this time are kept from the previous file."""
    prev = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    res: dict[str, object] = dict(prev)
    res.update({
        "command": COMMAND,
        "config": "training/parser/parser.cfg",
        "model": "training/output/parser/model-best (not shipped)",
        "architecture": "spaCy tok2vec (MultiHashEmbed NORM/PREFIX/SUFFIX/SHAPE + "
                        "MaxoutWindowEncoder width 96 depth 4, no vectors) + tagger (UPOS) + "
                        "transition parser (hidden 128)",
        "metric_notes": "gold tokenisation (UD syntactic words); UAS/LAS exclude gold PUNCT "
                        "words (CoNLL 2018), las_with_punct includes them; UPOS over all words; "
                        "subject attachment: P/R/F1 of (predicate, subject) pairs for nsubj and "
                        "nsubj:pass, 'strict' = same head word, 'clause' = head within the gold "
                        "head's verbal complex (head + aux/aux:pass/cop children)",
    })
    if counts is not None:
        res["data"] = counts
    block = evaluate_model(model_dir(variant))
    if variant == "base":
        if train_info is not None:
            res["training"] = train_info
        res.update(block)
    else:
        exps = dict(res.get("experiments") or {})
        exps[f"{variant}_vectors"] = {
            "command": f"{COMMAND} --variant {variant}",
            "change": "tok2vec include_static_vectors = true, paths.vectors = "
                      "training/corpus/vectors (floret, 50k rows x 100, built by the NER "
                      "recipe from the raw news text in ../shared)",
            "model": f"training/output/parser/{variant}/model-best",
            "training": train_info or (exps.get(f"{variant}_vectors") or {}).get("training"),
            **block,
        }
        res["experiments"] = exps
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval-only", action="store_true", help="evaluate the existing model")
    ap.add_argument("--variant", choices=("base", "floret"), default="base",
                    help="base (reported) or the floret static-vectors experiment")
    args = ap.parse_args()
    counts = train_info = None
    if not args.eval_only:
        counts = convert()
        print("data", counts, flush=True)
        train_info = train(args.variant)
        print("trained", train_info, flush=True)
    res = results(args.variant, counts, train_info)
    RESULTS.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n")
    print("wrote", RESULTS)


if __name__ == "__main__":
    main()
