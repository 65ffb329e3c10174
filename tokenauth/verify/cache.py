"""A per-worker cache of token lookups, so most verifies never reach the database.

Least-recently-used with a size bound: when full, only the coldest entry makes room, so a
full cache never sends every token back to the database at once. Each entry is good for
``ttl`` seconds. Only found tokens are cached: a token created a moment ago on another
worker is never refused for being unknown.

A revocation listener (verify/changes.py) vouches for the cache with each proof of life
that it hears every change, until a moment (``vouch``); past it, no entry older than
``UNTRUSTED_MAX_AGE`` is served (SPEC 3). The cache reads that moment with the clock it
reads anyway: a hit asks no one else.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict

UNTRUSTED_MAX_AGE = 1.0  # seconds an entry is served while no listener vouches for the cache


class VerifyCache:
    def __init__(self, ttl: float, max_entries: int = 10_000, clock=time.monotonic):
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict = OrderedDict()  # key -> (stored_at, value), coldest first
        self._lock = threading.Lock()
        self.vouched_until = float("inf")  # no listener: nothing limits an entry but the TTL

    def vouch(self, until: float) -> None:
        """Every change reaches this cache until ``until`` (this clock); ``-inf``: no more."""
        self.vouched_until = until

    def get(self, key):
        """The cached value for ``key``, or None when absent, older than the TTL, or older
        than ``UNTRUSTED_MAX_AGE`` while nobody vouches for the cache (the entry is then
        kept for later)."""
        if self.ttl <= 0:
            return None
        # No lock on a hit: one dict read and one move_to_end, each a single C call the GIL
        # keeps whole. Every request thread taking a lock here formed convoys under load:
        # a thread switched out while holding it put the others to sleep on it (a context
        # switch for nearly every /verify, 3× its CPU, four threads in one process).
        entry = self._entries.get(key)
        if entry is None:
            return None
        now = self.clock()
        age = now - entry[0]
        if age >= self.ttl:
            with self._lock:
                if self._entries.get(key) is entry:  # not replaced meanwhile
                    del self._entries[key]
            return None
        if age >= UNTRUSTED_MAX_AGE and now >= self.vouched_until:
            return None
        try:
            self._entries.move_to_end(key)
        except KeyError:  # evicted or discarded meanwhile: still this answer's value
            pass
        return entry[1]

    def put(self, key, value) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._entries[key] = (self.clock(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def discard(self, matches) -> int:
        """Drop every value for which ``matches(value)`` is true; returns how many."""
        with self._lock:
            # A copy first (one C call): a lock-free get may reorder the entries meanwhile.
            keys = [key for key, (_, value) in list(self._entries.items()) if matches(value)]
            for key in keys:
                self._entries.pop(key, None)
        return len(keys)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
