"""The audit trail of management changes (SPEC 4 events): each change leaves exactly one
event, with who did it, written in the change's own transaction."""
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tokenauth.errors import Conflict, InvalidInput
from tokenauth.extensions import db
from tokenauth.models import Event
from tokenauth.runtime import current_runtime
from tokenauth.services import users
from tokenauth.services.tokens import TokenService


@pytest.fixture
def service(app):
    return current_runtime().tokens()


def events_after(mark: set) -> list[tuple]:
    """``(type, actor, token_id, user_id)`` of the events not in ``mark``."""
    return [(e.type, e.actor, e.token_id, e.user_id)
            for e in db.session.scalars(select(Event).order_by(Event.at, Event.id))
            if e.id not in mark]


def mark() -> set:
    return set(db.session.scalars(select(Event.id)))


def test_creating_a_token_records_who_did_it(service, make_user):
    alice = make_user("alice")
    before = mark()
    issued = service.create(alice, "ci", actor="alice")
    db.session.commit()
    assert events_after(before) == [("created", "alice", issued.token.id, alice.id)]


@pytest.mark.parametrize("actor", ["alice", "root", None], ids=["owner", "admin", "system"])
def test_rename_and_revoke_record_one_event_each(service, make_user, make_token, actor):
    alice = make_user("alice")
    token = make_token(alice).token
    before = mark()
    service.rename(token, "renamed", actor=actor)
    db.session.commit()
    service.revoke(token, actor=actor)
    db.session.commit()
    service.revoke(token, actor=actor)  # revoking again changes nothing, records nothing
    db.session.commit()
    assert events_after(before) == [("renamed", actor, token.id, alice.id),
                                    ("revoked", actor, token.id, alice.id)]


def test_rotation_records_rotated_on_the_old_token_and_created_on_its_successor(
        service, make_user, make_token):
    alice = make_user("alice")
    old = make_token(alice).token
    before = mark()
    successor = service.rotate(old, actor="alice")
    db.session.commit()
    assert sorted(events_after(before)) == sorted([
        ("rotated", "alice", old.id, alice.id), ("created", "alice", successor.id, alice.id)])
    rotated = db.session.scalar(select(Event).where(Event.type == "rotated"))
    assert rotated.details == {"successor": successor.id}


def test_user_changes_record_their_events(app, make_user):
    before = mark()
    bob = users.create_user(db.session, "bob", "a long enough password", actor="root")
    db.session.commit()
    users.update_user(db.session, bob, active=False, actor="root")
    db.session.commit()
    users.update_user(db.session, bob, active=True, actor="root")
    db.session.commit()
    users.update_user(db.session, bob, password="another long password", actor="bob")
    db.session.commit()
    users.update_user(db.session, bob, active=True, actor="root")  # no change: no event
    db.session.commit()
    assert events_after(before) == [("user_created", "root", None, bob.id),
                                    ("user_disabled", "root", None, bob.id),
                                    ("user_enabled", "root", None, bob.id),
                                    ("password_changed", "bob", None, bob.id)]


def test_a_rolled_back_change_leaves_no_event(service, make_user, make_token):
    alice = make_user("alice")
    token = make_token(alice).token
    before = mark()
    service.revoke(token, actor="alice")
    service.create(alice, "other", actor="alice")
    users.update_user(db.session, alice, password="another long password", actor="alice")
    db.session.rollback()
    assert events_after(before) == []


@pytest.mark.parametrize("change", [
    lambda service, user, token: service.rename(token, "", actor="alice"),
    lambda service, user, token: service.create(user, "x" * 101, actor="alice"),
    lambda service, user, token: users.update_user(db.session, user, password="short",
                                                   actor="alice"),
], ids=["rename", "create", "password"])
def test_a_refused_change_leaves_no_event(service, make_user, make_token, change):
    alice = make_user("alice")
    token = make_token(alice).token
    before = mark()
    with pytest.raises(InvalidInput):
        change(service, alice, token)
    db.session.rollback()
    assert events_after(before) == []


def test_the_loser_of_a_rotation_race_records_nothing(app, service, make_user, make_token):
    """Another request rotates a copy it loaded before this one's rotation committed: 409,
    and the only ``rotated`` event is the winner's."""
    issued = make_token(make_user("alice"))
    other_request = Session(db.engine)
    stale = TokenService(other_request, current_runtime().settings).get(issued.token.id)
    assert stale.user is not None
    service.rotate(service.get(issued.token.id), actor="alice")
    db.session.commit()
    try:
        with pytest.raises(Conflict):
            TokenService(other_request, current_runtime().settings).rotate(stale, actor="bob")
    finally:
        other_request.rollback()
        other_request.close()
    rotated = list(db.session.scalars(select(Event).where(Event.type == "rotated")))
    assert [(e.actor, e.token_id) for e in rotated] == [("alice", issued.token.id)]
