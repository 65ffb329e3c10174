"""Browser tests: Playwright (sync API) driving Debian's Chromium against a real HTTP server.

The app runs in a werkzeug server thread on a free loopback port, on this test's database
(both backends, like every other test). ``prefix_server`` puts it behind a simulated nginx
that mounts it under ``/auth`` with ``X-Forwarded-Prefix``.
"""
from __future__ import annotations

import os

import pytest

from ..helpers import missing, one_database
from .live_server import live_server

backend = one_database()  # what a browser sees: one database

CHROMIUM = os.environ.get("TOKENAUTH_TEST_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEZONE = "America/New_York"  # not UTC, so local times differ from the UTC on hover


@pytest.fixture(scope="session")
def chromium():
    if not os.path.exists(CHROMIUM):
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        missing(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(app):
    with live_server(app) as url:
        yield url


@pytest.fixture
def prefix_server(app):
    with live_server(app, prefix="/auth") as url:
        yield url


@pytest.fixture
def context(chromium):
    context = chromium.new_context(locale="en-US", timezone_id=TIMEZONE,
                                   viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    """A page that fails the test on any script error or console error, such as a
    Content-Security-Policy violation. Error statuses the tests provoke on purpose (401,
    403, 422) are logged by Chromium too; those are not problems."""
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: message.type == "error" and problems.append(
        f"console error: {message.text}"))
    yield page
    assert [p for p in problems if "the server responded with a status of" not in p] == []
