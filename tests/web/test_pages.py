"""/tokens and /admin/tokens: what they show, to whom, under a prefix, and never a raw token."""
import html
import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from tokenauth.extensions import db

from .conftest import Browser

HEADERS = ["Name", "Expiration Date", "Last Accessed On", "Last Accessed Origin", "Status"]


def row(page: str, token_id: str) -> str:
    match = re.search(rf'<tr class="([^"]*)" data-token-id="{token_id}">(.*?)</tr>', page, re.S)
    assert match, f"no row for {token_id}"
    return match.group(1) + match.group(2)


def expire(token):
    token.expires_at = datetime.now(timezone.utc) - timedelta(days=1)
    db.session.commit()


def test_root_leads_to_the_tokens_page(browser):
    assert browser.get("/").location == "/tokens"


def test_tokens_page_lists_only_your_tokens(as_alice, alice, make_user, make_token):
    mine = make_token(alice, name="deploy bot")
    theirs = make_token(make_user("bob"), name="bob's secret project")
    page = as_alice.get("/tokens").text
    for header in HEADERS:
        assert f'<th scope="col">{header}</th>' in page
    assert "deploy bot" in page and mine.token.hint in page
    assert "bob&#39;s secret project" not in page and theirs.token.id not in page


def test_rows_show_times_for_the_browser_to_localise_and_never_when_missing(
        as_alice, alice, make_token):
    expiring = make_token(alice, expires_at=datetime(2031, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    forever = make_token(alice, expires_at=None)
    page = as_alice.get("/tokens").text
    expiring_row = row(page, expiring.token.id)
    assert ('<time datetime="2031-01-02T03:04:05Z" title="2031-01-02 03:04 UTC" data-localize>'
            '2031-01-02 03:04 UTC</time>') in expiring_row
    forever_row = row(page, forever.token.id)
    assert forever_row.count('<span class="muted">never</span>') == 3  # expiry, use, origin


def test_last_access_is_shown(as_alice, alice, make_token):
    issued = make_token(alice)
    assert as_alice.open("/verify", headers={"Authorization": f"Bearer {issued.raw}",
                                             "X-Real-IP": "203.0.113.7"}).status_code == 200
    token_row = row(as_alice.get("/tokens").text, issued.token.id)
    assert "<code>203.0.113.7</code>" in token_row
    assert 'class="token-last-used"><div class="cell"><time datetime=' in token_row


def test_expired_and_revoked_rows_are_marked(as_alice, alice, make_token):
    """Under "All"; the default view shows active tokens only."""
    active = make_token(alice, name="fine")
    expired = make_token(alice, name="old")
    expire(expired.token)
    revoked = make_token(alice, name="gone", revoked=True)
    page = as_alice.get("/tokens?status=all").text
    assert row(page, active.token.id).startswith("token-row token-row--active")
    expired_row = row(page, expired.token.id)
    assert expired_row.startswith("token-row token-row--expired")
    assert '<span class="badge badge--expired">Expired</span>' in expired_row
    assert 'data-action="rotate"' not in expired_row and 'data-action="revoke"' in expired_row
    revoked_row = row(page, revoked.token.id)
    assert revoked_row.startswith("token-row token-row--revoked")
    assert '<span class="badge badge--revoked">Revoked</span>' in revoked_row
    assert "data-action" not in revoked_row


def test_row_buttons_call_the_json_api(as_alice, alice, make_token):
    issued = make_token(alice)
    token_row = row(as_alice.get("/tokens").text, issued.token.id)
    assert f'data-url="/api/v1/tokens/{issued.token.id}/rotate"' in token_row
    assert f'data-url="/api/v1/tokens/{issued.token.id}"' in token_row


def test_add_token_dialog_offers_presets_custom_and_no_expiration(as_alice):
    page = as_alice.get("/tokens").text
    dialog = page[page.index('<dialog id="token-dialog"'):page.index("</dialog>")]
    assert re.findall(r'<option value="(\w+)"', dialog) == ["30", "60", "90", "custom", "never"]
    assert '<option value="90" selected>90 days (default)</option>' in dialog
    assert "Not recommended:" in dialog
    assert '<label for="token-name">Name</label>' in dialog
    assert 'id="token-name" name="name" required maxlength="100"' in dialog
    assert '<label for="token-scopes">Scopes' in dialog
    assert 'data-url="/api/v1/tokens"' in dialog


def test_no_expiration_is_not_offered_when_a_maximum_is_set(make_app, make_user):
    make_user("alice")
    browser = Browser(make_app(max_token_days=45, default_token_days=45).test_client())
    browser.login("alice")
    page = browser.get("/tokens").text
    options = re.findall(r'<option value="(\w+)"', page)
    assert options == ["30", "45", "custom"]
    assert '<option value="45" selected>45 days (default)</option>' in page
    assert 'data-max-days="45"' in page


def test_admin_page_is_forbidden_to_non_admins(as_alice):
    response = as_alice.get("/admin/tokens")
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "This page is for administrators only." in response.text
    assert "All tokens" not in as_alice.get("/tokens").text  # no link to it either


@pytest.fixture
def as_admin(browser, make_user):
    make_user("root", admin=True)
    assert browser.login("root").status_code == 302
    return browser


def test_admin_page_lists_everyone_and_filters(as_admin, make_user, make_token):
    alice, bob = make_user("alice"), make_user("bob")
    a1 = make_token(alice, name="alice-ci")
    a2 = make_token(alice, name="alice-old", revoked=True)
    b1 = make_token(bob, name="bob-ci")
    page = as_admin.get("/admin/tokens").text
    assert '<th scope="col">User</th>' in page
    assert all(t.token.id in page for t in (a1, a2, b1))
    assert f'data-url="/api/v1/admin/tokens/{b1.token.id}"' in page
    assert '<option value="alice">' in page and '<option value="bob">' in page
    only_alice = as_admin.get("/admin/tokens?user=alice").text
    assert a1.token.id in only_alice and a2.token.id in only_alice
    assert b1.token.id not in only_alice
    revoked = as_admin.get("/admin/tokens?user=alice&status=revoked").text
    assert a2.token.id in revoked and a1.token.id not in revoked
    assert '<option value="revoked" selected>' in revoked
    nobody = as_admin.get("/admin/tokens?user=nobody").text
    assert "No tokens match." in nobody
    ignored = as_admin.get("/admin/tokens?status=bogus").text
    assert all(t.token.id in ignored for t in (a1, a2, b1))



@pytest.mark.parametrize("odd", ["root%00", "%00", "%C3%A9t%C3%A9", "x" * 5000, "a%20b"])
def test_admin_page_answers_an_odd_user_filter_with_no_match(as_admin, make_user, make_token,
                                                             odd, caplog):
    make_token(make_user("alice"))
    response = as_admin.get(f"/admin/tokens?user={odd}")
    assert response.status_code == 200
    assert "No tokens match." in response.text
    assert "No user can be named like that." in response.text
    assert "database" not in caplog.text


def test_admin_page_user_filter_ignores_case(as_admin, make_user, make_token):
    issued = make_token(make_user("alice"))
    assert issued.token.id in as_admin.get("/admin/tokens?user=ALICE").text


PREFIX = {"X-Forwarded-Prefix": "/auth"}


def test_every_url_carries_the_proxy_prefix(client, alice, make_token):
    make_token(alice)
    # The browser's URLs are /auth/...: its cookie jar matches the session cookie's path
    # (/auth/) against those, while nginx hands tokenauth the path without the prefix.
    browser = Browser(client, headers=PREFIX, base_url="http://localhost/auth")
    to_login = browser.get("/tokens")
    assert to_login.location == "/auth/login?next=/tokens"
    login_page = browser.get("/login").text
    assert 'action="/auth/login"' in login_page
    assert 'href="/auth/static/css/tokenauth.css?v=' in login_page
    assert browser.login("alice", next_path="/tokens").location == "/auth/tokens"
    page = browser.get("/tokens").text
    urls = re.findall(r'(?<![\w-])(?:href|src|action|data-url|data-login-url)="([^"]+)"', page)
    outside = [url for url in urls if not url.startswith("/auth/") and url != "#main"]
    assert urls and not outside, outside
    assert 'data-base="/auth"' in page


def test_prefix_from_an_untrusted_peer_is_ignored(client, alice):
    browser = Browser(client, headers=PREFIX)
    browser.client.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert browser.get("/tokens").location == "/login?next=/tokens"


def test_no_page_ever_contains_a_raw_token(as_alice, alice, make_user, make_token, app):
    """The creation (and rotation) answer carries the token once; nothing after it does."""
    created = as_alice.api("POST", "/api/v1/tokens", json={"name": "from the page"})
    assert created.status_code == 201
    raw, token_id = created.json["token"], created.json["id"]
    rotated = as_alice.api("POST", f"/api/v1/tokens/{make_token(alice).token.id}/rotate")
    issued = [raw, rotated.json["token"], make_token(make_user("bob")).raw]
    make_user("root", admin=True)
    admin = Browser(app.test_client())
    admin.login("root")
    answers = [as_alice.get("/tokens"), as_alice.get("/api/v1/tokens"),
               as_alice.get(f"/api/v1/tokens/{token_id}"), admin.get("/admin/tokens"),
               admin.get("/api/v1/admin/tokens")]
    for answer in answers:
        assert answer.status_code == 200
        for secret in issued:
            assert secret not in answer.get_data(as_text=True)


def test_pages_are_not_cached_nor_framed(as_alice):
    response = as_alice.get("/tokens")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in response.headers["Content-Security-Policy"]
    assert "<script>" not in response.text and " style=" not in response.text



def test_tokens_page_shows_active_tokens_first_and_filters_by_status(as_alice, alice,
                                                                      make_token):
    active = make_token(alice, name="fine")
    expired = make_token(alice, name="old")
    expire(expired.token)
    revoked = [make_token(alice, name=f"gone {n}", revoked=True) for n in range(3)]
    ids = {"active": {active.token.id}, "expired": {expired.token.id},
           "revoked": {t.token.id for t in revoked}}
    ids["all"] = set().union(*ids.values())

    def shown(page):
        return set(re.findall(r'data-token-id="(\w+)"', page))

    default = as_alice.get("/tokens").text
    assert shown(default) == ids["active"]  # revoked tokens no longer pile up here
    for status in ("active", "expired", "revoked", "all"):
        page = as_alice.get(f"/tokens?status={status}").text
        assert shown(page) == ids[status], status
        assert re.search(rf'<a href="/tokens\?status={status}" aria-current="page">', page)
    counts = re.findall(r'<a href="/tokens\?status=(\w+)"[^>]*>\w+ <span class="count">'
                        r'(\d+)</span>', default)
    assert counts == [("active", "1"), ("expired", "1"), ("revoked", "3"), ("all", "5")]
    assert shown(as_alice.get("/tokens?status=bogus").text) == ids["active"]


@pytest.mark.parametrize("status, message", [
    ("active", "You have no active tokens. Add one to get started."),
    ("expired", "No expired tokens."),
])
def test_an_empty_filter_says_so(as_alice, alice, make_token, status, message):
    make_token(alice, name="gone", revoked=True)
    assert message in as_alice.get(f"/tokens?status={status}").text


def test_add_token_dialog_knows_the_names_of_your_active_tokens(as_alice, alice, make_user,
                                                                 make_token):
    make_token(alice, name='deploy "prod" <x>')
    make_token(alice, name="deploy")
    make_token(alice, name="retired", revoked=True)
    make_token(make_user("bob"), name="bob's")
    page = as_alice.get("/tokens").text
    found = re.search(r'data-active-names="([^"]*)"', page)
    assert found
    assert json.loads(html.unescape(found.group(1))) == ["deploy", 'deploy "prod" <x>']
