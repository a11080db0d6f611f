"""How many partitions and consumers a topic needs, and what it costs in disk and network.

Taught in Chapter 10, *Calculating partitions and consumers*.

The model, in one place:

* A workload is one stream of records, and gets one topic. Its average throughput is
  ``T_avg = rate × message size``; we size for the peak, ``T = T_avg × peak factor``.
* One partition accepts at most ``p`` bytes/s from producers and delivers at most ``c`` bytes/s to the
  single consumer of a group that owns it. So a topic needs ``ceil(max(T / p, T / c))`` partitions, and at
  least one. Whichever of ``p`` and ``c`` is smaller is the limit that binds; if even that needs less than
  one partition, the floor of one partition is what decides ("minimum").
* Within one consumer group each partition is read by exactly one consumer, so a group can put at most
  ``partitions`` consumers to work; more consumers would sit idle.
* Every byte is stored ``RF`` times: ``storage = T_avg × retention × RF`` (disk fills at the average rate).
* Producers send ``T`` into the cluster (network in); the leader copies it to ``RF − 1`` followers
  (replication traffic between brokers); the cluster sends ``T`` to every consumer group plus the
  replication copies (network out). The network is sized for the peak.

Units. All inputs and outputs are plain bytes and bytes per second. Where a unit name appears we use
decimal units, as disk and network vendors do: 1 KB = 1000 B, 1 MB = 1000 KB, 1 GB = 1000 MB. The tables
accept ``units="binary"`` to print KiB/MiB/GiB (powers of 1024) instead. The seed notes write "1 MBps
(1024 KBps)", mixing the two systems. That does not change its answers (10 KB/s against 1 MB/s is one
partition either way; 10,000 × 1 KiB against 1 MiB/s is 9.77, so 10 partitions) but mixing can: messages
of 1 KiB against a 1 MB/s (decimal) partition need 10.24, so 11 partitions. Pick one system and use it for
every input: the constants below exist so you can write ``size_bytes=1 * KiB`` or ``1 * KB`` explicitly.

Defaults: ``p = c = 1 MB/s`` (the seed's assumption; measure your own cluster with
``kafka-producer-perf-test``), replication factor 3 (the seed's assumption and the usual production
choice, even though the course's one-broker cluster can only hold RF 1), retention 168 hours (Kafka's
``log.retention.hours`` default) and one consumer group.

Partition counts are computed with exact fractions from the numbers as written (``1.1`` means 11/10),
so ``30,000 msg/s × 1 KB × 1.1`` needs 33 partitions, not 34 from a floating-point ``33.00000000000001``.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import pandas as pd

from .errors import LabError
from .validate import number, shown

KB = 1000
MB = 1000 * KB
GB = 1000 * MB
KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

#: Largest values we accept: beyond these the input is a typo, not a plan.
MAX_RATE = 1e12  # messages per second
MAX_MESSAGE_BYTES = 2**31 - 1  # Kafka sizes records and batches with a signed 32-bit int
MAX_PEAK_FACTOR = 1000
MAX_PARTITION_BYTES_PER_S = 1e12  # 1 TB/s per partition is far beyond any disk or network card
MAX_REPLICATION_FACTOR = 10  # production clusters use 3, sometimes 5; beyond 10 every write waits on 10 disks
MAX_RETENTION_HOURS = 100 * 365 * 24  # a century; infinite retention (retention.ms=-1) has no storage bound
MAX_CONSUMER_GROUPS = 10_000

Binding = Literal["producer", "consumer", "both", "minimum"]
Units = Literal["decimal", "binary"]


def _bad(name: str, value: object, problem: str, allowed: str) -> LabError:
    """A one-line error for an input that is not a number, in the same form as :func:`kafkalab.validate.number`'s."""
    return LabError(f"{name}={shown(value)}: {problem} (allowed: {allowed})")


def _exact(value: float | int) -> Fraction:
    """The number as written (``0.1`` is 1/10), so that ceilings do not suffer from binary rounding."""
    return Fraction(value) if isinstance(value, int) else Fraction(repr(float(value)))


@dataclass(frozen=True)
class Workload:
    """One stream of records that gets its own topic: name, rate (messages/s), average size (bytes), peak factor."""

    name: str
    rate: float
    size_bytes: float
    peak_factor: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise _bad("name", self.name, "empty" if isinstance(self.name, str) else "not a text",
                       "a non-empty text such as 'payments'")
        where = f" (workload {self.name.strip()!r})"
        object.__setattr__(self, "name", self.name.strip())
        object.__setattr__(self, "rate", number("rate", self.rate, low=0, low_open=True, high=MAX_RATE,
                                                unit="messages/s", where=where))
        object.__setattr__(self, "size_bytes", number("size_bytes", self.size_bytes, low=0, low_open=True,
                                                      high=MAX_MESSAGE_BYTES, unit="bytes", where=where))
        object.__setattr__(self, "peak_factor", number("peak_factor", self.peak_factor, low=1, high=MAX_PEAK_FACTOR,
                                                       unit="(peak ÷ average)", where=where))


@dataclass(frozen=True)
class Assumptions:
    """What the cluster can do and keeps: per-partition throughput, replication, retention, consumer groups."""

    producer_bytes_per_s: float = 1 * MB
    consumer_bytes_per_s: float = 1 * MB
    replication_factor: int = 3
    retention_hours: float = 168.0
    consumer_groups: int = 1

    def __post_init__(self) -> None:
        checks = {
            "producer_bytes_per_s": dict(low=0, low_open=True, high=MAX_PARTITION_BYTES_PER_S,
                                         unit="bytes/s per partition"),
            "consumer_bytes_per_s": dict(low=0, low_open=True, high=MAX_PARTITION_BYTES_PER_S,
                                         unit="bytes/s per partition"),
            "replication_factor": dict(low=1, high=MAX_REPLICATION_FACTOR, whole=True),
            "retention_hours": dict(low=0, high=MAX_RETENTION_HOURS, unit="hours"),
            "consumer_groups": dict(low=1, high=MAX_CONSUMER_GROUPS, whole=True),
        }
        for name, limits in checks.items():
            object.__setattr__(self, name, number(name, getattr(self, name), **limits))


#: The seed's two processes: a query batch (10 messages/s) and a real-time feed (10,000 transactions/s), 1 KB each.
SEED_WORKLOADS: tuple[Workload, ...] = (
    Workload("query batch", rate=10, size_bytes=1 * KB),
    Workload("real-time", rate=10_000, size_bytes=1 * KB),
)


@dataclass(frozen=True)
class SizingResult:
    """What one workload needs; throughputs in bytes/s, storage in bytes."""

    workload: Workload
    assumptions: Assumptions
    avg_throughput_bytes_per_s: float
    throughput_bytes_per_s: float  # at peak
    partitions_for_producers: int  # ceil(T / p)
    partitions_for_consumers: int  # ceil(T / c)
    partitions: int
    binding: Binding
    consumers: int  # useful consumers in one group: one per partition
    consumer_instances: int  # useful consumers over all groups
    messages_per_partition: float  # at peak, spread evenly
    storage_bytes: float
    network_in_bytes_per_s: float
    replication_bytes_per_s: float
    network_out_bytes_per_s: float


@dataclass(frozen=True)
class SizingTotals:
    """Sums over workloads; one topic per workload."""

    topics: int
    partitions: int
    consumers: int
    consumer_instances: int
    storage_bytes: float
    network_in_bytes_per_s: float
    replication_bytes_per_s: float
    network_out_bytes_per_s: float


def _at_least_one(need_p: Fraction, need_c: Fraction) -> int:
    """Round the larger need up to whole partitions, with a floor of one."""
    return max(1, math.ceil(max(need_p, need_c)))


def partitions_needed(throughput_bytes_per_s: float, producer_bytes_per_s: float, consumer_bytes_per_s: float) -> int:
    """``ceil(max(T/p, T/c))`` computed exactly, and at least 1."""
    t = _exact(throughput_bytes_per_s)
    return _at_least_one(t / _exact(producer_bytes_per_s), t / _exact(consumer_bytes_per_s))


def size_workload(workload: Workload, assumptions: Assumptions = Assumptions()) -> SizingResult:
    """Partitions, consumers, storage and network for one workload."""
    if not isinstance(workload, Workload):
        raise _bad("workload", workload, "not a Workload", "Workload(name, rate, size_bytes, peak_factor)")
    if not isinstance(assumptions, Assumptions):
        raise _bad("assumptions", assumptions, "not an Assumptions", "Assumptions(...) or leave it out")
    a = assumptions
    avg = _exact(workload.rate) * _exact(workload.size_bytes)
    peak = avg * _exact(workload.peak_factor)
    need_p, need_c = peak / _exact(a.producer_bytes_per_s), peak / _exact(a.consumer_bytes_per_s)
    partitions = _at_least_one(need_p, need_c)
    binding: Binding
    if max(need_p, need_c) < 1:
        binding = "minimum"
    elif need_p == need_c:
        binding = "both"
    else:
        binding = "producer" if need_p > need_c else "consumer"
    replication = (a.replication_factor - 1) * peak
    return SizingResult(
        workload=workload,
        assumptions=a,
        avg_throughput_bytes_per_s=float(avg),
        throughput_bytes_per_s=float(peak),
        partitions_for_producers=math.ceil(need_p),
        partitions_for_consumers=math.ceil(need_c),
        partitions=partitions,
        binding=binding,
        consumers=partitions,
        consumer_instances=partitions * a.consumer_groups,
        messages_per_partition=float(_exact(workload.rate) * _exact(workload.peak_factor) / partitions),
        storage_bytes=float(avg * _exact(a.retention_hours) * 3600 * a.replication_factor),
        network_in_bytes_per_s=float(peak),
        replication_bytes_per_s=float(replication),
        network_out_bytes_per_s=float(peak * a.consumer_groups + replication),
    )


def size_workloads(workloads: Iterable[Workload], assumptions: Assumptions = Assumptions()) -> list[SizingResult]:
    """Size every workload (one topic each) under the same assumptions; names must be distinct."""
    if isinstance(workloads, (str, bytes)) or not isinstance(workloads, Iterable):
        raise _bad("workloads", workloads, "not a list", "a list of Workload(...)")
    workloads = list(workloads)
    if not workloads:
        raise _bad("workloads", workloads, "empty", "at least one Workload(...)")
    seen: set[str] = set()
    for i, w in enumerate(workloads):
        if not isinstance(w, Workload):
            raise _bad(f"workloads[{i}]", w, "not a Workload", "Workload(name, rate, size_bytes, peak_factor)")
        if w.name in seen:
            raise _bad("name", w.name, "used by two workloads", "distinct names, because each one is a topic")
        seen.add(w.name)
    return [size_workload(w, assumptions) for w in workloads]


def totals(results: Iterable[SizingResult]) -> SizingTotals:
    """Add up partitions, consumers, storage and traffic; one topic per workload."""
    results = list(results)
    return SizingTotals(
        topics=len(results),
        partitions=sum(r.partitions for r in results),
        consumers=sum(r.consumers for r in results),
        consumer_instances=sum(r.consumer_instances for r in results),
        storage_bytes=sum(r.storage_bytes for r in results),
        network_in_bytes_per_s=sum(r.network_in_bytes_per_s for r in results),
        replication_bytes_per_s=sum(r.replication_bytes_per_s for r in results),
        network_out_bytes_per_s=sum(r.network_out_bytes_per_s for r in results),
    )


@dataclass(frozen=True)
class _Scale:
    kb: int
    mb: int
    gb: int
    names: tuple[str, str, str] = ("KB", "MB", "GB")


_SCALES: dict[str, _Scale] = {
    "decimal": _Scale(KB, MB, GB),
    "binary": _Scale(KiB, MiB, GiB, ("KiB", "MiB", "GiB")),
}


def _scale(units: str) -> _Scale:
    """The unit sizes and names for ``units``."""
    if units not in _SCALES:
        raise _bad("units", units, "unknown unit system", "'decimal' (1 KB = 1000 B) or 'binary' (1 KiB = 1024 B)")
    return _SCALES[units]


def results_table(results: Iterable[SizingResult], units: Units = "decimal") -> pd.DataFrame:
    """One row per workload with the unit in every column name."""
    s = _scale(units)
    kb, mb, gb = s.names
    rows = [
        {
            "topic": r.workload.name,
            "rate (msg/s)": r.workload.rate,
            f"message size ({kb})": r.workload.size_bytes / s.kb,
            "peak factor": r.workload.peak_factor,
            f"throughput at peak ({mb}/s)": r.throughput_bytes_per_s / s.mb,
            "partitions": r.partitions,
            "limit that binds": r.binding,
            "consumers per group": r.consumers,
            "msg/s per partition": r.messages_per_partition,
            f"storage ({gb})": r.storage_bytes / s.gb,
            f"network in ({mb}/s)": r.network_in_bytes_per_s / s.mb,
            f"replication ({mb}/s)": r.replication_bytes_per_s / s.mb,
            f"network out ({mb}/s)": r.network_out_bytes_per_s / s.mb,
        }
        for r in results
    ]
    return pd.DataFrame(rows)


def describe_totals(t: SizingTotals, units: Units = "decimal") -> str:
    """The totals as one sentence, e.g. '2 topics (one per workload), 11 partitions, ...'."""
    s = _scale(units)
    _, mb, gb = s.names
    return (f"{t.topics} topic{'s' if t.topics != 1 else ''} (one per workload), {t.partitions} partitions, "
            f"{t.consumers} consumers per group ({t.consumer_instances} over all groups), "
            f"storage {t.storage_bytes / s.gb:,.2f} {gb}, network in {t.network_in_bytes_per_s / s.mb:,.2f} {mb}/s, "
            f"replication {t.replication_bytes_per_s / s.mb:,.2f} {mb}/s, "
            f"network out {t.network_out_bytes_per_s / s.mb:,.2f} {mb}/s")


def steps_table(results: Iterable[SizingResult]) -> pd.DataFrame:
    """The calculation written out, one step per row (topic, step, how, result): the course notes' table."""
    rows = []
    for r in results:
        w, a, t = r.workload, r.assumptions, r.throughput_bytes_per_s
        peak = f" × peak {w.peak_factor:g}" if w.peak_factor != 1 else ""
        rows += [
            (w.name, "messages", "given", f"{w.rate:,g} msg/s"),
            (w.name, "message size", "assumed", f"{w.size_bytes / KB:,g} KB"),
            (w.name, "throughput T", f"{w.rate:,g} msg/s × {w.size_bytes / KB:,g} KB{peak}", f"{t / MB:,g} MB/s"),
            (w.name, "partitions", f"ceil(max(T/p, T/c)) = ceil(max({t / a.producer_bytes_per_s:g}, "
                                   f"{t / a.consumer_bytes_per_s:g})), at least 1", f"{r.partitions}"),
            (w.name, "consumers per group", "one per partition", f"{r.consumers}"),
        ]
    return pd.DataFrame(rows, columns=["topic", "step", "how", "result"])


# ------------------------------------------------------------------------------------ measuring p and c
def producer_perf_bytes_per_s(output: str, record_bytes: int) -> float:
    """Bytes/s from the final summary line of Kafka's ``kafka-producer-perf-test`` (ProducerPerformance):
    its records/sec times the record size. (The tool's own "MB/sec" is MiB/s.)"""
    summary = [line for line in output.splitlines() if "records/sec" in line and "99.9th" in line]
    found = re.search(r"([\d.]+) records/sec", summary[-1]) if summary else None
    if found is None:
        raise LabError("no summary line (… records/sec … 99.9th) in the producer perf test's output; did it finish? "
                       f"It printed: {output.strip()[-200:]!r}")
    return float(found.group(1)) * record_bytes


def consumer_perf_bytes_per_s(output: str, record_bytes: int) -> float:
    """Bytes/s from the CSV lines of Kafka's ``kafka-consumer-perf-test`` (ConsumerPerformance): its
    ``fetch.nMsg.sec`` (the rate while fetching, the group join left out) times the record size."""
    lines = [line for line in output.strip().splitlines() if line.strip()]
    if len(lines) < 2 or "fetch.nMsg.sec" not in lines[-2]:
        raise LabError("no header with fetch.nMsg.sec in the consumer perf test's output; did it read anything? "
                       f"It printed: {output.strip()[-200:]!r}")
    header, values = (line.split(", ") for line in lines[-2:])
    return float(dict(zip(header, values))["fetch.nMsg.sec"]) * record_bytes
