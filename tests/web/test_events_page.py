"""/admin/events: the audit trail for administrators, filtered by user, token and type."""
import re

import pytest

from ..helpers import PASSWORD
from .conftest import Browser


@pytest.fixture
def as_root(browser, make_user):
    make_user("root", admin=True)
    assert browser.login("root").status_code == 302
    browser.get("/admin/events")
    return browser


def shown(page: str) -> list[tuple[str, str]]:
    """(event type, user) of each row, newest first."""
    rows = re.findall(r'<tr class="event-row event-row--(\w+)".*?class="event-user"><div '
                      r'class="cell">([^<]*)</div>', page, re.S)
    return rows


@pytest.fixture
def history(as_root, app, make_user):
    """alice creates two tokens and revokes one; root creates bob and disables him."""
    alice = make_user("alice")
    as_alice = Browser(app.test_client())
    as_alice.login("alice")
    as_alice.get("/tokens")
    first = as_alice.api("POST", "/api/v1/tokens", json={"name": "first"}).json
    as_alice.api("POST", "/api/v1/tokens", json={"name": "second"})
    as_alice.api("DELETE", f"/api/v1/tokens/{first['id']}")
    as_root.post("/admin/users", {"username": "bob", "password": PASSWORD})
    bob = [u for u in as_root.api("GET", "/api/v1/admin/users").json if u["username"] == "bob"][0]
    as_root.get("/admin/users")
    as_root.post(f"/admin/users/{bob['id']}", {"action": "disable"})
    as_root.get("/admin/events")
    return {"alice": alice, "first": first}


def test_admin_sees_every_event_newest_first(as_root, history):
    page = as_root.get("/admin/events").text
    assert '<a href="/admin/events" aria-current="page">Events</a>' in page
    assert shown(page) == [("user_disabled", "bob"), ("user_created", "bob"),
                           ("revoked", "alice"), ("created", "alice"), ("created", "alice"),
                           ("user_created", "alice"), ("user_created", "root")]
    assert '<a href="/tokens/{}">first</a>'.format(history["first"]["id"]) in page
    actors = re.findall(r'class="event-actor"><div class="cell">(\w+)</div>', page)
    assert actors[:3] == ["root", "root", "alice"]  # the admin page names who did it


@pytest.mark.parametrize("query, expected", [
    ("user=ALICE", [("revoked", "alice"), ("created", "alice"), ("created", "alice"),
                    ("user_created", "alice")]),
    ("type=user_disabled", [("user_disabled", "bob")]),
    ("user=alice&type=revoked", [("revoked", "alice")]),
    ("user=bob&type=revoked", []),
])
def test_filters(as_root, history, query, expected):
    page = as_root.get(f"/admin/events?{query}").text
    assert shown(page) == expected
    if not expected:
        assert "No events match." in page


def test_token_filter(as_root, history):
    token_id = history["first"]["id"]
    page = as_root.get(f"/admin/events?token={token_id}").text
    assert shown(page) == [("revoked", "alice"), ("created", "alice")]
    assert "“first” of alice" in page


@pytest.mark.parametrize("query, message", [
    ("user=nobody", "There is no user &#39;nobody&#39;."),
    ("type=exploded", "There is no event type &#39;exploded&#39;."),
    ("token=%00", "A token is named by its id"),
])
def test_bad_filters_say_why(as_root, history, query, message):
    response = as_root.get(f"/admin/events?{query}")
    assert response.status_code == 422
    assert message in response.text
    assert shown(response.text) == []


def test_non_admins_get_403(as_alice):
    response = as_alice.get("/admin/events")
    assert response.status_code == 403
    assert "This page is for administrators only." in response.text
    assert 'href="/admin/events"' not in as_alice.get("/tokens").text
