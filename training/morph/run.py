"""Evaluate (and, for the experiments, train) the morph layer on UD German.

    python training/morph/run.py            # everything, ~5 min on one core
    python training/morph/run.py --no-tagger  # skip the spaCy tagger experiment

Writes training/results/morph.json. Deterministic: fixed seeds, fixed epoch counts, no
parallelism. Data: GSD dev (development, training of the experiments), GSD test and PUD
test (reported only), read from ../shared/data/ud_german.

What is measured:
1. Konjunktiv (Mood=Sub) P/R/F1 over all words with the shipped rules, and mood accuracy
   on the gold finite verbs.
2. A logistic-regression re-scorer of the rule candidates (trained on GSD dev, C chosen by
   5-fold cross-validation on dev) — shipped only if it beats the rules on dev CV.
3. Sentence-boundary F1 of `lagebild_sentences` on the `# text` lines joined with spaces.
4. A small spaCy morphologizer (UPOS+features) trained on GSD dev: UPOS, Mood and
   Konjunktiv scores on test/PUD and its speed.
5. Lemma accuracy of simplemma (the shipped lemmatizer) and HanTa vs UD lemmas; speeds.
6. Speed of the two shipped components on 400-word news articles.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import spacy
from scipy.optimize import minimize
from spacy.language import Language
from spacy.tokens import Doc

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ud  # noqa: E402

from lagebild.extract import morph as morph_mod  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "training" / "results" / "morph.json"
RAW_NEWS = ud.UD_DIR.parent / "rawtext" / "deu_news_2015_10K-sentences.txt"
SPLITS = ("gsd_dev", "gsd_test", "pud_test")


def rules_nlp() -> Language:
    nlp = spacy.blank("de")
    nlp.add_pipe("lagebild_sentences")
    nlp.add_pipe("lagebild_morph")
    return nlp


# --------------------------------------------------------------------------- 2. re-scorer

_PRON3 = {"er", "sie", "es", "man", "Er", "Sie", "Es", "Man"}


def candidate_features(doc: Doc, i: int) -> list[str]:
    """Features of a rule candidate: the rule's answer plus form and clause context."""
    tok = doc[i]
    low = tok.text.lower()
    mood = tok.morph.get("Mood")
    tense = tok.morph.get("Tense")
    left = doc[i - 1].text.lower() if i > 0 else "<s>"
    right = doc[i + 1].text.lower() if i + 1 < len(doc) else "</s>"
    words = {t.text.lower() for t in doc}
    feats = [
        "bias",
        f"rule={mood[0] if mood else '-'}{tense[0] if tense else ''}",
        f"form={low}",
        f"suf2={low[-2:]}",
        f"suf3={low[-3:]}",
        f"left={left}",
        f"right={right}",
        f"first={i == 0}",
        f"cap={tok.text[:1].isupper()}",
        f"ich={'ich' in words}",
        f"dass={bool(words & {'dass', 'daß'})}",
        f"pron3_left={doc[i - 1].text in _PRON3 if i > 0 else False}",
        f"pron3_right={right in {'er', 'sie', 'es', 'man'}}",
        f"comma_left={',' in [t.text for t in doc[max(0, i - 3):i]]}",
    ]
    return feats


def candidates(doc: Doc) -> list[int]:
    """Words the rules gave a mood, plus verb-shaped words they left alone."""
    out = []
    for tok in doc:
        low = tok.text.lower()
        if tok.morph.get("Mood") or low in morph_mod._FORMS or morph_mod._form_class(low, tok.lemma_):
            out.append(tok.i)
    return out


def build_rows(nlp: Language, sents: list[ud.Sentence]) -> list[tuple[int, int, list[str], int, bool]]:
    """(sentence idx, word idx, features, gold Sub, rule Sub) for every candidate."""
    morph = nlp.get_pipe("lagebild_morph")
    rows = []
    for si, (s, doc) in enumerate(ud.gold_docs(nlp, sents)):
        doc = morph(doc)
        for i in candidates(doc):
            rows.append((si, i, candidate_features(doc, i), int(s.feats[i].get("Mood") == "Sub"),
                         "Sub" in doc[i].morph.get("Mood")))
    return rows


def gold_sub_total(sents: list[ud.Sentence]) -> int:
    return sum(f.get("Mood") == "Sub" for s in sents for f in s.feats)


class LogReg:
    """L2 logistic regression on binary features, fitted with L-BFGS (scipy).

    Tiny data (about a thousand candidates): deterministic, no extra dependency.
    """

    def __init__(self, c: float, iters: int = 500) -> None:
        self.c, self.iters = c, iters
        self.index: dict[str, int] = {}
        self.w = np.zeros(0)

    def _matrix(self, feats: list[list[str]], grow: bool) -> np.ndarray:
        if grow:
            for fs in feats:
                for f in fs:
                    self.index.setdefault(f, len(self.index))
        x = np.zeros((len(feats), len(self.index)))
        for r, fs in enumerate(feats):
            for f in fs:
                j = self.index.get(f)
                if j is not None:
                    x[r, j] = 1.0
        return x

    def fit(self, feats: list[list[str]], y: list[int]) -> LogReg:
        x = self._matrix(feats, grow=True)
        t = np.array(y, dtype=float)

        def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
            z = x @ w
            p = 1.0 / (1.0 + np.exp(-z))
            nll = float(np.sum(np.logaddexp(0.0, z) - t * z))
            return nll + float(w @ w) / (2 * self.c), x.T @ (p - t) + w / self.c

        res = minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B",
                       options={"maxiter": self.iters})
        self.w = res.x
        return self

    def predict(self, feats: list[list[str]]) -> np.ndarray:
        x = self._matrix(feats, grow=False)
        return 1.0 / (1.0 + np.exp(-(x @ self.w))) >= 0.5


def rows_prf(rows: list, pred: list[bool], total_gold: int) -> dict[str, float | int]:
    tp = sum(1 for r, p in zip(rows, pred, strict=True) if p and r[3])
    fp = sum(1 for r, p in zip(rows, pred, strict=True) if p and not r[3])
    return ud.prf(tp, fp, total_gold - tp)


def rescorer_experiment(nlp: Language, data: dict[str, list[ud.Sentence]]) -> dict[str, object]:
    dev = data["gsd_dev"]
    rows = build_rows(nlp, dev)
    # 5 folds by sentence, deterministic
    folds = [si % 5 for si, *_ in rows]
    cv: dict[str, dict[str, float | int]] = {}
    best_c, best_f = None, -1.0
    n_sent_gold = [f.get("Mood") == "Sub" for s in dev for f in s.feats]
    total = sum(n_sent_gold)
    rule_pred = [r[4] for r in rows]
    cv["rules"] = rows_prf(rows, rule_pred, total)
    for c in (0.3, 1.0, 3.0, 10.0, 30.0, 100.0):
        pred = [False] * len(rows)
        for k in range(5):
            train = [r for r, f in zip(rows, folds, strict=True) if f != k]
            model = LogReg(c).fit([r[2] for r in train], [r[3] for r in train])
            idx = [j for j, f in enumerate(folds) if f == k]
            out = model.predict([rows[j][2] for j in idx])
            for j, p in zip(idx, out, strict=True):
                pred[j] = bool(p)
        cv[f"logreg_C={c}"] = rows_prf(rows, pred, total)
        f1 = float(cv[f"logreg_C={c}"]["f1"])
        if f1 > best_f:
            best_c, best_f = c, f1
    assert best_c is not None
    model = LogReg(best_c).fit([r[2] for r in rows], [r[3] for r in rows])
    held_out = {}
    for split in ("gsd_test", "pud_test"):
        r_rows = build_rows(nlp, data[split])
        pred = [bool(p) for p in model.predict([r[2] for r in r_rows])]
        held_out[split] = {
            "logreg": rows_prf(r_rows, pred, gold_sub_total(data[split])),
            "rules": rows_prf(r_rows, [r[4] for r in r_rows], gold_sub_total(data[split])),
        }
    beats = best_f > float(cv["rules"]["f1"])
    return {
        "candidates_dev": len(rows),
        "dev_5fold_cv": cv,
        "chosen_C": best_c,
        "held_out": held_out,
        "shipped": False,
        "decision": ("logreg beats the rules on dev CV" if beats else
                     "rules are as good or better on dev CV: the re-scorer is not shipped"),
    }


# --------------------------------------------------------------------------- 4. tagger


def _new_tagger() -> Language:
    nlp = spacy.blank("de")
    nlp.add_pipe("morphologizer", config={"model": {
        "@architectures": "spacy.Tagger.v2",
        "tok2vec": {
            "@architectures": "spacy.HashEmbedCNN.v2", "pretrained_vectors": None,
            "width": 96, "depth": 2, "embed_size": 2000, "window_size": 1,
            "maxout_pieces": 3, "subword_features": True,
        },
    }})
    return nlp


def _examples(nlp: Language, sents: list[ud.Sentence]) -> list:
    from spacy.training import Example

    out = []
    for s in sents:
        doc = Doc(nlp.vocab, words=s.words, spaces=s.spaces)
        morphs = ["|".join(f"{k}={v}" for k, v in sorted(f.items())) for f in s.feats]
        out.append(Example.from_dict(doc, {"pos": s.upos, "morphs": morphs}))
    return out


def _train_tagger(sents: list[ud.Sentence], epochs: int,
                  holdout: list[ud.Sentence] | None = None) -> tuple[Language, dict[int, float]]:
    """Train for `epochs`; with a holdout, also return its UPOS accuracy after each epoch."""
    from spacy.util import fix_random_seed

    fix_random_seed(0)
    rng = random.Random(0)
    nlp = _new_tagger()
    train = _examples(nlp, sents)
    optimizer = nlp.initialize(lambda: train)
    curve: dict[int, float] = {}
    for epoch in range(1, epochs + 1):
        rng.shuffle(train)
        for b in range(0, len(train), 16):
            nlp.update(train[b:b + 16], sgd=optimizer, drop=0.1)
        if holdout is not None:
            curve[epoch] = float(_tag_scores(nlp, holdout)["upos_accuracy"])
    return nlp, curve


def _tag_scores(nlp: Language, sents: list[ud.Sentence]) -> dict[str, object]:
    docs = [Doc(nlp.vocab, words=s.words, spaces=s.spaces) for s in sents]
    t0 = time.perf_counter()
    docs = list(nlp.get_pipe("morphologizer").pipe(docs, batch_size=256))
    secs = time.perf_counter() - t0
    n = pos_ok = fin = fin_ok = tp = fp = fn = 0
    for s, doc in zip(sents, docs, strict=True):
        for tok, upos, feats in zip(doc, s.upos, s.feats, strict=True):
            n += 1
            pos_ok += tok.pos_ == upos
            pred_sub = "Sub" in tok.morph.get("Mood")
            gold_sub = feats.get("Mood") == "Sub"
            tp += pred_sub and gold_sub
            fp += pred_sub and not gold_sub
            fn += gold_sub and not pred_sub
            if ud.is_finite(feats):
                fin += 1
                m = tok.morph.get("Mood")
                fin_ok += bool(m) and m[0] == feats.get("Mood", "Ind")
    return {
        "upos_accuracy": round(pos_ok / n, 4),
        "finite_mood_accuracy": round(fin_ok / fin, 4) if fin else 0.0,
        "konjunktiv": ud.prf(tp, fp, fn),
        "words_per_second": round(n / secs),
    }


def tagger_experiment(data: dict[str, list[ud.Sentence]], max_epochs: int = 30
                      ) -> dict[str, object]:
    """A small spaCy tok2vec+morphologizer (UPOS + features) trained on GSD dev only.

    Epochs are chosen on a 10% holdout of dev (every 10th sentence), then the model is
    retrained on all of dev for that many epochs and scored on GSD test and PUD.
    """
    dev = data["gsd_dev"]
    fit = [s for i, s in enumerate(dev) if i % 10]
    hold = [s for i, s in enumerate(dev) if not i % 10]
    _, curve = _train_tagger(fit, max_epochs, hold)
    best = max(curve, key=lambda e: (curve[e], -e))
    t0 = time.perf_counter()
    nlp, _ = _train_tagger(dev, best)
    result: dict[str, object] = {
        "architecture": "spaCy morphologizer, HashEmbedCNN width 96 depth 2, no vectors",
        "holdout_upos_by_epoch": curve,
        "epochs": best,
        "train_seconds": round(time.perf_counter() - t0, 1),
    }
    for split in ("gsd_test", "pud_test"):
        result[split] = _tag_scores(nlp, data[split])
    return result


# --------------------------------------------------------------------------- 5. lemmas


def lemma_accuracy(lemmatize: Callable[[list[str]], list[str]], sents: list[ud.Sentence]
                   ) -> dict[str, float | int]:
    """Accuracy on word tokens (punctuation and numbers excluded), exact and ignoring case."""
    n = exact = nocase = 0
    words = 0
    t0 = time.perf_counter()
    predicted = [lemmatize(s.words) for s in sents]
    secs = time.perf_counter() - t0
    for s, lemmas in zip(sents, predicted, strict=True):
        words += len(s.words)
        for upos, gold, pred in zip(s.upos, s.lemmas, lemmas, strict=True):
            if upos in ("PUNCT", "NUM", "SYM", "X"):
                continue
            n += 1
            exact += pred == gold
            nocase += pred.lower() == gold.lower()
    return {"accuracy": round(exact / n, 4), "accuracy_ignore_case": round(nocase / n, 4),
            "words": n, "words_per_second": round(words / secs)}


def lemma_experiment(data: dict[str, list[ud.Sentence]]) -> dict[str, object]:
    import simplemma

    def simple(words: list[str]) -> list[str]:
        return [simplemma.lemmatize(w, lang="de") if w[:1].isalpha() else w for w in words]

    out: dict[str, object] = {}
    for split in ("gsd_test", "pud_test"):
        out[split] = {"simplemma_uncached": lemma_accuracy(simple, data[split])}
    try:
        from HanTa import HanoverTagger
    except ImportError:  # optional: only measured where installed
        out["hanta"] = "not installed"
        return out
    tagger = HanoverTagger.HanoverTagger("morphmodel_ger.pgz")

    def hanta(words: list[str]) -> list[str]:
        return [lemma for _, lemma, _ in tagger.tag_sent(words, taglevel=1)]

    for split in ("gsd_test", "pud_test"):
        out[split]["hanta"] = lemma_accuracy(hanta, data[split])  # type: ignore[index]
    return out


# --------------------------------------------------------------------------- 6. speed


def speed(nlp: Language) -> dict[str, object]:
    """ms per ~400-word article for the two components (tokenizer excluded), on Leipzig news
    sentences glued into articles: a first pass (caches empty, simplemma's dictionary
    already loaded by a warm-up word) and a second pass over the same articles (warm)."""
    if not RAW_NEWS.exists():
        return {"skipped": f"{RAW_NEWS} absent"}
    sents = [line.split("\t", 1)[1].strip() for line in RAW_NEWS.open(encoding="utf-8")]
    arts, cur, n = [], [], 0
    for s in sents:
        cur.append(s)
        n += len(s.split())
        if n >= 400:
            arts.append(" ".join(cur))
            cur, n = [], 0
    morph_mod.lemma_of.cache_clear()
    morph_mod._form_class.cache_clear()
    nlp("Aufwärmen.")  # loads simplemma's German dictionary: a one-off per process
    out: dict[str, object] = {"articles": len(arts)}
    for run in ("first_pass", "second_pass"):
        docs = [nlp.make_doc(a) for a in arts]
        tokens = sum(len(d) for d in docs)
        t0 = time.perf_counter()
        for d in docs:
            nlp.get_pipe("lagebild_sentences")(d)
        t1 = time.perf_counter()
        for d in docs:
            nlp.get_pipe("lagebild_morph")(d)
        t2 = time.perf_counter()
        out[run] = {
            "tokens_per_article": round(tokens / len(docs)),
            "sentences_ms_per_article": round((t1 - t0) * 1000 / len(docs), 2),
            "morph_ms_per_article": round((t2 - t1) * 1000 / len(docs), 2),
            "tokens_per_second": round(tokens / (t2 - t0)),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-tagger", action="store_true", help="skip the spaCy tagger experiment")
    ap.add_argument("--errors", type=Path, help="write dev error lists to this file")
    args = ap.parse_args()
    data = {split: ud.load(split) for split in SPLITS}
    nlp = rules_nlp()
    results: dict[str, object] = {
        "command": "python training/morph/run.py",
        "data": {split: {"sentences": len(s), "words": sum(len(x.words) for x in s),
                         "gold_mood_sub": gold_sub_total(s)} for split, s in data.items()},
        "konjunktiv_metric": "P/R/F1 of Mood=Sub over all words on gold tokenisation "
                             "(a Sub on a non-verb is a false positive); finite_mood_accuracy: "
                             "gold finite verbs whose predicted Mood equals gold (no prediction = wrong)",
        "sentence_metric": "boundary F1: predicted vs gold sentence starts in the `# text` lines "
                           "joined with one space (offset 0 excluded), spaCy blank 'de' tokenizer",
    }
    results["speed"] = speed(nlp)
    print("speed", json.dumps(results["speed"]), flush=True)
    errors: list[str] = []
    t0 = time.perf_counter()
    results["konjunktiv_rules"] = {
        split: ud.mood_scores(nlp, s, errors if split == "gsd_dev" else None)
        for split, s in data.items()
    }
    results["sentences"] = {
        split: ud.sentence_scores(nlp, s, errors if split == "gsd_dev" else None)
        for split, s in data.items()
    }
    print("rules", json.dumps(results["konjunktiv_rules"]), f"{time.perf_counter() - t0:.1f}s",
          flush=True)
    results["konjunktiv_rescorer"] = rescorer_experiment(nlp, data)
    print("rescorer", json.dumps(results["konjunktiv_rescorer"]), flush=True)
    results["lemmas"] = lemma_experiment(data)
    print("lemmas", json.dumps(results["lemmas"]), flush=True)
    if not args.no_tagger:
        results["spacy_morphologizer"] = tagger_experiment(data)
        print("tagger", json.dumps(results["spacy_morphologizer"]), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.errors:
        args.errors.write_text("\n".join(errors) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
