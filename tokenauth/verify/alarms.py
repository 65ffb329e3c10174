"""What /verify tells the audit trail: a token seen from a new origin, a canary presented.

A new origin is rare (once per token and client IP) and is stored at once, in one
transaction with its ``new_origin`` event and alert, by the last-access recorder.

A canary must not be told apart from an unknown token, also not by timing, so its
``canary_used`` event is not written in the request: it is queued here and written by a
daemon thread (one per worker process) as soon as it wakes, normally within milliseconds;
what is still queued is written on graceful shutdown. A write that fails (database gone) is
kept and retried.
"""
from __future__ import annotations

import collections
import logging
import threading
from datetime import datetime

from sqlalchemy.orm import Session

from .. import process
from ..services import events, origins

log = logging.getLogger(__name__)
RETRY = 0.5          # seconds between attempts while the database fails
MAX_QUEUED = 10_000  # canary uses kept while the database is away; the oldest are dropped


class Alarms:
    def __init__(self, engine, alert: bool):
        self.engine = engine
        self.alert = alert  # a webhook is configured: alertable events are queued for it
        self._queue: collections.deque = collections.deque(maxlen=MAX_QUEUED)
        self._wake = threading.Condition()
        self._pid = None
        self._stop = False

    def new_origin(self, token_id: str, origin: str, at: datetime) -> bool:
        """Store ``origin`` for ``token_id`` (and its ``new_origin`` event when it is not the
        token's first). Returns whether it was new. Raises the database's errors."""
        with Session(self.engine) as session, session.begin():
            return origins.record_new(session, token_id, origin, at, alert=self.alert)

    def canary_used(self, snapshot, origin: str | None, at: datetime) -> None:
        """Queue a ``canary_used`` event; returns at once."""
        self._ensure_running()
        with self._wake:
            self._queue.append((snapshot.token_id, snapshot.user_id, origin, at))
            self._wake.notify()

    def flush(self) -> int:
        """Write every queued event now (graceful shutdown, tests). Returns how many were
        written. Raises the database's errors; what was not written stays queued."""
        with self._wake:
            batch = list(self._queue)
            self._queue.clear()
        if not batch:
            return 0
        try:
            with Session(self.engine) as session, session.begin():
                for token_id, user_id, origin, at in batch:
                    events.record(session, "canary_used", token_id=token_id, user_id=user_id,
                                  origin=origin, alert=self.alert, at=at)
        except Exception:
            with self._wake:
                self._queue.extendleft(reversed(batch))
            raise
        return len(batch)

    def close(self) -> None:
        """Stop the thread after writing what is queued (worker exit, tests)."""
        with self._wake:
            self._stop = True
            self._wake.notify()
        try:
            self.flush()
        except Exception as error:  # noqa: BLE001 - shutting down; say what was lost
            log.error("canary events not written at shutdown: %s", error.__class__.__name__)

    def _ensure_running(self) -> None:
        if self._pid == process.pid():
            return
        with self._wake:
            if self._pid != process.pid():  # a forked worker starts its own
                self._pid = process.pid()
                threading.Thread(target=self._run, name="tokenauth-alarms", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._stop:
                    self._wake.wait()
                if self._stop:
                    return
            try:
                self.flush()
            except Exception as error:  # noqa: BLE001 - kept queued; try again shortly
                log.warning("canary events not written yet: %s", error.__class__.__name__)
                with self._wake:
                    self._wake.wait(RETRY)
