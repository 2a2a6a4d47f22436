"""Time the attribution component alone (rules, and rules + CRFs) on WikiNews dev articles.

    python training/attribution/speed.py [N_DOCS]

The layers before it (sentences, morph) run first and are not timed, so the figure is the
attribution layer's own cost, in milliseconds per 400 words (the project's speed budget
is < 20 ms per 400-word article).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from lagebild.evaluate.quotes import attribution_nlp, load_split

DEV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "quotes_wikinews" / "dev"


def ms_per_400_words(use_model: bool, limit: int) -> float:
    nlp = attribution_nlp(use_model=use_model)
    docs = [nlp.make_doc(item["originalText"]) for item in load_split(DEV, limit=limit)]
    before = [pipe for name, pipe in nlp.pipeline if "attribution" not in name]
    layer = next(pipe for name, pipe in nlp.pipeline if "attribution" in name)
    for doc in docs:
        for pipe in before:
            pipe(doc)
    layer(docs[0])  # load the models outside the timing
    words = sum(1 for doc in docs for tok in doc if tok.is_alpha)
    t0 = time.perf_counter()
    for doc in docs:
        layer(doc)
    return (time.perf_counter() - t0) / words * 400 * 1000


def main() -> int:
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 80
    for use_model in (False, True):
        label = "rules + CRFs" if use_model else "rules only"
        print(f"{label}: {ms_per_400_words(use_model, limit):.1f} ms per 400 words")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
