"""Coalesced ``last_accessed_at`` / ``last_accessed_origin`` writes (SPEC 3).

A use is written at once when the origin changed or the stored time is at least
``resolution`` seconds old; otherwise it is kept as pending, so the stored time is never
more than ``resolution`` behind the true last use, and pending uses are written by
``flush`` on graceful shutdown.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta


class LastAccessRecorder:
    def __init__(self, resolution_seconds: float):
        self.resolution = timedelta(seconds=resolution_seconds)
        self._stored: dict[str, tuple] = {}   # token id -> (time, origin) known to be stored
        self._pending: dict[str, tuple] = {}  # token id -> (time, origin) not yet stored
        self._lock = threading.Lock()

    def is_due(self, snapshot, at: datetime, origin: str | None) -> bool:
        """True when this use must be written now; otherwise it is remembered as pending."""
        stored = (snapshot.last_accessed_at, snapshot.last_accessed_origin)
        with self._lock:
            known = self._stored.get(snapshot.token_id)
            if known and (stored[0] is None or known[0] > stored[0]):
                stored = known
            if stored[0] is None or stored[1] != origin or at - stored[0] >= self.resolution:
                return True
            self._pending[snapshot.token_id] = (at, origin)
            return False

    def written(self, token_id: str, at: datetime, origin: str | None) -> None:
        with self._lock:
            self._stored[token_id] = (at, origin)
            pending = self._pending.get(token_id)
            if pending and pending[0] <= at:
                del self._pending[token_id]

    def take_pending(self) -> list[tuple[str, datetime, str | None]]:
        """Remove and return the pending uses as ``(token id, time, origin)``."""
        with self._lock:
            pending, self._pending = self._pending, {}
        return [(token_id, at, origin) for token_id, (at, origin) in pending.items()]
