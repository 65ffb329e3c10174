"""Password sign-in, one path for web login, API Basic and /verify with passwords: a cap on
concurrent password checks, failures (only failures) counted per (username, IP) and per IP,
and every kind of failure answered alike."""
import logging
import threading
import time

import pytest

from tokenauth.security import passwords

from ..helpers import PASSWORD, bearer, one_database
from .conftest import CHANNELS, HeldCheck, in_threads

backend = one_database()  # sign-in rules; their storage is tested in services/


def assert_busy(channel, response):
    """Refused because the worker's password checks are all taken: nothing is locked, so
    no Retry-After."""
    if channel == "verify":
        assert response.status_code == 401
        assert response.headers["X-Auth-Error"] == "rate_limited"
    else:
        assert response.status_code == 429
    if channel == "api basic":
        assert response.json["code"] == 429 and "in a moment" in response.json["message"]
    if channel == "web login":
        assert "in a moment" in response.text
    assert "Retry-After" not in response.headers


def assert_refused(channel, response):
    """The answer to a failed sign-in: the same whatever the reason."""
    if channel == "verify":
        assert (response.status_code, response.headers["X-Auth-Error"]) == (401, "invalid")
    elif channel == "api basic":
        assert response.status_code == 401
        assert response.json["message"] == "invalid username or password"
    else:
        assert response.status_code == 401
        assert "Invalid username or password." in response.text
    assert "Retry-After" not in response.headers


def assert_locked(channel, response):
    if channel == "verify":
        assert (response.status_code, response.headers["X-Auth-Error"]) == (401, "rate_limited")
    else:
        assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_a_sign_in_over_the_cap_is_refused_at_once_while_verify_still_answers(
        app, client, alice, make_token, monkeypatch, channel):
    sign_in, success = CHANNELS[channel]
    issued = make_token(alice)
    held = HeldCheck(passwords.verify_password)
    monkeypatch.setattr(passwords, "verify_password", held)
    first = {}
    thread = threading.Thread(target=lambda: first.update(answer=sign_in(app, "alice", PASSWORD)))
    thread.start()
    try:
        assert held.entered.wait(timeout=60), "the first sign-in never reached its check"
        assert_busy(channel, sign_in(app, "alice", PASSWORD))
        assert held.calls == 1  # refused without checking a password
        assert client.get("/verify", headers=bearer(issued.raw)).status_code == 200
    finally:
        held.release.set()
        thread.join(timeout=60)
    assert first["answer"].status_code == success
    # The slot is free again, and the refusal did not count as a failure.
    assert sign_in(app, "alice", PASSWORD).status_code == success


def test_correct_passwords_in_parallel_after_two_typos_all_succeed(
        make_app, alice, monkeypatch, channel):
    sign_in, success = CHANNELS[channel]
    app = make_app(allow_password_auth=True, password_check_concurrency=4)
    for _ in range(2):
        assert_refused(channel, sign_in(app, "alice", "typo typo"))
    together = threading.Barrier(4)
    real = passwords.verify_password

    def all_checks_in_flight(password, password_hash):
        try:
            together.wait(timeout=20)  # the four checks overlap for certain
        except threading.BrokenBarrierError:
            pass  # some attempt was refused before its check: the asserts below say so
        return real(password, password_hash)

    monkeypatch.setattr(passwords, "verify_password", all_checks_in_flight)
    answers = in_threads(4, lambda _: sign_in(app, "alice", PASSWORD))
    assert [answer.status_code for answer in answers] == [success] * 4
    assert not any("Retry-After" in answer.headers for answer in answers)


def test_failures_with_many_usernames_lock_the_address_not_others(make_app, alice, channel):
    sign_in, success = CHANNELS[channel]
    app = make_app(allow_password_auth=True, login_ip_max_failures=3, login_max_failures=5)
    for number in range(2):
        assert_refused(channel, sign_in(app, f"made-up-{number}", "guess", "192.0.2.1"))
    assert_locked(channel, sign_in(app, "made-up-2", "guess", "192.0.2.1"))
    assert_locked(channel, sign_in(app, "alice", PASSWORD, "192.0.2.1"))  # not even checked
    assert sign_in(app, "alice", PASSWORD, "192.0.2.2").status_code == success


def test_the_failure_that_reaches_the_limit_answers_locked_out(make_app, alice, channel):
    sign_in, success = CHANNELS[channel]
    app = make_app(allow_password_auth=True, login_max_failures=3)
    for _ in range(2):
        assert_refused(channel, sign_in(app, "alice", "wrong password"))
    assert_locked(channel, sign_in(app, "alice", "wrong password"))
    assert_locked(channel, sign_in(app, "alice", PASSWORD))
    assert sign_in(app, "alice", PASSWORD, "192.0.2.7").status_code == success


@pytest.mark.parametrize("case", ["wrong password", "unknown user", "disabled user",
                                  "external user"])
def test_every_failed_sign_in_gets_the_same_answer(app, make_user, channel, case, caplog):
    sign_in, _ = CHANNELS[channel]
    make_user("alice")
    make_user("dora", active=False)
    make_user("ext", source="external")
    username, password = {
        "wrong password": ("alice", "not the password"),
        "unknown user": ("nobody", PASSWORD),
        "disabled user": ("dora", PASSWORD),  # the right password must not show
        "external user": ("ext", PASSWORD),
    }[case]
    caplog.set_level(logging.INFO, logger="tokenauth")
    assert_refused(channel, sign_in(app, username, password))
    assert "user is disabled" not in caplog.text
    failures = [r.getMessage() for r in caplog.records if "sign-in failed" in r.getMessage()]
    assert len(failures) == 1
    assert " failure 1 of 5" in failures[0]


def test_no_failed_sign_in_sleeps_in_the_request_thread(app, alice, channel, monkeypatch):
    sign_in, _ = CHANNELS[channel]

    def no_sleeping(seconds):
        raise AssertionError(f"slept {seconds} s in a request thread")

    monkeypatch.setattr(time, "sleep", no_sleeping)
    assert_refused(channel, sign_in(app, "alice", "wrong password"))


def test_a_disabled_users_password_counts_as_a_failure(make_app, make_user, channel):
    sign_in, _ = CHANNELS[channel]
    make_user("dora", active=False)
    app = make_app(allow_password_auth=True, login_max_failures=2)
    assert_refused(channel, sign_in(app, "dora", PASSWORD))
    assert_locked(channel, sign_in(app, "dora", PASSWORD))


def test_failed_sign_ins_are_logged_without_the_typed_username(app, alice, channel, caplog):
    sign_in, _ = CHANNELS[channel]
    caplog.set_level(logging.DEBUG)
    typed = "hunter2-Correct-Horse"
    sign_in(app, typed, "Sup3r-Secret-Guess")
    sign_in(app, typed.upper(), "Sup3r-Secret-Guess")
    assert typed.lower() not in caplog.text.lower()
    assert "Sup3r-Secret-Guess" not in caplog.text
    lines = [r.getMessage() for r in caplog.records if "sign-in failed" in r.getMessage()]
    assert len(lines) == 2
    first, second = (line.split("user=")[1].split()[0] for line in lines)
    assert len(first) == 12 and first == second  # a keyed hash that still correlates
    assert "client=127.0.0.1" in lines[0]
