"""Allow and deny through real nginx: what the client gets, what the product receives."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tokenauth.extensions import db
from tokenauth.models import utcnow
from tokenauth.security.tokens import generate

from ..helpers import PASSWORD, basic, bearer
from .stack import call

pytestmark = pytest.mark.e2e

CHALLENGES = ['Basic realm="tokenauth"', 'Bearer realm="tokenauth"']
IDENTITY = ("X-Auth-User", "X-Auth-User-Id", "X-Auth-Token-Id", "X-Auth-Scopes", "X-Auth-Source")
FORGED = {name: "forged-by-client" for name in IDENTITY + ("X-Auth-Error",)}


def received_by_product(answer) -> dict:
    """The echo upstream's account of the request it got (it answers with it)."""
    assert answer.status == 200, (answer.status, answer.body)
    return answer.json()


@pytest.mark.parametrize("scheme", ["bearer", "basic"])
def test_token_reaches_the_product_with_identity_and_without_credentials(
        stack, make_user, make_token, scheme):
    user = make_user("alice")
    issued = make_token(user, scopes=("read", "write"))
    auth = bearer(issued.raw) if scheme == "bearer" else basic("alice", issued.raw)

    answer = call(stack.front, "POST", "/api/items?page=2", headers={
        **auth, **FORGED, "Content-Type": "application/json"}, body=b'{"n": 1}')

    got = received_by_product(answer)
    assert (got["method"], got["path"], got["body"]) == ("POST", "/api/items?page=2", '{"n": 1}')
    headers = got["headers"]
    assert headers["X-Auth-User"] == "alice"
    assert headers["X-Auth-User-Id"] == user.id
    assert headers["X-Auth-Token-Id"] == issued.token.id
    assert headers["X-Auth-Scopes"] == "read write"
    assert headers["X-Auth-Source"] == "internal"
    assert "X-Auth-Error" not in headers
    assert "Authorization" not in headers
    everything = json.dumps(got)
    assert issued.raw not in everything
    assert auth["Authorization"].split()[1] not in everything  # nor its base64 form
    assert stack.echo.requests()[-1] == got  # the answer is what the product recorded


def test_forged_scopes_are_dropped_when_the_token_has_none(stack, make_user, make_token):
    issued = make_token(make_user("bob"))
    got = received_by_product(call(stack.front, "GET", "/api/x",
                                   headers={**bearer(issued.raw), **FORGED}))
    assert "X-Auth-Scopes" not in got["headers"]
    assert got["headers"]["X-Auth-User"] == "bob"


def altered(raw: str) -> str:
    """``raw`` with a different last character: the check digits no longer match."""
    return raw[:-1] + ("x" if raw[-1] != "x" else "y")


def _expire(issued):
    issued.token.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    return issued.raw


DENIALS = {
    # case: (how to build the Authorization header, the X-Auth-Error reason)
    "missing": (lambda tokens: {}, "missing"),
    "not a scheme we know": (lambda tokens: {"Authorization": "Digest x=1"}, "malformed"),
    "bad check digits": (lambda tokens: bearer(altered(tokens.active)), "malformed"),
    "unknown token": (lambda tokens: bearer(generate("tka")), "invalid"),
    "another user's name": (lambda tokens: basic("mallory", tokens.active), "invalid"),
    "password while password auth is off": (lambda tokens: basic("carol", PASSWORD), "invalid"),
    "expired": (lambda tokens: bearer(tokens.expired), "expired"),
    "revoked": (lambda tokens: bearer(tokens.revoked), "revoked"),
    "user disabled": (lambda tokens: bearer(tokens.disabled), "user_disabled"),
}


class Tokens:
    def __init__(self, make_user, make_token):
        carol = make_user("carol")
        self.active = make_token(carol).raw
        self.expired = _expire(make_token(carol))
        self.revoked = make_token(carol, revoked=True).raw
        self.disabled = make_token(make_user("dave", active=False)).raw


@pytest.mark.parametrize("case", DENIALS)
def test_denied_request_gets_both_challenges_and_the_reason_and_never_reaches_the_product(
        stack, make_user, make_token, case):
    build, reason = DENIALS[case]
    headers = build(Tokens(make_user, make_token))
    before = stack.echo.count()

    answer = call(stack.front, "GET", "/api/items/7", headers=headers)

    assert answer.status == 401, answer.body
    assert sorted(answer.all("WWW-Authenticate")) == CHALLENGES  # each exactly once
    assert answer.header("X-Auth-Error") == reason
    assert answer.json() == {"error": "unauthorized", "reason": reason}
    assert stack.echo.count() == before


def test_origin_restricted_token_is_403_elsewhere_and_200_from_its_origin(
        stack, make_user, make_token):
    issued = make_token(make_user("erin"), allowed_origins=["127.0.0.3/32"])
    before = stack.echo.count()

    # From 127.0.0.2 with a forged X-Forwarded-For naming the allowed address.
    denied = call(stack.front, "GET", "/api/x", source="127.0.0.2", headers={
        **bearer(issued.raw), "X-Forwarded-For": "127.0.0.3", "X-Real-IP": "127.0.0.3"})
    assert denied.status == 403
    assert denied.header("X-Auth-Error") == "origin_not_allowed"
    assert denied.all("WWW-Authenticate") == []
    assert stack.echo.count() == before

    allowed = call(stack.front, "GET", "/api/x", source="127.0.0.3", headers=bearer(issued.raw))
    assert received_by_product(allowed)["headers"]["X-Auth-User"] == "erin"


@pytest.mark.parametrize("method", ["POST", "DELETE", "HEAD"])
def test_denied_whatever_the_method(stack, method):
    before = stack.echo.count()
    body = b'{"n": 1}' if method == "POST" else None
    answer = call(stack.front, method, "/api/items/7", body=body,
                  headers={"Content-Type": "application/json"})
    assert answer.status == 401
    assert sorted(answer.all("WWW-Authenticate")) == CHALLENGES
    assert answer.header("X-Auth-Error") == "missing"
    assert stack.echo.count() == before
