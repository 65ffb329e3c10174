"""Browser sessions live on the server (SPEC 5): signing out ends one at once, a password
change or disabling the user ends all of theirs, and a copied cookie dies with them."""
import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from tokenauth.extensions import db
from tokenauth.models import User, WebSession, utcnow

from ..conftest import FreshContextClient
from ..helpers import PASSWORD, basic
from ..web.conftest import Browser

COOKIE = "tokenauth_session"


@pytest.fixture
def browsers(app):
    app.test_client_class = FreshContextClient

    def open_browser():
        return Browser(app.test_client())

    return open_browser


@pytest.fixture
def admin_auth(make_user):
    make_user("root", admin=True)
    return basic("root", PASSWORD)


def signed_in(browser) -> bool:
    page = browser.get("/tokens").status_code == 200
    api = browser.api("GET", "/api/v1/me").status_code == 200
    assert page == api, "the page and the API disagree about the session"
    return page


def sign_in(open_browser, username):
    browser = open_browser()
    assert browser.login(username).status_code == 302
    browser.get("/tokens")
    return browser


def copy_of(browser, open_browser):
    """Another browser holding a copy of ``browser``'s session cookie."""
    thief = open_browser()
    thief.client.set_cookie(COOKIE, browser.client.get_cookie(COOKIE).value)
    return thief


def test_a_copied_cookie_stops_working_after_logout(browsers, alice):
    browser = sign_in(browsers, "alice")
    thief = copy_of(browser, browsers)
    assert signed_in(thief)  # the copy works while the session lives
    assert browser.post("/logout").status_code == 302
    assert not signed_in(browser)
    assert not signed_in(thief)


def test_an_admins_password_change_ends_every_session_of_that_user(
        browsers, client, alice, make_user, admin_auth):
    make_user("bob")
    laptop, phone = sign_in(browsers, "alice"), sign_in(browsers, "alice")
    thief, bob = copy_of(laptop, browsers), sign_in(browsers, "bob")
    response = client.patch(f"/api/v1/admin/users/{alice.id}", headers=admin_auth,
                            json={"password": "a brand new password"})
    assert response.status_code == 200
    assert not any(signed_in(browser) for browser in (laptop, phone, thief))
    assert signed_in(bob)  # other users keep theirs
    assert browsers().login("alice", "a brand new password").status_code == 302


def test_disabling_a_user_ends_their_sessions_for_good(browsers, client, alice, admin_auth):
    browser = sign_in(browsers, "alice")
    thief = copy_of(browser, browsers)
    path = f"/api/v1/admin/users/{alice.id}"
    assert client.patch(path, headers=admin_auth, json={"active": False}).status_code == 200
    assert client.patch(path, headers=admin_auth, json={"active": True}).status_code == 200
    # Enabled again, but the sessions from before were ended, not merely paused.
    assert not signed_in(browser) and not signed_in(thief)


def test_changing_only_the_admin_flag_keeps_the_session(browsers, client, alice, admin_auth):
    browser = sign_in(browsers, "alice")
    response = client.patch(f"/api/v1/admin/users/{alice.id}", headers=admin_auth,
                            json={"is_admin": True})
    assert response.status_code == 200
    assert signed_in(browser)
    assert browser.get("/admin/tokens").status_code == 200  # and the new role applies at once


def test_an_expired_session_is_refused_even_with_a_fresh_cookie(browsers, alice):
    browser = sign_in(browsers, "alice")
    row = db.session.scalars(select(WebSession).where(WebSession.user_id == alice.id)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = browser.get("/tokens")
    assert response.status_code == 302 and response.location.startswith("/login")
    assert "Your session has expired" in browser.get(response.location).text
    assert browser.api("GET", "/api/v1/me").status_code == 401


def test_the_database_keeps_only_a_hash_of_the_session_id(app, browsers, alice):
    browser = sign_in(browsers, "alice")
    cookie = browser.client.get_cookie(COOKIE).value
    session_id = app.session_interface.get_signing_serializer(app).loads(cookie)["sid"]
    rows = db.session.scalars(select(WebSession)).all()
    assert len(rows) == 1 and rows[0].user_id == alice.id
    assert rows[0].id_hash == hashlib.sha256(session_id.encode()).hexdigest()
    assert len(session_id) >= 40


def test_login_prunes_expired_sessions(browsers, alice, make_user):
    bob_id = make_user("bob").id
    sign_in(browsers, "alice")
    db.session.execute(WebSession.__table__.update().values(expires_at=utcnow() - timedelta(1)))
    db.session.commit()
    sign_in(browsers, "bob")
    db.session.remove()
    assert [row.user_id for row in db.session.scalars(select(WebSession))] == [bob_id]


def test_deleting_a_user_removes_their_sessions(browsers, alice):
    sign_in(browsers, "alice")
    db.session.execute(User.__table__.delete().where(User.id == alice.id))
    db.session.commit()
    assert db.session.scalars(select(WebSession)).all() == []
