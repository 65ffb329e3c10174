"""Prometheus metrics, correct across gunicorn workers.

Under gunicorn ``PROMETHEUS_MULTIPROC_DIR`` is set (by the gunicorn config) before the app is
imported, each worker writes its values to files there, and ``/metrics`` adds them up.
Without it (tests, ``flask run``) the app keeps its own registry.

/verify counts in plain per-worker integers under one lock, and a background thread adds
them to prometheus_client's values at most once a second (and when the worker stops): each
prometheus_client increment writes a shared memory file, which cost /verify about 15 µs of
its 35 µs. So ``/metrics`` may be up to one second behind.
"""
from __future__ import annotations

import bisect
import collections
import os
import threading

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
FLUSH_INTERVAL = 1.0  # seconds


class Metrics:
    def __init__(self, flush_interval: float = FLUSH_INTERVAL):
        folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        self.multiprocess = bool(folder)
        if folder:  # e.g. the CLI run with gunicorn's environment, before gunicorn made it
            os.makedirs(folder, exist_ok=True)
        self.registry = CollectorRegistry(auto_describe=True)
        target = None if self.multiprocess else self.registry
        self.verify_total = Counter(
            "tokenauth_verify", "Verify answers by outcome (ok or the X-Auth-Error reason).",
            ["outcome"], registry=target)
        self.verify_seconds = Histogram(
            "tokenauth_verify_duration_seconds", "Time to answer /verify.",
            buckets=LATENCY_BUCKETS, registry=target)
        self.cache_total = Counter(
            "tokenauth_verify_cache", "Verify cache lookups by result (hit or miss).",
            ["result"], registry=target)
        self.last_access_writes = Counter(
            "tokenauth_last_access_writes", "Last-access writes that changed a token row.",
            registry=target)
        self.flush_interval = flush_interval
        self._lock = threading.Lock()
        self._pending = _Pending()
        self._flusher: threading.Thread | None = None
        self._stopped = threading.Event()

    # -- counting (the /verify path) -----------------------------------------------------
    def verify_answered(self, outcome: str, seconds: float) -> None:
        bucket = bisect.bisect_left(LATENCY_BUCKETS, seconds)
        with self._lock:
            pending = self._pending
            pending.outcomes[outcome] += 1
            pending.buckets[bucket] += 1
            pending.seconds += seconds
        if self._flusher is None:
            self._start_flusher()

    def cache_lookup(self, hit: bool) -> None:
        with self._lock:
            self._pending.cache["hit" if hit else "miss"] += 1

    def last_access_written(self, written: bool) -> None:
        if written:
            with self._lock:
                self._pending.writes += 1

    # -- publishing ----------------------------------------------------------------------
    def flush(self) -> None:
        """Add what was counted since the last flush to the Prometheus values."""
        with self._lock:
            pending, self._pending = self._pending, _Pending()
        for outcome, count in pending.outcomes.items():
            self.verify_total.labels(outcome=outcome).inc(count)
        for result, count in pending.cache.items():
            self.cache_total.labels(result=result).inc(count)
        if pending.writes:
            self.last_access_writes.inc(pending.writes)
        if any(pending.buckets):
            # Histogram.observe() takes one value at a time; its per-bucket values (one
            # more than the bounds, for +Inf) and its sum take counts like a Counter.
            for value, count in zip(self.verify_seconds._buckets, pending.buckets):
                if count:
                    value.inc(count)
            self.verify_seconds._sum.inc(pending.seconds)

    def _start_flusher(self) -> None:
        with self._lock:
            if self._flusher is not None:
                return
            self._flusher = threading.Thread(target=self._flush_periodically,
                                             name="tokenauth-metrics", daemon=True)
        self._flusher.start()

    def _flush_periodically(self) -> None:
        while not self._stopped.wait(self.flush_interval):
            self.flush()

    def close(self) -> None:
        """Stop the background flush and publish what is left (worker exit)."""
        self._stopped.set()
        self.flush()

    def exposition(self) -> bytes:
        """The Prometheus text format of every worker's values."""
        self.flush()
        if self.multiprocess:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


class _Pending:
    """Counts not yet published."""

    __slots__ = ("outcomes", "buckets", "seconds", "cache", "writes")

    def __init__(self):
        self.outcomes = collections.Counter()
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self.seconds = 0.0
        self.cache = collections.Counter()
        self.writes = 0
