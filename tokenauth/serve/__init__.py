"""The production server: gunicorn (the default) or granian with tokenauth's settings
(``tokenauth serve``, TOKENAUTH_SERVER).

``gunicorn_config`` holds gunicorn's settings and hooks, ``granian_server`` granian's,
``workers`` what both do around their workers, ``preflight`` what the master checks before
any worker boots and what it says once it listens, ``options`` the server's own variables,
``wsgi`` the WSGI entry. The repository's ``gunicorn.conf.py`` and ``wsgi.py`` load these,
so ``gunicorn -c gunicorn.conf.py`` runs the same server.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from gunicorn.app.base import BaseApplication

from .options import load_server_options


class TokenauthServer(BaseApplication):
    """gunicorn fed with tokenauth's settings instead of a command line or config file."""

    def __init__(self, settings: dict):
        self.settings = settings
        super().__init__(prog="tokenauth serve")

    def load_config(self):
        for name, value in self.settings.items():
            self.cfg.set(name, value)

    def load(self):
        from .wsgi import application
        return application


GRANIAN = "granian==2.8.7"  # the version granian_server is written against (requirements.txt)


def run(bind: str | None = None, workers: int | None = None, threads: int | None = None,
        server: str | None = None):
    """Serve until stopped. The arguments win over TOKENAUTH_BIND / _WORKERS / _THREADS /
    _SERVER; they are written to the environment, which the master's checks and the
    workers read. Exits with status 2 when granian is asked for and not installed."""
    for name, value in (("BIND", bind), ("WORKERS", workers), ("THREADS", threads),
                        ("SERVER", server)):
        if value is not None:
            os.environ[f"TOKENAUTH_{name}"] = str(value)
    if load_server_options(os.environ)[0].server == "granian":
        if importlib.util.find_spec("granian") is None:
            from ..startup import EXIT_STATUS, report
            pip = Path(sys.executable).parent / "pip"
            report([f"TOKENAUTH_SERVER=granian: granian is not installed; install it with "
                    f"`{pip} install {GRANIAN}`"])
            sys.exit(EXIT_STATUS)
        from . import granian_server
        granian_server.run()
        return
    # Anything else is gunicorn; with invalid server variables the options are the defaults,
    # and gunicorn's master reports them and stops.
    from . import gunicorn_config
    TokenauthServer(gunicorn_config.settings(os.environ)).run()
