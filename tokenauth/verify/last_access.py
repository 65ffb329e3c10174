"""Coalesced ``last_accessed_at`` / ``last_accessed_origin`` writes (SPEC 3).

A use is written at once when the origin changed or the stored time is at least
``resolution`` seconds old; otherwise it is kept as pending, so the stored time is never
more than ``resolution`` behind the true last use. The write itself is conditional, so when
several workers see the same token only the first of them changes the row in each window.
Pending uses are written by :meth:`LastAccessRecorder.flush` on graceful shutdown; a write
that fails (database gone) stays pending and never turns a valid token into a refusal.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

log = logging.getLogger(__name__)
MAX_KNOWN = 10_000  # remembered stored uses; older ones are forgotten (their next use is due)


class LastAccessRecorder:
    def __init__(self, resolution_seconds: float, store, metrics, alarms=None):
        self.resolution = timedelta(seconds=resolution_seconds)
        self.store = store
        self.metrics = metrics
        self.alarms = alarms  # stores new origins (origin history, new_origin events)
        self._stored: dict[str, tuple] = {}   # token id -> (time, origin) known to be stored
        self._pending: dict[str, tuple] = {}  # token id -> (time, origin) not yet stored
        self._lock = threading.Lock()

    def record(self, snapshot, at: datetime, origin: str | None) -> None:
        """Note a successful use; write it now when it is due, else keep it pending.

        No lock on every allowed /verify: request threads queueing on one lock formed
        convoys under load (see verify/cache.py). Dict reads and stores are single
        operations the GIL keeps whole."""
        stored = (snapshot.last_accessed_at, snapshot.last_accessed_origin)
        known = self._stored.get(snapshot.token_id)
        if known and (stored[0] is None or known[0] > stored[0]):
            stored = known
        if stored[0] is not None and stored[1] == origin and at - stored[0] < self.resolution:
            pending = self._pending
            pending[snapshot.token_id] = (at, origin)
            if pending is not self._pending:  # a flush took that dict meanwhile, maybe before
                with self._lock:              # this use was in it: keep it for the next one
                    self._pending[snapshot.token_id] = (at, origin)
            return
        try:
            written = self._store(snapshot.token_id, at, origin, self.resolution.total_seconds())
        except Exception as error:  # noqa: BLE001 - the answer is decided; keep the use
            log.warning("last access not stored, kept pending: %s", error.__class__.__name__)
            with self._lock:
                self._pending[snapshot.token_id] = (at, origin)
            return
        self.metrics.last_access_written(written)
        with self._lock:
            if len(self._stored) >= MAX_KNOWN:
                self._forget_before(at - self.resolution)
            self._stored[snapshot.token_id] = (at, origin)
            pending = self._pending.get(snapshot.token_id)
            if pending and pending[0] <= at:
                del self._pending[snapshot.token_id]

    def _store(self, token_id: str, at: datetime, origin: str | None,
               resolution_seconds: float | None = None) -> bool:
        """Write a use: the origin history first (a new origin at once, with its event),
        then the token's last access. Returns whether the token row changed."""
        if origin and self.alarms is not None and not self.store.touch_origin(
                token_id, origin, at):
            self.alarms.new_origin(token_id, origin, at)
        return self.store.record_access(token_id, at, origin, resolution_seconds)

    def _forget_before(self, cutoff: datetime) -> None:
        self._stored = {key: use for key, use in self._stored.items() if use[0] > cutoff}
        if len(self._stored) >= MAX_KNOWN:  # all recent: forgetting costs an early write
            self._stored.clear()

    def flush(self) -> int:
        """Write every pending use (graceful shutdown). Returns how many were written.

        Raises DatabaseUnavailable when the database is gone (the rest stay pending)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        items = sorted(pending.items())
        for index, (token_id, (at, origin)) in enumerate(items):
            try:
                self._store(token_id, at, origin)
            except Exception:
                with self._lock:
                    for later_id, use in items[index:]:
                        self._pending.setdefault(later_id, use)
                raise
        return len(items)
