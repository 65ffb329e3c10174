"""CSRF: every form and every cookie-authenticated JSON call with an unsafe method."""
import pytest

from ..helpers import PASSWORD, basic
from .conftest import Browser


@pytest.mark.parametrize("token, reason", [
    (None, "The CSRF token is missing."),
    ("not-a-token", "The CSRF token is invalid."),
])
def test_login_form_needs_the_csrf_token(browser, alice, token, reason):
    browser.get("/login")
    form = {"username": "alice", "password": PASSWORD}
    if token:
        form["csrf_token"] = token
    response = browser.post("/login", form, csrf=False)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert reason in response.text and "reload the page and try again" in response.text
    assert browser.get("/tokens").status_code == 302  # not signed in


@pytest.mark.parametrize("method, path", [
    ("POST", "/api/v1/tokens"),
    ("PATCH", "/api/v1/tokens/{id}"),
    ("DELETE", "/api/v1/tokens/{id}"),
    ("POST", "/api/v1/tokens/{id}/rotate"),
])
@pytest.mark.parametrize("header, reason", [
    (None, "The CSRF token is missing."),
    ("forged", "The CSRF token is invalid."),
])
def test_cookie_session_api_calls_need_the_csrf_header(as_alice, alice, make_token, method,
                                                        path, header, reason):
    issued = make_token(alice, name="keep me")
    headers = {"X-CSRFToken": header} if header else {}
    response = as_alice.api(method, path.format(id=issued.token.id), csrf=False,
                            headers=headers, json={"name": "changed"})
    assert response.status_code == 400
    assert response.json["message"].startswith(reason)
    assert "X-CSRFToken" in response.json["message"]
    listed = as_alice.api("GET", "/api/v1/tokens", csrf=False).json
    assert [(t["name"], t["status"]) for t in listed] == [("keep me", "active")]


def test_cookie_session_api_calls_work_with_the_page_token(as_alice):
    response = as_alice.api("POST", "/api/v1/tokens", json={"name": "ok"})
    assert response.status_code == 201


def test_a_token_from_another_session_is_refused(as_alice, make_user, app):
    make_user("mallory")
    mallory = Browser(app.test_client())
    mallory.login("mallory")
    mallory.get("/tokens")
    response = as_alice.api("POST", "/api/v1/tokens", csrf=False,
                            headers={"X-CSRFToken": mallory.csrf}, json={"name": "x"})
    assert response.status_code == 400
    assert "CSRF" in response.json["message"]


def test_reading_needs_no_csrf_token(as_alice):
    assert as_alice.api("GET", "/api/v1/me", csrf=False).json["username"] == "alice"


def test_basic_auth_needs_no_csrf_token(client, alice):
    # No cookie rides along with Basic credentials, so there is nothing to forge.
    response = client.post("/api/v1/tokens", json={"name": "script"},
                           headers=basic("alice", PASSWORD))
    assert response.status_code == 201


def test_csrf_stays_on_in_tests(app):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
