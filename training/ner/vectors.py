"""Train small floret vectors on `training/corpus/raw.txt` and convert them for spaCy.

Why floret: its hashed subword table gives every token a vector (no OOV), which
matters for German compounds and unseen names, and its size is fixed by the bucket
count (50k x 100 floats = 20 MB) whatever the vocabulary, so the shipped model stays
small. The raw text holds no GermEval dev/test sentence (see convert.py).

Usage: python training/ner/vectors.py [--dim 100 --bucket 50000 --epoch 10]
Writes training/corpus/floret.floret (text) and training/corpus/vectors/ (spaCy vectors).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "training" / "corpus"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--bucket", type=int, default=50000)
    ap.add_argument("--epoch", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)

    import floret

    model = floret.train_unsupervised(
        str(CORPUS / "raw.txt"),
        model="skipgram",
        mode="floret",
        hashCount=2,
        bucket=args.bucket,
        minn=4,
        maxn=5,
        minCount=3,
        dim=args.dim,
        epoch=args.epoch,
        thread=args.threads,
    )
    out = CORPUS / "floret.floret"
    model.save_floret_vectors(str(out))
    model.save_model(str(CORPUS / "floret.bin"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "spacy",
            "init",
            "vectors",
            "de",
            str(out),
            str(CORPUS / "vectors"),
            "--mode",
            "floret",
        ],
        check=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
