import re

import pytest

from ..helpers import PASSWORD, one_database

backend = one_database()  # pages are HTML: one database

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def csrf_token(html: str) -> str:
    """The CSRF token a page carries (meta tag; the forms carry the same value)."""
    match = CSRF_META.search(html)
    assert match, "page has no csrf-token meta tag"
    return match.group(1)


class Browser:
    """A test client that behaves like a person with a browser: reads the CSRF token from
    the page it is on, posts forms with it, and sends it as X-CSRFToken to the API."""

    def __init__(self, client, headers=None, base_url=None):
        self.client = client
        self.headers = headers or {}
        self.base_url = base_url
        self.csrf = None

    def open(self, path, method="GET", headers=None, **kwargs):
        headers = {**self.headers, **(headers or {})}
        if self.base_url:
            kwargs.setdefault("base_url", self.base_url)
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        response = self.open(path, **kwargs)
        if response.mimetype == "text/html" and CSRF_META.search(response.text):
            self.csrf = csrf_token(response.text)
        return response

    def post(self, path, data=None, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf)
        return self.open(path, method="POST", data=data, **kwargs)

    def login(self, username, password=PASSWORD, next_path=None):
        self.get("/login")
        form = {"username": username, "password": password}
        if next_path:
            form["next"] = next_path
        return self.post("/login", form)

    def api(self, method, path, csrf=True, headers=None, **kwargs):
        headers = {**({"X-CSRFToken": self.csrf} if csrf else {}), **(headers or {})}
        return self.open(path, method=method, headers=headers, **kwargs)


@pytest.fixture
def browser(client):
    return Browser(client)



@pytest.fixture
def as_alice(browser, alice):
    assert browser.login("alice").status_code == 302
    browser.get("/tokens")
    return browser
