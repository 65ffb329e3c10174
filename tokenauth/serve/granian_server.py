"""granian as the server (``tokenauth serve --server granian``, TOKENAUTH_SERVER=granian).

granian's own multi-process server (``MPServer``, WSGI interface) with tokenauth's
behaviour under gunicorn: the master checks everything before any worker (preflight), makes
the state the workers share, says where the page is once it listens, and each worker starts
the housekeeping and, on SIGTERM or SIGINT, finishes its requests, then writes the pending
last-access times.

granian has no per-worker hooks (its ``on_startup``/``on_shutdown`` run in the master), so
each worker runs granian's WSGI worker body inside :func:`_tokenauth_worker`; that body
returns only once the worker has stopped serving and its requests are answered. It is a
private part of granian, hence the exact pin (requirements.txt, pyproject's ``granian``
extra).

TOKENAUTH_THREADS is granian's ``blocking_threads``: the Python threads of a worker that run
requests, as gthread's threads do under gunicorn. granian's Rust I/O runs on one runtime
thread per worker (its default).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.log import logger
from granian.server.mp import MPServer, WorkerProcess

from ..startup import EXIT_STATUS, report
from . import preflight, workers
from .options import ServerOptions, bind_address, load_server_options

APP = "tokenauth.serve.wsgi:application"
# The combined log format's fields that granian has, without a query string (it may carry
# anything) or a user (Basic credentials); "-" keeps the byte count's place.
ACCESS_FORMAT = ('%(addr)s - - [%(time)s] "%(method)s %(path)s %(protocol)s" %(status)d - '
                 '"%(header{referer})s" "%(header{user-agent})s"')
LOG_FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s"  # gunicorn's
KEEPALIVE_MS = 75_000  # longer than nginx's upstream keepalive_timeout (60 s): nginx closes
GRACEFUL_SECONDS = 10  # as gunicorn's graceful_timeout: then a worker is killed


def run() -> None:
    """Check, then serve until SIGTERM or SIGINT. Exits with status 2 on any start-up
    problem, before any worker."""
    workers.use_multiprocess_metrics(os.environ)
    problems = preflight.startup_problems()
    options, _ = load_server_options(os.environ)
    address = bind_address(options.bind)
    if not problems and isinstance(address, str):
        problems = preflight.take_unix_socket(address)  # granian does not replace one
    if problems:
        report(problems)
        sys.exit(EXIT_STATUS)
    workers.create_shared_state()  # before the workers start
    server = build_server(options)
    server.on_startup(lambda: announce(options))  # once it listens, before the workers
    server.serve(spawn_target=_tokenauth_worker, target_loader=load_app, wrap_loader=False)


def build_server(options: ServerOptions) -> MPServer:
    address = bind_address(options.bind)
    where = ({"uds": Path(address)} if isinstance(address, str)
             else {"address": address[0], "port": address[1]})
    return MPServer(
        APP, **where,
        interface=Interfaces.WSGI,
        workers=options.workers,
        blocking_threads=options.threads,
        http=HTTPModes.http1,  # nginx speaks HTTP/1.1 to its upstreams
        http1_settings=HTTP1Settings(header_read_timeout=KEEPALIVE_MS),
        websockets=False,
        log_dictconfig=logging_config(options),
        log_access=bool(options.access_log),
        log_access_format=ACCESS_FORMAT,
        respawn_failed_workers=True,  # as gunicorn: a crashed worker is replaced
        workers_kill_timeout=GRACEFUL_SECONDS,
    )


def logging_config(options: ServerOptions) -> dict:
    """granian's logging (each worker applies it too): its messages on standard error in
    gunicorn's shape, and the access log where TOKENAUTH_ACCESS_LOG says, without allowed
    /verify answers unless TOKENAUTH_ACCESS_LOG_VERIFY."""
    if options.access_log == "-":
        access = {"class": "logging.StreamHandler", "stream": "ext://sys.stdout"}
    else:
        access = {"class": "logging.FileHandler", "filename": options.access_log or os.devnull}
    access_filters = [] if options.access_log_verify else ["verify_allows"]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "generic": {"format": LOG_FORMAT, "datefmt": "%Y-%m-%d %H:%M:%S %z"},
            "access": {"format": "%(message)s"},
        },
        "filters": {"verify_allows": {"()": "tokenauth.serve.access_log.WithoutVerifyAllows"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "generic",
                        "stream": "ext://sys.stderr"},
            "access": {**access, "formatter": "access", "filters": access_filters},
        },
        "loggers": {
            "_granian": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "granian.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }


def announce(options: ServerOptions) -> None:
    for line in preflight.ready_lines(bind_address(options.bind)):
        logger.info(line)


def load_app():
    """Called in each worker: its own tokenauth app."""
    from .wsgi import application
    return application


_serve_wsgi = MPServer._spawn_wsgi_worker.__wrapped__  # granian's WSGI worker body


@WorkerProcess.wrap_target
def _tokenauth_worker(worker_id, app, *args):
    """A granian WSGI worker with tokenauth's start and graceful stop around it."""
    workers.worker_started(app)
    try:
        _serve_wsgi(worker_id, app, *args)
    finally:
        workers.worker_stopping(app, logger)
        workers.mark_worker_dead(os.getpid())
