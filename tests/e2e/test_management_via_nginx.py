"""The management API reached through nginx: tokens created, revoked, and where they were
last used from."""
from __future__ import annotations

import json
import time

import pytest

from ..helpers import PASSWORD, basic, bearer
from .stack import call

pytestmark = pytest.mark.e2e
SLACK = 1.0  # seconds on top of the verify cache TTL: polling and request time


def test_token_created_through_nginx_works_at_once(stack, make_user):
    make_user("nina")
    created = call(stack.front, "POST", "/auth/api/v1/tokens", headers={
        **basic("nina", PASSWORD), "Content-Type": "application/json"},
        body=json.dumps({"name": "laptop", "scopes": ["read"]}).encode())
    assert created.status == 201, created.body
    raw = created.json()["token"]
    for _ in range(4):  # whichever worker answers, it must know the new token
        got = call(stack.front, "GET", "/api/x", headers=bearer(raw))
        assert got.status == 200
        assert got.json()["headers"]["X-Auth-Token-Id"] == created.json()["id"]


def test_revocation_through_nginx_takes_effect_within_the_cache_ttl(stack, make_user,
                                                                    make_token):
    issued = make_token(make_user("oscar"))
    # Warm the caches: directly on new connections (spread over both workers), then through
    # nginx's kept-alive connection.
    for _ in range(12):
        assert call(stack.tokenauth, "GET", "/verify", headers=bearer(issued.raw),
                    source="127.0.0.1").status == 200
        assert call(stack.front, "GET", "/api/x", headers=bearer(issued.raw)).status == 200

    revoked = call(stack.front, "DELETE", f"/auth/api/v1/tokens/{issued.token.id}",
                   headers=basic("oscar", PASSWORD))
    assert revoked.status == 204
    revoked_at = time.monotonic()

    deadline = revoked_at + stack.verify_cache_ttl + SLACK
    while True:
        answer = call(stack.front, "GET", "/api/x", headers=bearer(issued.raw))
        if answer.status != 200:
            break
        assert time.monotonic() < deadline, "a revoked token is still accepted past the TTL"
        time.sleep(0.05)
    assert answer.status == 401
    assert answer.header("X-Auth-Error") == "revoked"

    # Past the TTL, no worker accepts it any more, on any connection.
    time.sleep(max(0.0, revoked_at + stack.verify_cache_ttl + 0.1 - time.monotonic()))
    for _ in range(10):
        assert call(stack.tokenauth, "GET", "/verify", headers=bearer(issued.raw),
                    source="127.0.0.1").status == 401
        assert call(stack.front, "GET", "/api/x", headers=bearer(issued.raw)).status == 401


def test_last_accessed_origin_is_the_client_address_not_a_forged_header(stack, make_user,
                                                                       make_token):
    issued = make_token(make_user("pia"))
    forged = {"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "203.0.113.8",
              "Forwarded": "for=203.0.113.9"}

    def origin_after_a_request_from(address):
        answer = call(stack.front, "GET", "/api/x", source=address,
                      headers={**bearer(issued.raw), **forged})
        assert answer.status == 200
        token = call(stack.front, "GET", f"/auth/api/v1/tokens/{issued.token.id}",
                     headers=basic("pia", PASSWORD), source="127.0.0.5")
        assert token.status == 200
        return token.json()["last_accessed_origin"]

    assert origin_after_a_request_from("127.0.0.2") == "127.0.0.2"
    assert origin_after_a_request_from("127.0.0.3") == "127.0.0.3"  # a new origin: at once
