"""The doctor's checks that need no cluster."""
from kafka.record import util

from kafkalab import doctor


def test_crc_check_passes_with_the_crc32c_wheel():
    # requirements.txt installs crc32c; kafka-python picks it up at import
    check = doctor.crc_check()
    assert check.ok, check.line()
    assert util.calc_crc32c(memoryview(b"123456789")) == 0xE3069283  # the CRC-32C check value, computed in C


def test_crc_check_names_the_fix_without_it(monkeypatch):
    monkeypatch.setattr(util, "crc32c_c", None)
    check = doctor.crc_check()
    assert not check.ok
    assert "pure Python" in check.line() and "pip install crc32c" in check.line()


def test_metrics_agent_lines_say_what_answers_and_what_holds_the_port(monkeypatch):
    from kafkalab.cluster import procs

    ok = doctor._jolokia_check("node-1", 8778, True, "KAFKALAB_JOLOKIA_PORT")
    assert ok.ok and ok.line() == "[ok  ] metrics agent 8778: node-1's Jolokia answers on 127.0.0.1:8778/jolokia"
    monkeypatch.setattr(procs, "port_owner", lambda port: (4242, "python squatter.py"))
    held = doctor._jolokia_check("connect", 8781, False, "KAFKALAB_CONNECT_JOLOKIA_PORT")
    assert not held.ok and "held by pid 4242 (python squatter.py)" in held.line()
    assert "KAFKALAB_CONNECT_JOLOKIA_PORT" in held.line()
    monkeypatch.setattr(procs, "port_owner", lambda port: None)
    missing = doctor._jolokia_check("node-2", 8779, False, "KAFKALAB_JOLOKIA_PORT")
    assert "runs without its Jolokia agent" in missing.line() and "python -m kafkalab down" in missing.line()
