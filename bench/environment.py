"""What the numbers were measured on: versions, cores, load, settings (for the JSON)."""
from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import platform
import sqlite3
import subprocess
import sys

from sqlalchemy import create_engine, make_url, text

from .deploy import ROOT
from .knobs import Knobs

PACKAGES = ("gunicorn", "Flask", "Werkzeug", "SQLAlchemy", "psycopg", "granian", "gevent",
            "prometheus_client", "matplotlib")
GUNICORN_SETTINGS = ("workers", "threads", "worker_class", "keepalive", "accesslog",
                     "access_log_format", "timeout", "worker_connections")


def _output(command: list, **kwargs) -> str:
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=30, **kwargs)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (completed.stdout + completed.stderr).strip()


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _postgres_version(url: str) -> str | None:
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            return connection.execute(text("SHOW server_version")).scalar_one()
    except Exception:  # noqa: BLE001 - not reachable: no version to record
        return None
    finally:
        engine.dispose()


def gunicorn_settings(work) -> dict:
    """The settings gunicorn takes from gunicorn.conf.py here (``--print-config``)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TOKENAUTH_")}
    env["PROMETHEUS_MULTIPROC_DIR"] = str(work / "metrics" / "print-config")
    printed = _output([os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-c",
                       str(ROOT / "gunicorn.conf.py"), "--print-config"], env=env, cwd=ROOT)
    settings = {}
    for line in printed.splitlines():
        name, _, value = line.partition("=")
        if name.strip() in GUNICORN_SETTINGS:
            settings[name.strip()] = value.strip()
    return settings


def describe(knobs: Knobs, work) -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    commit = _output(["git", "rev-parse", "HEAD"], cwd=ROOT)
    dirty = bool(_output(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT))
    return {
        "cores": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "load_average": os.getloadavg(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "nginx": _output(["nginx", "-v"]).replace("nginx version: ", ""),
        "wrk": _output(["wrk", "--version"]).split(" [")[0],
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(knobs.postgres_url),
        "packages": {name: _version(name) for name in PACKAGES},
        "git_commit": commit + ("-dirty" if dirty else ""),
        "gunicorn_shipped": gunicorn_settings(work),
        "knobs": dict(dataclasses.asdict(knobs), postgres_url=make_url(
            knobs.postgres_url).render_as_string(hide_password=True)),
    }
