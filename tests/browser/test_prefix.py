"""The whole flow once with tokenauth mounted under /auth by a proxy (X-Forwarded-Prefix)."""
import pytest
from playwright.sync_api import expect

from .pages import add_token, row, sign_in, status_link, verify

pytestmark = pytest.mark.browser


def test_whole_flow_under_a_path_prefix(page, context, prefix_server, make_user):
    assert prefix_server.endswith("/auth")
    make_user("alice")
    requests = []
    page.on("request", lambda request: requests.append(request.url))

    page.goto(prefix_server + "/tokens")
    expect(page).to_have_url(prefix_server + "/login?next=/tokens")
    sign_in(page, prefix_server, "alice")
    expect(page.get_by_role("link", name="My tokens")).to_have_attribute("href", "/auth/tokens")

    raw = add_token(page, "behind nginx")
    assert verify(prefix_server, raw, client_ip="198.51.100.23") == (200, "alice")
    page.keyboard.press("Escape")
    assert raw not in page.content()

    page.reload()
    used = row(page, "behind nginx")
    expect(used.locator(".token-origin")).to_have_text("198.51.100.23")
    used.get_by_role("button", name="Revoke").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Revoke").click()
    expect(used).to_have_count(0)  # gone from the active tokens
    status_link(page, "Revoked").click()
    expect(page).to_have_url(prefix_server + "/tokens?status=revoked")
    expect(used.locator(".badge")).to_have_text("Revoked")
    assert verify(prefix_server, raw) == (401, "revoked")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(prefix_server + "/login")

    base = prefix_server[: -len("/auth")]
    outside = [url for url in requests if not url.startswith(prefix_server + "/")]
    assert not outside, outside  # every page, script, style and fetch used the prefix
    assert any(url.startswith(base + "/auth/api/v1/tokens") for url in requests)
    assert any(url.startswith(base + "/auth/static/js/") for url in requests)
