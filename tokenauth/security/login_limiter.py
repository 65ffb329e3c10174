"""Counting failed sign-ins per (username, client IP) and locking that pair out for a while.

In-process and per worker: with gunicorn's N workers an attacker gets at most N times the
allowance before every worker has locked the pair. Keying on the pair (not the username
alone) means a stranger cannot lock a user out from elsewhere. Nothing here knows Flask.
"""
from __future__ import annotations

import dataclasses
import math
import threading
import time

MAX_ENTRIES = 10_000  # bounds memory under a flood of made-up usernames


@dataclasses.dataclass
class _Entry:
    failures: int = 0
    in_flight: int = 0
    last_failure: float = 0.0
    locked_until: float = 0.0


class LoginLimiter:
    """``max_failures`` failed sign-ins of one (username, IP) lock it for ``lockout_seconds``.

    Failures are forgotten after ``lockout_seconds`` without a new one, and on success.
    Use: ``retry = begin(key)``; if ``retry`` is None check the password and call
    ``succeeded(key)`` or ``failed(key)``. Attempts in flight count against the allowance, so
    a burst of parallel requests cannot try more passwords than the limit.
    """

    def __init__(self, max_failures: int, lockout_seconds: int, clock=time.monotonic):
        self.max_failures = max_failures
        self.lockout_seconds = lockout_seconds
        self.clock = clock
        self._entries: dict[tuple, _Entry] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(username: str, client_ip: str | None) -> tuple:
        return (username.strip().lower()[:150], client_ip or "")

    def begin(self, key: tuple) -> int | None:
        """Start an attempt. Returns None when it may proceed, else the seconds to wait."""
        with self._lock:
            now = self.clock()
            entry = self._current(key, now)
            if entry.locked_until > now:
                return max(1, math.ceil(entry.locked_until - now))
            if entry.failures + entry.in_flight >= self.max_failures:
                return self.lockout_seconds
            entry.in_flight += 1
            return None

    def failed(self, key: tuple) -> int | None:
        """Count a failure. Returns the lockout in seconds when this one started it."""
        with self._lock:
            now = self.clock()
            entry = self._current(key, now)
            entry.in_flight = max(0, entry.in_flight - 1)
            entry.failures += 1
            entry.last_failure = now
            if entry.failures >= self.max_failures:
                entry.failures = 0
                entry.locked_until = now + self.lockout_seconds
                return self.lockout_seconds
            return None

    def succeeded(self, key: tuple) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def abandoned(self, key: tuple) -> None:
        """The attempt ended without an answer (e.g. the database failed): not a failure."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.in_flight = max(0, entry.in_flight - 1)

    def failures(self, key: tuple) -> int:
        with self._lock:
            entry = self._entries.get(key)
            return entry.failures if entry else 0

    def _current(self, key: tuple, now: float) -> _Entry:
        entry = self._entries.get(key)
        if entry is not None and self._stale(entry, now):
            entry.failures, entry.locked_until = 0, 0.0
        if entry is None:
            if len(self._entries) >= MAX_ENTRIES:
                self._prune(now)
            entry = self._entries[key] = _Entry()
        return entry

    def _stale(self, entry: _Entry, now: float) -> bool:
        return (entry.locked_until <= now
                and now - entry.last_failure >= self.lockout_seconds)

    def _prune(self, now: float) -> None:
        for key in [k for k, e in self._entries.items() if self._stale(e, now) and not e.in_flight]:
            del self._entries[key]
        if len(self._entries) >= MAX_ENTRIES:  # still full: forget the oldest failures
            oldest = sorted(self._entries, key=lambda k: self._entries[k].last_failure)
            for key in oldest[: len(oldest) // 2]:
                del self._entries[key]
