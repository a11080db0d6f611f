"""kafkalab.memory on this very process (no cluster needed)."""
import os

from kafkalab import memory


def test_pss_of_this_process_is_plausible_and_a_gone_pid_counts_zero():
    mb = memory.pss_mb(os.getpid())
    assert 5 < mb < 4096
    assert memory.pss_mb(2**22 + 12345) == 0.0  # above pid_max's default: no such process


def test_peak_keeps_the_largest_snapshot(monkeypatch, tmp_path):
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path))  # an empty home: only this Python process is counted
    with memory.Peak(interval_s=0.05) as peak:
        ballast = bytearray(64 * 1024 * 1024)  # 64 MiB, touched below so that it is resident
        for i in range(0, len(ballast), 4096):
            ballast[i] = 1
        import time

        time.sleep(0.3)
        del ballast
    assert set(peak.peak) >= {"python", "total"} and peak.samples >= 2
    assert peak.max_by_part["python"] >= peak.peak["python"] - 1e-6
    assert peak.max_by_part["python"] - memory.pss_mb(os.getpid()) > 32  # the ballast was seen, then freed
    assert peak.report().startswith("peak ")
