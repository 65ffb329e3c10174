"""Webhook delivery from the outbox (SPEC 7), against a real HTTP receiver."""
import json
import threading
from datetime import timedelta

import pytest

from tokenauth.extensions import db
from tokenauth.housekeeping.delivery import (GIVE_UP, LEASE, MAX_RETRY, Deliverer,
                                             DeliveryFailed, retry_delay, signature)
from tokenauth.models import AlertDelivery
from tokenauth.services import events

from .conftest import SECRET
from .receiver import receiver


def alert(issued, type_="new_origin", origin="198.51.100.7"):
    event = events.record(db.session, type_, token_id=issued.token.id,
                          user_id=issued.token.user_id, origin=origin, alert=True)
    db.session.commit()
    return event.id


def stored(event_id) -> AlertDelivery:
    db.session.expire_all()
    return db.session.get(AlertDelivery, event_id)


def deliverer(url, clock, **options) -> Deliverer:
    return Deliverer(db.engine, url, SECRET, clock=clock, **options)


def test_each_alert_arrives_signed_after_the_receiver_failed_at_first(app, make_user,
                                                                      make_token, clock):
    issued = make_token(make_user("alice"), name="deploy bot")
    ids = [alert(issued, type_) for type_ in ("new_origin", "canary_used", "expiring_soon")]
    with receiver(fail_first=2) as target:
        worker = deliverer(target.url, clock, delay=lambda attempts: 10.0)
        for _ in range(5):  # each round: every due alert once, then the backoff passes
            worker.deliver_due()
            clock.advance(seconds=10)
        print("\nreceiver log:\n" + target.log())
        delivered = target.delivered()
        assert sorted(delivered) == sorted(ids)
        assert len(target.received) == 5  # 2 refused, then each of the 3 once
        for request in target.received:
            assert request.signed_by(SECRET)
            assert request.headers["Content-Type"] == "application/json"
            body = request.json()
            assert body["id"] == request.event_id
            assert set(body) == {"id", "type", "at", "origin", "token", "user"}
            assert body["token"] == {"id": issued.token.id, "name": "deploy bot",
                                     "hint": issued.token.hint}
            assert body["user"] == {"id": issued.token.user_id, "username": "alice"}
            assert body["origin"] == "198.51.100.7"
            assert issued.raw not in request.body.decode()
            assert issued.raw not in json.dumps(request.headers)
        refused = [request.event_id for request in target.received[:2]]
    for event_id in ids:
        row = stored(event_id)
        assert row.delivered_at is not None and row.claimed_until is None
        assert row.attempts == (2 if event_id in refused else 1)


def test_a_signature_made_with_another_secret_does_not_verify():
    body = b'{"id": "x"}'
    assert signature(SECRET, body) != signature(SECRET + "!", body)
    assert signature(SECRET, body).startswith("sha256=")


def test_a_failed_attempt_waits_for_its_backoff(app, make_user, make_token, clock):
    event_id = alert(make_token(make_user("alice")))
    with receiver(fail_first=100) as target:
        worker = deliverer(target.url, clock, delay=lambda attempts: 30.0 * attempts)
        assert worker.deliver_due() == 1
        row = stored(event_id)
        assert (row.attempts, row.last_error, row.delivered_at) == (1, "HTTP 500", None)
        assert row.next_attempt_at == clock.now + timedelta(seconds=30)
        clock.advance(seconds=29)
        assert worker.deliver_due() == 0  # not yet
        clock.advance(seconds=1)
        assert worker.deliver_due() == 1
        assert stored(event_id).next_attempt_at == clock.now + timedelta(seconds=60)
        assert len(target.received) == 2


def test_an_unreachable_receiver_is_a_failed_attempt(app, make_user, make_token, clock):
    event_id = alert(make_token(make_user("alice")))
    with receiver() as target:
        url = target.url  # closed at the end of the block: nobody listens there any more
    deliverer(url, clock).deliver_due()
    row = stored(event_id)
    assert (row.attempts, row.delivered_at) == (1, None)
    assert "ConnectionRefused" in row.last_error or "URLError" in row.last_error


@pytest.mark.parametrize("attempts, low, high", [
    (1, 2.5, 5.0), (2, 5.0, 10.0), (3, 10.0, 20.0), (10, 1280.0, 2560.0),
    (11, MAX_RETRY / 2, MAX_RETRY), (500, MAX_RETRY / 2, MAX_RETRY),
])
def test_the_backoff_doubles_with_jitter_up_to_an_hour(attempts, low, high):
    assert retry_delay(attempts, rand=lambda: 0.0) == low
    assert retry_delay(attempts, rand=lambda: 0.999999) == pytest.approx(high, rel=1e-5)


def test_a_failing_receiver_is_retried_for_more_than_a_day_then_given_up(
        app, make_user, make_token, clock):
    event_id = alert(make_token(make_user("alice")))
    started = clock.now
    attempts_at = []

    def refuse(url, body, headers, timeout):
        attempts_at.append(clock.now)
        raise DeliveryFailed("HTTP 503")

    # The shortest waits (no jitter) give the most attempts: the worst case for giving up.
    worker = deliverer("http://127.0.0.1:9/", clock, send=refuse,
                       delay=lambda n: retry_delay(n, rand=lambda: 0.0))
    for _ in range(1000):
        if not worker.deliver_due():
            row = stored(event_id)
            if row.next_attempt_at >= row.created_at + GIVE_UP:
                break
            clock.now = row.next_attempt_at
    assert attempts_at[-1] - started >= timedelta(hours=24)
    row = stored(event_id)
    assert row.last_error.startswith(f"gave up after {row.attempts} attempts")
    clock.advance(days=30)
    assert worker.deliver_due() == 0  # kept for the record, never sent again


def test_a_claim_whose_worker_died_is_claimed_again_after_its_lease(app, make_user,
                                                                     make_token, clock):
    event_id = alert(make_token(make_user("alice")))

    def timed_out(url, body, headers, timeout):
        raise DeliveryFailed("TimeoutError: timed out")

    with receiver() as target:
        stalled = deliverer(target.url, clock, send=timed_out)
        alive = deliverer(target.url, clock)
        [late] = stalled.claim()  # ...and that worker stalls (or dies) before it sends
        assert alive.claim() == []
        clock.advance(seconds=LEASE.total_seconds() + 1)
        [claim] = alive.claim()
        assert alive.attempt(claim)
        assert not stalled.attempt(late)  # its claim expired: its outcome is not recorded
        row = stored(event_id)
        assert (row.attempts, row.last_error, row.delivered_at is not None) == (1, None, True)
        assert sorted(target.delivered()) == [event_id]


def test_two_workers_deliver_each_alert_exactly_once(app, make_user, make_token, clock):
    issued = make_token(make_user("alice"))
    ids = [alert(issued, origin=f"198.51.100.{n}") for n in range(20)]
    clock.catch_up()
    with receiver() as target:
        workers = [deliverer(target.url, clock) for _ in range(2)]
        start = threading.Barrier(2)
        errors = []

        def run(worker):
            try:
                start.wait(5)
                for _ in range(4):
                    worker.deliver_due()
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=run, args=(worker,)) for worker in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert errors == []
        assert sorted(target.delivered()) == sorted(ids)
        assert len(target.received) == 20  # nobody sent anything twice


def test_the_readme_signature_check_accepts_our_alerts_and_nothing_else():
    from ..servers import ROOT

    section = (ROOT / "README.md").read_text().split("## Alerts", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - the README's own example
    check = namespace["is_from_tokenauth"]
    body = b'{"id": "3cfb651d75544cb29e15673a65a5a438", "type": "canary_used"}'
    assert check(SECRET, body, signature(SECRET, body))
    assert not check(SECRET, body.replace(b"canary", b"cAnary"), signature(SECRET, body))
    assert not check("another secret " * 3, body, signature(SECRET, body))
