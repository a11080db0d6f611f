"""The course's command line: ``python -m kafkalab up|down|status|doctor|fetch|topics|tool|progress``."""
from __future__ import annotations

import argparse
import json
import sys

from .cluster.maven import PROFILES
from .errors import LabError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m kafkalab", description="Run the course's local Kafka cluster.")
    sub = p.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start the embedded cluster (does nothing if it already runs)")
    up.add_argument("--brokers", type=int, default=None, choices=(1, 3),
                    help="number of KRaft nodes (default: as many as last time, else 1)")
    up.add_argument("--secure", action="store_true",
                    help="start the course's secured cluster (SASL_SSL, SCRAM users, ACLs) beside the plain one")
    up.add_argument("--with", dest="services", default="", metavar="SERVICES",
                    help="also start companion services: registry, connect, postgres (comma-separated)")
    up.add_argument("-q", "--quiet", action="store_true")

    down = sub.add_parser("down", help="stop the embedded cluster and its services; data stays unless --wipe")
    down.add_argument("--wipe", action="store_true", help="also delete all topics and data")
    down.add_argument("-q", "--quiet", action="store_true")

    st = sub.add_parser("status", help="what runs, on which ports")
    st.add_argument("--json", action="store_true")

    sub.add_parser("doctor", help="check Java, ports, the cluster and advertised listeners; print each fix")
    fetch = sub.add_parser("fetch", help="resolve every service's jars from Maven Central now (else on first use)")
    fetch.add_argument("profiles", nargs="*", metavar="PROFILE",
                       help=f"which: {', '.join(PROFILES)} (default: all)")

    topics = sub.add_parser("topics", help="Kafka's kafka-topics tool with its own arguments", add_help=False)
    topics.add_argument("args", nargs=argparse.REMAINDER)

    tool = sub.add_parser("tool", help="any Kafka tool by script name, e.g. kafka-consumer-groups --list ...")
    tool.add_argument("name")
    tool.add_argument("args", nargs=argparse.REMAINDER)

    prog = sub.add_parser("progress", help="your exercises, chapter by chapter: done or not yet, and when")
    prog.add_argument("--chapter", metavar="CHAPTER", help="only this chapter (e.g. kafka101)")
    prog.add_argument("--reset", action="store_true", help="clear the record (asks nothing; says what it cleared)")
    return p


def run_cli(argv: list[str] | None = None) -> int:
    """Run one command; return the process exit code (0 = success). Errors print as one line."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if (argv[:1] == ["topics"] and len(argv) > 1) or (argv[:1] == ["tool"] and len(argv) > 1
                                                       and argv[1] not in ("-h", "--help")):
        # pass the tool's own flags through untouched (argparse would try to read them)
        head = 2 if argv[0] == "tool" else 1
        args = parser.parse_args(argv[:head])
        args.args = argv[head:]
    else:
        args = parser.parse_args(argv)
    try:
        if args.command == "up":
            from .cluster import services
            from .cluster.broker import up
            from .cluster.lock import cluster_lock

            wanted = [x.strip() for x in args.services.split(",") if x.strip()]
            with cluster_lock(quiet=args.quiet):  # one command at a time per cluster home (two `up` at once wait)
                for name in wanted:
                    services.preflight(name)  # unknown names and taken ports fail before anything starts
                up(args.brokers, quiet=args.quiet, secure=args.secure)
                for name in wanted:
                    services.start(name, quiet=args.quiet)
        elif args.command == "down":
            from .cluster import services
            from .cluster.broker import down
            from .cluster.lock import cluster_lock

            with cluster_lock(quiet=args.quiet):
                for name in services.NAMES:  # services first: Connect writes to Kafka while it stops
                    services.stop(name, quiet=args.quiet)
                if args.wipe:  # as root, PostgreSQL's data may live outside the cluster's folder (cluster/postgres.py)
                    services.service("postgres").wipe(quiet=args.quiet)
                down(wipe=args.wipe, quiet=args.quiet)
        elif args.command == "status":
            return _status(args.json)
        elif args.command == "doctor":
            from .doctor import run

            return run()
        elif args.command == "fetch":
            from .cluster.maven import classpath

            for profile in args.profiles:  # unknown names fail before Maven runs
                if profile not in PROFILES:
                    raise LabError(f"unknown jar profile {profile!r}; choose one of {', '.join(PROFILES)}")
            for profile in args.profiles or PROFILES:
                classpath(profile)
            if "registry" in (args.profiles or PROFILES):  # unpack it too: a chapter's first start stays quiet
                from .cluster.services import service

                service("registry").prepare()
            if "connect-plugins" in (args.profiles or PROFILES):  # Debezium's archives, unpacked for plugin.path
                from .cluster.plugins import plugin_dirs

                plugin_dirs()
        elif args.command == "progress":
            return _progress(args.chapter, args.reset)
        elif args.command in ("topics", "tool"):
            from .cluster.tools import run_tool

            name = "kafka-topics" if args.command == "topics" else args.name
            res = run_tool(name, args.args, check=False)
            sys.stdout.write(res.stdout)
            sys.stderr.write(res.stderr)
            return res.returncode
        return 0
    except LabError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _progress(chapter: str | None, reset: bool) -> int:
    from .exercises import progress

    where = progress.path()
    if reset:
        cleared = progress.reset()
        if cleared["entries"]:
            print(f"cleared {cleared['entries']} recorded exercise(s), {cleared['done']} of them done, from {where}")
        else:
            print(f"nothing to clear: no progress recorded in {where}")
        return 0
    print(progress.format_table(progress.rows(chapter)))
    print(f"recorded in {where} by every exercise's check(); `--reset` clears it")
    return 0


def _status(as_json: bool) -> int:
    from .cluster import services
    from .cluster.broker import status

    st = status()
    st["services"] = services.status()
    if as_json:
        print(json.dumps(st, indent=2))
    else:
        if not st["embedded"]:
            print(f"using the cluster at {st['bootstrap']} (KAFKA_BOOTSTRAP_SERVERS); nothing embedded")
        else:
            print(f"Apache Kafka {st['kafka_version']} (KRaft), data in {st['home']}")
        for name, n in st["nodes"].items():
            state = f"running, pid {n['pid']}" if n["pid"] else "stopped"
            answer = "answers" if n["broker_answers"] else "no answer"
            print(f"{name}: {state}; broker 127.0.0.1:{n['broker_port']} {answer}{_metrics(n)}")
        for name, svc in st["services"].items():
            state = f"running, pid {svc['pid']}" if svc["pid"] else "stopped"
            data = f" (data: {svc['data']})" if "data" in svc else ""
            print(f"{name}: {state}; {svc['url']} {'answers' if svc['answers'] else 'no answer'}{_metrics(svc)}{data}")
    running = any(n["pid"] for n in st["nodes"].values()) if st["embedded"] else True
    return 0 if running else 3


def _metrics(entry: dict) -> str:
    """"; metrics (Jolokia) 127.0.0.1:N answers" for a JVM that carries the agent, else nothing."""
    if entry.get("jolokia_port") is None:
        return ""
    return f"; metrics (Jolokia) 127.0.0.1:{entry['jolokia_port']} {'answers' if entry['jolokia_answers'] else 'no answer'}"


def main() -> None:
    import signal

    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `python -m kafkalab status | head` ends quietly
    sys.exit(run_cli())
