"""Prometheus metrics, correct across gunicorn workers.

Under gunicorn ``PROMETHEUS_MULTIPROC_DIR`` is set (by the gunicorn config) before the app is
imported, each worker writes its values to files there, and ``/metrics`` adds them up.
Without it (tests, ``flask run``) the app keeps its own registry.

/verify counts in plain per-thread integers, and a background thread adds them up into
prometheus_client's values at most once a second (and when the worker stops): each
prometheus_client increment writes a shared memory file, which cost /verify about 15 µs of
its 35 µs. So ``/metrics`` may be up to one second behind. Counting takes no lock: only its
own thread writes a thread's counts. A lock shared by every request thread (two a /verify)
formed convoys under load, as in verify/cache.py: in A/B runs through nginx (on a noisy
host), cached /verify served about 3% more requests without it.
"""
from __future__ import annotations

import bisect
import os
import threading

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from .. import process

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
        self._local = threading.local()  # .counts: this thread's _Counts
        self._lock = threading.Lock()  # the registry below and one flush at a time
        self._threads: list[_Counts] = []  # every counting thread's counts, live or ended
        self._ended = _Counts()  # the final counts of threads that have ended
        self._published = _Counts()  # what the Prometheus values hold so far
        self._flusher: threading.Thread | None = None
        self._stopped = threading.Event()
        process.in_forked_children(self._forked)

    def _forked(self) -> None:
        """A forked child counts and publishes its own: the parent's counts (published or
        not), its lock (maybe held at the fork) and its flush thread stay with the parent."""
        self._local = threading.local()
        self._lock = threading.Lock()
        self._threads, self._ended, self._published = [], _Counts(), _Counts()
        self._flusher = None

    # -- counting (the /verify path): this thread's own counts, no lock ------------------
    # Each counting method reads the thread's counts itself: a helper's frame costs more
    # than the count (twice a /verify).
    def _counts(self) -> "_Counts":
        try:
            return self._local.counts
        except AttributeError:
            return self._first_counts()

    def _first_counts(self) -> "_Counts":
        """This thread's counts, new: registered for the flush, which starts with them."""
        counts = self._local.counts = _Counts(threading.get_native_id())
        with self._lock:
            self._threads.append(counts)
        if self._flusher is None:
            self._start_flusher()
        return counts

    def verify_answered(self, outcome: str, seconds: float) -> None:
        try:
            counts = self._local.counts
        except AttributeError:
            counts = self._first_counts()
        counts.outcomes[outcome] = counts.outcomes.get(outcome, 0) + 1
        counts.buckets[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        counts.seconds += seconds

    def cache_lookup(self, hit: bool) -> None:
        try:
            counts = self._local.counts
        except AttributeError:
            counts = self._first_counts()
        counts.cache[0 if hit else 1] += 1

    def last_access_written(self, written: bool) -> None:
        if written:
            self._counts().writes += 1

    # -- publishing ----------------------------------------------------------------------
    def flush(self) -> None:
        """Add what was counted since the last flush to the Prometheus values."""
        with self._lock:
            total = _Counts()
            total.add(self._ended)
            for counts in list(self._threads):
                ended = counts.ended()  # before reading: an ended thread counts no more
                snapshot = counts.copy()
                total.add(snapshot)
                if ended:
                    self._ended.add(snapshot)
                    self._threads.remove(counts)
            increase, self._published = total.minus(self._published), total
        for outcome, count in increase.outcomes.items():
            if count:
                self.verify_total.labels(outcome=outcome).inc(count)
        for result, count in zip(("hit", "miss"), increase.cache):
            if count:
                self.cache_total.labels(result=result).inc(count)
        if increase.writes:
            self.last_access_writes.inc(increase.writes)
        if any(increase.buckets):
            # Histogram.observe() takes one value at a time; its per-bucket values (one
            # more than the bounds, for +Inf) and its sum take counts like a Counter.
            for value, count in zip(self.verify_seconds._buckets, increase.buckets):
                if count:
                    value.inc(count)
            self.verify_seconds._sum.inc(increase.seconds)

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


class _Counts:
    """Counts since a thread started (or sums of them). Only the owning thread changes its
    counts, and the flush copies them, each container in one step the GIL keeps whole."""

    __slots__ = ("outcomes", "buckets", "seconds", "cache", "writes", "native_id")

    def __init__(self, native_id: int | None = None):
        self.outcomes: dict[str, int] = {}
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self.seconds = 0.0
        self.cache = [0, 0]  # hits, misses
        self.writes = 0
        self.native_id = native_id

    def ended(self) -> bool:
        """Whether the owning thread has ended (Linux lists live threads in /proc; elsewhere
        a thread's counts are kept as if it lived)."""
        return self.native_id is not None and process.thread_ended(self.native_id)

    def copy(self) -> "_Counts":
        copy = _Counts()
        copy.outcomes, copy.buckets = dict(self.outcomes), list(self.buckets)
        copy.seconds, copy.cache, copy.writes = self.seconds, list(self.cache), self.writes
        return copy

    def add(self, other: "_Counts") -> None:
        for outcome, count in other.outcomes.items():
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + count
        self.buckets = [a + b for a, b in zip(self.buckets, other.buckets)]
        self.seconds += other.seconds
        self.cache = [a + b for a, b in zip(self.cache, other.cache)]
        self.writes += other.writes

    def minus(self, earlier: "_Counts") -> "_Counts":
        increase = _Counts()
        increase.outcomes = {outcome: count - earlier.outcomes.get(outcome, 0)
                             for outcome, count in self.outcomes.items()}
        increase.buckets = [a - b for a, b in zip(self.buckets, earlier.buckets)]
        increase.seconds = self.seconds - earlier.seconds
        increase.cache = [a - b for a, b in zip(self.cache, earlier.cache)]
        increase.writes = self.writes - earlier.writes
        return increase
