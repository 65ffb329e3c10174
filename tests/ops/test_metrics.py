"""Metrics counted per worker and published in batches: the published values are exactly
what observing each answer one by one would give."""
import os
import sys
import threading
import time

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from tokenauth.ops.metrics import LATENCY_BUCKETS, Metrics


@pytest.fixture
def metrics(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    metrics = Metrics(flush_interval=0.05)
    yield metrics
    metrics.close()


def bucket_lines(text: str, name: str) -> list[str]:
    return [line.split(name, 1)[1] for line in text.splitlines()
            if line.startswith(name + "_bucket") or line.startswith(name + "_count")]


def test_published_latency_equals_observing_each_answer(metrics):
    latencies = [0.0001, 0.0005, 0.0007, 0.001, 0.0011, 0.3, 1.0, 2.0, 0.0025, 0.0]
    for seconds in latencies:
        metrics.verify_answered("ok", seconds)
    published = metrics.exposition().decode()
    registry = CollectorRegistry()
    twin = Histogram("ref_seconds", "reference", buckets=LATENCY_BUCKETS, registry=registry)
    for seconds in latencies:
        twin.observe(seconds)
    assert bucket_lines(published, "tokenauth_verify_duration_seconds") == \
        bucket_lines(generate_latest(registry).decode(), "ref_seconds")


def test_outcomes_and_cache_results_add_up(metrics):
    for outcome in ("ok", "ok", "invalid"):
        metrics.verify_answered(outcome, 0.001)
    metrics.cache_lookup(hit=True)
    metrics.cache_lookup(hit=False)
    metrics.cache_lookup(hit=False)
    text = metrics.exposition().decode()
    assert 'tokenauth_verify_total{outcome="ok"} 2.0' in text
    assert 'tokenauth_verify_total{outcome="invalid"} 1.0' in text
    assert 'tokenauth_verify_cache_total{result="miss"} 2.0' in text


def test_counts_reach_the_registry_without_anyone_asking(metrics):
    metrics.verify_answered("ok", 0.001)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        value = metrics.registry.get_sample_value("tokenauth_verify_total", {"outcome": "ok"})
        if value == 1.0:
            return
        time.sleep(0.02)
    pytest.fail("the background flush never published the count")


@pytest.fixture
def frequent_thread_switches():
    """Switch threads every microsecond or so, so a count that is not thread-safe loses
    some in a test of this size."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def test_counts_from_many_threads_add_up_exactly_while_being_flushed(
        metrics, frequent_thread_switches):
    per_thread, generations, width = 1500, 2, 6
    flushing = threading.Event()

    def flush_all_along():
        while not flushing.is_set():
            metrics.flush()

    def answer():
        for index in range(per_thread):
            metrics.cache_lookup(hit=index % 3 != 0)
            metrics.verify_answered("ok" if index % 2 else "invalid", 0.0007)

    flusher = threading.Thread(target=flush_all_along)
    flusher.start()
    for _ in range(generations):  # the first generation has ended when the second counts
        threads = [threading.Thread(target=answer) for _ in range(width)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    flushing.set()
    flusher.join()
    text = metrics.exposition().decode()

    answers = per_thread * generations * width
    hits = sum(1 for index in range(per_thread) if index % 3) * generations * width
    assert f'tokenauth_verify_total{{outcome="ok"}} {answers / 2}' in text
    assert f'tokenauth_verify_total{{outcome="invalid"}} {answers / 2}' in text
    assert f'tokenauth_verify_cache_total{{result="hit"}} {float(hits)}' in text
    assert f'tokenauth_verify_cache_total{{result="miss"}} {float(answers - hits)}' in text
    assert f"tokenauth_verify_duration_seconds_count {float(answers)}" in text


def test_threads_that_ended_leave_their_counts_but_no_state(metrics):
    def answer():
        metrics.verify_answered("ok", 0.001)

    for _ in range(50):  # request threads that come and go, as granian's do
        thread = threading.Thread(target=answer)
        thread.start()
        thread.join()
    text = metrics.exposition().decode()
    assert 'tokenauth_verify_total{outcome="ok"} 50.0' in text
    if os.path.isdir("/proc/self/task"):  # where ended threads can be told apart
        # A join may return just before the system thread is gone: flush until it is.
        deadline = time.monotonic() + 5
        while len(metrics._threads) > 0 and time.monotonic() < deadline:
            metrics.flush()
            time.sleep(0.01)
        assert metrics._threads == []  # none kept: this thread counted nothing here
    metrics.verify_answered("ok", 0.001)  # later counts add to the kept ones
    assert 'tokenauth_verify_total{outcome="ok"} 51.0' in metrics.exposition().decode()


def test_a_forked_child_publishes_only_its_own_counts(metrics):
    for _ in range(3):
        metrics.verify_answered("ok", 0.001)
    metrics.flush()  # 3 published; 2 more counted but not yet published, the parent's own
    metrics.verify_answered("ok", 0.001)
    metrics.verify_answered("ok", 0.001)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child reports its published value, then leaves without cleanup
        try:
            metrics.verify_answered("ok", 0.001)
            value = metrics.registry.get_sample_value(
                "tokenauth_verify_total", {"outcome": "ok"}) if metrics.flush() is None else -1
            os.write(write, str(value).encode())
        finally:
            os._exit(0)
    os.close(write)
    reported = os.read(read, 100).decode()
    os.close(read)
    os.waitpid(child, 0)
    assert reported == "4.0"  # the 3 it inherited published, plus its own 1
    metrics.flush()
    assert metrics.registry.get_sample_value(
        "tokenauth_verify_total", {"outcome": "ok"}) == 5.0  # the parent's, unchanged
