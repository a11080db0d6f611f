"""``make bench`` parts of Chapter 12 (consumer groups, queues and transactions in Kafka 4).

* ``rebalance``: the chapter's scenario (3 members on 6 partitions; a 4th joins, one leaves, one is killed) over
  several rounds per protocol, all with the same 10 s session and 1 s heartbeat: median and maximum of the longest
  pause of a partition, and of all pauses added up, per step. librdkafka (confluent-kafka) runs all three
  protocols; kafka-python runs the two classic ones, as a control for the client. A round that does not settle
  within its time limit is counted, not hidden.
* ``share``: share-group throughput on ONE partition with 1, 2 and 4 share consumers: Kafka's own
  ``kafka-share-consumer-perf-test`` (implicit acknowledgement) against the course's ShareWorker in the same mode,
  and the ShareWorker asking Python about every record (explicit acknowledgement, the chapter's path).

Both run on the benchmark's own broker (bench/run.py starts it; this module only uses the bootstrap it is given).
"""
from __future__ import annotations

import contextlib
import re
import statistics
import time
import uuid

from bench.records import produce_all

PARTS = ("rebalance", "share")
REBALANCE_PROTOCOLS = ("eager", "cooperative", "consumer", "eager-kafka-python", "cooperative-kafka-python")


# ------------------------------------------------------------------------------------------ rebalance pauses
def rebalance(rounds: int = 5, protocols=REBALANCE_PROTOCOLS, work_s: float | None = None) -> dict:
    """Per protocol and step: the longest partition pause and the partition-seconds, median and max over rounds."""
    from kafkalab.errors import LabError
    from kafkalab.io.groups import delete_group
    from kafkalab.io.topics import recreate_topic
    from kafkalab.rebalance.scenario import WORK_S, scenario

    topic = "bench-rebalance"
    recreate_topic(topic, partitions=6)
    out: dict = {"rounds": rounds, "work_s": WORK_S if work_s is None else work_s, "session_ms": 10_000,
                 "heartbeat_ms": 1_000}
    for protocol in protocols:
        per_step: dict[str, dict[str, list[float]]] = {}
        failed: list[str] = []
        for _ in range(rounds):
            group = f"bench-{protocol}-{uuid.uuid4().hex[:6]}"
            try:
                run = scenario(protocol, topic, group, work_s=out["work_s"], timeout_s=60)
            except LabError as e:
                failed.append(str(e)[:160])
                continue
            finally:
                try:
                    delete_group(group, timeout_s=15)
                except LabError:
                    pass
            for row in run.measure():
                step = per_step.setdefault(row["step"], {"max_pause_s": [], "partition_seconds": [], "settled_s": []})
                for key in step:
                    step[key].append(row[key])
        out[protocol] = {"failed_rounds": len(failed), "failures": failed[:3]}
        for step, values in per_step.items():
            out[protocol][step] = {f"{key}_{stat}": round(fn(v), 2) for key, v in values.items()
                                   for stat, fn in (("median", statistics.median), ("max", max))}
            out[protocol][step]["rounds"] = len(values["max_pause_s"])
    return out


# ------------------------------------------------------------------------------------------ share throughput
def _fill(topic: str, n: int, size: int, bootstrap: str) -> None:
    from confluent_kafka import Producer

    from kafkalab.io.topics import recreate_topic

    recreate_topic(topic, partitions=1)
    produce_all(Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "batch.size": 65536}), topic, n, size)


def _fresh_group(prefix: str) -> str:
    from kafkalab.io.groups import configure_group
    from kafkalab.share import CLASSROOM

    group = f"{prefix}-{uuid.uuid4().hex[:6]}"
    configure_group(group, **CLASSROOM)  # from the first record; 1 s heartbeats for every group alike
    return group


def _perf_tool(topic: str, n: int, threads: int, bootstrap: str) -> float:
    from kafkalab.cluster.tools import run_tool

    out = run_tool("kafka-share-consumer-perf-test", [
        "--bootstrap-server", bootstrap, "--topic", topic, "--group", _fresh_group("bench-share-perf"),
        "--num-records", str(n), "--threads", str(threads), "--timeout", "60000"], timeout=600).stdout
    row = [line for line in out.strip().splitlines() if re.match(r"\d{4}-", line)][-1].split(",")
    return float(row[4])  # nMsg.sec, counted from the tool's start (its consumers join first)


def _share_worker(topic: str, n: int, consumers: int, bootstrap: str) -> dict:
    """The course's ShareWorker in count mode (implicit acknowledgement, nothing printed per record). Its standard
    input stays open while it runs: the JVM takes the end of its input for "stop"."""
    import json
    import subprocess

    from kafkalab.share import java_command

    group = _fresh_group("bench-share-worker")
    cmd = java_command(group, topic, consumers=consumers, mode=f"count:{n}", max_seconds=600, bootstrap=bootstrap)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = None
    try:
        for line in proc.stdout:
            if '"event":"done"' in line:
                done, took = json.loads(line), time.monotonic() - t0
                break
    finally:
        with contextlib.suppress(OSError):
            proc.stdin.write("stop\n")
            proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if done is None:
        return {"error": (proc.stderr.read().strip().splitlines() or ["no output"])[-1][:200]}
    return {"msgs_per_s_from_first_record": round(done["records"] / done["seconds"]),
            "msgs_per_s_from_start": round(done["records"] / took)}


def _python_driven(topic: str, n: int, consumers: int) -> float:
    """The chapter's path: every batch goes to Python, which answers 'accept' for each record."""
    from kafkalab import share

    group = _fresh_group("bench-share-python")
    with share.run(group, topic, consumers=consumers, handle=lambda job: "accept", max_seconds=600) as w:
        w.wait_for(lambda w: len(w.accepted()) >= n, timeout_s=600, what=f"{n} records accepted")
        first = min(d.t for d in w.deliveries)
        return n / (time.time() - first)


def share_throughput(n: int = 200_000, n_python: int = 20_000, size: int = 100, bootstrap: str | None = None) -> dict:
    """Records per second on one partition with 1, 2 and 4 share consumers (see the module docstring)."""
    from kafkalab.config import bootstrap_servers

    bootstrap = bootstrap or bootstrap_servers()
    topic = "bench-share-one-partition"
    _fill(topic, n, size, bootstrap)
    out: dict = {"records": n, "python_records": n_python, "record_bytes": size, "partitions": 1}
    for consumers in (1, 2, 4):
        row = {"perf_tool_msgs_per_s": round(_perf_tool(topic, n, consumers, bootstrap))}
        row.update({f"share_worker_{k}": v for k, v in _share_worker(topic, n, consumers, bootstrap).items()})
        row["python_driven_msgs_per_s"] = round(_python_driven(topic, n_python, consumers))
        out[f"{consumers}_consumers"] = row
    return out


# ------------------------------------------------------------------------------------------ report
def report_lines(results: dict) -> list[str]:
    """The lines bench/run.py prints for these parts."""
    lines = []
    reb = results.get("rebalance", {})
    for protocol in REBALANCE_PROTOCOLS:
        figures = reb.get(protocol)
        if not figures:
            continue
        for step in ("join", "leave", "kill"):
            f = figures.get(step)
            if f:
                lines.append(f"  rebalance {protocol:24} {step:5} longest pause median {f['max_pause_s_median']:>5} s, "
                             f"max {f['max_pause_s_max']:>5} s; all partitions {f['partition_seconds_median']:>5} s "
                             f"({f['rounds']} rounds)")
        if figures.get("failed_rounds"):
            lines.append(f"  rebalance {protocol:24} {figures['failed_rounds']} round(s) did not settle")
    sh = results.get("share", {})
    for consumers in (1, 2, 4):
        row = sh.get(f"{consumers}_consumers")
        if row:
            lines.append(f"  share {consumers} consumer(s), 1 partition: perf tool {row['perf_tool_msgs_per_s']:>7} msgs/s, "
                         f"ShareWorker {row.get('share_worker_msgs_per_s_from_start', '?'):>7} msgs/s "
                         f"({row.get('share_worker_msgs_per_s_from_first_record', '?')} after the first record), "
                         f"Python-driven {row['python_driven_msgs_per_s']:>6} msgs/s")
    return lines
