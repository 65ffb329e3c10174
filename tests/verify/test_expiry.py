"""The expiry warning of a /verify 200 (X-Auth-Expiry-Warning), passed on by nginx."""
from datetime import datetime, timedelta, timezone

import pytest

from tokenauth.models import utcnow
from tokenauth.verify.expiry import ExpiryWarning

from ..helpers import bearer, one_database

backend = one_database()  # headers, not storage

EXPIRES = datetime(2031, 5, 10, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("now, warned", [
    (EXPIRES - timedelta(days=30), False),
    (EXPIRES - timedelta(days=7, seconds=1), False),
    (EXPIRES - timedelta(days=7), True),
    (EXPIRES - timedelta(days=2), True),
    (EXPIRES - timedelta(seconds=1), True),
])
def test_the_warning_starts_the_set_days_before_the_expiry(now, warned):
    warning = ExpiryWarning(7, clock=now.timestamp)
    expected = (("X-Auth-Expiry-Warning", "token expires at 2031-05-10T12:00:00Z"),)
    assert warning.headers(EXPIRES) == (expected if warned else ())


def test_the_same_token_is_warned_once_time_has_passed():
    now = [EXPIRES - timedelta(days=8)]
    warning = ExpiryWarning(7, clock=lambda: now[0].timestamp())
    assert warning.headers(EXPIRES) == ()
    now[0] += timedelta(days=2)  # the cached answer must not keep the old verdict
    assert warning.headers(EXPIRES) != ()


def test_a_token_without_expiry_is_never_warned():
    assert ExpiryWarning(7).headers(None) == ()


@pytest.mark.parametrize("days, warned", [(2, True), (30, False)])
def test_verify_warns_of_a_token_that_expires_soon(client, make_user, make_token, days,
                                                    warned):
    issued = make_token(make_user("alice"), expires_at=utcnow() + timedelta(days=days))
    for _ in range(2):  # the database answer, then the cached one
        response = client.get("/verify", headers=bearer(issued.raw))
        assert response.status_code == 200
        warning = response.headers.get("X-Auth-Expiry-Warning")
        if warned:
            assert warning == f"token expires at {response.headers['X-Auth-Expires-At']}"
        else:
            assert warning is None


@pytest.mark.parametrize("config_overrides", [{"expiry_warning_days": 40}])
def test_the_window_is_the_expiry_warning_days_setting(client, make_user, make_token):
    issued = make_token(make_user("alice"), expires_at=utcnow() + timedelta(days=30))
    assert "X-Auth-Expiry-Warning" in client.get("/verify", headers=bearer(issued.raw)).headers


def test_a_refused_token_gets_no_warning(client, make_user, make_token):
    issued = make_token(make_user("alice"), expires_at=utcnow() + timedelta(days=2),
                        revoked=True)
    response = client.get("/verify", headers=bearer(issued.raw))
    assert response.status_code == 401
    assert "X-Auth-Expiry-Warning" not in response.headers
