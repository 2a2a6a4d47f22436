"""Convert GermEval 2014 (outer level) into spaCy DocBins and plain BIO files.

Why: training, selection and the official metric must all see the *same* gold spans.
We read the three GermEval files once, normalise the labels to the canonical GermEval
spelling (PER, LOC, ORG, OTH and their `deriv`/`part` variants, e.g. `LOCderiv`), and
write `training/corpus/{train,dev,test}.spacy` (one Doc per sentence, tokens as given)
plus `{split}.bio` (token TAB BIO-label, blank line between sentences) for the CRF.

It also writes `training/corpus/raw.txt`, the unlabelled text for the static vectors:
raw German sentences from ../shared (rawtext, 10kGNAD, WikiNews quotes *train*,
Redewiedergabe) plus the GermEval *train* tokens, never dev/test.

Usage: python training/ner/convert.py [--shared PATH]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SHARED = ROOT.parent / "shared"
CORPUS = ROOT / "training" / "corpus"

#: upper-cased training labels -> canonical GermEval label names
CANON = {
    "PER": "PER",
    "LOC": "LOC",
    "ORG": "ORG",
    "OTH": "OTH",
    **{
        f"{t}{s.upper()}": f"{t}{s}"
        for t in ("PER", "LOC", "ORG", "OTH")
        for s in ("deriv", "part")
    },
    **{
        f"{t}-{s.upper()}": f"{t}{s}"
        for t in ("PER", "LOC", "ORG", "OTH")
        for s in ("deriv", "part")
    },
}
LABELS = tuple(sorted(set(CANON.values())))

Sentence = tuple[list[str], list[str]]  # tokens, BIO tags (canonical labels)


def canon(label: str) -> str:
    """Canonical label for any spelling found in the files (LOCDERIV, LOC-DERIV, LOCderiv)."""
    key = label.upper()
    if key not in CANON:
        raise ValueError(f"unknown GermEval label {label!r}")
    return CANON[key]


def bioes_to_bio(tag: str) -> str:
    if tag == "O":
        return "O"
    prefix, label = tag.split("-", 1)
    return ("B-" if prefix in ("B", "S") else "I-") + canon(label)


def read_train(path: Path) -> Iterator[Sentence]:
    """The `token LABEL` BIOES file (blank line between sentences)."""
    tokens: list[str] = []
    tags: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if not parts:
                if tokens:
                    yield tokens, tags
                tokens, tags = [], []
                continue
            tokens.append(parts[0])
            tags.append(bioes_to_bio(parts[-1]))
    if tokens:
        yield tokens, tags


def read_tsv(path: Path) -> Iterator[Sentence]:
    """The original GermEval TSV: `#` source lines, then id, token, outer, inner."""
    tokens: list[str] = []
    tags: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line.startswith("#\t") or line.startswith("# "):
                continue
            if not line.strip():
                if tokens:
                    yield tokens, tags
                tokens, tags = [], []
                continue
            cols = line.split("\t")
            tokens.append(cols[1])
            tag = cols[2]
            tags.append("O" if tag == "O" else f"{tag[:2]}{canon(tag[2:])}")
    if tokens:
        yield tokens, tags


def spans_from_bio(tags: list[str]) -> list[tuple[int, int, str]]:
    """(start, end, label) chunks, conlleval semantics (an I- after O or another type starts a chunk)."""
    spans: list[tuple[int, int, str]] = []
    start = -1
    label = ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, lab = tag.partition("-")
        if start >= 0 and (prefix != "I" or lab != label):
            spans.append((start, i, label))
            start = -1
        if prefix == "B" or (prefix == "I" and start < 0):
            start, label = i, lab
    return spans


def load_splits(shared: Path) -> dict[str, list[Sentence]]:
    ge = shared / "data" / "germeval2014"
    return {
        "train": list(read_train(ge / "NER-de-train.outer-bioes.txt")),
        "dev": list(read_tsv(ge / "NER-de-dev.tsv")),
        "test": list(read_tsv(ge / "NER-de-test.tsv")),
    }


def write_docbin(sents: list[Sentence], path: Path) -> None:
    import spacy
    from spacy.tokens import Doc, DocBin, Span

    vocab = spacy.blank("de").vocab
    db = DocBin(store_user_data=False)
    for tokens, tags in sents:
        doc = Doc(vocab, words=tokens)
        doc.ents = [Span(doc, s, e, label=lab) for s, e, lab in spans_from_bio(tags)]
        db.add(doc)
    db.to_disk(path)


def write_bio(sents: list[Sentence], path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for tokens, tags in sents:
            fh.writelines(f"{t}\t{g}\n" for t, g in zip(tokens, tags, strict=True))
            fh.write("\n")


_WS = re.compile(r"\s+")


def raw_sentences(shared: Path, train: list[Sentence], with_nc: bool = False) -> Iterator[str]:
    """Unlabelled German text for vectors. Only GermEval *train* - never dev/test.

    By default only CC BY / public-domain text (GermEval train, Leipzig, Bundestag), so
    the shipped vectors carry no non-commercial licence; `with_nc` adds 10kGNAD,
    WikiNews quotes (train) and Redewiedergabe (all CC BY-NC-SA).
    """
    data = shared / "data"
    for tokens, _ in train:
        yield " ".join(tokens)
    for path in sorted((data / "rawtext").glob("*.txt")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                text = line.rstrip("\n")
                if "\t" in text and text.split("\t", 1)[0].isdigit():
                    text = text.split("\t", 1)[1]
                if text.strip():
                    yield text
    if not with_nc:
        return
    gnad = data / "10kgnad" / "test.csv"
    if gnad.exists():
        with gnad.open(encoding="utf-8") as fh:
            for row in csv.reader(fh, delimiter=";", quotechar="'"):
                if len(row) >= 2:
                    yield row[1]
    for path in sorted((data / "quotes_wikinews" / "train").glob("*.json")):
        with path.open(encoding="utf-8") as fh:
            text = json.load(fh).get("originalText", "")
        yield from (p for p in text.split("\n") if p.strip())
    for path in sorted((data / "redewiedergabe").glob("rwk_*.tsv")):
        words: list[str] = []
        with path.open(encoding="utf-8") as fh:
            next(fh, None)
            for line in fh:
                cols = line.split("\t")
                if len(cols) > 5 and cols[5] == "yes" and words:
                    yield " ".join(words)
                    words = []
                if cols and cols[0].strip():
                    words.append(cols[0])
        if words:
            yield " ".join(words)


def write_raw(shared: Path, train: list[Sentence], path: Path, with_nc: bool = False) -> int:
    """Tokenise with the same blank German tokenizer the pipeline uses; one line per text."""
    import spacy

    tok = spacy.blank("de").tokenizer
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for text in raw_sentences(shared, train, with_nc):
            words = [t.text for t in tok(_WS.sub(" ", text).strip()) if not t.is_space]
            if words:
                fh.write(" ".join(words) + "\n")
                n += len(words)
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--no-raw", action="store_true", help="skip the raw text for vectors")
    ap.add_argument(
        "--with-nc", action="store_true", help="add CC BY-NC-SA text to the vector corpus"
    )
    args = ap.parse_args(argv)
    CORPUS.mkdir(parents=True, exist_ok=True)
    splits = load_splits(args.shared)
    for name, sents in splits.items():
        write_docbin(sents, CORPUS / f"{name}.spacy")
        write_bio(sents, CORPUS / f"{name}.bio")
        n_ents = sum(len(spans_from_bio(t)) for _, t in sents)
        print(f"{name}: {len(sents)} sentences, {n_ents} entities", file=sys.stderr)
    if not args.no_raw:
        n = write_raw(args.shared, splits["train"], CORPUS / "raw.txt", args.with_nc)
        print(f"raw.txt: {n} tokens", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
