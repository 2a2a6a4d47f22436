"""How much of the unmarked speech in 10kGNAD the attribution layer covers.

    python training/attribution/unmarked_probe.py [--articles 120]

10kGNAD (`../shared/data/10kgnad/test.csv`) removed every quotation mark from its texts,
so direct speech there reads "Wir sind zufrieden, sagte X." The data set has no speech
annotation; this probe counts the sentences of that one unambiguous form (a clause, a
comma, then *sagte / so / erklärte / betonte / meinte* and the speaker) and how many of
them overlap a statement of the shipped layer and of the rules alone. It is a recall
check on one pattern, not a quality score.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from lagebild.evaluate.quotes import attribution_nlp  # noqa: E402

PATTERN = re.compile(r"[^.!?]*, (?:sagte|so|erklärte|betonte|meinte)\b[^.!?]*[.!?]")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--articles", type=int, default=120)
    args = ap.parse_args(argv)
    path = args.shared / "data" / "10kgnad" / "test.csv"
    if not path.exists():
        print(f"{path} not found", file=sys.stderr)
        return 1
    layer, rules = attribution_nlp(use_model=True), attribution_nlp(use_model=False)
    total = covered = covered_rules = 0
    with path.open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= args.articles:
                break
            text = line.partition(";")[2].strip().strip("'")
            spans = [m.span() for m in PATTERN.finditer(text)]
            if not spans:
                continue
            for name, nlp in (("layer", layer), ("rules", rules)):
                sts = nlp(text)._.lb_statements
                hits = sum(any(s.content.start < b and a < s.content.end for s in sts) for a, b in spans)
                if name == "layer":
                    covered += hits
                else:
                    covered_rules += hits
            total += len(spans)
    print(json.dumps({"articles": args.articles, "sentences": total, "layer": covered,
                      "rules": covered_rules}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
