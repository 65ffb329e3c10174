"""Fixtures for sign-in tests: the three ways a password is checked, as plain functions.

Each channel signs in with its own fresh client (a browser, a script, nginx), so tests can
run them in real threads side by side.
"""
import threading

import pytest

from ..conftest import FreshContextClient
from ..helpers import basic
from ..web.conftest import Browser


def web_login(app, username, password, remote_addr="127.0.0.1"):
    browser = Browser(_client(app, remote_addr))
    return browser.login(username, password)


def api_basic(app, username, password, remote_addr="127.0.0.1"):
    return _client(app, remote_addr).get("/api/v1/me", headers=basic(username, password))


def verify_password(app, username, password, remote_addr="127.0.0.1"):
    return _client(app, remote_addr).get("/verify", headers=basic(username, password))


def _client(app, remote_addr):
    app.test_client_class = FreshContextClient
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = remote_addr
    return client


# channel name -> (sign in, status of a success)
CHANNELS = {
    "web login": (web_login, 302),
    "api basic": (api_basic, 200),
    "verify": (verify_password, 200),
}


@pytest.fixture(params=list(CHANNELS))
def channel(request):
    return request.param


@pytest.fixture
def config_overrides():
    return {"allow_password_auth": True}


class HeldCheck:
    """Stands in for ``passwords.verify_password``: the first check waits until released,
    the ones after it run at once (so a missing cap shows up as an answer, not a hang)."""

    def __init__(self, real):
        self.real = real
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, password, password_hash):
        with self._lock:
            self.calls += 1
            first = self.calls == 1
        if first:
            self.entered.set()
            self.release.wait(timeout=60)
        return self.real(password, password_hash)


def in_threads(count, work):
    """Run ``work(index)`` in ``count`` real threads started together; their results."""
    results = [None] * count
    start = threading.Barrier(count)

    def run(index):
        start.wait(timeout=30)
        results[index] = work(index)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results

