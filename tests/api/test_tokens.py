"""/api/v1/tokens: create, list, get, rename, revoke, rotate, self-rotate."""
import logging
import re
from datetime import datetime, timedelta, timezone

import pytest

from ..helpers import basic, bearer, corrupt

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
TOKEN_FIELDS = {"id", "name", "hint", "status", "created_at", "expires_at", "last_accessed_at",
                "last_accessed_origin", "revoked_at", "scopes", "allowed_origins",
                "routes", "canary"}


def create(client, auth, **body):
    body.setdefault("name", "ci")
    return client.post("/api/v1/tokens", json=body, headers=auth)


def test_create_returns_the_token_object_and_the_raw_token_once(client, as_alice):
    response = create(client, as_alice, name="deploy bot")
    assert response.status_code == 201
    body = response.json
    assert set(body) == TOKEN_FIELDS | {"token"}
    assert body["name"] == "deploy bot"
    assert body["status"] == "active"
    assert body["hint"] == "tka_..." + body["token"][-4:]
    assert ISO_Z.match(body["created_at"]) and ISO_Z.match(body["expires_at"])
    assert client.get("/verify", headers=bearer(body["token"])).status_code == 200


def test_default_lifetime_is_90_days(client, as_alice):
    body = create(client, as_alice).json
    created = datetime.fromisoformat(body["created_at"])
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=90) - timedelta(seconds=2) <= expires - created <= timedelta(days=90)


def test_default_lifetime_is_configurable(make_app, as_alice):
    body = create(make_app(default_token_days=7).test_client(), as_alice).json
    delta = datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(body["created_at"])
    assert timedelta(days=6, hours=23) < delta <= timedelta(days=7)


def test_explicit_null_means_never(client, as_alice):
    body = create(client, as_alice, expires_at=None).json
    assert body["expires_at"] is None and body["status"] == "active"


def test_null_is_refused_when_a_maximum_lifetime_is_set(make_app, as_alice):
    client = make_app(max_token_days=30, default_token_days=30).test_client()
    response = create(client, as_alice, expires_at=None)
    assert response.status_code == 422
    assert "expires_at" in response.json["errors"]["json"]
    far = (datetime.now(timezone.utc) + timedelta(days=31)).isoformat()
    assert create(client, as_alice, expires_at=far).status_code == 422
    near = (datetime.now(timezone.utc) + timedelta(days=29)).isoformat()
    assert create(client, as_alice, expires_at=near).status_code == 201


@pytest.mark.parametrize("given, expected", [
    ("2099-01-31", "2099-01-31T00:00:00Z"),
    ("2099-01-31T12:00:00Z", "2099-01-31T12:00:00Z"),
    ("2099-01-01T00:00:00+02:00", "2098-12-31T22:00:00Z"),
    ("2099-06-15T08:30:00-05:30", "2099-06-15T14:00:00Z"),
    ("2099-01-31T12:00:00", "2099-01-31T12:00:00Z"),
])
def test_expiry_input_any_offset_or_date_is_stored_in_utc(client, as_alice, given, expected):
    body = create(client, as_alice, expires_at=given).json
    assert body["expires_at"] == expected
    token_id = body["id"]
    assert client.get(f"/api/v1/tokens/{token_id}", headers=as_alice).json["expires_at"] == expected


@pytest.mark.parametrize("body, field", [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": "nul\x00byte"}, "name"),
    ({"name": 42}, "name"),
    ({}, "name"),
    ({"name": "a", "expires_at": "2020-01-01"}, "expires_at"),
    ({"name": "a", "expires_at": "tomorrow"}, "expires_at"),
    ({"name": "a", "expires_at": "2099-13-45"}, "expires_at"),
    ({"name": "a", "expires_at": "9999-12-31T23:59:59-23:59"}, "expires_at"),
    ({"name": "a", "expires_at": 12345}, "expires_at"),
    ({"name": "a", "scopes": "read"}, "scopes"),
    ({"name": "a", "scopes": ["has space"]}, "scopes"),
    ({"name": "a", "allowed_origins": ["not-an-ip"]}, "allowed_origins"),
    ({"name": "a", "routes": "GET /api/**"}, "routes"),
    ({"name": "a", "routes": ["/api/**"]}, "routes"),
    ({"name": "a", "routes": ["get /api/**"]}, "routes"),
    ({"name": "a", "routes": ["GET /api/a%2Fb"]}, "routes"),
    ({"name": "a", "routes": ["GET /api/x**"]}, "routes"),
    ({"name": "a", "routes": [7]}, "routes"),
    ({"name": "a", "routes": [f"GET /r{i}" for i in range(33)]}, "routes"),
    ({"name": "a", "unexpected": 1}, "unexpected"),
])
def test_validation_errors_are_422_with_field_messages(client, as_alice, body, field):
    response = client.post("/api/v1/tokens", json=body, headers=as_alice)
    assert response.status_code == 422
    assert response.json["code"] == 422
    assert response.json["status"] == "Unprocessable Entity"
    assert field in response.json["errors"]["json"]


@pytest.mark.parametrize("data, content_type", [
    ("{not json", "application/json"),
    ('{"name": "a",}', "application/json"),
    (b"\xff\xfe", "application/json"),
])
def test_malformed_json_is_400(client, as_alice, data, content_type):
    response = client.post("/api/v1/tokens", data=data, content_type=content_type,
                           headers=as_alice)
    assert response.status_code == 400
    assert response.json["code"] == 400


def test_huge_body_is_refused_without_a_500(client, as_alice):
    response = client.post("/api/v1/tokens", json={"name": "x" * 200_000}, headers=as_alice)
    assert response.status_code == 413


def test_a_token_created_with_routes_is_used_only_there(client, as_alice):
    rules = ["GET /api/reports/**", "POST /api/reports/*/comments", "GET /api/reports/**"]
    response = create(client, as_alice, routes=rules)
    assert response.status_code == 201
    assert response.json["routes"] == rules[:2]  # a repeated rule is kept once
    listed = client.get("/api/v1/tokens", headers=as_alice).json
    assert listed[0]["routes"] == rules[:2]
    raw = response.json["token"]

    def verify(method, uri):
        return client.get("/verify", headers={**bearer(raw), "X-Original-Method": method,
                                              "X-Original-URI": uri})
    assert verify("GET", "/api/reports/2026/q3").status_code == 200
    assert verify("POST", "/api/reports/7/comments").status_code == 200
    denied = verify("DELETE", "/api/reports/7")
    assert (denied.status_code, denied.headers["X-Auth-Error"]) == (403, "forbidden_scope")


def test_a_token_without_routes_shows_none(client, as_alice):
    assert create(client, as_alice).json["routes"] == []


def test_a_bad_rule_is_422_naming_the_rule_and_stores_nothing(client, as_alice):
    response = create(client, as_alice, routes=["GET /api/**", "GET api/x"])
    assert response.status_code == 422
    [message] = response.json["errors"]["json"]["routes"]["1"]
    assert "'GET api/x'" in message and "starting with /" in message
    assert client.get("/api/v1/tokens", headers=as_alice).json == []


def test_unicode_names_round_trip(client, as_alice):
    name = "Déploiement 🚀 — 東京"
    token_id = create(client, as_alice, name=name).json["id"]
    assert client.get(f"/api/v1/tokens/{token_id}", headers=as_alice).json["name"] == name
    assert client.get("/api/v1/tokens", headers=as_alice).json[0]["name"] == name


def test_list_is_newest_first_and_filters_by_status(client, alice, as_alice, make_token):
    old = make_token(alice, name="old")
    revoked = make_token(alice, name="revoked", revoked=True)
    new = make_token(alice, name="new")
    names = [t["name"] for t in client.get("/api/v1/tokens", headers=as_alice).json]
    assert names == ["new", "revoked", "old"]
    active = client.get("/api/v1/tokens?status=active", headers=as_alice).json
    assert {t["id"] for t in active} == {old.token.id, new.token.id}
    only_revoked = client.get("/api/v1/tokens?status=revoked", headers=as_alice).json
    assert [t["id"] for t in only_revoked] == [revoked.token.id]
    assert client.get("/api/v1/tokens?status=bogus", headers=as_alice).status_code == 422


def test_expired_status_filter(client, alice, as_alice, make_token, monkeypatch):
    soon = datetime.now(timezone.utc) + timedelta(seconds=1)
    issued = make_token(alice, name="short", expires_at=soon)
    later = soon + timedelta(seconds=1)
    monkeypatch.setattr("tokenauth.services.tokens.utcnow", lambda: later)
    monkeypatch.setattr("tokenauth.models.utcnow", lambda: later)
    expired = client.get("/api/v1/tokens?status=expired", headers=as_alice).json
    assert [t["id"] for t in expired] == [issued.token.id]
    assert expired[0]["status"] == "expired"


def test_users_see_only_their_own_tokens(client, alice, as_alice, make_user, make_token):
    other = make_token(make_user("bob"), name="bob's")
    assert client.get("/api/v1/tokens", headers=as_alice).json == []
    path = f"/api/v1/tokens/{other.token.id}"
    assert client.get(path, headers=as_alice).status_code == 404
    assert client.patch(path, json={"name": "mine"}, headers=as_alice).status_code == 404
    assert client.delete(path, headers=as_alice).status_code == 404
    assert client.post(path + "/rotate", headers=as_alice).status_code == 404
    assert client.get("/verify", headers=bearer(other.raw)).status_code == 200  # untouched


def test_unknown_id_is_404(client, as_alice):
    response = client.get("/api/v1/tokens/does-not-exist", headers=as_alice)
    assert response.status_code == 404
    assert response.json["code"] == 404


def test_rename(client, alice, as_alice, make_token):
    issued = make_token(alice, name="before")
    response = client.patch(f"/api/v1/tokens/{issued.token.id}", json={"name": "after"},
                            headers=as_alice)
    assert response.status_code == 200 and response.json["name"] == "after"
    bad = client.patch(f"/api/v1/tokens/{issued.token.id}", json={"name": ""}, headers=as_alice)
    assert bad.status_code == 422


def test_revoke_keeps_the_token_for_audit_and_is_idempotent(client, alice, as_alice, make_token):
    issued = make_token(alice)
    path = f"/api/v1/tokens/{issued.token.id}"
    assert client.delete(path, headers=as_alice).status_code == 204
    first = client.get(path, headers=as_alice).json
    assert first["status"] == "revoked" and ISO_Z.match(first["revoked_at"])
    assert client.delete(path, headers=as_alice).status_code == 204
    assert client.get(path, headers=as_alice).json["revoked_at"] == first["revoked_at"]
    assert client.get("/verify", headers=bearer(issued.raw)).headers["X-Auth-Error"] == "revoked"


def test_rotate_issues_a_new_secret_with_the_same_metadata(client, alice, as_alice, make_token):
    expires = datetime(2099, 5, 1, tzinfo=timezone.utc)
    old = make_token(alice, name="ci", expires_at=expires, scopes=["read"],
                     allowed_origins=["127.0.0.0/8"], routes=["GET /api/**"])
    response = client.post(f"/api/v1/tokens/{old.token.id}/rotate", headers=as_alice)
    assert response.status_code == 201
    new = response.json
    assert new["token"] != old.raw and new["id"] != old.token.id
    assert (new["name"], new["expires_at"], new["scopes"], new["allowed_origins"],
            new["routes"]) == ("ci", "2099-05-01T00:00:00Z", ["read"], ["127.0.0.0/8"],
                               ["GET /api/**"])
    assert client.get("/verify", headers=bearer(old.raw)).headers["X-Auth-Error"] == "revoked"
    assert client.get("/verify", headers={**bearer(new["token"]), "X-Original-Method": "GET",
                                          "X-Original-URI": "/api/x"}).status_code == 200
    again = client.post(f"/api/v1/tokens/{old.token.id}/rotate", headers=as_alice)
    assert again.status_code == 409


def test_self_rotate_rotates_the_presented_token(client, alice, make_token):
    old = make_token(alice, name="script")
    response = client.post("/api/v1/tokens/self/rotate", headers=bearer(old.raw))
    assert response.status_code == 201
    assert response.json["name"] == "script"
    assert client.get("/verify", headers=bearer(old.raw)).status_code == 401
    assert client.get("/verify", headers=bearer(response.json["token"])).status_code == 200
    basic_rotate = client.post("/api/v1/tokens/self/rotate",
                               headers=basic("alice", response.json["token"]))
    assert basic_rotate.status_code == 201


def test_self_rotate_refuses_a_bad_token(client, alice, make_token):
    revoked = make_token(alice, revoked=True)
    assert client.post("/api/v1/tokens/self/rotate", headers=bearer(revoked.raw)).status_code == 401
    assert client.post("/api/v1/tokens/self/rotate").status_code == 401


def test_self_rotate_with_a_password_is_400(client, as_alice):
    response = client.post("/api/v1/tokens/self/rotate", headers=as_alice)
    assert response.status_code == 400


def test_api_tokens_do_not_manage_tokens(client, alice, make_token):
    issued = make_token(alice)
    response = client.get("/api/v1/tokens", headers=bearer(issued.raw))
    assert response.status_code == 401
    assert client.post("/api/v1/tokens", json={"name": "x"},
                       headers=basic("alice", issued.raw)).status_code == 401


def test_raw_token_never_appears_again(client, app, alice, as_alice, admin_auth, caplog):
    caplog.set_level(logging.DEBUG)
    raw = create(client, as_alice, name="secret").json["token"]
    token_id = client.get("/api/v1/tokens", headers=as_alice).json[0]["id"]
    client.get("/verify", headers=bearer(raw))
    client.get("/verify", headers=bearer(corrupt(raw)))
    client.get("/verify", headers=basic("mallory", raw))
    client.post("/api/v1/tokens", json={"name": "x"}, headers=bearer(raw))
    seen = [
        client.get("/api/v1/tokens", headers=as_alice).data,
        client.get(f"/api/v1/tokens/{token_id}", headers=as_alice).data,
        client.patch(f"/api/v1/tokens/{token_id}", json={"name": "y"}, headers=as_alice).data,
        client.get("/api/v1/admin/tokens", headers=admin_auth).data,
        client.get("/api/v1/openapi.json").data,
    ]
    assert all(raw.encode() not in body and raw[4:-6].encode() not in body for body in seen)
    assert raw not in caplog.text and raw[4:-6] not in caplog.text
    assert "correct horse" not in caplog.text


def test_answers_carrying_a_raw_token_are_not_cached(client, as_alice):
    response = create(client, as_alice)
    assert response.headers["Cache-Control"] == "no-store"
    rotated = client.post(f"/api/v1/tokens/{response.json['id']}/rotate", headers=as_alice)
    assert rotated.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("method, path, status", [
    ("put", "/api/v1/me", 405),
    ("get", "/api/v1/nothing-here", 404),
])
def test_every_error_has_a_message(client, as_alice, method, path, status):
    response = getattr(client, method)(path, headers=as_alice)
    assert response.status_code == status
    assert response.json["code"] == status and response.json["message"]
