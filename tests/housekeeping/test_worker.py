"""The running service delivers alerts itself, from a thread in each gunicorn worker, and
loses nothing when it is restarted between two attempts (SPEC 7)."""
import threading
import time

import pytest

from tokenauth.extensions import db
from tokenauth.models import AlertDelivery
from tokenauth.housekeeping.worker import Housekeeper
from tokenauth.services import events

from ..helpers import eventually
from ..servers import gunicorn, tokenauth_env
from .conftest import SECRET
from .receiver import receiver

def stored(event_id) -> AlertDelivery:
    db.session.expire_all()
    row = db.session.get(AlertDelivery, event_id)
    db.session.commit()  # end the read: the servers write this row too
    return row



@pytest.mark.e2e
def test_an_alert_survives_a_restart_of_tokenauth_between_attempts(app, database_url,
                                                                    make_user, make_token,
                                                                    tmp_path):
    issued = make_token(make_user("alice"), name="canary")
    event = events.record(db.session, "canary_used", token_id=issued.token.id,
                          user_id=issued.token.user_id, origin="203.0.113.9", alert=True)
    db.session.commit()
    with receiver(fail_first=1) as target:
        env = tokenauth_env(database_url, tmp_path / "instance", webhook_url=target.url,
                            webhook_secret=SECRET)
        with gunicorn(env, tmp_path / "first", workers=2):
            # First attempt within 5 s of the event (SPEC 7); the receiver refuses it.
            assert target.wait_for(lambda got: len(got) >= 1, 5), "no first attempt"
        row = stored(event.id)  # the server stopped between two attempts
        assert (row.attempts, row.delivered_at, row.last_error) == (1, None, "HTTP 500")
        with gunicorn(env, tmp_path / "second", workers=2):
            assert target.wait_for(lambda got: any(r.status < 300 for r in got), 30), \
                "not delivered after the restart"
            assert eventually(lambda: stored(event.id).delivered_at is not None, 10)
        print("\nreceiver log:\n" + target.log())
        assert [r.status for r in target.received] == [500, 204]  # once per attempt
        for request in target.received:
            assert request.event_id == event.id and request.signed_by(SECRET)
            assert request.json()["type"] == "canary_used"
            assert request.json()["origin"] == "203.0.113.9"
            assert issued.raw not in request.body.decode() + repr(request.headers)
    assert stored(event.id).attempts == 2
    logs = "".join(path.read_text() for path in tmp_path.glob("*/*.log"))
    assert issued.raw not in logs and SECRET not in logs


def test_the_thread_keeps_working_after_a_failed_tick(app):
    calls, recovered = [], threading.Event()

    class Flaky:
        def deliver_due(self):
            calls.append(1)
            if len(calls) <= 2:
                raise ConnectionError("database away")
            recovered.set()
            return 0

    class NoSweeps:
        def run(self):
            return {}

    worker = Housekeeper(Flaky(), NoSweeps(), poll=0.01)
    worker.start()
    try:
        assert recovered.wait(5), "the thread stopped after a failure"
    finally:
        worker.close()
    assert not worker._thread.is_alive()


class CountingSweeps:
    def __init__(self):
        self.rounds = threading.Semaphore(0)

    def run(self):
        self.rounds.release()
        return {}


@pytest.mark.parametrize("interval, sweeps", [(0.05, True), (0, False)])
def test_the_sweep_interval_decides_whether_this_server_sweeps(app, interval, sweeps):
    """TOKENAUTH_SWEEP_INTERVAL=0 (e.g. all replicas but one; the tests' servers, which
    share the test database) runs no sweeps at all."""
    sweeper = CountingSweeps()
    worker = Housekeeper(None, sweeper, poll=0.01, sweep_every=interval)
    worker.start()
    try:
        assert sweeper.rounds.acquire(timeout=1) is sweeps
    finally:
        worker.close()


def test_the_sweep_interval_reaches_the_housekeeper(make_app):
    assert make_app(sweep_interval=0).extensions["tokenauth"].housekeeper.sweep_every == 0
    assert make_app().extensions["tokenauth"].housekeeper.sweep_every == 300
