"""The audit trail's events and the alert outbox they feed (SPEC 4, SPEC 7)."""
import json

import pytest

from tokenauth.extensions import db
from tokenauth.models import AlertDelivery, Event
from tokenauth.services import events


def test_an_event_is_part_of_the_callers_transaction(app, make_user, make_token):
    token = make_token(make_user("alice"))
    events.record(db.session, "renamed", token_id=token.token.id, user_id=token.token.user_id,
                  actor="alice", origin="203.0.113.5")
    db.session.rollback()
    assert db.session.scalar(db.select(Event).where(Event.type == "renamed")) is None
    event = events.record(db.session, "renamed", token_id=token.token.id, actor="alice")
    db.session.commit()
    stored = db.session.get(Event, event.id)
    assert (stored.type, stored.actor, stored.token_id) == ("renamed", "alice", token.token.id)
    assert stored.at.tzinfo is not None


def test_unknown_types_are_refused(app):
    with pytest.raises(ValueError, match="unknown event type"):
        events.record(db.session, "exploded")


def test_an_alertable_event_queues_its_webhook_body_without_secrets(app, make_user, make_token):
    issued = make_token(make_user("alice"), name="ci deploy")
    event = events.record(db.session, "new_origin", token_id=issued.token.id,
                          user_id=issued.token.user_id, origin="198.51.100.7", alert=True)
    db.session.commit()
    body = json.loads(db.session.get(AlertDelivery, event.id).body)
    assert body == {"id": event.id, "type": "new_origin", "at": body["at"],
                    "origin": "198.51.100.7",
                    "token": {"id": issued.token.id, "name": "ci deploy",
                              "hint": issued.token.hint},
                    "user": {"id": issued.token.user_id, "username": "alice"}}
    assert issued.raw not in db.session.get(AlertDelivery, event.id).body


@pytest.mark.parametrize("type_, alert", [("renamed", True), ("new_origin", False)])
def test_nothing_is_queued_for_other_events_or_without_a_webhook(app, make_user, type_, alert):
    user = make_user("alice")
    event = events.record(db.session, type_, user_id=user.id, alert=alert)
    db.session.commit()
    assert db.session.get(AlertDelivery, event.id) is None
