"""``make bench``: the course's benchmarks. Figures and ratios, printed as a table and written to JSON.

Benchmarks are not tests: they never fail on a slow machine, they report. Each figure is set beside a reference
measured in the same run on the same machine (Kafka's own perf tools, a bare ``java kafka.Kafka``), so the
ratios mean something across machines. Everything runs on a broker of its own on a claimed port range
(KAFKALAB_HOME under bench/, kafkalab.cluster.portrange), so the course cluster is left alone.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import kafka4
from bench.records import produce_all
from kafkalab.cluster import portrange
from kafkalab.config import PORT_OFFSETS, REPO, settings

# a free port range of its own, claimed for this process (kafkalab.cluster.portrange); the broker uses its first block
# (a child process of this run, such as the pure-CRC one, is handed the parent's range in KAFKALAB_BENCH_BASE)
BENCH_BASE = int(os.environ.get("KAFKALAB_BENCH_BASE") or portrange.claim())
BENCH_PORT = BENCH_BASE + PORT_OFFSETS["broker"]
BOOTSTRAP = f"127.0.0.1:{BENCH_PORT}"
RESULTS = REPO / "bench" / "results.json"
PARTS = ("cold_start", "throughput", "widgets", "lateness", "cdc", "notebooks", "setup", *kafka4.PARTS)

GOALS = {  # what we aim for (issue "Benchmarks"); a figure below its goal is reported, never hidden
    "launcher_overhead": ("embedded start / bare java start", "<=", 1.20),
    "confluent_vs_perf_1k": ("confluent-kafka / ProducerPerformance msgs/s at 1 KB, both tuned alike", ">=", 0.50),
    "kafka_python_vs_perf_1k": ("kafka-python / ProducerPerformance msgs/s at 1 KB, both tuned alike", ">=", 0.10),
    "nbval_suite_s": ("one nbval pass over all notebooks, seconds", "<=", 360.0),
    "lateness_10k_ms": ("late-data engine recompute, 10k records, ms", "<=", 100.0),
}


def _env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k != "KAFKA_BOOTSTRAP_SERVERS" and not (k.startswith("KAFKALAB_") and k.endswith("_PORT"))}
    env.update(KAFKALAB_HOME=str(home), KAFKALAB_PORT_BASE=str(BENCH_BASE))
    return env


def _lab(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kafkalab", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def _wait_port(port: int, timeout: float = 120) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return time.monotonic() - t0
        time.sleep(0.05)
    raise RuntimeError(f"port {port} did not answer within {timeout} s")


def _ready(bootstrap: str, timeout: float = 120) -> None:
    from kafkalab.io.clients import describe_cluster

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        with contextlib.suppress(Exception):
            if describe_cluster(bootstrap, timeout_s=2)["brokers"]:
                return
        time.sleep(0.05)
    raise RuntimeError("broker did not answer")


# ------------------------------------------------------------------------------------------ 1. cold start
def _timed_up(env: dict) -> float:
    t0 = time.monotonic()
    res = _lab(env, "up", "-q")
    if res.returncode != 0:
        raise RuntimeError(res.stderr)
    took = time.monotonic() - t0
    _lab(env, "down", "-q")
    return took


def _timed_bare(java: str, cp: str, home: Path, extra: list[str]) -> float:
    """A bare ``java kafka.Kafka`` on the properties the launcher wrote, timed the same way (to DescribeCluster)."""
    from kafkalab.cluster import broker

    cmd = [java, "-Xms512m", "-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", *extra,
           f"-Dkafka.logs.dir={home}/logs", f"-Dlog4j2.configurationFile={broker.JVM_DIR / 'log4j2-broker.properties'}",
           "-Dkafkalab.node.name=bare", "-cp", cp, "kafka.Kafka", str(home / "run" / "node-1.properties")]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(BENCH_PORT)
        _ready(BOOTSTRAP)
        return time.monotonic() - t0
    finally:
        proc.terminate()
        proc.wait(60)


def cold_start(rounds: int = 3) -> dict:
    """Embedded `up` against a bare `java kafka.Kafka` on the same jars, config and (formatted) storage.

    Each round uses new storage. Its first `up` also formats it (one more short JVM) and is reported on its own;
    the ratios compare like with like, an `up` of formatted storage. The launcher maps a class archive
    (kafkalab.cluster.cds) that the first clean `down` wrote, so each round also times the launcher with
    KAFKALAB_CDS=0 and a bare java given the same archive: the ratio with CDS is what a learner gets, the ratio
    without it is the launcher's own cost, and bare-with-archive / bare shows what the archive alone brings.
    """
    from kafkalab.cluster import cds
    from kafkalab.cluster.java import find_java
    from kafkalab.cluster.maven import classpath

    times: dict[str, list[float]] = {k: [] for k in ("first", "embedded", "embedded_no_cds", "bare", "bare_cds")}
    java, cp = find_java("broker"), classpath("broker", quiet=True)
    with tempfile.TemporaryDirectory(dir=REPO / "bench") as cache:  # archives of this benchmark only
        archive = cds.archive_path("broker", java, cp, cache=Path(cache) / "cds")
        if archive is None:
            raise SystemExit("class-data sharing is off (KAFKALAB_CDS=0 or a KAFKA_HOME class path); unset "
                             "KAFKALAB_CDS and KAFKA_HOME to benchmark the start with and without it")
        for _ in range(rounds):
            with tempfile.TemporaryDirectory(dir=REPO / "bench") as tmp:
                env = dict(_env(Path(tmp)), KAFKALAB_CACHE_DIR=cache)
                resolved = settings().home / "classpath"  # the jar list Maven already resolved: no Maven run here
                if resolved.is_dir():
                    shutil.copytree(resolved, Path(tmp) / "classpath")
                times["first"].append(_timed_up(env))  # its `down` writes the archive in the first round
                times["embedded"].append(_timed_up(env))
                times["embedded_no_cds"].append(_timed_up(dict(env, KAFKALAB_CDS="0")))
                times["bare"].append(_timed_bare(java, cp, Path(tmp), []))
                times["bare_cds"].append(_timed_bare(java, cp, Path(tmp), [f"-XX:SharedArchiveFile={archive}"]))
    best = {k: min(v) for k, v in times.items()}
    return {"first_up_with_format_s": round(best["first"], 2), "embedded_start_s": round(best["embedded"], 2),
            "embedded_no_cds_start_s": round(best["embedded_no_cds"], 2),
            "bare_java_start_s": round(best["bare"], 2), "bare_java_cds_start_s": round(best["bare_cds"], 2),
            "launcher_overhead": round(best["embedded"] / best["bare"], 2),
            "launcher_overhead_no_cds": round(best["embedded_no_cds"] / best["bare"], 2),
            "launcher_overhead_both_cds": round(best["embedded"] / best["bare_cds"], 2),
            "rounds": rounds,
            "note": "best of the rounds; every start measured until the broker answers a DescribeCluster request"}


def tool_start(runs: int = 5) -> dict:
    """One short Kafka tool (``kafka-topics --list``) with and without the tools' class archive (best of runs)."""
    from kafkalab.cluster.tools import run_tool

    out = {}
    with tempfile.TemporaryDirectory(dir=REPO / "bench") as cache:
        os.environ["KAFKALAB_CACHE_DIR"] = cache
        try:
            run_tool("kafka-topics", ["--list", "--bootstrap-server", BOOTSTRAP])  # writes the archive
            for label, flag in (("tool_start_s", "1"), ("tool_start_no_cds_s", "0")):
                os.environ["KAFKALAB_CDS"] = flag
                best = float("inf")
                for _ in range(runs):
                    t0 = time.monotonic()
                    run_tool("kafka-topics", ["--list", "--bootstrap-server", BOOTSTRAP])
                    best = min(best, time.monotonic() - t0)
                out[label] = round(best, 2)
        finally:
            os.environ.pop("KAFKALAB_CACHE_DIR", None)
            os.environ.pop("KAFKALAB_CDS", None)
    out["speedup"] = round(out["tool_start_no_cds_s"] / out["tool_start_s"], 2)
    return out


# ------------------------------------------------------------------------------------------ 2. throughput
#: The producer settings every client gets in the "tuned" rows, in Kafka's (Java) names: the same batching, delivery
#: guarantee and compression on every side, so that ratios compare clients, not settings. They are librdkafka's
#: batching defaults (1 MB batches, 5 ms linger) with Kafka's durability defaults (acks=all, idempotence on).
TUNED = {"acks": "all", "linger.ms": 5, "batch.size": 1_000_000, "compression.type": "none",
         "enable.idempotence": "true"}
#: What each client does when given nothing (read from its own defaults; printed with the figures).
DEFAULTS = {
    "perf_tool": "Java producer 4.4 defaults: acks=all, linger.ms=5, batch.size=16384, idempotence on",
    "kafka_python": "kafka-python 3.0 defaults: acks=all, linger_ms=0, batch_size=16384, idempotence on",
    "confluent_kafka": "librdkafka 2.12 defaults: acks=all, linger.ms=5, batch.size=1000000, idempotence off",
}


def _kafka_python_settings(settings: dict) -> dict:
    """Kafka's producer settings as kafka-python keyword arguments."""
    names = {"acks": "acks", "linger.ms": "linger_ms", "batch.size": "batch_size",
             "compression.type": "compression_type", "enable.idempotence": "enable_idempotence"}
    out = {}
    for key, value in settings.items():
        if key == "compression.type":
            value = None if value == "none" else value
        elif key == "enable.idempotence":
            value = str(value).lower() == "true"
        elif key in ("linger.ms", "batch.size"):
            value = int(value)
        out[names[key]] = value
    return out


def _perf_tool(topic: str, n: int, size: int, settings: dict | None = None) -> float:
    from kafkalab.cluster.tools import run_tool

    props = [f"{k}={v}" for k, v in (settings or {}).items()]
    out = run_tool("kafka-producer-perf-test", [
        "--bootstrap-server", BOOTSTRAP, "--topic", topic, "--num-records", str(n), "--record-size", str(size),
        "--throughput", "-1", *(["--command-property", *props] if props else [])]).stdout
    m = re.search(r"records sent, ([\d.]+) records/sec", out.strip().splitlines()[-1])
    return float(m.group(1))


def _consumer_tool(topic: str, n: int) -> float:
    from kafkalab.cluster.tools import run_tool

    out = run_tool("kafka-consumer-perf-test", ["--bootstrap-server", BOOTSTRAP, "--topic", topic,
                                                 "--num-records", str(n), "--timeout", "60000"]).stdout
    row = out.strip().splitlines()[-1].split(",")
    return float(row[5])  # nMsg.sec


def _kafka_python_produce(topic: str, n: int, size: int, settings: dict | None = None) -> float:
    from kafkalab.io.clients import producer

    payload = b"x" * size
    with producer(bootstrap_servers=BOOTSTRAP, **_kafka_python_settings(settings or {})) as p:
        t0 = time.perf_counter()
        for _ in range(n):
            p.send(topic, payload)
        p.flush()
        return n / (time.perf_counter() - t0)


def _kafka_python_consume(topic: str, n: int) -> float:
    from kafkalab.io.clients import consumer

    c = consumer(topic, bootstrap_servers=BOOTSTRAP, consumer_timeout_ms=10000, max_poll_records=5000,
                 fetch_max_bytes=50 * 1024 * 1024)
    try:
        t0, got = time.perf_counter(), 0
        for _ in c:
            got += 1
            if got >= n:
                break
        return got / (time.perf_counter() - t0)
    finally:
        c.close()


def _confluent_produce(topic: str, n: int, size: int, settings: dict | None = None) -> float:
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": BOOTSTRAP, **{k: str(v) for k, v in (settings or {}).items()}})
    t0 = time.perf_counter()
    produce_all(p, topic, n, size)
    return n / (time.perf_counter() - t0)


def _confluent_consume(topic: str, n: int) -> float:
    from confluent_kafka import Consumer

    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": f"bench-{time.time_ns()}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic])
    try:
        got, t0 = 0, None
        deadline = time.monotonic() + 60
        while got < n and time.monotonic() < deadline:
            batch = c.consume(10000, timeout=1.0)
            if batch and t0 is None:
                t0 = time.perf_counter()
            got += sum(1 for m in batch if not m.error())
        return got / (time.perf_counter() - (t0 or time.perf_counter()))
    finally:
        c.close()


def _pure_crc(fn: str, *args) -> float:
    """Run ``fn(*args)`` of this module in a child Python where the crc32c wheel cannot be imported, so that
    kafka-python falls back to its pure-Python CRC-32C: the "before" of adding the wheel, in the same run."""
    code = ("import sys; sys.modules['crc32c'] = None\n"
            "from kafka.record import util; assert util.crc32c_c is None\n"
            f"from bench import run; print(run.{fn}(*{args!r}))")
    res = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "KAFKALAB_BENCH_BASE": str(BENCH_BASE)})
    if res.returncode != 0:
        raise RuntimeError(res.stderr.strip().splitlines()[-1] if res.stderr.strip() else "child failed")
    return float(res.stdout.strip().splitlines()[-1])


def throughput(n_tool: int, n_client: int, n_pure: int = 10_000) -> dict:
    """Producers and consumers against Kafka's perf tools, at 100 B and 1 KB records.

    The ceiling is ProducerPerformance with :data:`TUNED`; every producer is measured twice, with its library's
    defaults and with TUNED, and reported as a ratio of the ceiling (``vs_ceiling``). The settings are stored with
    the figures. kafka-python is also run where the crc32c wheel cannot be imported (its pure-Python CRC-32C).
    """
    from kafkalab.io.topics import recreate_topic

    out = {"settings": {"tuned": TUNED, "defaults": DEFAULTS,
                        "consumers": "each client's defaults; kafka-python with max_poll_records=5000, "
                                     "fetch_max_bytes=50 MB"}}
    for size in (100, 1000):
        label = "100b" if size == 100 else "1k"
        figures = {}
        runs = (("perf_tool", _perf_tool, n_tool, TUNED), ("perf_tool_defaults", _perf_tool, n_tool, None),
                ("confluent_kafka", _confluent_produce, n_client, TUNED),
                ("confluent_kafka_defaults", _confluent_produce, n_client, None),
                ("kafka_python", _kafka_python_produce, n_client, TUNED),
                ("kafka_python_defaults", _kafka_python_produce, n_client, None))
        for who, fn, n, profile in runs:
            topic = f"bench-{who.replace('_', '-')}-{label}"
            recreate_topic(topic, 1, 1)
            rate = fn(topic, n, size, profile)
            figures[who] = {"msgs_per_s": round(rate), "mb_per_s": round(rate * size / 1e6, 2)}
            if who == "perf_tool":
                figures["consumer_perf_tool"] = {"msgs_per_s": round(_consumer_tool(topic, n))}
                figures["consumer_kafka_python"] = {"msgs_per_s": round(_kafka_python_consume(topic, n))}
                figures["consumer_confluent_kafka"] = {"msgs_per_s": round(_confluent_consume(topic, n))}
                pure = _pure_crc("_kafka_python_consume", topic, n_pure)
                figures["consumer_kafka_python_pure_crc"] = {"msgs_per_s": round(pure)}
        topic = f"bench-kafka-python-pure-crc-{label}"
        recreate_topic(topic, 1, 1)
        rate = _pure_crc("_kafka_python_produce", topic, n_pure, size, TUNED)
        figures["kafka_python_pure_crc"] = {"msgs_per_s": round(rate), "mb_per_s": round(rate * size / 1e6, 2)}
        ceiling = figures["perf_tool"]["msgs_per_s"]
        figures["vs_ceiling"] = {who: round(figures[who]["msgs_per_s"] / ceiling, 3) for who in
                                 ("perf_tool_defaults", "confluent_kafka", "confluent_kafka_defaults", "kafka_python",
                                  "kafka_python_defaults", "kafka_python_pure_crc")}
        figures["confluent_vs_perf"] = figures["vs_ceiling"]["confluent_kafka"]
        figures["kafka_python_vs_perf"] = figures["vs_ceiling"]["kafka_python"]
        figures["kafka_python_pure_crc_vs_perf"] = figures["vs_ceiling"]["kafka_python_pure_crc"]
        cperf = figures["consumer_perf_tool"]["msgs_per_s"]
        figures["consumer_kafka_python_vs_perf"] = round(figures["consumer_kafka_python"]["msgs_per_s"] / cperf, 3)
        figures["consumer_confluent_vs_perf"] = round(figures["consumer_confluent_kafka"]["msgs_per_s"] / cperf, 3)
        out[label] = figures
    return out


# ------------------------------------------------------------------------------------------ 3. notebooks
def notebooks() -> dict:
    """Wall time of each notebook under nbval against the course cluster (the one `make test` uses)."""
    times = {}
    three = [p for p in sorted((REPO / "notebooks").glob("*.ipynb")) if "need_brokers=3" in p.read_text()]
    for nb in sorted((REPO / "notebooks").glob("*.ipynb")):
        if nb in three:
            continue
        t0 = time.monotonic()
        res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", str(nb),
                              "--nbval-sanitize-with", "tests/notebooks/sanitize.cfg"], cwd=REPO,
                             capture_output=True, text=True)
        times[nb.name] = {"seconds": round(time.monotonic() - t0, 1), "passed": res.returncode == 0}
    return {"per_notebook": times, "suite_s": round(sum(t["seconds"] for t in times.values()), 1),
            "skipped_three_broker": [p.name for p in three]}


# ------------------------------------------------------------------------------------------ 4. late data
def lateness(repeats: int = 7) -> dict:
    from kafkalab.lateness.engine import run_windows
    from kafkalab.lateness.generator import purchase_stream

    out = {}
    for n in (10_000, 100_000):
        records = purchase_stream(n, 7, out_of_orderness_ms=2000, late_share=0.1, late_by_ms=20_000,
                                  start_ms=1_700_000_000_000, mean_gap_ms=250)
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            run_windows(records, 10_000, 1_000, 5_000)
            best = min(best, time.perf_counter() - t0)
        out[f"{n // 1000}k_ms"] = round(best * 1000, 1)
    return out


# ------------------------------------------------------------------------------------------ widget latency
def _latencies(change, values: list) -> dict:
    took = []
    for v in values:
        t0 = time.perf_counter()
        change(v)
        took.append((time.perf_counter() - t0) * 1000)
    took.sort()
    return {"median_ms": round(took[len(took) // 2], 1), "max_ms": round(took[-1], 1), "changes": len(took)}


def widget_latency(changes: int = 15) -> dict:
    """From a changed control to a redrawn Output, in the kernel (what the browser then draws is not counted):
    the sizing widget (one assumption changed), the replay widget on the generator alone, and the replay widget
    through Kafka as chapter 7 runs it (topic recreated, records written and read back, engine, figures)."""
    from kafkalab.lateness.replay import topic_run_fn
    from kafkalab.widgets.lateness import replay_widget
    from kafkalab.widgets.sizing import sizing_widget

    sizing = sizing_widget()
    out = {"sizing": _latencies(lambda v: setattr(sizing.producer_mb, "value", v),
                                [round(5 + 0.5 * i, 1) for i in range(changes)])}
    assert sizing.error.value == "" and sizing.figure is not None, "the sizing widget refused a valid input"
    offline = replay_widget(replay_now=False)
    out["replay_generator"] = _latencies(lambda v: offline.replay(allowed_lateness_ms=v),
                                         [1_000 * (i % 8) for i in range(changes)])
    via_kafka = replay_widget(topic_run_fn("bench-replay"), replay_now=False)
    out["replay_through_kafka"] = _latencies(lambda v: via_kafka.replay(allowed_lateness_ms=v),
                                             [1_000 * (i % 8) for i in range(max(3, changes // 3))])
    for widget in (offline, via_kafka):
        assert widget.last_run is not None and widget.status.value == "", widget.status.value
    out["records_per_replay"] = offline.defaults.n
    return out


# ------------------------------------------------------------------------------------------ 5. setup
def setup_times() -> dict:
    """The README's setup in a fresh clone (new venv from the pip cache), then again (warm)."""
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "course"
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        shutil.copytree(REPO / "node_modules", clone / "node_modules", symlinks=True)
        out = {}
        for label in ("first_s", "warm_s"):
            t0 = time.monotonic()
            subprocess.run(["bash", "tools/setup.sh"], cwd=clone, check=True, capture_output=True)
            out[label] = round(time.monotonic() - t0, 1)
        out["note"] = "first = new venv from the local pip and Maven caches (no network downloads); npm copied"
        return out


def _verdicts(results: dict) -> dict:
    flat = {
        "launcher_overhead": results.get("cold_start", {}).get("launcher_overhead"),
        "confluent_vs_perf_1k": results.get("throughput", {}).get("1k", {}).get("confluent_vs_perf"),
        "kafka_python_vs_perf_1k": results.get("throughput", {}).get("1k", {}).get("kafka_python_vs_perf"),
        "nbval_suite_s": results.get("notebooks", {}).get("suite_s"),
        "lateness_10k_ms": results.get("lateness", {}).get("10k_ms"),
    }
    out = {}
    for key, value in flat.items():
        if value is None:
            continue
        label, op, goal = GOALS[key]
        met = value <= goal if op == "<=" else value >= goal
        out[key] = {"what": label, "value": value, "goal": f"{op} {goal}", "met": met}
    return out


def _refresh_appendix() -> None:
    """Re-run the book's appendix notebook so its stored charts show these figures."""
    nb = REPO / "book" / "performance.ipynb"
    res = subprocess.run([str(Path(sys.executable).parent / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                          "--inplace", str(nb)], cwd=nb.parent, check=False, capture_output=True, text=True)
    if res.returncode != 0:
        last = [ln for ln in res.stderr.splitlines() if ln.strip()][-1:] or ["no output"]
        print(f"the appendix {nb.relative_to(REPO)} could not be re-run ({last[0][:200]}); the figures are in "
              f"{RESULTS.relative_to(REPO)}", file=sys.stderr)


def _bench_broker(env: dict) -> None:
    """Point this process at the benchmark's own broker and start it (idempotent)."""
    os.environ.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    os.environ.update(env)
    res = _lab(env, "up", "-q")
    if res.returncode != 0:
        raise SystemExit(res.stderr)


def report(results: dict) -> str:
    """The printed table: goals first, then the figures behind them."""
    lines = [f"{'benchmark':58} {'value':>10}  goal       met"]
    for v in results.get("goals", {}).values():
        lines.append(f"{v['what']:58} {v['value']:>10}  {v['goal']:9}  {'yes' if v['met'] else 'NO'}")
    cs = results.get("cold_start", {})
    if cs:
        lines.append(f"  start  embedded {cs['embedded_start_s']} s (without class archive "
                     f"{cs.get('embedded_no_cds_start_s', '?')} s), bare java {cs['bare_java_start_s']} s "
                     f"(with the archive {cs.get('bare_java_cds_start_s', '?')} s), first up with format "
                     f"{cs['first_up_with_format_s']} s")
        if "launcher_overhead_no_cds" in cs:
            lines.append(f"  start  ratios: launcher/bare {cs['launcher_overhead']}, both without archive "
                         f"{cs['launcher_overhead_no_cds']}, both with it {cs['launcher_overhead_both_cds']}")
    ts = results.get("tool_start", {})
    if ts:
        lines.append(f"  tool   kafka-topics --list {ts['tool_start_s']} s, without class archive "
                     f"{ts['tool_start_no_cds_s']} s ({ts['speedup']}x)")
    tp = results.get("throughput", {})
    if "settings" in tp:
        lines.append("  producer settings, tuned rows (every client alike): "
                     + ", ".join(f"{k}={v}" for k, v in tp["settings"]["tuned"].items()))
        for who, text in tp["settings"]["defaults"].items():
            lines.append(f"  producer settings, {who}_defaults rows: {text}")
    for label, figures in tp.items():
        if label == "settings":
            continue
        ratios = figures.get("vs_ceiling", {})
        for who in ("perf_tool", "perf_tool_defaults", "confluent_kafka", "confluent_kafka_defaults", "kafka_python",
                    "kafka_python_defaults", "kafka_python_pure_crc"):
            if who in figures:
                f = figures[who]
                ratio = "ceiling" if who == "perf_tool" else f"{ratios.get(who, '?')} of it"
                lines.append(f"  producer {label:>4} {who:26} {f['msgs_per_s']:>9} msgs/s {f['mb_per_s']:>7} MB/s"
                             f"  {ratio}")
        for who in ("consumer_perf_tool", "consumer_confluent_kafka", "consumer_kafka_python",
                    "consumer_kafka_python_pure_crc"):
            if who in figures:
                lines.append(f"  consumer {label:>4} {who[9:]:22} {figures[who]['msgs_per_s']:>9} msgs/s")
    for name, w in results.get("widgets", {}).items():
        if isinstance(w, dict) and "median_ms" in w:
            lines.append(f"  widget {name:24} median {w['median_ms']:>7} ms, max {w['max_ms']:>7} ms "
                         f"over {w['changes']} changes")
    from bench import cdc

    lines += cdc.report_lines(results.get("cdc", {}))
    lines += kafka4.report_lines(results)
    for name, t in results.get("notebooks", {}).get("per_notebook", {}).items():
        lines.append(f"  nbval {name:32} {t['seconds']:>7} s {'' if t['passed'] else ' (FAILED)'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*",
                   default=["cold_start", "throughput", "widgets", "lateness", "cdc", *kafka4.PARTS, "notebooks"],
                   choices=PARTS, metavar="PART", help=f"which benchmarks: {' '.join(PARTS)}")
    p.add_argument("--records", type=int, default=200_000, help="records for Kafka's perf tools")
    p.add_argument("--client-records", type=int, default=50_000, help="records for the Python clients")
    args = p.parse_args(argv)
    (REPO / "bench").mkdir(exist_ok=True)
    # a partial run (--only ...) updates its own figures and keeps the others from earlier runs
    results: dict = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.update({"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                "platform": platform.platform(), "load_avg_1m_at_start": round(os.getloadavg()[0], 1)},
                    "when": time.strftime("%Y-%m-%d %H:%M:%S")})
    home = Path(tempfile.mkdtemp(dir=REPO / "bench", prefix="home-"))
    env = _env(home)
    saved_environ = dict(os.environ)  # the bench broker's settings apply to this process only while it runs
    measured = results.setdefault("measured", {})  # part -> when it was measured, and the machine's load then

    def stamp(*parts: str) -> None:
        for part in parts:
            measured[part] = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "load_avg_1m": round(os.getloadavg()[0], 1)}
    try:
        if "cold_start" in args.only:
            print("cold start ...", flush=True)
            stamp("cold_start")
            results["cold_start"] = cold_start()
        if "throughput" in args.only:
            print("throughput ...", flush=True)
            _bench_broker(env)
            stamp("throughput", "tool_start")
            results["throughput"] = throughput(args.records, args.client_records)
            print("tool start ...", flush=True)
            results["tool_start"] = tool_start()
        if "widgets" in args.only:
            print("widget latency ...", flush=True)
            _bench_broker(env)
            stamp("widgets")
            results["widgets"] = widget_latency()
        if "lateness" in args.only:
            print("late-data engine ...", flush=True)
            stamp("lateness")
            results["lateness"] = lateness()
        if "cdc" in args.only:
            print("commit-to-sink latency (PostgreSQL, Connect, Flink) ...", flush=True)
            _bench_broker(env)
            res = _lab(env, "up", "-q", "--with", "postgres,connect")
            if res.returncode != 0:
                raise SystemExit(res.stderr)
            stamp("cdc")
            from bench import cdc

            results["cdc"] = cdc.measure()
        if "rebalance" in args.only:
            print("rebalance pauses per protocol ...", flush=True)
            _bench_broker(env)
            stamp("rebalance")
            results["rebalance"] = kafka4.rebalance()
        if "share" in args.only:
            print("share-group throughput ...", flush=True)
            _bench_broker(env)
            stamp("share")
            results["share"] = kafka4.share_throughput(bootstrap=BOOTSTRAP)
        if "setup" in args.only:
            print("setup (fresh clone) ...", flush=True)
            stamp("setup")
            results["setup"] = setup_times()
    finally:
        _lab(env, "down", "-q")
        shutil.rmtree(home, ignore_errors=True)
        os.environ.clear()
        os.environ.update(saved_environ)
    if "notebooks" in args.only:
        print("notebooks under nbval (course cluster) ...", flush=True)
        stamp("notebooks")
        results["notebooks"] = notebooks()
    results["goals"] = _verdicts(results)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    _refresh_appendix()
    print("\n" + report(results))
    print(f"\nwritten to {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
