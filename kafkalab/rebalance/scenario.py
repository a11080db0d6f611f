"""Drive a consumer group of separate member processes through joins, clean leaves and crashes, and measure what
each change costs (Chapter 12, *Consumer groups, queues and transactions in Kafka 4*).

Each member is a process of its own (:mod:`kafkalab.rebalance.member`), so "killed" means ``kill -9`` of a real
client, not a thread that stops politely. :class:`GroupRun` starts, stops and kills members and waits until the
group has **settled** (every partition owned by exactly one running member, every running member owning some,
nothing changing for a moment); :func:`scenario` runs the chapter's story::

    run = scenario("cooperative", TOPIC, GROUP)      # 3 members; a 4th joins; one leaves; one is killed
    run.table()                                       # per step: how long partitions waited, how many moved
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..config import REPO
from ..io.connection import connection
from ..errors import LabError
from ..wait import wait_until
from . import timeline
from .member import PROTOCOLS

#: The course's classroom group timing, the same for every protocol so that they compare fairly: a member is
#: declared dead after 10 s without a heartbeat, and heartbeats every second (kafkalab.io.clients uses the same for
#: its classic consumers; a KIP-848 group gets it as group configuration, see server.properties.template).
SESSION_MS, HEARTBEAT_MS = 10_000, 1_000
#: The scenarios' members spend this long on each poll's records (an application's work), so that a rebalance
#: waits for busy members as it would in production; with idle members every rebalance finishes in milliseconds.
WORK_S = 0.5


@dataclass
class Step:
    """One change the scenario made, and when the group had settled after it."""

    what: str  # "start", "join", "leave", "kill", "restart"
    member: str
    t: float
    settled: float | None = None


@dataclass
class Member:
    name: str
    proc: subprocess.Popen
    static: bool
    since: float  # when this process was started: a restarted member's earlier reports are not its own
    ended: str | None = None  # "stopped" or "killed"


@dataclass
class GroupRun:
    """Members of one group on one topic, and everything they reported (see the module docstring)."""

    protocol: str
    topic: str
    group: str
    partitions: int
    session_ms: int = SESSION_MS
    heartbeat_ms: int = HEARTBEAT_MS
    work_s: float = 0.0  # each member's work between two polls
    events: list[dict] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    kills: dict[str, list[float]] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise LabError(f"protocol {self.protocol!r}: choose one of {', '.join(PROTOCOLS)}")
        self.t0 = time.time()
        if self.protocol == "consumer":  # KIP-848: the session and heartbeat are the group's, on the broker
            from ..io.groups import configure_group

            configure_group(self.group, **{"consumer.session.timeout.ms": self.session_ms,
                                           "consumer.heartbeat.interval.ms": self.heartbeat_ms})

    # ------------------------------------------------------------------ members
    def start(self, name: str, *, static: bool = False, what: str = "join") -> Member:
        """Start member ``name`` (``static``: it sends its name as ``group.instance.id``)."""
        conn = connection()  # on a secured cluster each member logs in like every other client of the course
        cfg = {"protocol": self.protocol, "bootstrap": conn.bootstrap, "topic": self.topic,
               "kafka_python": conn.kafka_python(), "librdkafka": conn.librdkafka(),
               "group": self.group, "member": name, "static": static, "session_ms": self.session_ms,
               "heartbeat_ms": self.heartbeat_ms, "work_s": self.work_s, "max_seconds": 300}
        since = time.time()
        proc = subprocess.Popen([sys.executable, "-m", "kafkalab.rebalance.member", json.dumps(cfg)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                bufsize=1, cwd=REPO, start_new_session=True)
        member = Member(name, proc, static, since)
        self.members[name] = member
        self.steps.append(Step(what, name, time.time()))
        threading.Thread(target=self._pump, args=(member,), daemon=True, name=f"member-{name}").start()
        return member

    def _pump(self, member: Member) -> None:
        assert member.proc.stdout is not None
        for line in member.proc.stdout:
            with contextlib.suppress(ValueError):
                ev = json.loads(line)
                with self._changed:
                    self.events.append(ev)
                    self._changed.notify_all()

    def stop(self, name: str) -> None:
        """Close member ``name`` cleanly: it gives its partitions back and leaves the group."""
        member = self.members[name]
        self.steps.append(Step("leave", name, time.time()))
        with contextlib.suppress(BrokenPipeError, OSError, ValueError):
            member.proc.stdin.write("stop\n")
            member.proc.stdin.flush()
        member.ended = "stopped"

    def kill(self, name: str) -> None:
        """``kill -9`` member ``name``: no goodbye; the group notices when its session times out."""
        member = self.members[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(member.proc.pid, signal.SIGKILL)
        t = time.time()
        member.proc.wait(timeout=30)
        member.ended = "killed"
        self.kills.setdefault(name, []).append(t)
        self.steps.append(Step("kill", name, t))

    def running(self) -> list[str]:
        return sorted(n for n, m in self.members.items() if m.ended is None)

    # ------------------------------------------------------------------ state
    def errors(self) -> list[str]:
        return [f"{e['member']}: {e['error']}" for e in self.events if e.get("event") == "error"]

    def owners(self) -> dict[str, set[int]]:
        """What each running member owns now (by its latest report since its process started)."""
        latest: dict[str, set[int]] = {}
        for e in self.events:
            m = self.members.get(e["member"])
            if e.get("event") == "owns" and m is not None and e["t"] >= m.since:
                latest[e["member"]] = set(e["partitions"])
        return {n: latest.get(n, set()) for n in self.running()}

    def _settled_now(self) -> bool:
        owners = self.owners()
        counts = [p for parts in owners.values() for p in parts]
        if sorted(counts) != list(range(self.partitions)):
            return False
        return len(owners) > self.partitions or all(owners.values())

    def wait_settled(self, timeout_s: float = 45, quiet_s: float = 0.6) -> float:
        """Wait until the group has settled (see the module docstring) and stayed so for ``quiet_s``; record and
        return the time of the last ownership change, the moment it settled."""
        step = self.steps[-1]

        def settled():
            if self.errors():
                raise LabError(f"a member failed: {self.errors()[0]}")
            with self._changed:
                last = max((e["t"] for e in self.events if e.get("event") == "owns"), default=step.t)
                return last if self._settled_now() and time.time() - last >= quiet_s else None

        last = wait_until(settled, timeout_s=timeout_s, interval_s=0.1,
                          what=f"group {self.group!r} settling after {step.what} of {step.member}",
                          last_seen=lambda: f"running {self.running()}, owning {self.owners()}",
                          fix="is the cluster up? `python -m kafkalab status`")
        step.settled = max(last, step.t)
        return step.settled

    def close(self, grace_s: float = 15) -> None:
        """Stop every member that still runs (cleanly, then SIGKILL after ``grace_s``)."""
        for name in self.running():
            self.stop(name)
            self.steps.pop()  # not a step of the scenario
        deadline = time.monotonic() + grace_s
        for m in self.members.values():
            try:
                m.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(m.proc.pid, signal.SIGKILL)
                m.proc.wait(timeout=30)

    # ------------------------------------------------------------------ measurements
    def spans(self) -> list[timeline.Span]:
        """Ownership spans of this run; a span still open at the last report lasts one more second (members
        closed at the end report it; a measurement never looks past the last settled step)."""
        last = max([s.settled or s.t for s in self.steps] + [e["t"] for e in self.events], default=self.t0)
        return timeline.spans(self.events, self.kills, until=last + 1.0)

    def emptied(self, step: Step) -> list[str]:
        """Members other than the step's own that gave back every partition while the group settled after
        ``step``: under the eager protocol every member does, at every rebalance."""
        end = step.settled if step.settled is not None else float("inf")
        out = {e["member"] for e in self.events
               if e.get("event") == "owns" and e["why"] == "revoked" and not e["partitions"]
               and step.t <= e["t"] <= end and e["member"] != step.member}
        return sorted(out)

    def step(self, what: str) -> Step:
        """The first step of kind ``what`` ("join", "leave", "kill", "restart")."""
        for s in self.steps:
            if s.what == what:
                return s
        raise LabError(f"this run has no {what!r} step; its steps are {[s.what for s in self.steps]}")

    def measure(self) -> list[dict]:
        """One row per step after the first settled group: the step, the seconds until the group settled, the
        longest and the total time a partition had no owner, how many partitions waited and how many moved."""
        spans = self.spans()
        rows = []
        for step in self.steps:
            if step.what == "start" or step.settled is None:
                continue
            waited = timeline.pauses(spans, range(self.partitions), step.t, step.settled)
            rows.append({"protocol": self.protocol, "step": step.what, "member": step.member,
                         "settled_s": round(step.settled - step.t, 2),
                         "max_pause_s": round(max(waited.values()), 2),
                         "partition_seconds": round(sum(waited.values()), 2),
                         "partitions_paused": sum(1 for v in waited.values() if v > 0.05),
                         "moved": len(timeline.moved(spans, step.t - 0.001, step.settled + 0.001))})
        return rows


@contextlib.contextmanager
def group_run(protocol: str, topic: str, group: str, partitions: int, **timing) -> Iterator[GroupRun]:
    """A :class:`GroupRun` whose members are always stopped when the block ends."""
    run = GroupRun(protocol, topic, group, partitions, **timing)
    try:
        yield run
    finally:
        run.close()


def scenario(protocol: str, topic: str, group: str, *, partitions: int = 6, members: int = 3,
             work_s: float = WORK_S, timeout_s: float = 45) -> GroupRun:
    """The chapter's story on a fresh group: ``members`` members start; one more joins; the first leaves cleanly;
    the second is killed. Waits for the group to settle after each step and returns the finished run."""
    names = [f"c{i}" for i in range(1, members + 2)]
    with group_run(protocol, topic, group, partitions, work_s=work_s) as run:
        for name in names[:members]:
            run.start(name, what="start")
        run.wait_settled(timeout_s)
        run.start(names[members], what="join")
        run.wait_settled(timeout_s)
        run.stop(names[0])
        run.wait_settled(timeout_s)
        run.kill(names[1])
        run.wait_settled(timeout_s)
    return run


def restart_scenario(protocol: str, topic: str, group: str, *, static: bool, partitions: int = 6,
                     members: int = 3, work_s: float = WORK_S, timeout_s: float = 45) -> GroupRun:
    """Static membership against dynamic: ``members`` members start; the second is killed and started again at
    once, under the same name (with ``static``, that name is its ``group.instance.id``)."""
    names = [f"c{i}" for i in range(1, members + 1)]
    with group_run(protocol, topic, group, partitions, work_s=work_s) as run:
        for name in names:
            run.start(name, static=static, what="start")
        run.wait_settled(timeout_s)
        run.kill(names[1])
        run.start(names[1], static=static, what="restart")
        run.steps.pop(-2)  # the kill and the restart are one step: measured from the kill
        run.steps[-1].t = run.kills[names[1]][-1]
        run.wait_settled(timeout_s)
    return run
