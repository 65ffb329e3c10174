"""Learning of revocations made elsewhere (other workers, replicas, the CLI) within a second.

One daemon thread per worker, started by the first database lookup, on a database connection
of its own: on PostgreSQL it LISTENs to the channel that ``services.changes.publish``
notifies, on SQLite it reads new ``token_changes`` rows four times a second. Each change
drops the cached lookups of that token or user.

Each proof of life vouches for the cache for ``FRESH_FOR`` (``VerifyCache.vouch``). While
the thread cannot vouch that it is hearing every change -- not yet connected, the
connection lost, the database gone -- the vouching runs out and the cache serves nothing
older than one second (SPEC 3). After a reconnection it catches up from the
``token_changes`` rows it missed. A lookup read from the database before the listener first
listened is not cached at all (:meth:`ChangeListener.may_cache`): a change made in between
would otherwise be missed.
"""
from __future__ import annotations

import json
import logging
import threading
import time

from .. import process
from ..database.deadline import deadline
from ..services.changes import CHANNEL, RETENTION
from .cache import UNTRUSTED_MAX_AGE

log = logging.getLogger(__name__)
FRESH_FOR = 1.0     # seconds after its last proof of life that the listener is trusted
PULSE = 0.25        # seconds between proofs of life (and SQLite reads)
RETRY = 0.5         # seconds between reconnection attempts
REPLAY = 100        # changes read again after a reconnection


class ChangeListener:
    def __init__(self, engine, cache, call_seconds: float, clock=time.monotonic):
        self.engine = engine
        self.cache = cache
        self.call_seconds = call_seconds
        self.clock = clock
        self.postgres = engine.dialect.name == "postgresql"
        self._alive_at = float("-inf")
        self._last_id: int | None = None  # the newest change seen; None: never connected
        self._listening = threading.Event()  # set once: every later change reaches us
        self._listening_since = float("inf")
        self._thread: threading.Thread | None = None
        self._started = False  # the thread runs in this process (False again in a fork)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        cache.vouch(float("-inf"))  # until the thread listens
        process.in_forked_children(self._forked)

    def _forked(self) -> None:
        self._started = False  # a forked worker starts its own thread
        self._lock = threading.Lock()  # the parent's may have been held at the fork
        self.cache.vouch(float("-inf"))  # the parent's thread does not listen for this one

    def _alive(self) -> None:
        """A proof of life: the cache may serve any entry its TTL allows for FRESH_FOR."""
        self._alive_at = self.clock()
        self.cache.vouch(self._alive_at + FRESH_FOR)

    def may_cache(self, read_at: float) -> bool:
        """Whether a lookup read from the database at ``read_at`` (this clock) may be cached:
        only when every change committed after it is bound to reach this listener."""
        return self._listening_since <= read_at

    def wait_listening(self, timeout: float) -> bool:
        """Start the thread and wait until it listens (tests, warm-up). Returns whether it does."""
        self.ensure_running()
        return self._listening.wait(timeout)

    def ensure_running(self) -> None:
        """Start the thread in this process (a forked worker starts its own); nothing to do
        without a cache. Every database lookup asks: only lookups read after the thread
        listens are cached (``may_cache``)."""
        if self._started or self.cache.ttl <= 0 or self._stop.is_set():
            return
        with self._lock:
            if not self._started:
                self._thread = threading.Thread(target=self._run, name="tokenauth-changes",
                                                daemon=True)
                self._thread.start()
                self._started = True

    def forget(self, changes) -> None:
        """Drop the cached lookups of each ``(token_id, user_id)`` change (either may be None)."""
        tokens = {token_id for token_id, _ in changes if token_id}
        users = {user_id for _, user_id in changes if user_id}
        if tokens or users:
            self.cache.discard(lambda found: found[0].token_id in tokens
                               or found[0].user_id in users)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._started:  # not a parent's thread
            self._thread.join(timeout=self.call_seconds + 2 * PULSE)

    # -- the thread ----------------------------------------------------------------------
    def _run(self) -> None:
        lost = False
        while not self._stop.is_set():
            connection = None
            try:
                connection = self._connect()
                self._catch_up(connection)
                if lost:
                    log.warning("revocation listener is back")
                    lost = False
                while not self._stop.is_set():
                    self._listen(connection)
                    self._alive()
            except Exception as error:  # noqa: BLE001 - any failure: untrusted, reconnect
                if not lost:
                    log.warning("revocation listener lost its database (%s); cached answers "
                                "are served for at most %g s until it is back",
                                error.__class__.__name__, UNTRUSTED_MAX_AGE)
                lost = True
            finally:
                if connection is not None:
                    _close_quietly(connection)
            self._stop.wait(RETRY)

    def _connect(self):
        proxied = self.engine.raw_connection()
        proxied.detach()
        connection = proxied.dbapi_connection
        if self.postgres:
            with deadline(connection, self.call_seconds):
                connection.rollback()
                connection.autocommit = True
                connection.execute(f"LISTEN {CHANNEL}")
        else:
            connection.isolation_level = None
        return connection

    def _catch_up(self, connection) -> None:
        """Drop what changed while nobody listened. Ids are taken in order but may commit
        out of order, so the last ``REPLAY`` seen are read again (dropping twice is
        harmless). Away longer than the rows are kept: drop everything."""
        away = self.clock() - self._alive_at
        if self._last_id is None:  # the first time: nothing is cached yet (may_cache)
            newest = self._query(connection, "SELECT max(id) FROM token_changes", ())
            self._last_id = newest[0][0] or 0
        elif away > RETENTION.total_seconds() / 2:
            self.cache.clear()
        else:
            self._drop(self._query(connection, "SELECT id, token_id, user_id FROM "
                                               "token_changes WHERE id > {p} ORDER BY id",
                                   (self._last_id - REPLAY,)))
        self._alive()
        if not self._listening.is_set():
            self._listening_since = self._alive_at
            self._listening.set()

    def _listen(self, connection) -> None:
        """Wait up to a pulse for changes, then prove the connection still answers."""
        if self.postgres:
            changes = [json.loads(notify.payload)
                       for notify in connection.notifies(timeout=PULSE)]
            self._drop([(c.get("id"), c.get("token_id"), c.get("user_id")) for c in changes])
            with deadline(connection, self.call_seconds):
                connection.execute("SELECT 1")  # a silent network must not look quiet
        else:
            self._stop.wait(PULSE)
            self._drop(self._query(connection, "SELECT id, token_id, user_id FROM "
                                               "token_changes WHERE id > {p} ORDER BY id",
                                   (self._last_id,)))

    def _drop(self, rows) -> None:
        """``rows`` of ``(change id, token_id, user_id)``."""
        if rows:
            self.forget([(token_id, user_id) for _, token_id, user_id in rows])
            self._last_id = max([self._last_id or 0] + [row[0] for row in rows if row[0]])

    def _query(self, connection, sql: str, params: tuple) -> list:
        sql = sql.format(p="%s" if self.postgres else "?")
        with deadline(connection, self.call_seconds):
            return list(connection.execute(sql, params).fetchall())


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - already broken
        pass

