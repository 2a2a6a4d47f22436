"""Sentences, lemmas and verb mood (Konjunktiv) — the linguistic basis of every layer.

Why rules first: no German UD training split is available here (only GSD dev/test and
PUD), and Konjunktiv I in news is carried by a small closed set of patterns (3rd person
singular in -e: *habe, sei, benötige*; Konjunktiv II *hätte, wäre, würde*). A trained
morphologizer can replace `lagebild_morph` later: consumers only read `token.morph`.
"""

from __future__ import annotations

import re

import simplemma
from spacy.language import Language
from spacy.tokens import Doc, Token

from ..resources import read_tsv

_SENT_END = {".", "!", "?", "…"}
_CLOSING_QUOTES = {"“", "”", "\"", "«", "»", "'", "’", ")"}
_ABBREV = {
    "z.B.", "bzw.", "ca.", "Dr.", "Prof.", "Nr.", "St.", "vgl.", "u.a.", "d.h.", "etc.",
    "Mio.", "Mrd.", "Abs.", "Art.", "Hr.", "Fr.", "Jh.", "v.a.", "usw.", "ggf.", "inkl.",
}
_MONTHS = {
    "Januar", "Jänner", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
    "September", "Oktober", "November", "Dezember",
}


@Language.component("lagebild_sentences")
def sentences(doc: Doc) -> Doc:
    """Rule sentence splitter that keeps closing quotes with their sentence.

    Splits after . ! ? … (plus any closing quote marks) when the next token starts a new
    sentence, and at paragraph breaks; never after abbreviations or ordinal dates
    ("24. Februar").
    """
    n = len(doc)
    if n == 0:
        return doc
    starts = [False] * n
    starts[0] = True
    for i, tok in enumerate(doc):
        if "\n" in tok.text_with_ws and i + 1 < n:
            starts[i + 1] = True
            continue
        if tok.text not in _SENT_END and not (tok.text.endswith(".") and tok.text in _ABBREV):
            continue
        if tok.text in _ABBREV:
            continue
        j = i + 1
        while j < n and doc[j].text in _CLOSING_QUOTES and not doc[j - 1].whitespace_:
            j += 1
        if j >= n:
            break
        nxt = doc[j]
        if nxt.text[:1].isupper() or nxt.text[:1].isdigit() or nxt.text in {"„", "»", "\"", "«", "("}:
            starts[j] = True
    for i, tok in enumerate(doc):
        # "24. Februar" and "3. Liga": an ordinal is tokenised with its period; no split.
        if starts[i] and i > 0 and tok.text in _MONTHS and re.fullmatch(r"\d{1,2}\.", doc[i - 1].text):
            starts[i] = False
        tok.is_sent_start = starts[i]
    return doc


def _mood_forms() -> tuple[frozenset[str], frozenset[str]]:
    rows = read_tsv("mood_forms.tsv")
    sub = frozenset(r["form"] for r in rows if r["mood"] == "Sub")
    ind = frozenset(r["form"] for r in rows if r["mood"] == "Ind")
    return sub, ind


_SUB_FORMS, _IND_FORMS = _mood_forms()
_PRONOUN_1SG = {"ich", "Ich"}


def _lemma(token: Token) -> str:
    text = token.text
    if not text[:1].isalpha():
        return text
    return simplemma.lemmatize(text, lang="de")


def _guess_mood(token: Token, lemma: str) -> str | None:
    """Konjunktiv I/II from form and lemma; None for non-verbs.

    Regular Konjunktiv I 3sg = infinitive stem + e ("benötige" from "benötigen"), which is
    also the indicative 1sg: with "ich" next to it we say indicative.
    """
    low = token.text.lower()
    if low in _SUB_FORMS:
        return "Sub"
    if low in _IND_FORMS:
        return "Ind"
    if not lemma.endswith("en") or lemma[:1].isupper() or len(low) < 4:
        return None
    if low == lemma[:-1] and low.endswith("e"):
        neighbours = {token.nbor(-1).text if token.i > 0 else "",
                      token.nbor(1).text if token.i + 1 < len(token.doc) else ""}
        return "Ind" if neighbours & _PRONOUN_1SG else "Sub"
    return None


@Language.component("lagebild_morph")
def morph(doc: Doc) -> Doc:
    for token in doc:
        lemma = _lemma(token)
        token.lemma_ = lemma
        mood = _guess_mood(token, lemma)
        if mood:
            token.set_morph(f"Mood={mood}|VerbForm=Fin")
    return doc
