"""Every DBAPI call a SQLAlchemy engine makes, under the client-side deadline.

SQLAlchemy has events before a statement, but nothing that ends with a commit, with the
pool's pre-ping or with its rollback when a connection is returned, and each of those
waits on the server too. All of them go through a handful of the dialect's methods, so
the engine's own dialect object (one per engine) gets those methods wrapped.
"""
from __future__ import annotations

import functools

from sqlalchemy.engine import Engine

from .deadline import deadline

_CURSOR_CALLS = ("do_execute", "do_executemany", "do_execute_no_params")
_CONNECTION_CALLS = ("do_commit", "do_rollback", "do_ping")  # also the pool's own calls


def guard_engine(engine: Engine, seconds: float) -> None:
    """Give each statement, commit, rollback and pre-ping of ``engine`` a deadline of
    ``seconds``: a call still waiting then fails with the driver's OperationalError, which
    SQLAlchemy raises as its own and answers by discarding the broken connection."""
    dialect = engine.dialect
    for name in _CURSOR_CALLS:
        setattr(dialect, name, _bounded(getattr(dialect, name), seconds, _cursor_connection))
    for name in _CONNECTION_CALLS:
        setattr(dialect, name, _bounded(getattr(dialect, name), seconds, _dbapi_connection))


def _bounded(call, seconds: float, connection_of):
    @functools.wraps(call)
    def bounded(target, *args, **kwargs):
        connection = connection_of(target)
        if connection is None:  # invalidated: the call fails at once by itself
            return call(target, *args, **kwargs)
        with deadline(connection, seconds):
            return call(target, *args, **kwargs)

    return bounded


def _cursor_connection(cursor):
    return cursor.connection


def _dbapi_connection(connection):
    # SQLAlchemy passes either the pool's proxy or the DBAPI connection itself.
    return getattr(connection, "dbapi_connection", connection)
