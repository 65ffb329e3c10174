"""Small helpers shared by tests: auth headers and broken tokens."""
from __future__ import annotations

import base64
import os
import time

PASSWORD = "correct horse battery staple"
# In CI a missing part (PostgreSQL, nginx, Chromium) fails its tests; elsewhere they skip.
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(message: str):
    """A part the tests need is not on this machine: fail in CI (a green run must not hide
    it), skip elsewhere."""
    import pytest

    if IN_CI:
        pytest.fail(message)
    pytest.skip(message + "; skipped outside CI")


def basic(username: str, secret: str) -> dict:
    """An ``Authorization: Basic`` header."""
    value = base64.b64encode(f"{username}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {value}"}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def corrupt(token: str) -> str:
    """``token`` with its last character changed, so its check digits no longer match."""
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def listening(app, seconds: float = 10.0):
    """Wait until ``app``'s revocation listener listens: lookups are cached only from then on."""
    assert app.extensions["tokenauth"].changes.wait_listening(seconds), "listener never listened"
    return app


def one_database(name: str = "sqlite"):
    """A ``backend`` fixture for a module or folder whose subject is not storage (pages,
    headers, the CLI's wording, settings): one database is enough. A test can still ask
    for another with ``parametrize("backend", [...], indirect=True)``.

    Use: ``backend = one_database()`` at module level or in a folder's conftest.py."""
    import pytest

    @pytest.fixture
    def backend(request):
        return getattr(request, "param", name)
    return backend


def eventually(condition, seconds: float = 5.0) -> bool:
    """Whether ``condition()`` comes true within ``seconds`` (polled every 0.1 s)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
