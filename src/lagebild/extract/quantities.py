"""Layer: quantities (`doc._.lb_quantities`): figures that count, measure or price something.

Why rules: German figures follow a small grammar (hedge + number [+ scale] [+ unit]
[+ counted noun]) and the value has to be computed anyway (10.000, 2,5 Millionen,
zweihundertfünfzig); one precompiled regex over `doc.text` is fast and transparent. The
lexicons (number words, scales, units, hedges, vague amounts) are `quantity_*.tsv`.

Conventions:

* **Span** = hedge + number (+ scale) + unit or counted noun, as in the gold
  ("mehr als 10.000 Soldaten", "rund 2,5 Millionen Euro", "Zehntausende Russen").
* **value** is the figure as stated (41,7 -> 41.7; "mehr als 100" -> 100 with
  `approximate="mehr als"`, low=100); ranges ("24 bis 36", "zwischen 5.000 und 7.000")
  and vague amounts have value null and low/high. Vague bounds: Dutzende 24..99 (at least
  two dozen, and below "Hunderte"), Hunderte 100..999, Tausende 1000..9999, Zehntausende
  10000..99999, Hunderttausende, Millionen 10^6..10^9-1 (`quantity_vague.tsv`). "einige/mehrere
  hundert" is taken as 200..999 (x1000 for tausend). "eine Menge" is vague without bounds.
* **unit** = currency/measure unit if one follows, else the counted noun ("Soldaten");
  **quantifies** = the counted noun phrase as written (adjectives + noun + a following
  genitive: "nordkoreanische Soldaten", "der Stimmen" after "30 Prozent").
* **Excluded**: anything inside a date/clock/set/reference time expression found by the
  time layer (dates, years, clock times; durations like "drei Jahre" stay), ordinals
  ("3. Liga", "der 5. Runde"), identifiers ("Artikel 5", "F-35", "G7"), and the article
  ein/eine - except before a scale word ("eine Million"), in "ein weiterer Soldat" (a
  casualty count reads "ein weiterer/eine weitere + noun"), and before a casualty noun in
  a sentence that reports casualties ("Dabei wurde ein Soldat getötet", "darunter ein
  Kind"; `quantity_casualty_cues.tsv`): elsewhere "ein Soldat" is an indefinite article.
* **source/statement**: a figure inside a statement's `content` or one of its `parts`
  belongs to that statement; its source is the statement's speaker (null = unnamed or
  the author when outside every statement).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from spacy.language import Language
from spacy.tokens import Doc

from ..resources import read_tsv
from ..schema import Quantity, Statement, TimeExpr
from . import doc_text, span_model
from .spans import Containers, Coverage

# --------------------------------------------------------------------------- lexicons


def _alt(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


_NUM_ROWS = read_tsv("quantity_numbers.tsv")
_SMALL: dict[str, int] = {r["word"]: int(r["value"]) for r in _NUM_ROWS if r["kind"] != "mult"}
_UNITS_1_9: dict[str, int] = {
    r["word"]: int(r["value"]) for r in _NUM_ROWS if r["kind"] == "unit" and 1 <= int(r["value"]) <= 9
}
_TENS: dict[str, int] = {r["word"]: int(r["value"]) for r in _NUM_ROWS if r["kind"] == "ten"}
SCALES: dict[str, float] = {r["word"]: float(r["value"]) for r in read_tsv("quantity_scales.tsv")}
UNITS: dict[str, str] = {r["word"]: r["unit"] for r in read_tsv("quantity_units.tsv")}
VAGUE: dict[str, tuple[float, float]] = {
    r["word"]: (float(r["low"]), float(r["high"])) for r in read_tsv("quantity_vague.tsv")
}
HEDGES: dict[str, str] = {r["hedge"]: r["bound"] for r in read_tsv("quantity_hedges.tsv")}
_CASUALTY = tuple(r["stem"] for r in read_tsv("quantity_casualty_nouns.tsv"))
_TIME_UNITS = {"Sekunden", "Minuten", "Stunden", "Tage", "Wochen", "Monate", "Jahre", "Jahrzehnte"}


def _below_100(w: str) -> int | None:
    if w in _SMALL:
        return _SMALL[w]
    if "und" in w:
        a, _, b = w.partition("und")
        if a in _UNITS_1_9 and b in _TENS:
            return _UNITS_1_9[a] + _TENS[b]
    return None


def _below_1000(w: str) -> int | None:
    if "hundert" in w:
        a, _, b = w.partition("hundert")
        left = _UNITS_1_9.get(a) if a else 1
        right = _below_100(b) if b else 0
        if left is None or right is None:
            return None
        return left * 100 + right
    return _below_100(w)


def parse_number_word(word: str) -> float | None:
    """Value of a German cardinal written as one word (dreiundzwanzig, zweihunderttausend).

    Splits at "tausend", then "hundert", then "und" ("hundert" contains "und", so the
    order matters). Returns None for anything that is not a well-formed cardinal.
    """
    w = word.lower()
    if not w:
        return None
    if "tausend" in w:
        a, _, b = w.partition("tausend")
        left = _below_1000(a) if a else 1
        right = _below_1000(b) if b else 0
        if left is None or right is None:
            return None
        return float(left * 1000 + right)
    v = _below_1000(w)
    return float(v) if v is not None else None


def parse_number(text: str) -> float | None:
    """Digits in German format ("10.000", "2,5", "1.250,75") or a number word, with an
    optional scale word after it ("2,5 Millionen", "zwei Dutzend", "1,2 Mrd.")."""
    parts = text.split()
    scale = 1.0
    if len(parts) > 1 and parts[-1] in SCALES:
        scale = SCALES[parts[-1]]
        parts = parts[:-1]
    raw = " ".join(parts)
    if raw[:1].isdigit():
        try:
            base = float(re.sub(r"[.\s\u00a0\u202f]", "", raw).replace(",", "."))
        except ValueError:
            return None
    elif raw.lower() in ("ein", "eine", "einer", "einen", "einem") and scale != 1.0:
        base = 1.0
    else:
        base = parse_number_word(raw)
        if base is None:
            return None
    value = base * scale
    return float(int(value)) if value == int(value) else round(value, 6)


# --------------------------------------------------------------------------- the regex

_W = r"[\wäöüßÄÖÜ]"
_MORPHEMES = sorted(
    [w for w in _SMALL if w.isalpha()] + ["hundert", "tausend", "und"], key=len, reverse=True
)
_WORDNUM = (rf"(?<!{_W})(?!(?i:und|ein|eins|eine|einen|einem|einer|einmal)(?!{_W}))"
            rf"(?i:(?:{_alt(_MORPHEMES)})+)(?!{_W}|-[^\W\d])")
# not inside scores/ratios ("95:93") or compounds ("20-jährige", "F-35")
_DIGITS = (r"(?<![\wäöüß.,/:\-])(?:\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d)"
           r"|\d+(?:,\d+)?)"
           r"(?![\d]|[.,:]\d|-[^\W\d])")
_SCALE = rf"(?:{_alt(SCALES)})(?!{_W})"
_NUMBER = rf"(?:{_DIGITS}|{_WORDNUM})(?:\s+{_SCALE})?"
_ART_SCALE = rf"(?<!{_W})(?:[Ee]ine[rnm]?|[Ee]in)\s+(?:Million|Milliarde|Billion|Dutzend)(?!{_W})"
_VAGUE = rf"(?<!{_W})(?:(?:[Ee]inige|[Mm]ehrere|[Vv]iele)\s+)?(?:{_alt(VAGUE)})(?!{_W}|-)"
_FEW = rf"(?<!{_W})(?:[Ee]inige|[Mm]ehrere)\s+(?:[Hh]undert|[Tt]ausend)(?!{_W})"
_HEDGE = rf"(?<!{_W})(?i:{_alt(HEDGES)})(?!{_W})"
_UNIT_AFTER = rf"(?:{_alt(UNITS)})(?!{_W})"
_CUR_BEFORE = r"(?:€|\$|US-\$)"
_ADJ = r"(?:[a-zäöüß][\wäöüß\-]*(?:e|en|er|es|em))"
_NOUN = r"(?:[A-ZÄÖÜ][\wäöüß]*(?:-[\wäöüßÄÖÜ]+)*)"

_QTY = re.compile(
    rf"(?<!{_W})(?P<hedge>{_HEDGE}\s+)?"
    r"(?:"
    rf"(?P<cur>{_CUR_BEFORE})\s?(?P<n0>{_NUMBER})"
    rf"|(?P<zw>[Zz]wischen)\s+(?P<r1>{_NUMBER})\s+und\s+(?P<r2>{_NUMBER})"
    rf"|(?P<a>{_NUMBER})\s*(?:bis|-|–)\s*(?P<b>{_NUMBER})"
    rf"|(?P<few>{_FEW})"
    rf"|(?P<art>{_ART_SCALE})"
    rf"|(?P<n>{_NUMBER})"
    rf"|(?P<vq>{_VAGUE})"
    rf"|(?P<menge>(?<!{_W})[Ee]ine\s+Menge(?!{_W}))"
    rf"|(?P<weiter>(?<!{_W})[Ee]in(?:e[rnms]?)?(?=\s+weitere[rnms]?\s+[A-ZÄÖÜ]))"
    r")"
    rf"(?:[^\S\n]*(?P<unit>{_UNIT_AFTER}))?"
    rf"(?P<np>(?:[^\S\n]+(?:weitere[rnms]?|{_ADJ})){{0,2}}[^\S\n]+(?P<noun>{_NOUN}))?"
)
_GENITIVE = re.compile(rf"\s+(?:der|des)\s+(?:{_ADJ}\s+)?{_NOUN}")
_NOT_ADJ = {
    "wurden", "waren", "haben", "hatten", "werden", "sollen", "sollten", "seien", "wären",
    "hätten", "sind", "seine", "seinen", "seiner", "ihre", "ihren", "ihrer", "eine", "einen",
    "einer", "keine", "diese", "dieser", "diesen", "jene", "alle", "allen", "aller", "gegen",
    "unter", "über", "oder", "aber", "sowie", "hinter", "neben", "wegen", "ohne", "ende",
    "die", "der", "den", "dem", "des", "sie", "wie", "nie", "jede", "jeder", "jeden", "jedem",
    "wieder", "immer", "weiter", "mehr", "sehr", "bereits", "hier", "dieses", "einem", "seinem",
    "ihrem", "kaum", "etwa", "rund", "gegenüber", "außer", "nur", "mehrere", "einige",
}
_NOT_NOUN = {"Uhr", "Prozent", "Mal", "In", "Im", "Am", "Der", "Die", "Das", "Und", "Es", "Er",
             "Sie", "Nach", "Bei", "Mit", "Auch", "Laut", "Von", "Zu", "Auf", "Aus"}
_ORDINAL_BEFORE = re.compile(
    r"(?:\b(?:der|die|das|den|dem|des|zum|zur|am|im|vom|beim|seine[mnrs]?|ihre[mnrs]?|sein|ihr|"
    r"jede[mnrs]?|ab|bis)\s*)$", re.IGNORECASE)
_ID_BEFORE = re.compile(r"[A-ZÄÖÜ][\wäöüß]*\s$")
_ARTICLES = {"ein", "eine", "einen", "einem", "einer", "eins", "und"}


def _months_and_days() -> frozenset[str]:
    from .time import MONTHS, WEEKDAYS  # same lexicons as the time layer

    return frozenset(MONTHS) | frozenset(WEEKDAYS)


_CALENDAR_NOUNS = _months_and_days()


def _noun_phrase(m: re.Match) -> tuple[int, str | None, str | None]:
    """(end of the figure's span, counted noun, noun phrase), validating the np group.

    Without a unit the noun is the counted thing and belongs to the span ("10.000
    Soldaten"); after a unit it only fills `quantifies` ("20 km Straße")."""
    if not m["np"]:
        return m.end("unit") if m["unit"] else _core_end(m), None, None
    np_text = m["np"]
    words = np_text.split()
    noun = m["noun"]
    if noun in _NOT_NOUN or noun in _CALENDAR_NOUNS or any(w in _NOT_ADJ for w in words[:-1]):
        return m.end("unit") if m["unit"] else _core_end(m), None, None
    if m["unit"]:
        # "20 km Straße", "5 Millionen Euro Hilfe": the span ends at the unit, the noun
        # after it is what is measured or priced
        return m.end("unit"), None, np_text.strip()
    return m.end("np"), noun, np_text.strip()


def _core_end(m: re.Match) -> int:
    for g in ("n0", "r2", "b", "few", "art", "n", "vq", "menge", "weiter"):
        if m[g]:
            return m.end(g)
    return m.end()


def _bounds(m: re.Match) -> tuple[float | None, float | None, float | None] | None:
    """(value, low, high) from the number part of the match; None if it is not a figure."""
    if m["n0"] or m["n"]:
        raw = m["n0"] or m["n"]
        if raw.lower() in _ARTICLES:
            return None
        v = parse_number(raw)
        return None if v is None else (v, None, None)
    if m["r1"] or m["a"]:
        a, b = (m["r1"], m["r2"]) if m["r1"] else (m["a"], m["b"])
        lo, hi = parse_number(a), parse_number(b)
        if lo is None or hi is None:
            return None
        # "2 bis 3 Millionen": the scale of the upper bound applies to the lower one too
        if b.split()[-1] in SCALES and a.split()[-1] not in SCALES:
            lo *= SCALES[b.split()[-1]]
        if lo >= hi:
            return None
        return None, lo, hi
    if m["few"]:
        scale = 1000.0 if m["few"].lower().endswith("tausend") else 100.0
        return None, 2 * scale, 10 * scale - 1
    if m["art"]:
        v = parse_number(m["art"])
        return None if v is None else (v, None, None)
    if m["vq"]:
        word = m["vq"].split()[-1]
        lo, hi = VAGUE[word]
        return None, lo, hi
    if m["menge"]:
        return None, None, None
    if m["weiter"]:
        return (1.0, None, None) if (m["noun"] or "").startswith(_CASUALTY) else None
    return None


def _is_ordinal_or_id(text: str, m: re.Match) -> bool:
    raw = m["n"]
    if not raw or not raw[0].isdigit() or m["hedge"]:
        return False
    after = text[m.end("n") : m.end("n") + 3]
    if after.startswith(".") and not after[1:2].isdigit():
        before = text[max(0, m.start("n") - 12) : m.start("n")]
        nxt = after[2:3]
        if nxt.islower() or _ORDINAL_BEFORE.search(before):
            return True
    if not m["unit"] and not m["np"]:
        # "Artikel 5", "Resolution 2231": a bare number right after a capitalised noun
        before = text[max(0, m.start("n") - 30) : m.start("n")]
        if _ID_BEFORE.search(before):
            return True
    return False


def find_quantities(text: str, times: Iterable[TimeExpr] = ()) -> list[dict]:
    """Quantities in `text` as dicts of Quantity fields (without id/source), in text order.

    `times`: the time layer's output; figures inside dates, years, clock times etc. are
    dropped (durations are kept: "drei Jahre" is both a time and a quantity).
    """
    blocked = sorted(
        (t.span.start, t.span.end) for t in times if t.type != "duration"
    )
    taken = Coverage(blocked)
    out: list[dict] = []
    for m in _QTY.finditer(text):
        bounds = _bounds(m)
        if bounds is None:
            continue
        core_start = m.start("hedge") if m["hedge"] else m.start()
        num_start = m.end("hedge") if m["hedge"] else m.start()
        num_end = _core_end(m)
        if taken.overlaps(num_start, num_end):
            continue
        if _is_ordinal_or_id(text, m):
            continue
        end, noun, np_text = _noun_phrase(m)
        value, low, high = bounds
        hedge = m["hedge"].strip() if m["hedge"] else None
        if hedge and value is not None:
            bound = HEDGES.get(hedge.lower(), HEDGES.get(hedge, "approx"))
            if bound == "min":
                low = value
            elif bound == "max":
                high = value
        unit = UNITS.get(m["unit"]) if m["unit"] else None
        if m["cur"]:
            unit = UNITS.get(m["cur"], "Dollar")
        quantifies = np_text
        if unit == "Prozent":
            g = _GENITIVE.match(text, end)
            if g:
                quantifies = g.group().strip()
        if unit is None and noun is not None:
            unit = noun
        out.append({
            "start": core_start, "end": end, "value": value, "low": low, "high": high,
            "approximate": hedge, "unit": unit, "quantifies": quantifies,
        })
    out.extend(_counts_of_one(text, out, blocked))
    out.sort(key=lambda q: q["start"])
    return out


_CASUALTY_CUES = re.compile(
    rf"(?<!{_W})(?:{'|'.join(re.escape(r['stem']) for r in read_tsv('quantity_casualty_cues.tsv'))})",
    re.IGNORECASE)
_ONE = re.compile(
    rf"(?<!{_W})[Ee]ine?[rnms]?(?P<np>(?:[^\S\n]+{_ADJ}){{0,2}}[^\S\n]+(?P<noun>{_NOUN}))"
)
_SENT_END = re.compile(r"[.!?\n]")


def _counts_of_one(text: str, found: list[dict], blocked: list[tuple[int, int]]) -> list[dict]:
    """ "Dabei wurde ein Soldat getötet", "darunter ein Kind": an article before a casualty
    noun counts one where its sentence reports casualties (`quantity_casualty_cues.tsv`)."""
    out: list[dict] = []
    occupied = Coverage([(q["start"], q["end"]) for q in found] + blocked)
    for m in _ONE.finditer(text):
        noun = m["noun"]
        if not noun.startswith(_CASUALTY) or occupied.overlaps(m.start(), m.end()):
            continue
        a = max((x.end() for x in _SENT_END.finditer(text, max(0, m.start() - 300), m.start())), default=0)
        e = _SENT_END.search(text, m.end())
        if not _CASUALTY_CUES.search(text, a, e.start() if e else len(text)):
            continue
        out.append({"start": m.start(), "end": m.end(), "value": 1.0, "low": None, "high": None,
                    "approximate": None, "unit": noun, "quantifies": m["np"].strip()})
    return out


def statement_for(start: int, end: int, statements: Iterable[Statement]) -> Statement | None:
    """The statement whose content (or one of its parts) contains [start, end).

    The innermost (shortest) containing span wins, so a figure in a nested quote gets the
    inner speaker.
    """
    return StatementFinder(statements)(start, end)


class StatementFinder:
    """`statement_for` with the statements' spans indexed once per document."""

    def __init__(self, statements: Iterable[Statement]) -> None:
        self.statements = list(statements)
        self.index = Containers((sp.start, sp.end, k) for k, st in enumerate(self.statements)
                                for sp in (st.content, *st.parts))

    def __call__(self, start: int, end: int) -> Statement | None:
        best: tuple[int, int] | None = None  # (length, place): the first of the shortest
        for j in self.index.holding(start, end):
            s, e, k = self.index.spans[j]
            if best is None or (e - s, k) < best:
                best = (e - s, k)
        return self.statements[best[1]] if best else None


@Language.component("lagebild_quantities")
def quantities_component(doc: Doc) -> Doc:
    statements = doc._.lb_statements or []
    found = find_quantities(doc_text(doc), doc._.lb_times or [])
    quantities = []
    statement_for_span = StatementFinder(statements)
    for i, q in enumerate(found, 1):
        st = statement_for_span(q["start"], q["end"])
        quantities.append(Quantity(
            id=f"q{i}", span=span_model(doc, q["start"], q["end"]), value=q["value"],
            low=q["low"], high=q["high"], approximate=q["approximate"], unit=q["unit"],
            quantifies=q["quantifies"], source=st.speaker if st else None,
            statement=st.id if st else None,
        ))
    doc._.lb_quantities = quantities
    return doc
