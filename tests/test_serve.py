"""Starting the server as an operator does: ``tokenauth serve``, ``make run`` and
``gunicorn -c gunicorn.conf.py``; what they print, and how they refuse to start."""
from __future__ import annotations

import re
import socket
import subprocess
import sys
import types
import urllib.request
from pathlib import Path

import pytest

from tokenauth import __version__
from tokenauth.serve import preflight

from .servers import (BROKEN_SETTINGS, BROKEN_SETTINGS_PROBLEMS, ROOT, TOKENAUTH, clean_env,
                      free_port, problems, run_tokenauth, stop, wait_for_http)
from .helpers import one_database

backend = one_database()  # the server's start-up, not storage

pytestmark = pytest.mark.e2e


def messages(log: str) -> list[str]:
    """The messages of gunicorn's log lines (``[time] [pid] [INFO] message``)."""
    return [match.group(1) for match in re.finditer(r"^\[[^]]+\] \[\d+\] \[\w+\] (.*)$", log, re.M)]



def test_serve_from_another_folder_says_where_the_page_is(tmp_path):
    env = clean_env(TOKENAUTH_INSTANCE_PATH=str(tmp_path / "instance"))
    assert run_tokenauth("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    port, log = free_port(), tmp_path / "serve.log"
    with open(log, "w") as output:
        process = subprocess.Popen([str(TOKENAUTH), "serve", "--bind", f"127.0.0.1:{port}",
                                    "--workers", "1"], cwd=tmp_path, env=env, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", process)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as page:
            assert page.status == 200
    finally:
        assert stop(process) == 0
    said = messages(log.read_text())
    assert said[said.index(f"Listening at: http://127.0.0.1:{port} ({process.pid})") + 2:][:3] == [
        f"tokenauth {__version__} is ready: the web page is http://127.0.0.1:{port}/login",
        "There are no users yet. Create the first admin (it asks for a password):",
        f"    {TOKENAUTH} users create admin --admin",
    ]
    assert not any("Control socket" in line for line in said)  # none shared with others
    assert "Traceback" not in log.read_text()


class FakeServer:
    def __init__(self, address):
        self.cfg = types.SimpleNamespace(address=[address])
        self.said = []
        self.log = types.SimpleNamespace(info=lambda text, *args: self.said.append(text % args))


def test_the_first_admin_hint_only_while_there_are_no_users(monkeypatch, database_url,
                                                           make_user):
    monkeypatch.setenv("TOKENAUTH_DATABASE_URL", database_url)
    monkeypatch.setenv("TOKENAUTH_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("TOKENAUTH_TOKEN_PEPPER", "p" * 40)
    server = FakeServer(("0.0.0.0", 8000))
    preflight.announce(server)
    assert server.said[0] == f"tokenauth {__version__} is ready: the web page is " \
                             "http://127.0.0.1:8000/login"
    assert len(server.said) == 3
    make_user("alice")
    server = FakeServer(("::1", 8000))
    preflight.announce(server)
    assert server.said == [f"tokenauth {__version__} is ready: the web page is "
                           "http://[::1]:8000/login"]


def test_gunicorn_with_broken_settings_stops_before_any_worker(tmp_path):
    env = clean_env(**BROKEN_SETTINGS,
                    TOKENAUTH_INSTANCE_PATH=str(tmp_path / "instance"),
                    TOKENAUTH_BIND=f"127.0.0.1:{free_port()}")
    result = subprocess.run([str(Path(sys.executable).parent / "gunicorn"), "-c",
                             str(ROOT / "gunicorn.conf.py")], cwd=ROOT, env=env, text=True,
                            capture_output=True, timeout=60)
    assert result.returncode == 2
    assert problems(result.stderr) == BROKEN_SETTINGS_PROBLEMS
    assert "Booting worker" not in result.stderr and "Traceback" not in result.stderr


def test_serve_on_an_empty_database_says_to_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    env = clean_env(TOKENAUTH_DATABASE_URL=url, TOKENAUTH_INSTANCE_PATH=str(tmp_path / "i"))
    result = run_tokenauth("serve", "--bind", f"127.0.0.1:{free_port()}", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert problems(result.stderr) == [
        f"Error: the database '{url}' has no tokenauth tables yet: run `{TOKENAUTH} db upgrade`"]
    assert "Booting worker" not in result.stderr and "Traceback" not in result.stderr


def test_make_run_on_a_taken_port_says_which_and_how_to_pick_another(tmp_path):
    env = clean_env(TOKENAUTH_INSTANCE_PATH=str(tmp_path / "instance"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # -o: the venv is there already; make must not reinstall it in the middle of a test
        result = subprocess.run(["make", "-o", ".venv/.installed", "run", f"PORT={port}"],
                                cwd=ROOT, env=env, text=True, capture_output=True, timeout=120)
    assert result.returncode == 2
    [line] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert re.fullmatch(
        rf"Error: 127\.0\.0\.1:{port} \(TOKENAUTH_BIND\) is already in use by another program: "
        rf"pick another port, e\.g\. make run PORT=(\d+), tokenauth serve --bind "
        rf"127\.0\.0\.1:\1 or TOKENAUTH_BIND=127\.0\.0\.1:\1", line), line
    for noise in ("Traceback", "Connection in use", "Can't connect", "Booting worker"):
        assert noise not in result.stderr


def test_the_systemd_unit_starts_tokenauth_serve():
    unit = (ROOT / "deploy" / "systemd" / "tokenauth.service").read_text()
    assert re.search(r"^ExecStart=\S*tokenauth serve\b", unit, re.M)
    assert re.search(r"^EnvironmentFile=", unit, re.M)
    for hardening in ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes"):
        assert hardening in unit


def test_the_worker_hooks_leave_other_wsgi_apps_alone():
    """The shipped gunicorn settings also serve the benchmark's floors (plain WSGI
    callables): the hooks that start and stop tokenauth's threads must not break their
    workers' boot."""
    from types import SimpleNamespace

    from tokenauth.serve.gunicorn_config import post_worker_init, worker_exit

    def plain_app(environ, start_response):
        start_response("204 No Content", [])
        return [b""]

    worker = SimpleNamespace(wsgi=plain_app, pid=1)
    post_worker_init(worker)
    worker_exit(SimpleNamespace(log=None), worker)


def test_the_worker_hooks_find_tokenauth_behind_the_stack_the_servers_run(app):
    """The servers run the app's WSGI stack (tokenauth.serve.wsgi:application), not the
    Flask app: the hooks that start the background threads and flush last-access times on
    a graceful stop must still find its runtime."""
    from tokenauth.serve.workers import app_runtime

    runtime = app.extensions["tokenauth"]
    assert app_runtime(app.wsgi_app) is runtime
    assert app_runtime(app) is runtime
