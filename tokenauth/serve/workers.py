"""What every server (gunicorn or granian) does around its workers: the state they share,
made by the master before any worker exists, and each worker's start and graceful stop.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile

from ..security.shared_memory import create_counter_folder


def use_multiprocess_metrics(environ) -> None:
    """Workers add up their metrics in files of one folder (prometheus_client's
    multiprocess mode), named before any metric exists. The master may have imported
    prometheus_client already (``tokenauth serve`` runs inside the CLI), so its choice of
    value class is made again."""
    if not environ.get("PROMETHEUS_MULTIPROC_DIR"):
        environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tokenauth-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = environ["PROMETHEUS_MULTIPROC_DIR"]
    from prometheus_client import values

    values.ValueClass = values.get_value_class()


def create_shared_state() -> None:
    """In the master, before any worker: an empty metrics folder (values of an earlier run
    do not count) and the failure counts this server's workers share."""
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)
    create_counter_folder()


def app_runtime(app):
    """The tokenauth runtime of a WSGI ``app`` (the Flask app or its stack, which the /verify
    endpoint fronts); None when the app is not tokenauth (the benchmark's floors run under
    the same settings)."""
    app = getattr(app, "flask_app", app)
    extensions = getattr(app, "extensions", None)
    return extensions.get("tokenauth") if isinstance(extensions, dict) else None


def worker_started(app) -> None:
    """Each worker delivers alerts and runs the sweeps in a thread of its own."""
    runtime = app_runtime(app)
    if runtime is not None:
        runtime.start_background()


def worker_stopping(app, log: logging.Logger) -> None:
    """Graceful stop: write the coalesced last-access times before the worker goes."""
    runtime = app_runtime(app)
    if runtime is None:
        return
    try:
        written = runtime.flush_last_access()
        runtime.close()
        log.info("flushed %d pending last-access writes", written)
    except Exception as error:  # the database may be gone; never block the shutdown
        log.warning("could not flush last-access writes: %s", error.__class__.__name__)


def mark_worker_dead(pid: int) -> None:
    """prometheus_client drops the live values of a worker that is gone."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)
