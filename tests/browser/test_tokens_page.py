"""The Tokens page in Chromium: add, copy, use, close, last access, revoke, rotate."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from tokenauth.extensions import db

from .pages import add_token, arrive, row, sign_in, status_link, verify

pytestmark = pytest.mark.browser



def test_new_token_is_shown_once_works_and_leaves_the_page(page, context, server, alice):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    sign_in(page, server, "alice")
    raw = add_token(page, "ci deploy", expiry="30", scopes="deploy, read")
    dialog = page.locator("#token-dialog")
    expect(dialog.get_by_text("you will never be able to view this token again")).to_be_visible()
    expect(dialog.locator("#new-token-value")).to_have_attribute("readonly", "")
    expect(dialog.locator("#new-token-value")).to_be_focused()

    dialog.get_by_role("button", name="Copy").click()
    expect(dialog.get_by_text("Copied to the clipboard.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == raw

    assert verify(server, raw) == (200, "alice")

    # The table behind the dialog already shows the new token.
    new_row = row(page, "ci deploy")
    expect(new_row.locator(".badge")).to_have_text("Active")
    expect(new_row.locator(".scope")).to_have_text(["deploy", "read"])

    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()
    assert page.locator("#new-token-value").count() == 0  # gone as soon as the dialog is
    assert raw not in page.content()
    assert raw not in page.evaluate("document.documentElement.outerHTML")
    expect(page.get_by_role("button", name="Add Token")).to_be_focused()
    page.reload()
    assert raw not in page.content()
    expect(row(page, "ci deploy")).to_have_count(1)


def test_copy_falls_back_without_the_clipboard_api(page, server, alice):
    # Plain http on a real host name has no navigator.clipboard: select + execCommand.
    page.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    sign_in(page, server, "alice")
    add_token(page, "fallback")
    dialog = page.locator("#token-dialog")
    dialog.get_by_role("button", name="Copy").click()
    expect(dialog.locator("#copy-status")).to_have_text(re.compile(
        r"Copied to the clipboard\.|Press Ctrl\+C"))
    selected = page.evaluate("""() => {
        const field = document.getElementById('new-token-value');
        return field.selectionEnd - field.selectionStart === field.value.length;
    }""")
    assert selected


def test_escape_closes_the_dialog_and_removes_the_token(page, server, alice):
    sign_in(page, server, "alice")
    raw = add_token(page, "escape hatch")
    page.keyboard.press("Escape")
    expect(page.locator("#token-dialog")).to_be_hidden()
    assert page.locator("#new-token-value").count() == 0
    assert raw not in page.content()


def test_dialog_is_usable_from_the_keyboard(page, server, alice):
    sign_in(page, server, "alice")
    page.get_by_role("button", name="Add Token").focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#token-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Name")).to_be_focused()
    page.keyboard.press("Enter")  # the name is required: nothing is sent
    expect(dialog.locator("#new-token-value")).to_have_count(0)
    page.keyboard.type("typed only")
    page.keyboard.press("Tab")
    expect(dialog.get_by_label("Expiration", exact=True)).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # submits the form
    expect(dialog.locator("#new-token-value")).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Add Token")).to_be_focused()


def test_expiration_choices(page, server, alice):
    sign_in(page, server, "alice")
    page.get_by_role("button", name="Add Token").click()
    dialog = page.locator("#token-dialog")
    select = dialog.get_by_label("Expiration", exact=True)
    expect(select).to_have_value("90")
    warning = dialog.get_by_text("Not recommended")
    date = dialog.get_by_label("Expiration date")
    expect(warning).to_be_hidden()
    expect(date).to_be_hidden()
    expect(dialog.locator("#token-expiry-help")).to_contain_text("The token will expire on")
    select.select_option("never")
    expect(warning).to_be_visible()
    expect(date).to_be_hidden()
    select.select_option("custom")
    expect(warning).to_be_hidden()
    expect(date).to_be_visible()
    dialog.get_by_label("Name").fill("until new year")
    date.fill("2099-01-01")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.locator("#new-token-value")).to_be_visible()
    dialog.get_by_role("button", name="Done").click()
    # Local midnight in New York is 05:00 UTC: shown as the local date, UTC on hover.
    expires = row(page, "until new year").locator(".token-expires time")
    expect(expires).to_have_attribute("datetime", "2099-01-01T05:00:00Z")
    expect(expires).to_have_text("Jan 1, 2099, 12:00 AM")
    expect(expires).to_have_attribute("title", "2099-01-01 05:00:00 UTC")

    page.get_by_role("button", name="Add Token").click()
    dialog.get_by_label("Name").fill("forever")
    select.select_option("never")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.locator("#new-token-value")).to_be_visible()
    page.keyboard.press("Escape")
    expect(row(page, "forever").locator(".token-expires")).to_have_text("never")


def test_api_errors_are_shown_in_the_dialog(page, server, alice):
    sign_in(page, server, "alice")
    page.get_by_role("button", name="Add Token").click()
    dialog = page.locator("#token-dialog")
    dialog.get_by_label("Name").fill("bad scopes")
    dialog.get_by_label("Scopes").fill("ok, no*stars")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Scopes: Not a valid scope. A scope is 1-64 of")
    expect(dialog.locator("#new-token-value")).to_have_count(0)


def test_last_access_is_shown_after_use(page, server, alice, make_token):
    issued = make_token(alice, name="monitoring")
    assert verify(server, issued.raw, client_ip="203.0.113.7") == (200, "alice")
    sign_in(page, server, "alice")
    used = row(page, "monitoring")
    expect(used.locator(".token-origin")).to_have_text("203.0.113.7")
    when = used.locator(".token-last-used time")
    iso = when.get_attribute("datetime")
    last = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert abs(datetime.now(timezone.utc) - last) < timedelta(minutes=1)
    local = last.astimezone(timezone(timedelta(hours=-5 if last.month in (1, 2, 12) else -4)))
    expect(when).to_contain_text(f"{local.year}")
    expect(when).not_to_have_text(iso)
    expect(when).to_have_attribute("title", iso.replace("T", " ").replace("Z", "") + " UTC")


def test_revoke_asks_first_then_marks_the_token(page, server, alice, make_token):
    issued = make_token(alice, name="old laptop")
    sign_in(page, server, "alice")
    target = row(page, "old laptop")
    target.get_by_role("button", name="Revoke").click()
    confirm = page.locator("#confirm-dialog")
    expect(confirm).to_contain_text("“old laptop” will stop working immediately")
    confirm.get_by_role("button", name="Cancel").click()
    expect(target.locator(".badge")).to_have_text("Active")
    assert verify(server, issued.raw) == (200, "alice")

    target.get_by_role("button", name="Revoke").click()
    confirm.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status").first).to_contain_text("was revoked")
    expect(target).to_have_count(0)  # the default view lists active tokens only
    expect(status_link(page, "Revoked")).to_have_text("Revoked 1")
    assert verify(server, issued.raw) == (401, "revoked")
    status_link(page, "Revoked").click()
    arrive(page, server + "/tokens?status=revoked")
    expect(target.locator(".badge")).to_have_text("Revoked")
    expect(target).to_have_class("token-row token-row--revoked")
    expect(target.get_by_role("button")).to_have_count(0)


def test_rotate_shows_the_new_secret_once(page, server, alice, make_token):
    old = make_token(alice, name="rotating")
    sign_in(page, server, "alice")
    row(page, "rotating").get_by_role("button", name="Rotate").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Rotate").click()
    dialog = page.locator("#token-dialog")
    expect(dialog.get_by_role("heading", name="Token rotated")).to_be_visible()
    new = dialog.locator("#new-token-value").input_value()
    assert new != old.raw
    assert verify(server, new) == (200, "alice")
    assert verify(server, old.raw) == (401, "revoked")
    dialog.get_by_role("button", name="Done").click()
    assert new not in page.content()
    expect(row(page, "rotating").locator(".badge")).to_have_text(["Active"])
    status_link(page, "All").click()
    badges = row(page, "rotating").locator(".badge")
    expect(badges).to_have_text(["Active", "Revoked"])


def test_expired_and_revoked_tokens_look_different(page, server, alice, make_token):
    expired = make_token(alice, name="expired one")
    expired.token.expires_at = datetime.now(timezone.utc) - timedelta(days=2)
    db.session.commit()
    make_token(alice, name="revoked one", revoked=True)
    make_token(alice, name="active one")
    sign_in(page, server, "alice")
    page.goto(server + "/tokens?status=all")
    styles = {}
    for name in ("expired one", "revoked one", "active one"):
        target = row(page, name)
        styles[name] = target.locator("td").first.evaluate(
            "cell => getComputedStyle(cell).backgroundColor + getComputedStyle(cell).boxShadow")
    assert len(set(styles.values())) == 3
    expect(row(page, "expired one").locator(".badge")).to_have_text("Expired")
    decoration = row(page, "revoked one").locator(".token-name").evaluate(
        "name => getComputedStyle(name).textDecorationLine")
    assert decoration == "line-through"


def test_signed_out_visitors_go_to_login_and_come_back(page, server, alice):
    page.goto(server + "/tokens")
    expect(page).to_have_url(server + "/login?next=/tokens")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Invalid username or password.")
    sign_in(page, server, "alice")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(server + "/login")
    expect(page.get_by_text("You have been signed out.")).to_be_visible()


def test_readable_on_a_phone(page, server, alice, make_token):
    make_token(alice, name="a token with quite a long name for a small screen")
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, server, "alice")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    expect(page.get_by_role("button", name="Add Token")).to_be_visible()
    label = page.locator("#tokens-table td.token-expires").first.evaluate(
        "cell => getComputedStyle(cell, '::before').content")
    assert label == '"Expiration Date"'


@pytest.mark.parametrize("width", [375, 1280])
def test_the_whole_new_token_is_visible_and_copies(page, context, server, alice, width):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, server, "alice")
    raw = add_token(page, "seen whole")
    field = page.locator("#token-dialog #new-token-value")
    # Nothing of it is scrolled or cut off: the box is as large as its content.
    overflow = field.evaluate("f => [f.scrollWidth - f.clientWidth, f.scrollHeight - f.clientHeight]")
    assert overflow == [0, 0]
    box, dialog_box = field.bounding_box(), page.locator("#token-dialog").bounding_box()
    assert box["x"] >= dialog_box["x"] and box["x"] + box["width"] <= dialog_box["x"] + dialog_box["width"]
    assert field.evaluate("f => getComputedStyle(f).textOverflow") != "ellipsis"
    page.locator("#token-dialog").get_by_role("button", name="Copy").click()
    expect(page.get_by_text("Copied to the clipboard.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == raw


def test_status_filter(page, server, alice, make_token):
    make_token(alice, name="working")
    make_token(alice, name="retired", revoked=True)
    sign_in(page, server, "alice")
    expect(page.locator("#tokens-table tbody tr")).to_have_count(1)
    expect(row(page, "working")).to_have_count(1)
    expect(status_link(page, "Active")).to_have_attribute("aria-current", "page")
    status_link(page, "Revoked").click()
    arrive(page, server + "/tokens?status=revoked")
    expect(page.locator("#tokens-table tbody tr")).to_have_count(1)
    expect(row(page, "retired").locator(".badge")).to_have_text("Revoked")
    status_link(page, "Expired").click()
    expect(page.get_by_text("No expired tokens.")).to_be_visible()
    status_link(page, "All").click()
    expect(page.locator("#tokens-table tbody tr")).to_have_count(2)


def test_a_name_in_use_gets_a_hint_but_can_be_saved(page, server, alice, make_token):
    make_token(alice, name="CI deploy")
    make_token(alice, name="old one", revoked=True)
    sign_in(page, server, "alice")
    page.get_by_role("button", name="Add Token").click()
    dialog = page.locator("#token-dialog")
    hint = dialog.locator("#token-name-taken")
    name = dialog.get_by_label("Name")
    name.fill("old one")  # revoked: free to reuse without a hint
    expect(hint).to_be_hidden()
    name.fill("ci deploy ")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("You already have an active token named “ci deploy”")
    name.fill("CI deploy 2")
    expect(hint).to_be_hidden()
    name.fill("CI deploy")
    dialog.get_by_role("button", name="Save").click()  # names are not unique: it saves
    expect(dialog.locator("#new-token-value")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#tokens-table tbody tr")).to_have_count(2)
    page.get_by_role("button", name="Add Token").click()
    expect(hint).to_be_hidden()  # a fresh dialog starts without the hint
    dialog.get_by_label("Name").fill("CI DEPLOY")
    expect(hint).to_be_visible()
