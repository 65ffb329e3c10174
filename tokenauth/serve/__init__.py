"""The production server: gunicorn with tokenauth's settings (``tokenauth serve``).

``gunicorn_config`` holds the settings and hooks, ``preflight`` what the master checks
before any worker boots and what it says once it listens, ``options`` the server's own
variables, ``wsgi`` the WSGI entry. The repository's ``gunicorn.conf.py`` and ``wsgi.py``
load these, so ``gunicorn -c gunicorn.conf.py`` runs the same server.
"""
from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication


class TokenauthServer(BaseApplication):
    """gunicorn fed with tokenauth's settings instead of a command line or config file."""

    def __init__(self, settings: dict):
        self.settings = settings
        super().__init__(prog="tokenauth serve")

    def load_config(self):
        for name, value in self.settings.items():
            self.cfg.set(name, value)

    def load(self):
        from .wsgi import app
        return app


def run(bind: str | None = None, workers: int | None = None, threads: int | None = None):
    """Serve until stopped. The arguments win over TOKENAUTH_BIND / _WORKERS / _THREADS; they
    are written to the environment, which the master's checks and the workers read."""
    for name, value in (("BIND", bind), ("WORKERS", workers), ("THREADS", threads)):
        if value is not None:
            os.environ[f"TOKENAUTH_{name}"] = str(value)
    from . import gunicorn_config
    TokenauthServer(gunicorn_config.settings(os.environ)).run()
