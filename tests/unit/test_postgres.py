"""The PostgreSQL service's decisions that need no server: where its data lives, who may reach it, its settings,
the port it takes from the environment, and that the Docker path and the setup agree with it."""
from __future__ import annotations

import os
import pwd
import re
import string

import pytest
import yaml

from kafkalab.cluster import postgres, services
from kafkalab.config import RESERVED_PORTS, REPO, settings


def settings_lines(text: str) -> dict[str, str]:
    """``key = value`` lines of a postgresql.conf-style text, comments dropped."""
    out = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if "=" in line:
            key, value = (x.strip() for x in line.split("=", 1))
            out[key] = value.strip("'")
    return out


@pytest.fixture
def home(monkeypatch, tmp_path):
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path))
    monkeypatch.setenv("KAFKALAB_POSTGRES_PORT", "15433")
    return tmp_path


def test_the_course_port_is_not_the_distributions_and_follows_the_environment(home):
    assert RESERVED_PORTS["postgres"] == 5433
    svc = services.service("postgres")
    assert isinstance(svc, postgres.Postgres) and svc.port == 15433 == settings().postgres_port
    assert svc.url == "postgresql://kafkalab@127.0.0.1:15433/kafkalab"
    assert "postgres" in services.NAMES and services.NAMES.index("connect") < services.NAMES.index("postgres")


def test_the_config_template_listens_on_loopback_with_logical_wal():
    text = string.Template(postgres.TEMPLATE.read_text()).substitute(port=15433, socket_dir="/x/y")
    conf = settings_lines(text)
    assert conf["listen_addresses"] == "127.0.0.1" and conf["port"] == "15433"
    assert conf["unix_socket_directories"] == "/x/y" and conf["wal_level"] == "logical"
    assert int(conf["max_replication_slots"]) >= 4 and int(conf["max_wal_senders"]) >= 4


def test_a_normal_user_keeps_the_data_under_the_course_home(home, monkeypatch):
    monkeypatch.setattr(postgres, "server_user", lambda: None)
    svc = services.service("postgres")
    assert svc.data_dir == home / "data" / "postgres"
    assert svc.socket_dir == svc.data_dir
    assert svc.markers == ("-D", str(home / "data" / "postgres"))


def me() -> pwd.struct_passwd:
    return pwd.getpwuid(os.getuid())


def test_traversable_follows_the_owner_group_and_other_bits(tmp_path):
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    assert postgres.traversable(inner, me())  # every parent of a pytest folder is open to its owner
    (tmp_path / "a").chmod(0o600)  # no x bit for the owner: nobody gets through
    try:
        assert not postgres.traversable(inner, me())
        assert postgres.traversable(tmp_path, me())
    finally:
        (tmp_path / "a").chmod(0o700)
    assert postgres.traversable(tmp_path / "not" / "yet", me())  # folders still to be made are not judged


def test_as_root_a_closed_parent_moves_the_data_to_the_server_users_home(home, monkeypatch):
    fake = pwd.struct_passwd(("postgres", "x", 4321, 4321, "", "/srv/pg-home", "/bin/sh"))
    monkeypatch.setattr(postgres, "server_user", lambda: fake)
    monkeypatch.setattr(postgres, "traversable", lambda folder, user: False)
    data = services.service("postgres").data_dir
    assert data.parent == postgres.Path("/srv/pg-home/kafkalab") and re.fullmatch(r"[0-9a-f]{12}", data.name)
    monkeypatch.setattr(postgres, "traversable", lambda folder, user: True)
    assert services.service("postgres").data_dir == home / "data" / "postgres"


def test_a_long_data_path_puts_the_socket_in_a_short_private_folder(monkeypatch, tmp_path):
    deep = tmp_path / ("x" * 90)
    monkeypatch.setenv("KAFKALAB_HOME", str(deep))
    monkeypatch.setattr(postgres, "server_user", lambda: None)
    svc = services.service("postgres")
    assert svc.socket_dir != svc.data_dir
    assert len(str(svc.socket_dir / ".s.PGSQL.65535.lock")) < 100


def test_missing_server_programs_are_one_line_with_the_fix(monkeypatch, tmp_path):
    monkeypatch.setattr(postgres, "DISTRIBUTION_DIR", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(postgres.LabError) as err:
        postgres.bin_dir()
    assert "apt-get install postgresql" in str(err.value) and "\n" not in str(err.value)


def test_the_installed_server_is_found_with_its_version():
    if not postgres.bin_dirs():
        pytest.skip("no PostgreSQL server programs on this machine")
    programs = postgres.bin_dir()
    assert (programs / "initdb").exists() and postgres.server_version(programs) >= 12


def test_docker_compose_runs_the_same_settings_on_the_same_port():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    pg = compose["services"]["postgres"]
    assert pg["ports"] == [f"127.0.0.1:{RESERVED_PORTS['postgres']}:5432"] and pg["profiles"] == ["postgres"]
    assert pg["environment"] == {"POSTGRES_DB": postgres.DATABASE, "POSTGRES_USER": postgres.USER,
                                 "POSTGRES_PASSWORD": postgres.PASSWORD}
    cmd = pg["command"]
    docker = dict(cmd[i + 1].split("=", 1) for i, arg in enumerate(cmd) if arg == "-c")
    embedded = settings_lines(postgres.TEMPLATE.read_text())
    for key in ("listen_addresses", "port", "unix_socket_directories"):  # the container's own network and paths
        embedded.pop(key)
    assert docker == embedded


def test_setup_and_binder_install_the_server():
    for apt in (REPO / "tools" / "apt.txt", REPO / "binder" / "apt.txt"):
        packages = {ln.split("#")[0].strip() for ln in apt.read_text().splitlines()}
        assert "postgresql" in packages, apt
    setup = (REPO / "tools" / "setup.sh").read_text()
    assert "missing+=(postgresql)" in setup and "create_main_cluster = false" in setup
    assert any(ln.startswith("psycopg[binary]") for ln in (REPO / "requirements.txt").read_text().splitlines())
