"""Metrics counted per worker and published in batches: the published values are exactly
what observing each answer one by one would give."""
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
