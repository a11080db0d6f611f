"""kafkalab.io.groups (lag arithmetic, pure; lag, settling and deleting against the live course cluster),
kafkalab.widgets.lag (the lag figure, table and widget's refresh()) and kafkalab.monitor (the stack tour, group
assignment table and the throughput probe)."""
from __future__ import annotations

import contextlib
import uuid

import pytest
from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from kafkalab import monitor
from kafkalab.cluster import services
from kafkalab.config import bootstrap_servers
from kafkalab.io import clients, groups, topics
from kafkalab.widgets import lag, outputs
from kafkalab.errors import LabError


@pytest.fixture
def group(request):
    """A unique consumer group per test; deleted at teardown."""
    name = f"test-group-{request.node.name[:40]}-{uuid.uuid4().hex[:6]}".replace("_", "-").replace("[", "-").replace("]", "")
    yield name
    with contextlib.suppress(Exception):
        groups.delete_group(name, timeout_s=5)


def produce_to(topic: str, per_partition: dict[int, int]) -> None:
    with clients.producer() as p:
        for partition, n in per_partition.items():
            for i in range(n):
                p.send(topic, value=f"{partition}-{i}".encode(), partition=partition)
        p.flush()


def consume_and_commit(topic: str, group: str, per_partition: dict[int, int]) -> None:
    """Read exactly n records from each named partition and commit the offset after the last one."""
    with contextlib.closing(clients.consumer(group_id=group, enable_auto_commit=False)) as c:
        for partition, n in per_partition.items():
            tp = TopicPartition(topic, partition)
            c.assign([tp])
            c.seek_to_beginning(tp)
            got = 0
            while got < n:
                got += sum(len(v) for v in c.poll(timeout_ms=1000, max_records=n - got).values())
            c.commit({tp: OffsetAndMetadata(c.position(tp), "", -1)})


# ------------------------------------------------------------------------------------------ pure
def test_lag_rows_arithmetic():
    rows = groups.lag_rows({("t", 1): 5, ("t", 0): 10}, {("t", 0): 4, ("t", 1): None}, {("t", 1): 2})
    assert [(r.partition, r.end, r.committed, r.lag) for r in rows] == [(0, 10, 4, 6), (1, 5, None, 3)]


def test_lag_rows_treats_minus_one_as_no_commit_and_rejects_commits_past_the_end():
    (row,) = groups.lag_rows({("t", 0): 7}, {("t", 0): -1})
    assert row.committed is None and row.lag == 7
    with pytest.raises(LabError, match="past the end offset"):
        groups.lag_rows({("t", 0): 3}, {("t", 0): 5})


def test_lag_figure_and_table_show_end_committed_and_lag():
    rows = groups.lag_rows({("t", 0): 10, ("t", 1): 4}, {("t", 0): 6})
    fig = lag.lag_figure(rows, "g")
    assert [tr.name for tr in fig.data] == ["end offset", "committed offset"]
    assert list(fig.data[0].y) == [10, 4] and list(fig.data[1].y) == [6, 0]
    assert "total lag 8" in fig.layout.title.text
    table = lag.lag_table(rows)
    assert table["lag"].tolist() == [4, 4] and table["committed"].tolist() == [6, "none"]


def test_figure_bundle_is_plain_json_and_html():
    import json

    bundle = outputs.figure_bundle(lag.lag_figure(groups.lag_rows({("t", 0): 3}, {("t", 0): 1})))
    assert set(bundle) == {"application/vnd.plotly.v1+json", "text/html"}
    json.dumps(bundle)  # widget state travels as JSON: no numpy arrays left
    assert "Plotly.newPlot" in bundle["text/html"]


def test_throughput_arithmetic():
    t = monitor.Throughput("x", messages=200, message_bytes=5000, seconds=0.5)
    assert t.msgs_per_s == 400 and t.mb_per_s == 2.0
    with pytest.raises(LabError, match="1 or more"):
        monitor.measure_produce("unused", 0, 10)


# ------------------------------------------------------------------------------------------ live cluster
def test_group_lag_after_producing_n_and_committing_m(topic, group):
    topics.recreate_topic(topic, partitions=2)
    produce_to(topic, {0: 20, 1: 10})
    consume_and_commit(topic, group, {0: 12})
    rows = groups.group_lag(group, topic)
    assert [(r.partition, r.end, r.committed, r.lag) for r in rows] == [(0, 20, 12, 8), (1, 10, None, 10)]
    consume_and_commit(topic, group, {1: 10})
    assert [r.lag for r in groups.group_lag(group)] == [8, 0]  # topics default to those the group committed on


def test_group_lag_agrees_with_kafka_consumer_groups(topic, group):
    from kafkalab.cluster.tools import run_tool

    topics.recreate_topic(topic, partitions=2)
    produce_to(topic, {0: 9, 1: 4})
    consume_and_commit(topic, group, {0: 5, 1: 4})
    out = run_tool("kafka-consumer-groups", f"--bootstrap-server {bootstrap_servers()} --describe --group {group}").stdout
    tool = {}
    for line in out.splitlines():
        cols = line.split()
        if cols and cols[0] == group:  # GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...
            tool[int(cols[2])] = (int(cols[3]), int(cols[4]), int(cols[5]))
    assert tool == {r.partition: (r.committed, r.end, r.lag) for r in groups.group_lag(group, topic)}


def test_lag_monitor_refresh_follows_the_group(topic, group):
    topics.recreate_topic(topic, partitions=2)
    produce_to(topic, {0: 6, 1: 6})
    consume_and_commit(topic, group, {0: 2})
    widget = lag.LagMonitor(group, topic)
    assert widget.total_lag == 4 + 6 and widget.refreshes == 1
    assert "<td>2</td>" in widget.table.value and "total lag <b>10</b>" in widget.status.value
    consume_and_commit(topic, group, {0: 6, 1: 3})
    rows = widget.refresh()
    assert [r.lag for r in rows] == [0, 3] and widget.total_lag == 3 and widget.refreshes == 2
    (shown,) = widget.output.outputs  # the chart in the widget follows the refresh
    assert shown["data"]["application/vnd.plotly.v1+json"]["layout"]["title"]["text"].endswith("total lag 3")
    widget.button.click()  # the button calls the same refresh()
    assert widget.refreshes == 3


def test_lag_monitor_shows_an_error_instead_of_raising(group):
    widget = lag.LagMonitor(group, "test-no-such-topic-" + uuid.uuid4().hex[:6])
    assert widget.rows == [] and "does not exist" in widget.status.value


def test_settle_gives_each_member_its_partitions_and_idles_the_extra_one(topic, group):
    topics.recreate_topic(topic, partitions=2)
    members = []
    try:
        for name in "abc":
            c = clients.consumer(group_id=group, client_id=f"member-{name}", session_timeout_ms=6000,
                                 heartbeat_interval_ms=500, enable_auto_commit=False)
            c.subscribe([topic])
            members.append(c)
        assignment = groups.settle(members)
    finally:
        for c in members:
            c.close()
    # the range assignor orders members by member id, which starts with the client id
    assert assignment == {"member-a": [(topic, 0)], "member-b": [(topic, 1)], "member-c": []}
    table = monitor.assignment_table(assignment)
    assert table["partitions"].tolist() == ["0", "1", "— (idle)"]


def test_settle_refuses_ambiguous_members(group):
    a = clients.consumer(group_id=group, client_id="same")
    b = clients.consumer(group_id=group, client_id="same")
    try:
        with pytest.raises(LabError, match="repeat"):
            groups.settle([a, b])
    finally:
        a.close()
        b.close()


def test_delete_group_reports_whether_it_existed(topic, group):
    topics.recreate_topic(topic, partitions=1)
    produce_to(topic, {0: 1})
    consume_and_commit(topic, group, {0: 1})
    assert groups.delete_group(group) is True
    assert groups.delete_group(group) is False
    assert groups.group_lag(group, topic)[0].committed is None


def test_stack_reports_broker_quorum_topics_and_companions():
    parts = {c.name: c for c in monitor.stack()}
    brokers = [c for name, c in parts.items() if name.startswith("broker ")]
    assert brokers and all(c.running and "process.roles" in c.detail for c in brokers)
    q = monitor.quorum()
    assert q["leader"] in q["voters"] and parts["KRaft controller quorum"].running
    assert parts["topics"].status == "available"
    for name, label in (("registry", "schema registry"), ("connect", "Kafka Connect")):
        running = services.service(name).answers()  # on the configured port, as the tour must ask it
        assert parts[label].status == ("running" if running else monitor.NOT_RUNNING), (label, parts[label].detail)
        # running: "127.0.0.1:<port> …"; not running: "nothing listens on 127.0.0.1:<port>" — the port it asked
        assert f"127.0.0.1:{services.service(name).port}" in parts[label].detail, parts[label].detail
    assert list(monitor.stack_table(parts.values()).columns) == ["component", "role", "status", "detail"]


def test_node_roles_of_the_bootstrap_node():
    assert "broker" in monitor.node_roles(1)


def test_measure_produce_sends_what_it_counts(topic):
    topics.recreate_topic(topic, partitions=1)
    t = monitor.measure_produce(topic, 50, 2000, "small")
    assert t.messages == 50 and t.seconds > 0 and t.msgs_per_s > 0
    assert topics.end_offsets(topic) == {0: 51}  # plus the uncounted warm-up record
