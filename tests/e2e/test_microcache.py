"""The opt-in nginx micro-cache (deploy/nginx/tokenauth-microcache.conf with njs) in front
of a real tokenauth: it reuses only what tokenauth marks with ``X-Accel-Expires``, a
revocation still takes effect within the cache lifetime plus the SPEC 3 revocation bound,
and an allow that depends on the request (route rules) is never reused."""
from __future__ import annotations

import time

import pytest

from tokenauth.extensions import db
from tokenauth.services.tokens import TokenService

from ..helpers import bearer, missing
from .stack import JS_MODULE, call

pytestmark = pytest.mark.e2e

CACHE_SECONDS = 1.0       # X-Accel-Expires
REVOCATION_BOUND = 1.0    # SPEC 3: every worker refuses a revoked token within a second
SLACK = 0.5               # the poll's own requests on a shared machine


def with_cache_status(text: str) -> str:
    """The config with the auth subrequest's cache status shown to the client (tests only)."""
    location = "location /api/ {"
    assert text.count(location) == 1
    return text.replace(location, location + """
        auth_request_set $verify_cache $upstream_cache_status;
        add_header X-Verify-Cache $verify_cache always;""")


@pytest.fixture
def cached_stack(make_stack, database_url):
    if not JS_MODULE.exists():
        missing("the njs module is not installed (apt-get install libnginx-mod-http-js)")
    return make_stack(database_url, nginx_options={"microcache": True, "edit": with_cache_status})


def get(stack, raw, path="/api/public/a"):
    return call(stack.front, "GET", path, headers=bearer(raw))


def served_from_cache(stack, raw, attempts: int = 20) -> bool:
    """Whether one of ``attempts`` back-to-back allows came from nginx's cache."""
    for _ in range(attempts):
        answer = get(stack, raw)
        assert answer.status == 200, answer.body
        if answer.header("X-Verify-Cache") == "HIT":
            return True
    return False


def test_a_revoked_token_is_refused_within_the_cache_lifetime_plus_the_bound(
        cached_stack, app, make_user, make_token):
    issued = make_token(make_user("carl"))
    assert served_from_cache(cached_stack, issued.raw)  # the cache is in use for this token

    service = TokenService(db.session, app.extensions["tokenauth"].settings)
    service.revoke(service.get(issued.token.id))
    db.session.commit()
    revoked_at = time.monotonic()
    deadline = revoked_at + CACHE_SECONDS + REVOCATION_BOUND + SLACK
    while True:
        answer = get(cached_stack, issued.raw)
        if answer.status == 401:
            break
        assert answer.status == 200
        assert time.monotonic() < deadline, "still allowed after the cache lifetime + bound"
        time.sleep(0.05)
    assert answer.header("X-Auth-Error") == "revoked"
    assert time.monotonic() - revoked_at <= CACHE_SECONDS + REVOCATION_BOUND + SLACK


def test_a_token_with_routes_is_never_served_from_the_cache(cached_stack, make_user,
                                                            make_token):
    issued = make_token(make_user("rita"), routes=["GET /api/public/**"])
    for _ in range(5):
        allowed = get(cached_stack, issued.raw, "/api/public/a")
        assert allowed.status == 200
        assert allowed.header("X-Verify-Cache") != "HIT"
        forbidden = get(cached_stack, issued.raw, "/api/private/a")  # right after an allow
        assert forbidden.status == 403
        assert forbidden.header("X-Auth-Error") == "forbidden_scope"


def test_denials_are_never_cached(cached_stack, make_user, make_token):
    issued = make_token(make_user("dora"), revoked=True)
    for _ in range(3):
        answer = get(cached_stack, issued.raw)
        assert (answer.status, answer.header("X-Auth-Error")) == (401, "revoked")
        assert answer.header("X-Verify-Cache") != "HIT"
