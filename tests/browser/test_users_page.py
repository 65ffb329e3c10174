"""/admin/users in Chromium: an admin creates a user and disables them; the rules of the
user service appear as messages; the page works under a proxy prefix."""
import pytest
from playwright.sync_api import expect

from ..helpers import PASSWORD
from .pages import arrive, sign_in

pytestmark = pytest.mark.browser


def new_user(page):
    return page.locator("#new-user-form")


def user_row(page, username):
    return page.locator(f'#users-table tr[data-username="{username}"]')


def test_admin_creates_a_user_and_disables_them(page, chromium, server, make_user):
    make_user("root", admin=True)
    sign_in(page, server, "root")
    page.get_by_role("link", name="Users").click()
    arrive(page, server + "/admin/users")

    new_user(page).get_by_label("Username").fill("carol")
    new_user(page).get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("status").filter(has_text="User carol was created.")).to_be_visible()
    carol_row = user_row(page, "carol")
    expect(carol_row.locator(".user-role")).to_have_text("User")
    expect(carol_row.locator(".badge")).to_have_text("Active")

    carol_context = chromium.new_context()
    try:
        carol = carol_context.new_page()
        sign_in(carol, server, "carol")

        carol_row.get_by_role("button", name="Disable carol").click()
        confirm = page.locator("#confirm-dialog")
        expect(confirm).to_contain_text("carol will be signed out")
        confirm.get_by_role("button", name="Cancel").click()
        expect(carol_row.locator(".badge")).to_have_text("Active")

        carol_row.get_by_role("button", name="Disable carol").click()
        confirm.get_by_role("button", name="Disable").click()
        expect(page.get_by_text("carol was disabled; their sessions have ended.")).to_be_visible()
        expect(carol_row.locator(".badge")).to_have_text("Disabled")

        carol.reload()  # her session ended with the disable
        expect(carol).to_have_url(server + "/login?next=/tokens")
        carol.get_by_label("Username").fill("carol")
        carol.get_by_label("Password").fill(PASSWORD)
        carol.get_by_role("button", name="Sign in").click()
        expect(carol.get_by_role("alert")).to_have_text("Invalid username or password.")
    finally:
        carol_context.close()


def test_refusals_are_shown(page, server, make_user):
    make_user("root", admin=True)
    make_user("bob")
    sign_in(page, server, "root")
    page.goto(server + "/admin/users")
    user_row(page, "root").get_by_role("button", name="Demote root").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Demote").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Cannot demote or disable the last active administrator; make another user an "
        "administrator first.")
    expect(user_row(page, "root").locator(".user-role")).to_have_text("Administrator")

    new_user(page).get_by_label("Username").fill("BOB")
    new_user(page).get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("alert")).to_contain_text("usernames are unique regardless of case")
    expect(new_user(page).get_by_label("Username")).to_have_value("BOB")


def test_password_reset_and_promotion(page, chromium, server, make_user):
    make_user("root", admin=True)
    make_user("bob")
    sign_in(page, server, "root")
    page.goto(server + "/admin/users")
    bob_row = user_row(page, "bob")
    bob_row.get_by_text("Reset password").click()
    bob_row.get_by_label("New password for bob").fill("a brand new passphrase")
    bob_row.get_by_role("button", name="Set password").click()
    expect(page.get_by_text("The password of bob was reset")).to_be_visible()
    user_row(page, "bob").get_by_role("button", name="Promote bob").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Promote").click()
    expect(user_row(page, "bob").locator(".user-role")).to_have_text("Administrator")

    bob_context = chromium.new_context()
    try:
        bob = bob_context.new_page()
        sign_in(bob, server, "bob", "a brand new passphrase")
        expect(bob.get_by_role("link", name="Users")).to_be_visible()
    finally:
        bob_context.close()


def test_users_page_under_a_path_prefix(page, prefix_server, make_user):
    make_user("root", admin=True)
    sign_in(page, prefix_server, "root")
    page.get_by_role("link", name="Users").click()
    arrive(page, prefix_server + "/admin/users")
    new_user(page).get_by_label("Username").fill("dave")
    new_user(page).get_by_label("Password").fill(PASSWORD)
    new_user(page).get_by_label("Administrator").check()
    page.get_by_role("button", name="Create user").click()
    arrive(page, prefix_server + "/admin/users")
    expect(user_row(page, "dave").locator(".user-role")).to_have_text("Administrator")
