"""One daemon thread per gunicorn worker that delivers alerts and runs the sweeps.

Started by the gunicorn ``post_worker_init`` hook (``Runtime.start_background``), stopped
by ``Runtime.close`` on worker exit. It never touches the /verify path: it has its own
database connections from the app's pool, and any failure is logged and retried on the
next tick.
"""
from __future__ import annotations

import logging
import random
import threading
import time

from .. import process
from .delivery import BATCH

log = logging.getLogger(__name__)
POLL = 1.0            # seconds between looks at the outbox: first attempt within ~1 s
SWEEP_EVERY = 300.0   # seconds between sweeps (each worker; jittered); 0: no sweeps
DELIVERY_ROUNDS = 5   # outbox batches per tick at most


class Housekeeper:
    def __init__(self, deliverer, sweeper, poll: float = POLL, sweep_every: float = SWEEP_EVERY):
        self.deliverer = deliverer  # None without a webhook
        self.sweeper = sweeper
        self.poll = poll
        self.sweep_every = sweep_every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = None
        self._failing = False

    def start(self) -> None:
        """Start the thread in this process (each forked worker starts its own)."""
        if self._pid == process.pid() or self._stop.is_set():
            return
        self._pid = process.pid()
        self._thread = threading.Thread(target=self._run, name="tokenauth-housekeeping",
                                        daemon=True)
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread, waiting for the current step (a claim left by a POST that
        outlives the wait expires with its lease, and another worker sends it again)."""
        self._stop.set()
        if self._thread is not None and self._pid == process.pid():
            self._thread.join(timeout)

    def tick(self, sweep: bool) -> None:
        """Deliver what is due (a few batches at most), and sweep when asked."""
        if self.deliverer is not None:
            for _ in range(DELIVERY_ROUNDS):
                if self.deliverer.deliver_due() < BATCH:
                    break
        if sweep:
            self.sweeper.run()

    def _run(self) -> None:
        # Workers started together should not all sweep at the same moment.
        next_sweep = time.monotonic() + random.uniform(0, self.sweep_every)
        while not self._stop.is_set():
            sweep = self.sweep_every > 0 and time.monotonic() >= next_sweep
            if sweep:
                next_sweep = time.monotonic() + self.sweep_every * random.uniform(0.8, 1.2)
            try:
                self.tick(sweep)
                if self._failing:
                    log.warning("housekeeping is back")
                self._failing = False
            except Exception as error:  # noqa: BLE001 - the database may be away: next tick
                if not self._failing:
                    log.warning("housekeeping failed (%s); retrying every %g s",
                                error.__class__.__name__, self.poll)
                self._failing = True
            self._stop.wait(self.poll)
