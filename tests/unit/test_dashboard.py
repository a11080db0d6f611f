"""Chapter 8's dashboard figure and widget, without Kafka."""
import pytest

from kafkalab.datagen import payments
from kafkalab.processing.analytics import LiveAggregate, aggregate
from kafkalab.widgets.dashboard import LiveDashboard, dashboard_figure


def test_figure_shows_minutes_and_top_merchants():
    agg = aggregate(payments(100))  # 150 seconds: minutes 09:00, 09:01, 09:02
    fig = dashboard_figure(agg, top=3)
    minutes, merchants = fig.data
    assert list(minutes.x) == ["09:00", "09:01", "09:02"]
    assert sum(minutes.y) == pytest.approx(agg.total)
    assert list(merchants.y)[::-1] == [m for m, _, _ in agg.top_merchants(3)]
    assert "100 payments" in fig.layout.title.text


def test_figure_of_nothing():
    fig = dashboard_figure(LiveAggregate())
    assert len(fig.data[0].x) == 0 and len(fig.data[1].x) == 0


def test_redraw_outside_a_kernel_updates_the_status():
    dash = LiveDashboard("test")
    dash.aggregate.update(payments(10))
    dash.redraw()
    assert "10 payments in 1 batches" in dash.status.value and dash.redraws == 1
