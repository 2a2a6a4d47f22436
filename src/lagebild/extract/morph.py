"""Sentences, lemmas and verb mood (Konjunktiv) — the linguistic basis of every layer.

Why rules: no German UD training split is available here (only GSD dev/test and PUD),
and a trained tagger measured on them was both slower than this layer's budget (< 5 ms
per 400-word article) and no better at Konjunktiv (see training/morph/MODEL_CARD_MORPH.md).
Konjunktiv in news is carried by a small closed set of patterns:

* closed-class forms (`data/mood_forms.tsv`): *sei, habe, hätte, wäre, würde, könne, sollte*;
* regular Konjunktiv I 3sg = infinitive stem + e (*benötige, verändere, handele*);
* strong Konjunktiv II = umlauted past stem + e/en (*gäbe, käme, stünde, aufbrächten*).

Forms shared with the 1sg indicative (*ich habe, ich gebe*) are indicative when the clause
has an "ich" or the sentence starts with the verb (subject-less "Habe heute bestellt").
Consumers read only `token.morph`: `Mood=Sub|Tense=Pres` is Konjunktiv I (the reported
speech marker), `Mood=Sub|Tense=Past` Konjunktiv II, `Mood=Ind` the indicative finite verbs
the rules recognise.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy
import simplemma
from spacy.attrs import LEMMA, ORTH, SENT_START, SPACY
from spacy.language import Language
from spacy.tokens import Doc

from ..resources import read_tsv

# --------------------------------------------------------------------------- sentences

_SENT_END = frozenset({".", "!", "?", "…", "...", "?!", "!?", "!!", "??"})
_CLOSING = frozenset({"“", "”", "\"", "«", "»", "'", "’", "''", ")", "]", "‘"})
_OPENING = frozenset({"„", "»", "\"", "«", "(", "``", "‚", "'", "[", "“", "–", "-"})
#: Abbreviations after which a capitalised word does not start a sentence. Tokens the spaCy
#: tokenizer keeps with their period that are *not* listed here ("usw.", "etc.") may end one.
_ABBREV = frozenset({
    "z.B.", "z.", "B.", "bzw.", "ca.", "Dr.", "Prof.", "Nr.", "St.", "vgl.", "u.a.", "u.", "a.",
    "d.h.", "d.", "h.", "Mio.", "Mrd.", "Abs.", "Art.", "Hr.", "Fr.", "Jh.", "v.a.", "v.",
    "ggf.", "inkl.", "evtl.", "bzgl.", "gem.", "Tel.", "Str.", "Bd.", "Hrsg.", "Mill.",
    "Jan.", "Feb.", "Febr.", "Mär.", "Apr.", "Jun.", "Jul.", "Aug.", "Sep.", "Sept.", "Okt.",
    "Nov.", "Dez.", "Mo.", "Di.", "Mi.", "Do.", "Sa.", "So.", "Chr.", "geb.", "gest.",
    "Gen.", "Kap.", "Min.", "Std.", "Tsd.", "max.", "min.", "sog.", "Dipl.", "Ing.", "Mag.",
    "Verf.", "Hl.", "hl.", "Co.", "Ltd.", "Inc.", "jr.", "Jr.", "sen.", "Sen.", "Rep.", "Gov.",
    "Abg.", "n.", "Bundesverf.", "Az.", "ff.", "f.", "S.", "Ziff.", "lt.", "zzgl.", "eigtl.", "urspr.",
})
_MONTHS = frozenset({
    "Januar", "Jänner", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
    "September", "Oktober", "November", "Dezember", "Jan.", "Feb.", "Febr.", "Apr.", "Jun.",
    "Jul.", "Aug.", "Sep.", "Sept.", "Okt.", "Nov.", "Dez.",
})
#: Words before "3." that make it an ordinal ("am 3. Oktober", "die 3. Liga").
_ORDINAL_LEFT = frozenset({
    "am", "im", "vom", "zum", "beim", "bis", "seit", "ab", "der", "die", "das", "den", "dem",
    "des", "ein", "eine", "einem", "einen", "einer", "ihr", "ihre", "ihrem", "ihren", "sein",
    "seine", "seinem", "seinen", "seiner", "dieser", "diese", "diesem", "zur", "vor", "nach",
    "jeden", "jede", "jedem", "Am", "Im", "Vom", "Zum", "Der", "Die", "Das", "Den", "Dem", "Seit",
    "Bis", "Ab", "Beim", "Zur", "Vor", "Nach", "und", "oder", "bzw.", "zwischen", "von", "Von",
})
_NUM_DOT = re.compile(r"\d[\d.,]*\.")
_PUNCT_END = re.compile(r"[.!?…]+")
_INFLECTED = ("en", "em", "es", "er")
_ROMAN_DOT = re.compile(r"[IVX]{1,5}\.")
#: "BERLIN (dpa) –", "Kiew/Moskau (AFP) -": place names, agency in brackets, a dash.
_DATELINE_DASH = frozenset({"-", "–", "—"})
_END_CHARS = frozenset(".!?…")


def _dateline_end(texts: list[str], start: int) -> int | None:
    """Index of the first token after a dateline that opens a paragraph, or None.

    A dateline is up to 6 capitalised place tokens (with "/"), optionally an agency in
    brackets, then a dash. Splitting it off keeps "BERLIN (dpa)" out of the first statement.
    """
    i, n = start, len(texts)
    seen_place = False
    while i < n and i - start < 6 and (texts[i][:1].isupper() or texts[i] == "/"):
        seen_place = seen_place or texts[i][:1].isupper()
        i += 1
    if not seen_place or i >= n:
        return None
    if texts[i] == "(":
        j = i + 1
        while j < n and j - i < 5 and texts[j] != ")":
            j += 1
        if j >= n or texts[j] != ")":
            return None
        i = j + 1
    if i + 1 < n and texts[i] in _DATELINE_DASH and texts[i + 1][:1].isupper():
        return i + 1
    return None


def _ends_sentence(texts: list[str], spaced: list[bool], i: int) -> bool:
    """Whether token i can end a sentence (punctuation, or a number that swallowed its period)."""
    text = texts[i]
    prev = texts[i - 1] if i > 0 else ""
    if text == "." and prev and not spaced[i - 1]:
        # The tokenizer split an abbreviation or an initial off its period: "Hl" ".", "J" "."
        if prev + "." in _ABBREV or (len(prev) == 1 and prev.isupper()):
            return False
    if _PUNCT_END.fullmatch(text):
        return True
    if not text.endswith(".") or len(text) < 2 or text in _ABBREV:
        return False
    if _NUM_DOT.fullmatch(text):
        nxt = texts[i + 1] if i + 1 < len(texts) else ""
        if nxt in _MONTHS:
            return False  # "24. Februar"
        if len(text) > 4 or not text[:-1].isdigit():
            return True  # a year or a quantity ("1990.", "6.000.") before a capital
        # "am 3. Oktober", "die 3. Liga", "im späten 15. Jahrhundert": an ordinal.
        adjective_like = len(prev) > 3 and prev.islower() and prev.endswith(_INFLECTED)
        return not (prev in _ORDINAL_LEFT or adjective_like)
    if _ROMAN_DOT.fullmatch(text) or len(text) == 2:
        return False  # "Ludwig XIV.", initials "J."
    return text[:-1].isalpha() and text[:1].islower()  # "usw.", "etc." and the like


def sentence_starts(texts: list[str], spaced: list[bool]) -> list[bool]:
    """Sentence-start flags for a token sequence (texts, trailing-space flags).

    Plain lists, no Doc: the splitter runs on every token of every article, and spaCy
    attribute access per token costs more than the rules.
    """
    n = len(texts)
    starts = [False] * n
    if n == 0:
        return starts
    starts[0] = True
    para_starts = [0]
    for i in range(n):
        text = texts[i]
        last = text[-1]
        if last == "\n" or (text.isspace() and "\n" in text):
            if i + 1 < n:
                starts[i + 1] = True
                para_starts.append(i + 1)
            continue
        if last not in _END_CHARS or not _ends_sentence(texts, spaced, i):
            continue
        j = i + 1
        while j < n and texts[j] in _CLOSING and not spaced[j - 1]:
            j += 1
        while j < n and texts[j].isspace():
            j += 1
        if j >= n:
            break
        first = texts[j]
        if first[:1].isupper() or first[:1].isdigit() or first in _OPENING:
            starts[j] = True
    for p in para_starts:
        end = _dateline_end(texts, p)
        if end is not None:
            starts[end] = True
    return starts


def _texts(doc: Doc) -> tuple[list[str], list[bool]]:
    """Token texts and trailing-space flags from the doc's arrays.

    Arrays, not `for token in doc`: creating a Token object per word costs more than the
    rules themselves.
    """
    strings = doc.vocab.strings
    texts = [strings[h] for h in doc.to_array(ORTH).tolist()]
    spaced = [bool(v) for v in doc.to_array(SPACY).tolist()]
    return texts, spaced


@Language.component("lagebild_sentences")
def sentences(doc: Doc) -> Doc:
    """Rule sentence splitter that keeps closing quotes with their sentence.

    Splits after . ! ? … (plus any closing quote marks glued to them) when the next token
    starts with a capital, a digit or an opening quote; at paragraph breaks; after a
    dateline ("BERLIN (dpa) –"). Never after abbreviations or ordinals ("24. Februar",
    "die 3. Liga").
    """
    if len(doc) == 0:
        return doc
    texts, spaced = _texts(doc)
    flags = sentence_starts(texts, spaced)
    # SENT_START: 1 starts a sentence, -1 does not (stored as uint64, hence the view).
    arr = numpy.where(numpy.array(flags, dtype=bool), 1, -1).astype(numpy.int64)
    doc.from_array([SENT_START], arr.view(numpy.uint64))
    return doc


# --------------------------------------------------------------------------- lemmas

@lru_cache(maxsize=300_000)
def lemma_of(text: str) -> str:
    """simplemma lemma, cached: a news stream repeats its words, the lookup is the cost."""
    if not text[:1].isalpha():
        return text
    return simplemma.lemmatize(text, lang="de")


# --------------------------------------------------------------------------- mood


def _mood_forms() -> dict[str, tuple[str, str, bool]]:
    return {
        r["form"]: (r["mood"], r["tense"], r["also_1sg"] == "y") for r in read_tsv("mood_forms.tsv")
    }


_FORMS = _mood_forms()
#: Tokens that close a clause for the "ich" check (commas, quotes, brackets, dashes).
_CLAUSE_BREAK = frozenset({",", ";", ":", "(", ")", "„", "“", "”", "\"", "»", "«", "–", "—", "-",
                           "``", "''", ".", "!", "?"})
#: A word right after these is inside a noun phrase ("eine tolle Idee", "aus Liebe"), not a verb.
_NP_LEFT = frozenset({
    "der", "die", "das", "den", "dem", "des", "ein", "eine", "einer", "einem", "einen", "eines",
    "kein", "keine", "keiner", "keinem", "keinen", "mein", "meine", "dein", "deine", "sein",
    "seine", "ihr", "ihre", "unser", "unsere", "euer", "eure", "dieser", "diese", "dieses",
    "diesem", "diesen", "jede", "jeder", "jedes", "jedem", "jeden", "alle", "viele", "einige",
    "mehrere", "zwei", "drei", "erste", "ersten", "zweite", "aus", "mit", "von", "zu", "zur",
    "zum", "in", "im", "am", "auf", "für", "ohne", "gegen", "durch", "bei", "beim", "nach",
    "vor", "über", "unter", "um", "sehr", "ganz", "echt", "super", "total",
})
_INSEPARABLE = ("be", "ver", "er", "ent", "zer", "ge", "emp", "miss", "über", "unter",
                "wider", "hinter", "voll")
_ADJ_ENDINGS = frozenset({"e", "en", "er", "es", "em"})
_NOT_FINITE_ENDINGS = ("e", "en", "end", "ende", "n", "er", "es", "em")
#: Aux/modal forms in -en are 1st/3rd plural or infinitive: finite when the clause has no
#: other finite aux ("Sie haben ..." vs "wird ... haben").
_AUX_EN = frozenset({"haben", "werden", "können", "müssen", "sollen", "wollen", "dürfen"})
_ICH = frozenset({"ich", "Ich", "ICH"})
_SUB_PRES = "Mood=Sub|Tense=Pres|VerbForm=Fin"
_SUB_PAST = "Mood=Sub|Tense=Past|VerbForm=Fin"
_IND_PRES = "Mood=Ind|Tense=Pres|VerbForm=Fin"
_IND_PAST = "Mood=Ind|Tense=Past|VerbForm=Fin"
_IND_FIN = "Mood=Ind|VerbForm=Fin"
_MORPH = {("Sub", "Pres"): _SUB_PRES, ("Sub", "Past"): _SUB_PAST,
          ("Ind", "Pres"): _IND_PRES, ("Ind", "Past"): _IND_PAST}
#: Auxiliaries that make a clause-final "-t" form a participle ("hat erklärt").
_AUX = frozenset({"hat", "haben", "hatte", "hatten", "habe", "hätte", "hätten", "ist", "sind",
                  "war", "waren", "sei", "seien", "wäre", "wären", "wird", "werden", "wurde",
                  "wurden", "worden", "würde", "würden", "werde", "wollen", "soll", "muss",
                  "kann", "darf", "will"})


def _umlauts(word: str) -> int:
    return sum(word.count(c) for c in "äöü")


def _is_verb_lemma(lemma: str) -> bool:
    # "sein" is left to the lexicon: simplemma also gives it for "seiner", "seinem".
    return lemma[:1].islower() and lemma.endswith(("en", "ern", "eln")) or lemma == "tun"


@lru_cache(maxsize=200_000)
def _form_class(low: str, lemma: str) -> str:
    """Mood class of a lower-case form from its shape alone (cached per form/lemma).

    "K1" regular Konjunktiv I 3sg (also 1sg indicative), "K2" strong Konjunktiv II,
    "T" 3sg present in -t (also a participle of inseparable verbs: "bestellt"),
    "P" weak past in -te/-ten, "S" other finite form of a strong verb ("fand", "sieht"),
    "" anything else (infinitives, participles, non-verbs).
    """
    if len(low) < 3 or not _is_verb_lemma(lemma) or low == lemma:
        return ""
    if lemma.endswith("en"):
        stem = lemma[:-2]
    else:  # handeln -> handel, verändern -> veränder
        stem = lemma[:-1]
        if low == stem[:-2] + stem[-1:] + "e":  # "handle", "verändre"
            return "K1"
    if low == stem + "e":
        return "K1"
    if low.endswith(("e", "en")) and _umlauts(low) > _umlauts(lemma):
        return "K2"  # gäbe (geben), stünde (stehen), aufbrächten (aufbringen)
    if low in (stem + "t", stem + "et"):
        # "bestellt", "organisiert" are also participles; "macht" is not ("gemacht").
        return "TP" if _no_ge_participle(lemma) else "T"
    if low in (stem + "te", stem + "ten", stem + "ete", stem + "eten"):
        return "P"
    if (low.count("ge") > lemma.count("ge") or low.startswith("ge") and not lemma.startswith("ge")
            or low.count("zu") > lemma.count("zu") or low[len(lemma):] in _ADJ_ENDINGS
            or low == "worden"):
        return ""  # "gemacht", "aufgefunden", "gelegt", "aufzustellen", "einzelnen"
    if low.endswith("en"):
        # strong past plural "fanden", "gingen"; "verstanden" may also be a participle
        if low.endswith(("enden", "enen")) or _umlauts(low) != _umlauts(lemma):
            return ""
        return "SP" if _no_ge_participle(lemma) else "S"
    if low.endswith(_NOT_FINITE_ENDINGS):
        return ""
    return "SP" if low.endswith("t") and _no_ge_participle(lemma) else "S"


def _no_ge_participle(lemma: str) -> bool:
    """Verbs whose participle has no ge-: inseparable prefixes and -ieren."""
    return lemma.startswith(_INSEPARABLE) or lemma.endswith("ieren")


@lru_cache(maxsize=50_000)
def _adjective_stem(low: str) -> bool:
    """Whether form minus its -e is a known non-verb word ("weiche" <- "weich", "tolle")."""
    base = low[:-1]
    return len(base) > 2 and simplemma.is_known(base, lang="de") and lemma_of(base) == base


def _clause_flags(texts: list[str], spaced: list[bool], start: int, end: int
                  ) -> tuple[list[bool], list[bool], list[bool]]:
    """Per token of [start, end): does its clause contain "ich"? an auxiliary? a finite
    form from the lexicon?

    Clauses are cut at commas, quotes, brackets and spaced dashes: cheap, and enough to
    keep "Er sagte, ich habe" apart from "Ich sagte, er habe".
    """
    ich = [False] * (end - start)
    aux = [False] * (end - start)
    fin = [False] * (end - start)
    seg = start
    has_ich = has_aux = has_fin = False
    for i in range(start, end + 1):
        if i == end or _is_break(texts, spaced, i):
            if has_ich or has_aux or has_fin:
                for k in range(seg, i):
                    ich[k - start] = has_ich
                    aux[k - start] = has_aux
                    fin[k - start] = has_fin
            seg = i + 1
            has_ich = has_aux = has_fin = False
            continue
        text = texts[i]
        low = text.lower()
        has_ich = has_ich or text in _ICH
        has_aux = has_aux or low in _AUX
        has_fin = has_fin or low in _FORMS
    return ich, aux, fin


def _is_break(texts: list[str], spaced: list[bool], i: int) -> bool:
    text = texts[i]
    if text not in _CLAUSE_BREAK:
        return False
    if text == "-":  # "Gaza-Streifen" split by a tokenizer is no clause break
        return spaced[i] and i > 0 and spaced[i - 1]
    return True


def _sentence_moods(doc: Doc, texts: list[str], spaced: list[bool], start: int, end: int
                    ) -> None:
    """Mood for the words of one sentence. Works on plain lists: a spaCy Token object is
    only created for the few words that get a mood."""
    ich, aux, lex_fin = _clause_flags(texts, spaced, start, end)
    first_word = start
    while first_word < end and not texts[first_word][:1].isalnum():
        first_word += 1
    for i in range(start, end):
        text = texts[i]
        lower_ok = text[:1].islower()
        # A capital is fine at the sentence or quote start ("Wäre er gekommen, ...").
        if not lower_ok and not (text[:1].isupper() and text[1:].islower()
                                 and (i == first_word or texts[i - 1] in _OPENING)):
            continue
        low = text.lower()
        if low in _AUX_EN:
            if not lex_fin[i - start] and (i == start or texts[i - 1] != "zu"):
                doc[i].set_morph(_IND_PRES)
            continue
        entry = _FORMS.get(low)
        if entry is not None:
            mood, tense, also_1sg = entry
            if mood == "Sub" and also_1sg and (ich[i - start] or i == first_word):
                mood = "Ind"
            doc[i].set_morph(_MORPH[(mood, tense)])
            continue
        if not lower_ok:
            continue
        cls = _form_class(low, lemma_of(text))
        if not cls:
            continue
        left = texts[i - 1].lower() if i > start else ""
        if left in _NP_LEFT and cls != "S":
            continue  # "eine tolle Idee", "aus liebe", "die bewaffneten": not a verb
        if cls == "K1":
            nxt = texts[i + 1] if i + 1 < end else ""
            if nxt[:1].isupper() and _adjective_stem(low):
                continue  # "weiche Hände": an adjective before its noun
            doc[i].set_morph(_IND_PRES if ich[i - start] else _SUB_PRES)
        elif cls == "K2":
            doc[i].set_morph(_SUB_PAST)
        elif cls == "T" or (cls == "TP" and not aux[i - start]):
            doc[i].set_morph(_IND_PRES)
        elif cls == "P":
            doc[i].set_morph(_IND_PAST)
        elif cls == "S" or not aux[i - start]:  # "SP": "verbracht", "verstanden" after "hat"
            doc[i].set_morph(_IND_FIN)


@Language.component("lagebild_morph")
def morph(doc: Doc) -> Doc:
    """Set token.lemma_ (simplemma) and Mood/Tense on the finite verbs the rules recognise."""
    if len(doc) == 0:
        return doc
    texts, spaced = _texts(doc)
    add = doc.vocab.strings.add
    lemmas = numpy.fromiter((add(lemma_of(t)) for t in texts), dtype=numpy.uint64,
                            count=len(texts))
    doc.from_array([LEMMA], lemmas)
    if doc.has_annotation("SENT_START"):
        for sent in doc.sents:
            _sentence_moods(doc, texts, spaced, sent.start, sent.end)
    else:
        _sentence_moods(doc, texts, spaced, 0, len(doc))
    return doc
