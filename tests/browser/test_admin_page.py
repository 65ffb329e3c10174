"""/admin/tokens in Chromium: admins see and revoke everyone's tokens; others get 403."""
import pytest
from playwright.sync_api import expect

from .pages import arrive, row, sign_in, verify

pytestmark = pytest.mark.browser


def test_non_admin_cannot_open_the_admin_page(page, server, make_user):
    make_user("alice")
    sign_in(page, server, "alice")
    expect(page.get_by_role("link", name="All tokens")).to_have_count(0)
    response = page.goto(server + "/admin/tokens")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Forbidden")).to_be_visible()
    expect(page.get_by_text("This page is for administrators only.")).to_be_visible()


def test_admin_filters_and_revokes_anyones_token(page, server, make_user, make_token):
    make_user("root", admin=True)
    bob_token = make_token(make_user("bob"), name="bob-ci")
    make_token(make_user("carol"), name="carol-ci")
    sign_in(page, server, "root")
    page.get_by_role("link", name="All tokens").click()
    arrive(page, server + "/admin/tokens")
    expect(page.locator("#tokens-table tbody tr")).to_have_count(2)

    page.get_by_label("User").fill("bob")
    page.get_by_label("Status").select_option("active")
    page.get_by_role("button", name="Filter").click()
    arrive(page, server + "/admin/tokens?user=bob&status=active")
    expect(page.locator("#tokens-table tbody tr")).to_have_count(1)
    target = row(page, "bob-ci")
    expect(target.locator(".token-user")).to_have_text("bob")

    target.get_by_role("button", name="Revoke").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Revoke").click()
    # Filtered on active, the revoked token drops out of the refreshed table.
    expect(page.get_by_text("No tokens match.")).to_be_visible()
    assert verify(server, bob_token.raw) == (401, "revoked")
    page.get_by_label("Status").select_option("revoked")
    page.get_by_role("button", name="Filter").click()
    expect(row(page, "bob-ci").locator(".badge")).to_have_text("Revoked")
