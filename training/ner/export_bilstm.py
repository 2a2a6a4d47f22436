"""Ship the NER ensemble: the CRF pipeline plus the BiLSTM-CRF, run in numpy.

Why a separate step: `train_bilstm.py` trains with PyTorch, but the shipped component
runs the model in numpy (`lagebild.extract.ner_bilstm`). This script converts the
PyTorch weights, checks that the numpy forward pass gives the PyTorch emissions on dev
sentences (float16 storage included), picks the ensemble weight on GermEval *dev*
(test is never looked at here) and writes the CRF pipeline directory with the
ensemble switched on.

Usage: python training/ner/export_bilstm.py [--bilstm training/output/bilstm]
           [--crf src/lagebild/models/ner] [--out src/lagebild/models/ner]
           [--weights 0.4,0.5,0.6]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402
from convert import DEFAULT_SHARED, load_splits, spans_from_bio  # noqa: E402
from evaluate import predict, score  # noqa: E402

from lagebild.extract.ner_bilstm import BiLSTMTagger  # noqa: E402

VECTORS = ROOT / "training" / "corpus" / "vectors"


def load_numpy_tagger(bilstm_dir: Path, vectors_dir: Path) -> BiLSTMTagger:
    """The trained PyTorch model as a `BiLSTMTagger` (weights rounded to float16, as shipped)."""
    import spacy
    import torch

    state = torch.load(bilstm_dir / "model.pt", map_location="cpu")
    params = {
        k: v.numpy().astype(np.float16).astype(np.float32)
        for k, v in state.items()
        if not k.endswith("_mask")
    }
    vocab = json.loads((bilstm_dir / "vocab.json").read_text(encoding="utf-8"))
    vectors = spacy.load(vectors_dir).vocab.vectors
    vectors.data = vectors.data.astype(np.float16).astype(np.float32)
    return BiLSTMTagger(params, vocab["words"], vocab["chars"], vocab["tags"], vectors)


def check_against_torch(tagger: BiLSTMTagger, bilstm_dir: Path, sents: list[list[str]]) -> float:
    """Largest absolute difference between numpy and PyTorch emissions on `sents`."""
    import floret
    import torch
    import train_bilstm as tb

    torch.set_num_threads(1)
    vocab = tb.Vocab.from_json(json.loads((bilstm_dir / "vocab.json").read_text("utf-8")))
    cfg = json.loads((bilstm_dir / "config.json").read_text(encoding="utf-8"))
    ft = floret.load_model(str(tb.FLORET))
    lexicon = bool(cfg.get("lexicon", False))
    heads = lexicon and bool(cfg.get("heads", False))
    forms = heads and bool(cfg.get("forms", False))
    model = tb.Tagger(vocab, vec_dim=ft.get_dimension(), hidden=cfg["hidden"], lexicon=lexicon,
                      heads=heads, forms=forms)
    model.load_state_dict(torch.load(bilstm_dir / "model.pt", map_location="cpu"))
    model.eval()
    data = tb.Featurized(sents, vocab, ft, lexicon=lexicon, heads=heads, forms=forms)
    ours = tagger.emissions(sents)
    worst = 0.0
    with torch.no_grad():
        b = data.batch(list(range(len(sents))))
        em = model.emissions(b).numpy()
    for j, s in enumerate(sents):
        worst = max(worst, float(np.abs(em[j, : len(s)] - ours[j]).max()))
    return worst


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bilstm", type=Path, default=ROOT / "training" / "output" / "bilstm")
    ap.add_argument("--crf", type=Path, default=ROOT / "src" / "lagebild" / "models" / "ner")
    ap.add_argument("--out", type=Path, default=ROOT / "src" / "lagebild" / "models" / "ner")
    ap.add_argument("--vectors", type=Path, default=VECTORS)
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--weights", default="0.3,0.4,0.5,0.6,0.7", help="CRF weights tried on dev")
    ap.add_argument("--skip-check", action="store_true", help="no PyTorch comparison")
    args = ap.parse_args(argv)

    import spacy

    import lagebild.extract.ner_crf  # noqa: F401  (registers the factory)

    tagger = load_numpy_tagger(args.bilstm, args.vectors)
    dev = load_splits(args.shared)["dev"]
    if not args.skip_check:
        worst = check_against_torch(tagger, args.bilstm, [t for t, _ in dev[:200]])
        print(f"numpy vs PyTorch emissions, 200 dev sentences: max |diff| {worst:.4f}",
              file=sys.stderr)
        if worst > 0.05:
            raise SystemExit("numpy forward pass disagrees with PyTorch")
    nlp = spacy.load(args.crf)
    comp = nlp.get_pipe("ner")
    gold = [spans_from_bio(tags) for _, tags in dev]
    best = (-1.0, 0.0)
    for w in (float(x) for x in args.weights.split(",")):
        comp.set_ensemble(tagger, w)
        f1 = score(gold, predict(nlp, dev))["micro"]["f1"]
        print(f"CRF weight {w}: dev F1 {f1:.4f}", file=sys.stderr)
        best = max(best, (f1, w))
    print(f"chosen CRF weight {best[1]} (dev F1 {best[0]:.4f})", file=sys.stderr)
    # a fresh pipeline: the one above has the dev sentences' strings in its vocab
    nlp = spacy.load(args.crf)
    nlp.get_pipe("ner").set_ensemble(tagger, best[1])
    nlp.to_disk(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
