"""Unit tests for kafkalab.widgets.sizing: drive the widget without a browser and check the figure's data."""
from __future__ import annotations

import re

import pytest

from kafkalab.errors import LabError
from kafkalab.sizing import MB, SEED_WORKLOADS, Assumptions, Workload, size_workloads
from kafkalab.widgets.sizing import SizingWidget, sizing_figure, sizing_widget


def _cells(table_html: str) -> list[list[str]]:
    """The body rows of the results table as text."""
    body = table_html.split("<tbody>")[1].split("</tbody>")[0]
    return [re.findall(r"<td>(.*?)</td>", row) for row in body.split("</tr>") if "<td>" in row]


def _partitions(w: SizingWidget) -> list[str]:
    header = re.findall(r"<th>(.*?)</th>", w.table.value)
    return [row[header.index("partitions")] for row in _cells(w.table.value)]


# --- the figure ---------------------------------------------------------------------------------------------

def test_figure_has_both_limits_and_the_workloads_as_markers():
    fig = sizing_figure(size_workloads(SEED_WORKLOADS))
    names = [t.name for t in fig.data]
    assert any(n.startswith("producer limit T/p") for n in names)
    assert any(n.startswith("consumer limit T/c") for n in names)
    markers = {t.name: t for t in fig.data if t.mode == "markers+text"}
    points = {(name, x, y) for t in markers.values() for name, x, y in zip(t.text, t.x, t.y)}
    assert points == {("query batch", 0.01, 1), ("real-time", 10, 10)}
    assert fig.layout.xaxis.type == fig.layout.yaxis.type == "log"


def test_figure_lines_follow_p_and_c_and_markers_say_which_limit_binds():
    results = size_workloads(SEED_WORKLOADS, Assumptions(producer_bytes_per_s=2 * MB, consumer_bytes_per_s=1 * MB))
    fig = sizing_figure(results)
    producer = next(t for t in fig.data if t.name.startswith("producer limit"))
    consumer = next(t for t in fig.data if t.name.startswith("consumer limit"))
    assert producer.y[-1] == pytest.approx(producer.x[-1] / 2)  # T/p with p = 2 MB/s, x in MB/s
    assert consumer.y[-1] == pytest.approx(consumer.x[-1] / 1)
    by_name = {text: t.name for t in fig.data if t.mode == "markers+text" for text in t.text}
    assert "consumer limit binds" in by_name["real-time"]
    assert "minimum" in by_name["query batch"]


def test_figure_step_line_is_the_larger_limit_rounded_up_and_at_least_one():
    fig = sizing_figure(size_workloads(SEED_WORKLOADS, Assumptions(producer_bytes_per_s=3 * MB)))
    producer, consumer, step = (next(t for t in fig.data if t.name.startswith(s))
                                for s in ("producer limit", "consumer limit", "partitions needed"))
    assert min(step.y) == 1 and max(step.y) > 50
    for need_p, need_c, y in zip(producer.y, consumer.y, step.y):
        need = max(1.0, need_p, need_c)
        assert isinstance(y, int) and need - 1e-9 <= y < need + 1


def test_figure_refuses_empty_or_mixed_results():
    with pytest.raises(LabError, match="results"):
        sizing_figure([])
    mixed = [*size_workloads(SEED_WORKLOADS[:1]),
             *size_workloads(SEED_WORKLOADS[1:], Assumptions(producer_bytes_per_s=2 * MB))]
    with pytest.raises(LabError, match="results"):
        sizing_figure(mixed)


# --- the widget ---------------------------------------------------------------------------------------------

def test_widget_starts_with_the_seed_workloads_and_their_table():
    w = sizing_widget()
    assert [r.name.value for r in w.rows] == ["query batch", "real-time"]
    assert [r.rate.value for r in w.rows] == [10, 10_000]
    assert [r.size_kb.value for r in w.rows] == [1, 1]
    assert _partitions(w) == ["1", "10"]
    assert "2 topics (one per workload), 11 partitions" in w.table.value
    assert w.error.value == ""
    assert w.figure is not None


def test_changing_a_value_recomputes():
    w = sizing_widget()
    w.rows[1].rate.value = 25_000  # observers fire on assignment
    assert _partitions(w) == ["1", "25"]
    w.rows[1].peak.value = 2
    assert _partitions(w) == ["1", "50"]
    w.consumer_mb.value = 5
    w.producer_mb.value = 10
    assert _partitions(w) == ["1", "10"]
    assert w.results[1].binding == "consumer"


def test_sizes_and_throughputs_are_typed_in_kb_and_mb_without_rounding_noise():
    assert 2.007 * 1000 != 2007  # plain floats: 2007.0000000000002 bytes
    w = sizing_widget()
    w.rows[1].rate.value = 1000
    w.rows[1].size_kb.value = 2.007
    w.producer_mb.value = w.consumer_mb.value = 2.007
    assert w.results[1].workload.size_bytes == 2007
    assert w.results[1].assumptions.producer_bytes_per_s == 2_007_000
    assert _partitions(w) == ["1", "1"]  # exactly one partition's worth


def test_replication_and_groups_reach_the_table():
    w = sizing_widget()
    w.replication.value = 1
    assert w.results[1].replication_bytes_per_s == 0
    w.replication.value = 3
    w.consumer_groups.value = 2
    assert w.results[1].network_out_bytes_per_s == (2 * 10 + 20) * MB
    assert "22 over all groups" in w.table.value


@pytest.mark.parametrize(("set_bad", "field"), [
    (lambda w: setattr(w.rows[1].rate, "value", -1), "rate"),
    (lambda w: setattr(w.rows[0].size_kb, "value", 0), "size_bytes"),
    (lambda w: setattr(w.rows[1].peak, "value", float("nan")), "peak_factor"),
    (lambda w: setattr(w.rows[0].name, "value", "  "), "name"),
    (lambda w: setattr(w.rows[0].name, "value", "real-time"), "name"),
    (lambda w: setattr(w.replication, "value", 0), "replication_factor"),
    (lambda w: setattr(w.replication, "value", 99), "replication_factor"),
    (lambda w: setattr(w.retention_hours, "value", -5), "retention_hours"),
    (lambda w: setattr(w.consumer_groups, "value", 0), "consumer_groups"),
    (lambda w: setattr(w.producer_mb, "value", float("inf")), "producer_bytes_per_s"),
    (lambda w: setattr(w.consumer_mb, "value", 0), "consumer_bytes_per_s"),
])
def test_bad_input_shows_one_red_line_and_keeps_the_last_good_result(set_bad, field):
    w = sizing_widget()
    table, figure, results = w.table.value, w.figure, w.results
    set_bad(w)
    assert field in w.error.value and "allowed" in w.error.value
    assert "color:#c62828" in w.error.value and "\n" not in w.error.value
    assert (w.table.value, w.results) == (table, results) and w.figure is figure
    assert w.recompute() is False


def test_fixing_the_input_clears_the_error():
    w = sizing_widget()
    w.rows[1].rate.value = 0
    assert "rate" in w.error.value
    w.rows[1].rate.value = 40_000
    assert w.error.value == ""
    assert _partitions(w) == ["1", "40"]


def test_add_and_remove_workloads():
    w = sizing_widget()
    w.add_button.click()
    assert len(w.rows) == 3 and [r.workload.name for r in w.results][-1] == "workload 3"
    w.rows[0].remove.click()
    assert [r.workload.name for r in w.results] == ["real-time", "workload 3"]
    w.add_button.click()  # two rows are left, so 'workload 3' is taken: the new one is 'workload 4'
    assert [r.workload.name for r in w.results] == ["real-time", "workload 3", "workload 4"]
    w.remove_workload(2)
    w.remove_workload(0)
    w.remove_workload(0)
    assert "workloads" in w.error.value  # nothing left to size: say so, keep the last table
    assert [r.workload.name for r in w.results] == ["workload 3"]


def test_widget_accepts_other_workloads_and_assumptions():
    w = sizing_widget([Workload("clicks", 50_000, 200)], Assumptions(producer_bytes_per_s=2 * MB))
    assert w.producer_mb.value == 2
    assert _partitions(w) == ["10"]  # 10 MB/s: 5 for producers, 10 for consumers
    assert w.results[0].binding == "consumer"


def test_table_escapes_names():
    w = sizing_widget([Workload("<b>x</b>", 1, 1)])
    assert "<b>x</b>" not in w.table.value and "&lt;b&gt;x&lt;/b&gt;" in w.table.value
