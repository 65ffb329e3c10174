"""GET /verify, every row of SPEC 3, on both databases."""
import base64
from datetime import datetime, timedelta, timezone
from unittest import mock

import pytest

from tokenauth.extensions import db
from tokenauth.models import ApiToken

from ..helpers import PASSWORD, basic, bearer, corrupt, listening

CHALLENGES = ['Basic realm="tokenauth"', 'Bearer realm="tokenauth"']


def assert_denied(response, reason, status=401):
    assert response.status_code == status
    assert response.headers["X-Auth-Error"] == reason
    assert "X-Auth-User" not in response.headers
    if status == 401:
        assert response.headers.getlist("WWW-Authenticate") == CHALLENGES



@pytest.fixture
def token(alice, make_token):
    return make_token(alice, scopes=["read", "deploy"])


def test_bearer_token_is_allowed_with_identity_headers(client, alice, token):
    response = client.get("/verify", headers=bearer(token.raw))
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["X-Auth-User"] == "alice"
    assert response.headers["X-Auth-User-Id"] == alice.id
    assert response.headers["X-Auth-Token-Id"] == token.token.id
    assert response.headers["X-Auth-Scopes"] == "deploy read"
    assert response.headers["X-Auth-Source"] == "internal"


def test_head_is_answered_like_get(client, token):
    response = client.head("/verify", headers=bearer(token.raw))
    assert response.status_code == 200
    assert response.headers["X-Auth-User"] == "alice"


def test_basic_with_owner_and_token_is_allowed(client, token):
    response = client.get("/verify", headers=basic("alice", token.raw))
    assert response.status_code == 200
    assert response.headers["X-Auth-User"] == "alice"


def test_basic_with_another_username_is_invalid(client, token, make_user):
    make_user("mallory")
    assert_denied(client.get("/verify", headers=basic("mallory", token.raw)), "invalid")
    assert_denied(client.get("/verify", headers=basic("Alice", token.raw)), "invalid")


def test_no_credentials_gets_both_challenges(client):
    assert_denied(client.get("/verify"), "missing")
    assert_denied(client.get("/verify", headers={"Authorization": "   "}), "missing")


@pytest.mark.parametrize("header", [
    "Bearer",
    "Bearer not-a-token",
    "Bearer tka_abc def",
    "Token abc",
    "Digest username=x",
    "Basic",
    "Basic !!!not-base64!!!",
    "Basic " + base64.b64encode(b"no-colon-here").decode(),
    "Basic " + base64.b64encode(b":tka_" + b"a" * 46).decode(),
    "Basic " + base64.b64encode(b"alice:").decode(),
    "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
    "Bearer tka_" + "a" * 5000,
])
def test_unparsable_headers_are_malformed(client, header):
    assert_denied(client.get("/verify", headers={"Authorization": header}), "malformed")


def test_token_with_a_bad_check_is_malformed_without_touching_the_database(client, token):
    changed = corrupt(token.raw)
    with mock.patch("tokenauth.verify.store.TokenStore.snapshot") as snapshot:
        assert_denied(client.get("/verify", headers=bearer(changed)), "malformed")
    snapshot.assert_not_called()


def test_well_formed_unknown_token_is_invalid(client, app):
    from tokenauth.security.tokens import generate
    assert_denied(client.get("/verify", headers=bearer(generate("tka"))), "invalid")


def test_token_from_another_pepper_is_invalid(make_app, alice, token):
    other = make_app(token_pepper="a-completely-different-pepper-" + "z" * 10)
    assert_denied(other.test_client().get("/verify", headers=bearer(token.raw)), "invalid")


def test_expiry_takes_effect_exactly_at_expires_at(client, alice, make_token):
    expires = datetime.now(timezone.utc) + timedelta(hours=1)
    issued = make_token(alice, expires_at=expires)
    with mock.patch("tokenauth.verify.verifier.utcnow", return_value=expires - timedelta(microseconds=1)):
        assert client.get("/verify", headers=bearer(issued.raw)).status_code == 200
    with mock.patch("tokenauth.verify.verifier.utcnow", return_value=expires):
        assert_denied(client.get("/verify", headers=bearer(issued.raw)), "expired")


def test_revoked_token_is_refused(client, alice, make_token):
    issued = make_token(alice, revoked=True)
    assert_denied(client.get("/verify", headers=bearer(issued.raw)), "revoked")


def test_revocation_wins_over_expiry(client, alice, make_token):
    issued = make_token(alice, revoked=True)
    with mock.patch("tokenauth.verify.verifier.utcnow",
                    return_value=datetime(2100, 1, 1, tzinfo=timezone.utc)):
        assert_denied(client.get("/verify", headers=bearer(issued.raw)), "revoked")


def test_token_of_a_disabled_user_is_refused(client, make_user, make_token):
    issued = make_token(make_user("carol", active=False))
    assert_denied(client.get("/verify", headers=bearer(issued.raw)), "user_disabled")


def test_token_without_expiry_is_allowed(client, alice, make_token):
    issued = make_token(alice, expires_at=None)
    assert client.get("/verify", headers=bearer(issued.raw)).status_code == 200


def test_external_users_tokens_say_so(client, make_user, make_token):
    issued = make_token(make_user("ext", source="external"))
    response = client.get("/verify", headers=bearer(issued.raw))
    assert response.headers["X-Auth-Source"] == "external"


class TestPasswordAuth:
    def test_password_is_refused_by_default(self, client, alice):
        assert_denied(client.get("/verify", headers=basic("alice", PASSWORD)), "invalid")

    def test_password_allowed_when_enabled(self, make_app, alice):
        client = make_app(allow_password_auth=True).test_client()
        response = client.get("/verify", headers=basic("alice", PASSWORD))
        assert response.status_code == 200
        assert response.headers["X-Auth-User"] == "alice"
        assert response.headers["X-Auth-Token-Id"] == ""

    @pytest.mark.parametrize("username, password, reason", [
        ("alice", "wrong password", "invalid"),
        ("nobody", PASSWORD, "invalid"),
        ("dora", PASSWORD, "invalid"),  # a disabled user's right password must not show
    ])
    def test_password_failures(self, make_app, alice, make_user, username, password, reason):
        make_user("dora", active=False)
        client = make_app(allow_password_auth=True).test_client()
        assert_denied(client.get("/verify", headers=basic(username, password)), reason)


class TestOrigins:
    def test_token_limited_to_other_origins_is_forbidden(self, client, alice, make_token):
        issued = make_token(alice, allowed_origins=["10.0.0.0/8"])
        assert_denied(client.get("/verify", headers=bearer(issued.raw)), "origin_not_allowed", 403)

    def test_token_used_from_an_allowed_origin(self, client, alice, make_token):
        issued = make_token(alice, allowed_origins=["198.51.100.7"])
        response = client.get("/verify", headers={**bearer(issued.raw), "X-Real-IP": "198.51.100.7"})
        assert response.status_code == 200

    def test_a_stored_origin_that_no_longer_parses_still_restricts(self, client, alice,
                                                                   make_token):
        """Origins are parsed once per lookup; one that fails to parse (written by hand,
        or by an older version) must neither open the token to everyone nor crash."""
        issued = make_token(alice, allowed_origins=["198.51.100.7"])
        token = db.session.get(ApiToken, issued.token.id)
        token.allowed_origins = ["not-an-address", "198.51.100.7"]
        db.session.commit()
        at = {**bearer(issued.raw), "X-Real-IP": "198.51.100.7"}
        assert client.get("/verify", headers=at).status_code == 200
        issued = make_token(alice, allowed_origins=["198.51.100.7"])
        token = db.session.get(ApiToken, issued.token.id)
        token.allowed_origins = ["not-an-address"]
        db.session.commit()
        assert_denied(client.get("/verify", headers={**bearer(issued.raw),
                                                     "X-Real-IP": "198.51.100.7"}),
                      "origin_not_allowed", 403)


class TestLastAccess:
    def stored(self, token_id):
        db.session.remove()
        token = db.session.get(ApiToken, token_id)
        return token.last_accessed_at, token.last_accessed_origin

    def test_success_records_time_and_client_ip(self, client, token):
        before = datetime.now(timezone.utc)
        client.get("/verify", headers={**bearer(token.raw), "X-Forwarded-For": "203.0.113.9"})
        at, origin = self.stored(token.token.id)
        assert origin == "203.0.113.9"
        assert before <= at <= datetime.now(timezone.utc)

    def test_failure_records_nothing(self, client, alice, make_token):
        issued = make_token(alice, revoked=True)
        client.get("/verify", headers=bearer(issued.raw))
        assert self.stored(issued.token.id) == (None, None)

    def test_change_of_origin_is_stored_at_once(self, client, token):
        client.get("/verify", headers={**bearer(token.raw), "X-Real-IP": "203.0.113.1"})
        client.get("/verify", headers={**bearer(token.raw), "X-Real-IP": "203.0.113.2"})
        assert self.stored(token.token.id)[1] == "203.0.113.2"

    def test_uses_within_the_resolution_are_coalesced_then_flushed(self, app, client, token):
        client.get("/verify", headers=bearer(token.raw))
        first, _ = self.stored(token.token.id)
        client.get("/verify", headers=bearer(token.raw))
        assert self.stored(token.token.id)[0] == first  # coalesced: not written yet
        assert app.extensions["tokenauth"].flush_last_access() == 1
        assert self.stored(token.token.id)[0] > first

    def test_use_after_the_resolution_is_written(self, make_app, token):
        client = make_app(last_access_resolution=0).test_client()
        client.get("/verify", headers=bearer(token.raw))
        first, _ = self.stored(token.token.id)
        client.get("/verify", headers=bearer(token.raw))
        assert self.stored(token.token.id)[0] > first


class TestCache:
    def test_revocation_on_this_worker_takes_effect_at_once(self, client, token):
        assert client.get("/verify", headers=bearer(token.raw)).status_code == 200
        response = client.delete(f"/api/v1/tokens/{token.token.id}", headers=basic("alice", PASSWORD))
        assert response.status_code == 204
        assert_denied(client.get("/verify", headers=bearer(token.raw)), "revoked")

    def test_revocation_elsewhere_takes_effect_within_the_ttl(self, make_app, token):
        worker_a = make_app(verify_cache_ttl=0.5)
        worker_b = make_app()
        client_a = worker_a.test_client()
        assert client_a.get("/verify", headers=bearer(token.raw)).status_code == 200
        worker_b.test_client().delete(f"/api/v1/tokens/{token.token.id}",
                                      headers=basic("alice", PASSWORD))
        cache = worker_a.extensions["tokenauth"].cache
        cache.clock = lambda real=cache.clock: real() + 0.6  # the TTL has passed
        assert_denied(client_a.get("/verify", headers=bearer(token.raw)), "revoked")

    def test_cache_hit_serves_without_the_database(self, app, client, token):
        listening(app)
        client.get("/verify", headers=bearer(token.raw))
        with mock.patch("tokenauth.verify.store.TokenStore.snapshot") as snapshot:
            assert client.get("/verify", headers=bearer(token.raw)).status_code == 200
        snapshot.assert_not_called()

    def test_ttl_zero_means_no_cache(self, make_app, token):
        client = make_app(verify_cache_ttl=0).test_client()
        client.get("/verify", headers=bearer(token.raw))
        with mock.patch("tokenauth.verify.store.TokenStore.snapshot", return_value=None):
            assert_denied(client.get("/verify", headers=bearer(token.raw)), "invalid")


class TestPasswordThrottle:
    def test_repeated_failures_are_rate_limited_then_recover(self, make_app, alice):
        app = make_app(allow_password_auth=True, login_max_failures=3, login_lockout_seconds=60)
        client = app.test_client()
        for _ in range(2):
            assert_denied(client.get("/verify", headers=basic("alice", "wrong password")), "invalid")
        locking = client.get("/verify", headers=basic("alice", "wrong password"))
        assert_denied(locking, "rate_limited")  # the failure that reaches the limit says so
        locked = client.get("/verify", headers=basic("alice", PASSWORD))  # even the right one
        assert_denied(locked, "rate_limited")
        assert 1 <= int(locked.headers["Retry-After"]) <= 60
        other_client = client.get("/verify", headers=basic("alice", PASSWORD),
                                  environ_base={"REMOTE_ADDR": "127.0.0.9"})
        assert other_client.status_code == 200  # per (username, address): no lock-out by strangers
        store = app.extensions["tokenauth"].signin.limiter.store
        store.clock = lambda real=store.clock: real() + 61
        assert client.get("/verify", headers=basic("alice", PASSWORD)).status_code == 200

    def test_tokens_are_never_throttled_by_password_failures(self, make_app, alice, token):
        client = make_app(allow_password_auth=True, login_max_failures=2).test_client()
        for _ in range(3):
            client.get("/verify", headers=basic("alice", "wrong password"))
        assert client.get("/verify", headers=basic("alice", token.raw)).status_code == 200
