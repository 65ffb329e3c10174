"""Route rules, canaries, the token detail view and /admin/events in Chromium."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from .pages import TOKEN_RE, add_token, arrive, row, sign_in, verify

pytestmark = pytest.mark.browser


def open_dialog(page):
    page.get_by_role("button", name="Add Token").click()
    dialog = page.locator("#token-dialog")
    expect(dialog).to_be_visible()
    return dialog


def test_read_only_preset_shows_its_rule_in_the_detail_view(page, server, alice):
    sign_in(page, server, "alice")
    dialog = open_dialog(page)
    dialog.get_by_label("Name").fill("dashboards")
    dialog.get_by_label("Read-only").check()
    dialog.get_by_label("Route rules").fill("POST /api/search\n\n")
    dialog.get_by_role("button", name="Save").click()
    raw = dialog.locator("#new-token-value").input_value()
    assert TOKEN_RE.match(raw)
    dialog.get_by_role("button", name="Done").click()

    row(page, "dashboards").get_by_role("link", name="dashboards").click()
    expect(page.get_by_role("heading", name="dashboards")).to_be_visible()
    expect(page.locator("#token-routes .rule")).to_have_text(["GET /**", "POST /api/search"])
    expect(page.locator("#events-table .event-name")).to_have_text(["created"])


def test_a_bad_route_rule_is_refused_with_the_servers_message(page, server, alice):
    sign_in(page, server, "alice")
    dialog = open_dialog(page)
    dialog.get_by_label("Name").fill("sloppy")
    dialog.get_by_label("Route rules").fill("get /api")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Route rules:")
    expect(dialog.get_by_role("alert")).to_contain_text("A route rule is '<METHOD> <pattern>'")
    expect(dialog.locator("#new-token-value")).to_have_count(0)


def test_canary_is_marked_refused_and_explained(page, server, alice):
    sign_in(page, server, "alice")
    dialog = open_dialog(page)
    expect(dialog.get_by_text("it never works, and any use is refused and raises an alert")).to_be_visible()
    dialog.get_by_label("Name").fill("bait")
    dialog.get_by_label("Canary").check()
    dialog.get_by_role("button", name="Save").click()
    raw = dialog.locator("#new-token-value").input_value()
    page.keyboard.press("Escape")
    expect(row(page, "bait").locator(".flag--canary")).to_have_text("Canary")
    assert verify(server, raw) == (401, "invalid")  # refused like an unknown token
    row(page, "bait").get_by_role("link", name="bait").click()
    expect(page.locator("#canary-note")).to_contain_text("A canary token is a decoy")


def test_detail_shows_origin_history_after_verify(page, server, alice, make_token):
    issued = make_token(alice, name="roaming")
    assert verify(server, issued.raw, client_ip="198.51.100.7") == (200, "alice")
    assert verify(server, issued.raw, client_ip="203.0.113.50") == (200, "alice")
    sign_in(page, server, "alice")
    row(page, "roaming").get_by_role("link", name="roaming").click()
    arrive(page, server + f"/tokens/{issued.token.id}")
    origins = page.locator("#origins-table tbody tr")
    expect(origins.locator(".origin")).to_have_text(["203.0.113.50", "198.51.100.7"])
    first_seen = origins.first.locator(".first-seen time")
    expect(first_seen).to_have_attribute("datetime", re.compile(r"^\d{4}-.*Z$"))
    expect(page.locator("#events-table .event-name")).to_contain_text(["new origin"])


def test_expires_soon_badge(page, server, alice, make_token):
    make_token(alice, name="ending", expires_at=datetime.now(timezone.utc) + timedelta(days=2))
    make_token(alice, name="lasting")
    sign_in(page, server, "alice")
    expect(row(page, "ending").locator(".flag--soon")).to_have_text("Expires soon")
    expect(row(page, "lasting").locator(".flag--soon")).to_have_count(0)


def test_admin_filters_events(page, server, alice, make_user, make_token):
    make_user("root", admin=True)
    make_token(alice, name="alice-ci")
    make_token(make_user("bob"), name="bob-ci", revoked=True)
    sign_in(page, server, "root")
    page.get_by_role("link", name="Events").click()
    arrive(page, server + "/admin/events")
    page.get_by_label("User").fill("bob")
    page.get_by_label("Type").select_option("revoked")
    page.get_by_role("button", name="Filter").click()
    arrive(page, server + "/admin/events?user=bob&token=&type=revoked")
    events = page.locator("#events-table tbody tr")
    expect(events).to_have_count(1)
    expect(events.locator(".event-user")).to_have_text("bob")
    events.get_by_role("link", name="bob-ci").click()
    expect(page.get_by_role("heading", name="bob-ci")).to_be_visible()
    expect(page.get_by_text("owned by bob")).to_be_visible()
