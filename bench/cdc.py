"""``make bench`` part ``cdc``: how long a committed database change takes to reach the sink table (Chapters 6 and 7).

Two paths, each measured over a burst of single-row transactions on the benchmark's own cluster (broker, PostgreSQL
and Connect started for it), with :mod:`kafkalab.connectsql.cdc`:

* ``replica``: a table -> Debezium -> Kafka -> JDBC sink -> a copy of the table (``cdc.latency_replica``);
* ``flink``: a payment -> Debezium -> Kafka -> Flink SQL (join with customers, revenue per country) -> Kafka -> JDBC
  sink -> the revenue table (``cdc.latency_flink``).

Each latency is the time from the commit to the first poll of the sink table that shows the change (polls every
10 ms), so it includes up to one poll interval and one query.
"""
from __future__ import annotations

#: Changes per burst and the pause between two commits.
BURST = 50
GAP_S = 0.05


def measure(n: int = BURST, gap_s: float = GAP_S) -> dict:
    """Median, p95 and maximum commit-to-sink latency of both paths, in milliseconds."""
    from kafkalab.connectsql import cdc

    return {"replica": cdc.latency_replica(n, gap_s).summary(), "flink": cdc.latency_flink(n, gap_s).summary(),
            "gap_ms": round(gap_s * 1000),
            "note": "commit to the first poll (every 10 ms) that shows the change in the sink table; one "
                    "transaction per change"}


def report_lines(figures: dict) -> list[str]:
    """The lines ``bench.run.report`` prints for this part."""
    lines = []
    for path, label in (("replica", "table -> Debezium -> JDBC sink"), ("flink", "... -> Flink SQL join + GROUP BY ->")):
        f = figures.get(path)
        if f:
            lines.append(f"  cdc    {label:36} median {f['median_ms']:>6} ms, p95 {f['p95_ms']:>6} ms, "
                         f"max {f['max_ms']:>6} ms over {f['n']} commits")
    return lines
