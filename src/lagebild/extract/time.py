"""Layer: time expressions (`doc._.lb_times`), normalised to ISO 8601 / TIMEX2 values.

Why rules: temporal expressions in German news are a small closed grammar (dates, month
and weekday names, deictic words, "vor drei Jahren") and normalising them needs explicit
calendar arithmetic anyway; a handful of precompiled regexes over `doc.text` runs in well
under a millisecond per article and is easy to extend through the `time_*.tsv` lexicons.

Conventions (documented because the schema leaves them open):

* **Extent** follows TIMEX2 (the WikiWarsDE convention we evaluate on): prepositions and
  their contractions are *not* part of the span ("am Mittwoch" -> "Mittwoch", "im vergangenen
  Jahr" -> "vergangenen Jahr", "seit 2014" -> "2014"), determiners and modifiers are
  ("den letzten drei Jahren", "Anfang Mai", "Ende des Jahres").
* **Values** are ISO 8601 where possible (2024-10-23, 2024-10, 2024, 2024-W43, P3Y, PT2H)
  plus TIMEX2 extensions: seasons (2024-SU), decades ("193" = the 1930s), centuries
  ("19" = the 20th century), BC years ("BC0490"), PRESENT_REF / PAST_REF / FUTURE_REF.
  "seit 2014" keeps the value of the year itself; the preposition is not interpreted.
* **Anchoring.** `mode="news"` (default): deictic expressions (gestern, letzte Woche, am
  Mittwoch) and year-less dates ("am 3. März", "im Oktober") resolve against
  `doc._.lb_published`. Without a publication date, year-less dates get an
  underspecified value ("XXXX-10", "XXXX-03-03"), a weekday gets "XXXX-WXX-3", and purely
  relative expressions (gestern, vergangenes Jahr) get value null. `mode="narrative"`
  (historical text, WikiWarsDE): relative and year-less expressions resolve against the
  last fully dated expression in the text (the reference time), and "heute"/"jetzt"
  are PRESENT_REF.
* **Weekdays** in news mean the most recent such day on or before the publication date,
  unless the sentence has a future cue (wird, werden, soll, will, plant, kommend...),
  then the next such day on or after it.
* Ranges ("1939-1945", "vom 5. bis 7. März") are two date expressions, as in TIMEX2.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from spacy.language import Language
from spacy.tokens import Doc

from ..resources import read_tsv
from ..schema import TimeExpr
from . import doc_text, span_model

# --------------------------------------------------------------------------- lexicons


def _alt(words: list[str]) -> str:
    """Regex alternation, longest first so that "Juni" never shadows "Junis"."""
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


MONTHS: dict[str, int] = {r["word"]: int(r["month"]) for r in read_tsv("time_months.tsv")}
WEEKDAYS: dict[str, int] = {r["word"]: int(r["weekday"]) for r in read_tsv("time_weekdays.tsv")}
SEASONS: dict[str, str] = {r["word"]: r["code"] for r in read_tsv("time_seasons.tsv")}
UNITS: dict[str, tuple[str, bool]] = {
    r["word"]: (r["code"], r["time"] == "1") for r in read_tsv("time_units.tsv")
}
DEICTIC: dict[str, tuple[str, str, bool]] = {
    r["word"]: (r["kind"], r["value"], r["news_only"] == "1") for r in read_tsv("time_deictic.tsv")
}
_NUMBER_WORDS: dict[str, float] = {
    r["word"]: float(r["value"]) for r in read_tsv("quantity_numbers.tsv")
}
_NUMBER_WORDS["anderthalb"] = 1.5

_MONTH = rf"(?:{_alt(list(MONTHS))})(?![\wäöüß])"
_WEEKDAY = rf"(?:{_alt(list(WEEKDAYS))})"
_SEASON = rf"(?:{_alt(list(SEASONS))})"
_UNIT = rf"(?:{_alt(list(UNITS))})(?![\wäöüß])"
_BC = r"(?:\s*v\.\s?Chr\.?)"
_AD = r"(?:\s*n\.\s?Chr\.?)"
_YEAR = r"(?:1[0-9]{3}|20[0-9]{2})(?![0-9]|[.,][0-9])"
_NUMWORD = rf"(?:{_alt(list(_NUMBER_WORDS))}|\d+(?:,\d+)?|einige[nm]?|mehrere[nm]?|wenige[nm]?|halbe[nm]?)"
_DET = r"(?:(?:der|die|das|den|dem|des)\s+)?"
_REL_ADJ = r"(?:dies|vergangen|letzt|vorig|kommend|nächst|laufend|folgend|darauffolgend|selb|gleich|derselb|desselb|demselb|frühere?n?|morgig|gestrig|heutig)"
_REL_NOUN = rf"(?:Jahres|Jahre|Jahr|Monats|Monat|Wochenende|Woche|Tages|Tag|Jahrzehnts|Jahrzehnt|Abend|Morgen|Nacht|{_SEASON}|{_WEEKDAY}|{_MONTH})"
_POS_WORD = r"(?:Anfang|Mitte|Ende|Beginn|Ausgang|Laufe)"
_POD = r"(?:Morgen|Morgenstunden|Vormittag|Mittag|Nachmittag|Abend|Nacht)"

#: Tense cues for weekdays and year-less dates: the cue nearest to the expression wins.
_TENSE_CUES = re.compile(
    r"\b(?P<fut>wird|werden|wirst|will|wollen|soll|sollen|plant|planen|geplant|bevorstehende[nmrs]?"
    r"|demnächst|erwartet)\b"
    r"|\b(?P<past>hatte[nt]?|hat|haben|war(?:en)?|wurden?|ist|sind|hieß|kam(?:en)?|gab(?:en)?"
    r"|ging(?:en)?|fand(?:en)?|traf(?:en)?|nahm(?:en)?|stand(?:en)?|sprach(?:en)?|schrieb(?:en)?"
    r"|rief(?:en)?|wies(?:en)?|begann(?:en)?|fiel(?:en)?|stieg(?:en)?|starb(?:en)?|blieb(?:en)?"
    r"|lag(?:en)?|hielt(?:en)?|ließ(?:en)?|trat(?:en)?|ge[a-zäöüß]{3,}(?:t|en)"
    # weak preterite (sagte, meldeten); superlatives (-ste) and ordinals are not verbs
    r"|(?!(?:zweite|dritte|siebte|achte|neunte|zehnte|letzte|rechte|echte|schlechte|leichte|breite|weite|heute)[nr]?\b)"
    r"[a-zäöüß]{3,}(?<!s)te[nt]?)\b"
)
_SENT_BOUND = re.compile(r"[.!?\n]")


# --------------------------------------------------------------------------- values


@dataclass
class _Ctx:
    """Anchors for resolution: `dct` (publication date) and the narrative reference time."""

    dct: date | None
    mode: str
    text: str
    ref: date | None = None
    ref_gran: str = "day"

    @property
    def anchor(self) -> date | None:
        """The date relative expressions are resolved against."""
        if self.mode == "narrative" and self.ref is not None:
            return self.ref
        return self.dct

    def set_ref(self, d: date, gran: str) -> None:
        if self.mode == "narrative":
            self.ref, self.ref_gran = d, gran


def _fmt_year(y: int) -> str:
    return f"{y:04d}" if y > 0 else f"BC{-y:04d}"


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    y = d.year + m // 12
    m = m % 12 + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def _shift(d: date, n: float, unit: str) -> date | None:
    try:
        if unit == "D":
            return d + timedelta(days=n)
        if unit == "W":
            return d + timedelta(weeks=n)
        if unit == "M":
            return _add_months(d, int(n))
        if unit == "Y":
            return date(d.year + int(n), d.month, min(d.day, 28) if d.month == 2 else d.day)
        if unit == "DE":
            return date(d.year + 10 * int(n), d.month, 1)
    except (OverflowError, ValueError):
        return None
    return None


def _gran_value(d: date, unit: str) -> str:
    """`d` written at the granularity of `unit` (Y -> 2024, M -> 2024-10, W -> 2024-W43...)."""
    if unit in ("Y", "DE", "CE"):
        return _fmt_year(d.year)
    if unit == "M":
        return f"{_fmt_year(d.year)}-{d.month:02d}"
    if unit == "W":
        iso = d.isocalendar()
        return f"{iso[0]:04d}-W{iso[1]:02d}"
    return d.isoformat()


def _number(word: str) -> float | None:
    """Value of a digit string or a (compound) German number word; None if vague."""
    w = word.lower()
    if w[:1].isdigit():
        return float(w.replace(",", "."))
    if w.startswith(("halb",)):
        return 0.5
    if w in _NUMBER_WORDS:
        return _NUMBER_WORDS[w]
    from .quantities import parse_number_word  # shared parser for compounds

    return parse_number_word(w)


def _duration(n: float | None, unit: str, is_time: bool) -> str:
    if n is None:
        amount = "X"
    elif unit == "CE":
        amount = str(int(n * 100))
        unit = "Y"
    elif n == int(n):
        amount = str(int(n))
    else:
        amount = str(n)
    return f"P{'T' if is_time else ''}{amount}{unit}"


def _year_of(m: re.Match, group: str, bc_group: str | None = None) -> int | None:
    gd = m.groupdict()
    raw = gd.get(group)
    if not raw:
        return None
    y = int(raw)
    if bc_group and gd.get(bc_group):
        return -y
    return y


def _weekday_date(ctx: _Ctx, start: int, weekday: int) -> str:
    anchor = ctx.anchor
    if anchor is None:
        return f"XXXX-WXX-{weekday}"
    diff = weekday - anchor.isoweekday()
    if _tense(ctx, start) == "future":
        d = anchor + timedelta(days=diff % 7)
    else:
        d = anchor - timedelta(days=(-diff) % 7)
    return d.isoformat()


# --------------------------------------------------------------------------- rules
# Each rule: (name, compiled regex, resolver). The extent is the named group "x" if the
# regex has one, else the whole match. A resolver returns (value, type) or None to drop.

Resolver = Callable[[re.Match, _Ctx], tuple[str | None, str] | None]


def _r_numeric(m: re.Match, ctx: _Ctx):
    d, mo, y = int(m["d"]), int(m["mo"]), int(m["y"])
    if y < 100:  # two-digit year: the century that puts it nearest to the anchor
        base = ctx.anchor.year if ctx.anchor is not None else 2000
        y = min((c + y for c in (base // 100 * 100 - 100, base // 100 * 100, base // 100 * 100 + 100)),
                key=lambda cand: abs(cand - base))
    try:
        dt = date(y, mo, d)
    except ValueError:
        return None
    ctx.set_ref(dt, "day")
    return dt.isoformat(), "date"


def _r_iso(m: re.Match, ctx: _Ctx):
    try:
        dt = date(int(m["y"]), int(m["mo"]), int(m["d"]))
    except ValueError:
        return None
    ctx.set_ref(dt, "day")
    value = dt.isoformat()
    if m["h"]:
        value += f"T{m['h']}:{m['mi']}" + (f":{m['s']}" if m["s"] else "")
    return value, "date"


def _tense(ctx: _Ctx, pos: int) -> str | None:
    """"future", "past" or None: the tense cue nearest to `pos` in its sentence.

    Nearest, not any: in "sagte am Mittwoch, dass sie zurückkehren werden" the
    Wednesday belongs to "sagte" (past), not to the reported "werden".
    """
    text = ctx.text
    lo = max(text.rfind(".", 0, pos), text.rfind("\n", 0, pos), pos - 150) + 1
    hi_m = _SENT_BOUND.search(text, pos)
    hi = min(hi_m.start() if hi_m else len(text), pos + 150)
    best: tuple[int, str] | None = None
    for m in _TENSE_CUES.finditer(text, lo, hi):
        dist = abs(m.start() - pos)
        if best is None or dist < best[0]:
            best = (dist, "future" if m["fut"] else "past")
    return best[1] if best else None


def _implicit_year(ctx: _Ctx, month: int, day: int, pos: int) -> int:
    """Year for a year-less date. News: the publication year, unless that puts the date
    after publication in a past-tense clause (or more than two months after it without a
    tense cue) - then the year before; a future clause two months before publication
    ("im Januar" in a December article) moves it to the next year. Narrative: the
    reference year."""
    anchor = ctx.anchor
    assert anchor is not None
    year = anchor.year
    if ctx.mode == "news":
        try:
            cand = date(year, month, min(day, 28))
        except ValueError:
            return year
        tense = _tense(ctx, pos)
        if cand > anchor and (tense == "past" or (tense is None and cand > anchor + timedelta(days=60))):
            year -= 1
        elif tense == "future" and cand < anchor - timedelta(days=60):
            year += 1
    return year


def _resolve_dm(ctx: _Ctx, day: int, month: int, year: int | None, pos: int = 0) -> str | None:
    if year is None:
        if ctx.anchor is None:
            return f"XXXX-{month:02d}-{day:02d}"
        year = _implicit_year(ctx, month, day, pos)
    if year <= 0:
        return f"{_fmt_year(year)}-{month:02d}-{day:02d}"
    try:
        dt = date(year, month, day)
    except ValueError:
        return None
    ctx.set_ref(dt, "day")
    return dt.isoformat()


def _r_daymonth(m: re.Match, ctx: _Ctx):
    value = _resolve_dm(ctx, int(m["d"]), MONTHS[m["mon"]], _year_of(m, "y", "bc"), m.start())
    gd = m.groupdict()
    pod = gd.get("pod") or (gd.get("pod2") or "").capitalize().rstrip("s")
    if value and pod in _PARTS_OF_DAY:
        value += "T" + _PARTS_OF_DAY[pod]
    return (value, "date") if value else None


def _r_month(m: re.Match, ctx: _Ctx):
    month = MONTHS[m["mon"]]
    year = _year_of(m, "y", "bc")
    if year is None:
        if ctx.anchor is None:
            return f"XXXX-{month:02d}", "date"
        year = _implicit_year(ctx, month, 1, m.start())
    elif year > 0:
        ctx.set_ref(date(year, month, 1), "month")
    return f"{_fmt_year(year)}-{month:02d}", "date"


_ASIDE_BEFORE = re.compile(r"(?:seit|ab|von|bis|vor|aus|der|des)\s+$", re.IGNORECASE)


def _r_year(m: re.Match, ctx: _Ctx):
    """A year. After seit/ab/von/bis ("seit 1939") it is an aside about the past or an
    end point, not the new narrative time, so it does not move the reference time."""
    y = _year_of(m, "y", "bc")
    if y is None:
        return None
    if y > 0 and not _ASIDE_BEFORE.search(ctx.text[max(0, m.start() - 8) : m.start()]):
        ctx.set_ref(date(y, 1, 1), "year")
    return _fmt_year(y), "date"


def _r_pos_year(m: re.Match, ctx: _Ctx):
    """Anfang/Mitte/Ende (des Jahres) YEAR, or of the anchor year without one."""
    y = _year_of(m, "y", "bc")
    if y is None:
        anchor = ctx.anchor
        if anchor is None:
            return None
        y = anchor.year
    elif y > 0:
        ctx.set_ref(date(y, 1, 1), "year")
    return _fmt_year(y), "date"


def _r_pos_month(m: re.Match, ctx: _Ctx):
    anchor = ctx.anchor
    if anchor is None:
        return None
    return f"{anchor.year:04d}-{anchor.month:02d}", "date"


def _r_season(m: re.Match, ctx: _Ctx):
    code = SEASONS[m["sea"]]
    y = _year_of(m, "y", "bc")
    if y is None:
        anchor = ctx.anchor
        if anchor is None:
            return f"XXXX-{code}", "date"
        y = anchor.year
    return f"{_fmt_year(y)}-{code}", "date"


def _r_century(m: re.Match, ctx: _Ctx):
    n = int(m["n"])
    if m["bc"]:
        return f"BC{n - 1:02d}", "date"
    return f"{n - 1:02d}", "date"


def _r_clock(m: re.Match, ctx: _Ctx):
    h, mi = int(m["h"]), int(m["mi"] or m["mi2"] or m["mi3"] or 0)
    if h > 24 or mi > 59:
        return None
    anchor = ctx.anchor
    day = anchor.isoformat() if anchor is not None else "XXXX-XX-XX"
    return f"{day}T{h:02d}:{mi:02d}", "date"


def _r_weekday(m: re.Match, ctx: _Ctx):
    value = _weekday_date(ctx, m.start("x"), WEEKDAYS[m["wd"]])
    suffix = m["x"][len(m["wd"]) :].rstrip("s").capitalize()  # Sonntagabend -> Abend
    if suffix in _PARTS_OF_DAY and not value.startswith("XXXX"):
        value += "T" + _PARTS_OF_DAY[suffix]
    return value, "date"


_PARTS_OF_DAY = {"Morgen": "MO", "Vormittag": "MO", "Mittag": "MI", "Nachmittag": "AF",
                 "Abend": "EV", "Nacht": "NI"}


def _r_relative(m: re.Match, ctx: _Ctx):
    """dies-/vergangen-/nächst-/selb- + Jahr/Monat/Woche/Tag/weekday/month/season."""
    adj, noun = m["adj"].lower(), m["noun"]
    anchor = ctx.anchor
    if adj.startswith(("vergangen", "letzt", "vorig", "früher", "gestrig")):
        step = -1
    elif adj.startswith(("kommend", "nächst", "folgend", "darauffolgend", "morgig")):
        step = 1
    else:
        step = 0
    if noun in WEEKDAYS:
        if anchor is None:
            return f"XXXX-WXX-{WEEKDAYS[noun]}", "date"
        diff = WEEKDAYS[noun] - anchor.isoweekday()
        if step > 0:
            d = anchor + timedelta(days=(diff % 7) or 7)
        elif step < 0:
            d = anchor - timedelta(days=((-diff) % 7) or 7)
        else:
            d = anchor + timedelta(days=diff)
        return d.isoformat(), "date"
    if anchor is None:
        return None, "date"
    if noun in MONTHS:
        month = MONTHS[noun]
        year = anchor.year + (step if step and ((step < 0) == (month >= anchor.month)) else 0)
        return f"{year:04d}-{month:02d}", "date"
    if noun in SEASONS:
        return f"{anchor.year + step:04d}-{SEASONS[noun]}", "date"
    if noun.startswith("Jahrzehnt"):
        return f"{(anchor.year // 10 + step):03d}", "date"
    if noun.startswith("Jahr"):
        if step:
            ctx.set_ref(date(anchor.year + step, 1, 1), "year")
        return f"{anchor.year + step:04d}", "date"
    if noun.startswith("Monat"):
        return _gran_value(_add_months(anchor.replace(day=1), step), "M"), "date"
    if noun == "Wochenende":
        return _gran_value(anchor + timedelta(weeks=step), "W") + "-WE", "date"
    if noun.startswith("Woche"):
        return _gran_value(anchor + timedelta(weeks=step), "W"), "date"
    if noun.startswith("Tag"):
        return (anchor + timedelta(days=step)).isoformat(), "date"
    if noun in _PARTS_OF_DAY:
        return f"{(anchor + timedelta(days=step)).isoformat()}T{_PARTS_OF_DAY[noun]}", "date"
    return None


def _r_prev(m: re.Match, ctx: _Ctx):
    """Vorjahr, Vormonat, Vorwoche, Vortag; Jahresende/-beginn/-mitte."""
    anchor = ctx.anchor
    if anchor is None:
        return None, "date"
    w = m["x"]
    if w.startswith("Vorjahr"):
        return f"{anchor.year - 1:04d}", "date"
    if w.startswith("Vormonat"):
        return _gran_value(_add_months(anchor.replace(day=1), -1), "M"), "date"
    if w.startswith("Vorwoche"):
        return _gran_value(anchor - timedelta(weeks=1), "W"), "date"
    if w.startswith("Vortag"):
        return (anchor - timedelta(days=1)).isoformat(), "date"
    return f"{anchor.year:04d}", "date"


def _r_last_n(m: re.Match, ctx: _Ctx):
    """(den) letzten/vergangenen/kommenden (drei) Jahren -> duration."""
    code, is_time = UNITS[m["unit"]]
    n = _number(m["n"]) if m["n"] else None
    return _duration(n, code, is_time), "duration"


def _r_duration(m: re.Match, ctx: _Ctx):
    """N Einheiten [später|zuvor]; "vor N Einheiten" (ago) -> a date, else a duration."""
    code, is_time = UNITS[m["unit"]]
    n = _number(m["n"])
    direction = 0
    after = (m["after"] or "").lower()
    if after in ("später", "danach", "darauf"):
        direction = 1
    elif after in ("zuvor", "vorher", "davor", "früher"):
        direction = -1
    elif m["pre"] and m["pre"].lower() == "vor":
        direction = -2  # ago: relative to now (the DCT), not to the reference time
    if direction == 0 or is_time:
        return _duration(n, code, is_time), "duration"
    anchor = ctx.dct if direction == -2 and ctx.mode == "news" else ctx.anchor
    if anchor is None or n is None or code == "CE":
        return None, "date"
    d = _shift(anchor, n if direction > 0 else -n, code)
    if d is None:
        return None, "date"
    return _gran_value(d, code), "date"


def _r_deictic(m: re.Match, ctx: _Ctx):
    kind, value, news_only = DEICTIC[m["x"]]
    if news_only and ctx.mode != "news":
        return None
    if kind == "day":
        if ctx.mode == "narrative" and value == "0":
            return "PRESENT_REF", "reference"
        base = ctx.dct if ctx.mode == "news" else ctx.anchor
        if base is None:
            return None, "date"
        return (base + timedelta(days=int(value))).isoformat(), "date"
    if kind == "set":
        return value, "set"
    return value, "reference"


def _r_vague_relative(m: re.Match, ctx: _Ctx):
    """wenig später, kurz zuvor: a reference to an unspecified time after/before now."""
    after = m["dir"] in ("später", "danach", "darauf")
    return ("FUTURE_REF" if after else "PAST_REF"), "reference"


def _r_deictic_pod(m: re.Match, ctx: _Ctx):
    """heute Abend, gestern Nacht, morgen früh: the day plus a TIMEX2 part of day."""
    offset = {"heute": 0, "gestern": -1, "vorgestern": -2, "morgen": 1}[m["day"].lower()]
    pod = "MO" if m["pod"].lower() == "früh" else _PARTS_OF_DAY[m["pod"]]
    if ctx.mode == "narrative" or ctx.dct is None:
        return None, "date"
    return f"{(ctx.dct + timedelta(days=offset)).isoformat()}T{pod}", "date"


def _r_set(m: re.Match, ctx: _Ctx):
    code, _is_time = UNITS[m["unit"]]
    return f"P1{code}", "set"


def _r_decade(m: re.Match, ctx: _Ctx):
    if m["c"]:
        return f"{m['c']}{m['dd'][0]}", "date"
    dd = m["dd2"]
    century = 19 if int(dd) >= 30 else 20
    return f"{century}{dd[0]}", "date"


def _r_vague_duration(m: re.Match, ctx: _Ctx):
    w = (m["x"] or m["x2"]).lower()
    for stem, c, t in (("jahrzehnt", "DE", False), ("jahr", "Y", False), ("monat", "M", False),
                       ("woche", "W", False), ("tag", "D", False), ("stunde", "H", True)):
        if w.startswith(stem):
            return _duration(None, c, t), "duration"
    return None


_RULES: list[tuple[str, re.Pattern[str], Resolver]] = [
    ("weekday_date", re.compile(
        rf"(?P<x>(?P<wd0>{_WEEKDAY}),?\s+(?:den\s+)?(?P<d>\d{{1,2}})\.\s*(?P<mon>{_MONTH})"
        rf"(?:\s+(?P<y>{_YEAR}))?(?P<bc>{_BC})?)"), _r_daymonth),
    ("numeric", re.compile(
        r"(?<![\d.])(?P<x>(?P<d>[0-3]?\d)\.(?P<mo>[01]?\d)\.(?P<y>\d{4}|\d{2}))(?![\d])"),
     _r_numeric),
    ("iso", re.compile(
        r"(?<![\d-])(?P<x>(?P<y>\d{4})-(?P<mo>[01]\d)-(?P<d>[0-3]\d)"
        r"(?:T(?P<h>\d\d):(?P<mi>\d\d)(?::(?P<s>\d\d))?)?)(?![\d])"), _r_iso),
    ("daymonth", re.compile(
        rf"(?<![\d.])(?P<x>(?:(?:frühen\s+|späten\s+)?(?P<pod>{_POD})\s+des\s+)?"
        rf"(?P<d>[0-3]?\d)\.\s*(?P<mon>{_MONTH})(?:\s+(?P<y>\d{{1,4}}(?={_BC})|{_YEAR}))?(?P<bc>{_BC})?"
        r"(?:\s+(?P<pod2>morgens|abends|nachts|vormittags|nachmittags|mittags))?)"), _r_daymonth),
    ("day_in_range", re.compile(
        rf"(?<![\d.])(?P<x>(?P<d>[0-3]?\d)\.)(?=\s*(?:und|bis|oder|auf|zum|–|-|/)\s*(?:zum\s+)?[0-3]?\d\.\s*"
        rf"(?P<mon>{_MONTH})(?:\s+(?P<y>{_YEAR}))?(?P<bc>{_BC})?)"), _r_daymonth),
    ("pos_month", re.compile(
        rf"(?P<x>(?:{_POS_WORD})\s+(?P<mon>{_MONTH})(?:\s+(?P<y>{_YEAR}))?(?P<bc>{_BC})?)"), _r_month),
    ("month_year", re.compile(
        rf"(?<![\wäöüß])(?P<x>(?P<mon>{_MONTH})\s+(?P<y>\d{{1,4}}(?={_BC})|{_YEAR})(?P<bc>{_BC})?)"),
     _r_month),
    # a bare month name; not "August Bebel" (month followed by a capitalised name + noun)
    ("month", re.compile(
        rf"(?<![\wäöüß])(?P<x>(?P<mon>{_MONTH}))(?!\s+[A-ZÄÖÜ][a-zäöüß]+\s+[A-ZÄÖÜ])"), _r_month),
    ("pos_year", re.compile(
        rf"(?P<x>(?:{_POS_WORD}|Jahresende|Jahresbeginn|Jahresanfang|Jahresmitte)"
        rf"(?:\s+(?:des|dieses|jenes)\s+Jahres)?(?:\s+(?P<y>\d{{1,4}}(?={_BC})|{_YEAR})(?P<bc>{_BC})?)?)"
        rf"(?<!Anfang)(?<!Mitte)(?<!Ende)(?<!Beginn)(?<!Ausgang)(?<!Laufe)"),
     _r_pos_year),
    ("pos_month_rel", re.compile(
        r"(?P<x>(?:Anfang|Mitte|Ende|Beginn|Laufe)\s+(?:des|dieses|jenes)\s+Monats)"), _r_pos_month),
    ("season", re.compile(
        rf"(?<![\wäöüß])(?P<x>(?:(?:des|dem|den)\s+)?(?:späten\s+|frühen\s+)?(?P<sea>{_SEASON})"
        rf"(?:\s+(?:des\s+Jahres\s+)?(?P<y>\d{{1,4}}(?={_BC})|{_YEAR})(?P<bc>{_BC})?)?)(?![\wäöüß])"),
     _r_season),
    ("decade", re.compile(
        r"(?P<x>(?:(?:den|der|die)\s+)?(?:(?P<c>1\d|20)(?P<dd>\d0)|(?P<dd2>\d0))er(?:\s+|-)?Jahre[n]?)"),
     _r_decade),
    ("century", re.compile(
        rf"(?P<x>(?:(?:Anfang|Mitte|Ende|Laufe|Beginn)\s+des\s+)?(?P<n>[12]?\d)\.\s*(?:Jahrhunderts?|Jh\.)(?P<bc>{_BC})?)"),
     _r_century),
    ("year", re.compile(
        rf"(?<![\wäöüß\d.,])(?P<x>(?:(?:[Uu]m\s+das\s+)?Jahre?s?\s+)?"
        rf"(?P<y>{_YEAR}|\d{{1,4}}(?={_BC}))(?P<bc>{_BC})?(?:{_AD})?)"), _r_year),
    ("clock", re.compile(
        r"(?<![\d.,:])(?P<x>(?:knapp\s+|etwa\s+)?(?P<h>[0-2]?\d)(?:[:.](?P<mi>[0-5]\d)\s*Uhr|\s*Uhr\s+(?P<mi2>[0-5]\d)(?![\d\wäöüß.,])"
        r"|\s*Uhr|:(?P<mi3>[0-5]\d)(?![\d:])))(?![\wäöüß])"),
     _r_clock),
    ("weekday", re.compile(
        rf"(?<![\wäöüß])(?P<x>(?P<wd>{_WEEKDAY})(?:abend|morgen|vormittag|nachmittag|mittag|nacht)?s?)(?![\wäöüß])"),
     _r_weekday),
    ("relative", re.compile(
        rf"(?<![\wäöüß])(?P<x>(?:(?:am|im|an|in)\s+(?=(?:selb|gleich|dies)))?{_DET}(?P<adj>{_REL_ADJ}\w*)"
        rf"\s+(?P<noun>{_REL_NOUN}))(?![\wäöüß])",
        re.IGNORECASE), _r_relative),
    ("prev", re.compile(
        r"(?<![\wäöüß])(?P<x>Vorjahr(?:es|s)?|Vormonat(?:s)?|Vorwoche|Vortag(?:es|s)?"
        r"|Jahresende|Jahresbeginn|Jahresanfang|Jahresmitte)(?![\wäöüß])"), _r_prev),
    ("last_n", re.compile(
        rf"(?<![\wäöüß])(?P<x>{_DET}(?:letzten|vergangenen|kommenden|nächsten|ersten|folgenden)\s+"
        rf"(?:(?P<n>{_NUMWORD})\s+)?(?P<unit>{_UNIT}))", re.IGNORECASE), _r_last_n),
    ("duration", re.compile(
        rf"(?<![\wäöüß])(?:(?P<pre>[Vv]or|[Ss]eit|[Ff]ür|[Ii]nnerhalb|[Bb]innen)\s+)?"
        rf"(?P<x>(?:[Nn]ach\s+)?(?:(?:mehr|weniger)\s+als\s+|etwa\s+|rund\s+|knapp\s+|fast\s+|über\s+)?"
        rf"(?P<n>{_NUMWORD}|\d+(?:,\d+)?)\s+(?:(?:halbe[nm]?|weitere[nm]?|volle[nm]?)\s+)?"
        rf"(?P<unit>{_UNIT})(?:\s+(?P<after>später|danach|darauf|zuvor|vorher|davor|lang))?)",
        re.IGNORECASE), _r_duration),
    ("vague_duration", re.compile(
        r"(?<=[Ss]eit\s)(?P<x>Jahren|Jahrzehnten|Monaten|Wochen|Tagen|Stunden)(?![\wäöüß])"
        r"|(?<![\wäöüß])(?P<x2>jahrelang|jahrzehntelang|monatelang|wochenlang|tagelang|stundenlang)"
        r"(?![\wäöüß])"), _r_vague_duration),
    ("vague_relative", re.compile(
        r"(?<![\wäöüß])(?P<x>(?:[Ww]enig|[Kk]urz|[Kk]urze\s+Zeit|[Ee]inige\s+Zeit|[Ww]enige\s+(?:Tage|Wochen|Monate|Jahre)"
        r"|[Ee]inige\s+(?:Tage|Wochen|Monate|Jahre))\s+(?P<dir>später|danach|darauf|zuvor|vorher|davor))"
        r"(?![\wäöüß])"), _r_vague_relative),
    ("deictic_pod", re.compile(
        r"(?<![\wäöüß])(?P<x>(?P<day>[Hh]eute|[Gg]estern|[Vv]orgestern|morgen)\s+"
        r"(?P<pod>früh|Früh|Morgen|Vormittag|Mittag|Nachmittag|Abend|Nacht))(?![\wäöüß])"),
     _r_deictic_pod),
    ("set", re.compile(
        r"(?<![\wäöüß])(?P<x>(?:jeden|jede|jedes|alle)\s+(?P<unit>Tag|Woche|Monat|Jahr))(?![\wäöüß])"),
     _r_set),
    ("deictic", re.compile(
        rf"(?<![\wäöüß-])(?P<x>{_alt(list(DEICTIC))})(?![\wäöüß-])"), _r_deictic),
]



_RULE_RANK = {name: i for i, (name, _, _) in enumerate(_RULES)}

#: Cheap literal-led gates: a rule only runs when its trigger occurs in the text. Most
#: articles have no "30er Jahre", "Jahrhundert" or ISO date, so this halves the time.
_TRIGGERS: dict[str, re.Pattern[str]] = {
    name: re.compile(rx) for name, rx in {
        "numeric": r"\d\.[01]?\d\.\d\d",
        "iso": r"\d{4}-[01]\d-[0-3]\d",
        "daymonth": r"\d\.\s*[A-ZÄÖÜ]",
        "day_in_range": r"\d\.\s*[A-ZÄÖÜ]",
        "weekday_date": r"tag|woch|abend",
        "decade": r"\der",
        "century": r"Jahrhundert|Jh\.",
        "clock": r"Uhr|\d:\d",
        "duration": r"Sekunde|Minute|Stunde|Tag|Woche|Monat|Jahr",
        "last_n": r"Sekunde|Minute|Stunde|Tag|Woche|Monat|Jahr",
        "vague_duration": r"[Ss]eit|lang",
        "vague_relative": r"später|danach|darauf|zuvor|vorher|davor",
        "set": r"[Jj]ede|[Aa]lle",
        "pos_month_rel": r"Monats",
        "season": r"Frühjahr|Frühling|[Ss]ommer|Herbst|Winter",
        "pos_month": r"Anfang|Mitte|Ende|Beginn|Ausgang|Laufe",
    }.items()
}

# Determiners/hedges may be optional parts of an extent but never a whole one.
_YEAR_AS_COUNT_BEFORE = re.compile(
    r"(?:rund|etwa|ungefähr|circa|ca\.|knapp|fast|über|mindestens|insgesamt|als|bis zu|"
    r"weitere|nur|noch|sogar)\s*$", re.IGNORECASE)
_YEAR_CUE_BEFORE = re.compile(
    r"(?:seit|bis|ab|von|vom|im|um|zwischen|Jahr|Jahre|Jahres|Anfang|Mitte|Ende|Frühjahr|"
    r"Sommer|Herbst|Winter|[(–\-/])\s*$")
_CAP_WORD_AFTER = re.compile(r"[^\S\n]+[A-ZÄÖÜ][a-zäöüß]+(?:en|er|e|n)\b")


def _year_is_count(text: str, start: int, end: int) -> bool:
    """A bare 4-digit number that is a count ("1500 Soldaten", "rund 1200"), not a year.

    A year cue right before (seit, im, Jahr, Anfang...) wins; then a hedge before it or a
    plural-looking noun right after it ("1500 Soldaten") says it is a count.
    """
    before = text[max(0, start - 20) : start]
    if _YEAR_CUE_BEFORE.search(before):
        return False
    if _YEAR_AS_COUNT_BEFORE.search(before):
        return True
    return bool(_CAP_WORD_AFTER.match(text, end))


# --------------------------------------------------------------------------- extraction


def _candidates(text: str) -> list[tuple[int, int, int, str, re.Match]]:
    out = []
    for name, rx, _res in _RULES:
        trigger = _TRIGGERS.get(name)
        if trigger is not None and trigger.search(text) is None:
            continue
        for m in rx.finditer(text):
            gd = m.groupdict()
            key = "x" if gd.get("x") is not None else ("x2" if gd.get("x2") else None)
            s, e = (m.span(key) if key else m.span())
            if e <= s:
                continue
            if name == "year" and m["x"] == m["y"] and not m["bc"] and _year_is_count(text, s, e):
                continue
            out.append((s, e, _RULE_RANK[name], name, m))
    return out


def find_times(text: str, published: date | None, mode: str = "news", merge_ranges: bool = True
               ) -> list[tuple[int, int, str | None, str]]:
    """All time expressions in `text` as (start, end, value, type), in text order.

    Overlaps are resolved longest-first (ties: earlier rule), so "24. Februar 2022" wins
    over "Februar 2022" and "2022". `merge_ranges=False` keeps the two ends of a range
    apart (TIMEX2 annotates them so; the WikiWarsDE evaluation uses it).
    """
    cands = _candidates(text)
    cands.sort(key=lambda c: (-(c[1] - c[0]), c[2], c[0]))
    taken: list[tuple[int, int]] = []
    chosen = []
    for c in cands:
        s, e = c[0], c[1]
        if any(s < te and ts < e for ts, te in taken):
            continue
        taken.append((s, e))
        chosen.append(c)
    chosen.sort(key=lambda c: c[0])
    ctx = _Ctx(dct=published, mode=mode, text=text)
    resolvers = {name: res for name, _, res in _RULES}
    out = []
    for s, e, _rank, name, m in chosen:
        res = resolvers[name](m, ctx)
        if res is None:
            continue
        value, typ = res
        out.append((s, e, value, typ))
    return _merge_ranges(text, out) if merge_ranges else out


_RANGE_GAP = re.compile(r"\s*(?:bis(?:\s+(?:zum|zur|in\s+den|einschließlich))?|[-–])\s*")
_BETWEEN = re.compile(r"zwischen\s+(?:dem\s+|den\s+)?$", re.IGNORECASE)


def _merge_ranges(text: str, found: list[tuple[int, int, str | None, str]]
                  ) -> list[tuple[int, int, str | None, str]]:
    """"vom 3. bis 5. März", "zwischen 2019 und 2021", "Montag bis Mittwoch": two dates
    joined by bis/–/und become one ISO interval ("2024-03-03/2024-03-05"), so a range
    is one time with a start and an end instead of two unrelated dates."""
    out: list[tuple[int, int, str | None, str]] = []
    i = 0
    while i < len(found):
        a = found[i]
        if i + 1 < len(found):
            b = found[i + 1]
            gap = text[a[1]:b[0]]
            linked = _RANGE_GAP.fullmatch(gap) is not None or (
                gap.strip() == "und" and _BETWEEN.search(text, max(0, a[0] - 20), a[0]) is not None)
            if (linked and a[3] == b[3] == "date" and a[2] and b[2] and "X" not in a[2] + b[2]
                    and not a[2].startswith("-") and a[2][:len(b[2])] <= b[2][:len(a[2])]):
                out.append((a[0], b[1], f"{a[2]}/{b[2]}", "interval"))
                i += 2
                continue
        out.append(a)
        i += 1
    return out


@Language.factory("lagebild_times", default_config={"mode": "news"})
def make_time_component(nlp: Language, name: str, mode: str) -> Callable[[Doc], Doc]:
    """`mode`: "news" (anchor = publication date) or "narrative" (anchor = last date)."""

    def time_component(doc: Doc) -> Doc:
        found = find_times(doc_text(doc), doc._.lb_published, mode)
        doc._.lb_times = [
            TimeExpr(id=f"t{i}", span=span_model(doc, s, e), value=v, type=t)  # type: ignore[arg-type]
            for i, (s, e, v, t) in enumerate(found, 1)
        ]
        return doc

    return time_component
