"""Quantities layer: values, ranges, vague amounts, hedges, units, exclusions, sources."""

from __future__ import annotations

from datetime import date

import pytest
import spacy

import lagebild.extract  # noqa: F401  (registers Doc extensions)
from lagebild.extract.quantities import (
    find_quantities,
    parse_number,
    parse_number_word,
    statement_for,
)
from lagebild.extract.time import find_times
from lagebild.schema import Span, Statement, TimeExpr

PUB = date(2024, 10, 23)


def quantities(text: str) -> dict[str, dict]:
    """Quantities keyed by span text, with the time layer's output as the pipeline gives it."""
    found = find_times(text, PUB)
    tex = [TimeExpr(id=f"t{i}", span=Span(start=s, end=e, text=text[s:e]), value=v, type=t)
           for i, (s, e, v, t) in enumerate(found)]
    out = {}
    for q in find_quantities(text, tex):
        out[text[q["start"] : q["end"]]] = q
    return out


@pytest.fixture(scope="module")
def nlp():
    nlp = spacy.blank("de")
    nlp.add_pipe("lagebild_times")
    nlp.add_pipe("lagebild_quantities")
    return nlp


def test_number_words() -> None:
    assert parse_number_word("dreiundzwanzig") == 23
    assert parse_number_word("zweihundertfünfzig") == 250
    assert parse_number_word("zehntausend") == 10000
    assert parse_number_word("dreihunderttausendvierzig") == 300040
    assert parse_number_word("hundert") == 100
    assert parse_number_word("Kanzler") is None
    assert parse_number("2,5 Millionen") == 2_500_000
    assert parse_number("1,2 Mrd.") == 1_200_000_000
    assert parse_number("10.000") == 10000
    assert parse_number("zwei Dutzend") == 24


def test_german_digits_scales_units() -> None:
    got = quantities("Die Hilfe umfasst 2,5 Millionen Euro, 1,2 Mrd. Dollar, 3.500 Euro und 20 km Straße; "
                     "die Partei kam auf 41,7 Prozent der Stimmen.")
    assert got["2,5 Millionen Euro"]["value"] == 2_500_000 and got["2,5 Millionen Euro"]["unit"] == "Euro"
    assert got["1,2 Mrd. Dollar"]["value"] == 1_200_000_000
    assert got["3.500 Euro"]["value"] == 3500
    assert got["20 km"]["unit"] == "km"
    pct = got["41,7 Prozent"]
    assert pct["value"] == 41.7 and pct["unit"] == "Prozent" and pct["quantifies"] == "der Stimmen"


def test_counted_noun_is_unit_and_in_span() -> None:
    got = quantities("Nach Angaben der Regierung sind 10.000 nordkoreanische Soldaten im Land.")
    q = got["10.000 nordkoreanische Soldaten"]
    assert q["value"] == 10000 and q["unit"] == "Soldaten"
    assert q["quantifies"] == "nordkoreanische Soldaten"


def test_hedges() -> None:
    got = quantities("Es kamen rund 300 Helfer, etwa 40 Ärzte, fast 90 Prozent, knapp 12 Tonnen, "
                     "mehr als 1.000 Menschen, über 50 Fahrzeuge, mindestens 7 Tote, bis zu 500 Euro "
                     "und weniger als 5 km.")
    assert got["rund 300 Helfer"]["approximate"] == "rund"
    assert got["etwa 40 Ärzte"]["approximate"] == "etwa"
    assert got["fast 90 Prozent"]["high"] == 90
    assert got["knapp 12 Tonnen"]["unit"] == "Tonnen"
    assert got["mehr als 1.000 Menschen"]["low"] == 1000
    assert got["über 50 Fahrzeuge"]["approximate"] == "über"
    assert got["mindestens 7 Tote"]["low"] == 7
    assert got["bis zu 500 Euro"]["high"] == 500
    assert got["weniger als 5 km"]["high"] == 5


def test_ranges() -> None:
    got = quantities("Die Fahrt dauert 24 bis 36 Stunden; zwischen 5.000 und 7.000 Menschen flohen.")
    r = got["24 bis 36 Stunden"]
    assert (r["value"], r["low"], r["high"], r["unit"]) == (None, 24, 36, "Stunden")
    r = got["zwischen 5.000 und 7.000 Menschen"]
    assert (r["low"], r["high"], r["unit"]) == (5000, 7000, "Menschen")


def test_number_words_and_vague_amounts() -> None:
    got = quantities("Zehn Soldaten, drei Panzer, zwei Dutzend Drohnen, Hunderte Zivilisten, "
                     "dutzende Häuser, Zehntausende Freiwillige und eine Million Menschen.")
    assert got["Zehn Soldaten"]["value"] == 10
    assert got["drei Panzer"]["value"] == 3
    assert got["zwei Dutzend Drohnen"]["value"] == 24
    assert (got["Hunderte Zivilisten"]["low"], got["Hunderte Zivilisten"]["high"]) == (100, 999)
    assert got["dutzende Häuser"]["value"] is None and got["dutzende Häuser"]["low"] == 24
    z = got["Zehntausende Freiwillige"]
    assert (z["value"], z["low"], z["high"]) == (None, 10000, 99999)
    assert got["eine Million Menschen"]["value"] == 1_000_000


def test_exclusions_dates_years_clock_ordinals_articles_ids() -> None:
    text = ("Am 24. Februar 2022 um 5 Uhr begann der Krieg, seit 2014 gibt es Kämpfe. Die 3. Armee "
            "und die fünfte Runde nach Artikel 5 mit einer F-35 – ein Soldat stand vor einem Haus.")
    assert quantities(text) == {}


def test_casualty_one_counts_but_plain_article_does_not() -> None:
    got = quantities("Ein weiterer Soldat wurde getötet; eine weitere Welle ist geplant.")
    assert got["Ein weiterer Soldat"]["value"] == 1
    assert not any("Welle" in k for k in got)


@pytest.mark.parametrize(("text", "span"), [
    ("Dabei wurde ein Soldat getötet.", "ein Soldat"),
    ("Bei dem Angriff starben 31 Menschen, darunter ein Kind.", "ein Kind"),
    ("Bei dem Unglück kam ein Mann ums Leben.", "ein Mann"),
    # no casualty in the sentence: an indefinite article
    ("Ein Soldat patrouilliert am Grenzzaun.", None),
    ("Ein Soldat sprach von einer totalen Niederlage.", None),
])
def test_article_before_a_casualty_noun_counts_in_a_casualty_sentence(text: str, span: str | None) -> None:
    got = {k: v for k, v in quantities(text).items() if v["value"] == 1}
    assert list(got) == ([span] if span else [])


def test_duration_with_number_is_a_quantity() -> None:
    got = quantities("Die Ausbildung dauert drei Jahre.")
    assert got["drei Jahre"]["value"] == 3 and got["drei Jahre"]["unit"] == "Jahre"


def _st(doc, sid: str, speaker: str | None, start: int, end: int, parts=()) -> Statement:
    return Statement(id=sid, kind="indirect", speaker=speaker,
                     content=Span(start=start, end=end, text=doc.text[start:end]),
                     parts=[Span(start=s, end=e, text=doc.text[s:e]) for s, e in parts])


def test_source_lookup_from_statements(nlp) -> None:
    text = ("Das Ministerium sagte, 300 Soldaten seien verletzt worden. "
            "Zuvor waren 40 Panzer zerstört worden. "
            "„Wir haben 12 Drohnen“, sagte er, „und 5 Raketen abgefangen.“")
    doc = nlp.make_doc(text)
    doc._.lb_published = PUB
    c1 = text.index("300")
    e1 = text.index(" Zuvor") - 1
    p1 = (text.index("Wir"), text.index("“, sagte"))
    p2 = (text.index("und 5"), text.rindex("“"))
    doc._.lb_statements = [_st(doc, "s1", "e1", c1, e1), _st(doc, "s2", "e2", p1[0], p2[1], [p1, p2])]
    for _, proc in nlp.pipeline:
        doc = proc(doc)
    qs = {q.span.text: q for q in doc._.lb_quantities}
    assert [q.id for q in doc._.lb_quantities] == ["q1", "q2", "q3", "q4"]
    for q in qs.values():
        assert doc.text[q.span.start : q.span.end] == q.span.text
    assert (qs["300 Soldaten"].source, qs["300 Soldaten"].statement) == ("e1", "s1")
    assert (qs["40 Panzer"].source, qs["40 Panzer"].statement) == (None, None)
    assert qs["12 Drohnen"].statement == "s2" and qs["5 Raketen"].source == "e2"


def test_statement_for_prefers_innermost() -> None:
    text = "Er sagte, laut Behörden seien 20 Menschen gestorben."
    outer = Statement(id="s1", kind="indirect", speaker="e1",
                      content=Span(start=9, end=len(text) - 1, text=text[9:-1]))
    inner_start = text.index("20")
    inner = Statement(id="s2", kind="according_to", speaker=None,
                      content=Span(start=inner_start, end=len(text) - 1, text=text[inner_start:-1]))
    assert statement_for(inner_start, inner_start + 2, [outer, inner]).id == "s2"
    assert statement_for(0, 2, [outer, inner]) is None
