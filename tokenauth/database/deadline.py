"""A client-side deadline for database calls, so a silent database cannot hold a thread.

A server-side ``statement_timeout`` needs a live server, and TCP keepalives and
``tcp_user_timeout`` need a peer whose kernel stops acknowledging. A silent peer (a frozen
server, a proxy or firewall that keeps the connection open but forwards nothing) defeats
all three, and the call waits for ever. So a call can also get a deadline here, which
breaks the call once it passes:

- psycopg: one watchdog thread per process calls ``shutdown()`` on a duplicate of the
  connection's socket. The blocked wait wakes up, libpq reads end-of-file and psycopg
  raises ``OperationalError``; the connection is then ``broken``, so a pool discards it.
- sqlite3: no thread. A progress handler, which SQLite calls every ``_SQLITE_STEPS``
  virtual-machine steps (about 1 ms here), aborts the statement once the deadline has
  passed: it raises ``OperationalError("interrupted")``, as ``interrupt()`` would, and the
  connection stays usable. Setting and clearing it is two C calls, where the watchdog's
  lock and queue cost an uncached /verify on SQLite about 1.5 µs of its 22 in process.
  A connection has one handler: deadlines on one connection are never nested here.
  SQLite does not abort a wait for a lock; its busy timeout bounds that.

Use it around any DBAPI call (``guard.guard_engine`` does it for everything SQLAlchemy
calls)::

    with deadline(dbapi_connection, seconds):
        cursor.execute(...)
"""
from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import os
import socket
import sqlite3
import threading
import time

import psycopg

log = logging.getLogger(__name__)
_COMPACT_AT = 1024  # queue length that triggers dropping disarmed alarms
_SQLITE_STEPS = 100_000  # between two looks at the clock: about 1 ms of SQLite's work here


class _Alarm:
    """A deadline for one call on one connection. ``done`` is set, under the watchdog's lock,
    by whichever comes first: the caller disarming it, or the watchdog claiming it to fire."""

    __slots__ = ("due", "seconds", "done")

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.due = time.monotonic() + seconds
        self.done = False

    def fire(self) -> None:
        raise NotImplementedError

    def release(self) -> None:
        """Free what the alarm holds when it was disarmed before firing."""


class _SocketAlarm(_Alarm):
    """psycopg: the duplicate keeps naming the connection's socket even if libpq closes its
    own descriptor meanwhile, so firing late can never hit an unrelated socket."""

    __slots__ = ("fd",)

    def __init__(self, seconds: float, fd: int):
        super().__init__(seconds)
        self.fd = os.dup(fd)

    def fire(self) -> None:
        with socket.socket(fileno=self.fd) as sock:  # closes the duplicate afterwards
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # the peer closed it already
                pass

    def release(self) -> None:
        os.close(self.fd)


class _SqliteDeadline:
    """sqlite3: the deadline is the connection's progress handler, cleared by ``end``."""

    __slots__ = ("connection",)

    def __init__(self, seconds: float, connection: sqlite3.Connection):
        due = time.monotonic() + seconds
        # A true answer aborts the running statement. Called with the GIL, so not often:
        # every few thousand steps would make a long statement queue for it under load.
        connection.set_progress_handler(lambda: time.monotonic() > due, _SQLITE_STEPS)
        self.connection = connection

    def end(self) -> None:
        self.connection.set_progress_handler(None, 0)


def _alarm_for(connection, seconds: float) -> _Alarm | None:
    """An alarm that breaks ``connection``'s call; None when the connection is already
    lost (its call fails at once). Raises TypeError for other kinds of connections."""
    if isinstance(connection, psycopg.Connection):
        try:
            return _SocketAlarm(seconds, connection.pgconn.socket)
        except psycopg.OperationalError:
            return None
    raise TypeError(f"no deadline for a {type(connection).__name__} connection")


class Watchdog:
    """Keeps the armed deadlines of every thread and fires the ones that pass, from one
    daemon thread started on first use (and again in a forked child)."""

    def __init__(self):
        self._start_over()

    def _start_over(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._queue: list[tuple[float, int, _Alarm]] = []  # a heap by due time
        self._compact_at = _COMPACT_AT
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, connection, seconds: float) -> _Alarm | None:
        """Break the call starting now on ``connection`` if it is still running after
        ``seconds``. Returns the alarm to ``disarm`` when the call is over."""
        if isinstance(connection, sqlite3.Connection):
            return _SqliteDeadline(seconds, connection)  # needs no watchdog
        alarm = _alarm_for(connection, seconds)
        if alarm is None:
            return None
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="database-deadlines",
                                                daemon=True)
                self._thread.start()
            if len(self._queue) >= self._compact_at:
                self._compact()
            heapq.heappush(self._queue, (alarm.due, next(self._order), alarm))
            if self._queue[0][2] is alarm:  # due before everything the watchdog waits for
                self._changed.notify()
        return alarm

    def disarm(self, alarm: _Alarm | None) -> None:
        """The call is over: the alarm must not fire."""
        if alarm is None:
            return
        if alarm.__class__ is _SqliteDeadline:
            alarm.end()
            return
        with self._lock:
            claimed, alarm.done = alarm.done, True
        if not claimed:
            alarm.release()

    def _run(self) -> None:
        while True:
            with self._lock:
                due = self._take_due()
                if not due:
                    wait = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._changed.wait(wait)
                    continue
            for alarm in due:  # outside the lock: arming never waits for a firing
                alarm.fire()
                log.warning("a database call outlived its %.1f s deadline; its connection "
                            "was broken", alarm.seconds)

    def _compact(self) -> None:
        """Drop disarmed alarms (most of them, usually) before their due time, so the queue
        stays near the number of calls in flight (caller holds the lock)."""
        self._queue = [entry for entry in self._queue if not entry[2].done]
        heapq.heapify(self._queue)
        self._compact_at = max(_COMPACT_AT, 2 * len(self._queue))

    def _take_due(self) -> list[_Alarm]:
        """Pop disarmed alarms and claim the due ones (caller holds the lock)."""
        now, due = time.monotonic(), []
        while self._queue and (self._queue[0][2].done or self._queue[0][0] <= now):
            alarm = heapq.heappop(self._queue)[2]
            if not alarm.done:
                alarm.done = True
                due.append(alarm)
        return due


# One per process, as the deadlines of all threads share its single thread.
WATCHDOG = Watchdog()
os.register_at_fork(after_in_child=WATCHDOG._start_over)
arm, disarm = WATCHDOG.arm, WATCHDOG.disarm


@contextlib.contextmanager
def deadline(connection, seconds: float):
    """Bound the DBAPI calls in the block: if the block is still in a call on
    ``connection`` after ``seconds``, the call is broken and raises the driver's
    ``OperationalError``. Raises TypeError for a connection that is not psycopg's or
    sqlite3's."""
    alarm = arm(connection, seconds)
    try:
        yield
    finally:
        disarm(alarm)
