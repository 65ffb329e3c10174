"""Fixtures for the database tests: a TCP proxy in front of PostgreSQL that a test can
freeze and cut, and a helper that fails a test whose call does not return in time."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy.engine import make_url

from ..tcp_proxy import TcpProxy

TIMEOUT = 1.0        # TOKENAUTH_DATABASE_TIMEOUT in these tests
BOUND = TIMEOUT + 4  # generous: the deadline, a 2 s connect timeout and slack; not a benchmark


@pytest.fixture
def postgres_proxy(postgres_server_url):
    """A TcpProxy in front of the test PostgreSQL, closed (and so thawed) after the test."""
    server = make_url(postgres_server_url)
    with TcpProxy((server.host, server.port or 5432)) as proxy:
        yield proxy


def answered_within(seconds: float, call, *args, **kwargs):
    """What ``call(*args, **kwargs)`` returns or raises; fails the test when it has not
    returned after ``seconds`` (the call is left running in a daemon thread)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = call(*args, **kwargs)
        except BaseException as error:  # re-raised in the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"{getattr(call, '__name__', call)} did not return within {seconds} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
