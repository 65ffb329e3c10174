"""/login and /logout: sign-in, failures and lockout, next, session cookie and expiry."""
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tokenauth.extensions import db
from tokenauth.models import WebSession

from ..helpers import PASSWORD
from .conftest import Browser


def signed_in(browser) -> bool:
    return browser.get("/tokens").status_code == 200


def web_session(user_id) -> WebSession:
    db.session.remove()
    return db.session.scalars(select(WebSession).where(WebSession.user_id == user_id)).one()


def test_login_page_has_labelled_fields_and_a_csrf_field(browser):
    page = browser.get("/login").text
    assert '<label for="username">' in page and '<label for="password">' in page
    assert 'name="csrf_token" value="' in page
    assert 'autocomplete="current-password"' in page


def test_login_signs_in_and_goes_to_the_tokens_page(browser, alice):
    response = browser.login("alice")
    assert response.status_code == 302
    assert response.location == "/tokens"
    assert signed_in(browser)


def test_session_cookie_is_httponly_samesite_lax_with_the_lifetime(make_app, make_user):
    make_user("alice")
    browser = Browser(make_app(session_lifetime_minutes=30).test_client())
    cookie = browser.login("alice").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert "Secure" not in cookie  # testing runs over plain http


def test_session_cookie_is_secure_in_production(make_app, make_user):
    make_user("alice")
    browser = Browser(make_app(env="production").test_client())
    cookie = browser.login("alice").headers["Set-Cookie"]
    assert "; Secure" in cookie


@pytest.mark.parametrize("case", ["wrong password", "unknown user", "disabled user",
                                  "external user"])
def test_failed_logins_look_the_same(browser, make_user, case):
    make_user("alice")
    make_user("dora", active=False)
    make_user("ext", source="external")
    username, password = {
        "wrong password": ("alice", "not the password"),
        "unknown user": ("nobody", PASSWORD),
        "disabled user": ("dora", PASSWORD),
        "external user": ("ext", PASSWORD),
    }[case]
    response = browser.login(username, password)
    assert response.status_code == 401
    assert "Invalid username or password." in response.text
    assert f'value="{username}"' in response.text  # the username stays filled in
    assert not signed_in(browser)


def test_empty_fields_are_refused(browser, alice):
    response = browser.login("alice", "")
    assert response.status_code == 400
    assert "Enter your username and password." in response.text


def test_failures_are_logged_without_the_password_nor_the_username(browser, alice, caplog):
    caplog.set_level(logging.INFO, logger="tokenauth")
    browser.login("alice", "Sup3r-Secret-Guess")
    assert re.search(r"sign-in failed: user=[0-9a-f]{12} client=127\.0\.0\.1 via=web "
                     r"failure 1 of 5, 1 of 20 from this address$", caplog.text, re.M)
    assert "Sup3r-Secret-Guess" not in caplog.text and "alice" not in caplog.text


@pytest.fixture
def strict_app(make_app):
    return make_app(login_max_failures=3, login_lockout_seconds=60)


def test_lockout_after_the_allowed_failures(strict_app, make_user, caplog):
    make_user("alice")
    browser = Browser(strict_app.test_client())
    assert [browser.login("alice", "wrong").status_code for _ in range(2)] == [401, 401]
    locked = browser.login("alice", "wrong")
    assert locked.status_code == 429
    assert locked.headers["Retry-After"] == "60"
    assert "Too many failed sign-ins" in locked.text and "60 seconds" in locked.text
    assert "locked out for 60 s" in caplog.text
    # Locked: even the right password is not checked.
    again = browser.login("alice")
    assert again.status_code == 429 and 1 <= int(again.headers["Retry-After"]) <= 60
    assert not signed_in(browser)


def test_lockout_is_per_username_and_client_address(strict_app, make_user):
    make_user("alice")
    make_user("bob")
    browser = Browser(strict_app.test_client())
    for _ in range(3):
        browser.login("alice", "wrong")
    assert browser.login("bob").status_code == 302  # another account from the same address
    elsewhere = Browser(strict_app.test_client())
    elsewhere.client.environ_base["REMOTE_ADDR"] = "192.0.2.50"
    assert elsewhere.login("alice").status_code == 302  # the same account from elsewhere


def test_lockout_ends_after_the_lockout_time(strict_app, make_user):
    make_user("alice")
    browser = Browser(strict_app.test_client())
    store = strict_app.extensions["tokenauth"].signin.limiter.store
    now = [1000.0]
    store.clock = lambda: now[0]
    for _ in range(3):
        browser.login("alice", "wrong")
    assert browser.login("alice").status_code == 429
    now[0] += 61
    assert browser.login("alice").status_code == 302


def test_success_resets_the_failure_count(strict_app, make_user):
    make_user("alice")
    browser = Browser(strict_app.test_client())
    for _ in range(2):
        browser.login("alice", "wrong")
    assert browser.login("alice").status_code == 302
    browser = Browser(strict_app.test_client())  # signed out again, same address
    assert [browser.login("alice", "wrong").status_code for _ in range(2)] == [401, 401]


@pytest.mark.parametrize("target, expected", [
    ("/admin/tokens?status=active", "/admin/tokens?status=active"),
    ("/tokens", "/tokens"),
    ("https://evil.example/", "/tokens"),
    ("//evil.example/tokens", "/tokens"),
    ("/\\evil.example", "/tokens"),
    ("javascript:alert(1)", "/tokens"),
    ("tokens", "/tokens"),
])
def test_next_only_leads_inside_the_application(browser, alice, target, expected):
    assert browser.login("alice", next_path=target).location == expected


def test_pages_send_strangers_to_login_and_back(browser, alice):
    response = browser.get("/admin/tokens?status=revoked")
    assert response.status_code == 302
    assert response.location == "/login?next=/admin/tokens?status%3Drevoked"
    page = browser.get(response.location).text
    assert 'name="next" value="/admin/tokens?status=revoked"' in page


def test_login_page_sends_signed_in_users_on(browser, alice):
    browser.login("alice")
    assert browser.get("/login?next=/admin/tokens").location == "/admin/tokens"


def test_login_starts_a_fresh_session(browser, alice):
    with browser.client.session_transaction() as session:
        session["planted"] = "by someone else"
        session["sid"] = "chosen-by-an-attacker"
    browser.login("alice")
    with browser.client.session_transaction() as session:
        assert "planted" not in session
        assert session["sid"] != "chosen-by-an-attacker"
    assert signed_in(browser)


def test_logout_ends_the_session(as_alice):
    page = as_alice.get("/tokens").text
    assert 'action="/logout"' in page
    response = as_alice.post("/logout")
    assert response.status_code == 302 and response.location == "/login"
    assert "You have been signed out." in as_alice.get("/login").text
    assert not signed_in(as_alice)


def test_logout_needs_post_and_the_csrf_token(as_alice):
    assert as_alice.get("/logout").status_code == 405
    refused = as_alice.post("/logout", csrf=False)
    assert refused.status_code == 400 and refused.mimetype == "text/html"
    assert signed_in(as_alice)


def move_back(row: WebSession, delta: timedelta) -> None:
    row.created_at -= delta
    row.expires_at -= delta
    db.session.commit()


def test_session_expires_after_its_lifetime(make_app, make_user):
    alice = make_user("alice")
    browser = Browser(make_app(session_lifetime_minutes=30).test_client())
    browser.login("alice")
    row = web_session(alice.id)
    assert row.expires_at - row.created_at == timedelta(minutes=30)
    move_back(row, timedelta(minutes=29))
    assert signed_in(browser)  # still inside the lifetime, however active
    move_back(web_session(alice.id), timedelta(minutes=1))
    response = browser.get("/tokens")
    assert response.status_code == 302 and response.location.startswith("/login")
    assert "Your session has expired" in browser.get(response.location).text
    assert browser.api("GET", "/api/v1/me").status_code == 401


def test_api_refuses_an_expired_session_too(as_alice, alice):
    move_back(web_session(alice.id), timedelta(minutes=720))
    assert as_alice.api("GET", "/api/v1/me").status_code == 401


def test_a_signed_cookie_without_a_server_side_session_is_not_accepted(browser, alice):
    with browser.client.session_transaction() as session:
        session["user_id"] = alice.id  # what a cookie from before server-side sessions held
        session["sid"] = "never-issued"
    assert not signed_in(browser)


def test_disabling_a_user_ends_their_session(as_alice, alice, app):
    alice.active = False  # even without the service that deletes the sessions
    db.session.commit()
    response = as_alice.get("/tokens")
    assert response.status_code == 302
    assert "Your session has ended" in as_alice.get(response.location).text


@pytest.fixture
def external_app(make_app):
    return make_app(external_user_header="X-Forwarded-User")


def test_external_users_arrive_signed_in(external_app):
    client = external_app.test_client()
    response = client.get("/tokens", headers={"X-Forwarded-User": "erin"})
    assert response.status_code == 200
    assert 'class="account-name"' in response.text and "erin" in response.text
    assert 'action="/logout"' not in response.text  # the proxy signs them in, not us
    assert client.get("/login", headers={"X-Forwarded-User": "erin"}).location == "/tokens"


def test_refused_external_user_gets_a_403_page(external_app, make_user):
    make_user("alice")  # internal: the proxy cannot speak for her
    response = external_app.test_client().get("/tokens", headers={"X-Forwarded-User": "alice"})
    assert response.status_code == 403 and response.mimetype == "text/html"
    assert "external user header names an internal user" in response.text


def test_external_header_from_an_untrusted_peer_is_ignored(external_app):
    client = external_app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    response = client.get("/tokens", headers={"X-Forwarded-User": "erin"})
    assert response.status_code == 302 and response.location.startswith("/login")


@pytest.mark.parametrize("prefix, cookie_path", [(None, "/"), ("/auth", "/auth/")])
def test_session_cookie_is_scoped_to_the_mount_point(client, alice, prefix, cookie_path):
    """Under nginx's prefix, the product API on the same host never gets the cookie."""
    headers = {"X-Forwarded-Prefix": prefix} if prefix else {}
    page = client.get("/login", headers=headers)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/login", headers=headers, data={
        "username": "alice", "password": PASSWORD, "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert f"Path={cookie_path};" in cookie or cookie.endswith(f"Path={cookie_path}")
