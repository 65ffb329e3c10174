"""/verify enforcing a token's route rules (SPEC 3 "Route rules"), on both databases:
X-Original-Method and the normalised path of X-Original-URI must match a rule, else 403
forbidden_scope; cached lookups are still checked per request."""
import pytest

from tokenauth.verify import store as store_module

from ..helpers import bearer, listening

RULES = ["GET /api/public/**", "POST /api/items", "* /api/admin/*/logs"]


def original(method, uri) -> dict:
    headers = {}
    if method is not None:
        headers["X-Original-Method"] = method
    if uri is not None:
        headers["X-Original-URI"] = uri
    return headers


def assert_forbidden(response):
    assert response.status_code == 403
    assert response.headers["X-Auth-Error"] == "forbidden_scope"
    assert "X-Auth-User" not in response.headers
    assert "WWW-Authenticate" not in response.headers  # the credential is fine


@pytest.fixture
def routed(make_user, make_token):
    return make_token(make_user("rita"), routes=RULES)


@pytest.mark.parametrize("method, uri", [
    ("GET", "/api/public"),
    ("GET", "/api/public/"),
    ("GET", "/api/public/a/b/c?x=1"),
    ("HEAD", "/api/public/a"),                      # GET covers HEAD
    ("GET", "//api//public/./a"),
    ("GET", "/api/private/../public/a"),            # resolved as nginx does
    ("GET", "/api/%70ublic/a"),                     # decoded once
    ("POST", "/api/items"),
    ("POST", "/api/items?id=7"),
    ("DELETE", "/api/admin/eu/logs"),
])
def test_a_request_that_matches_a_rule_is_allowed(client, routed, method, uri):
    response = client.get("/verify", headers={**bearer(routed.raw), **original(method, uri)})
    assert response.status_code == 200
    assert response.headers["X-Auth-User"] == "rita"


@pytest.mark.parametrize("method, uri", [
    ("POST", "/api/public/a"),                      # wrong method
    ("GET", "/api/items"),
    ("PUT", "/api/items"),
    ("POST", "/api/items/7"),
    ("GET", "/api/Public/a"),                       # literals are case-sensitive
    ("GET", "/api/public/../private"),
    ("GET", "/api/public/%2e%2e/private"),
    ("GET", "/api/public/..%2Fprivate"),            # encoded / : fail closed
    ("GET", "/api/public/a\\..\\..\\private"),      # backslash: fail closed
    ("GET", "/api/public/%252e%252e/private"),      # double encoding: fail closed
    ("GET", "/api/public/%00"),
    ("GET", "/../api/public/a"),                    # above the root
    ("GET", "api/public/a"),
    ("GET", "/api/admin/eu/x/logs"),
    ("GET", None),                                  # no X-Original-URI
    (None, "/api/public/a"),                        # no X-Original-Method
    ("", "/api/public/a"),
])
def test_anything_else_is_forbidden_scope(client, routed, method, uri):
    assert_forbidden(client.get("/verify", headers={**bearer(routed.raw), **original(method, uri)}))


def test_a_token_without_routes_is_not_restricted(client, make_user, make_token):
    issued = make_token(make_user("una"))
    for headers in ({}, original("DELETE", "/anything/../at/all"), original("GET", "/%2F")):
        assert client.get("/verify", headers={**bearer(issued.raw), **headers}).status_code == 200


def test_routes_are_checked_per_request_on_cached_lookups_too(make_app, make_user, make_token):
    app = listening(make_app(verify_cache_ttl=300))
    issued = make_token(make_user("rita"), routes=RULES)
    verifier = app.extensions["tokenauth"].verifier
    lookups = []
    snapshot = verifier.store.snapshot
    verifier.store.snapshot = lambda digest: lookups.append(digest) or snapshot(digest)
    client = app.test_client()
    allowed = {**bearer(issued.raw), **original("GET", "/api/public/a")}
    forbidden = {**bearer(issued.raw), **original("GET", "/api/private/a")}

    assert client.get("/verify", headers=allowed).status_code == 200
    assert_forbidden(client.get("/verify", headers=forbidden))
    assert client.get("/verify", headers=allowed).status_code == 200
    assert_forbidden(client.get("/verify", headers=forbidden))
    assert len(lookups) == 1  # one database lookup; every answer after it came from the cache


def test_rules_are_compiled_once_per_lookup_not_per_request(make_app, make_user, make_token,
                                                            monkeypatch):
    app = listening(make_app(verify_cache_ttl=300))
    issued = make_token(make_user("rita"), routes=RULES)
    compiled = []
    real = store_module.compile_rules
    monkeypatch.setattr(store_module, "compile_rules",
                        lambda rules: compiled.append(rules) or real(rules))
    client = app.test_client()
    for uri in ("/api/public/a", "/api/public/b", "/api/private"):
        client.get("/verify", headers={**bearer(issued.raw), **original("GET", uri)})
    assert compiled == [RULES]


def test_stored_rules_that_do_not_compile_allow_nothing(client, app, routed):
    from tokenauth.extensions import db

    routed.token.routes = ["GET /api/public/**", "not a rule"]  # written around the service
    db.session.commit()
    assert_forbidden(client.get("/verify", headers={**bearer(routed.raw),
                                                    **original("GET", "/api/public/a")}))
