"""/tokens/<id>: a token's rules, scopes, allowed origins, origin history and events; the
"canary" and "expires soon" badges in the lists."""
import re
from datetime import datetime, timedelta, timezone

import pytest

from .conftest import Browser


def verify(browser, raw, ip):
    return browser.open("/verify", headers={
        "Authorization": f"Bearer {raw}", "X-Real-IP": ip, "X-Original-Method": "GET",
        "X-Original-URI": "/api/reports/weekly"}).status_code


def section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start:page.index("</section>", start)]


def test_detail_shows_rules_scopes_origins_history_and_events(as_alice, alice, make_token, app):
    issued = as_alice.api("POST", "/api/v1/tokens", json={
        "name": "reports", "scopes": ["read"], "routes": ["GET /**", "POST /api/reports/*"],
        "allowed_origins": ["203.0.113.0/24"]}).json
    for ip in ("203.0.113.7", "203.0.113.9"):
        assert verify(as_alice, issued["token"], ip) == 200
    page = as_alice.get(f"/tokens/{issued['id']}").text
    assert '<h1 id="token-title">reports</h1>' in page
    assert re.findall(r'<code class="rule">([^<]+)</code>', page) == ["GET /**",
                                                                      "POST /api/reports/*"]
    assert '<code class="scope">read</code>' in section(page, "token-scopes")
    assert "203.0.113.0/24" in section(page, "token-allowed-origins")
    origins = section(page, "origins-title")
    assert re.findall(r'<td data-label="Origin" class="origin"><div class="cell"><code>([^<]+)',
                      origins) == ["203.0.113.9", "203.0.113.7"]  # most recent first
    assert origins.count("<time datetime=") == 4  # first and last seen of each
    events = section(page, "events-title")
    assert "event-row--created" in events and "event-row--new_origin" in events
    assert '<td data-label="By" class="event-actor"><div class="cell">alice</div>' in events
    assert issued["token"] not in page


def test_an_unused_unrestricted_token_says_so(as_alice, alice, make_token):
    issued = make_token(alice, name="plain")
    page = as_alice.get(f"/tokens/{issued.token.id}").text
    assert "none: works on every route" in page and "any client address" in page
    assert "Not used yet." in page


def test_the_list_links_to_the_detail_view(as_alice, alice, make_token):
    issued = make_token(alice, name="linked")
    assert f'href="/tokens/{issued.token.id}"' in as_alice.get("/tokens").text


def test_other_peoples_tokens_are_not_found_but_admins_see_them(as_alice, make_user,
                                                                make_token, app):
    theirs = make_token(make_user("bob"), name="bob's")
    assert as_alice.get(f"/tokens/{theirs.token.id}").status_code == 404
    assert as_alice.get("/tokens/not-an-id").status_code == 404
    make_user("root", admin=True)
    admin = Browser(app.test_client())
    admin.login("root")
    page = admin.get(f"/tokens/{theirs.token.id}")
    assert page.status_code == 200
    assert "owned by <strong>bob</strong>" in page.text
    assert f'href="/admin/events?token={theirs.token.id}"' in page.text


def test_strangers_are_sent_to_sign_in(browser, alice, make_token):
    token_id = make_token(alice).token.id
    assert browser.get(f"/tokens/{token_id}").location == f"/login?next=/tokens/{token_id}"


def test_canary_and_expires_soon_badges(as_alice, alice, make_token, app):
    now = datetime.now(timezone.utc)
    soon = make_token(alice, name="soon", expires_at=now + timedelta(days=3))
    later = make_token(alice, name="later", expires_at=now + timedelta(days=30))
    canary = as_alice.api("POST", "/api/v1/tokens", json={"name": "bait", "canary": True}).json
    page = as_alice.get("/tokens").text

    def row(token_id):
        return re.search(rf'data-token-id="{token_id}">(.*?)</tr>', page, re.S).group(1)

    assert '<span class="flag flag--soon">Expires soon</span>' in row(soon.token.id)
    assert "Expires soon" not in row(later.token.id)  # 7 days by default
    assert 'flag--canary' in row(canary["id"]) and "flag--canary" not in row(soon.token.id)
    detail = as_alice.get(f"/tokens/{canary['id']}").text
    assert "A canary token is a decoy" in detail


def test_expires_soon_follows_the_setting(make_app, make_user, make_token):
    alice = make_user("alice")
    app = make_app(expiry_warning_days=60)
    issued = make_token(alice, name="later",
                        expires_at=datetime.now(timezone.utc) + timedelta(days=30))
    browser = Browser(app.test_client())
    browser.login("alice")
    assert "Expires soon" in browser.get(f"/tokens/{issued.token.id}").text
