import pytest

from kafkalab import cli


def test_parser_knows_every_command():
    parser = cli.build_parser()
    for argv in (["up"], ["up", "--brokers", "3"], ["down", "--wipe"], ["status", "--json"], ["doctor"], ["fetch"]):
        parser.parse_args(argv)


def test_brokers_must_be_one_or_three():
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["up", "--brokers", "2"])


def test_unknown_tool_is_a_one_line_error(capsys):
    assert cli.run_cli(["tool", "kafka-nonsense", "--list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "kafka-nonsense" in err and "kafka-topics" in err


def test_status_of_a_stopped_cluster_exits_3(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path))
    monkeypatch.setenv("KAFKALAB_BROKER_PORT", "19192")
    monkeypatch.setenv("KAFKALAB_CONTROLLER_PORT", "19193")
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    assert cli.run_cli(["status"]) == 3
    assert "node-1: stopped" in capsys.readouterr().out


def test_fetch_takes_known_profiles_only(capsys):
    parser = cli.build_parser()
    assert parser.parse_args(["fetch"]).profiles == []
    assert parser.parse_args(["fetch", "broker", "registry"]).profiles == ["broker", "registry"]
    assert cli.run_cli(["fetch", "broker", "nonsense"]) == 2
    from kafkalab.cluster.maven import PROFILES

    assert "broker" in PROFILES and "registry" in PROFILES
    assert capsys.readouterr().err == f"error: unknown jar profile 'nonsense'; choose one of {', '.join(PROFILES)}\n"
