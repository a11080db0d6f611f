"""The tool runner's table: script names as in Kafka's bin/ folder, main classes of Kafka 4.4 (pure: runs nothing;
tests/integration/test_tools.py starts every entry for real)."""
import re

import pytest

from kafkalab.errors import LabError
from kafkalab.cluster.tools import TOOLS, tool_command

#: What the chapters run, including the Kafka 4 tools (share groups, streams groups, features, transactions).
NEEDED = {
    "kafka-topics", "kafka-consumer-groups", "kafka-metadata-quorum", "kafka-get-offsets", "kafka-console-producer",
    "kafka-console-consumer", "kafka-producer-perf-test", "kafka-consumer-perf-test", "kafka-storage",
    "kafka-streams-application-reset", "kafka-share-groups", "kafka-streams-groups", "kafka-groups", "kafka-features",
    "kafka-configs", "kafka-acls", "kafka-transactions", "kafka-console-share-consumer",
    "kafka-share-consumer-perf-test",
}


def test_the_table_has_every_tool_the_course_runs():
    assert NEEDED <= set(TOOLS), sorted(NEEDED - set(TOOLS))


def test_kafka_4_classes_moved_out_of_the_scala_core():
    assert TOOLS["kafka-configs"] == "org.apache.kafka.tools.ConfigCommand"  # kafka.admin.ConfigCommand until 4.0
    assert TOOLS["kafka-share-groups"] == "org.apache.kafka.tools.consumer.group.ShareGroupCommand"
    assert TOOLS["kafka-streams-groups"] == "org.apache.kafka.tools.streams.StreamsGroupCommand"
    assert TOOLS["kafka-console-share-consumer"] == "org.apache.kafka.tools.consumer.ConsoleShareConsumer"
    # only the storage tool is still Scala code in Kafka 4.4
    assert [name for name, cls in TOOLS.items() if not cls.startswith("org.apache.kafka.tools.")] == ["kafka-storage"]


def test_names_and_classes_are_well_formed():
    for name, cls in TOOLS.items():
        assert re.fullmatch(r"kafka(-[a-z0-9]+)+", name), name
        assert re.fullmatch(r"([a-z0-9]+\.)+[A-Z][A-Za-z0-9]*", cls), cls
    assert len(set(TOOLS.values())) == len(TOOLS)  # no two scripts start the same class


def test_unknown_tool_names_every_known_one():
    with pytest.raises(LabError) as e:
        tool_command("kafka-nonsense", [])
    assert "kafka-nonsense" in str(e.value) and "kafka-share-groups" in str(e.value)
