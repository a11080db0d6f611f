import pytest

from kafkalab import cli


def test_parser_knows_every_command():
    parse = cli.build_parser().parse_args
    up = parse(["up"])
    assert (up.command, up.brokers, up.services, up.quiet) == ("up", None, "", False)
    up3 = parse(["up", "--brokers", "3", "--with", "registry,connect", "-q"])
    assert (up3.brokers, up3.services, up3.quiet) == (3, "registry,connect", True)
    down = parse(["down", "--wipe"])
    assert (down.command, down.wipe) == ("down", True)
    assert parse(["down"]).wipe is False
    status = parse(["status", "--json"])
    assert (status.command, status.json) == ("status", True)
    assert parse(["doctor"]).command == "doctor"
    assert (parse(["fetch"]).command, parse(["fetch"]).profiles) == ("fetch", [])


def test_brokers_must_be_one_or_three():
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["up", "--brokers", "2"])


def test_unknown_tool_is_a_one_line_error(capsys):
    assert cli.run_cli(["tool", "kafka-nonsense", "--list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "kafka-nonsense" in err and "kafka-topics" in err


def test_status_of_a_stopped_cluster_exits_3_and_writes_nothing(monkeypatch, tmp_path, capsys):
    import socket

    with socket.socket() as s:  # a port nothing listens on once this socket closes
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KAFKALAB_BROKER_PORT", str(free))
    assert cli.run_cli(["status"]) == 3
    out = capsys.readouterr().out
    assert f"node-1: stopped; broker 127.0.0.1:{free} no answer" in out
    assert "Apache Kafka 4." in out
    assert not (tmp_path / "home").exists()  # status only reads


def test_fetch_takes_known_profiles_only(capsys):
    parser = cli.build_parser()
    assert parser.parse_args(["fetch"]).profiles == []
    assert parser.parse_args(["fetch", "broker", "registry"]).profiles == ["broker", "registry"]
    assert cli.run_cli(["fetch", "broker", "nonsense"]) == 2
    from kafkalab.cluster.maven import PROFILES

    assert "broker" in PROFILES and "registry" in PROFILES
    assert capsys.readouterr().err == f"error: unknown jar profile 'nonsense'; choose one of {', '.join(PROFILES)}\n"
