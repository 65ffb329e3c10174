"""Counts shared through Redis: replicas add up one count, a lock learned from Redis is kept
locally, and Redis going away (stopped, or hanging) fails nothing and loosens nothing."""
import logging

import pytest

from tokenauth.security.counters import NO_COUNT
from tokenauth.security.redis_counters import RedisCounterStore, redis_client
from tokenauth.security.shared_memory import SharedMemoryCounterStore

from ..redis_server import black_hole

SECRET = "test-secret-key-" + "x" * 32


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_replica(clock):
    """A store as one replica builds it: its server's local table under Redis."""
    made = []

    def make(url):
        store = RedisCounterStore(redis_client(url), SharedMemoryCounterStore(None), SECRET,
                                  clock=clock)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


def test_redis_replicas_add_up_one_count(redis_server, make_replica):
    first, second = make_replica(redis_server.url), make_replica(redis_server.url)
    for _ in range(3):
        first.add("verify:192.0.2.1", 60)
    assert second.add("verify:192.0.2.1", 60).hits == 4
    assert first.get("verify:192.0.2.1").hits == second.get("verify:192.0.2.1").hits == 4
    assert 59 < first.get("verify:192.0.2.1").seconds_left <= 60


def test_redis_counts_learned_are_kept_locally(redis_server, make_replica):
    first, second = make_replica(redis_server.url), make_replica(redis_server.url)
    for _ in range(5):
        first.add("verify:192.0.2.1", 60)
    assert second.peek("verify:192.0.2.1") == NO_COUNT  # peek never asks Redis
    assert second.get("verify:192.0.2.1").hits == 5
    assert second.local.peek("verify:192.0.2.1").hits == 5  # now every local check sees it


def test_redis_keys_name_no_username_and_always_expire(redis_server, make_replica):
    store = make_replica(redis_server.url)
    store.add("login:fail:192.0.2.1 alice-typed-her-password-here", 60)
    client = redis_server.client()
    [key] = client.keys("*")
    assert b"alice" not in key and b"192.0.2.1" not in key
    assert 0 < client.pttl(key) <= 60_000


def test_redis_clear_forgets_everywhere(redis_server, make_replica):
    first, second = make_replica(redis_server.url), make_replica(redis_server.url)
    first.add("k", 60)
    second.get("k")
    second.clear("k")
    assert first.get("k").hits == 1  # first's own local count stays: it was counted there
    assert second.get("k") == NO_COUNT
    assert redis_server.client().keys("*") == []


def test_redis_stopped_mid_run_warns_once_and_counts_locally(redis_server, make_replica, clock,
                                                            caplog):
    store = make_replica(redis_server.url)
    for _ in range(3):
        store.add("verify:192.0.2.1", 60)
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="tokenauth"):
        assert store.add("verify:192.0.2.1", 60).hits == 4  # no exception, the local count
        clock.now += 10  # past the pause: Redis is tried again, and fails again
        assert store.add("verify:192.0.2.1", 60).hits == 5
        assert store.get("verify:192.0.2.1").hits == 5
        store.clear("other")
    warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(warnings) == 1  # at most once a minute
    assert "ConnectionError" in warnings[0].getMessage()
    assert redis_server.url not in caplog.text


def test_redis_emptied_never_allows_what_local_counts_deny(redis_server, make_replica):
    store = make_replica(redis_server.url)
    for _ in range(10):
        store.add("verify:192.0.2.1", 60)
    redis_server.client().flushall()  # e.g. Redis restarted without persistence
    assert store.get("verify:192.0.2.1").hits == 10
    assert store.add("verify:192.0.2.1", 60).hits == 11


def test_a_hanging_redis_costs_one_timeout_then_is_skipped_for_a_while(make_replica, clock):
    with black_hole() as (url, accepted):
        store = make_replica(url)
        assert store.add("k", 60).hits == 1  # waited for the timeout once
        assert len(accepted) == 1
        for _ in range(5):
            store.add("k", 60)
            store.get("k")
        assert len(accepted) == 1  # the breaker kept Redis out of these
        assert store.get("k").hits == 6
        clock.now += 10
        store.get("k")  # tried again after the pause
        assert len(accepted) == 2


def test_redis_answering_again_is_used_again(redis_server, make_replica, clock):
    store = make_replica(redis_server.url)
    store.client = redis_client("redis://127.0.0.1:1/0")  # unreachable for now
    store.add("k", 60)
    store.client = redis_client(redis_server.url)
    store.add("k", 60)  # within the pause: local only
    assert redis_server.client().keys("*") == []
    clock.now += 10
    assert store.add("k", 60).hits == 3
    assert len(redis_server.client().keys("*")) == 1
