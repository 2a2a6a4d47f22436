"""One command for the whole NER recipe: data -> vectors -> train -> ship -> evaluate.

    python training/ner/run.py                      # shipped: floret vectors + CRF + BiLSTM-CRF
                                                    # ensemble (~80 min, 1 core; PyTorch for training)
    python training/ner/run.py --no-ensemble        # the CRF alone (~20 min)
    python training/ner/run.py --method spacy       # the spaCy CNN alternative (configs/*.cfg)
    python training/ner/run.py --skip-convert --skip-vectors   # retrain only
    python training/ner/run.py --stack              # + the second-stage CRF (tried, not shipped; ~75 min)

Why one script: `make train-ner` must rebuild the shipped model and its figures
exactly, with single-threaded, seeded steps, so the numbers in
training/results/ner.json always belong to the model in src/lagebild/models/ner/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUTPUT = ROOT / "training" / "output"
SHIP = ROOT / "src" / "lagebild" / "models" / "ner"
RESULTS = ROOT / "training" / "results" / "ner.json"
BILSTM_RESULTS = ROOT / "training" / "results" / "ner_bilstm.json"  # the ensemble's 2nd member alone
BILSTM_SEED, BILSTM_EPOCHS = 13, 40  # the shipped member: 40 epochs run, dev picks the best
DEFAULT_CONFIG = HERE / "configs" / "ner_floret.cfg"

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def sh(*args: str) -> None:
    print("+", " ".join(args), file=sys.stderr, flush=True)
    subprocess.run(list(args), check=True, cwd=ROOT, env=ENV)


def ship(model_dir: Path, name: str) -> None:
    """Copy the best checkpoint into the package, with a meta that says what it is."""
    if SHIP.exists():
        shutil.rmtree(SHIP)
    shutil.copytree(model_dir, SHIP)
    meta_path = SHIP / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta.update(
        {
            "name": "lagebild_ner_germeval",
            "version": "0.1.0",
            "description": f"GermEval 2014 outer-level NER (12 labels), recipe {name}"
            + (" + BiLSTM-CRF ensemble (numpy)" if (model_dir / "ner" / "bilstm.npz").exists()
               else "")
            + "; see training/ner/MODEL_CARD_NER.md",
            "license": "CC BY 4.0 (GermEval 2014 annotations, incl. the entity gazetteer mined "
            "from them; floret vectors and word clusters from Leipzig CC BY 4.0 and Bundestag "
            "public-domain text; lexicon, compound-head and form classes looked up in "
            "simplemma, MIT, at run time)",
            "author": "Lagebild",
            "sources": [
                {
                    "name": "GermEval 2014 NER",
                    "url": "https://sites.google.com/site/germeval2014ner/",
                    "license": "CC BY 4.0",
                }
            ],
        }
    )
    meta.pop("performance", None)
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", choices=("crf", "spacy"), default="crf")
    ap.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG, help="spaCy config (--method spacy)"
    )
    ap.add_argument("--skip-convert", action="store_true")
    ap.add_argument("--skip-vectors", action="store_true")
    ap.add_argument("--skip-train", action="store_true", help="ship + evaluate an existing run")
    ap.add_argument(
        "--no-ship", action="store_true", help="train and evaluate, leave the package alone"
    )
    ap.add_argument(
        "--stack",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="add the second-stage CRF over jackknifed stage-1 output (train_stack.py; "
        "tried and not shipped: see MODEL_CARD_NER.md)",
    )
    ap.add_argument("--stack-folds", type=int, default=4, help="stage-1 jackknife folds")
    ap.add_argument(
        "--ensemble",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="train the BiLSTM-CRF (train_bilstm.py, PyTorch) and ship it with the CRF "
        "(export_bilstm.py: numpy at run time, weight chosen on dev)",
    )
    ap.add_argument("--hidden", type=int, default=64, help="BiLSTM units per direction")
    args = ap.parse_args(argv)
    py = sys.executable
    name = args.config.stem if args.method == "spacy" else "ner_crf"
    out = OUTPUT / name
    if not args.skip_convert:
        sh(py, str(HERE / "convert.py"))
    if not args.skip_vectors:
        sh(py, str(HERE / "vectors.py"))
    if not args.skip_train and args.method == "spacy":
        sh(py, "-m", "spacy", "train", str(args.config), "--output", str(out))
    elif not args.skip_train:
        sh(py, str(HERE / "train_crf.py"), "--verbose", "--out", str(out / "model-best"))
    model = out / "model-best"
    if args.method == "crf" and args.stack:
        name = "ner_crf_stack"
        stacked = OUTPUT / name / "model-best"
        if not args.skip_train:
            # the work dir caches stage-1 outputs; a fresh stage 1 needs a fresh cache
            shutil.rmtree(OUTPUT / name / "work", ignore_errors=True)
            sh(
                py,
                str(HERE / "train_stack.py"),
                "--stage1",
                str(model),
                "--folds",
                str(args.stack_folds),
                "--work",
                str(OUTPUT / name / "work"),
                "--out",
                str(stacked),
            )
        model = stacked
    if args.method == "crf" and args.ensemble and not args.stack:
        bilstm = OUTPUT / f"bilstm{args.hidden}"
        if not args.skip_train:
            # the shipped run's settings, with a fixed epoch count instead of its wall-clock
            # budget, so the same checkpoint comes out on any machine
            sh(py, str(HERE / "train_bilstm.py"), "--hidden", str(args.hidden), "--lexicon",
               "--seed", str(BILSTM_SEED), "--max-epochs", str(BILSTM_EPOCHS),
               "--patience", str(BILSTM_EPOCHS), "--time-budget", "1e9",
               "--out", str(bilstm), "--results", str(BILSTM_RESULTS))
        sh(py, str(HERE / "export_bilstm.py"), "--bilstm", str(bilstm),
           "--crf", str(model), "--out", str(model))
    if not args.no_ship:
        ship(model, name)
        model = SHIP
    command = "python training/ner/run.py"
    if args.method == "crf" and args.stack:
        command += " --stack"
    elif args.method == "crf" and not args.ensemble:
        command += " --no-ensemble"
    if args.method == "spacy":
        command += f" --method spacy --config {args.config.relative_to(ROOT)}"
    sh(
        py,
        str(HERE / "evaluate.py"),
        "--model",
        str(model),
        "--out",
        str(RESULTS if not args.no_ship else OUTPUT / name / "scores.json"),
        "--command",
        command,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
