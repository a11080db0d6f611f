"""kafkalab.share without Kafka: the worker's command line, the handler's answers, the one-line errors."""
from __future__ import annotations

import pytest

from kafkalab import share
from kafkalab.errors import LabError


@pytest.mark.parametrize("mode", ["implicit", "count:", "count:x", ""])
def test_unknown_modes_are_refused(mode):
    with pytest.raises(LabError, match="use 'ask', 'accept' or 'count:<records>'"):
        share.java_command("g", "t", mode=mode)


@pytest.mark.parametrize("consumers", [0, -1, 1.5, True, "2"])
def test_the_number_of_consumers_must_be_a_positive_int(consumers):
    with pytest.raises(LabError, match="whole number of share consumers"):
        share.java_command("g", "t", consumers=consumers)


def worker_with(handle) -> share.ShareWorker:
    w = object.__new__(share.ShareWorker)  # no JVM: only the decision logic
    w.handle, w.handler_error = handle, None
    return w


def delivery(**kw) -> share.Delivery:
    base = dict(worker="w", consumer=1, partition=0, offset=7, key=None, value="job-07", delivery_count=1, t=0.0)
    return share.Delivery(**{**base, **kw})


def test_answers_are_read_case_blind_and_from_enum_names():
    class Ack:
        name = "REJECT"

    assert worker_with(lambda d: "Accept")._ask(delivery()) == "accept"
    assert worker_with(lambda d: Ack())._ask(delivery()) == "reject"


def test_a_wrong_answer_releases_the_record_and_is_kept_for_the_caller():
    w = worker_with(lambda d: "ok")
    assert w._ask(delivery()) == "release"
    assert isinstance(w.handler_error, ValueError) and "'accept', 'release', 'reject'" in str(w.handler_error)
    assert w._ask(delivery(offset=8)) == "release"  # after a failure every record goes back to the queue


def test_an_exception_in_the_handler_releases_the_record():
    w = worker_with(lambda d: 1 / 0)
    assert w._ask(delivery()) == "release" and isinstance(w.handler_error, ZeroDivisionError)


def test_a_delivery_names_its_member():
    assert delivery().member == "w/1"


def test_share_groups_off_names_the_command_that_turns_them_on():
    text = str(share.share_groups_off("127.0.0.1:1234"))
    assert "share.version=0" in text and "kafka-features --bootstrap-server 127.0.0.1:1234 upgrade" in text
    assert "\n" not in text
