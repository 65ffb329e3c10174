"""Canary tokens (SPEC 3): refused exactly like an unknown token, every presentation
recorded as ``canary_used`` with the client IP (and alerted), counted by the failure
throttle, never cached."""
import json
import time

import pytest
from sqlalchemy import select

from tokenauth.extensions import db
from tokenauth.models import AlertDelivery, Event
from tokenauth.runtime import current_runtime
from tokenauth.security.tokens import generate

from ..helpers import basic, bearer, listening

PROBER = "198.51.100.66"


@pytest.fixture
def canary(app, make_user):
    user = make_user("alice")
    issued = current_runtime().tokens().create(user, "aws-keys.txt", canary=True)
    db.session.commit()
    return issued


def verify(client, headers, ip=PROBER):
    return client.get("/verify", headers={**headers, "X-Real-IP": ip})


def canary_events(token_id, wait_for: int = 0, seconds: float = 5.0) -> list:
    """The token's canary_used events, once there are ``wait_for`` (polled, bounded)."""
    deadline = time.monotonic() + seconds
    while True:
        db.session.expire_all()
        found = list(db.session.scalars(select(Event).where(
            Event.token_id == token_id, Event.type == "canary_used").order_by(Event.at)))
        if len(found) >= wait_for or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


@pytest.mark.parametrize("credentials", [
    lambda raw: bearer(raw), lambda raw: basic("alice", raw), lambda raw: basic("bob", raw),
], ids=["bearer", "basic-owner", "basic-other-user"])
def test_a_canary_is_answered_exactly_like_an_unknown_token(client, canary, credentials):
    unknown = verify(client, credentials(generate("tka")))
    presented = verify(client, credentials(canary.raw))
    assert presented.status_code == unknown.status_code == 401
    assert list(presented.headers.items()) == list(unknown.headers.items())
    assert presented.headers["X-Auth-Error"] == "invalid"
    assert presented.data == unknown.data == b""


def test_each_presentation_records_canary_used_with_the_client_ip(client, canary):
    verify(client, bearer(canary.raw), ip="203.0.113.1")
    verify(client, bearer(canary.raw), ip="203.0.113.2")
    found = canary_events(canary.token.id, wait_for=2)
    assert [(e.origin, e.user_id, e.actor) for e in found] == [
        ("203.0.113.1", canary.token.user_id, None), ("203.0.113.2", canary.token.user_id, None)]


def test_a_canary_is_alerted_when_a_webhook_is_set(make_app, make_user):
    app = make_app(webhook_url="http://127.0.0.1:9/hook", webhook_secret="s" * 32)
    with app.app_context():
        issued = app.extensions["tokenauth"].tokens().create(make_user("alice"), "bait",
                                                             canary=True)
        db.session.commit()
        verify(app.test_client(), bearer(issued.raw))
        event, = canary_events(issued.token.id, wait_for=1)
        body = json.loads(db.session.get(AlertDelivery, event.id).body)
        assert (body["type"], body["origin"], body["token"]["name"]) == (
            "canary_used", PROBER, "bait")
        assert issued.raw not in db.session.get(AlertDelivery, event.id).body


def test_canary_events_still_queued_are_written_on_shutdown(app, canary):
    runtime = app.extensions["tokenauth"]
    runtime.alarms._ensure_running = lambda: None  # no writer thread: only the flush writes
    verify(app.test_client(), bearer(canary.raw))
    assert canary_events(canary.token.id, seconds=0) == []
    runtime.alarms.close()
    assert [e.origin for e in canary_events(canary.token.id)] == [PROBER]


def test_the_failure_throttle_counts_a_canary_like_an_invalid_token(make_app, make_user):
    app = make_app(verify_max_failures=3, verify_failure_window=60)
    with app.app_context():
        issued = app.extensions["tokenauth"].tokens().create(make_user("alice"), "bait",
                                                             canary=True)
        db.session.commit()
        client = app.test_client()
        answers = [verify(client, bearer(issued.raw)).headers["X-Auth-Error"] for _ in range(4)]
        assert answers == ["invalid", "invalid", "invalid", "rate_limited"]


def test_a_canary_is_never_cached(make_app, make_user):
    app = listening(make_app(verify_cache_ttl=60))
    runtime = app.extensions["tokenauth"]
    lookups = []
    snapshot = runtime.store.snapshot
    runtime.store.snapshot = lambda digest: lookups.append(digest) or snapshot(digest)
    with app.app_context():
        issued = runtime.tokens().create(make_user("alice"), "bait", canary=True)
        db.session.commit()
        client = app.test_client()
        for _ in range(3):
            assert verify(client, bearer(issued.raw)).status_code == 401
        assert len(lookups) == 3  # a database lookup each time, as for an unknown token
        assert len(runtime.cache) == 0


# -- under gunicorn: the writer thread runs in each forked worker ------------------------------
@pytest.mark.e2e
def test_under_gunicorn_a_canary_use_is_recorded_within_a_second_or_so(
        app, database_url, canary, tmp_path):
    import urllib.error
    import urllib.request
    from ..servers import gunicorn, tokenauth_env
    env = tokenauth_env(database_url, tmp_path / "instance")
    with gunicorn(env, tmp_path / "logs", workers=1) as (url, _):
        request = urllib.request.Request(url + "/verify", headers={
            **bearer(canary.raw), "X-Real-IP": "203.0.113.77"})
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(request, timeout=10)
        assert (answer.value.code, answer.value.headers["X-Auth-Error"]) == (401, "invalid")
        found = canary_events(canary.token.id, wait_for=1, seconds=3)
        assert [e.origin for e in found] == ["203.0.113.77"]
