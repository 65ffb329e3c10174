"""/admin/users: admins manage users through plain forms; the services' rules show as
messages; CSRF on every form; 403 to everyone else; a reset or a disable ends sessions."""
import re

import pytest

from tokenauth.extensions import db
from tokenauth.models import User
from tokenauth.services import users

from ..helpers import PASSWORD
from .conftest import Browser


def user_row(page: str, username: str) -> str:
    match = re.search(rf'<tr class="user-row[^"]*" data-user-id="\w+" data-username="{username}">'
                      r'(.*?)</tr>', page, re.S)
    assert match, f"no row for {username}"
    return match.group(0)


def flashes(page: str) -> list[str]:
    return re.findall(r'<p class="flash flash--\w+" role="status">(.*?)</p>', page)


def alert(page: str) -> str:
    match = re.search(r'<p class="form-error" role="alert" id="users-error">(.*?)</p>', page)
    assert match, "no error shown"
    return match.group(1)


def signed_in(browser: Browser) -> bool:
    return browser.get("/tokens").status_code == 200


@pytest.fixture
def root(make_user):
    return make_user("root", admin=True)


@pytest.fixture
def as_root(browser, root):
    assert browser.login("root").status_code == 302
    browser.get("/admin/users")
    return browser


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def bob_browser(app, bob):
    browser = Browser(app.test_client())
    assert browser.login("bob").status_code == 302
    assert signed_in(browser)
    return browser


def test_admin_sees_every_user_and_the_link(as_root, bob, make_user):
    make_user("zed", active=False)
    make_user("sso", source="external")
    page = as_root.get("/admin/users").text
    assert '<a href="/admin/users" aria-current="page">Users</a>' in page
    assert "Administrator" in user_row(page, "root") and "(you)" in user_row(page, "root")
    assert '<span class="badge badge--active">Active</span>' in user_row(page, "bob")
    zed = user_row(page, "zed")
    assert '<span class="badge badge--revoked">Disabled</span>' in zed
    assert 'value="enable"' in zed and 'value="disable"' not in zed
    assert "Reset password" in user_row(page, "bob")
    assert "Reset password" not in user_row(page, "sso")  # no password here to reset


@pytest.mark.parametrize("method, path", [
    ("GET", "/admin/users"),
    ("POST", "/admin/users"),
    ("POST", "/admin/users/{id}"),
    ("POST", "/admin/users/{id}/password"),
])
def test_non_admins_get_403(as_alice, root, method, path):
    data = {"username": "mallory", "password": PASSWORD, "is_admin": "on",
            "action": "demote", "csrf_token": as_alice.csrf}
    response = as_alice.open(path.format(id=root.id), method=method, data=data)
    assert response.status_code == 403
    assert "This page is for administrators only." in response.text
    assert users.find_user(db.session, "mallory") is None
    assert db.session.get(User, root.id).is_admin
    assert 'href="/admin/users"' not in as_alice.get("/tokens").text


def test_strangers_are_sent_to_sign_in(browser):
    assert browser.get("/admin/users").location == "/login?next=/admin/users"


@pytest.mark.parametrize("path", ["/admin/users", "/admin/users/{id}",
                                  "/admin/users/{id}/password"])
@pytest.mark.parametrize("token, reason", [(None, "The CSRF token is missing."),
                                           ("forged", "The CSRF token is invalid.")])
def test_every_form_needs_the_csrf_token(as_root, bob, path, token, reason):
    data = {"username": "mallory", "password": "a whole new password", "action": "disable"}
    if token:
        data["csrf_token"] = token
    response = as_root.post(path.format(id=bob.id), data, csrf=False)
    assert response.status_code == 400
    assert reason in response.text
    assert users.find_user(db.session, "mallory") is None
    db.session.expire_all()
    assert db.session.get(User, bob.id).active


def test_admin_creates_a_user_who_can_sign_in(as_root, app):
    response = as_root.post("/admin/users", {"username": "carol", "password": PASSWORD})
    assert response.status_code == 303 and response.location == "/admin/users"
    page = as_root.get("/admin/users").text
    assert flashes(page) == ["User carol was created."]
    assert "User" in user_row(page, "carol")
    carol = Browser(app.test_client())
    assert carol.login("carol").location == "/tokens"
    assert carol.get("/admin/users").status_code == 403


def test_admin_creates_an_administrator(as_root, app):
    as_root.post("/admin/users", {"username": "dana", "password": PASSWORD, "is_admin": "on"})
    assert flashes(as_root.get("/admin/users").text) == [
        "User dana was created as an administrator."]
    dana = Browser(app.test_client())
    dana.login("dana")
    assert dana.get("/admin/users").status_code == 200


@pytest.mark.parametrize("username, password, status, message", [
    ("BOB", PASSWORD, 409, "usernames are unique regardless of case"),
    ("no spaces", PASSWORD, 422, "A username is"),
    ("erin", "abc1234", 422, "at least 8 characters"),
    ("erin", "", 422, "password"),
])
def test_refused_creations_say_why_and_keep_the_form(as_root, bob, username, password,
                                                      status, message):
    response = as_root.post("/admin/users", {"username": username, "password": password,
                                             "is_admin": "on"})
    assert response.status_code == status
    assert message.lower() in alert(response.text).lower()
    assert f'id="new-username" name="username" value="{username}"' in response.text
    assert 'id="new-is-admin" name="is_admin" type="checkbox" checked' in response.text
    if password:
        assert password not in response.text  # a password is never sent back
    assert [u.username for u in users.list_users(db.session)] == ["bob", "root"]


@pytest.mark.parametrize("action, flag, expected, message", [
    ("promote", "is_admin", True, "bob is now an administrator."),
    ("disable", "active", False, "bob was disabled; their sessions have ended."),
])
def test_admin_changes_a_user(as_root, bob, action, flag, expected, message):
    response = as_root.post(f"/admin/users/{bob.id}", {"action": action})
    assert response.status_code == 303
    assert flashes(as_root.get("/admin/users").text) == [message]
    db.session.expire_all()
    assert getattr(db.session.get(User, bob.id), flag) is expected


def test_disable_ends_the_users_sessions_and_enable_lets_them_back(as_root, bob, bob_browser):
    as_root.post(f"/admin/users/{bob.id}", {"action": "disable"})
    assert not signed_in(bob_browser)  # the copied cookie no longer works
    assert bob_browser.login("bob").status_code == 401
    as_root.post(f"/admin/users/{bob.id}", {"action": "enable"})
    assert bob_browser.login("bob").status_code == 302 and signed_in(bob_browser)


def test_password_reset_ends_the_users_sessions(as_root, bob, bob_browser):
    response = as_root.post(f"/admin/users/{bob.id}/password",
                            {"password": "a brand new passphrase"})
    assert response.status_code == 303
    assert flashes(as_root.get("/admin/users").text) == [
        "The password of bob was reset; their sessions have ended."]
    assert not signed_in(bob_browser)
    assert bob_browser.login("bob").status_code == 401
    assert bob_browser.login("bob", "a brand new passphrase").status_code == 302
    assert signed_in(as_root)  # the admin's own session is untouched


def test_a_too_short_password_is_refused_and_nothing_ends(as_root, bob, bob_browser):
    response = as_root.post(f"/admin/users/{bob.id}/password", {"password": "short"})
    assert response.status_code == 422
    assert "password" in alert(response.text).lower()
    assert "<details class=\"reset-password\" open>" in user_row(response.text, "bob")
    assert signed_in(bob_browser)


@pytest.mark.parametrize("action", ["demote", "disable"])
def test_the_last_active_admin_stays(as_root, root, action):
    response = as_root.post(f"/admin/users/{root.id}", {"action": action})
    assert response.status_code == 409
    assert alert(response.text) == ("Cannot demote or disable the last active administrator; "
                                    "make another user an administrator first.")
    db.session.expire_all()
    assert db.session.get(User, root.id).is_admin and db.session.get(User, root.id).active
    assert signed_in(as_root)


def test_an_unknown_user_or_action_is_refused(as_root, bob):
    assert as_root.post("/admin/users/" + "0" * 32, {"action": "disable"}).status_code == 404
    assert as_root.post("/admin/users/nope/password", {"password": PASSWORD}).status_code == 404
    response = as_root.post(f"/admin/users/{bob.id}", {"action": "delete"})
    assert response.status_code == 400 and "unknown action" in alert(response.text).lower()


def test_the_page_works_under_the_proxy_prefix(client, root):
    browser = Browser(client, headers={"X-Forwarded-Prefix": "/auth"},
                      base_url="http://localhost/auth")
    browser.login("root")
    page = browser.get("/admin/users").text
    assert '<a href="/auth/admin/users" aria-current="page">Users</a>' in page
    actions = re.findall(r'action="([^"]+)"', page)
    assert actions and all(url.startswith("/auth/") for url in actions), actions
    response = browser.post("/admin/users", {"username": "carol", "password": PASSWORD})
    assert response.location == "/auth/admin/users"
