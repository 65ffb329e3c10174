"""Route rules through real nginx (SPEC 3): what tokenauth matched is the path nginx routes.

nginx routes on ``$uri`` (the request path decoded once, ``//`` merged, dots resolved) but
hands tokenauth the raw ``$request_uri`` in X-Original-URI, so tokenauth's normaliser must
arrive at the same path, or refuse. The product here echoes nginx's ``$uri`` (sent to it in
a header of this test's own), and each nasty path is sent twice: with a token without
rules (to learn the path nginx routed) and with a token restricted to ``GET
/api/public/**`` (to learn what tokenauth decided).
"""
from __future__ import annotations

import pytest

from tokenauth.verify.routes import RouteRules, normalise_path

from ..helpers import bearer
from ..servers import selected_server
from .nginx_conf import parse
from .stack import NGINX_DIR, raw_call

pytestmark = pytest.mark.e2e

RULES = ["GET /api/public/**", "POST /api/public/forms/*"]
NASTY = [
    b"/api/public/a", b"/api/public", b"/api/public/", b"/api/public/a/..",
    b"/api/public/a?x=/../../private", b"/api/public/a?%2e%2e",
    b"/api//public//a", b"/api/./public/./a", b"//api/public/a",
    b"/api/private/../public/a", b"/api/public/../private", b"/api/public/a/../../private/x",
    b"/api/public/%2e%2e/private", b"/api/public/%2E%2E/%2E%2E/api/private",
    b"/api/public/.%2e/private", b"/api/public/%2e/a", b"/api/%70ublic/a",
    b"/api/publi%63/../private", b"/api/public/..%2fprivate", b"/api/public/a%2Fb",
    b"/api/public/%252e%252e/private", b"/api/public/%25", b"/api/public/%",
    b"/api/public\\..\\private", b"/api/public/%5c..%5cprivate", b"/api/public/a\\b",
    b"/api/public/caf%C3%A9", "/api/public/café".encode(), b"/api/public/%C0%AE%C0%AE/x",
    b"/api/public/%FF", b"/api/public/%00", b"/api/public/a%0a", b"/api/public/a%20b",
    b"/api/public/a;b", b"/api/public/a#frag",
    b"/../api/public/a", b"/api/public/../../../x", b"/api/../../api/public/a",
    b"/api/public/%2e%2e/%2e%2e/%2e%2e/x", b"/API/public/a", b"/api/publicx/a",
]
# granian gives the app a header whose value has non-ASCII bytes as "" (it reads header
# values with Rust's HeaderValue::to_str), so under granian tokenauth never sees such a raw
# path in X-Original-URI and refuses every rule-bound token for it: fail closed.
UNSEEN_UNDER_GRANIAN = {"/api/public/café".encode()}


def show_uri(text: str) -> str:
    """The rendered config with nginx's $uri passed on to the product, for the echo."""
    location = "location /api/ {"
    assert text.count(location) == 1
    return text.replace(location, location + "\n        proxy_set_header X-Nginx-Uri $uri;")


def routed_path(answer) -> str | None:
    """The path nginx routed, as the echo upstream received it; None when nginx did not
    pass the request on."""
    if answer.status != 200:
        return None
    header = answer.json()["headers"]["X-Nginx-Uri"]
    return header.encode("latin-1").decode("utf-8")  # header bytes, read by Python as latin-1


def test_tokenauth_matches_exactly_the_path_nginx_routes(make_stack, database_url, make_user,
                                                         make_token):
    stack = make_stack(database_url, nginx_options={"edit": show_uri})
    user = make_user("rita")
    plain = make_token(user, name="plain").raw
    routed = make_token(user, name="routed", routes=RULES).raw
    rules = RouteRules(RULES)
    seen = {}
    for target in NASTY:
        ours = normalise_path(target.decode("latin-1"))
        nginx_path = None
        if ours is not None:  # a path tokenauth refuses may not fit in a header: not asked
            nginx_path = routed_path(raw_call(stack.front, "GET", target, bearer(plain)))
            # Same path, or nginx did not route it to the product at all (400, or outside
            # /api/).
            assert nginx_path in (ours, None), target
        answer = raw_call(stack.front, "GET", target, bearer(routed))
        seen[target] = answer.status
        # Allowed iff the path nginx routed matches a rule (and tokenauth could be sure of it).
        expected = nginx_path is not None and rules.matches("GET", nginx_path)
        if selected_server() == "granian" and target in UNSEEN_UNDER_GRANIAN:
            expected = False
        assert (answer.status == 200) == expected, (target, answer.status, answer.body)
        if answer.status == 200:
            assert routed_path(answer) == nginx_path  # the product got the path matched
        elif answer.status == 403:
            assert answer.header("X-Auth-Error") == "forbidden_scope"
            assert answer.json() == {"error": "forbidden", "reason": "forbidden_scope"}
    # Nothing above the root got through, and the table exercised both answers.
    assert all(seen[t] != 200 for t in (b"/../api/public/a", b"/api/public/../../../x"))
    assert {200, 403} <= set(seen.values())


def test_the_rule_method_is_the_clients_method(stack, make_user, make_token):
    routed = make_token(make_user("rita"), routes=RULES).raw
    before = stack.echo.count()
    assert raw_call(stack.front, "POST", b"/api/public/forms/7", bearer(routed)).status == 200
    assert raw_call(stack.front, "HEAD", b"/api/public/a", bearer(routed)).status == 200
    for method, target in (("POST", b"/api/public/a"), ("DELETE", b"/api/public/forms/7"),
                           ("PUT", b"/api/public/a")):
        denied = raw_call(stack.front, method, target, bearer(routed))
        assert (denied.status, denied.header("X-Auth-Error")) == (403, "forbidden_scope")
        assert denied.all("WWW-Authenticate") == []
    assert stack.echo.count() == before + 2  # the denials never reached the product


@pytest.mark.parametrize("name", ["tokenauth.conf", "tokenauth-microcache.conf"])
def test_the_shipped_configs_pass_the_original_method_and_uri(name):
    server = parse((NGINX_DIR / name).read_text()).one("server")
    headers = server.one("location", "=", "/_tokenauth_verify").headers()
    assert headers["x-original-uri"] == "$request_uri"
    assert headers["x-original-method"] == "$request_method"
    forbidden = server.one("location", "@tokenauth_forbidden")
    assert forbidden.values("add_header") == [["X-Auth-Error", "$tokenauth_error", "always"]]
