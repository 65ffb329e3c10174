"""The audit trail (SPEC 4 event object): one row per thing that happened to a token or a
user, written in the same transaction as the change it records."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import rules
from ..models import Event, utcnow
from . import alerts

TOKEN_TYPES = ("created", "renamed", "rotated", "revoked", "new_origin", "canary_used",
               "expiring_soon")
USER_TYPES = ("user_created", "user_disabled", "user_enabled", "password_changed")
TYPES = TOKEN_TYPES + USER_TYPES


def record(session: Session, type_: str, *, token_id: str | None = None,
           user_id: str | None = None, actor: str | None = None, origin: str | None = None,
           details: dict | None = None, alert: bool = False,
           at: datetime | None = None) -> Event:
    """Add an event of ``type_`` (one of TYPES) to the caller's transaction. ``actor`` is
    the username that caused it (None: the system). With ``alert`` (a webhook is
    configured) an alertable event is queued for delivery in the same transaction. ``at``:
    when it happened, if not now."""
    if type_ not in TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    event = Event(at=at or utcnow(), type=type_, token_id=token_id, user_id=user_id, actor=actor,
                  origin=origin, details=details)
    session.add(event)
    session.flush()
    if alert and type_ in alerts.ALERTED:
        alerts.enqueue(session, event)
    return event


def list_events(session: Session, *, user_id: str | None = None, token_id: str | None = None,
                type_: str | None = None, limit: int = 100) -> list[Event]:
    """Events, newest first, at most ``limit`` of them; only those of ``user_id``,
    ``token_id`` or ``type_`` when given. An id that is not well-formed or a type that does
    not exist matches nothing (the caller refuses unknown types where it wants a 422)."""
    if (user_id is not None and not rules.is_id(user_id)) or (
            token_id is not None and not rules.is_id(token_id)) or (
            type_ is not None and type_ not in TYPES):
        return []
    query = select(Event).order_by(Event.at.desc(), Event.id.desc()).limit(max(0, limit))
    if user_id is not None:
        query = query.where(Event.user_id == user_id)
    if token_id is not None:
        query = query.where(Event.token_id == token_id)
    if type_ is not None:
        query = query.where(Event.type == type_)
    return list(session.scalars(query))
