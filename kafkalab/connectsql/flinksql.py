"""Flink SQL on the course topics through PyFlink (Chapter 7, Streaming SQL over changes).

ksqlDB, the SQL engine the course notes name, is not available from any registry the course can install from;
Flink SQL plays its part. PyFlink (``apache-flink`` in requirements.txt) runs every query on a local mini-cluster
inside one JVM that it starts next to Python. Flink's Kafka connector is not in that wheel: it is the shaded jar
``flink-sql-connector-kafka`` that Maven resolves (the ``flink`` profile of ``kafkalab/cluster/jvm/pom.xml``), and
:func:`table_env` puts it in the JVM's ``lib/`` folder, as a Flink cluster would have it (see :func:`lib_dir`).

Repeatable results, run after run, come from four choices the chapter explains:

* bounded scans: ``'scan.startup.mode' = 'earliest-offset'`` and ``'scan.bounded.mode' = 'latest-offset'``, so
  a query reads what the topic holds when it starts and then finishes, like a batch job;
* event time from the record *value* (a ``ts_ms`` field written by the data generator), not the Kafka timestamp;
* a watermark emitted after every record (``'scan.watermark.emit.strategy' = 'on-event'``) rather than every
  200 ms of wall-clock time;
* parallelism 1 and single-partition input topics, so records reach each operator in one order.

Flink SQL's watermark convention differs from the DataStream one used in :mod:`kafkalab.lateness.engine`:
``WATERMARK FOR ts AS ts - INTERVAL 'D'`` makes the watermark ``max(ts) - D`` (no ``- 1``).
"""
from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path

from ..config import HOST, settings
from ..errors import LabError

#: Java versions Flink 2.2 supports; the gateway JVM is started with the first one found.
FLINK_JAVA = (17, 21, 11)
#: Heap of the JVM that runs the mini-cluster (PyFlink's default is a quarter of the machine's memory). The course's
#: jobs keep little state: after a full GC its live heap was ~60 MB in the streaming SQL chapter.
HEAP = os.environ.get("KAFKALAB_FLINK_HEAP", "256m")
#: How long a query may run before :func:`collect` and :func:`run` cancel it.
TIMEOUT_S = 120


def connector_jar() -> Path:
    """The Kafka SQL connector jar, resolved from Maven Central the first time."""
    from ..cluster.maven import classpath

    jars = [Path(j) for j in classpath("flink", quiet=True).split(os.pathsep) if j]
    kafka = [j for j in jars if j.name.startswith("flink-sql-connector-kafka")]
    if not kafka or not kafka[0].exists():
        raise LabError("the Flink Kafka SQL connector jar is missing; run `python -c \"from kafkalab.cluster.maven "
                       "import classpath; classpath('flink')\"` to fetch it from Maven Central")
    return kafka[0]


def _java_home() -> str:
    """A JAVA_HOME with a Java version Flink supports (17, 21 or 11)."""
    from ..cluster.java import _candidates, java_version

    found = []
    for want in FLINK_JAVA:
        for java in _candidates():
            v = java_version(java)
            found.append(f"{java} ({v})")
            if v == want:
                return str(Path(java).resolve().parent.parent)
    raise LabError(f"Flink 2.2 needs Java 17, 21 or 11; found {', '.join(dict.fromkeys(found)) or 'none'}. "
                   f"Install a JDK 17 (apt-get install openjdk-17-jre-headless) or set JAVA_HOME to one")


def lib_dir(jar: Path) -> Path:
    """A Flink ``lib/`` folder for PyFlink's JVM: links to the wheel's own jars plus ``jar`` (the Kafka connector).

    With the connector on the JVM's class path its classes are loaded once. Handed to each job through
    ``pipeline.jars`` instead, every job loaded the whole shaded Kafka client again into a class loader of its own,
    and the JVM kept them: in the streaming SQL chapter (a dozen jobs) its metaspace reached ~270 MB. The folder is
    named after what it links to, so a changed wheel or jar gets a new one; made once, safely when two processes
    race (each builds a private folder and the first rename wins).
    """
    import hashlib

    import pyflink

    wheel_lib = Path(pyflink.__file__).resolve().parent / "lib"
    jars = sorted(wheel_lib.glob("*.jar")) + [jar.resolve()]
    stamp = hashlib.sha256("\n".join(map(str, jars)).encode()).hexdigest()[:12]
    target = settings().home / "flink-lib" / stamp
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{stamp}.{os.getpid()}.tmp"
    tmp.mkdir(exist_ok=True)
    for j in jars:
        link = tmp / j.name
        if not link.exists():
            link.symlink_to(j)
    try:
        tmp.rename(target)
    except OSError:  # another process made it first
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _prepare_gateway_env(jar: Path) -> None:
    """Environment for the JVM PyFlink starts (read once, when the first TableEnvironment is created)."""
    os.environ["JAVA_HOME"] = _java_home()
    import pyflink

    wheel = Path(pyflink.__file__).resolve().parent
    # PyFlink takes its lib/ from FLINK_LIB_DIR, but overwrites that with the wheel's own unless FLINK_HOME is set
    os.environ.setdefault("FLINK_HOME", str(wheel))
    if Path(os.environ.get("FLINK_LIB_DIR", wheel / "lib")).resolve() == wheel / "lib":
        os.environ["FLINK_LIB_DIR"] = str(lib_dir(jar))
    log_dir = settings().log_dir / "flink"
    log_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("FLINK_LOG_DIR", str(log_dir))  # not inside the venv's site-packages
    # The serial collector and only the first-tier JIT compiler: the course's jobs are small and short, and C2's
    # compiler threads and code cache cost memory and CPU. With both, the JVM peaked at ~400 MB (PSS) in the streaming
    # SQL chapter, ~470 MB with C2 and a 320 MB heap.
    os.environ.setdefault("JVM_ARGS", f"-Xmx{HEAP} -XX:+UseSerialGC -XX:TieredStopAtLevel=1")
    # apache-beam (a PyFlink dependency) warns about optional cloud file systems it cannot load
    logging.getLogger("apache_beam").setLevel(logging.ERROR)


#: Task slots of the session mini-cluster: how many jobs of parallelism 1 run at once (a continuous job, the
#: chapter's queries and an exercise's check).
SLOTS = 4
_SESSION: list = []  # (host, port) of this process's session mini-cluster, started by the first table_env()
_SESSION_LOCK = threading.Lock()


def session_cluster() -> tuple[str, int]:
    """The REST address of a Flink mini-cluster that runs every job of this Python process, started on first use.

    PyFlink's default local execution starts a new mini-cluster for each job, and each one loads Flink's RPC system
    (Pekko and Scala, ~1,800 classes) into a class loader of its own that the JVM never unloads: a dozen queries
    grew the JVM's metaspace to ~270 MB. One session cluster, started here in PyFlink's JVM and reached on its REST
    port (on 127.0.0.1, a free port), loads it once; jobs also start faster.
    """
    with _SESSION_LOCK:
        if not _SESSION:
            from pyflink.java_gateway import get_gateway

            jvm = get_gateway().jvm
            conf = jvm.org.apache.flink.configuration.Configuration()
            for key, value in {
                "rest.address": HOST, "rest.bind-address": HOST, "rest.bind-port": "0",
                # Network buffers between operators: 64 MB of direct memory by default; the course's jobs
                # (parallelism 1-2, a few exchanges) need a fraction of 16 MB.
                "taskmanager.memory.network.min": "16mb", "taskmanager.memory.network.max": "16mb",
            }.items():
                conf.setString(key, value)
            mini = jvm.org.apache.flink.runtime.minicluster
            cluster = mini.MiniCluster(mini.MiniClusterConfiguration.Builder().setConfiguration(conf)
                                       .setNumTaskManagers(1).setNumSlotsPerTaskManager(SLOTS).build())
            cluster.start()
            uri = cluster.getRestAddress().get()
            _SESSION.append((uri.getHost(), uri.getPort()))
        return _SESSION[0]


def table_env(parallelism: int = 1, timezone: str = "UTC"):
    """A streaming ``TableEnvironment`` with the Kafka connector, ``parallelism`` and a fixed session time zone.

    The first call starts PyFlink's JVM and the session mini-cluster (several seconds); every query then runs as a
    job on that cluster (:func:`session_cluster`).
    """
    jar = connector_jar()
    _prepare_gateway_env(jar)
    from pyflink.table import EnvironmentSettings, TableEnvironment

    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    host, port = session_cluster()
    conf = t_env.get_config()
    conf.set("execution.target", "remote")
    conf.set("rest.address", host)
    conf.set("rest.port", str(port))
    conf.set("parallelism.default", str(parallelism))
    conf.set("table.local-time-zone", timezone)  # TIMESTAMP_LTZ values print in this zone
    conf.set("pipeline.name", "kafkalab")
    return t_env


def kafka_properties() -> dict[str, str]:
    """The connector's ``properties.*`` options for the course's connection: the bootstrap address and, on a secured
    cluster, its client config (kafkalab.io.connection; Flink's shaded login module)."""
    from ..io.connection import connection

    return connection().flink()


def kafka_properties_sql(indent: str = "  ") -> str:
    """The ``'properties.*' = '...'`` lines of :func:`kafka_properties` for a ``WITH (...)`` clause written out in a
    notebook: ``'properties.bootstrap.servers' = '...'`` alone on a plain cluster, the client config's keys too on a
    secured one. No trailing comma: write ``{KAFKA_PROPERTIES},`` where the bootstrap line stood."""
    return ",\n".join(f"{indent}'{k}' = '{_quoted(v)}'" for k, v in kafka_properties().items()).lstrip()


def _quoted(value) -> str:
    return str(value).replace("'", "''")


def with_clause(opts: dict) -> str:
    """``WITH ('k' = 'v', ...)``, one option per line, quotes in values doubled as SQL wants."""
    body = ",\n".join(f"  '{k}' = '{_quoted(v)}'" for k, v in opts.items())
    return f"WITH (\n{body}\n)"


def kafka_options(topic: str, *, bounded: bool = True, fmt: str = "json", extra: dict | None = None) -> str:
    """The ``WITH (...)`` clause of a Kafka table that reads from the start and, when ``bounded``, stops at the
    end offsets the topic had when the query started. ``extra`` adds or overrides options."""
    opts = {
        "connector": "kafka",
        "topic": topic,
        **kafka_properties(),
        "scan.startup.mode": "earliest-offset",
        "format": fmt,
    }
    if bounded:
        opts["scan.bounded.mode"] = "latest-offset"
    opts.update({k: str(v) for k, v in (extra or {}).items()})
    return with_clause(opts)


def events_table(name: str, topic: str, delay_s: int = 5) -> str:
    """``CREATE TEMPORARY TABLE`` for the course's payment events (``data/connect/payments.jsonl``) in ``topic``:
    the JSON fields as columns, event time ``ts`` from ``ts_ms``, a watermark ``delay_s`` behind the newest event
    time emitted after every record, and a bounded read from the first record to the end offsets of now."""
    return f"""CREATE TEMPORARY TABLE {name} (
  payment_id  STRING,
  customer_id STRING,
  merchant    STRING,
  `method`    STRING,
  amount      DOUBLE,
  currency    STRING,
  ts_ms       BIGINT,
  ts AS TO_TIMESTAMP_LTZ(ts_ms, 3),
  WATERMARK FOR ts AS ts - INTERVAL '{int(delay_s)}' SECOND
) {kafka_options(topic, extra={"scan.watermark.emit.strategy": "on-event"})}"""


def _cancel_after(result, timeout_s: float, flag: dict) -> threading.Timer:
    def cancel():
        client = result.get_job_client()
        if client is not None:
            flag["cancelled"] = True
            try:
                client.cancel().get()
            except Exception:  # the job may have finished in the meantime
                pass

    timer = threading.Timer(timeout_s, cancel)
    timer.daemon = True
    timer.start()
    return timer


def _timeout_error(timeout_s: float) -> LabError:
    return LabError(f"the query did not finish within {timeout_s:.0f} s and was cancelled: is every Kafka table "
                    f"bounded ('scan.bounded.mode' = 'latest-offset')? An unbounded query never ends on its own")


def collect(t_env, sql: str, timeout_s: float = TIMEOUT_S):
    """Run a bounded ``SELECT`` and return its rows as a pandas DataFrame (cancelled after ``timeout_s``).

    Rows that retract or update earlier ones (a changelog, from non-windowed aggregations) get an ``op`` column:
    ``+I`` insert, ``-U``/``+U`` update before/after, ``-D`` delete. Append-only results have no such column.
    """
    import pandas as pd
    from pyflink.table import DataTypes
    from pyflink.table.expressions import col
    from pyflink.table.types import LocalZonedTimestampType

    table = t_env.sql_query(sql)
    schema = table.get_resolved_schema()
    names = list(schema.get_column_names())
    types = schema.get_column_data_types()
    if any(isinstance(t, LocalZonedTimestampType) for t in types):
        # PyFlink cannot hand TIMESTAMP_LTZ values (Java Instants) to Python: show them in the session time zone
        table = table.select(*[col(n).cast(DataTypes.TIMESTAMP(3)).alias(n) if isinstance(t, LocalZonedTimestampType)
                               else col(n) for n, t in zip(names, types)])
    result = table.execute()
    flag = {"cancelled": False}
    timer = _cancel_after(result, timeout_s, flag)
    rows, ops = [], []
    try:
        with result.collect() as it:
            for row in it:
                rows.append(tuple(row))
                ops.append(row.get_row_kind().name)
    except Exception:
        if flag["cancelled"]:
            raise _timeout_error(timeout_s) from None
        raise
    finally:
        timer.cancel()
    if flag["cancelled"]:
        raise _timeout_error(timeout_s)
    df = pd.DataFrame(rows, columns=names)
    if any(op != "INSERT" for op in ops):
        short = {"INSERT": "+I", "UPDATE_BEFORE": "-U", "UPDATE_AFTER": "+U", "DELETE": "-D"}
        df.insert(0, "op", [short[o] for o in ops])
    return df


def run(t_env, statement, timeout_s: float = TIMEOUT_S) -> None:
    """Run an ``INSERT INTO`` (a SQL string or a ``StatementSet``) and wait until the bounded job has finished."""
    result = statement.execute() if hasattr(statement, "execute") else t_env.execute_sql(statement)
    try:
        result.wait(int(timeout_s * 1000))
    except Exception as e:
        if "TimeoutException" in str(e):
            client = result.get_job_client()
            if client is not None:
                client.cancel()
            raise _timeout_error(timeout_s) from None
        raise


def error_line(e: BaseException) -> str:
    """Flink's own message for a query it refused, in one line: the Java exception's message (an ``Encountered
    "method"`` parse error, a validation error …) without the Py4J wrapper, the parser's list of expected tokens or
    the stack trace."""
    text = str(e)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    java = next((ln[2:] for ln in lines if ln.startswith(": ")), lines[0] if lines else type(e).__name__)
    java = re.sub(r"^(?:[a-z]+\.)+[A-Za-z]*(?:Exception|Error): ", "", java)
    word = re.search(r'Encountered "([A-Za-z_]+)"', java)
    if word and "Was expecting" in text:
        java += f" ({word.group(1)} is a reserved word in Flink SQL: write it in backquotes, `{word.group(1)}`)"
    return java[:400]


def explain(t_env, sql: str, section: str = "== Optimized Physical Plan ==") -> str:
    """The part of Flink's ``EXPLAIN`` output that starts at ``section`` (up to the next ``==`` heading)."""
    text = t_env.explain_sql(sql)
    if section not in text:
        return text.strip()
    part = text.split(section, 1)[1]
    return (section + part.split("\n== ", 1)[0]).strip()
