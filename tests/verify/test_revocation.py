"""Revocation, rotation and disabling a user reach every worker within a second (SPEC 3),
whatever the cache TTL; a worker that cannot hear them serves nothing cached older than 1 s."""
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..helpers import PASSWORD, basic, bearer, listening
from ..servers import tokenauth_env

LONG_TTL = 300  # without the listener, a revocation elsewhere would go unseen for 5 minutes


def refused_within(client, token, seconds=1.0):
    """Whether ``client`` refuses ``token`` within ``seconds`` (polled); returns the reason."""
    deadline = time.monotonic() + seconds
    while True:
        response = client.get("/verify", headers=bearer(token))
        if response.status_code != 200 or time.monotonic() > deadline:
            return response.headers.get("X-Auth-Error")
        time.sleep(0.02)


@pytest.fixture
def two_workers(make_app):
    """Two apps on one database, like two gunicorn workers (or replicas)."""
    worker_a = listening(make_app(verify_cache_ttl=LONG_TTL))
    worker_b = listening(make_app(verify_cache_ttl=LONG_TTL))
    return worker_a.test_client(), worker_b.test_client()



def test_revocation_elsewhere_is_seen_within_a_second(two_workers, alice, make_token):
    client_a, client_b = two_workers
    token = make_token(alice)
    assert client_a.get("/verify", headers=bearer(token.raw)).status_code == 200  # cached on A
    response = client_b.delete(f"/api/v1/tokens/{token.token.id}", headers=basic("alice", PASSWORD))
    assert response.status_code == 204
    assert refused_within(client_a, token.raw) == "revoked"


def test_rotation_elsewhere_is_seen_within_a_second(two_workers, alice, make_token):
    client_a, client_b = two_workers
    token = make_token(alice)
    assert client_a.get("/verify", headers=bearer(token.raw)).status_code == 200
    rotated = client_b.post(f"/api/v1/tokens/{token.token.id}/rotate",
                            headers=basic("alice", PASSWORD))
    assert rotated.status_code == 201
    assert refused_within(client_a, token.raw) == "revoked"
    assert client_a.get("/verify", headers=bearer(rotated.json["token"])).status_code == 200


def test_disabling_a_user_elsewhere_is_seen_within_a_second(two_workers, alice, make_user,
                                                            make_token):
    make_user("root", admin=True)
    client_a, client_b = two_workers
    token = make_token(alice)
    assert client_a.get("/verify", headers=bearer(token.raw)).status_code == 200
    response = client_b.patch(f"/api/v1/admin/users/{alice.id}", json={"active": False},
                              headers=basic("root", PASSWORD))
    assert response.status_code == 200
    assert refused_within(client_a, token.raw) == "user_disabled"
    client_b.patch(f"/api/v1/admin/users/{alice.id}", json={"active": True},
                   headers=basic("root", PASSWORD))
    deadline = time.monotonic() + 1.0  # enabling is seen just as fast
    while client_a.get("/verify", headers=bearer(token.raw)).status_code != 200:
        assert time.monotonic() < deadline, "re-enabled user still refused after 1 s"
        time.sleep(0.02)


def test_the_cli_reaches_a_running_worker_within_a_second(make_app, database_url, alice,
                                                          make_token, tmp_path):
    client = listening(make_app(verify_cache_ttl=LONG_TTL)).test_client()
    token = make_token(alice)
    assert client.get("/verify", headers=bearer(token.raw)).status_code == 200
    cli = Path(sys.executable).parent / "tokenauth"
    subprocess.run([str(cli), "tokens", "revoke", token.token.id], check=True,
                   env=tokenauth_env(database_url, tmp_path / "cli"), capture_output=True)
    assert refused_within(client, token.raw) == "revoked"


def test_changes_rolled_back_are_never_announced(make_app, alice, make_token):
    from tokenauth.extensions import db
    from tokenauth.services.tokens import TokenService
    app = listening(make_app(verify_cache_ttl=LONG_TTL))
    client = app.test_client()
    token = make_token(alice)
    assert client.get("/verify", headers=bearer(token.raw)).status_code == 200
    with app.app_context():
        service = TokenService(db.session, app.extensions["tokenauth"].settings)
        service.revoke(service.get(token.token.id))
        db.session.rollback()
    time.sleep(1.0)  # long enough for any announcement to arrive
    assert client.get("/verify", headers=bearer(token.raw)).status_code == 200


def test_a_deaf_listener_means_nothing_cached_older_than_a_second(make_app, alice, make_token):
    app = listening(make_app(verify_cache_ttl=LONG_TTL))
    runtime = app.extensions["tokenauth"]
    client = app.test_client()
    token = make_token(alice)
    assert client.get("/verify", headers=bearer(token.raw)).status_code == 200
    runtime.changes.close()  # it hears nothing from now on
    cache, now = runtime.cache, runtime.cache.clock
    calls = []
    lookup = runtime.store.snapshot
    runtime.store.snapshot = lambda digest: calls.append(digest) or lookup(digest)
    cache.clock = lambda: now() + 0.5
    runtime.changes.clock = cache.clock
    assert client.get("/verify", headers=bearer(token.raw)).status_code == 200
    assert calls == []  # half a second old: still served from the cache
    cache.clock = lambda: now() + 1.5
    runtime.changes.clock = cache.clock
    assert client.get("/verify", headers=bearer(token.raw)).status_code == 200
    assert len(calls) == 1  # older than a second: looked up again


def test_a_forked_worker_starts_a_listener_of_its_own(make_app):
    """gunicorn forks its workers from the master: a worker must not trust a listener
    thread that runs only in its parent, or no revocation would ever reach its cache."""
    import os
    import threading

    listener = listening(make_app(verify_cache_ttl=LONG_TTL)).extensions["tokenauth"].changes
    listener.ensure_running()  # started here, in the parent
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child reports what it runs, then leaves without cleanup
        before = any(t.name == "tokenauth-changes" for t in threading.enumerate())
        listener.ensure_running()
        after = any(t.name == "tokenauth-changes" for t in threading.enumerate())
        os.write(write, f"{before} {after}".encode())
        os._exit(0)
    os.close(write)
    seen = os.read(read, 100).decode()
    os.close(read)
    os.waitpid(child, 0)
    assert seen == "False True"
