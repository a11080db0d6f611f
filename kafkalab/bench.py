"""``make bench``: the course's benchmarks. Figures and ratios, printed as a table and written to JSON.

Benchmarks are not tests: they never fail on a slow machine, they report. Each figure is set beside a reference
measured in the same run on the same machine (Kafka's own perf tools, a bare ``java kafka.Kafka``), so the
ratios mean something across machines. Everything runs on a broker of its own on spare ports (KAFKALAB_HOME
under bench/, port 19592), so the course cluster is left alone.
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

from .config import REPO

# below the ephemeral range (32768-60999 on Linux): a client polling a port in that range while nothing listens
# can be given that very port as its own source port and connect to itself, which then blocks the broker's bind
BENCH_PORT, BENCH_CONTROLLER = 19592, 19593
BOOTSTRAP = f"127.0.0.1:{BENCH_PORT}"
RESULTS = REPO / "bench" / "results.json"

GOALS = {  # what we aim for (issue "Benchmarks"); a figure below its goal is reported, never hidden
    "launcher_overhead": ("embedded start / bare java start", "<=", 1.20),
    "confluent_vs_perf_1k": ("confluent-kafka / ProducerPerformance msgs/s at 1 KB", ">=", 0.50),
    "kafka_python_vs_perf_1k": ("kafka-python / ProducerPerformance msgs/s at 1 KB", ">=", 0.10),
    "nbval_suite_s": ("one nbval pass over all notebooks, seconds", "<=", 360.0),
    "lateness_10k_ms": ("late-data engine recompute, 10k records, ms", "<=", 100.0),
}


def _env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    env.update(KAFKALAB_HOME=str(home), KAFKALAB_BROKER_PORT=str(BENCH_PORT),
               KAFKALAB_CONTROLLER_PORT=str(BENCH_CONTROLLER))
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
    from .clients import describe_cluster

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        with contextlib.suppress(Exception):
            if describe_cluster(bootstrap, timeout_s=2)["brokers"]:
                return
        time.sleep(0.05)
    raise RuntimeError("broker did not answer")


# ------------------------------------------------------------------------------------------ 1. cold start
def cold_start(rounds: int = 3) -> dict:
    """Embedded `up` against a bare `java kafka.Kafka` on the same jars, config and (formatted) storage.

    Rounds alternate the two. The first `up` of a fresh folder also formats storage (one more short JVM): it is
    reported on its own, and the overhead ratio compares like with like (an `up` of formatted storage).
    """
    from .cluster import broker
    from .cluster.java import find_java
    from .cluster.maven import classpath

    first, embedded, bare = [], [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(dir=REPO / "bench") as tmp:
            env = _env(Path(tmp))
            for times in (first, embedded):
                t0 = time.monotonic()
                res = _lab(env, "up", "-q")
                if res.returncode != 0:
                    raise RuntimeError(res.stderr)
                times.append(time.monotonic() - t0)
                _lab(env, "down", "-q")
            props = Path(tmp) / "run" / "node-1.properties"
            cmd = [find_java("broker"), "-Xms512m", "-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                   f"-Dkafka.logs.dir={tmp}/logs",
                   f"-Dlog4j2.configurationFile={broker.JVM_DIR / 'log4j2-broker.properties'}",
                   "-Dkafkalab.node.name=bare", "-cp", classpath("broker"), "kafka.Kafka", str(props)]
            t0 = time.monotonic()
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                _wait_port(BENCH_PORT)
                _ready(BOOTSTRAP)
                bare.append(time.monotonic() - t0)
            finally:
                proc.terminate()
                proc.wait(60)
    e, b = min(embedded), min(bare)
    return {"first_up_with_format_s": round(min(first), 2), "embedded_start_s": round(e, 2),
            "bare_java_start_s": round(b, 2), "launcher_overhead": round(e / b, 2), "rounds": rounds,
            "note": "best of the rounds; both measured until the broker answers a DescribeCluster request"}


# ------------------------------------------------------------------------------------------ 2. throughput
def _perf_tool(topic: str, n: int, size: int) -> float:
    from .tools import run_tool

    out = run_tool("kafka-producer-perf-test", [
        "--topic", topic, "--num-records", str(n), "--record-size", str(size), "--throughput", "-1",
        "--producer-props", f"bootstrap.servers={BOOTSTRAP}", "acks=1", "linger.ms=5", "batch.size=65536"]).stdout
    m = re.search(r"records sent, ([\d.]+) records/sec", out.strip().splitlines()[-1])
    return float(m.group(1))


def _consumer_tool(topic: str, n: int) -> float:
    from .tools import run_tool

    out = run_tool("kafka-consumer-perf-test", ["--bootstrap-server", BOOTSTRAP, "--topic", topic,
                                                 "--messages", str(n), "--timeout", "60000"]).stdout
    row = out.strip().splitlines()[-1].split(",")
    return float(row[5])  # nMsg.sec


def _kafka_python_produce(topic: str, n: int, size: int) -> float:
    from .clients import producer

    payload = b"x" * size
    with producer(bootstrap_servers=BOOTSTRAP, acks=1, linger_ms=5, batch_size=65536) as p:
        t0 = time.perf_counter()
        for _ in range(n):
            p.send(topic, payload)
        p.flush()
        return n / (time.perf_counter() - t0)


def _kafka_python_consume(topic: str, n: int) -> float:
    from .clients import consumer

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


def _confluent_produce(topic: str, n: int, size: int) -> float:
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": BOOTSTRAP, "acks": 1, "linger.ms": 5, "batch.size": 65536})
    payload = b"x" * size
    t0 = time.perf_counter()
    for _ in range(n):
        while True:
            try:
                p.produce(topic, payload)
                break
            except BufferError:
                p.poll(0.01)
    p.flush(60)
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


def throughput(n_tool: int, n_client: int) -> dict:
    from .clients import recreate_topic

    out = {}
    for size in (100, 1000):
        label = "100b" if size == 100 else "1k"
        figures = {}
        for who, fn, n in (("perf_tool", _perf_tool, n_tool), ("confluent_kafka", _confluent_produce, n_client),
                           ("kafka_python", _kafka_python_produce, n_client)):
            topic = f"bench-{who.replace('_', '-')}-{label}"
            recreate_topic(topic, 1, 1)
            rate = fn(topic, n, size)
            figures[who] = {"msgs_per_s": round(rate), "mb_per_s": round(rate * size / 1e6, 2)}
            if who == "perf_tool":
                figures["consumer_perf_tool"] = {"msgs_per_s": round(_consumer_tool(topic, n))}
                figures["consumer_kafka_python"] = {"msgs_per_s": round(_kafka_python_consume(topic, n))}
                figures["consumer_confluent_kafka"] = {"msgs_per_s": round(_confluent_consume(topic, n))}
        perf = figures["perf_tool"]["msgs_per_s"]
        figures["confluent_vs_perf"] = round(figures["confluent_kafka"]["msgs_per_s"] / perf, 3)
        figures["kafka_python_vs_perf"] = round(figures["kafka_python"]["msgs_per_s"] / perf, 3)
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
    from .lateness import purchase_stream, run_windows

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
    subprocess.run([str(Path(sys.executable).parent / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                    "--inplace", str(nb)], cwd=nb.parent, check=False, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m kafkalab.bench", description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", default=["cold_start", "throughput", "lateness", "notebooks"],
                   help="which benchmarks: cold_start throughput lateness notebooks setup")
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
    try:
        if "cold_start" in args.only:
            print("cold start ...", flush=True)
            results["cold_start"] = cold_start()
        if "throughput" in args.only:
            print("throughput ...", flush=True)
            os.environ.update(env)
            res = _lab(env, "up", "-q")
            if res.returncode != 0:
                raise SystemExit(res.stderr)
            results["throughput"] = throughput(args.records, args.client_records)
        if "lateness" in args.only:
            print("late-data engine ...", flush=True)
            results["lateness"] = lateness()
        if "setup" in args.only:
            print("setup (fresh clone) ...", flush=True)
            results["setup"] = setup_times()
    finally:
        _lab(env, "down", "-q")
        shutil.rmtree(home, ignore_errors=True)
        for var in ("KAFKALAB_HOME", "KAFKALAB_BROKER_PORT", "KAFKALAB_CONTROLLER_PORT"):
            os.environ.pop(var, None)
    if "notebooks" in args.only:
        print("notebooks under nbval (course cluster) ...", flush=True)
        results["notebooks"] = notebooks()
    results["goals"] = _verdicts(results)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    _refresh_appendix()
    print(f"\n{'benchmark':58} {'value':>10}  goal       met")
    for v in results["goals"].values():
        print(f"{v['what']:58} {v['value']:>10}  {v['goal']:9}  {'yes' if v['met'] else 'NO'}")
    for label, figures in results.get("throughput", {}).items():
        for who in ("perf_tool", "confluent_kafka", "kafka_python"):
            f = figures[who]
            print(f"  producer {label:>4} {who:16} {f['msgs_per_s']:>9} msgs/s {f['mb_per_s']:>7} MB/s")
        for who in ("consumer_perf_tool", "consumer_confluent_kafka", "consumer_kafka_python"):
            print(f"  consumer {label:>4} {who[9:]:16} {figures[who]['msgs_per_s']:>9} msgs/s")
    for name, t in results.get("notebooks", {}).get("per_notebook", {}).items():
        print(f"  nbval {name:32} {t['seconds']:>7} s {'' if t['passed'] else ' (FAILED)'}")
    print(f"\nwritten to {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
