"""The /verify store on PostgreSQL: exactly one database round trip per uncached lookup,
and a dropped connection replaced and retried once. (Failing closed when the database is
gone: tests/verify/test_unavailable.py.)"""
import tempfile
from datetime import datetime, timezone

import psycopg
import pytest
from psycopg import pq

from ..helpers import bearer


@pytest.fixture
def backend():
    """Round trips and dropped connections are network matters: PostgreSQL only."""
    return "postgresql"


@pytest.fixture
def uncached(make_app, make_user, make_token):
    """An app without a cache whose token was used once (so no last-access write is due)."""
    app = make_app(verify_cache_ttl=0, last_access_resolution=3600)
    token = make_token(make_user("alice")).raw
    client = app.test_client()
    assert client.get("/verify", headers=bearer(token)).status_code == 200
    return app, client, token


def this_threads_connection(app):
    return app.extensions["tokenauth"].store._local.connection


class ProtocolTrace:
    """libpq's own trace of the connection: every message to and from the server."""

    def __init__(self, connection):
        self.connection = connection
        self.file = tempfile.TemporaryFile()

    def __enter__(self):
        self.connection.pgconn.trace(self.file.fileno())
        self.connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        return self

    def __exit__(self, *exc):
        self.connection.pgconn.untrace()

    def round_trips(self) -> int:
        """Completed round trips: the server ends each with exactly one ReadyForQuery."""
        self.file.seek(0)
        lines = self.file.read().decode().splitlines()
        return sum(1 for line in lines if line.split()[:1] == ["B"] and "ReadyForQuery" in line)


def test_an_uncached_lookup_is_one_round_trip(uncached):
    app, client, token = uncached
    with ProtocolTrace(this_threads_connection(app)) as trace:
        for _ in range(5):
            assert client.get("/verify", headers=bearer(token)).status_code == 200
    assert trace.round_trips() == 5


def test_an_unknown_token_is_one_round_trip_too(uncached):
    from tokenauth.security.tokens import generate
    app, client, _ = uncached
    with ProtocolTrace(this_threads_connection(app)) as trace:
        assert client.get("/verify", headers=bearer(generate("tka"))).status_code == 401
    assert trace.round_trips() == 1


def test_a_dropped_connection_is_replaced_and_the_lookup_retried(uncached,
                                                                 postgres_server_url):
    app, client, token = uncached
    backend_pid = this_threads_connection(app).info.backend_pid
    admin = postgres_server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute("SELECT pg_terminate_backend(%s)", (backend_pid,))
    assert client.get("/verify", headers=bearer(token)).status_code == 200
    assert this_threads_connection(app).info.backend_pid != backend_pid


@pytest.mark.parametrize("prepared_before", [False, True], ids=["on-prepare", "on-execute"])
def test_a_lookup_the_server_refuses_fails_closed_then_recovers(make_app, make_user,
                                                                make_token, prepared_before):
    """The server answers with an error (here: a column the statement names is gone), at
    preparation or at execution of the prepared statement: 503, never an allow or a 500;
    once the schema is back, the next lookup is allowed again."""
    from sqlalchemy import text

    from tokenauth.extensions import db

    app = make_app(verify_cache_ttl=0)
    token = make_token(make_user("alice")).raw
    client = app.test_client()
    if prepared_before:
        assert client.get("/verify", headers=bearer(token)).status_code == 200

    def rename(old, new):
        with app.app_context(), db.engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE users RENAME COLUMN {old} TO {new}"))

    rename("source", "source_away")
    try:
        response = client.get("/verify", headers=bearer(token))
        assert (response.status_code, response.headers.get("X-Auth-Error")) == (503, "unavailable")
        assert "X-Auth-User" not in response.headers
    finally:
        rename("source_away", "source")
    assert client.get("/verify", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("stored, expected", [
    ("2026-01-02 03:04:05.123456", datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc)),
    ("2026-01-02T03:04:05+02:00", datetime(2026, 1, 2, 1, 4, 5, tzinfo=timezone.utc)),
    (None, None),
])
def test_stored_times_read_back_as_aware_utc_every_time(stored, expected):
    """SQLite hands back text, remembered per text: the second reading must be the first."""
    from tokenauth.verify.store import _aware
    assert _aware(stored) == expected and _aware(stored) == expected
    if expected is not None:
        assert _aware(stored).tzinfo == timezone.utc
