"""The /verify WSGI endpoint: methods, the answer's framing, identity headers."""
from datetime import datetime, timezone

import pytest

from ..helpers import bearer, one_database

backend = one_database()  # answer framing, not storage


@pytest.fixture
def token(make_user, make_token):
    return make_token(make_user("alice"), expires_at=datetime(2031, 5, 6, 7, 8, 9, tzinfo=timezone.utc))


@pytest.mark.parametrize("method", ["OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE"])
@pytest.mark.parametrize("with_token", [False, True])
def test_other_methods_are_405_with_allow_never_2xx(client, token, method, with_token):
    headers = bearer(token.raw) if with_token else {}
    response = client.open("/verify", method=method, headers=headers)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"
    assert "X-Auth-User" not in response.headers


def test_answers_have_an_empty_body_with_a_length(client, token):
    for headers in ({}, bearer(token.raw)):
        response = client.get("/verify", headers=headers)
        assert response.data == b""
        assert response.headers["Content-Length"] == "0"


def test_a_token_with_an_expiry_says_when(client, token, make_token):
    response = client.get("/verify", headers=bearer(token.raw))
    assert response.headers["X-Auth-Expires-At"] == "2031-05-06T07:08:09Z"
    never = make_token(token.token.user, expires_at=None)
    assert "X-Auth-Expires-At" not in client.get("/verify", headers=bearer(never.raw)).headers


def test_other_paths_still_reach_the_app(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/verify/").status_code == 404
