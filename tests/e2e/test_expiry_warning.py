"""Through real nginx: a client using a token that expires soon is told so in every answer."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tokenauth.models import iso_utc, utcnow

from ..helpers import bearer
from .stack import call

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("days, warned", [(2, True), (30, False)])
def test_the_client_sees_the_expiry_warning_within_the_window(stack, make_user, make_token,
                                                             days, warned):
    issued = make_token(make_user("alice"), expires_at=utcnow() + timedelta(days=days))
    for method in ("GET", "POST"):
        answer = call(stack.front, method, "/api/items", headers=bearer(issued.raw))
        assert answer.status == 200
        expected = f"token expires at {iso_utc(issued.token.expires_at)}" if warned else None
        assert answer.header("X-Auth-Expiry-Warning") == expected


def test_a_denied_client_gets_no_expiry_warning(stack):
    answer = call(stack.front, "GET", "/api/items", headers=bearer("not-a-token"))
    assert answer.status == 401
    assert answer.header("X-Auth-Expiry-Warning") is None
