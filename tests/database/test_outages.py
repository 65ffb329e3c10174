"""A hung or unreachable database answers 503 within a bound, never 200, and the service
recovers without a restart (issue 7, item 2).

PostgreSQL is reached through a TcpProxy that the test freezes (the server goes silent: its
bytes are taken, nothing is answered) or cuts. SQLite "hangs" when another connection holds
its write lock.
"""
from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest
from flask_migrate import upgrade

from tokenauth import create_app
from tokenauth.extensions import db
from tokenauth.models import ApiToken
from tokenauth.services.tokens import TokenService
from tokenauth.services.users import create_user

from ..conftest import base_config
from ..helpers import PASSWORD, basic, bearer
from ..servers import gunicorn, tokenauth_env
from .conftest import BOUND, TIMEOUT, answered_within

SETTINGS = {"verify_cache_ttl": 0, "database_timeout": TIMEOUT}  # every verify asks the database


def provision(url: str, instance) -> str:
    """Migrate an empty database and add alice with a token; returns the raw token."""
    app = create_app(base_config(instance, url))
    with app.app_context():
        upgrade()
        user = create_user(db.session, "alice", PASSWORD)
        issued = TokenService(db.session, app.extensions["tokenauth"].settings).create(user, "t")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return issued.raw


@pytest.fixture
def behind_proxy(make_postgres_database, postgres_proxy, tmp_path):
    """An app whose PostgreSQL is reached through ``postgres_proxy``."""
    url = make_postgres_database()
    token = provision(url, tmp_path / "seed")
    app = create_app(base_config(tmp_path / "instance", postgres_proxy.route(url), **SETTINGS))
    yield SimpleNamespace(app=app, proxy=postgres_proxy, token=token,
                          url=postgres_proxy.route(url), instance=tmp_path / "instance")
    postgres_proxy.thaw()
    with app.app_context():
        db.engine.dispose()


OUTAGES = {"frozen": ("freeze", "thaw"), "cut": ("cut", "restore")}


@pytest.mark.parametrize("outage", sorted(OUTAGES))
def test_postgres_outage_answers_503_within_the_bound_and_recovers(behind_proxy, outage):
    begin, end = (getattr(behind_proxy.proxy, name) for name in OUTAGES[outage])
    client = behind_proxy.app.test_client()
    token, password = bearer(behind_proxy.token), basic("alice", PASSWORD)
    assert client.get("/verify", headers=token).status_code == 200
    begin()
    try:
        for _ in range(2):  # the pooled connection, then a new one
            verify = answered_within(BOUND, client.get, "/verify", headers=token)
            assert verify.status_code == 503
            assert verify.headers["X-Auth-Error"] == "unavailable"
            assert "X-Auth-User" not in verify.headers
        assert answered_within(BOUND, client.get, "/readyz").status_code == 503
        api = answered_within(BOUND, client.get, "/api/v1/tokens", headers=password)
        assert api.status_code == 503
        assert api.json["message"].startswith("database unavailable")
        assert client.get("/healthz").status_code == 200
    finally:
        end()
    # Recovery without a restart: the broken connections were discarded.
    assert answered_within(BOUND, client.get, "/verify", headers=token).status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/api/v1/tokens", headers=password).status_code == 200


def http_get(url: str, headers=None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.e2e
def test_requests_stuck_on_a_frozen_postgres_free_their_threads(behind_proxy, tmp_path):
    """Under gunicorn (1 worker, 2 threads): with every thread taken by a /verify on the frozen
    database, /healthz is still answered within the bound, and every /verify is a 503."""
    threads = 2
    env = tokenauth_env(behind_proxy.url, behind_proxy.instance, threads=threads, **SETTINGS)
    with gunicorn(env, tmp_path / "logs", workers=1) as (base, _):
        token = bearer(behind_proxy.token)
        assert http_get(base + "/verify", token) == 200
        behind_proxy.proxy.freeze()
        answers = []
        stuck = [threading.Thread(target=lambda: answers.append(http_get(base + "/verify", token)),
                                  daemon=True) for _ in range(threads)]
        for thread in stuck:
            thread.start()
        time.sleep(0.3)  # let them take the worker's threads before /healthz queues behind
        assert answered_within(BOUND, http_get, base + "/healthz") == 200
        for thread in stuck:
            thread.join(BOUND)
        assert answers == [503] * threads
        behind_proxy.proxy.thaw()
        assert answered_within(BOUND, http_get, base + "/verify", token) == 200


@pytest.fixture
def config_overrides():
    return SETTINGS


@contextlib.contextmanager
def write_locked(path: str):
    """Another connection holds SQLite's write lock (``BEGIN EXCLUSIVE``) meanwhile."""
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        holder.close()  # rolls back, releasing the lock


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_write_to_a_locked_sqlite_is_503_within_the_bound_and_reads_still_work(
        app, client, make_user, make_token):
    alice, password = make_user("alice"), basic("alice", PASSWORD)
    used, fresh = make_token(alice), make_token(alice)
    used_id, fresh_id = used.token.id, fresh.token.id
    assert client.get("/verify", headers=bearer(used.raw)).status_code == 200  # stored now
    with write_locked(db.engine.url.database):
        # Reads still work (WAL): a verify whose last use needs no write yet, a listing.
        verify = answered_within(BOUND, client.get, "/verify", headers=bearer(used.raw))
        assert verify.status_code == 200
        assert answered_within(BOUND, client.get, "/api/v1/tokens",
                               headers=password).status_code == 200
        # Writes answer 503 within the bound instead of waiting on the lock.
        revoke = answered_within(BOUND, client.delete, f"/api/v1/tokens/{used.token.id}",
                                 headers=password)
        assert revoke.status_code == 503
        assert revoke.json["message"].startswith("database unavailable")
        # A token's first use must be written; the lookup worked, so it is allowed and the
        # write is kept pending instead of holding the answer.
        first_use = answered_within(BOUND, client.get, "/verify", headers=bearer(fresh.raw))
        assert first_use.status_code == 200
    assert app.extensions["tokenauth"].flush_last_access() == 2  # that one and the coalesced use
    db.session.remove()
    assert db.session.get(ApiToken, fresh_id).last_accessed_at is not None
    assert client.delete(f"/api/v1/tokens/{used_id}", headers=password).status_code == 204
