"""/api/v1/tokens/<id>/origins, /tokens/<id>/events, /admin/events (SPEC 4), and canary
tokens created through the API."""
import re

import pytest

from ..helpers import PASSWORD, basic, bearer

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
EVENT_FIELDS = {"id", "at", "type", "token_id", "user_id", "actor", "origin"}


def create(client, auth, **body):
    body.setdefault("name", "ci")
    response = client.post("/api/v1/tokens", json=body, headers=auth)
    assert response.status_code == 201, response.json
    return response.json


def use(client, raw, ip):
    return client.get("/verify", headers={**bearer(raw), "X-Real-IP": ip})


def test_a_canary_is_created_shown_and_refused(client, as_alice):
    body = create(client, as_alice, name="bait", canary=True)
    assert body["canary"] is True
    assert client.get(f"/api/v1/tokens/{body['id']}", headers=as_alice).json["canary"] is True
    assert create(client, as_alice)["canary"] is False
    assert use(client, body["token"], "203.0.113.1").headers["X-Auth-Error"] == "invalid"


@pytest.mark.parametrize("value", ["yes", 2, None, [True]])
def test_canary_must_be_a_boolean(client, as_alice, value):
    response = client.post("/api/v1/tokens", json={"name": "x", "canary": value},
                           headers=as_alice)
    assert response.status_code == 422 and "canary" in response.json["errors"]["json"]


def test_origins_most_recently_seen_first(client, as_alice):
    body = create(client, as_alice)
    for ip in ("203.0.113.1", "203.0.113.2"):
        assert use(client, body["token"], ip).status_code == 200
    origins = client.get(f"/api/v1/tokens/{body['id']}/origins", headers=as_alice).json
    assert [o["origin"] for o in origins] == ["203.0.113.2", "203.0.113.1"]
    assert all(set(o) == {"origin", "first_seen_at", "last_seen_at"} for o in origins)
    assert all(ISO_Z.match(o["first_seen_at"]) and ISO_Z.match(o["last_seen_at"])
               for o in origins)


def test_a_tokens_events_newest_first(client, as_alice, alice):
    body = create(client, as_alice, name="ci")
    client.patch(f"/api/v1/tokens/{body['id']}", json={"name": "deploy"}, headers=as_alice)
    use(client, body["token"], "203.0.113.1")
    use(client, body["token"], "203.0.113.2")
    client.delete(f"/api/v1/tokens/{body['id']}", headers=as_alice)
    events = client.get(f"/api/v1/tokens/{body['id']}/events", headers=as_alice).json
    assert [(e["type"], e["actor"], e["origin"]) for e in events] == [
        ("revoked", "alice", None), ("new_origin", None, "203.0.113.2"),
        ("renamed", "alice", None), ("created", "alice", None)]
    assert all(set(e) == EVENT_FIELDS and ISO_Z.match(e["at"]) for e in events)
    assert {(e["token_id"], e["user_id"]) for e in events} == {(body["id"], alice.id)}
    limited = client.get(f"/api/v1/tokens/{body['id']}/events?limit=1", headers=as_alice).json
    assert [e["type"] for e in limited] == ["revoked"]


@pytest.mark.parametrize("path", ["origins", "events"])
def test_another_users_token_is_404(client, as_alice, make_user, path):
    make_user("bob")
    theirs = create(client, basic("bob", PASSWORD))
    assert client.get(f"/api/v1/tokens/{theirs['id']}/{path}", headers=as_alice).status_code == 404
    assert client.get(f"/api/v1/tokens/nonsense/{path}", headers=as_alice).status_code == 404
    assert client.get(f"/api/v1/tokens/{theirs['id']}/{path}").status_code == 401


def test_admin_events_filter_by_user_token_and_type(client, as_alice, admin_auth, make_user):
    mine = create(client, as_alice)
    client.delete(f"/api/v1/tokens/{mine['id']}", headers=as_alice)
    make_user("bob")
    theirs = create(client, basic("bob", PASSWORD))
    client.delete(f"/api/v1/admin/tokens/{theirs['id']}", headers=admin_auth)

    def listed(query):
        response = client.get(f"/api/v1/admin/events{query}", headers=admin_auth)
        assert response.status_code == 200, response.json
        return [(e["type"], e["actor"], e["token_id"]) for e in response.json]
    assert listed("?type=revoked") == [("revoked", "root", theirs["id"]),
                                       ("revoked", "alice", mine["id"])]
    assert listed("?user=ALICE&type=created") == [("created", "alice", mine["id"])]
    assert listed(f"?token={theirs['id']}") == [("revoked", "root", theirs["id"]),
                                                ("created", "bob", theirs["id"])]
    assert listed("?user=nobody") == []
    assert ("user_created", None, None) in listed("?type=user_created")
    assert len(listed("?limit=2")) == 2


@pytest.mark.parametrize("query", ["?type=exploded", "?token=nonsense", "?user=%00",
                                   "?limit=0", "?limit=many", "?limit=100000"])
def test_admin_events_bad_filters_are_422(client, admin_auth, query):
    response = client.get(f"/api/v1/admin/events{query}", headers=admin_auth)
    assert response.status_code == 422


def test_admin_events_are_for_admins(client, as_alice):
    assert client.get("/api/v1/admin/events", headers=as_alice).status_code == 403
    assert client.get("/api/v1/admin/events").status_code == 401


def test_user_changes_by_an_admin_name_the_admin(client, admin_auth):
    created = client.post("/api/v1/admin/users", json={"username": "carol",
                          "password": PASSWORD}, headers=admin_auth).json
    client.patch(f"/api/v1/admin/users/{created['id']}", json={"active": False},
                 headers=admin_auth)
    events = client.get("/api/v1/admin/events?user=carol", headers=admin_auth).json
    assert [(e["type"], e["actor"]) for e in events] == [("user_disabled", "root"),
                                                         ("user_created", "root")]


def test_the_openapi_document_describes_the_new_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/tokens/{token_id}/origins", "/api/v1/tokens/{token_id}/events",
                 "/api/v1/admin/events"):
        assert "get" in paths[path], path
