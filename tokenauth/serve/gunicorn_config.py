"""tokenauth's gunicorn settings: what ``tokenauth serve`` runs, and what the repository's
``gunicorn.conf.py`` turns into a config file's names (``gunicorn -c gunicorn.conf.py``).

gthread workers keep nginx's upstream connections alive (sync workers close after every
request). TOKENAUTH_BIND / _WORKERS / _THREADS / _ACCESS_LOG choose where and how many.
"""
from __future__ import annotations

import os
import shutil
import tempfile

from ..security.shared_memory import create_counter_folder
from . import preflight
from .options import load_server_options


def settings(environ) -> dict:
    """gunicorn's settings by name. Invalid server variables fall back to the defaults
    here; the master's ``on_starting`` reports them and stops."""
    options, _ = load_server_options(environ)
    use_multiprocess_metrics(environ)
    return {
        "wsgi_app": "tokenauth.serve.wsgi:app",
        "proc_name": "tokenauth",
        "bind": [options.bind],
        "workers": options.workers,
        "threads": options.threads,
        "worker_class": "gthread",
        "keepalive": 75,  # longer than nginx's upstream keepalive_timeout (60 s): nginx closes
        "graceful_timeout": 10,
        "timeout": 30,
        "accesslog": options.access_log,
        # One line per request except allowed /verify answers, which nginx logs already
        # (tokenauth/serve/access_log.py says what that costs).
        "logger_class": ("tokenauth.serve.access_log.AccessLoggerWithVerify"
                         if options.access_log_verify else
                         "tokenauth.serve.access_log.AccessLogger"),
        # gunicorn's default format without %(u)s, which writes the part of a Basic
        # credential before its first colon: a username, or the whole secret when there is
        # no colon. "-" keeps the field, so the lines still parse as the combined log format.
        "access_log_format": '%(h)s %(l)s - %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"',
        "errorlog": "-",
        # gunicorn 25.1+ opens a control socket at one path per user ($XDG_RUNTIME_DIR or
        # ~/.gunicorn/gunicorn.ctl) shared by every instance: a second start deletes the
        # first one's. tokenauth needs none (signals do the same), so there is none.
        "control_socket_disable": True,
        "on_starting": on_starting,
        "when_ready": preflight.announce,
        "post_worker_init": post_worker_init,
        "child_exit": child_exit,
        "worker_exit": worker_exit,
    }


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


def on_starting(server):
    preflight.check(server)  # exits with status 2 on any problem, before any worker
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(folder, ignore_errors=True)  # values of an earlier run do not count
    os.makedirs(folder, exist_ok=True)
    create_counter_folder()  # failure counts shared by this server's workers, before they fork


def worker_runtime(worker):
    """The tokenauth runtime of ``worker``'s app; None when the app is not tokenauth (the
    benchmark's floors run under these same settings)."""
    extensions = getattr(getattr(worker, "wsgi", None), "extensions", None)
    return extensions.get("tokenauth") if isinstance(extensions, dict) else None


def post_worker_init(worker):
    """Each worker delivers alerts and runs the sweeps in a thread of its own."""
    runtime = worker_runtime(worker)
    if runtime is not None:
        runtime.start_background()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def worker_exit(server, worker):
    """Graceful stop: write the coalesced last-access times before the worker goes."""
    runtime = worker_runtime(worker)
    if runtime is None:
        return
    try:
        written = runtime.flush_last_access()
        runtime.close()
        server.log.info("flushed %d pending last-access writes", written)
    except Exception as error:  # the database may be gone; never block the shutdown
        server.log.warning("could not flush last-access writes: %s", error.__class__.__name__)

