"""Origin history on /verify (SPEC 4 ``/origins``, SPEC 7 ``new_origin``): a new client IP is
stored at once, with a ``new_origin`` event unless it is the token's first use; uses from a
known IP stay within the last-access resolution (no write per request)."""
import json

import pytest
from sqlalchemy import select

from tokenauth.extensions import db
from tokenauth.models import AlertDelivery, Event, TokenOrigin
from tokenauth.services import origins

from ..helpers import bearer

FIRST, SECOND = "203.0.113.10", "198.51.100.20"


class CountingStore:
    """The /verify store, its writes counted."""

    def __init__(self, store):
        self.store, self.writes = store, 0

    def __getattr__(self, name):
        return getattr(self.store, name)

    def touch_origin(self, *args):
        self.writes += 1
        return self.store.touch_origin(*args)

    def record_access(self, *args):
        self.writes += 1
        return self.store.record_access(*args)


def use(client, raw, ip):
    response = client.get("/verify", headers={**bearer(raw), "X-Real-IP": ip})
    assert response.status_code == 200
    return response


def stored(token_id):
    db.session.expire_all()
    rows = origins.for_token(db.session, token_id)
    found = list(db.session.scalars(select(Event).where(Event.token_id == token_id,
                                                        Event.type == "new_origin")))
    return [row.origin for row in rows], [(e.origin, e.user_id) for e in found]


def test_the_first_use_stores_its_origin_without_an_event(app, client, make_user, make_token):
    issued = make_token(make_user("alice"))
    use(client, issued.raw, FIRST)
    assert stored(issued.token.id) == ([FIRST], [])


def test_a_second_origin_is_stored_at_once_with_a_new_origin_event(app, client, make_user,
                                                                   make_token):
    alice = make_user("alice")
    issued = make_token(alice)
    use(client, issued.raw, FIRST)
    use(client, issued.raw, SECOND)
    assert stored(issued.token.id) == ([SECOND, FIRST], [(SECOND, alice.id)])
    use(client, issued.raw, FIRST)  # known again: no second event
    assert stored(issued.token.id) == ([FIRST, SECOND], [(SECOND, alice.id)])
    assert db.session.scalar(select(AlertDelivery)) is None  # no webhook configured


def test_with_a_webhook_a_new_origin_is_alerted(make_app, make_user, make_token):
    app = make_app(webhook_url="http://127.0.0.1:9/hook", webhook_secret="s" * 32)
    client = app.test_client()
    with app.app_context():
        issued = make_token(make_user("alice"), name="deploy")
        use(client, issued.raw, FIRST)
        use(client, issued.raw, SECOND)
        body = json.loads(db.session.scalar(select(AlertDelivery)).body)
        assert (body["type"], body["origin"], body["token"]["name"]) == (
            "new_origin", SECOND, "deploy")


def test_uses_from_a_known_origin_within_the_resolution_write_nothing(app, client, make_user,
                                                                      make_token):
    issued = make_token(make_user("alice"))
    runtime = app.extensions["tokenauth"]
    use(client, issued.raw, FIRST)
    runtime.recorder.store = counting = CountingStore(runtime.recorder.store)
    for _ in range(100):
        use(client, issued.raw, FIRST)
    assert counting.writes == 0
    assert stored(issued.token.id) == ([FIRST], [])


def test_a_known_origin_moves_its_last_seen_once_the_resolution_passed(make_app, make_user,
                                                                       make_token):
    app = make_app(last_access_resolution=0)
    client = app.test_client()
    with app.app_context():
        issued = make_token(make_user("alice"))
        use(client, issued.raw, FIRST)
        first = db.session.get(TokenOrigin, (issued.token.id, FIRST))
        seen = (first.first_seen_at, first.last_seen_at)
        use(client, issued.raw, FIRST)
        db.session.expire_all()
        again = db.session.get(TokenOrigin, (issued.token.id, FIRST))
        assert again.first_seen_at == seen[0] and again.last_seen_at > seen[1]


def test_the_twenty_most_recent_origins_are_kept(app, client, make_user, make_token):
    issued = make_token(make_user("alice"))
    ips = [f"192.0.2.{n}" for n in range(1, origins.KEEP + 6)]
    for ip in ips:
        use(client, issued.raw, ip)
    kept, events = stored(issued.token.id)
    assert kept == list(reversed(ips))[:origins.KEEP]
    assert len(events) == len(ips) - 1  # every origin after the first was new


def test_another_users_origins_are_not_mixed_in(app, client, make_user, make_token):
    mine, theirs = make_token(make_user("alice")), make_token(make_user("bob"))
    use(client, mine.raw, FIRST)
    use(client, theirs.raw, SECOND)
    assert stored(mine.token.id)[0] == [FIRST]
    assert stored(theirs.token.id)[0] == [SECOND]
