"""Real processes for tests: gunicorn from ``gunicorn.conf.py`` or granian from ``tokenauth
serve --server granian``, torn down by PID. ``tokenauth_server`` is the one the end-to-end
stack runs: gunicorn, or granian with ``TOKENAUTH_TEST_SERVER=granian``.

The process helpers (spawn, stop, free ports, waiting) are deploy/demo.py's: ``make demo``
and the tests start the same topology the same way.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKENAUTH = Path(sys.executable).parent / "tokenauth"  # the console script of this venv


def _load_demo():
    spec = importlib.util.spec_from_file_location("tokenauth_deploy_demo",
                                                  ROOT / "deploy" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


demo = _load_demo()
stop, free_port, wait_for_http = demo.stop, demo.free_port, demo.wait_for_http


SECRET_ADVICE = "needs at least 32 random characters (e.g. openssl rand -hex 32)"
# Production without secrets and a worker count that is no number: every problem at once.
BROKEN_SETTINGS = {"TOKENAUTH_ENV": "production", "TOKENAUTH_WORKERS": "two"}
BROKEN_SETTINGS_PROBLEMS = [
    f"Error: TOKENAUTH_SECRET_KEY is not set: TOKENAUTH_ENV=production {SECRET_ADVICE}",
    f"Error: TOKENAUTH_TOKEN_PEPPER is not set: TOKENAUTH_ENV=production {SECRET_ADVICE}",
    "Error: TOKENAUTH_WORKERS='two' is not valid: expected a whole number",
]


def problems(stderr: str) -> list[str]:
    """The lines of a server's standard error that are not its own log lines."""
    return [line for line in stderr.splitlines() if not line.startswith("[")]


def clean_env(**variables) -> dict:
    """This environment without any TOKENAUTH_* setting, the metrics folder or this venv on
    PATH (so messages name the console script by its path), plus ``variables``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TOKENAUTH_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env["PATH"] = os.pathsep.join(part for part in env.get("PATH", "").split(os.pathsep)
                                  if part and Path(part).resolve() != TOKENAUTH.parent.resolve())
    env.update(variables)
    return env


def run_tokenauth(*args, env: dict, cwd: Path, input: str | None = None,
                  script: Path = TOKENAUTH) -> subprocess.CompletedProcess:
    """Run the console script as a user would; text output, at most 60 s."""
    return subprocess.run([str(script), *args], env=env, cwd=cwd, input=input, text=True,
                          capture_output=True, timeout=60)


def tokenauth_env(database_url: str, instance_path: Path, **settings) -> dict:
    """Environment for a tokenauth process: the test database and fixed secrets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENAUTH_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update({
        "TOKENAUTH_ENV": "testing",
        "TOKENAUTH_DATABASE_URL": database_url,
        "TOKENAUTH_INSTANCE_PATH": str(instance_path),
        "TOKENAUTH_SECRET_KEY": "test-secret-key-" + "x" * 32,
        "TOKENAUTH_TOKEN_PEPPER": "test-pepper-" + "y" * 32,
    })
    # No sweeps: a server's jittered sweep would change events and tokens that the tests
    # sharing its database are counting (a shared stack pruned a sweeper test's events).
    settings.setdefault("sweep_interval", 0)
    env.update({f"TOKENAUTH_{key.upper()}": str(value) for key, value in settings.items()})
    return env


@contextlib.contextmanager
def gunicorn(env: dict, log_dir: Path, workers: int = 2):
    """Run tokenauth under gunicorn with the project's config on a free loopback port,
    logging to ``log_dir``/tokenauth.log and tokenauth.access.log.

    Yields ``(base_url, process)``; stops it with SIGTERM (graceful) on exit.
    """
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    with _serving(demo.start_gunicorn(env, f"127.0.0.1:{port}", log_dir, workers), port) as up:
        yield up


@contextlib.contextmanager
def granian(env: dict, log_dir: Path, workers: int = 2):
    """Run tokenauth under granian (``tokenauth serve --server granian``) on a free loopback
    port, logging to ``log_dir``/tokenauth.log and tokenauth.access.log, like :func:`gunicorn`.

    Yields ``(base_url, process)``; stops it with SIGTERM (graceful) on exit.
    """
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    env = dict(env, TOKENAUTH_BIND=f"127.0.0.1:{port}", TOKENAUTH_WORKERS=str(workers),
               TOKENAUTH_ACCESS_LOG=str(log_dir / "tokenauth.access.log"),
               PROMETHEUS_MULTIPROC_DIR=str(log_dir.parent / "metrics"))
    process = demo.spawn([TOKENAUTH, "serve", "--server", "granian"],
                         log_dir / "tokenauth.log", cwd=ROOT, env=env)
    with _serving(process, port) as up:
        yield up


@contextlib.contextmanager
def _serving(process, port: int):
    """``(base_url, process)`` once it answers; stopped with SIGTERM (graceful) on exit."""
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base_url + "/healthz", process)
        yield base_url, process
    finally:
        stop(process)


SERVERS = {"gunicorn": gunicorn, "granian": granian}


def selected_server() -> str:
    """The server the end-to-end stack runs: TOKENAUTH_TEST_SERVER, gunicorn by default."""
    name = os.environ.get("TOKENAUTH_TEST_SERVER", "gunicorn")
    if name not in SERVERS:
        raise ValueError(f"TOKENAUTH_TEST_SERVER={name!r}: use one of {', '.join(SERVERS)}")
    return name


def tokenauth_server(env: dict, log_dir: Path, workers: int = 2):
    """:func:`gunicorn` or :func:`granian`, as TOKENAUTH_TEST_SERVER says."""
    return SERVERS[selected_server()](env, log_dir, workers)
