"""A per-worker cache of token lookups, so most verifies never reach the database.

Revocation reaches other workers within the TTL (SPEC 3); the revoking worker clears its
own cache at once. Only found tokens are cached: a token created a moment ago on another
worker is never refused for being unknown.
"""
from __future__ import annotations

import threading
import time


class VerifyCache:
    MAX_ENTRIES = 10_000

    def __init__(self, ttl: float, clock=time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._entries: dict = {}
        self._lock = threading.Lock()

    def get(self, key):
        """The cached value for ``key``, or None when absent or older than the TTL."""
        if self.ttl <= 0:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, value = entry
        if self.clock() - stored_at >= self.ttl:
            self._entries.pop(key, None)
            return None
        return value

    def put(self, key, value) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (self.clock(), value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
