"""LoginLimiter: counting failures per (username, client IP), lockout, expiry, bursts."""
import pytest

from tokenauth.security import login_limiter
from tokenauth.security.login_limiter import LoginLimiter


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
    return LoginLimiter(max_failures=3, lockout_seconds=60, clock=clock)


KEY = LoginLimiter.key("Alice", "192.0.2.1")


def fail(limiter, key=KEY):
    assert limiter.begin(key) is None
    return limiter.failed(key)


def test_keys_ignore_case_and_surrounding_spaces():
    assert LoginLimiter.key(" ALICE ", "192.0.2.1") == LoginLimiter.key("alice", "192.0.2.1")
    assert LoginLimiter.key("alice", "192.0.2.1") != LoginLimiter.key("alice", "192.0.2.2")


def test_the_last_allowed_failure_starts_the_lockout(limiter):
    assert [fail(limiter) for _ in range(3)] == [None, None, 60]
    assert limiter.begin(KEY) == 60


def test_lockout_counts_down_and_ends(limiter, clock):
    for _ in range(3):
        fail(limiter)
    clock.now += 45.5
    assert limiter.begin(KEY) == 15
    clock.now += 15
    assert limiter.begin(KEY) is None


def test_failures_are_forgotten_after_a_quiet_lockout_period(limiter, clock):
    fail(limiter)
    fail(limiter)
    clock.now += 60
    assert fail(limiter) is None  # counted from one again
    assert limiter.failures(KEY) == 1


def test_success_forgets_the_failures(limiter):
    fail(limiter)
    fail(limiter)
    assert limiter.begin(KEY) is None
    limiter.succeeded(KEY)
    assert limiter.failures(KEY) == 0


def test_other_keys_are_not_affected(limiter):
    for _ in range(3):
        fail(limiter)
    assert limiter.begin(LoginLimiter.key("alice", "192.0.2.99")) is None
    assert limiter.begin(LoginLimiter.key("bob", "192.0.2.1")) is None


def test_a_burst_of_parallel_attempts_cannot_exceed_the_allowance(limiter):
    assert [limiter.begin(KEY) for _ in range(4)] == [None, None, None, 60]


def test_an_abandoned_attempt_is_not_a_failure(limiter):
    for _ in range(3):
        assert limiter.begin(KEY) is None
        limiter.abandoned(KEY)
    assert limiter.failures(KEY) == 0 and limiter.begin(KEY) is None


def test_memory_stays_bounded(monkeypatch, clock):
    monkeypatch.setattr(login_limiter, "MAX_ENTRIES", 10)
    limiter = LoginLimiter(3, 60, clock=clock)
    for number in range(50):
        key = LoginLimiter.key(f"user{number}", "192.0.2.1")
        limiter.begin(key)
        limiter.failed(key)
        clock.now += 1
    assert len(limiter._entries) <= 10
