"""The /verify failure throttle (SPEC 3): ``malformed`` and ``invalid`` answers counted per
client IP; at the limit, every /verify from that IP is 401 ``rate_limited`` with
Retry-After, without a database lookup, until the window ends; other IPs unaffected; one
count per server however the requests spread over its workers."""
import time

import pytest

from tokenauth.security.tokens import generate
from tokenauth.verify.throttle import FailureThrottle

from ..helpers import basic, bearer, corrupt, listening, one_database
from ..servers import SERVERS, tokenauth_env
from ..worker_connections import connections_to_each_worker, send

backend = one_database()  # the counters live outside the database

LIMIT = 3
ATTACKER, BYSTANDER = "198.51.100.7", "198.51.100.8"


class Clock:
    """The counters' monotonic clock, moved by the test."""

    def __init__(self):
        self.now = time.monotonic()

    def __call__(self):
        return self.now


class CountingStore:
    def __init__(self, store):
        self.store, self.lookups = store, 0

    def snapshot(self, digest):
        self.lookups += 1
        return self.store.snapshot(digest)


@pytest.fixture
def throttled(make_app):
    """An app with a limit of 3 failures in 60 s, its counters on a test clock and its
    token lookups counted: ``(client, runtime, clock, store)``."""
    app = make_app(verify_max_failures=LIMIT, verify_failure_window=60, verify_cache_ttl=60)
    runtime = app.extensions["tokenauth"]
    clock = runtime.counters.clock = Clock()
    runtime.verifier.store = store = CountingStore(runtime.verifier.store)
    return app.test_client(), runtime, clock, store


def verify(client, headers=None, ip=ATTACKER):
    return client.get("/verify", headers={**(headers or {}), "X-Real-IP": ip})


def unknown():
    return bearer(generate("tka"))


def assert_rate_limited(response, at_most=60):
    assert response.status_code == 401
    assert response.headers["X-Auth-Error"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= at_most
    assert "X-Auth-User" not in response.headers


@pytest.mark.parametrize("failure", ["invalid", "malformed"])
def test_the_limit_locks_the_ip_out_without_database_lookups(throttled, make_user, make_token,
                                                             failure):
    client, _, _, store = throttled
    valid = make_token(make_user("alice"))
    bad = unknown() if failure == "invalid" else bearer(corrupt(valid.raw))
    for _ in range(LIMIT):
        assert verify(client, bad).headers["X-Auth-Error"] == failure
    lookups = store.lookups
    for headers in (bad, unknown(), bearer(valid.raw), basic("alice", valid.raw), {},
                    {"Authorization": "Bearer"}):
        assert_rate_limited(verify(client, headers))
    assert store.lookups == lookups


def test_other_ips_are_unaffected(throttled, make_user, make_token):
    client, *_ = throttled
    valid = make_token(make_user("alice"))
    for _ in range(LIMIT):
        verify(client, unknown())
    assert verify(client, unknown(), ip=BYSTANDER).headers["X-Auth-Error"] == "invalid"
    assert verify(client, bearer(valid.raw), ip=BYSTANDER).status_code == 200


def test_only_malformed_and_invalid_count(throttled, make_user, make_token):
    client, *_ = throttled
    alice = make_user("alice")
    valid, revoked = make_token(alice), make_token(alice, revoked=True)
    for _ in range(LIMIT + 2):
        assert verify(client, bearer(valid.raw)).status_code == 200
        assert verify(client, bearer(revoked.raw)).headers["X-Auth-Error"] == "revoked"
        assert verify(client).headers["X-Auth-Error"] == "missing"
    assert verify(client, unknown()).headers["X-Auth-Error"] == "invalid"


def test_the_lock_ends_when_the_window_of_the_first_failure_does(throttled, make_user,
                                                                 make_token):
    client, _, clock, _ = throttled
    valid = make_token(make_user("alice"))
    verify(client, unknown())
    clock.now += 20
    for _ in range(LIMIT - 1):
        verify(client, unknown())
    assert_rate_limited(verify(client, bearer(valid.raw)), at_most=40)
    clock.now += 39.5
    assert verify(client, bearer(valid.raw)).headers["Retry-After"] == "1"
    clock.now += 0.5
    assert verify(client, bearer(valid.raw)).status_code == 200
    assert verify(client, unknown()).headers["X-Auth-Error"] == "invalid"  # counted from 1


def test_a_lock_counted_by_another_worker_stops_the_database_lookup(throttled, make_user,
                                                                    make_token):
    """The lock-free check missed it (another worker's count, a racing write): the check
    before the lookup still refuses."""
    client, runtime, _, store = throttled
    valid = make_token(make_user("alice"))
    peek = runtime.counters.peek
    runtime.counters.peek = lambda key: peek("nobody")  # every lock-free read misses
    for _ in range(LIMIT):
        verify(client, unknown())
    lookups = store.lookups
    assert_rate_limited(verify(client, unknown()))
    assert_rate_limited(verify(client, bearer(valid.raw)))  # not cached yet: a lookup
    assert store.lookups == lookups


def test_while_nobody_is_locked_no_request_reads_a_count(throttled, make_user, make_token):
    """Every /verify asks whether its client is locked: while nobody is, the store's flag
    answers, and no client's count is read (below the limit, failures still count)."""
    client, runtime, _, _ = throttled
    valid = make_token(make_user("alice"))
    counters, reads = runtime.counters, []
    peek = counters.peek
    counters.peek = lambda key: reads.append(key) or peek(key)
    for _ in range(5):
        assert verify(client, bearer(valid.raw)).status_code == 200
    for _ in range(LIMIT - 1):
        assert verify(client, unknown()).headers["X-Auth-Error"] == "invalid"
    assert verify(client, bearer(valid.raw), ip=BYSTANDER).status_code == 200
    assert reads == []
    verify(client, unknown())  # the limit: ATTACKER is locked, and the flag is up
    assert_rate_limited(verify(client, bearer(valid.raw)))
    assert verify(client, bearer(valid.raw), ip=BYSTANDER).status_code == 200
    assert reads == ["verify:" + ATTACKER, "verify:" + BYSTANDER]


def test_password_guesses_count_and_are_refused_once_locked(make_app, make_user):
    app = make_app(verify_max_failures=LIMIT, allow_password_auth=True,
                   login_max_failures=100, login_ip_max_failures=100)
    make_user("alice")
    client = app.test_client()
    for _ in range(LIMIT):
        assert verify(client, basic("alice", "wrong")).headers["X-Auth-Error"] == "invalid"
    assert_rate_limited(verify(client, basic("alice", "wrong")))


def test_zero_turns_the_throttle_off(make_app):
    client = make_app(verify_max_failures=0).test_client()
    for _ in range(40):
        assert verify(client, unknown()).headers["X-Auth-Error"] == "invalid"


@pytest.mark.parametrize("overrides", [{"verify_max_failures": -1},
                                       {"verify_failure_window": 0},
                                       {"redis_url": "http://127.0.0.1:6379"}])
def test_bad_settings_are_refused(make_app, overrides):
    from tokenauth.settings import SettingsError
    with pytest.raises(SettingsError, match="TOKENAUTH_"):
        make_app(**overrides)


def test_retry_after_is_none_below_the_limit():
    from tokenauth.security.counters import MemoryCounterStore
    throttle = FailureThrottle(MemoryCounterStore(), max_failures=2, window=60)
    throttle.failed(ATTACKER)
    assert throttle.retry_after(ATTACKER) is None
    throttle.failed(ATTACKER)
    assert throttle.retry_after(ATTACKER) == throttle.retry_after(ATTACKER, True) == 60
    assert throttle.retry_after(BYSTANDER) is None


# -- one count per server: 2 workers (gunicorn's or granian's) over real HTTP ---------------
@pytest.mark.e2e
@pytest.mark.parametrize("server", ["gunicorn", "granian"])
def test_two_workers_trip_after_exactly_the_limit_in_total(database_url, make_user, make_token,
                                                           tmp_path, server):
    valid = make_token(make_user("alice"))
    env = tokenauth_env(database_url, tmp_path / "instance", verify_max_failures=5)
    headers = {**unknown(), "X-Real-IP": ATTACKER}
    with SERVERS[server](env, tmp_path / "logs", workers=2) as (url, process):
        first, second = connections_to_each_worker(url, process.pid)
        # 3 failures answered by one worker, 2 by the other: 5 in all.
        for connection in (first, second, first, second, first):
            status, answer = send(connection, "/verify", headers)
            assert (status, answer["X-Auth-Error"]) == (401, "invalid")
        for connection in (second, first):
            status, answer = send(connection, "/verify",
                                  {**bearer(valid.raw), "X-Real-IP": ATTACKER})
            assert (status, answer["X-Auth-Error"]) == (401, "rate_limited")
            assert 1 <= int(answer["Retry-After"]) <= 60
        status, _ = send(second, "/verify", {**bearer(valid.raw), "X-Real-IP": BYSTANDER})
        assert status == 200
        for connection in (first, second):
            connection.close()


# -- replicas: one count through Redis -------------------------------------------------------
def redis_commands(client) -> int:
    """Commands the test's Redis has processed, before this question."""
    return client.info("stats")["total_commands_processed"]


def test_redis_replicas_share_one_count_and_stop_each_others_lookups(make_app, redis_server,
                                                                     make_user, make_token):
    settings = dict(verify_max_failures=LIMIT, redis_url=redis_server.url)
    first, second = make_app(**settings), make_app(**settings)
    counting = second.extensions["tokenauth"].verifier
    counting.store = store = CountingStore(counting.store)
    valid = make_token(make_user("alice"))
    first_client, second_client = first.test_client(), second.test_client()
    verify(first_client, unknown())
    verify(second_client, unknown())
    verify(first_client, unknown())
    lookups = store.lookups
    assert_rate_limited(verify(second_client, bearer(valid.raw)))
    assert_rate_limited(verify(first_client, unknown()))
    assert store.lookups == lookups
    # The lock second learned from Redis is its own now: kept without Redis.
    redis_server.stop()
    assert_rate_limited(verify(second_client, unknown()))


def test_redis_is_never_asked_about_a_cached_valid_token(make_app, redis_server, make_user,
                                                        make_token):
    app = listening(make_app(verify_max_failures=LIMIT, redis_url=redis_server.url,
                             verify_cache_ttl=60))
    client = app.test_client()
    valid = make_token(make_user("alice"))
    assert verify(client, bearer(valid.raw)).status_code == 200  # a lookup: Redis asked first
    stats = redis_server.client()
    before = redis_commands(stats)
    for _ in range(20):
        assert verify(client, bearer(valid.raw)).status_code == 200
    assert redis_commands(stats) == before + 1  # only the first INFO


def test_redis_stopped_mid_run_warns_and_counts_on_without_5xx(make_app, redis_server,
                                                              make_user, make_token, caplog):
    import logging
    app = make_app(verify_max_failures=LIMIT, redis_url=redis_server.url)
    client = app.test_client()
    valid = make_token(make_user("alice"))
    verify(client, unknown())
    redis_server.stop()
    with caplog.at_level(logging.WARNING):
        answers = [verify(client, unknown()) for _ in range(LIMIT - 1)]
        assert [a.headers["X-Auth-Error"] for a in answers] == ["invalid"] * (LIMIT - 1)
        assert_rate_limited(verify(client, bearer(valid.raw)))
        assert verify(client, bearer(valid.raw), ip=BYSTANDER).status_code == 200
    assert "Redis unavailable" in caplog.text
