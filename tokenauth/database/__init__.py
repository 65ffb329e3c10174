"""Binding the database: engine options per backend, bounded calls, and migrations.

``TOKENAUTH_DATABASE_TIMEOUT`` bounds every wait on the database, so a hung, locked or
unreachable database becomes an error (503) within seconds instead of holding a thread:
PostgreSQL gets a ``statement_timeout``, TCP keepalives and ``tcp_user_timeout``, SQLite a
busy timeout, the pool a checkout timeout, and each call a client-side deadline
(``deadline.py``) for a server that has gone silent.
"""
from __future__ import annotations

import math
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import make_url

from ..extensions import db, migrate
from .guard import guard_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# libpq's smallest connect timeout; a connect on a working network takes milliseconds.
CONNECT_TIMEOUT = 2
# The client gives up this long after the server's statement_timeout, so a slow but live
# server cancels the statement itself and the connection stays usable.
SERVER_FIRST = 0.5


def call_deadline(timeout: float) -> float:
    """Seconds a single DBAPI call may take before the client breaks its connection."""
    return timeout + SERVER_FIRST


def connect_args(url: str, timeout: float) -> dict:
    """Keyword arguments for the driver's ``connect()`` that bound its waits by ``timeout``
    seconds. Parameters already in the URL's query string are kept as they are."""
    if not url.startswith("postgresql"):
        return {"timeout": timeout}  # sqlite3: how long a write waits for a lock
    query = make_url(url).query
    args = {
        "connect_timeout": CONNECT_TIMEOUT,
        # An idle connection to a host that vanished is noticed within timeout + 3 s.
        "keepalives": 1,
        "keepalives_idle": max(1, math.ceil(timeout)),
        "keepalives_interval": 1,
        "keepalives_count": 3,
        # Sent data unacknowledged this long (a partition) closes the connection.
        "tcp_user_timeout": int(timeout * 1000),
    }
    args = {name: value for name, value in args.items() if name not in query}
    server_side = f"-c statement_timeout={int(timeout * 1000)}"
    args["options"] = f"{server_side} {query['options']}" if "options" in query else server_side
    return args


def engine_options(url: str, timeout: float, pool_size: int) -> dict:
    """SQLAlchemy engine options for ``url`` with waits bounded by ``timeout`` seconds;
    pair the engine with ``guard_engine`` for the per-call deadline. On PostgreSQL the
    pool keeps ``pool_size`` connections and opens at most as many again for a burst, so
    an operator can count a worker's connections against ``max_connections``."""
    # hide_parameters: a failing statement's values (hashes, addresses) stay out of logs.
    options = {"pool_pre_ping": True, "hide_parameters": True,
               "connect_args": connect_args(url, timeout)}
    if url.startswith("postgresql"):
        options["pool_timeout"] = timeout  # waiting for a free pooled connection
        options["pool_size"] = options["max_overflow"] = pool_size
    return options


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets gunicorn's workers read while one writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def init_app(app, settings) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    timeout = settings.database_timeout
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS",
                          engine_options(url, timeout, settings.database_pool_size))
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    with app.app_context():
        guard_engine(db.engine, call_deadline(timeout))
        if url.startswith("sqlite"):
            event.listen(db.engine, "connect", _sqlite_pragmas)


def expected_revisions() -> set:
    """The schema revisions this code expects (the heads of its migrations)."""
    return set(ScriptDirectory(str(MIGRATIONS)).get_heads())


def schema_revisions(connection) -> tuple[set, set]:
    """(the schema revisions the database is at, the ones this code expects); the first is
    empty for a database without tokenauth's tables."""
    return set(MigrationContext.configure(connection).get_current_heads()), expected_revisions()
