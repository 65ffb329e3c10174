"""LoginLimiter: failures (only failures) per (username, client IP) and per client IP,
lockouts, their end, and the counter store behind them."""
import pytest

from tokenauth.security.counters import MemoryCounterStore
from tokenauth.security.login_limiter import LoginLimiter

from ..helpers import PASSWORD, basic, one_database
from ..servers import gunicorn, tokenauth_env
from ..worker_connections import connections_to_each_worker, send

backend = one_database()  # the counters live outside the database


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def limiter(clock):
    return LoginLimiter(max_failures=3, ip_max_failures=5, lockout_seconds=60,
                        store=MemoryCounterStore(clock))


IP = "192.0.2.1"


def fail(limiter, username="alice", ip=IP):
    assert limiter.locked_for(username, ip) is None
    return limiter.failed(username, ip).lockout


def test_nothing_is_locked_before_any_failure(limiter):
    assert limiter.locked_for("alice", IP) is None


def test_usernames_ignore_case_and_surrounding_spaces(limiter):
    fail(limiter, " ALICE ")
    fail(limiter, "Alice")
    assert fail(limiter, "alice") == 60
    assert limiter.locked_for("aLiCe", IP) == 60


def test_the_failure_that_reaches_the_limit_starts_the_lockout(limiter):
    assert [fail(limiter) for _ in range(3)] == [None, None, 60]
    assert limiter.locked_for("alice", IP) == 60


def test_lockout_counts_down_and_ends(limiter, clock):
    for _ in range(3):
        fail(limiter)
    clock.now += 45.5
    assert limiter.locked_for("alice", IP) == 15
    clock.now += 15
    assert limiter.locked_for("alice", IP) is None
    assert fail(limiter) is None  # counted from one again


def test_failures_are_forgotten_a_window_after_the_first(limiter, clock):
    fail(limiter)
    fail(limiter)
    clock.now += 60
    assert fail(limiter) is None
    assert limiter.failed("alice", IP).failures == 2


def test_success_forgets_the_pairs_failures_but_not_the_addresss(limiter):
    fail(limiter)
    fail(limiter)
    limiter.succeeded("alice", IP)
    failure = limiter.failed("alice", IP)
    assert (failure.failures, failure.address_failures, failure.lockout) == (1, 3, None)


def test_attempts_in_flight_count_for_nothing(limiter):
    """Only failures lock out: many checks may start at once after two typos."""
    fail(limiter)
    fail(limiter)
    assert [limiter.locked_for("alice", IP) for _ in range(10)] == [None] * 10


def test_the_pair_lock_spares_other_users_and_other_addresses(limiter):
    for _ in range(3):
        fail(limiter)
    assert limiter.locked_for("alice", "192.0.2.99") is None
    assert limiter.locked_for("bob", IP) is None


def test_many_usernames_from_one_address_lock_the_address(limiter):
    lockouts = [fail(limiter, f"made-up-{number}") for number in range(5)]
    assert lockouts == [None, None, None, None, 60]
    assert limiter.locked_for("alice", IP) == 60  # whoever it is
    assert limiter.locked_for("alice", "192.0.2.2") is None


def test_a_missing_client_address_is_still_counted(limiter):
    for _ in range(3):
        fail(limiter, ip=None)
    assert limiter.locked_for("alice", None) == 60


@pytest.mark.parametrize("username", ["x", "", "a b c", "192.0.2.1"])
def test_address_and_pair_counts_never_mix(limiter, username):
    assert limiter.failed(username, IP).address_failures == 1
    assert limiter.failed("other", IP).failures == 1


def test_memory_stays_bounded(clock):
    store = MemoryCounterStore(clock, max_keys=10)
    limiter = LoginLimiter(3, 1000, 60, store=store)
    for number in range(50):
        limiter.failed(f"user{number}", IP)
        clock.now += 0.1
    assert len(store) <= 10


# -- one count per server: 2 gunicorn workers over real HTTP -------------------------------
@pytest.mark.e2e
def test_two_workers_lock_out_after_exactly_the_limit_in_total(database_url, make_user,
                                                               tmp_path):
    make_user("alice")
    env = tokenauth_env(database_url, tmp_path / "instance", login_max_failures=3)
    wrong = {**basic("alice", "wrong password"), "X-Real-IP": IP}
    with gunicorn(env, tmp_path / "logs", workers=2) as (url, process):
        first, second = connections_to_each_worker(url, process.pid)
        # 2 failures on one worker, 1 on the other: 3 in all, and the third locks.
        assert [send(c, "/api/v1/me", wrong)[0] for c in (first, second)] == [401, 401]
        status, headers = send(first, "/api/v1/me", wrong)
        assert (status, headers["Retry-After"]) == (429, "60")
        status, headers = send(second, "/api/v1/me",
                               {**basic("alice", PASSWORD), "X-Real-IP": IP})
        assert status == 429 and 1 <= int(headers["Retry-After"]) <= 60
        elsewhere = {**basic("alice", PASSWORD), "X-Real-IP": "192.0.2.9"}
        assert send(first, "/api/v1/me", elsewhere)[0] == 200
        for connection in (first, second):
            connection.close()
