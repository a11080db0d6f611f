"""kafkalab.wait.wait_until: returns the first truthy value, retries only the listed errors, times out with one line."""
import pytest

from kafkalab.errors import LabError
from kafkalab.wait import wait_until


def test_returns_the_first_truthy_value():
    values = iter([0, None, [], "ready", "later"])
    assert wait_until(lambda: next(values), timeout_s=5, what="x", interval_s=0) == "ready"


def test_timeout_names_what_was_awaited_the_last_value_and_the_fix():
    with pytest.raises(LabError) as e:
        wait_until(lambda: 0, timeout_s=0.05, what="the topic's leader election", fix="run the cell again",
                   interval_s=0.01)
    msg = str(e.value)
    assert msg == "the topic's leader election did not happen within 0.05 s (last seen: 0); run the cell again"
    assert "\n" not in msg


def test_listed_errors_are_retried_and_quoted_on_timeout():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("refused")
        return True

    assert wait_until(flaky, timeout_s=5, what="x", interval_s=0, retry_on=(ConnectionError,)) is True
    with pytest.raises(LabError, match=r"last error: ConnectionError: down"):
        wait_until(lambda: (_ for _ in ()).throw(ConnectionError("down")), timeout_s=0.03, what="x",
                   interval_s=0.01, retry_on=(ConnectionError,))


def test_other_errors_propagate_at_once():
    calls = []

    def broken():
        calls.append(1)
        raise ValueError("bug")

    with pytest.raises(ValueError):
        wait_until(broken, timeout_s=5, what="x", interval_s=0, retry_on=(ConnectionError,))
    assert len(calls) == 1


def test_checks_at_least_once_and_last_seen_describes_the_state():
    assert wait_until(lambda: 7, timeout_s=0, what="x") == 7
    with pytest.raises(LabError, match=r"last seen: ISR \[1\]"):
        wait_until(lambda: False, timeout_s=0, what="x", last_seen=lambda: "ISR [1]")
