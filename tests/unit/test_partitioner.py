"""Unit tests for kafkalab.partitioner against Kafka's Java client and kafka-python."""
from __future__ import annotations

import random

import pytest
from kafka.partitioner.default import murmur2 as kafka_python_murmur2

from kafkalab.errors import LabError
from kafkalab.partitioner import keys_moved, murmur2, partition_for, skew, to_positive

# Reference values from Kafka 4.1.2's Java client (kafka-clients-4.1.2.jar), computed once with a
# single-file program run as  java -cp "$(cat .kafkalab/classpath/broker-*.cp)" Murmur.java :
#
#   import org.apache.kafka.common.utils.Utils;
#   import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
#   public class Murmur { public static void main(String[] a) {
#       for (byte[] b : KEYS) {   // each str key's getBytes(UTF_8), or the raw bytes listed below
#           int h = Utils.murmur2(b);
#           System.out.println(h + " " + Utils.toPositive(h) + " "
#               + BuiltInPartitioner.partitionForKey(b, n));   // for n = 2, 3, 6, 10, 12
#   } } }
#
# BuiltInPartitioner.partitionForKey is what the Java producer calls for a record with a key.
JAVA = [
    # key, murmur2, toPositive, {n: partition}
    ("", 275646681, 275646681, {2: 1, 3: 0, 6: 3, 10: 1, 12: 9}),
    ("a", -1563381124, 584102524, {2: 0, 3: 1, 6: 4, 10: 4, 12: 4}),
    ("ab", 316155434, 316155434, {2: 0, 3: 2, 6: 2, 10: 4, 12: 2}),
    ("abc", 479470107, 479470107, {2: 1, 3: 0, 6: 3, 10: 7, 12: 3}),
    ("abcd", -1323649548, 823834100, {2: 0, 3: 2, 6: 2, 10: 0, 12: 8}),
    ("abcde", 461995741, 461995741, {2: 1, 3: 1, 6: 1, 10: 1, 12: 1}),
    ("kafka", -798503068, 1348980580, {2: 0, 3: 1, 6: 4, 10: 0, 12: 4}),
    ("user-42", 1459644460, 1459644460, {2: 0, 3: 1, 6: 4, 10: 0, 12: 4}),
    ("order-1001", 297523878, 297523878, {2: 0, 3: 0, 6: 0, 10: 8, 12: 6}),
    ("21", -973932308, 1173551340, {2: 0, 3: 0, 6: 0, 10: 0, 12: 0}),
    ("café", -1358007374, 789476274, {2: 0, 3: 0, 6: 0, 10: 4, 12: 6}),
    ("東京", -1368386005, 779097643, {2: 1, 3: 1, 6: 1, 10: 3, 12: 7}),
    ("naïve-ключ", -1282183802, 865299846, {2: 0, 3: 0, 6: 0, 10: 6, 12: 6}),
    ("Stream Processing Week 6", -439411350, 1708072298, {2: 0, 3: 2, 6: 2, 10: 8, 12: 2}),
    (bytes([0xFF, 0x80, 0x7F, 0x00]), -1059522114, 1087961534, {2: 0, 3: 2, 6: 2, 10: 4, 12: 2}),
    (bytes([0xFF] * 5), -363838622, 1783645026, {2: 0, 3: 0, 6: 0, 10: 6, 12: 6}),
    (bytes([0xDE, 0xAD, 0xBE, 0xEF, 0xCA, 0xFE, 0x01]), 1706060695, 1706060695, {2: 1, 3: 1, 6: 1, 10: 5, 12: 7}),
]
JAVA_KEYS = [key for key, *_ in JAVA]


def _as_bytes(key: bytes | str) -> bytes:
    return key.encode() if isinstance(key, str) else key


@pytest.mark.parametrize(("key", "java_hash", "java_positive", "java_partitions"), JAVA)
def test_matches_kafkas_java_client(key, java_hash, java_positive, java_partitions):
    assert murmur2(_as_bytes(key)) == java_hash
    assert to_positive(murmur2(_as_bytes(key))) == java_positive
    assert {n: partition_for(key, n) for n in java_partitions} == java_partitions


def test_matches_kafka_python_on_random_keys():
    rng = random.Random(20240906)
    for _ in range(5000):
        key = rng.randbytes(rng.randrange(0, 64))
        ours = murmur2(key)
        assert -(2**31) <= ours < 2**31  # a signed 32-bit int, like Java's
        assert ours & 0xFFFFFFFF == kafka_python_murmur2(key)  # kafka-python returns the unsigned form
        n = rng.randrange(1, 200)
        assert partition_for(key, n) == (kafka_python_murmur2(key) & 0x7FFFFFFF) % n


def test_str_keys_are_hashed_as_utf8_and_bytearray_like_bytes():
    assert partition_for("東京", 12) == partition_for("東京".encode("utf-8"), 12) == 7
    assert murmur2(bytearray(b"kafka")) == murmur2(b"kafka")


def test_to_positive_clears_the_sign_bit_rather_than_negating():
    assert to_positive(-1) == 0x7FFFFFFF
    assert to_positive(-(2**31)) == 0  # abs() would give 2**31, outside an int
    assert to_positive(123) == 123


def test_one_partition_takes_every_key():
    assert {partition_for(k, 1) for k in JAVA_KEYS} == {0}


# --- skew ---------------------------------------------------------------------------------------------------

def test_skew_counts_records_per_partition():
    s = skew(JAVA_KEYS, 3)
    expected = [0, 0, 0]
    for *_, parts in JAVA:
        expected[parts[3]] += 1
    assert s.counts == tuple(expected) == (7, 6, 4)
    assert (s.hottest_partition, s.hottest_share, s.ideal_share) == (0, 7 / 17, 1 / 3)


def test_one_hot_key_makes_one_hot_partition():
    records = ["user-42"] * 90 + [f"user-{i}" for i in range(1000, 1010)]
    s = skew(records, 10)
    assert s.hottest_partition == partition_for("user-42", 10) == 0
    assert s.hottest_share >= 0.9
    assert sum(s.counts) == 100


def test_many_distinct_keys_spread_evenly():
    s = skew([f"customer-{i}" for i in range(20_000)], 8)
    assert len(s.counts) == 8
    assert s.hottest_share < 1.1 * s.ideal_share


# --- keys moved when partitions are added -------------------------------------------------------------------

@pytest.mark.parametrize(("n_old", "n_new"), [(2, 3), (3, 6), (6, 12), (10, 12), (2, 10)])
def test_keys_moved_matches_java_partitions(n_old, n_new):
    moved = sum(1 for *_, parts in JAVA if parts[n_old] != parts[n_new])
    assert keys_moved(JAVA_KEYS, n_old, n_new) == moved / len(JAVA)


def test_same_partition_count_moves_nothing():
    assert keys_moved(JAVA_KEYS, 6, 6) == 0


def test_doubling_partitions_moves_about_half_the_keys_and_10_to_11_most():
    keys = [f"account-{i}" for i in range(20_000)]
    assert keys_moved(keys, 6, 12) == pytest.approx(0.5, abs=0.02)  # h % 12 is h % 6 or h % 6 + 6
    assert keys_moved(keys, 10, 11) == pytest.approx(10 / 11, abs=0.02)


def test_keys_moved_counts_distinct_keys():
    one_key_many_times = ["a"] * 50 + ["21"]
    assert keys_moved(one_key_many_times, 2, 3) == 1 / 2  # 'a' moves 0 -> 1, '21' stays in 0 (see JAVA)


# --- bad input ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, -1, 1.5, 2.0, True, None, "3", 10**7])
def test_bad_partition_counts_raise_laberror(n):
    for call, name in [(lambda: partition_for("a", n), "num_partitions"), (lambda: skew(["a"], n), "num_partitions"),
                       (lambda: keys_moved(["a"], n, 2), "n_old"), (lambda: keys_moved(["a"], 2, n), "n_new")]:
        with pytest.raises(LabError) as exc:
            call()
        assert name in str(exc.value) and repr(n) in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("key", [None, 42, 1.5, ["a"]])
def test_bad_keys_raise_laberror(key):
    with pytest.raises(LabError, match="key="):
        partition_for(key, 3)
    with pytest.raises(LabError, match="key="):
        skew([b"ok", key], 3)


def test_empty_or_single_string_key_lists_raise_laberror():
    with pytest.raises(LabError, match="keys="):
        skew([], 3)
    with pytest.raises(LabError, match="keys="):
        keys_moved([], 3, 4)
    with pytest.raises(LabError, match="keys="):
        skew("abc", 3)  # a string is one key, not three


def test_murmur2_refuses_text():
    with pytest.raises(LabError, match="data="):
        murmur2("kafka")
