"""Flink SQL on the course topics through PyFlink (Chapter 6: Integrating data with Kafka Connect, querying with SQL).

ksqlDB, the SQL engine the course notes name, is not available from any registry the course can install from;
Flink SQL plays its part. PyFlink (``apache-flink`` in requirements.txt) runs every query on a local mini-cluster
inside one JVM that it starts next to Python. Flink's Kafka connector is not in that wheel: it is the shaded jar
``flink-sql-connector-kafka`` that Maven resolves (the ``flink`` profile of ``kafkalab/cluster/jvm/pom.xml``) and
:func:`table_env` hands to Flink through ``pipeline.jars``.

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
import threading
from pathlib import Path

from .config import settings
from .errors import LabError

#: Java versions Flink 2.2 supports; the gateway JVM is started with the first one found.
FLINK_JAVA = (17, 21, 11)
#: Heap of the JVM that runs the mini-cluster (PyFlink's default is a quarter of the machine's memory).
HEAP = os.environ.get("KAFKALAB_FLINK_HEAP", "512m")
#: How long a query may run before :func:`collect` and :func:`run` cancel it.
TIMEOUT_S = 120


def connector_jar() -> Path:
    """The Kafka SQL connector jar, resolved from Maven Central the first time."""
    from .cluster.maven import classpath

    jars = [Path(j) for j in classpath("flink", quiet=True).split(os.pathsep) if j]
    kafka = [j for j in jars if j.name.startswith("flink-sql-connector-kafka")]
    if not kafka or not kafka[0].exists():
        raise LabError("the Flink Kafka SQL connector jar is missing; run `python -c \"from kafkalab.cluster.maven "
                       "import classpath; classpath('flink')\"` to fetch it from Maven Central")
    return kafka[0]


def _java_home() -> str:
    """A JAVA_HOME with a Java version Flink supports (17, 21 or 11)."""
    from .cluster.java import _candidates, java_version

    found = []
    for want in FLINK_JAVA:
        for java in _candidates():
            v = java_version(java)
            found.append(f"{java} ({v})")
            if v == want:
                return str(Path(java).resolve().parent.parent)
    raise LabError(f"Flink 2.2 needs Java 17, 21 or 11; found {', '.join(dict.fromkeys(found)) or 'none'}. "
                   f"Install a JDK 17 (apt-get install openjdk-17-jre-headless) or set JAVA_HOME to one")


def _prepare_gateway_env() -> None:
    """Environment for the JVM PyFlink starts (read once, when the first TableEnvironment is created)."""
    os.environ["JAVA_HOME"] = _java_home()
    log_dir = settings().log_dir / "flink"
    log_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("FLINK_LOG_DIR", str(log_dir))  # not inside the venv's site-packages
    os.environ.setdefault("JVM_ARGS", f"-Xmx{HEAP} -XX:+UseSerialGC")
    # apache-beam (a PyFlink dependency) warns about optional cloud file systems it cannot load
    logging.getLogger("apache_beam").setLevel(logging.ERROR)


def table_env(parallelism: int = 1, timezone: str = "UTC"):
    """A streaming ``TableEnvironment`` with the Kafka connector jar, ``parallelism`` and a fixed session time zone.

    The first call starts PyFlink's JVM (a few seconds); every query then runs on a fresh local mini-cluster.
    """
    jar = connector_jar()
    _prepare_gateway_env()
    from pyflink.table import EnvironmentSettings, TableEnvironment

    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    conf = t_env.get_config()
    conf.set("pipeline.jars", jar.as_uri())
    conf.set("parallelism.default", str(parallelism))
    conf.set("table.local-time-zone", timezone)  # TIMESTAMP_LTZ values print in this zone
    conf.set("pipeline.name", "kafkalab")
    # Network buffers between operators: the local mini-cluster reserves 64 MB of direct memory for them by default;
    # the course's jobs (parallelism 1-2, a few exchanges) need a fraction of 16 MB. Measured on the CDC pipeline
    # (join + GROUP BY): the gateway JVM's resident memory went from ~430 to ~380 MB.
    conf.set("taskmanager.memory.network.min", "16mb")
    conf.set("taskmanager.memory.network.max", "16mb")
    return t_env


def kafka_properties() -> dict[str, str]:
    """The connector's ``properties.*`` options for the course's connection: the bootstrap address and, on a secured
    cluster, its client config (kafkalab.io.connection; Flink's shaded login module)."""
    from .io.connection import connection

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


def explain(t_env, sql: str, section: str = "== Optimized Physical Plan ==") -> str:
    """The part of Flink's ``EXPLAIN`` output that starts at ``section`` (up to the next ``==`` heading)."""
    text = t_env.explain_sql(sql)
    if section not in text:
        return text.strip()
    part = text.split(section, 1)[1]
    return (section + part.split("\n== ", 1)[0]).strip()
