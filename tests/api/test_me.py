"""/api/v1/me and who may call the management API."""
import pytest

from ..helpers import PASSWORD, basic


def test_me_with_basic_password(client, alice, as_alice):
    response = client.get("/api/v1/me", headers=as_alice)
    assert response.status_code == 200
    assert response.json == {"id": alice.id, "username": "alice", "source": "internal",
                             "is_admin": False}


@pytest.mark.parametrize("headers", [
    {},
    basic("alice", "wrong password"),
    basic("nobody", PASSWORD),
    {"Authorization": "Basic %%%"},
    {"Authorization": "Bearer nonsense"},
])
def test_unauthenticated_calls_are_401_json(client, alice, headers):
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.json["code"] == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="tokenauth"'


def test_disabled_user_cannot_call(client, make_user):
    make_user("dora", active=False)
    assert client.get("/api/v1/me", headers=basic("dora", PASSWORD)).status_code == 401


class TestExternalUsers:
    @pytest.fixture
    def ext_client(self, make_app):
        return make_app(external_user_header="X-Forwarded-User").test_client()

    def test_created_on_first_sight_from_a_trusted_proxy(self, ext_client):
        response = ext_client.get("/api/v1/me", headers={"X-Forwarded-User": "erin@example.com"})
        assert response.status_code == 200
        assert response.json["username"] == "erin@example.com"
        assert response.json["source"] == "external"
        again = ext_client.get("/api/v1/me", headers={"X-Forwarded-User": "erin@example.com"})
        assert again.json["id"] == response.json["id"]
        created = ext_client.post("/api/v1/tokens", json={"name": "ext"},
                                  headers={"X-Forwarded-User": "erin@example.com"})
        assert created.status_code == 201
        verify = ext_client.get("/verify", headers={"Authorization": f"Bearer {created.json['token']}"})
        assert verify.headers["X-Auth-Source"] == "external"

    def test_ignored_from_an_untrusted_peer(self, ext_client):
        response = ext_client.get("/api/v1/me", headers={"X-Forwarded-User": "erin"},
                                  environ_base={"REMOTE_ADDR": "192.0.2.50"})
        assert response.status_code == 401

    def test_ignored_when_not_configured(self, client):
        assert client.get("/api/v1/me", headers={"X-Forwarded-User": "erin"}).status_code == 401

    @pytest.mark.parametrize("name", ["", "has space", "colon:name", "x" * 200])
    def test_invalid_names_are_refused(self, ext_client, name):
        assert ext_client.get("/api/v1/me", headers={"X-Forwarded-User": name}).status_code == 401

    def test_cannot_impersonate_an_internal_user(self, ext_client, alice):
        assert ext_client.get("/api/v1/me", headers={"X-Forwarded-User": "alice"}).status_code == 401

    def test_disabled_external_user_is_refused(self, ext_client, make_user):
        make_user("ext", source="external", active=False)
        assert ext_client.get("/api/v1/me", headers={"X-Forwarded-User": "ext"}).status_code == 401


def test_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json["paths"]
    for path in ("/api/v1/tokens", "/api/v1/tokens/{token_id}/rotate", "/api/v1/tokens/self/rotate",
                 "/api/v1/admin/users", "/api/v1/admin/tokens/{token_id}", "/api/v1/me"):
        assert path in paths
    schemas = response.json["components"]["schemas"]
    assert "token_hash" not in str(schemas)


def test_external_browser_calls_need_the_csrf_token(make_app):
    """A cross-site form carries the proxy's sign-in cookie, never the page's CSRF token."""
    app = make_app(external_user_header="X-Forwarded-User")
    headers = {"X-Forwarded-User": "erin"}
    scripted = app.test_client().post("/api/v1/tokens", json={"name": "x"}, headers=headers)
    assert scripted.status_code == 201
    browser = app.test_client()
    browser.set_cookie("proxy_session", "abc")
    refused = browser.post("/api/v1/tokens", json={"name": "x"}, headers=headers)
    assert refused.status_code == 400 and "CSRF" in refused.json["message"]
    assert browser.get("/api/v1/tokens", headers=headers).status_code == 200


def test_basic_password_guessing_is_locked_out(make_app, alice):
    client = make_app(login_max_failures=2, login_lockout_seconds=30).test_client()
    assert client.get("/api/v1/me", headers=basic("alice", "wrong password")).status_code == 401
    locking = client.get("/api/v1/me", headers=basic("alice", "wrong password"))
    assert locking.status_code == 429 and locking.headers["Retry-After"] == "30"
    locked = client.get("/api/v1/me", headers=basic("alice", PASSWORD))
    assert locked.status_code == 429
    assert locked.json["code"] == 429 and "try again" in locked.json["message"]
    assert 1 <= int(locked.headers["Retry-After"]) <= 30
