#!/usr/bin/env python3
"""Send seeded payment events to Kafka, keyed by customer (the quick start's `python3 producer.py`)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere in the repo


def build_parser() -> argparse.ArgumentParser:
    from kafkalab.config import bootstrap_servers

    p = argparse.ArgumentParser(description="Produce keyed payment events (JSON) to a Kafka topic.")
    p.add_argument("--bootstrap-server", default=bootstrap_servers(), help="host:port of a broker (default: %(default)s)")
    p.add_argument("--topic", default="streamPayment", help="topic to write to (default: %(default)s)")
    p.add_argument("--count", type=int, default=10, help="how many events to send (default: %(default)s)")
    p.add_argument("--seed", type=int, default=6, help="random seed: the same seed sends the same events")
    p.add_argument("--quiet", action="store_true", help="print only the summary line")
    return p


def run_cli(args: argparse.Namespace) -> int:
    from kafka.errors import KafkaError

    from kafkalab.io.clients import json_producer
    from kafkalab.datagen import payments
    from kafkalab.errors import LabError

    if args.count < 0:
        print(f"error: --count {args.count}: give 0 or more events", file=sys.stderr)
        return 2
    producer = None
    try:
        producer = json_producer(bootstrap_servers=args.bootstrap_server, acks="all")
        futures = []
        for event in payments(args.count, seed=args.seed):
            # The record timestamp is the send time (the broker judges retention on it); ts_ms in the value is the
            # event's own, fixed time, so the same seed always sends the same values.
            futures.append((event, producer.send(args.topic, key=event["customer_id"], value=event)))
        producer.flush()
        for event, fut in futures:
            meta = fut.get(timeout=10)
            if not args.quiet:
                print(f"sent {event['payment_id']} key={event['customer_id']} -> partition {meta.partition} offset {meta.offset}")
        print(f"{len(futures)} events sent to {args.topic}")
        return 0
    except (LabError, KafkaError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        if producer is not None:
            producer.close(timeout=5)


if __name__ == "__main__":
    from kafkalab.errors import LabError

    try:
        parser = build_parser()  # reads the configured bootstrap address for its default
    except LabError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    sys.exit(run_cli(parser.parse_args()))
