"""Counting failed sign-ins and locking out whoever makes too many.

Two limits, both over failures only (an attempt still being checked counts for nothing, so
correct passwords in parallel are never refused for it):

- per (username, client IP): ``max_failures``. Keyed on the pair, so a stranger cannot
  lock a user out from another address;
- per client IP: ``ip_max_failures`` whatever the usernames, so made-up usernames cannot
  dodge the first limit.

Failures are counted in a window of ``lockout_seconds`` from the first one; reaching a
limit locks that key for ``lockout_seconds``. A lock is the only thing that refuses an
attempt, and the only thing that yields a Retry-After.

The counts live in a :class:`CounterStore`: this worker's memory today. A store shared by
the workers of a server (or by replicas, in Redis) can replace it without touching the
rules here. Nothing here knows Flask.
"""
from __future__ import annotations

import dataclasses
import math
import threading
import time
from typing import NamedTuple, Protocol

MAX_KEYS = 20_000  # bounds memory under a flood of made-up usernames


class Count(NamedTuple):
    hits: int
    seconds_left: float  # until the count is forgotten


class CounterStore(Protocol):
    """Counters that expire a fixed time after their first hit (Redis: INCR + EXPIRE NX)."""

    def add(self, key: str, window: float) -> Count:
        """Count one more hit on ``key``; a new count is forgotten ``window`` seconds later."""

    def get(self, key: str) -> Count:
        """``key``'s live count; ``Count(0, 0)`` when there is none."""

    def clear(self, key: str) -> None:
        """Forget ``key``'s count."""


class MemoryCounterStore:
    """A :class:`CounterStore` in this process's memory, safe across threads."""

    def __init__(self, clock=time.monotonic, max_keys: int | None = None):
        self.clock = clock
        self.max_keys = max_keys or MAX_KEYS
        self._counts: dict[str, list] = {}  # key -> [hits, expires_at]
        self._lock = threading.Lock()

    def add(self, key: str, window: float) -> Count:
        with self._lock:
            now = self.clock()
            entry = self._live(key, now)
            if entry is None:
                if len(self._counts) >= self.max_keys:
                    self._prune(now)
                entry = self._counts[key] = [0, now + window]
            entry[0] += 1
            return Count(entry[0], entry[1] - now)

    def get(self, key: str) -> Count:
        with self._lock:
            now = self.clock()
            entry = self._live(key, now)
            return Count(entry[0], entry[1] - now) if entry else Count(0, 0.0)

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def __len__(self) -> int:
        return len(self._counts)

    def _live(self, key: str, now: float):
        entry = self._counts.get(key)
        if entry is not None and entry[1] <= now:
            del self._counts[key]
            return None
        return entry

    def _prune(self, now: float) -> None:
        for key in [k for k, (_, expires) in self._counts.items() if expires <= now]:
            del self._counts[key]
        if len(self._counts) >= self.max_keys:  # still full: forget the counts ending soonest
            soonest = sorted(self._counts, key=lambda k: self._counts[k][1])
            for key in soonest[: len(soonest) // 2]:
                del self._counts[key]


@dataclasses.dataclass(frozen=True)
class Failure:
    """A counted failure: the counts in their windows, and the lockout it started (seconds)."""

    failures: int
    address_failures: int
    lockout: int | None


class LoginLimiter:
    """Failed sign-ins per (username, client IP) and per client IP, and their lockouts.

    Use: ``locked_for(username, ip)``; when None, check the password, then ``succeeded`` or
    ``failed``.
    """

    def __init__(self, max_failures: int, ip_max_failures: int, lockout_seconds: int,
                 store: CounterStore | None = None):
        self.max_failures = max_failures
        self.ip_max_failures = ip_max_failures
        self.lockout_seconds = lockout_seconds
        self.store = store if store is not None else MemoryCounterStore()

    @staticmethod
    def _keys(username: str, client_ip: str | None) -> tuple[str, str]:
        """The pair's key and the address's key (an IP holds no space, so they never mix)."""
        address = client_ip or "-"
        return f"{address} {username.strip().lower()[:150]}", address

    def locked_for(self, username: str, client_ip: str | None) -> int | None:
        """Seconds left while the pair or the address is locked out, else None."""
        left = max(self.store.get("lock:" + key).seconds_left
                   for key in self._keys(username, client_ip))
        return max(1, math.ceil(left)) if left > 0 else None

    def failed(self, username: str, client_ip: str | None) -> Failure:
        """Count a failure of the pair and of the address; lock whichever reached its limit."""
        pair, address = self._keys(username, client_ip)
        window = self.lockout_seconds
        pair_count = self.store.add("fail:" + pair, window).hits
        address_count = self.store.add("fail:" + address, window).hits
        locked = [key for key, count, limit in ((pair, pair_count, self.max_failures),
                                                (address, address_count, self.ip_max_failures))
                  if count >= limit]
        for key in locked:
            self.store.clear("fail:" + key)  # a fresh count once the lock ends
            self.store.add("lock:" + key, window)
        return Failure(pair_count, address_count, window if locked else None)

    def succeeded(self, username: str, client_ip: str | None) -> None:
        """Forget the pair's failures. The address's stay: one good account must not let its
        holder wipe out the count of guesses at others."""
        self.store.clear("fail:" + self._keys(username, client_ip)[0])
