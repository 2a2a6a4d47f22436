"""Evaluate the time layer on WikiWarsDE and write training/results/time.json.

Usage: python training/time/eval.py [--data ../shared/data/wikiwarsde] [--out training/results/time.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from lagebild.evaluate.times import evaluate

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "wikiwarsde"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=REPO / "training" / "results" / "time.json")
    args = ap.parse_args()
    t0 = time.perf_counter()
    result = evaluate(args.data)
    result["command"] = "python training/time/eval.py"
    result["corpus"] = "WikiWarsDE (22 Wikipedia war articles, TIMEX2); dev = docs 01-08, test = 09-22"
    result["note"] = (
        "Historical narrative, not news: 'narrative' mode anchors relative expressions on the "
        "last explicit date (the mode to read); 'news' mode anchors on the document creation "
        "time, as the pipeline does for articles. Extents follow TIMEX2 (no prepositions)."
    )
    result["seconds"] = round(time.perf_counter() - t0, 2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
