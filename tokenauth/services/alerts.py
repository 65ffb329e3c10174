"""Alerts (SPEC 7): the outbox side. An alertable event is queued, in the transaction that
records it, as the exact JSON body the webhook will receive; delivery happens elsewhere, off
the /verify path, and survives restarts because the queue is a table."""
from __future__ import annotations

import json

from sqlalchemy.orm import Session

from ..models import AlertDelivery, ApiToken, Event, User, iso_utc

ALERTED = ("new_origin", "canary_used", "expiring_soon")


def payload(session: Session, event: Event) -> dict:
    """The SPEC 7 body of ``event``: what happened, where from, to which token and user.
    Never a secret: the token is named by id, name and hint."""
    token = session.get(ApiToken, event.token_id) if event.token_id else None
    user = session.get(User, event.user_id) if event.user_id else None
    return {
        "id": event.id,
        "type": event.type,
        "at": iso_utc(event.at),
        "origin": event.origin,
        "token": {"id": token.id, "name": token.name, "hint": token.hint} if token else None,
        "user": {"id": user.id, "username": user.username} if user else None,
    }


def enqueue(session: Session, event: Event) -> AlertDelivery:
    """Queue ``event`` for the webhook in the caller's transaction."""
    delivery = AlertDelivery(event_id=event.id, body=json.dumps(payload(session, event)),
                             created_at=event.at, next_attempt_at=event.at)
    session.add(delivery)
    return delivery
