"""The per-worker verify cache: TTL, least-recently-used eviction, bounded size, lookups
without a lock beside threads that change it."""
import threading
import time

import pytest

from tokenauth.verify.cache import VerifyCache

from ..helpers import bearer, listening


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_entries_expire_after_the_ttl():
    clock = Clock()
    cache = VerifyCache(ttl=2, clock=clock)
    cache.put("a", 1)
    clock.now += 1.99
    assert cache.get("a") == 1
    clock.now += 0.01
    assert cache.get("a") is None


def test_while_nobody_vouches_for_the_cache_it_serves_nothing_older_than_a_second():
    clock = Clock()
    cache = VerifyCache(ttl=300, clock=clock)
    cache.put("a", 1)
    cache.vouch(clock.now + 5)  # a listener's proof of life
    clock.now += 4.9
    assert cache.get("a") == 1  # vouched for: the TTL is the only limit
    clock.now += 0.1
    assert cache.get("a") is None  # the vouching ran out: 5 s is too old
    cache.put("b", 2)
    clock.now += 0.99
    assert cache.get("b") == 2  # younger than a second: still served
    clock.now += 0.01
    assert cache.get("b") is None
    cache.vouch(clock.now + 1)
    assert cache.get("a") == 1 and cache.get("b") == 2  # kept for when it is vouched again
    cache.vouch(float("-inf"))  # a forked worker: its parent's listener is not its own
    assert cache.get("a") is None


def test_a_full_cache_evicts_only_the_least_recently_used():
    cache = VerifyCache(ttl=60, max_entries=3)
    for key in "abc":
        cache.put(key, key.upper())
    assert cache.get("a") == "A"  # a is now the most recently used
    cache.put("d", "D")
    assert cache.get("b") is None
    assert [cache.get(key) for key in "acd"] == ["A", "C", "D"]
    assert len(cache) == 3


def test_discard_drops_only_matching_values():
    cache = VerifyCache(ttl=60)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.discard(lambda value: value == 1) == 1
    assert cache.get("a") is None and cache.get("b") == 2


def test_lookups_without_the_lock_stay_right_while_other_threads_change_the_cache():
    cache = VerifyCache(ttl=300, max_entries=50)
    keys = [f"k{n}" for n in range(100)]
    stop_at = time.monotonic() + 1.0
    errors, wrong = [], []

    def read():
        while time.monotonic() < stop_at:
            for key in keys:
                value = cache.get(key)
                if value is not None and value != ("value of", key):
                    wrong.append((key, value))

    def change():
        while time.monotonic() < stop_at:
            for key in keys:
                cache.put(key, ("value of", key))  # evicting: at most 50 fit
            cache.discard(lambda value: value[1].endswith("7"))

    def guarded(work):
        try:
            work()
        except Exception as error:  # noqa: BLE001 - the assertion below names it
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(work,))
               for work in [read] * 4 + [change] * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [] and wrong == []
    assert len(cache) <= 50
    cache.discard(lambda value: True)
    assert len(cache) == 0 and all(cache.get(key) is None for key in keys)


def test_ttl_zero_keeps_nothing():
    cache = VerifyCache(ttl=0)
    cache.put("a", 1)
    assert cache.get("a") is None


class CountingStore:
    def __init__(self, store):
        self.store, self.lookups = store, 0

    def snapshot(self, digest):
        self.lookups += 1
        return self.store.snapshot(digest)


def test_a_full_cache_does_not_send_every_token_to_the_database(make_app, make_user, make_token):
    app = listening(make_app(verify_cache_ttl=300, verify_cache_size=3))
    verifier = app.extensions["tokenauth"].verifier
    verifier.store = counting = CountingStore(verifier.store)
    alice = make_user("alice")
    tokens = [make_token(alice, name=f"t{i}").raw for i in range(4)]
    client = app.test_client()
    for raw in tokens:
        assert client.get("/verify", headers=bearer(raw)).status_code == 200
    assert counting.lookups == 4  # the fourth evicted the coldest (the first) only
    for raw in tokens[1:]:
        assert client.get("/verify", headers=bearer(raw)).status_code == 200
    assert counting.lookups == 4
    assert client.get("/verify", headers=bearer(tokens[0])).status_code == 200
    assert counting.lookups == 5


@pytest.mark.parametrize("size", [0, -1])
def test_cache_size_must_be_positive(make_app, size):
    from tokenauth.settings import SettingsError
    with pytest.raises(SettingsError, match="TOKENAUTH_VERIFY_CACHE_SIZE"):
        make_app(verify_cache_size=size)
