"""Fixtures for the end-to-end tests: nginx + tokenauth (2 workers) + the echo upstream, on
free loopback ports, per database backend. tokenauth runs under gunicorn, or under granian
with ``TOKENAUTH_TEST_SERVER=granian`` (tests/servers.py; CI runs these tests both ways).

The ``stack`` of a backend is started on first use and shared by the tests that only send
requests (it is stopped at the end of the run); tests that break a server build their own
with ``make_stack``. Users and tokens come from the usual ``make_user`` / ``make_token``
factories, which write to the same database the stack's tokenauth reads.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os

import pytest

from ..helpers import missing, one_database
from ..servers import tokenauth_env, tokenauth_server
from .stack import Echo, demo, echo_upstream, nginx

backend = one_database()  # nginx in front: one database (outage and replica tests pick theirs)

VERIFY_CACHE_TTL = 2.0  # seconds; the SPEC default, set explicitly because tests rely on it


@dataclasses.dataclass
class Stack:
    front: str       # nginx, where clients go
    tokenauth: str   # tokenauth's server, directly
    echo: Echo       # the product API behind nginx
    server: object   # tokenauth's server process (Popen of gunicorn's or granian's master)
    verify_cache_ttl: float


@pytest.fixture(scope="session")
def nginx_installed():
    if demo.nginx_binary() is None:
        message = "nginx is not installed (apt-get install nginx-light)"
        missing(message)


@contextlib.contextmanager
def running_stack(folder, database_url: str, nginx_options: dict | None = None, **settings):
    """``nginx_options``: passed to stack.nginx (``microcache``, ``edit``)."""
    settings.setdefault("verify_cache_ttl", VERIFY_CACHE_TTL)
    # The shared stack's tests all send from one client address, failures included: the
    # failure throttle would lock it out. Its own tests (tests/e2e/test_replicas.py,
    # tests/verify/test_throttle.py) turn it on.
    settings.setdefault("verify_max_failures", 0)
    env = tokenauth_env(database_url, folder / "instance", **settings)
    with contextlib.ExitStack() as stack:
        echo = stack.enter_context(echo_upstream(folder / "echo.log"))
        tokenauth, process = stack.enter_context(
            tokenauth_server(env, folder / "tokenauth", workers=2))
        front = stack.enter_context(nginx(folder / "nginx", tokenauth, echo.url,
                                          **(nginx_options or {})))
        yield Stack(front, tokenauth, echo, process, float(settings["verify_cache_ttl"]))


@pytest.fixture(scope="session")
def _shared_stacks():
    """One running stack per backend, started on first use, stopped at the end."""
    stacks, exits = {}, contextlib.ExitStack()
    with exits:
        yield stacks, exits


@pytest.fixture
def stack(nginx_installed, backend, database_url, _shared_stacks, tmp_path_factory) -> Stack:
    """The shared running stack on this test's backend and database."""
    stacks, exits = _shared_stacks
    if backend not in stacks:
        folder = tmp_path_factory.mktemp(f"stack-{backend}")
        stacks[backend] = exits.enter_context(running_stack(folder, database_url))
    return stacks[backend]


@pytest.fixture
def make_stack(nginx_installed, tmp_path):
    """A stack of this test's own, for tests that stop or break a part of it."""
    with contextlib.ExitStack() as exits:
        def make(database_url: str, **settings) -> Stack:
            folder = tmp_path / f"stack{len(os.listdir(tmp_path))}"
            folder.mkdir()
            return exits.enter_context(running_stack(folder, database_url, **settings))
        yield make


@pytest.fixture
def make_replicas(nginx_installed, redis_server, tmp_path):
    """Two tokenauth servers behind one nginx on ``database_url`` and this test's Redis
    (see replicas.py): ``make_replicas(database_url, **settings) -> Replicas``."""
    from .replicas import running_replicas

    with contextlib.ExitStack() as exits:
        def make(database_url: str, **settings):
            folder = tmp_path / f"replicas{len(os.listdir(tmp_path))}"
            folder.mkdir()
            return exits.enter_context(running_replicas(folder, database_url, redis_server,
                                                        **settings))
        yield make
