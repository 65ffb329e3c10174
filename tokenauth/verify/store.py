"""The /verify path's own database access: one round trip per lookup, no ORM, no pool.

Each request thread keeps one DBAPI connection of its own, opened through the app's engine
(so it gets the same connect arguments and SQLite pragmas) and then detached from its pool.
granian's request threads come and go (an idle one exits after 30 s), and each left its
connection open: so a thread's first lookup closes the connections of threads that have
ended (Linux tells which by ``/proc/self/task``). Not at the thread's own end: closing a
connection from the finalizer of a granian thread's locals crashed the worker.
It runs in autocommit mode, so a lookup is exactly one round trip: no pool pre-ping, no
BEGIN/ROLLBACK pair, and on PostgreSQL a prepared statement, run at libpq's level
(:class:`PreparedLookup`). A connection that turns out to be dead is noticed on use,
replaced, and the statement retried once; any other database failure raises
:class:`DatabaseUnavailable`, which /verify answers with 503 (fail closed).
"""
from __future__ import annotations

import functools
import ipaddress
import json
import os
import threading
from datetime import datetime, timezone
from typing import NamedTuple

import psycopg
from psycopg import pq
from psycopg.adapt import Transformer
from psycopg.types.string import TextLoader
from sqlalchemy.exc import SQLAlchemyError

from .. import process
from ..database.deadline import arm, deadline, disarm
from ..errors import DatabaseUnavailable

from .routes import RouteRules, compile_rules


_COLUMNS = ("t.id, t.token_hash, t.user_id, u.username, u.source, u.active, t.expires_at, "
            "t.revoked_at, t.scopes, t.allowed_origins, t.last_accessed_at, "
            "t.last_accessed_origin, t.routes, t.canary")
SNAPSHOT_SQL = (f"SELECT {_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id "
                "WHERE t.token_hash = {p}")
# Never moves the stored time backwards; with ``due`` the write is skipped when another
# worker stored a use from the same origin within the resolution (0 rows changed).
RECORD_SQL = ("UPDATE api_tokens SET last_accessed_at = {p}, last_accessed_origin = {p} "
              "WHERE id = {p} AND (last_accessed_at IS NULL OR last_accessed_at < {p}) "
              "AND (last_accessed_at IS NULL OR last_accessed_at <= {p} "
              "OR COALESCE(last_accessed_origin, '') <> {p})")
# A use from a known origin: moves its last_seen_at forward (never back). 0 rows: the origin
# is new to the token (``services.origins.record_new`` adds it).
TOUCH_ORIGIN_SQL = ("UPDATE token_origins SET last_seen_at = CASE WHEN last_seen_at < {p} "
                    "THEN {p} ELSE last_seen_at END WHERE token_id = {p} AND origin = {p}")


class TokenSnapshot(NamedTuple):  # a tuple: immutable (cached, shared) and quick to make
    """What /verify needs about a token and its owner: one row, cacheable per worker."""

    token_id: str
    token_hash: str
    user_id: str
    username: str
    source: str
    user_active: bool
    expires_at: datetime | None
    revoked_at: datetime | None
    scopes: tuple
    allowed_origins: tuple  # parsed networks, once per lookup; empty: any origin
    last_accessed_at: datetime | None
    last_accessed_origin: str | None
    routes: RouteRules | None = None  # compiled once per lookup; None: not restricted
    canary: bool = False  # refused like an unknown token (SPEC 3)


class TokenStore:
    """Token lookups and last-access writes for /verify, on per-thread connections."""

    def __init__(self, engine, call_seconds: float):
        self.engine = engine
        self.call_seconds = call_seconds  # the client-side deadline of each statement
        self.postgres = engine.dialect.name == "postgresql"
        placeholder = "%s" if self.postgres else "?"
        self.snapshot_sql = SNAPSHOT_SQL.format(p=placeholder)
        self.record_sql = RECORD_SQL.format(p=placeholder)
        self.touch_origin_sql = TOUCH_ORIGIN_SQL.format(p=placeholder)
        self._errors = engine.dialect.dbapi.Error
        self._stale = (engine.dialect.dbapi.OperationalError, engine.dialect.dbapi.InterfaceError)
        self._local = threading.local()
        self._open: dict[tuple, object] = {}  # (pid, native thread id) -> its connection
        self._lock = threading.Lock()
        self._sweeps = process.can_tell_ended_threads()

    # -- statements --------------------------------------------------------------------
    def snapshot(self, token_hash: str) -> TokenSnapshot | None:
        """The token whose hash is ``token_hash`` with its owner, or None.

        Raises DatabaseUnavailable."""
        row = self._run(self._lookup, token_hash)
        return None if row is None else self._decode(row)

    def _lookup(self, connection, token_hash: str):
        if self.postgres:
            return self._local.prepared.fetchone(token_hash)
        return connection.execute(self.snapshot_sql, (token_hash,)).fetchone()

    def record_access(self, token_id: str, at: datetime, origin: str | None,
                      resolution_seconds: float | None = None) -> bool:
        """Store a use of ``token_id``. With ``resolution_seconds``, skip it when the stored
        use is from the same origin and within that many seconds. Returns whether a row was
        written. Raises DatabaseUnavailable."""
        cutoff = at.timestamp() - (resolution_seconds or 0)
        stale_before = datetime.fromtimestamp(cutoff, timezone.utc) if resolution_seconds else at
        params = (self._time(at), origin, token_id, self._time(at), self._time(stale_before),
                  origin or "")
        return self._run(self._execute, self.record_sql, params) > 0

    def touch_origin(self, token_id: str, origin: str, at: datetime) -> bool:
        """Move the last use of ``token_id`` from the known ``origin`` to ``at``. Returns
        False when the origin is not known for the token. Raises DatabaseUnavailable."""
        params = (self._time(at), self._time(at), token_id, origin)
        return self._run(self._execute, self.touch_origin_sql, params) > 0

    def _execute(self, connection, sql, params) -> int:
        if self.postgres:
            return connection.execute(sql, params, prepare=True).rowcount
        return connection.execute(sql, params).rowcount

    # -- connections -------------------------------------------------------------------
    def _run(self, statement, *args):
        """Run ``statement(connection, *args)`` within the call deadline. A connection found
        dead on use is replaced and the statement retried once. Raises DatabaseUnavailable."""
        for attempt in (1, 2):
            connection, fresh = self._connection()
            alarm = arm(connection, self.call_seconds)  # deadline() without its generator
            try:
                try:
                    return statement(connection, *args)
                finally:
                    disarm(alarm)  # before a broken connection is closed below
            except self._errors as error:
                self._discard()
                if attempt == 2 or fresh or not isinstance(error, self._stale):
                    raise DatabaseUnavailable(error.__class__.__name__) from error

    def _connection(self):
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            return connection, False
        self._close_ended_threads()
        try:
            proxied = self.engine.raw_connection()
            proxied.detach()
        except (SQLAlchemyError, self._errors) as error:  # the pool does not wrap these
            raise DatabaseUnavailable(error.__class__.__name__) from error
        connection = proxied.dbapi_connection
        try:
            if self.postgres:
                with deadline(connection, self.call_seconds):
                    connection.rollback()  # the pool's first-connect checks may have begun one
                connection.autocommit = True
                self._local.prepared = PreparedLookup(connection, SNAPSHOT_SQL.format(p="$1"))
            else:
                connection.isolation_level = None  # autocommit: a write is its own transaction
        except self._errors as error:
            connection.close()
            raise DatabaseUnavailable(error.__class__.__name__) from error
        self._local.connection = connection
        with self._lock:
            key = (os.getpid(), threading.get_native_id())
            # An ended thread whose id the system gave to this one: its connection goes.
            replaced, self._open[key] = self._open.get(key), connection
        self._close_quietly(replaced)
        return connection, True

    def _discard(self) -> None:
        with self._lock:
            connection = self._open.pop((os.getpid(), threading.get_native_id()), None)
        self._local.connection = self._local.prepared = None  # the statement goes with it
        self._close_quietly(connection)

    def _close_ended_threads(self) -> None:
        """Close the connections of this process's threads that have ended; forget those
        of another process (a fork's parent owns them)."""
        if not self._sweeps:
            return
        pid = os.getpid()
        with self._lock:
            ended = [key for key in self._open
                     if key[0] != pid or process.thread_ended(key[1])]
            connections = [(key[0], self._open.pop(key)) for key in ended]
        for owner, connection in connections:
            if owner == pid:
                self._close_quietly(connection)

    def close(self) -> None:
        """Close every thread's connection in this process (app shutdown, tests)."""
        pid = os.getpid()
        with self._lock:
            connections, self._open = self._open, {}
        for (owner, _), connection in connections.items():
            if owner == pid:
                self._close_quietly(connection)
        self._local = threading.local()

    def _close_quietly(self, connection) -> None:
        if connection is None:
            return
        try:
            connection.close()
        except self._errors:
            pass

    # -- values ------------------------------------------------------------------------
    def _time(self, value: datetime):
        if self.postgres:
            return value
        # SQLAlchemy's SQLite storage format, so stored and bound times compare as text.
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")

    def _decode(self, row) -> TokenSnapshot:
        (token_id, token_hash, user_id, username, source, active, expires_at, revoked_at,
         scopes, origins, last_at, last_origin, routes, canary) = row
        return TokenSnapshot(
            token_id, token_hash, user_id, username, source, bool(active),
            _aware(expires_at), _aware(revoked_at), tuple(_json(scopes)),
            compile_origins(_json(origins)), _aware(last_at), last_origin,
            compile_rules(_json(routes)),
            bool(canary))


class PreparedLookup:
    """The snapshot query on one psycopg connection, at libpq's level: prepared on first
    use, then one ``exec_prepared`` per lookup (libpq waits with the GIL released), its row
    read by psycopg's own loaders. psycopg's cursor machinery around the same statement
    cost more CPU than the query itself (about 25 of 55 µs a lookup, measured in process).
    JSON columns stay text: ``_json`` reads them, and skips the usual ``[]``."""

    NAME = b"tokenauth_snapshot"

    def __init__(self, connection, sql: str):  # sql: with $1 for the token hash
        self.pgconn = connection.pgconn
        for json_type in ("json", "jsonb"):
            connection.adapters.register_loader(json_type, TextLoader)
        self.transformer = Transformer(connection)
        self.sql = sql.encode()
        self.prepared = False

    def fetchone(self, token_hash: str):
        if not self.prepared:
            self._check(self.pgconn.prepare(self.NAME, self.sql), pq.ExecStatus.COMMAND_OK)
            self.prepared = True
        result = self.pgconn.exec_prepared(self.NAME, [token_hash.encode()])
        self._check(result, pq.ExecStatus.TUPLES_OK)
        if not result.ntuples:
            return None
        self.transformer.set_pgresult(result)
        return self.transformer.load_row(0, tuple)

    def _check(self, result, expected) -> None:
        """Raise what psycopg's cursor would: OperationalError for a lost connection (a
        deadline breaks it that way too), else the server's error."""
        if result.status == expected:
            return
        if self.pgconn.status != pq.ConnStatus.OK:
            message = self.pgconn.error_message.decode("utf-8", "replace").strip()
            raise psycopg.OperationalError(message or "the connection was lost")
        raise psycopg.errors.error_from_result(result)


def compile_origins(values) -> tuple:
    """A token's allowed origins as networks. One that no longer parses stays in the tuple
    as None, which matches no address: a restricted token never becomes unrestricted."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value))
        except ValueError:
            networks.append(None)
    return tuple(networks)


def _aware(value):
    """A stored time as an aware UTC datetime (SQLite returns naive text)."""
    if value is None:
        return None
    if isinstance(value, str):
        return _aware_text(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


@functools.lru_cache(maxsize=4096)  # uncached lookups read the same few times again and again
def _aware_text(value: str) -> datetime:
    return _aware(datetime.fromisoformat(value))


def _json(value):
    if value is None or value == "[]":  # most tokens: no scopes, origins or routes
        return ()
    return json.loads(value) if isinstance(value, str) else value
