"""Exercises of "Consumer groups, queues and transactions in Kafka 4" (notebooks/12_kafka4_groups.ipynb)."""
from __future__ import annotations

import contextlib
import numbers
from typing import Iterator

from . import _lab
from .answers import type_name
from .core import Mistake, call_learner, exercise
from .scratch import scratch_group, scratch_topic, unique_name
from .verdicts import NotYet, WrongType

CHAPTER = "kafka4_groups"

# ----------------------------------------------------------------------------------------------- Exercise 1
#: The jobs Exercise 1 puts on its queue: job-00 .. job-11. Two fail once because a service is busy, two can never
#: be processed. Which ones is process()'s business: decide from what process() does, not from the job's name.
JOBS = 12
BUSY, BROKEN = (3, 8), (5, 10)
#: The broker's default share.delivery.count.limit: a record released this many times is archived.
DELIVERY_LIMIT = 5


class TryLater(Exception):
    """process() could not finish the job now (a service it calls is busy); another attempt may succeed."""


class Malformed(Exception):
    """process() can never finish this job (its content is broken); retrying cannot help."""


def process(job) -> str:
    """Process one delivered job (``job.value`` is e.g. ``"job-07"``, ``job.delivery_count`` 1, 2 ...).

    Returns a short receipt when the job is done; raises :class:`TryLater` when a service was busy (the next
    delivery works) or :class:`Malformed` when the job can never be done."""
    number = int(str(job.value).rsplit("-", 1)[-1])
    if number in BROKEN:
        raise Malformed(f"{job.value}: the payload cannot be parsed")
    if number in BUSY and job.delivery_count < 2:
        raise TryLater(f"{job.value}: the thumbnail service answered 503")
    return f"{job.value} done"


def _kind(value: str) -> str:
    number = int(value.rsplit("-", 1)[-1])
    return "broken" if number in BROKEN else "busy" if number in BUSY else "ok"


def _expected(kind: str, delivery_count: int) -> str:
    if kind == "broken":
        return "reject"
    if kind == "busy" and delivery_count < 2:
        return "release"
    return "accept"


def _finished(deliveries, n: int) -> bool:
    """Every job got an answer that ends its story: accepted, rejected, or released at the delivery limit."""
    last = {}
    for d in deliveries:
        if d.decision is None:
            return False
        last[d.offset] = d
    return len(last) == n and all(d.decision != "release" or d.delivery_count >= DELIVERY_LIMIT
                                  for d in last.values())


#: The order in which wrong answers are reported when there are several: the costliest first.
_SEVERITY = ("ok", "broken-accept", "broken-release", "busy-reject", "busy-accept", "busy-release")


def _judge_deliveries(deliveries) -> None:
    """The worst delivery whose answer was not the right one (see _SEVERITY), as a NotYet naming the mistake."""
    wrong = {}
    for d in sorted(deliveries, key=lambda d: (d.offset, d.delivery_count)):
        kind = _kind(d.value)
        if d.decision == _expected(kind, d.delivery_count):
            continue
        label = "ok" if kind == "ok" else f"{kind}-{d.decision}"
        wrong.setdefault(label, d)
    if not wrong:
        return
    label = min(wrong, key=_SEVERITY.index)
    d, got = wrong[label], wrong[label].decision
    if label == "ok":
        raise NotYet(f"{d.value} was processed on its first delivery and you answered {got!r}: accept a job that "
                     "process() finished, or it is delivered again (or lost with 'reject')")
    if label == "broken-accept":
        raise NotYet(f"{d.value} can never be processed (process() raises Malformed) and you accepted it: the "
                     "failure is silently gone. Reject it, so the broker archives it and copies it to the "
                     "dead-letter topic")
    if label == "broken-release":
        tries = max(x.delivery_count for x in deliveries if x.offset == d.offset)
        raise NotYet(f"{d.value} can never be processed (process() raises Malformed) and you released it: it "
                     f"came back {tries} times until the broker's delivery limit ({DELIVERY_LIMIT}) archived it. "
                     "Reject it on the first try")
    if label == "busy-reject":
        raise NotYet(f"{d.value} failed only because a service was busy (process() raised TryLater) and you "
                     "rejected it: it went to the dead-letter topic after one try. Release it, and the queue "
                     "delivers it again")
    if d.delivery_count < 2:
        raise NotYet(f"{d.value} failed on its first delivery (process() raised TryLater) and you accepted it "
                     "anyway, so it was never done: release it, the next delivery succeeds")
    raise NotYet(f"{d.value} succeeded on delivery {d.delivery_count} and you answered {got!r}: accept a job "
                 "once process() finished it")


@contextlib.contextmanager
def _dlq_topic() -> Iterator[str]:
    """A dead-letter topic for one check: its name starts with the broker's prefix "dlq.", and the topic allows
    share groups to write to it (errors.deadletterqueue.group.enable)."""
    name = "dlq." + unique_name(CHAPTER, "dead-letters")
    _lab.recreate_topic(name, configs={"errors.deadletterqueue.group.enable": "true"})
    try:
        yield name
    finally:
        with contextlib.suppress(Exception):
            _lab.delete_topic(name)


def _checked(decide):
    """The learner's function as the worker's handler: its exceptions and wrong answers become one-line verdicts."""
    share = _lab.share()

    def handle(job):
        try:
            answer = call_learner(decide, job)
        except NotYet as e:
            if "TryLater" in str(e) or "Malformed" in str(e):  # which job fails first depends on the consumers
                raise NotYet(f"{e}: process() raises TryLater or Malformed for jobs it cannot do; catch both and "
                             "answer 'release' or 'reject'") from None
            raise
        word = answer.lower() if isinstance(answer, str) else None
        if word not in share.DECISIONS:
            raise WrongType(f"return 'accept', 'release' or 'reject' (a str) for each job, not {type_name(answer)} "
                            f"({answer!r:.30})")
        return word

    return handle


def _accept_everything(job):
    return "accept"


def _release_on_any_error(job):
    try:
        process(job)
    except Exception:
        return "release"
    return "accept"


def _reject_on_any_error(job):
    try:
        process(job)
    except Exception:
        return "reject"
    return "accept"


def _no_error_handling(job):
    process(job)
    return "accept"


def _answers_true(job):
    return True


@exercise(
    CHAPTER,
    title="Acknowledge each job the right way",
    kind="code",
    expects="a function decide(job) returning 'accept', 'release' or 'reject'",
    hints=[
        "Call `process(job)` inside a `try`. If it returns, the job is done. If it raises `TryLater`, a second "
        "attempt may work; if it raises `Malformed`, no attempt ever will.",
        "Done: 'accept'. TryLater: 'release' (the broker delivers it again, with delivery_count 2). Malformed: "
        "'reject' (the broker archives it at once and copies it to the group's dead-letter topic).",
    ],
    solution='''
from kafkalab.exercises.kafka4_groups import Malformed, TryLater, process


def decide_solution(job):
    """Accept what process() finished, release what may work next time, reject what never will."""
    try:
        process(job)
    except TryLater:
        return "release"
    except Malformed:
        return "reject"
    return "accept"
''',
    reference="decide_solution",
    live=True,
    mistakes=[
        Mistake("can never be processed (process() raises Malformed) and you accepted it", answer=_accept_everything),
        Mistake("came back 5 times until the broker's delivery limit", answer=_release_on_any_error),
        Mistake("failed only because a service was busy", answer=_reject_on_any_error),
        Mistake("catch both and answer 'release' or 'reject'", answer=_no_error_handling),
        Mistake("return 'accept', 'release' or 'reject' (a str) for each job, not bool", answer=_answers_true,
                kind="wrong type"),
        Mistake("pass a function, not int", answer=3, kind="wrong type"),
    ],
)
def acknowledge_jobs(decide) -> str:
    """Exercise 1: ``decide(job)`` answers each delivery of a job on a share group's queue. The checker puts 12
    jobs on a fresh one-partition topic, runs two share consumers of a fresh share group (with a dead-letter topic)
    that ask ``decide`` about every delivery, and checks each answer and what the broker did with it."""
    share = _lab.share()
    with scratch_topic(CHAPTER, "jobs") as topic, _dlq_topic() as dlq, scratch_group(CHAPTER, "workers") as group:
        _lab.configure_group(group, **share.CLASSROOM, **{"errors.deadletterqueue.topic.name": dlq})
        with contextlib.closing(_lab.producer()) as p:
            for i in range(JOBS):
                p.send(topic, value=f"job-{i:02d}".encode())
            p.flush(timeout=30)
        with share.run(group, topic, consumers=2, handle=_checked(decide),
                       configs={"max.poll.records": 4, "share.acquire.mode": "record_limit"}) as workers:
            workers.wait_for(lambda w: _finished(w.deliveries, JOBS), timeout_s=60,
                             what=f"an answer that settles each of the {JOBS} jobs")
            deliveries = list(workers.deliveries)
        _judge_deliveries(deliveries)
        dead = _lab.share().dead_letters(dlq, expect=len(BROKEN))
    broken = sorted(f"job-{i:02d}" for i in BROKEN)
    counts = sorted(int(r["delivery_count"]) for r in dead)
    if len(dead) != len(BROKEN) or counts != [1] * len(BROKEN):
        raise NotYet(f"the dead-letter topic holds {len(dead)} record(s) with delivery counts {counts}; the "
                     f"{len(BROKEN)} malformed jobs should be there once each, after one delivery")
    return (f"all {JOBS} jobs settled with the fewest deliveries: {JOBS - len(BUSY) - len(BROKEN)} accepted at once, "
            f"{len(BUSY)} released after a busy service and accepted on delivery 2, and the malformed "
            f"{' and '.join(broken)} rejected at once: the broker copied them to the dead-letter topic with delivery "
            "count 1")


# ----------------------------------------------------------------------------------------------- Exercise 2
@exercise(
    CHAPTER,
    title="How long does a crashed member's partition wait?",
    kind="concept",
    expects="a number of seconds",
    hints=[
        "A killed process sends nothing more. Under the consumer protocol the broker alone decides when a member "
        "is gone: when no heartbeat came for the group's session timeout.",
        "This chapter set consumer.session.timeout.ms=10000 on its own groups; the broker's default, "
        "group.consumer.session.timeout.ms, is 45000. A heartbeat interval later the others get the partitions.",
    ],
    solution='''
crash_wait_s = 45  # group.consumer.session.timeout.ms, Kafka's default for consumer-protocol groups
''',
    reference=lambda ctx: 45,
    mistakes=[
        Mistake("10 s is what this chapter set on its own groups", answer=10),
        Mistake("the heartbeat interval is how often members report", answer=5),
        Mistake("cannot tell a dead member from a slow one", answer=0),
        Mistake("max.poll.interval.ms", answer=300),
        Mistake("answer with a number", answer="45 s", kind="wrong type"),
    ],
)
def crash_pause(answer) -> str:
    """Exercise 2: with Kafka's defaults, about how many seconds do a killed KIP-848 member's partitions wait before
    another member gets them?"""
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        raise WrongType(f"answer with a number of seconds, not {type_name(answer)} ({answer!r:.30})")
    if 40 <= answer <= 51:
        return ("about 45 s: the broker waits for the group's session timeout (group.consumer.session.timeout.ms, "
                "45 s by default) before it gives the dead member's partitions to the others, who hear of them on "
                "their next heartbeat")
    if 9 <= answer <= 12:
        raise NotYet("10 s is what this chapter set on its own groups (consumer.session.timeout.ms=10000, allowed "
                     "by the course broker's lowered floor); with Kafka's defaults the broker waits longer")
    if 4 <= answer <= 6:
        raise NotYet("the heartbeat interval is how often members report (5 s by default), not how long the broker "
                     "waits before it gives up on a silent member")
    if answer < 4:
        raise NotYet("the broker cannot tell a dead member from a slow one until its session times out: nothing "
                     "moves at once after a crash")
    if 250 <= answer <= 350:
        raise NotYet("max.poll.interval.ms (300 s) ends a member that stops calling poll() while it still sends "
                     "heartbeats; a killed process sends no heartbeats, so the session timeout decides first")
    raise NotYet(f"{answer} s is not it: which group setting decides when a silent member is declared dead, and "
                 "what is Kafka's default for it?")


# ----------------------------------------------------------------------------------------------- Exercise 3
#: The workloads of Exercise 3, by letter.
WORKLOADS = {
    "A": "update each customer's balance from their payments, strictly in the order they were made",
    "B": "send 50,000 notification e-mails; each takes about a second at the mail server, order does not matter, "
         "and the topic has 2 partitions but you want 20 senders",
    "C": "make thumbnails of uploaded photos; a busy image service should mean 'try again later', and a corrupt "
         "file should be set aside after one look",
    "D": "keep a running total per card number to spot fraud, from a topic keyed by card number",
}
_RIGHT = {"A": "consumer", "B": "share", "C": "share", "D": "consumer"}
_WHY = {
    "A": "a consumer group keeps each partition, so each customer's key, with one member, in order; a share group "
         "hands records of one partition to several consumers and gives up that order",
    "B": "a share group lets 20 consumers share 2 partitions; a consumer group can never use more consumers than "
         "there are partitions",
    "C": "a share group acknowledges each record: release for 'try again', reject to set one aside (and a "
         "dead-letter topic to keep it); a consumer group only commits a position, so one bad record blocks or is "
         "skipped with everything before it",
    "D": "a running total per card needs every record of that card in one place and in order: a consumer group "
         "gives each key's partition to one member",
}


@exercise(
    CHAPTER,
    title="Consumer group or share group?",
    kind="concept",
    expects="a dict {'A': 'consumer' or 'share', 'B': ..., 'C': ..., 'D': ...}",
    hints=[
        "Ask two questions of each workload: does the order of records (per key) matter, and must there be more "
        "workers than partitions, or per-record retries?",
        "Order per key and state per key: consumer group. Many slow, independent jobs, retries, setting bad "
        "records aside: share group.",
    ],
    solution='''
group_types_solution = {"A": "consumer", "B": "share", "C": "share", "D": "consumer"}
''',
    reference=lambda ctx: dict(_RIGHT),
    mistakes=[
        Mistake("a share group lets 20 consumers share 2 partitions", answer={**_RIGHT, "B": "consumer"}),
        Mistake("gives up that order", answer={**_RIGHT, "A": "share"}),
        Mistake("acknowledges each record", answer={**_RIGHT, "C": "consumer"}),
        Mistake("every record of that card in one place", answer={**_RIGHT, "D": "share"}),
        Mistake("your dict has no answer for ['D']", answer={k: v for k, v in _RIGHT.items() if k != "D"}),
        Mistake("answer 'consumer' or 'share'", answer={**_RIGHT, "B": "queue"}),
        Mistake("answer with a dict", answer=["consumer", "share", "share", "consumer"], kind="wrong type"),
    ],
)
def group_or_queue(answer) -> str:
    """Exercise 3: for each workload in :data:`WORKLOADS`, a consumer group or a share group?"""
    if not isinstance(answer, dict):
        raise WrongType(f"answer with a dict {{'A': 'consumer' or 'share', ...}}, not {type_name(answer)}")
    missing = sorted(set(_RIGHT) - set(answer))
    if missing:
        raise NotYet(f"your dict has no answer for {missing}; the workloads are {sorted(_RIGHT)}")
    for letter in sorted(_RIGHT):
        given = answer[letter]
        if not isinstance(given, str) or given.strip().lower() not in ("consumer", "share"):
            raise NotYet(f"for {letter}, answer 'consumer' or 'share', not {given!r}")
        if given.strip().lower() != _RIGHT[letter]:
            raise NotYet(f"{letter} ({WORKLOADS[letter][:60]}...): {_WHY[letter]}")
    return ("A and D need order and state per key: consumer groups; B needs more workers than partitions and C "
            "per-record retries and a place for bad records: share groups")


# ----------------------------------------------------------------------------------------------- Exercise 4
#: What Exercise 4's producers do, in order, on a fresh one-partition topic.
TRANSACTION_STORY = [
    ("transactional producer T", "begin, send 'a', commit"),
    ("transactional producer T", "begin, send 'b'  (the transaction stays open for now)"),
    ("plain producer", "send 'c'"),
    ("transactional producer T", "abort the transaction of 'b'"),
    ("transactional producer T", "begin, send 'd', commit"),
    ("transactional producer T", "begin, send 'e'  (still open when the consumers read)"),
]
_SEEN = {"read_committed": ["a", "c", "d"], "read_uncommitted": ["a", "b", "c", "d", "e"]}


def _values(answer, key: str) -> list:
    got = answer.get(key)
    if not isinstance(got, (list, tuple)) or not all(isinstance(v, str) for v in got):
        raise WrongType(f"answer[{key!r}] should be a list of str values such as ['a', 'c'], not {got!r:.40}")
    return list(got)


@exercise(
    CHAPTER,
    title="What does each isolation level read?",
    kind="concept",
    expects="a dict {'read_committed': [values], 'read_uncommitted': [values]}, values in offset order",
    hints=[
        "read_uncommitted returns every record in the log, whatever became of its transaction. read_committed "
        "skips records of aborted transactions, and never reads past the first record of a transaction that is "
        "still open (the last stable offset).",
        "'b' was aborted, so only read_uncommitted shows it; 'c' needs no transaction, and once 'b's transaction "
        "ended it is readable to both. 'e' is open: read_committed stops before it.",
    ],
    solution='''
isolation_solution = {"read_committed": ["a", "c", "d"], "read_uncommitted": ["a", "b", "c", "d", "e"]}
''',
    reference=lambda ctx: {k: list(v) for k, v in _SEEN.items()},
    mistakes=[
        Mistake("returns every record in the log", answer={"read_committed": ["a", "c", "d"],
                                                          "read_uncommitted": ["a", "c", "d", "e"]}),
        Mistake("'b' was aborted", answer={"read_committed": ["a", "b", "c", "d"],
                                           "read_uncommitted": ["a", "b", "c", "d", "e"]}),
        Mistake("'e' belongs to a transaction that is still open", answer={
            "read_committed": ["a", "c", "d", "e"], "read_uncommitted": ["a", "b", "c", "d", "e"]}),
        Mistake("'c' was written without a transaction", answer={
            "read_committed": ["a", "d"], "read_uncommitted": ["a", "b", "c", "d", "e"]}),
        Mistake("in offset order", answer={"read_committed": ["a", "d", "c"],
                                           "read_uncommitted": ["a", "b", "c", "d", "e"]}),
        Mistake("a list of str values", answer={"read_committed": "acd", "read_uncommitted": ["a"]},
                kind="wrong type"),
        Mistake("answer with a dict", answer=["a", "c", "d"], kind="wrong type"),
    ],
)
def isolation_levels(answer) -> str:
    """Exercise 4: after :data:`TRANSACTION_STORY`, which values does each isolation level return?"""
    if not isinstance(answer, dict) or set(answer) != set(_SEEN):
        raise WrongType("answer with a dict with the two keys 'read_committed' and 'read_uncommitted', not "
                        f"{type_name(answer)}")
    committed, everything = _values(answer, "read_committed"), _values(answer, "read_uncommitted")
    if sorted(everything) != sorted(_SEEN["read_uncommitted"]):
        raise NotYet("read_uncommitted returns every record in the log, aborted or still open ones included: "
                     f"{len(_SEEN['read_uncommitted'])} values")
    if everything != _SEEN["read_uncommitted"] or committed != sorted(committed):
        raise NotYet("give the values in offset order: the order in which they were written")
    if "b" in committed:
        raise NotYet("'b' was aborted: read_committed never returns a record of an aborted transaction")
    if "e" in committed:
        raise NotYet("'e' belongs to a transaction that is still open: read_committed stops at the last stable "
                     "offset, before it")
    if "c" not in committed:
        raise NotYet("'c' was written without a transaction, and 'b's transaction ended (aborted) before the "
                     "consumers read: nothing holds 'c' back any more")
    if committed != _SEEN["read_committed"]:
        raise NotYet(f"read_committed returns {len(_SEEN['read_committed'])} values here; which records belong to "
                     "committed transactions or to none?")
    return ("read_uncommitted returns all five; read_committed returns a, c and d: it skips the aborted b and stops "
            "before e, whose transaction is still open (the last stable offset)")
