"""Changes that race each other, with real threads on both databases.

Each thread drives the app through its own test client, so every request has its own app
context, database session and connection, as under gunicorn's threads. A barrier placed
right before the change makes every thread read first and write afterwards: the
interleaving a race can produce at worst, every time, instead of now and then.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from tokenauth.extensions import db
from tokenauth.models import ApiToken, User
from tokenauth.services import users as user_service
from tokenauth.services.tokens import TokenService

from ..helpers import PASSWORD, basic, bearer

THREADS = 8


@pytest.fixture
def config_overrides():
    # Eight parallel sign-ins of one user are not an attack: every password is checked.
    return {"password_check_concurrency": THREADS}


def in_parallel(app, count: int, request) -> list:
    """Run ``request(client)`` in ``count`` threads at once, each with its own client.
    Returns the responses in thread order."""
    def run(_):
        return request(app.test_client())
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def meet_before(monkeypatch, owner, method_name: str, parties: int) -> None:
    """Make ``owner.method_name`` wait until ``parties`` threads have reached it."""
    barrier = threading.Barrier(parties, timeout=30)
    original = getattr(owner, method_name)

    def waiting(*args, **kwargs):
        barrier.wait()
        return original(*args, **kwargs)
    monkeypatch.setattr(owner, method_name, waiting)


def outcome(app, responses, old_raw):
    """Statuses, how many successors verify, and whether the old token still does."""
    client = app.test_client()
    statuses = sorted(r.status_code for r in responses)
    successors = [r.json["token"] for r in responses if r.status_code == 201]
    working = [raw for raw in successors
               if client.get("/verify", headers=bearer(raw)).status_code == 200]
    old = client.get("/verify", headers=bearer(old_raw))
    return statuses, len(working), old.headers.get("X-Auth-Error")


def assert_exactly_one_successor(app, responses, old, user_id):
    statuses, working, old_error = outcome(app, responses, old.raw)
    assert statuses == [201] + [409] * (THREADS - 1)
    assert working == 1
    assert old_error == "revoked"
    assert all("rotate" in r.json["message"] for r in responses if r.status_code == 409)
    with app.app_context():  # the losers left nothing behind
        count = db.session.scalar(select(func.count()).select_from(ApiToken)
                                  .where(ApiToken.user_id == user_id))
        assert count == 2
        assert db.session.get(ApiToken, old.token.id).revoked_at is not None
        db.session.remove()


def test_concurrent_rotations_by_id_leave_one_successor(app, monkeypatch, alice, make_token):
    old = make_token(alice, name="leaked")
    token_id, user_id = old.token.id, alice.id
    meet_before(monkeypatch, TokenService, "rotate", THREADS)
    responses = in_parallel(app, THREADS, lambda client: client.post(
        f"/api/v1/tokens/{token_id}/rotate", headers=basic("alice", PASSWORD)))
    assert_exactly_one_successor(app, responses, old, user_id)


def test_concurrent_self_rotations_leave_one_successor(app, monkeypatch, alice, make_token):
    old = make_token(alice, name="leaked")
    user_id = alice.id
    meet_before(monkeypatch, TokenService, "rotate", THREADS)
    responses = in_parallel(app, THREADS, lambda client: client.post(
        "/api/v1/tokens/self/rotate", headers=bearer(old.raw)))
    assert_exactly_one_successor(app, responses, old, user_id)


@pytest.mark.parametrize("change", [{"is_admin": False}, {"active": False}],
                         ids=["demote", "disable"])
def test_two_admins_removing_each_other_at_once_leave_one_admin(app, monkeypatch, make_user,
                                                                change):
    first, second = make_user("ann", admin=True), make_user("bea", admin=True)
    callers = iter([("ann", second.id), ("bea", first.id)])
    lock = threading.Lock()
    meet_before(monkeypatch, user_service, "update_user", 2)

    def remove_the_other(client):
        with lock:
            name, other_id = next(callers)
        return client.patch(f"/api/v1/admin/users/{other_id}", json=change,
                            headers=basic(name, PASSWORD))
    responses = in_parallel(app, 2, remove_the_other)
    assert sorted(r.status_code for r in responses) == [200, 409]
    with app.app_context():
        active_admins = list(db.session.scalars(select(User.id).where(User.is_admin, User.active)))
        assert len(active_admins) == 1
        db.session.remove()


def test_losing_concurrent_rotations_record_no_event(app, monkeypatch, alice, make_token):
    from tokenauth.models import Event
    old = make_token(alice, name="leaked")
    token_id = old.token.id
    meet_before(monkeypatch, TokenService, "rotate", THREADS)
    responses = in_parallel(app, THREADS, lambda client: client.post(
        f"/api/v1/tokens/{token_id}/rotate", headers=basic("alice", PASSWORD)))
    assert sorted(r.status_code for r in responses) == [201] + [409] * (THREADS - 1)
    with app.app_context():
        rotated = list(db.session.scalars(select(Event).where(Event.type == "rotated")))
        assert [(e.token_id, e.actor) for e in rotated] == [(token_id, "alice")]
        db.session.remove()
