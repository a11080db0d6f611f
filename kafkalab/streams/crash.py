"""Chapter 5, section 7.2: crash the application with ``kill -9`` before it commits, restart it, and count.

:func:`crash_and_restart` runs the experiment once for one ``processing.guarantee`` on topics of its own
(``<prefix>-payments`` ...): the application processes a first batch of payments with commits held back (a
60-second commit interval), is killed with SIGKILL once every result of that batch has been sent, then more
payments arrive and it restarts with the same ``application.id`` and state folder. Under at-least-once the first
batch is processed again on top of state that already holds it; under exactly-once its open transaction is aborted
and nothing is counted twice.

The experiment uses the classic group protocol. Under ``group.protocol=streams`` the killed instance would keep
its tasks until the broker's session timeout for streams groups expires (``group.streams.session.timeout.ms``,
45 s by default and at least ``group.streams.min.session.timeout.ms``, also 45 s), so each restart would wait that
long; under the classic protocol the application chooses its own ``session.timeout.ms`` (6 s here).
"""
from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from .groups import CLASSIC
from .jvm import EXACTLY_ONCE, new_application_id, run
from .reference import customer_changelog, expected, table_of
from .topics import (create_topics, latest_per_key, produce_customers, produce_payments, read_topic,
                     wait_caught_up, wait_for_records)

#: Commits held back during the first run: the kill comes long before the first commit.
NO_COMMIT = {"commit.interval.ms": 60_000}
#: Commits twice a second after the restart, so the restarted application is seen catching up quickly.
QUICK_COMMITS = {"commit.interval.ms": 500}


@dataclass
class CrashRun:
    """The figures of one :func:`crash_and_restart` experiment."""

    guarantee: str
    application_id: str
    #: The state folder both runs used (delete it with :func:`kafkalab.streams.cleanup_dir` when done).
    state_dir: str
    #: How the first run ended: "killed".
    ended: str
    #: Totals updates the first batch produces (after the filter and the join): what was processed before the kill.
    processed_before_kill: int
    #: Records in the totals topic right after the kill: all of them, and those a read_committed reader sees.
    after_kill: dict[str, int]
    #: The final count per customer, read back from the totals topic.
    counts: dict[str, int]
    #: The restore lines of the totals store after the restart (application id shown as <application.id>).
    restored: list[str] = field(default_factory=list)


def crash_and_restart(guarantee: str, payments: Sequence[dict], *, first_batch: int = 30,
                      changelog: Sequence[tuple[str, dict | None]] | None = None, prefix: str | None = None,
                      settle_s: float = 1.0) -> CrashRun:
    """Process ``payments[:first_batch]``, ``kill -9`` the application before it commits, add the rest, restart it
    with the same ``application.id`` and state folder, and return what it counted.

    ``prefix`` names the experiment's topics (default ``streams-alos`` or ``streams-eos``); they are recreated
    empty first. ``settle_s`` is the pause between seeing the first batch's last result and the kill, so that the
    producer has sent everything it had buffered.
    """
    changelog = list(changelog if changelog is not None else customer_changelog())
    prefix = prefix or ("streams-eos" if guarantee == EXACTLY_ONCE else "streams-alos")
    topics = create_topics(prefix)
    produce_customers(topics["customers"], changelog)
    produce_payments(topics["payments"], payments[:first_batch])
    app_id, state_dir = new_application_id(prefix), tempfile.mkdtemp(prefix="streams-state-")
    before_kill, _ = expected(payments[:first_batch], table_of(changelog))

    held = dict(NO_COMMIT)
    if guarantee == EXACTLY_ONCE:
        held["producer.transaction.timeout.ms"] = 120_000  # a transaction may stay open that long
    with run(app_id, state_dir=state_dir, prefix=prefix, guarantee=guarantee, configs=held, protocol=CLASSIC) as app:
        wait_for_records(topics["totals"], len(before_kill), committed_only=False)
        time.sleep(settle_s)
        app.kill()
    after_kill = {"all records": len(read_topic(topics["totals"], committed_only=False)),
                  "read_committed": len(read_topic(topics["totals"], committed_only=True))}

    produce_payments(topics["payments"], payments[first_batch:])
    with run(app_id, state_dir=state_dir, prefix=prefix, guarantee=guarantee, configs=QUICK_COMMITS,
             protocol=CLASSIC) as again:
        wait_caught_up(app_id, [topics["payments"], topics["customers"]])
    counts = {k: v["count"] for k, v in latest_per_key(read_topic(topics["totals"])).items()}
    restored = sorted(m.replace(app_id, "<application.id>") for m in again.markers if "restored totals" in m)
    return CrashRun(guarantee, app_id, state_dir, app.ended or "", len(before_kill), after_kill, counts, restored)
