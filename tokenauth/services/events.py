"""The audit trail (SPEC 4 event object): one row per thing that happened to a token or a
user, written in the same transaction as the change it records."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ..models import Event, utcnow
from . import alerts

TOKEN_TYPES = ("created", "renamed", "rotated", "revoked", "new_origin", "canary_used",
               "expiring_soon")
USER_TYPES = ("user_created", "user_disabled", "user_enabled", "password_changed")
TYPES = TOKEN_TYPES + USER_TYPES


def record(session: Session, type_: str, *, token_id: str | None = None,
           user_id: str | None = None, actor: str | None = None, origin: str | None = None,
           details: dict | None = None, alert: bool = False) -> Event:
    """Add an event of ``type_`` (one of TYPES) to the caller's transaction. ``actor`` is
    the username that caused it (None: the system). With ``alert`` (a webhook is
    configured) an alertable event is queued for delivery in the same transaction."""
    if type_ not in TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    event = Event(at=utcnow(), type=type_, token_id=token_id, user_id=user_id, actor=actor,
                  origin=origin, details=details)
    session.add(event)
    session.flush()
    if alert and type_ in alerts.ALERTED:
        alerts.enqueue(session, event)
    return event
