"""Lifecycle guarantees of the PostgreSQL service, against the real server, through the CLI a learner uses.

Like test_services_lifecycle.py, these run their own broker and server with their own data folder, on their own
block of the run's ports (tests/integration/ownlab.py), so that they never meet the course cluster.
"""
from __future__ import annotations

import os
import signal
import socket
import stat

import psycopg
import pytest

from unittest import mock

from kafkalab.cluster import procs, services
from kafkalab.cluster.postgres import PASSWORD, USER, Postgres
from kafkalab.wait import wait_until

import ownlab  # tests/integration/ownlab.py (pytest puts this folder on sys.path)

pytestmark = pytest.mark.lifecycle



PG_PORT = ownlab.port("postgres", "postgres")
lab = ownlab.lab


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    e = ownlab.lab_env(tmp_path_factory.mktemp("pg-home"), "postgres")
    yield e
    lab(e, "down", "--wipe", "-q")


def server(env) -> Postgres:
    """The service object for that private home, read from its environment as the CLI reads it."""
    with mock.patch.dict(os.environ, env, clear=True):
        return services.service("postgres")


def postmasters(env) -> list[int]:
    svc = server(env)
    return [p for p in procs.pids_with_arg(str(svc.data_dir)) if "-D" in procs.cmdline(p)]


def sql(statement: str):
    with psycopg.connect(host="127.0.0.1", port=PG_PORT, user=USER, password=PASSWORD, dbname="kafkalab",
                         autocommit=True, connect_timeout=5) as conn:
        cur = conn.execute(statement)
        return cur.fetchall() if cur.description else None


def test_up_twice_gives_one_server_on_loopback_with_logical_wal(env):
    first = lab(env, "up", "--with", "postgres")
    assert first.returncode == 0, first.stderr
    again = lab(env, "up", "--with", "postgres")
    assert again.returncode == 0, again.stderr
    assert "postgres is already running" in again.stderr
    assert len(postmasters(env)) == 1
    assert sql("SHOW wal_level") == [("logical",)]
    assert sql("SHOW listen_addresses") == [("127.0.0.1",)]
    assert sql("SELECT rolreplication FROM pg_roles WHERE rolname = current_user") == [(True,)]
    owner = procs.port_owner(PG_PORT)
    assert owner and owner[0] == postmasters(env)[0]


def test_data_directory_belongs_to_the_server_user_with_mode_0700(env):
    assert lab(env, "up", "--with", "postgres").returncode == 0
    data = server(env).data_dir
    st = data.stat()
    assert stat.S_IMODE(st.st_mode) == 0o700
    (pid,) = postmasters(env)
    server_uid = os.stat(f"/proc/{pid}").st_uid
    assert st.st_uid == server_uid
    if os.geteuid() == 0:  # PostgreSQL refuses root: the server runs as an unprivileged user
        assert server_uid != 0


def test_status_shows_the_port_and_the_data_folder(env):
    assert lab(env, "up", "--with", "postgres").returncode == 0
    out = lab(env, "status").stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("postgres:"))
    assert f"127.0.0.1:{PG_PORT}" in line and "answers" in line and str(server(env).data_dir) in line


def test_data_survives_down_and_up_and_down_leaves_no_process(env):
    assert lab(env, "up", "--with", "postgres").returncode == 0
    sql("DROP TABLE IF EXISTS survivor; CREATE TABLE survivor (n INT); INSERT INTO survivor VALUES (42)")
    assert lab(env, "down").returncode == 0
    assert postmasters(env) == [] and server(env).server_processes() == []
    assert procs.port_free(PG_PORT)
    assert lab(env, "up", "--with", "postgres").returncode == 0
    assert sql("SELECT n FROM survivor") == [(42,)]


def test_a_killed_server_recovers_on_up_with_its_committed_data(env):
    assert lab(env, "up", "--with", "postgres").returncode == 0
    sql("DROP TABLE IF EXISTS crash; CREATE TABLE crash (n INT); INSERT INTO crash VALUES (7)")
    (pid,) = postmasters(env)
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not procs.pid_alive(pid), timeout_s=10, what="the killed server gone")
    res = lab(env, "up", "--with", "postgres")
    assert res.returncode == 0, res.stderr
    assert len(postmasters(env)) == 1 and postmasters(env) != [pid]
    assert sql("SELECT n FROM crash") == [(7,)]  # replayed from the write-ahead log


def test_a_taken_port_is_one_line_with_the_fix_and_starts_nothing(env):
    assert lab(env, "down").returncode == 0
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", PG_PORT))
        squatter.listen()
        res = lab(env, "up", "--with", "postgres")
    assert res.returncode == 2
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: port {PG_PORT} (postgres) on 127.0.0.1 is already in use by pid {os.getpid()}")
    assert "KAFKALAB_POSTGRES_PORT" in last and "Traceback" not in res.stderr
    assert postmasters(env) == [] and ownlab.jvms(env, "node-1") == []


def test_down_wipe_deletes_the_data_wherever_it_lives(env):
    assert lab(env, "up", "--with", "postgres").returncode == 0
    data = server(env).data_dir
    assert (data / "PG_VERSION").exists()
    res = lab(env, "down", "--wipe")
    assert res.returncode == 0, res.stderr
    assert not data.exists() and postmasters(env) == []
