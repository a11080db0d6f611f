"""Exercises of "Securing Kafka: encryption, logins and permissions" (notebooks/14_security.ipynb)."""
from __future__ import annotations

import contextlib
from typing import Iterator

from . import _lab
from .answers import need, type_name
from .core import Mistake, call_learner, exercise
from .scratch import unique_name
from .verdicts import NotYet, WrongType

CHAPTER = "security"

# ----------------------------------------------------------------------------------------------- Exercise 1

#: What refuses a client, layer by layer: the TLS handshake, the SASL login, an ACL check, or nothing.
LAYERS = ("tls", "login", "acl", "none")
#: Situations on the course's secured cluster, each with the layer that stops it.
SITUATIONS = {
    "a client with no client config at all": "tls",
    "alice's client config with bob's password in it": "login",
    "alice's client config with sasl.mechanism=SCRAM-SHA-256": "login",
    "alice's client config without its ssl.truststore lines": "tls",
    "alice, producing to a topic that no ACL names her for": "acl",
    "bob, reading a topic he has Read on, in a group he has Read on": "none",
}
_WHY = {
    "tls": "the TLS handshake comes first: no TLS at all, or a certificate the client does not trust, ends the "
           "connection before any login",
    "login": "SASL checks who you are: a wrong password or a mechanism the listener does not enable fails the login",
    "acl": "after a successful login, the authorizer checks each request against the ACLs: no ACL, no access",
    "none": "a user with the right ACLs passes all three",
}
_SOLUTION_1 = '''
layer_for_solution = {
    "a client with no client config at all": "tls",
    "alice's client config with bob's password in it": "login",
    "alice's client config with sasl.mechanism=SCRAM-SHA-256": "login",
    "alice's client config without its ssl.truststore lines": "tls",
    "alice, producing to a topic that no ACL names her for": "acl",
    "bob, reading a topic he has Read on, in a group he has Read on": "none",
}
'''


def _swap(situation: str, layer: str) -> dict:
    return {**SITUATIONS, situation: layer}


@exercise(
    CHAPTER,
    title="Which layer refuses the client?",
    kind="concept",
    expects='a dict {situation: layer}, one entry per situation in SITUATIONS, layers from LAYERS',
    hints=[
        "A connection passes three gates in order: the TLS handshake, then the SASL login, then the authorizer "
        "on every request. Ask which gate each situation fails first.",
        "The truststore is what the client trusts (a TLS matter); the password and the mechanism belong to the "
        "login; what a logged-in user may do is the ACLs'.",
    ],
    solution=_SOLUTION_1,
    reference=lambda ctx: dict(SITUATIONS),
    mistakes=[
        Mistake("a wrong password or a mechanism the listener does not enable fails the login",
                answer=_swap("alice's client config with bob's password in it", "acl")),
        Mistake("no TLS at all, or a certificate the client does not trust",
                answer=_swap("alice's client config without its ssl.truststore lines", "login")),
        Mistake("the authorizer checks each request",
                answer=_swap("alice, producing to a topic that no ACL names her for", "login")),
        Mistake("the right ACLs passes all three",
                answer=_swap("bob, reading a topic he has Read on, in a group he has Read on", "acl")),
        Mistake("is not one of", answer=_swap("a client with no client config at all", "firewall")),
        Mistake("no layer given for", answer={k: v for k, v in list(SITUATIONS.items())[1:]}),
        Mistake("answer with a dict {situation: layer}", answer=list(SITUATIONS.values()), kind="wrong type"),
    ],
)
def refusing_layer(answer) -> str:
    """Exercise 1: for each situation in ``SITUATIONS``, which layer stops the client first (one of ``LAYERS``)?"""
    need(answer, dict, "answer with a dict {situation: layer}, one entry per situation in SITUATIONS")
    for situation, layer in SITUATIONS.items():
        if situation not in answer:
            raise NotYet(f"no layer given for {situation!r} (copy the situations from SITUATIONS)")
        given = answer[situation].strip().lower() if isinstance(answer[situation], str) else answer[situation]
        if given not in LAYERS:
            raise NotYet(f"{answer[situation]!r} is not one of {list(LAYERS)}")
        if given != layer:
            raise NotYet(f"{situation!r}: not {given}. {_WHY[layer][0].upper() + _WHY[layer][1:]}")
    return ("every situation matched: TLS first (encryption and the broker's identity), then the SASL login "
            "(the client's identity), then the ACLs on every request (what that identity may do)")


# ----------------------------------------------------------------------------------------------- Exercise 2

CHOICES = {
    "A": "so that clients without a login can read the course's topics",
    "B": "because the controller listener is PLAINTEXT: the broker's own registration and heartbeats arrive there "
         "as ANONYMOUS and must pass the authorizer",
    "C": "because SCRAM logins first connect as ANONYMOUS and are renamed after the login",
    "D": "because Kafka refuses to start an authorizer without an ANONYMOUS super user",
}
_WRONG = {
    "A": "clients reach the broker only through the SASL_SSL listener, where every connection has logged in as a "
         "user; ANONYMOUS is only what a PLAINTEXT listener calls its peers",
    "C": "a SASL connection gets its principal from the login itself; nothing is renamed",
    "D": "the authorizer starts without any super user; the course's cluster would merely never finish starting, "
         "because the broker could not register with its own controller",
}


@exercise(
    CHAPTER,
    title="Why is ANONYMOUS a super user of the course's cluster?",
    kind="concept",
    expects='one letter, "A" to "D", from CHOICES',
    hints=[
        "Which listeners does the secured broker have, and which of them uses no TLS and no login?",
        "In KRaft the broker registers with the controller and sends it heartbeats: through which listener, "
        "and as which principal?",
    ],
    solution='''
anonymous_solution = "B"
''',
    reference=lambda ctx: "B",
    mistakes=[Mistake(_WRONG[k][:40], answer=k) for k in ("A", "C", "D")]
    + [Mistake('answer with one letter, "A" to "D"', answer=2, kind="wrong type"),
       Mistake("is not one of the choices", answer="E")],
)
def anonymous_super_user(answer) -> str:
    """Exercise 2: why does ``super.users`` of the secured broker list ``User:ANONYMOUS``? One letter of CHOICES."""
    if not isinstance(answer, str):
        raise WrongType(f'answer with one letter, "A" to "D", not {type_name(answer)}')
    letter = answer.strip().upper()
    if letter not in CHOICES:
        raise NotYet(f"{answer!r} is not one of the choices {list(CHOICES)}")
    if letter != "B":
        raise NotYet(f"not {letter}: {_WRONG[letter]}")
    return ("B: the controller listener has no TLS and no SASL, so the broker's own requests to it (registration, "
            "heartbeats) carry the principal ANONYMOUS; it must be a super user, which is also why that listener "
            "must stay unreachable from outside (127.0.0.1 here)")


# ----------------------------------------------------------------------------------------------- Exercise 3

LEARNER = "bob"  # the secured cluster's second learner: the exercise grants him ACLs and revokes them after
RECORDS = 3


@contextlib.contextmanager
def _secured() -> Iterator[dict]:
    """The secured cluster running (started if needed); bob without any ACL before and after."""
    sec = _lab.security()
    _lab.start_secure()
    sec.revoke_all(LEARNER)
    try:
        yield {}
    finally:
        sec.revoke_all(LEARNER)


def _names() -> dict:
    return {"topic": unique_name(CHAPTER, "orders"), "other_topic": unique_name(CHAPTER, "other"),
            "group": unique_name(CHAPTER, "readers"), "other_group": unique_name(CHAPTER, "others")}


@contextlib.contextmanager
def _scratch_resources(names: dict) -> Iterator[dict]:
    """A topic with a few records for bob to read, another topic, and the group names; all deleted afterwards."""
    sec = _lab.security()
    admin = sec.connection_as("admin")
    try:
        for key in ("topic", "other_topic"):
            _lab.recreate_topic(names[key], connection=admin)
        for name in (names["topic"], names["other_topic"]):
            done = sec.attempt_produce(admin, name, [f"order-{i}".encode() for i in range(RECORDS)])
            if not done.ok:
                from ..errors import LabError

                raise LabError(f"the admin could not write the exercise's records ({done.line})")
        yield names
    finally:
        sec.revoke_all(LEARNER)
        for key in ("topic", "other_topic"):
            with contextlib.suppress(Exception):
                _lab.delete_topic(names[key], connection=admin)
        for key in ("group", "other_group"):
            with contextlib.suppress(Exception):
                _lab.delete_group(names[key], timeout_s=5, connection=admin)


def _grants(answer, names: dict) -> list:
    grants = call_learner(answer, LEARNER, names["topic"], names["group"])
    if not isinstance(grants, (list, tuple, set)):
        raise WrongType(f"your function returns {type_name(grants)}; return a list of (principal, resource, "
                        f"operation) tuples, e.g. [('User:bob', 'topic:payments', 'Read')]")
    sec = _lab.security()
    from ..errors import LabError

    for grant in grants:
        try:
            sec.parse_grant(grant)
        except LabError as e:
            raise WrongType(str(e)) from None
    return list(grants)


def _read_within(sec, conn, names: dict, timeout_s: float = 2):
    """bob's read of the topic in his group; ACLs reach the broker's authorizer a moment after they are created."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        got = sec.attempt_consume(conn, names["topic"], names["group"])
        if got.ok or time.monotonic() > deadline:
            return got
        time.sleep(0.5)


@exercise(
    CHAPTER,
    title="Grant a reader exactly what it needs",
    kind="code",
    expects="a function (user, topic, group) returning a list of (principal, resource, operation) tuples",
    hints=[
        "A consumer in a group fetches records from the topic and joins the group and commits offsets in it: "
        "two resources, one operation each.",
        "The principal is 'User:' + the user name; resources are 'topic:<name>' and 'group:<name>'; Read on a "
        "topic implies Describe, so two grants are enough.",
        "Name the topic and the group themselves: '*' or another operation (Write, All) gives more than reading.",
    ],
    solution='''
def reader_acls(user, topic, group):
    """Read on the topic (fetch, and Describe, which Read implies) and Read on the group (join, commit)."""
    return [(f"User:{user}", f"topic:{topic}", "Read"),
            (f"User:{user}", f"group:{group}", "Read")]
''',
    reference="reader_acls",
    rehearsal=_secured,
    live=True,
    mistakes=[
        Mistake("needs Read on the group too", answer=lambda user, topic, group: [
            (f"User:{user}", f"topic:{topic}", "Read")]),
        Mistake("cannot read the topic", answer=lambda user, topic, group: [
            (f"User:{user}", f"topic:{topic}", "Describe"), (f"User:{user}", f"group:{group}", "Read")]),
        Mistake("can also write to the topic", answer=lambda user, topic, group: [
            (f"User:{user}", f"topic:{topic}", "All"), (f"User:{user}", f"group:{group}", "Read")]),
        Mistake("can also read other topics", answer=lambda user, topic, group: [
            (f"User:{user}", "topic:*", "Read"), (f"User:{user}", f"group:{group}", "Read")]),
        Mistake("can also use other consumer groups", answer=lambda user, topic, group: [
            (f"User:{user}", f"topic:{topic}", "Read"), (f"User:{user}", "group:*", "Read")]),
        Mistake("needs its type: 'User:<name>'", kind="wrong type", answer=lambda user, topic, group: [
            (user, f"topic:{topic}", "Read"), (user, f"group:{group}", "Read")]),
        Mistake("return a list of (principal, resource, operation) tuples", kind="wrong type",
                answer=lambda user, topic, group: {"topic": "Read", "group": "Read"}),
    ],
)
def reader_grants(answer) -> str:
    """Exercise 3: ``answer(user, topic, group)`` returns the ACL grants that let ``user`` read ``topic`` as a member
    of ``group`` and nothing more. The checker applies them on the secured cluster as its admin, tries as bob what
    they should and should not allow, and revokes them."""
    sec = _lab.security()
    _lab.start_secure()
    bob = sec.connection_as(LEARNER)
    names = _names()
    grants = _grants(answer, names)  # a malformed answer is refused before anything is created
    with _scratch_resources(names):
        sec.revoke_all(LEARNER)
        sec.apply_grants(grants)
        read = _read_within(sec, bob, names)
        if not read.ok:
            if "group" in read.line and "consumer group" in read.line:
                raise NotYet("bob may not use the consumer group: a consumer in a group needs Read on the group "
                             "too (to join it and commit offsets)")
            raise NotYet("bob cannot read the topic: fetching records needs Read on the topic (Describe alone "
                         "only shows that it exists)")
        if read.records != RECORDS:
            raise NotYet(f"bob read {read.records} record(s) instead of {RECORDS}; run the check again")
        if sec.attempt_produce(bob, names["topic"], [b"not-allowed"]).ok:
            raise NotYet("bob can also write to the topic: the grants give more than reading (Write or All); "
                         "grant Read only")
        if sec.attempt_consume(bob, names["other_topic"], names["group"]).ok:
            raise NotYet("bob can also read other topics: name the topic itself, not '*' or a prefix")
        if sec.attempt_consume(bob, names["topic"], names["other_group"]).ok:
            raise NotYet("bob can also use other consumer groups: name the group itself, not '*' or a prefix")
    return (f"bob read the topic's {RECORDS} records in his group, and could not write to it, read another topic, "
            f"or use another group; the grants were revoked again")
