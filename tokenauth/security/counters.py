"""Expiring failure counters: the one mechanism behind both throttles (failed sign-ins,
/verify failures).

A count starts at its first hit and is forgotten ``window`` seconds later, whatever came
after (Redis: ``INCR`` + ``PEXPIRE ... NX``). Three stores keep them:

- :class:`MemoryCounterStore` (here): this process only; for tests and tools;
- ``shared_memory.SharedMemoryCounterStore``: every worker of one server, in a shared
  memory file; without gunicorn's folder, this process only;
- ``redis_counters.RedisCounterStore``: every replica, through Redis, on top of a local
  store that it falls back to.

Callers namespace their keys (``login:``, ``verify:``), so one store serves both throttles.
"""
from __future__ import annotations

import threading
import time
from typing import NamedTuple, Protocol

MAX_KEYS = 20_000  # bounds memory under a flood of made-up usernames


class Count(NamedTuple):
    hits: int
    seconds_left: float  # until the count is forgotten


NO_COUNT = Count(0, 0.0)


class CounterStore(Protocol):
    """Counters that expire a fixed time after their first hit."""

    def add(self, key: str, window: float) -> Count:
        """Count one more hit on ``key``; a new count is forgotten ``window`` seconds later."""

    def get(self, key: str) -> Count:
        """``key``'s live count, as every sharer of the store sees it; ``NO_COUNT`` when
        there is none. May ask another server (Redis)."""

    def peek(self, key: str) -> Count:
        """``key``'s count as this server knows it, at the cost of a few memory reads: for
        checks on every request. May lag ``get`` (see the stores)."""

    def merge(self, key: str, count: Count) -> None:
        """Raise ``key``'s count to ``count`` (hits, and the window's end with them) when it
        is higher: a count learned from another server, kept here."""

    def clear(self, key: str) -> None:
        """Forget ``key``'s count."""

    def raise_flag(self, seconds: float) -> None:
        """Keep the store's one flag up for ``seconds`` from now, or longer when it already
        is: the /verify throttle raises it for as long as a client is locked."""

    def flag_is_up(self) -> bool:
        """Whether the flag is up, as every sharer of the store sees it here (no other
        server is asked). One memory read: the /verify throttle asks on every request,
        and reads a client's count only while the flag is up."""

    def close(self) -> None:
        """Release what the store holds (files, connections)."""


class MemoryCounterStore:
    """A :class:`CounterStore` in this process's memory, safe across threads."""

    def __init__(self, clock=time.monotonic, max_keys: int | None = None):
        self.clock = clock
        self.max_keys = max_keys or MAX_KEYS
        self._counts: dict[str, list] = {}  # key -> [hits, expires_at]
        self._lock = threading.Lock()
        self._flag_until = float("-inf")

    def add(self, key: str, window: float) -> Count:
        with self._lock:
            now = self.clock()
            entry = self._live(key, now)
            if entry is None:
                entry = self._new(key, now + window, now)
            entry[0] += 1
            return Count(entry[0], entry[1] - now)

    def get(self, key: str) -> Count:
        with self._lock:
            now = self.clock()
            entry = self._live(key, now)
            return Count(entry[0], entry[1] - now) if entry else NO_COUNT

    peek = get

    def merge(self, key: str, count: Count) -> None:
        if count.seconds_left <= 0:
            return
        with self._lock:
            now = self.clock()
            entry = self._live(key, now) or self._new(key, now, now)
            if count.hits > entry[0]:
                entry[:] = [count.hits, now + count.seconds_left]

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def raise_flag(self, seconds: float) -> None:
        with self._lock:
            self._flag_until = max(self._flag_until, self.clock() + seconds)

    def flag_is_up(self) -> bool:
        return self.clock() < self._flag_until

    def close(self) -> None:
        pass

    def __len__(self) -> int:
        return len(self._counts)

    def _new(self, key: str, expires_at: float, now: float) -> list:
        if len(self._counts) >= self.max_keys:
            self._prune(now)
        entry = self._counts[key] = [0, expires_at]
        return entry

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
