"""/api/v1/admin: users and every user's tokens, for administrators only."""
import pytest

from ..helpers import PASSWORD, basic, bearer


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/admin/users"), ("post", "/api/v1/admin/users"),
    ("patch", "/api/v1/admin/users/x"), ("get", "/api/v1/admin/tokens"),
    ("delete", "/api/v1/admin/tokens/x"),
])
def test_non_admins_get_403(client, as_alice, method, path):
    response = getattr(client, method)(path, headers=as_alice, json={})
    assert response.status_code == 403
    assert response.json["code"] == 403


def test_create_and_list_users(client, admin_auth):
    response = client.post("/api/v1/admin/users", headers=admin_auth,
                           json={"username": "zed", "password": "long-enough-1", "is_admin": True})
    assert response.status_code == 201
    assert response.json["is_admin"] is True and "password" not in response.json
    names = [u["username"] for u in client.get("/api/v1/admin/users", headers=admin_auth).json]
    assert names == ["root", "zed"]
    assert client.get("/api/v1/me", headers=basic("zed", "long-enough-1")).json["is_admin"]


@pytest.mark.parametrize("body, status", [
    ({"username": "root", "password": "long-enough-1"}, 409),
    ({"username": "bad name", "password": "long-enough-1"}, 422),
    ({"username": "ok", "password": "short"}, 422),
    ({"username": "ok", "password": "tka_" + "a" * 46}, 422),
    ({"password": "long-enough-1"}, 422),
])
def test_create_user_validation(client, admin_auth, body, status):
    assert client.post("/api/v1/admin/users", headers=admin_auth, json=body).status_code == status


def test_disable_user_refuses_their_tokens_at_once(client, admin_auth, alice, make_token):
    issued = make_token(alice)
    assert client.get("/verify", headers=bearer(issued.raw)).status_code == 200
    response = client.patch(f"/api/v1/admin/users/{alice.id}", json={"active": False},
                            headers=admin_auth)
    assert response.status_code == 200 and response.json["active"] is False
    assert client.get("/verify", headers=bearer(issued.raw)).headers["X-Auth-Error"] == "user_disabled"
    client.patch(f"/api/v1/admin/users/{alice.id}", json={"active": True}, headers=admin_auth)
    assert client.get("/verify", headers=bearer(issued.raw)).status_code == 200


def test_change_password_and_admin_flag(client, admin_auth, alice):
    path = f"/api/v1/admin/users/{alice.id}"
    assert client.patch(path, json={"password": "a-new-password"}, headers=admin_auth).status_code == 200
    assert client.get("/api/v1/me", headers=basic("alice", PASSWORD)).status_code == 401
    assert client.get("/api/v1/me", headers=basic("alice", "a-new-password")).status_code == 200
    client.patch(path, json={"is_admin": True}, headers=admin_auth)
    assert client.get("/api/v1/admin/users", headers=basic("alice", "a-new-password")).status_code == 200
    assert client.patch("/api/v1/admin/users/nope", json={}, headers=admin_auth).status_code == 404


def test_admin_lists_every_token_with_filters(client, admin_auth, alice, make_user, make_token):
    a = make_token(alice, name="a")
    b = make_token(make_user("bob"), name="b", revoked=True)
    everything = client.get("/api/v1/admin/tokens", headers=admin_auth).json
    assert [(t["id"], t["username"]) for t in everything] == [(b.token.id, "bob"), (a.token.id, "alice")]
    only_alice = client.get("/api/v1/admin/tokens?user=alice", headers=admin_auth).json
    assert [t["id"] for t in only_alice] == [a.token.id]
    revoked = client.get("/api/v1/admin/tokens?status=revoked", headers=admin_auth).json
    assert [t["id"] for t in revoked] == [b.token.id]
    assert client.get("/api/v1/admin/tokens?user=ghost", headers=admin_auth).json == []


def test_admin_revokes_anyones_token(client, admin_auth, alice, make_token):
    issued = make_token(alice)
    assert client.delete(f"/api/v1/admin/tokens/{issued.token.id}", headers=admin_auth).status_code == 204
    assert client.get("/verify", headers=bearer(issued.raw)).headers["X-Auth-Error"] == "revoked"
    assert client.delete("/api/v1/admin/tokens/nope", headers=admin_auth).status_code == 404


@pytest.mark.parametrize("taken", ["ROOT", "Root", "rOOt"])
def test_usernames_are_unique_regardless_of_case(client, admin_auth, taken):
    response = client.post("/api/v1/admin/users", headers=admin_auth,
                           json={"username": taken, "password": "long-enough-1"})
    assert response.status_code == 409
    assert "regardless of case" in response.json["message"]


def test_the_api_signs_in_whatever_the_case_and_answers_with_the_stored_name(client, make_user):
    make_user("Alice")
    response = client.get("/api/v1/me", headers=basic("aLiCe", PASSWORD))
    assert response.status_code == 200 and response.json["username"] == "Alice"


@pytest.mark.parametrize("change", [{"is_admin": False}, {"active": False},
                                    {"is_admin": False, "active": False}])
def test_the_last_active_admin_cannot_be_demoted_or_disabled(client, admin_auth, make_user,
                                                            change):
    root_id = client.get("/api/v1/me", headers=admin_auth).json["id"]
    make_user("dormant", admin=True, active=False)
    response = client.patch(f"/api/v1/admin/users/{root_id}", json=change, headers=admin_auth)
    assert response.status_code == 409
    assert "last active administrator" in response.json["message"]
    me = client.get("/api/v1/me", headers=admin_auth).json
    assert me["is_admin"] is True


def test_an_admin_can_step_down_once_another_is_active(client, admin_auth, make_user):
    other = make_user("deputy", admin=True)
    root_id = client.get("/api/v1/me", headers=admin_auth).json["id"]
    response = client.patch(f"/api/v1/admin/users/{root_id}", json={"is_admin": False},
                            headers=admin_auth)
    assert response.status_code == 200 and response.json["is_admin"] is False
    last = client.patch(f"/api/v1/admin/users/{other.id}", json={"active": False},
                        headers=basic("deputy", PASSWORD))
    assert last.status_code == 409
