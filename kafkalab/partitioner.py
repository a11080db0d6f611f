"""Which partition a keyed record lands in, as Kafka's default partitioner decides it.

Taught in Chapter 10, *Calculating partitions and consumers* (why adding partitions later reshuffles keys,
and why one hot key can overload one partition however many you have).

For a record with a key, the Java producer (and kafka-python, which copies it) computes the 32-bit
MurmurHash2 of the key bytes with seed ``0x9747b28c``, clears the sign bit, and takes the remainder by the
number of partitions: ``(murmur2(key) & 0x7fffffff) % num_partitions``. Records without a key are not
hashed (the producer fills one partition's batch at a time), so this module only deals with keys.
Text keys are encoded as UTF-8, which is what Kafka's ``StringSerializer`` sends.
"""
from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import LabError
from .validate import count

_SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK = 0xFFFFFFFF
#: More partitions than any cluster supports; beyond this the input is a typo.
MAX_PARTITIONS = 1_000_000

Key = bytes | bytearray | str


def murmur2(data: bytes | bytearray) -> int:
    """Kafka's ``Utils.murmur2``: the 32-bit MurmurHash2 of ``data``, as a signed Java int."""
    if not isinstance(data, (bytes, bytearray)):
        raise LabError(f"data={data!r:.40}: not bytes; allowed: bytes (partition_for() also takes str, as UTF-8)")
    length = len(data)
    h = (_SEED ^ length) & _MASK
    whole = length - length % 4
    for (k,) in struct.iter_unpack("<I", data[:whole]):  # 4 bytes at a time, little-endian
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    if whole < length:  # the last 1 to 3 bytes
        h ^= int.from_bytes(data[whole:], "little")
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def to_positive(h: int) -> int:
    """Kafka's ``Utils.toPositive``: clear the sign bit (not ``abs``, which fails for the smallest int)."""
    return h & 0x7FFFFFFF


def _key_bytes(key: Key) -> bytes:
    """The bytes the producer would hash for this key."""
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, (bytes, bytearray)):
        return bytes(key)
    problem = "no key: keyless records are spread without hashing" if key is None else "not bytes or str"
    raise LabError(f"key={key!r:.40}: {problem}; allowed: bytes, or str (sent as UTF-8)")


def _check_partitions(name: str, n: object) -> int:
    """A partition count: a whole number from 1 to MAX_PARTITIONS."""
    return count(name, n, high=MAX_PARTITIONS)


def _partition(key: bytes, n: int) -> int:
    """The default partitioner's choice, for checked inputs."""
    return to_positive(murmur2(key)) % n


def partition_for(key: Key, num_partitions: int) -> int:
    """The partition Kafka's default partitioner picks for ``key`` among ``num_partitions``."""
    return _partition(_key_bytes(key), _check_partitions("num_partitions", num_partitions))


def _keys_list(keys: Iterable[Key]) -> list[bytes]:
    """The keys as bytes; at least one."""
    if isinstance(keys, (str, bytes, bytearray)):
        raise LabError(f"keys={keys!r:.40}: one key, not a collection; allowed: a list of keys, e.g. [b'a', 'b']")
    encoded = [_key_bytes(k) for k in keys]
    if not encoded:
        raise LabError("keys=[]: empty; allowed: at least one key")
    return encoded


@dataclass(frozen=True)
class Skew:
    """How records spread over partitions: counts per partition and the busiest partition's share."""

    counts: tuple[int, ...]
    hottest_partition: int
    hottest_share: float  # fraction of all records in the busiest partition
    ideal_share: float  # 1 / num_partitions: what a perfect spread would give


def skew(keys: Iterable[Key], num_partitions: int) -> Skew:
    """Count records per partition (one key per record; repeats count) and report the hottest partition."""
    n = _check_partitions("num_partitions", num_partitions)
    records = _keys_list(keys)
    per_partition = Counter(_partition(k, n) for k in records)
    counts = tuple(per_partition.get(p, 0) for p in range(n))
    hottest = max(range(n), key=lambda p: counts[p])  # the lowest index among ties
    return Skew(counts, hottest, counts[hottest] / len(records), 1 / n)


def keys_moved(keys: Iterable[Key], n_old: int, n_new: int) -> float:
    """Fraction of distinct keys whose partition changes when the topic goes from ``n_old`` to ``n_new`` partitions."""
    old = _check_partitions("n_old", n_old)
    new = _check_partitions("n_new", n_new)
    distinct = set(_keys_list(keys))
    moved = sum(1 for k in distinct if _partition(k, old) != _partition(k, new))
    return moved / len(distinct)
