"""Interval lookups over character spans, for the layers that relate their spans.

Why: each layer asks "does this span overlap one already taken?" or "which statement
holds this figure?" once per candidate. Scanning every span for every candidate is
quadratic, and a 5 MB article (the input limit) has tens of thousands of candidates: the
scans made the entity and quantity layers take minutes on such a text. Spans here are
half-open `(start, end)` pairs of character offsets; an empty span (x, x) overlaps a
span that strictly contains x, as the plain test `a < e and s < b` says.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from itertools import accumulate


class Coverage:
    """The union of the spans added so far, as sorted disjoint runs: an overlap test is a
    bisection. A span overlaps one of the added spans iff it overlaps their union."""

    def __init__(self, spans: Iterable[tuple[int, int]] = ()) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for a, b in sorted(spans):
            self.add(a, b)

    def overlaps(self, a: int, b: int) -> bool:
        """True if some added span (s, e) has a < e and s < b."""
        k = bisect_right(self.ends, a)  # the first run ending after a
        return k < len(self.starts) and self.starts[k] < b

    def add(self, a: int, b: int) -> None:
        lo = bisect_right(self.ends, a)  # the runs [a, b) overlaps merge with it
        hi = bisect_left(self.starts, b)
        if lo < hi:
            a, b = min(a, self.starts[lo]), max(b, self.ends[hi - 1])
        self.starts[lo:hi] = [a]
        self.ends[lo:hi] = [b]


class Containers:
    """Spans that may hold a query span. Sorted by start, with the furthest end reached
    so far: only spans starting at or before the query can hold it, and the walk back
    stops where no earlier span reaches the query's end."""

    def __init__(self, spans: Iterable[tuple[int, ...]]) -> None:
        """`spans`: (start, end) pairs, or tuples that carry more after them (an id)."""
        self.spans = sorted(spans)
        self.starts = [sp[0] for sp in self.spans]
        self.reach = list(accumulate((sp[1] for sp in self.spans), max))

    def holds(self, a: int, b: int, strict_end: bool = False) -> bool:
        """True if some span (s, e) has s <= a and b <= e (b < e with `strict_end`)."""
        k = bisect_right(self.starts, a)
        return k > 0 and (self.reach[k - 1] > b if strict_end else self.reach[k - 1] >= b)

    def holding(self, a: int, b: int) -> list[int]:
        """Indices (into `self.spans`) of every span with s <= a and b <= e."""
        out = []
        j = bisect_right(self.starts, a) - 1
        while j >= 0 and self.reach[j] >= b:
            if self.spans[j][1] >= b:
                out.append(j)
            j -= 1
        return out

    def overlapping(self, a: int, b: int) -> list[int]:
        """Indices (into `self.spans`) of every span with s < b and a < e."""
        out = []
        j = bisect_left(self.starts, b) - 1
        while j >= 0 and self.reach[j] > a:
            if self.spans[j][1] > a:
                out.append(j)
            j -= 1
        return out
