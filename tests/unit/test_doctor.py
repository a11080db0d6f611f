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
