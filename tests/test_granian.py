"""tokenauth under granian (``tokenauth serve --server granian``, tokenauth/serve/granian_server.py)
behaves as under gunicorn: the key proofs, in the default run. Every end-to-end test under
granian: ``TOKENAUTH_TEST_SERVER=granian make test PYTEST_ARGS=tests/e2e`` (CI does)."""
from __future__ import annotations

import contextlib
import re
import signal
import socket
import subprocess
import sys

import pytest

from tokenauth.serve import GRANIAN

from .e2e.stack import call, demo, echo_upstream, nginx
from .helpers import bearer, corrupt, eventually, missing, one_database
from .servers import (BROKEN_SETTINGS, BROKEN_SETTINGS_PROBLEMS, ROOT, TOKENAUTH, clean_env,
                      free_port, granian, problems, run_tokenauth, stop, tokenauth_env)
from .test_gunicorn import ok_count, stored_last_access
from .worker_connections import connections_to_each_worker, send

backend = one_database()  # the server, not storage
pytestmark = pytest.mark.e2e


def logs(folder) -> str:
    return "".join(path.read_text() for path in sorted(folder.glob("*.log")))


@contextlib.contextmanager
def granian_behind_nginx(env, folder):
    """echo + tokenauth under granian (2 workers) + nginx from the shipped template."""
    if demo.nginx_binary() is None:
        missing("nginx is not installed (apt-get install nginx-light)")
    with echo_upstream(folder / "echo.log") as echo, \
            granian(env, folder / "logs", workers=2) as (url, process), \
            nginx(folder / "nginx", url, echo.url) as front:
        yield front, url, process, echo


def test_verify_through_nginx_with_metrics_of_both_workers_summed(database_url, make_user,
                                                                   make_token, tmp_path):
    issued = make_token(make_user("alice"))
    env = tokenauth_env(database_url, tmp_path / "instance")
    with granian_behind_nginx(env, tmp_path) as (front, url, process, echo):
        allowed = call(front, "GET", "/api/things", headers=bearer(issued.raw))
        assert allowed.status == 200
        assert allowed.json()["headers"]["X-Auth-User"] == "alice"
        refused = call(front, "GET", "/api/things", headers=bearer(corrupt(issued.raw)))
        assert refused.status == 401 and echo.count() == 1
        # Each worker answers 10 more on a connection of its own: /metrics adds them up.
        for connection in connections_to_each_worker(url, process.pid):
            for _ in range(10):
                assert send(connection, "/verify", bearer(issued.raw))[0] == 200
            connection.close()
        assert eventually(lambda: ok_count(url) == 21.0)  # published within a second
        assert stop(process) == 0
    said = logs(tmp_path / "logs")
    assert issued.raw not in said
    assert len(re.findall(r"\[INFO\] Spawning worker-\d with PID", said)) == 2
    assert said.count("flushed 0 pending last-access writes") + said.count(
        "flushed 1 pending last-access writes") == 2  # each worker, at its stop
    access = (tmp_path / "logs" / "tokenauth.access.log").read_text().splitlines()
    verifies = [line.split('" ')[1].split()[0] for line in access if "/verify" in line]
    assert verifies == ["401"]  # allowed /verify answers are nginx's to log
    assert any("/healthz" in line for line in access)


def test_graceful_stop_flushes_coalesced_last_access(database_url, make_user, make_token,
                                                      app, tmp_path):
    issued = make_token(make_user("bob"))
    env = tokenauth_env(database_url, tmp_path / "instance", last_access_resolution=3600)
    with granian(env, tmp_path / "logs", workers=1) as (url, process):
        call(url, "GET", "/verify", headers=bearer(issued.raw), source="127.0.0.1")
        first = stored_last_access(issued.token.id)  # first use: written at once
        assert first is not None
        for _ in range(3):  # within the resolution: coalesced, pending
            call(url, "GET", "/verify", headers=bearer(issued.raw), source="127.0.0.1")
        assert stored_last_access(issued.token.id) == first
        assert stop(process, signal.SIGTERM) == 0
    assert stored_last_access(issued.token.id) > first
    assert "flushed 1 pending last-access writes" in logs(tmp_path / "logs")



def test_broken_settings_stop_before_any_worker(tmp_path):
    env = clean_env(**BROKEN_SETTINGS,
                    TOKENAUTH_INSTANCE_PATH=str(tmp_path / "instance"))
    result = run_tokenauth("serve", "--server", "granian", "--bind", f"127.0.0.1:{free_port()}",
                           env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert problems(result.stderr) == BROKEN_SETTINGS_PROBLEMS
    assert "Spawning" not in result.stderr and "Traceback" not in result.stderr


def test_a_taken_port_is_one_line(tmp_path):
    env = clean_env(TOKENAUTH_INSTANCE_PATH=str(tmp_path / "instance"))
    assert run_tokenauth("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    with granian(tokenauth_env(f"sqlite:///{tmp_path / 'instance' / 'tokenauth.db'}",
                               tmp_path / "instance"), tmp_path / "first", workers=1) as (url, _):
        port = url.rsplit(":", 1)[1]
        result = run_tokenauth("serve", "--server", "granian", "--bind", f"127.0.0.1:{port}",
                               env=env, cwd=tmp_path)
    assert result.returncode == 2
    [line] = problems(result.stderr)
    assert line.startswith(f"Error: 127.0.0.1:{port} (TOKENAUTH_BIND) is already in use")
    assert "Traceback" not in result.stderr and "Spawning" not in result.stderr


def test_an_unknown_server_is_one_line(tmp_path):
    env = clean_env(TOKENAUTH_SERVER="uwsgi", TOKENAUTH_INSTANCE_PATH=str(tmp_path / "i"))
    assert run_tokenauth("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    result = run_tokenauth("serve", "--bind", f"127.0.0.1:{free_port()}", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert problems(result.stderr) == [
        "Error: TOKENAUTH_SERVER='uwsgi' is not valid: must be one of gunicorn, granian"]


def test_granian_missing_names_the_pip_command(tmp_path):
    """As if granian were not installed (an import of it fails)."""
    program = ("import sys; sys.modules['granian'] = None; from tokenauth.cli import main; "
               "main(['serve', '--server', 'granian'])")
    result = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, text=True,
                            capture_output=True, timeout=60,
                            env=clean_env(TOKENAUTH_INSTANCE_PATH=str(tmp_path / "i")))
    assert result.returncode == 2
    pip = f"{sys.executable.rsplit('/', 1)[0]}/pip"
    assert result.stderr.splitlines() == [
        "Error: TOKENAUTH_SERVER=granian: granian is not installed; install it with "
        f"`{pip} install {GRANIAN}`"]


def test_the_pinned_granian_is_the_one_the_server_is_written_for():
    requirements = (ROOT / "requirements.txt").read_text().splitlines()
    assert GRANIAN in requirements
    assert f'granian = ["{GRANIAN}"]' in (ROOT / "pyproject.toml").read_text()


def test_a_stale_unix_socket_is_replaced_and_a_live_one_refused(tmp_path):
    """granian itself refuses an existing path; gunicorn replaces a stale socket, so does
    tokenauth's granian start."""
    import socket

    env = clean_env(TOKENAUTH_INSTANCE_PATH=str(tmp_path / "instance"))
    assert run_tokenauth("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    path = tmp_path / "tokenauth.sock"
    with socket.socket(socket.AF_UNIX) as stale:
        stale.bind(str(path))  # left behind, nothing listens
    process = demo.spawn([TOKENAUTH, "serve", "--server", "granian", "--workers", "1",
                          "--bind", f"unix:{path}"], tmp_path / "serve.log", cwd=tmp_path,
                         env=env)
    try:
        assert eventually(lambda: answers_on(path), seconds=20)
        taken = run_tokenauth("serve", "--server", "granian", "--bind", f"unix:{path}",
                              env=env, cwd=tmp_path)
    finally:
        assert stop(process) == 0
    assert taken.returncode == 2
    assert problems(taken.stderr) == [
        f"Error: TOKENAUTH_BIND='unix:{path}' is already in use by another program: pick "
        "another path"]


def answers_on(path) -> bool:
    with socket.socket(socket.AF_UNIX) as client:
        try:
            client.connect(str(path))
        except OSError:
            return False
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return client.recv(64).startswith(b"HTTP/1.1 200")


def test_make_run_server_granian_serves_under_granian():
    dry = subprocess.run(["make", "-n", "-o", ".venv/.installed", "run", "SERVER=granian"],
                         cwd=ROOT, text=True, capture_output=True, timeout=60)
    assert ".venv/bin/tokenauth serve --bind 127.0.0.1:8080 --server granian" in dry.stdout
