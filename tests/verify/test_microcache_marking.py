"""``X-Accel-Expires: 1``: the mark that lets nginx's opt-in micro-cache
(deploy/nginx/tokenauth-microcache.conf) reuse an allow for a second. Only when that config
asks (``X-Tokenauth-Microcache: 1``), and only on a 200 whose answer depends on nothing but
the credential and the client address: never on a deny, never for a token with route rules
or allowed origins, never for a password sign-in. Every request below asks, except where a
test says otherwise."""
from datetime import timedelta

import pytest

from tokenauth.models import utcnow

from ..helpers import PASSWORD, basic, bearer, one_database

backend = one_database()  # answer headers, not storage

ASK = {"X-Tokenauth-Microcache": "1"}
ROUTE = {"X-Original-Method": "GET", "X-Original-URI": "/api/a", **ASK}


def mark(response):
    return response.headers.get("X-Accel-Expires")


@pytest.fixture
def alice(make_user):
    return make_user("alice")


def test_an_allow_for_a_plain_token_is_marked_for_one_second(client, alice, make_token):
    issued = make_token(alice)
    # Bearer, then Basic user:token (the second from the cache): both marked.
    for headers in (bearer(issued.raw), basic("alice", issued.raw)):
        response = client.get("/verify", headers={**headers, **ROUTE})
        assert (response.status_code, mark(response)) == (200, "1")


def test_nothing_is_marked_unless_the_micro_cache_asks(client, alice, make_token):
    """tokenauth.conf (no cache) does not ask: no header gunicorn and nginx would handle
    for nothing. An empty value is not asking either."""
    issued = make_token(alice)
    for ask in ({}, {"X-Tokenauth-Microcache": ""}, {}):  # uncached, then cached
        response = client.get("/verify", headers={**bearer(issued.raw), **ask})
        assert (response.status_code, mark(response)) == (200, None)
    response = client.get("/verify", headers={**bearer(issued.raw), **ASK})
    assert (response.status_code, mark(response)) == (200, "1")


@pytest.mark.parametrize("restriction", [
    {"routes": ["GET /api/**"]},
    {"allowed_origins": ["127.0.0.0/8"]},
])
def test_an_allow_that_depends_on_the_request_is_never_marked(client, alice, make_token,
                                                              restriction):
    issued = make_token(alice, **restriction)
    for _ in range(2):  # uncached, then cached
        response = client.get("/verify", headers={**bearer(issued.raw), **ROUTE})
        assert response.status_code == 200
        assert mark(response) is None


def test_a_token_about_to_expire_is_not_marked(client, alice, make_token):
    issued = make_token(alice, expires_at=utcnow() + timedelta(milliseconds=900))
    response = client.get("/verify", headers={**bearer(issued.raw), **ASK})
    assert (response.status_code, mark(response)) == (200, None)


def test_denials_are_never_marked(client, alice, make_token):
    cases = {
        "missing": ASK,
        "invalid": {**bearer("tka_" + "A" * 46), **ASK},
        "revoked": {**bearer(make_token(alice, revoked=True).raw), **ASK},
        "forbidden_scope": {**bearer(make_token(alice, routes=["POST /x"]).raw), **ROUTE},
    }
    for reason, headers in cases.items():
        response = client.get("/verify", headers=headers)
        assert response.status_code in (401, 403), reason
        assert mark(response) is None, reason


def test_a_password_sign_in_is_never_marked(make_app, alice):
    client = make_app(allow_password_auth=True).test_client()
    response = client.get("/verify", headers={**basic("alice", PASSWORD), **ASK})
    assert response.status_code == 200
    assert response.headers["X-Auth-Source"] == "internal"
    assert mark(response) is None
