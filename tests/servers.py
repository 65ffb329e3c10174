"""Real processes for tests: gunicorn from ``gunicorn.conf.py``, torn down by PID."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from .helpers import free_port, wait_for_http

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


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
    env.update({f"TOKENAUTH_{key.upper()}": str(value) for key, value in settings.items()})
    return env


def stop(process: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 15) -> int:
    """Stop a process we started, by its PID; kill it if it does not stop in time."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    return process.returncode


@contextlib.contextmanager
def gunicorn(env: dict, workers: int = 2, log_path: Path | None = None):
    """Run tokenauth under gunicorn with the project's config on a free loopback port.

    Yields ``(base_url, process)``; stops it with SIGTERM (graceful) on exit.
    """
    port = free_port()
    env = dict(env, TOKENAUTH_BIND=f"127.0.0.1:{port}", TOKENAUTH_WORKERS=str(workers),
               TOKENAUTH_ACCESS_LOG=str(log_path.with_suffix(".access.log")) if log_path else "-")
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py")],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base_url + "/healthz", process)
        yield base_url, process
    finally:
        stop(process)
        if log_path:
            log.close()
