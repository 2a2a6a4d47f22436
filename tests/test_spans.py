"""The interval lookups the layers use instead of scanning every span per candidate.

Each structure is checked against the plain scan it replaces, on random spans (empty
ones included), so the layers' results cannot change with the data structure."""

from __future__ import annotations

import random

from lagebild.extract.spans import Containers, Coverage


def _random_spans(rng: random.Random, n: int) -> list[tuple[int, int]]:
    out = []
    for _ in range(n):
        a = rng.randint(0, 40)
        out.append((a, a + rng.randint(0, 7)))
    return out


def test_coverage_answers_as_a_scan_over_the_added_spans() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        spans = _random_spans(rng, rng.randint(0, 12))
        half = len(spans) // 2
        cov, added = Coverage(spans[:half]), list(spans[:half])
        for a, b in spans[half:] + _random_spans(rng, 6):
            assert cov.overlaps(a, b) == any(a < e and s < b for s, e in added)
            if rng.random() < 0.5:
                cov.add(a, b)
                added.append((a, b))
        assert cov.starts == sorted(cov.starts) and cov.ends == sorted(cov.ends)


def test_containers_find_what_a_scan_finds() -> None:
    rng = random.Random(11)
    for _ in range(2000):
        spans = _random_spans(rng, rng.randint(0, 12))
        con = Containers(spans)
        for a, b in _random_spans(rng, 8):
            assert con.holds(a, b) == any(s <= a and b <= e for s, e in spans)
            assert con.holds(a, b, strict_end=True) == any(s <= a and b < e for s, e in spans)
            held = sorted(con.spans[j] for j in con.holding(a, b))
            assert held == sorted(x for x in spans if x[0] <= a and b <= x[1])
            hit = sorted(con.spans[j] for j in con.overlapping(a, b))
            assert hit == sorted(x for x in spans if x[0] < b and a < x[1])


def test_coverage_merges_overlapping_runs_only() -> None:
    cov = Coverage([(0, 3), (3, 5), (10, 12)])
    assert list(zip(cov.starts, cov.ends, strict=True)) == [(0, 3), (3, 5), (10, 12)]
    cov.add(4, 11)
    assert list(zip(cov.starts, cov.ends, strict=True)) == [(0, 3), (3, 12)]
    assert cov.overlaps(2, 4) and not cov.overlaps(12, 20)
    assert cov.overlaps(5, 5)  # an empty span strictly inside a run
    assert not cov.overlaps(3, 3)  # on a border: inside neither (0, 3) nor (3, 12)
