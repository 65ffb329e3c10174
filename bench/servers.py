"""Starting and stopping the WSGI servers under test, and reading their workers' memory.

tokenauth runs exactly as ``make run`` runs it (``gunicorn -c gunicorn.conf.py``); the
floors run under the same config with only the app named on the command line. The server
study changes the worker class or counts on the command line (or through the config's own
TOKENAUTH_WORKERS / TOKENAUTH_THREADS). ``--no-control-socket``: gunicorn 27 otherwise
makes every instance on the host share ~/.gunicorn/gunicorn.ctl, replacing each other's;
it is not on the request path.
"""
from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .deploy import ROOT, free_port, spawn, stop, wait_for_http

BIN = Path(sys.executable).parent
TOKENAUTH_APP = None  # gunicorn.conf.py names tokenauth's app itself (wsgi:app)
RAW_FLOOR = "bench.floors:raw_app"
FLASK_FLOOR = "bench.floors:flask_app"


@dataclasses.dataclass
class Server:
    name: str
    process: subprocess.Popen
    address: str  # host:port
    log: Path
    stop_signal: int = signal.SIGTERM

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def worker_pids(self) -> list[int]:
        """The master's child processes (the workers), from /proc."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []


def tokenauth_env(database_url: str, instance: Path, secret_key: str, pepper: str,
                  **settings) -> dict:
    """The environment of a tokenauth process: production settings, the bench's secrets,
    and ``settings`` as TOKENAUTH_<NAME> (e.g. verify_cache_ttl=0)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("TOKENAUTH_", "GUNICORN_")) and key != "PROMETHEUS_MULTIPROC_DIR"}
    env.update({
        "TOKENAUTH_ENV": "production",
        "TOKENAUTH_DATABASE_URL": database_url,
        "TOKENAUTH_INSTANCE_PATH": str(instance),
        "TOKENAUTH_SECRET_KEY": secret_key,
        "TOKENAUTH_TOKEN_PEPPER": pepper,
    })
    env.update({f"TOKENAUTH_{key.upper()}": str(value) for key, value in settings.items()})
    return env


def start_gunicorn(name: str, env: dict, work: Path, app: str | None = TOKENAUTH_APP, *,
                   worker_class: str | None = None, workers: int | None = None,
                   threads: int | None = None, config: Path = ROOT / "gunicorn.conf.py") -> Server:
    """gunicorn with the project's config on a free loopback port; ``app`` replaces the
    config's ``wsgi:app``. Returns at once (see :func:`wait_until_up`)."""
    port = free_port()
    env = dict(env, TOKENAUTH_BIND=f"127.0.0.1:{port}",
               PROMETHEUS_MULTIPROC_DIR=str(work / "metrics" / name))
    if workers:
        env["TOKENAUTH_WORKERS"] = str(workers)
    if threads:
        env["TOKENAUTH_THREADS"] = str(threads)
    command = [BIN / "gunicorn", "-c", config, "--no-control-socket"]
    if worker_class:
        command += ["-k", worker_class]
    if app:
        command.append(app)
    log = work / "logs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    return Server(name, spawn(command, log, cwd=ROOT, env=env), f"127.0.0.1:{port}", log)


def start_granian(name: str, env: dict, work: Path, app: str | None = "wsgi:app",
                  workers: int = 2, threads: int | None = None) -> Server:
    """granian in WSGI mode (access log off, its default); ``threads``: its blocking
    threads per worker (granian's default: up to 256). ``app=None``: tokenauth as shipped,
    ``tokenauth serve --server granian`` with TOKENAUTH_WORKERS / _THREADS."""
    port = free_port()
    metrics = work / "metrics" / name
    metrics.mkdir(parents=True, exist_ok=True)
    env = dict(env, PROMETHEUS_MULTIPROC_DIR=str(metrics))
    if app is None:
        env.update(TOKENAUTH_BIND=f"127.0.0.1:{port}", TOKENAUTH_WORKERS=str(workers),
                   TOKENAUTH_THREADS=str(threads or 4))
        command = [BIN / "tokenauth", "serve", "--server", "granian"]
    else:
        command = [BIN / "granian", "--interface", "wsgi", "--workers", str(workers),
                   "--host", "127.0.0.1", "--port", str(port), "--working-dir", ROOT]
        command += ["--blocking-threads", str(threads)] if threads else []
        command.append(app)
    log = work / "logs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    return Server(name, spawn(command, log, cwd=ROOT, env=env), f"127.0.0.1:{port}", log)


def wait_until_up(servers: list[Server], timeout: float = 90) -> None:
    """Wait until every server answers HTTP at all. Raises RuntimeError naming the log of
    one that exited, TimeoutError for one that never answered."""
    for server in servers:
        try:
            wait_for_http(f"{server.url}/healthz", server.process, timeout)
        except (RuntimeError, TimeoutError) as error:
            raise RuntimeError(f"{server.name}: {error}; see {server.log}") from None


def stop_all(servers: list[Server], timeout: float = 20) -> None:
    """Signal every server first (they stop in parallel), then wait for each by PID,
    killing any that does not stop in time."""
    for server in servers:
        if server.process.poll() is None:
            server.process.send_signal(server.stop_signal)
    deadline = time.monotonic() + timeout
    for server in servers:
        try:
            server.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            stop(server.process, signal.SIGKILL, timeout=5)


def scrape(server: Server) -> dict[str, float]:
    """The server's Prometheus counters as ``{'name{labels}': value}`` (empty when
    /metrics does not answer)."""
    try:
        with urllib.request.urlopen(f"{server.url}/metrics", timeout=10) as answer:
            text = answer.read().decode()
    except OSError:
        return {}
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                values[name] = float(value)
            except ValueError:
                pass
    return values


def rss_mib(pid: int) -> float | None:
    """Resident memory of ``pid`` in MiB, or None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
