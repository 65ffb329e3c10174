"""Ids, filters and methods nobody expects (SPEC 4): 404, 422 or 405 + Allow, never 5xx.

A NUL byte in an id reached PostgreSQL, which refused it, and the answer was 503 "database
unavailable" with a database alarm in the log. Callers sign in with the external-user
header here: many requests, and no password hash to check for each.
"""
import logging

import pytest

HEADER = "X-Forwarded-User"

ODD_IDS = [
    pytest.param("%00", id="nul"),
    pytest.param("abc%00def", id="embedded-nul"),
    pytest.param("%C3%A9t%C3%A9", id="unicode"),
    pytest.param("%F0%9F%9A%80", id="emoji"),
    pytest.param("%ED%A0%80", id="surrogate-bytes"),
    pytest.param("x" * 5000, id="very-long"),
    pytest.param("0" * 33, id="one-too-long"),
    pytest.param("A" * 32, id="uppercase-hex"),
    pytest.param("'%20OR%201=1--", id="sql-ish"),
]


@pytest.fixture
def config_overrides():
    return {"external_user_header": HEADER}


@pytest.fixture
def as_alice(make_user):
    make_user("alice", source="external")
    return {HEADER: "alice"}


@pytest.fixture
def admin_auth(make_user):
    make_user("root", admin=True, source="external")
    return {HEADER: "root"}


def assert_not_found(response):
    assert response.status_code == 404, response.data[:300]
    assert response.json["code"] == 404 and response.json["message"]


@pytest.fixture
def quiet_log(caplog):
    """Fails the test if anything was logged as a database problem."""
    caplog.set_level(logging.INFO)
    yield
    alarms = [r.getMessage() for r in caplog.records if "database" in r.getMessage()]
    assert alarms == []


@pytest.mark.parametrize("odd", ODD_IDS)
def test_odd_token_ids_are_404(client, as_alice, admin_auth, odd, quiet_log):
    path = f"/api/v1/tokens/{odd}"
    assert_not_found(client.get(path, headers=as_alice))
    assert_not_found(client.patch(path, json={"name": "x"}, headers=as_alice))
    assert_not_found(client.delete(path, headers=as_alice))
    assert_not_found(client.post(path + "/rotate", headers=as_alice))
    assert_not_found(client.delete(f"/api/v1/admin/tokens/{odd}", headers=admin_auth))


@pytest.mark.parametrize("odd", ODD_IDS)
def test_odd_user_ids_are_404(client, admin_auth, odd, quiet_log):
    response = client.patch(f"/api/v1/admin/users/{odd}", json={"active": False},
                            headers=admin_auth)
    assert_not_found(response)


@pytest.mark.parametrize("odd", ["a\x00b", "\x00", "é", "ali ce", "x" * 151, "-alice"])
def test_a_bad_user_filter_is_422(client, admin_auth, odd, quiet_log):
    response = client.get("/api/v1/admin/tokens", query_string={"user": odd},
                          headers=admin_auth)
    assert response.status_code == 422, response.data[:300]
    assert "user" in response.json["errors"]["query"]


def test_a_raw_nul_in_the_query_string_is_422(client, admin_auth, quiet_log):
    response = client.get("/api/v1/admin/tokens?user=root%00", headers=admin_auth)
    assert response.status_code == 422


def test_the_user_filter_ignores_case(client, make_user, make_token, admin_auth):
    issued = make_token(make_user("alice"))
    found = client.get("/api/v1/admin/tokens?user=ALICE", headers=admin_auth).json
    assert [t["id"] for t in found] == [issued.token.id]


@pytest.mark.parametrize("method, path, allowed", [
    ("put", "/api/v1/me", {"GET", "HEAD", "OPTIONS"}),
    ("post", "/api/v1/me", {"GET", "HEAD", "OPTIONS"}),
    ("put", "/api/v1/tokens", {"GET", "HEAD", "OPTIONS", "POST"}),
    ("get", "/api/v1/tokens/self/rotate", {"OPTIONS", "POST"}),
    ("get", "/api/v1/tokens/0123456789abcdef0123456789abcdef/rotate", {"OPTIONS", "POST"}),
    ("delete", "/api/v1/admin/users", {"GET", "HEAD", "OPTIONS", "POST"}),
    ("put", "/tokens", {"GET", "HEAD", "OPTIONS"}),
    ("delete", "/login", {"GET", "HEAD", "OPTIONS", "POST"}),
    ("put", "/admin/tokens", {"GET", "HEAD", "OPTIONS"}),
])
def test_405_says_which_methods_are_allowed(client, as_alice, method, path, allowed):
    response = getattr(client, method)(path, headers=as_alice)
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == allowed


def test_405_on_the_api_keeps_the_json_error_shape(client, as_alice):
    response = client.put("/api/v1/me", headers=as_alice)
    assert response.json["code"] == 405 and response.json["message"]
    assert response.headers["Allow"]


@pytest.mark.parametrize("name", ["\ud800", "a\udfffb", "tab\there", "bell\x07", "del\x7f",
                                  "nel\x85"])
def test_names_with_control_characters_or_lone_surrogates_are_422(client, as_alice, name):
    response = client.post("/api/v1/tokens", json={"name": name}, headers=as_alice)
    assert response.status_code == 422, response.data[:300]
    assert "name" in response.json["errors"]["json"]


def test_a_lone_surrogate_in_a_password_is_422(client, admin_auth):
    response = client.post("/api/v1/admin/users", headers=admin_auth,
                           json={"username": "zed", "password": "long-enough\ud800"})
    assert response.status_code == 422, response.data[:300]
    assert "password" in response.json["errors"]["json"]

