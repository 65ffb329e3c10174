"""Small steps the browser tests share: signing in, the Add Token dialog, calling /verify."""
from __future__ import annotations

import re
import urllib.error
import urllib.request

from playwright.sync_api import Page, expect

from ..helpers import PASSWORD

TOKEN_RE = re.compile(r"^[a-z0-9]+_[0-9A-Za-z]{46,}$")


def sign_in(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(base + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    arrive(page, base + "/tokens")


def arrive(page: Page, url: str) -> None:
    """Wait for a navigation to ``url`` to finish; the page's scripts run before "load"."""
    expect(page).to_have_url(url)
    page.wait_for_load_state("load")


def add_token(page: Page, name: str, expiry: str | None = None, scopes: str = "") -> str:
    """Create a token through the dialog; returns the raw token read from the dialog."""
    page.get_by_role("button", name="Add Token").click()
    dialog = page.locator("#token-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name").fill(name)
    if expiry:
        dialog.get_by_label("Expiration", exact=True).select_option(expiry)
    if scopes:
        dialog.get_by_label("Scopes").fill(scopes)
    dialog.get_by_role("button", name="Save").click()
    field = dialog.locator("#new-token-value")
    expect(field).to_be_visible()
    raw = field.input_value()
    assert TOKEN_RE.match(raw), raw
    return raw


def row(page: Page, name: str):
    return page.locator("#tokens-table tbody tr", has=page.get_by_text(name, exact=True))


def status_link(page: Page, status: str):
    """A link of the /tokens status filter ("Active 2", "Revoked 1", ...)."""
    return page.locator("#status-filter").get_by_role("link", name=re.compile(rf"^{status} \d+$"))


def verify(base_without_prefix: str, token: str, client_ip: str | None = None):
    """GET /verify as nginx would: returns (status, X-Auth-Error or X-Auth-User)."""
    headers = {"Authorization": f"Bearer {token}"}
    if client_ip:
        headers["X-Real-IP"] = client_ip
    request = urllib.request.Request(base_without_prefix + "/verify", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("X-Auth-User")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("X-Auth-Error")
