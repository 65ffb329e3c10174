"""The sweeps: expiring_soon once per token, the inactive-token policy, event retention;
each also under two sweepers running at once."""
import dataclasses
import threading
from datetime import timedelta

from sqlalchemy import select

from tokenauth.extensions import db
from tokenauth.housekeeping.sweeps import Sweeper
from tokenauth.models import AlertDelivery, ApiToken, Event, TokenChange, utcnow
from tokenauth.services import events

from .conftest import SECRET


def sweeper(app, clock, **settings) -> Sweeper:
    runtime = app.extensions["tokenauth"]
    values = {"webhook_url": None, "webhook_secret": SECRET, **settings}
    return Sweeper(db.engine, dataclasses.replace(runtime.settings, **values),
                   runtime.changes.forget, clock)


def trail(type_=None, token_id=None) -> list:
    db.session.expire_all()
    query = select(Event).order_by(Event.at)
    if type_:
        query = query.where(Event.type == type_)
    if token_id:
        query = query.where(Event.token_id == token_id)
    return list(db.session.scalars(query))


def concurrently(*calls) -> list:
    start, results, errors = threading.Barrier(len(calls)), [None] * len(calls), []

    def run(n, call):
        try:
            start.wait(5)
            results[n] = call()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    return results


# -- expiring_soon ---------------------------------------------------------------------
def test_a_token_within_the_warning_window_is_warned_once(app, make_user, make_token, clock):
    user = make_user("alice")
    soon = make_token(user, name="soon", expires_at=utcnow() + timedelta(days=2))
    later = make_token(user, name="later", expires_at=utcnow() + timedelta(days=30))
    never = make_token(user, name="never", expires_at=None)
    revoked = make_token(user, name="revoked", expires_at=utcnow() + timedelta(days=1),
                         revoked=True)
    sweep = sweeper(app, clock, expiry_warning_days=7)
    assert sweep.warn_expiring() == 1
    assert sweep.warn_expiring() == 0  # once per token
    [event] = trail("expiring_soon")
    assert (event.token_id, event.user_id, event.actor) == (soon.token.id, user.id, None)
    assert db.session.get(ApiToken, soon.token.id).expiry_warned_at == clock.now
    for other in (later, never, revoked):
        assert db.session.get(ApiToken, other.token.id).expiry_warned_at is None
    assert db.session.scalar(select(AlertDelivery)) is None  # no webhook: no alert
    clock.advance(days=24)  # "later" now expires within the window
    assert sweep.warn_expiring() == 1
    assert [e.token_id for e in trail("expiring_soon")] == [soon.token.id, later.token.id]


def test_with_a_webhook_the_warning_is_queued_as_an_alert(app, make_user, make_token, clock):
    soon = make_token(make_user("alice"), expires_at=utcnow() + timedelta(days=2))
    sweeper(app, clock, webhook_url="http://127.0.0.1:9/hook").warn_expiring()
    [event] = trail("expiring_soon")
    queued = db.session.get(AlertDelivery, event.id)
    assert queued is not None and '"type": "expiring_soon"' in queued.body
    assert soon.raw not in queued.body


def test_two_sweepers_warn_each_token_once(app, make_user, make_token, clock):
    user = make_user("alice")
    tokens = [make_token(user, name=f"t{n}", expires_at=utcnow() + timedelta(days=1))
              for n in range(10)]
    first, second = sweeper(app, clock), sweeper(app, clock)
    counts = concurrently(first.warn_expiring, second.warn_expiring)
    assert sum(counts) == 10
    warned = [event.token_id for event in trail("expiring_soon")]
    assert sorted(warned) == sorted(token.token.id for token in tokens)


# -- inactive tokens -------------------------------------------------------------------
def test_the_inactive_policy_is_off_unless_set(app, make_user, make_token, clock):
    make_token(make_user("alice"))
    clock.advance(days=80)
    assert sweeper(app, clock).revoke_inactive() == 0


def test_tokens_unused_for_the_set_days_are_revoked_by_the_system(app, make_user,
                                                                    make_token, clock):
    user = make_user("alice")
    idle = make_token(user, name="idle")
    used = make_token(user, name="used")
    canary = make_token(user, name="canary")
    db.session.get(ApiToken, canary.token.id).canary = True
    db.session.commit()
    runtime = app.extensions["tokenauth"]
    runtime.cache.put("cached idle", (runtime.store.snapshot(idle.token.token_hash), None))
    clock.advance(days=29)
    db.session.get(ApiToken, used.token.id).last_accessed_at = clock.now
    db.session.commit()
    clock.advance(days=2)  # idle: created 31 days ago; used: 2 days ago
    assert sweeper(app, clock, inactive_token_days=30).revoke_inactive() == 1
    db.session.expire_all()
    assert db.session.get(ApiToken, idle.token.id).revoked_at == clock.now
    assert db.session.get(ApiToken, used.token.id).revoked_at is None
    assert db.session.get(ApiToken, canary.token.id).revoked_at is None  # a trap stays armed
    [event] = trail("revoked")
    assert (event.token_id, event.actor, event.details["reason"]) == (idle.token.id, None,
                                                                      "inactive")
    # Published for every worker's cache, and dropped from this one at once.
    assert db.session.scalar(select(TokenChange).where(TokenChange.token_id == idle.token.id))
    assert runtime.cache.get("cached idle") is None


def test_two_sweepers_revoke_an_inactive_token_once(app, make_user, make_token, clock):
    user = make_user("alice")
    for n in range(5):
        make_token(user, name=f"t{n}")
    clock.advance(days=40)
    counts = concurrently(sweeper(app, clock, inactive_token_days=30).revoke_inactive,
                          sweeper(app, clock, inactive_token_days=30).revoke_inactive)
    assert sum(counts) == 5
    assert len(trail("revoked")) == 5


# -- retention -------------------------------------------------------------------------
def old_event(type_, days, alert=False, delivered=True, token_id=None):
    event = events.record(db.session, type_, token_id=token_id, alert=alert)
    event.at = utcnow() - timedelta(days=days)
    if alert:
        queued = db.session.get(AlertDelivery, event.id)
        queued.created_at = event.at
        queued.delivered_at = event.at if delivered else None
    db.session.commit()
    return event.id


def test_events_older_than_the_retention_are_pruned_in_batches(app, make_user, make_token,
                                                               clock):
    token = make_token(make_user("alice")).token.id
    made = {event.id for event in trail()}  # user_created, created: recent, kept
    old = [old_event("renamed", 400, token_id=token) for _ in range(5)]
    delivered = old_event("new_origin", 400, alert=True, token_id=token)
    retrying = old_event("new_origin", 1.5, alert=True, delivered=False, token_id=token)
    recent = old_event("renamed", 0.5, token_id=token)
    sweep = sweeper(app, clock, event_retention_days=1)
    assert sweep.prune_events(limit=4) == 4  # bounded work per call
    assert sweep.prune_events(limit=4) == 2
    assert sweep.prune_events(limit=4) == 0
    left = {event.id for event in trail()} - made
    assert left == {retrying, recent}
    assert db.session.get(AlertDelivery, delivered) is None
    assert db.session.get(AlertDelivery, retrying) is not None  # still being retried


def test_retention_keeps_events_younger_than_the_setting(app, clock):
    kept = old_event("user_created", 300)
    gone = old_event("user_created", 366)
    assert sweeper(app, clock, event_retention_days=365).prune_events() == 1
    assert [event.id for event in trail()] == [kept]
    assert gone not in {event.id for event in trail()}


def test_two_sweepers_prune_without_errors(app, clock):
    for _ in range(30):
        old_event("user_created", 400)
    counts = concurrently(sweeper(app, clock).prune_events, sweeper(app, clock).prune_events)
    assert sum(counts) == 30 and trail() == []
