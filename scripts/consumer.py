#!/usr/bin/env python3
"""Read payment events from Kafka and print partition, offset, key and value (the quick start's `python3 consumer.py`)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere in the repo


def build_parser() -> argparse.ArgumentParser:
    from kafkalab.config import bootstrap_servers

    p = argparse.ArgumentParser(description="Consume JSON events from a Kafka topic and print where each came from.")
    p.add_argument("--bootstrap-server", default=bootstrap_servers(), help="host:port of a broker (default: %(default)s)")
    p.add_argument("--topic", default="streamPayment", help="topic to read (default: %(default)s)")
    p.add_argument("--count", type=int, default=10, help="stop after this many events (default: %(default)s)")
    p.add_argument("--group", default=None, help="consumer group id; without one, offsets are not committed")
    p.add_argument("--from-beginning", action=argparse.BooleanOptionalAction, default=True,
                   help="where a new group starts: the oldest record (default) or only new ones (--no-from-beginning)")
    p.add_argument("--timeout", type=float, default=10.0, help="give up after this many seconds without a record")
    return p


def run_cli(args: argparse.Namespace) -> int:
    from kafka.errors import KafkaError

    from kafkalab.io.clients import consumer
    from kafkalab.errors import LabError

    if args.count < 1:
        print(f"error: --count {args.count}: give 1 or more", file=sys.stderr)
        return 2
    c = None
    seen = 0
    try:
        c = consumer(
            args.topic,
            bootstrap_servers=args.bootstrap_server,
            group_id=args.group,
            auto_offset_reset="earliest" if args.from_beginning else "latest",
            consumer_timeout_ms=int(args.timeout * 1000),
            key_deserializer=lambda b: None if b is None else b.decode(),
            value_deserializer=lambda b: json.loads(b),
        )
        print(f"{'partition':>9} {'offset':>6}  key   value")
        for rec in c:
            print(f"{rec.partition:>9} {rec.offset:>6}  {rec.key}  {json.dumps(rec.value, sort_keys=True)}")
            seen += 1
            if seen >= args.count:
                break
        print(f"{seen} events read from {args.topic}")
        return 0 if seen else 1
    except (LabError, KafkaError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        if c is not None:
            c.close()


if __name__ == "__main__":
    from kafkalab.errors import LabError

    try:
        parser = build_parser()  # reads the configured bootstrap address for its default
    except LabError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    sys.exit(run_cli(parser.parse_args()))
