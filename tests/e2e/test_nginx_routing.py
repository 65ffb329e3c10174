"""What nginx sends where: the auth subrequest, tokenauth's own routes under /auth/, and
the operations endpoints that stay internal."""
from __future__ import annotations

import urllib.parse

import pytest

from ..helpers import PASSWORD, basic, bearer, eventually
from .stack import call, echo_upstream, nginx, tcp_states

pytestmark = pytest.mark.e2e


def test_the_auth_subrequest_carries_the_original_request_and_no_body(nginx_installed, tmp_path):
    # An echo server stands in for tokenauth: it records the subrequest nginx sends and,
    # answering 200, lets the request through to the product (a second echo server).
    with echo_upstream(tmp_path / "auth.log") as auth, \
            echo_upstream(tmp_path / "product.log") as product, \
            nginx(tmp_path / "nginx", auth.url, product.url) as front:
        answer = call(front, "POST", "/api/items?x=1", source="127.0.0.2", body=b'{"n": 1}',
                      headers={"Authorization": "Bearer opaque", "Cookie": "session=abc",
                               "Content-Type": "application/json",
                               "X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9",
                               "X-Original-URI": "/forged", "X-Original-Method": "GET"})
        assert answer.status == 200
        [check] = auth.requests()
        [forwarded] = product.requests()

    assert (check["method"], check["path"], check["body"]) == ("GET", "/verify", "")
    assert check["headers"]["X-Original-Method"] == "POST"
    assert check["headers"]["X-Original-URI"] == "/api/items?x=1"
    assert check["headers"]["X-Real-IP"] == "127.0.0.2"
    assert check["headers"]["X-Forwarded-For"] == "127.0.0.2"  # overwritten, not appended
    assert check["headers"]["X-Forwarded-Proto"] == "http"
    assert check["headers"]["Authorization"] == "Bearer opaque"
    for absent in ("Content-Length", "Transfer-Encoding", "Cookie"):
        assert absent not in check["headers"]

    assert (forwarded["method"], forwarded["body"]) == ("POST", '{"n": 1}')
    assert forwarded["headers"]["X-Forwarded-For"] == "127.0.0.2"
    assert forwarded["headers"]["X-Real-IP"] == "127.0.0.2"
    assert "Authorization" not in forwarded["headers"]


def test_nginx_keeps_its_connections_to_tokenauth_alive(stack, make_user, make_token):
    issued = make_token(make_user("kim"))
    port = urllib.parse.urlsplit(stack.tokenauth).port
    before = tcp_states(port)
    for _ in range(10):
        assert call(stack.front, "GET", "/api/x", headers=bearer(issued.raw)).status == 200
    after = tcp_states(port)
    # Ten verifies, and not one connection closed: they went over kept-alive connections.
    assert after["TIME_WAIT"] == before["TIME_WAIT"]
    assert after["ESTABLISHED"] >= 2  # both ends of at least one kept connection


@pytest.mark.parametrize("path", [
    "/auth/healthz", "/auth/readyz", "/auth/metrics", "/auth/verify", "/auth/verify/",
    "/auth//verify", "/auth/%76erify", "/auth/healthz?probe=1", "/auth/metrics/",
    "/_tokenauth_verify", "/verify", "/healthz",
])
def test_operations_endpoints_are_not_reachable_through_nginx(stack, make_user, make_token,
                                                              path):
    issued = make_token(make_user("liam"))
    answer = call(stack.front, "GET", path, headers=bearer(issued.raw))
    assert answer.status == 404
    assert answer.all("X-Auth-User") == []


def test_operations_endpoints_answer_on_tokenauth_directly(stack):
    for path in ("/healthz", "/readyz"):
        assert call(stack.tokenauth, "GET", path, source="127.0.0.1").status == 200
    # A /verify of its own (this test may be the first on its stack, e.g. under xdist);
    # the workers publish their counts within a second.
    assert call(stack.front, "GET", "/api/anything").status == 401

    def verify_counted():
        metrics = call(stack.tokenauth, "GET", "/metrics", source="127.0.0.1")
        assert metrics.status == 200
        return b"tokenauth_verify_total" in metrics.body

    assert eventually(verify_counted)


def test_management_api_is_served_under_the_prefix_without_auth_request(stack, make_user):
    make_user("mia")
    me = call(stack.front, "GET", "/auth/api/v1/me", headers=basic("mia", PASSWORD))
    assert me.status == 200
    assert me.json()["username"] == "mia"
    refused = call(stack.front, "GET", "/auth/api/v1/me")
    assert refused.status == 401  # tokenauth's own answer, not the /verify denial
    assert refused.header("X-Auth-Error") is None
    spec = call(stack.front, "GET", "/auth/api/v1/openapi.json")
    assert spec.status == 200 and spec.json()["info"]["title"] == "tokenauth"


def test_pages_link_under_the_prefix(stack):
    answer = call(stack.front, "GET", "/auth/tokens")
    assert answer.status in (302, 303)
    location = urllib.parse.urlsplit(answer.header("Location"))
    assert location.path == "/auth/login"


def test_other_paths_are_not_served(stack):
    before = stack.echo.count()
    assert call(stack.front, "GET", "/").status == 404
    assert call(stack.front, "GET", "/other").status == 404
    redirect = call(stack.front, "GET", "/api")  # nginx's own redirect to /api/
    assert (redirect.status, redirect.header("Location")) == (301, f"{stack.front}/api/")
    assert stack.echo.count() == before
