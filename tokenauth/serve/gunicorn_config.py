"""tokenauth's gunicorn settings: what ``tokenauth serve`` runs, and what the repository's
``gunicorn.conf.py`` turns into a config file's names (``gunicorn -c gunicorn.conf.py``).

gthread workers keep nginx's upstream connections alive (sync workers close after every
request). TOKENAUTH_BIND / _WORKERS / _THREADS / _ACCESS_LOG choose where and how many.
"""
from __future__ import annotations

from . import preflight, workers
from .options import load_server_options


def settings(environ) -> dict:
    """gunicorn's settings by name. Invalid server variables fall back to the defaults
    here; the master's ``on_starting`` reports them and stops."""
    options, _ = load_server_options(environ)
    workers.use_multiprocess_metrics(environ)
    return {
        "wsgi_app": "tokenauth.serve.wsgi:application",
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


def on_starting(server):
    preflight.check(server)  # exits with status 2 on any problem, before any worker
    workers.create_shared_state()  # before the workers fork


def post_worker_init(worker):
    workers.worker_started(getattr(worker, "wsgi", None))


def child_exit(server, worker):
    workers.mark_worker_dead(worker.pid)


def worker_exit(server, worker):
    workers.worker_stopping(getattr(worker, "wsgi", None), server.log)
