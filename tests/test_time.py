"""Time layer: extents (TIMEX2 convention) and ISO values, on invented sentences."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import spacy

import lagebild.extract  # noqa: F401  (registers Doc extensions)
from lagebild.extract.time import find_times

PUB = date(2024, 10, 23)  # a Wednesday
REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def times(text: str, published: date | None = PUB, mode: str = "news") -> dict[str, tuple]:
    found = find_times(text, published, mode)
    for s, e, _, _ in found:
        assert 0 <= s < e <= len(text)
    return {text[s:e]: (v, t) for s, e, v, t in found}


@pytest.fixture(scope="module")
def nlp():
    nlp = spacy.blank("de")
    nlp.add_pipe("lagebild_times")
    return nlp


def test_component_writes_schema_objects_with_offsets(nlp) -> None:
    doc = nlp.make_doc("Am Mittwoch traf sich der Rat, gestern reiste die Delegation ab.")
    doc._.lb_published = PUB
    doc = nlp.get_pipe("lagebild_times")(doc)
    got = doc._.lb_times
    assert [t.id for t in got] == ["t1", "t2"]
    for t in got:
        assert doc.text[t.span.start : t.span.end] == t.span.text
    assert [(t.span.text, t.value) for t in got] == [
        ("Mittwoch", "2024-10-23"), ("gestern", "2024-10-22")]


def test_full_dates() -> None:
    got = times("Der Vertrag wurde am 24. Februar 2022 und am 24.02.2022 sowie am 2022-02-24 erwähnt.")
    assert got["24. Februar 2022"] == ("2022-02-24", "date")
    assert got["24.02.2022"] == ("2022-02-24", "date")
    assert got["2022-02-24"] == ("2022-02-24", "date")


def test_deictic_days_and_references() -> None:
    got = times("Heute tagt der Ausschuss, gestern der Rat, morgen das Plenum; bisher gab es keine Einigung.")
    assert got["Heute"] == ("2024-10-23", "date")
    assert got["gestern"] == ("2024-10-22", "date")
    assert got["morgen"] == ("2024-10-24", "date")
    assert got["bisher"] == ("PRESENT_REF", "reference")


def test_relative_years_weeks_months() -> None:
    got = times("Im vergangenen Jahr stieg die Zahl, letzte Woche sank sie, im nächsten Monat "
                "soll sie wieder steigen, im Vorjahr war sie stabil.")
    assert got["vergangenen Jahr"] == ("2023", "date")
    assert got["letzte Woche"] == ("2024-W42", "date")
    assert got["nächsten Monat"] == ("2024-11", "date")
    assert got["Vorjahr"] == ("2023", "date")


def test_month_and_position_words() -> None:
    got = times("Im Oktober begann die Offensive, Anfang 2023 die Verhandlungen, Mitte März der Rückzug.")
    assert got["Oktober"] == ("2024-10", "date")
    assert got["Anfang 2023"] == ("2023", "date")
    assert got["Mitte März"] == ("2024-03", "date")


def test_yearless_month_in_past_clause_goes_to_previous_year() -> None:
    got = times("Im Dezember waren es noch weniger Soldaten.")
    assert got["Dezember"] == ("2023-12", "date")
    got = times("Im Dezember soll das Treffen stattfinden.")
    assert got["Dezember"] == ("2024-12", "date")


def test_weekday_past_and_future() -> None:
    got = times("Der Minister sagte am Montag, das Paket werde geprüft.")
    assert got["Montag"] == ("2024-10-21", "date")
    got = times("Am Freitag wird die Kanzlerin nach Paris reisen.")
    assert got["Freitag"] == ("2024-10-25", "date")
    got = times("Er sagte am Mittwoch, dass die Truppen zurückkehren werden.")
    assert got["Mittwoch"] == ("2024-10-23", "date")


def test_weekday_with_part_of_day() -> None:
    got = times("Der Angriff am Sonntagabend traf ein Wohnhaus.")
    assert got["Sonntagabend"] == ("2024-10-20TEV", "date")


def test_since_and_decades_and_centuries() -> None:
    got = times("Seit 2014 herrscht Krieg; in den letzten Jahrzehnten und in den 1990er Jahren "
                "sowie im 20. Jahrhundert gab es viele Konflikte.")
    assert got["2014"] == ("2014", "date")
    assert got["den letzten Jahrzehnten"] == ("PXDE", "duration")
    assert got["den 1990er Jahren"] == ("199", "date")
    assert got["20. Jahrhundert"] == ("19", "date")


def test_durations_and_ago() -> None:
    got = times("Die Ausbildung dauert drei Jahre. Vor zwei Jahren begann sie, vor vier Wochen "
                "endete ein Kurs von 36 Stunden.")
    assert got["drei Jahre"] == ("P3Y", "duration")
    assert got["zwei Jahren"] == ("2022", "date")
    assert got["vier Wochen"] == ("2024-W39", "date")
    assert got["36 Stunden"] == ("PT36H", "duration")


def test_seasons_clock_and_sets() -> None:
    got = times("Im Sommer 2023 um 14:30 Uhr begann die Sitzung, die täglich stattfindet.")
    assert got["Sommer 2023"] == ("2023-SU", "date")
    assert got["14:30 Uhr"] == ("2024-10-23T14:30", "date")
    assert got["täglich"] == ("P1D", "set")


def test_count_is_not_a_year() -> None:
    got = times("Die Armee schickte 1500 Soldaten und rund 1200 Fahrzeuge.")
    assert "1500" not in got and "1200" not in got
    got = times("1945 endete der Krieg.")
    assert got["1945"] == ("1945", "date")


def test_without_publication_date_values_are_underspecified() -> None:
    got = times("Am 3. März und im Oktober, gestern und am Mittwoch.", published=None)
    assert got["3. März"] == ("XXXX-03-03", "date")
    assert got["Oktober"] == ("XXXX-10", "date")
    assert got["gestern"] == (None, "date")
    assert got["Mittwoch"] == ("XXXX-WXX-3", "date")


def test_narrative_mode_anchors_on_last_date() -> None:
    text = "Am 5. Mai 1915 begann der Angriff. Am 7. Juni fiel die Stadt, zwei Tage später die Festung."
    got = times(text, published=date(2011, 2, 16), mode="narrative")
    assert got["7. Juni"] == ("1915-06-07", "date")
    assert got["zwei Tage später"] == ("1915-06-09", "date")


def test_bc_years() -> None:
    got = times("Die Schlacht fand 490 v. Chr. statt.", mode="narrative")
    assert got["490 v. Chr."] == ("BC0490", "date")


@pytest.mark.slow
def test_wikiwarsde_f1_matches_committed_figure() -> None:
    data = SHARED / "data" / "wikiwarsde"
    if not data.exists():
        pytest.skip("../shared/data/wikiwarsde not available")
    committed = REPO / "training" / "results" / "time.json"
    if not committed.exists():
        pytest.skip("training/results/time.json not written yet (python training/time/eval.py)")
    from lagebild.evaluate.times import evaluate

    result = evaluate(data)
    expected = json.loads(committed.read_text(encoding="utf-8"))
    for part in ("dev", "test"):
        got = result["narrative"][part]["lenient"]["f1"]
        want = expected["narrative"][part]["lenient"]["f1"]
        assert abs(got - want) <= 0.05, (part, got, want)
        got = result["narrative"][part]["strict"]["f1"]
        want = expected["narrative"][part]["strict"]["f1"]
        assert abs(got - want) <= 0.05, (part, got, want)


def test_deictic_with_part_of_day() -> None:
    got = times("Gestern Abend tagte der Rat, morgen früh reist die Delegation ab.")
    assert got["Gestern Abend"] == ("2024-10-22TEV", "date")
    assert got["morgen früh"] == ("2024-10-24TMO", "date")


@pytest.mark.parametrize(("text", "value", "span"), [
    ("Die Gespräche dauerten vom 3. bis 5. März.", "2024-03-03/2024-03-05", "3. bis 5. März"),
    ("Zwischen 2019 und 2021 stieg die Zahl.", "2019/2021", "2019 und 2021"),
    ("Von Montag bis Mittwoch streikten die Fahrer.", "2024-03-04/2024-03-06", "Montag bis Mittwoch"),
    ("Der Krieg 1939–1945 war lang.", "1939/1945", "1939–1945"),
])
def test_ranges_are_one_interval(text: str, value: str, span: str) -> None:
    found = find_times(text, date(2024, 3, 10))
    assert [(text[s:e], v, t) for s, e, v, t in found] == [(span, value, "interval")]


def test_range_ends_stay_apart_when_asked_and_lists_are_not_ranges() -> None:
    text = "Die Gespräche dauerten vom 3. bis 5. März."
    assert [v for _, _, v, _ in find_times(text, date(2024, 3, 10), merge_ranges=False)] == [
        "2024-03-03", "2024-03-05"]
    # a list of two dates, and a "range" running backwards, are left as two dates
    assert [t for *_, t in find_times("Am 3. und 5. März trafen sie sich.", date(2024, 3, 10))] == [
        "date", "date"]
    assert [t for *_, t in find_times("Im Jahr 2021 bis 2019.", date(2024, 3, 10))] == ["date", "date"]
