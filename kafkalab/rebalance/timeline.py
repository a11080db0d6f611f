"""Who owned which partition when, and how long a partition had no owner: the arithmetic behind Chapter 12's
rebalance measurements (pure: no Kafka, unit-tested).

The input is what the members printed (``{"event": "owns", "member", "partitions", "t"}`` lines, see
:mod:`kafkalab.rebalance.member`) plus the moments the scenario killed a member: a killed process prints nothing
more, so its ownership ends at the kill. A partition's **pause** in a window is the time in it during which no
running member owned the partition, so nobody fetched its records.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """``member`` owned ``partition`` from ``start`` to ``end`` (seconds, same clock as the events)."""

    partition: int
    member: str
    start: float
    end: float


def spans(events: Iterable[Mapping], kills: Mapping[str, Iterable[float]] | None = None,
          until: float | None = None) -> list[Span]:
    """Ownership spans from the members' ``owns`` events (other events are ignored).

    ``kills`` maps a member to the times it was killed: everything it owned then ends there. Spans still open at
    the end close at ``until`` (default: the last event's time). Sorted by partition, then start.
    """
    timeline = [(e["t"], e["member"], frozenset(e["partitions"])) for e in events if e.get("event") == "owns"]
    for member, times in (kills or {}).items():
        timeline += [(t, member, frozenset()) for t in times]
    timeline.sort(key=lambda x: x[0])
    end_of_time = until if until is not None else (timeline[-1][0] if timeline else 0.0)
    open_since: dict[tuple[str, int], float] = {}
    out: list[Span] = []
    for t, member, now in timeline:
        held = {p for (m, p) in open_since if m == member}
        for p in held - now:
            out.append(Span(p, member, open_since.pop((member, p)), t))
        for p in now - held:
            open_since[(member, p)] = t
    out += [Span(p, m, since, max(since, end_of_time)) for (m, p), since in open_since.items()]
    return sorted(out, key=lambda s: (s.partition, s.start, s.member))


def unowned(span_list: Iterable[Span], partition: int, start: float, end: float) -> float:
    """Seconds within [start, end] during which nobody owned ``partition``."""
    covered, cursor = 0.0, start
    for s in sorted((s for s in span_list if s.partition == partition), key=lambda s: s.start):
        lo, hi = max(s.start, cursor), min(s.end, end)
        if hi > lo:
            covered += hi - lo
            cursor = hi
    return max(0.0, (end - start) - covered)


def pauses(span_list: Iterable[Span], partitions: Iterable[int], start: float, end: float) -> dict[int, float]:
    """partition -> seconds without an owner between ``start`` and ``end`` (e.g. from a member's kill until the
    group settled again)."""
    span_list = list(span_list)
    return {p: unowned(span_list, p, start, end) for p in sorted(partitions)}


def owners_at(span_list: Iterable[Span], t: float) -> dict[int, str]:
    """partition -> the member owning it at time ``t`` (partitions nobody owned then are left out)."""
    return {s.partition: s.member for s in span_list if s.start <= t < s.end}


def moved(span_list: Iterable[Span], before: float, after: float) -> list[int]:
    """Partitions whose owner at ``after`` differs from their owner at ``before``."""
    span_list = list(span_list)
    a, b = owners_at(span_list, before), owners_at(span_list, after)
    return sorted(p for p in set(a) | set(b) if a.get(p) != b.get(p))
