"""Prometheus metrics, correct across gunicorn workers.

Under gunicorn ``PROMETHEUS_MULTIPROC_DIR`` is set (by ``gunicorn.conf.py``) before the
app is imported, each worker writes its values to files there, and ``/metrics`` adds them
up. Without it (tests, ``flask run``) the app keeps its own registry.
"""
from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class Metrics:
    def __init__(self):
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
        # Label lookups cost more than the increments; /verify uses these bound children.
        self._outcomes: dict = {}
        self._cache_results = {True: self.cache_total.labels(result="hit"),
                               False: self.cache_total.labels(result="miss")}

    def verify_answered(self, outcome: str, seconds: float) -> None:
        counter = self._outcomes.get(outcome)
        if counter is None:
            counter = self._outcomes[outcome] = self.verify_total.labels(outcome=outcome)
        counter.inc()
        self.verify_seconds.observe(seconds)

    def cache_lookup(self, hit: bool) -> None:
        self._cache_results[hit].inc()

    def last_access_written(self, written: bool) -> None:
        if written:
            self.last_access_writes.inc()

    def exposition(self) -> bytes:
        """The Prometheus text format of every worker's values."""
        if self.multiprocess:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
