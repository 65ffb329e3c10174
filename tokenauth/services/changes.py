"""Announcing changes that cached /verify answers must learn of (SPEC 3: revocation,
rotation and disabling a user take effect everywhere within a second).

:func:`publish` writes a ``token_changes`` row in the caller's transaction and, on
PostgreSQL, a NOTIFY that is delivered when that transaction commits (and never if it rolls
back). The worker that made the change drops its own cached lookups at once
(:func:`committed`); every other worker and replica learns of it from its
``verify.changes.ChangeListener``.
"""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..models import TokenChange, utcnow

CHANNEL = "tokenauth_changes"
RETENTION = timedelta(days=1)  # a listener away for longer forgets its whole cache
_SESSION_KEY = "tokenauth.changes"


def publish(session: Session, *, token_id: str | None = None, user_id: str | None = None) -> None:
    """Record that ``token_id`` (or every token of ``user_id``) changed; the caller commits."""
    now = utcnow()
    session.execute(delete(TokenChange).where(TokenChange.at < now - RETENTION))
    change = TokenChange(at=now, token_id=token_id, user_id=user_id)
    session.add(change)
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        payload = json.dumps({"id": change.id, "token_id": token_id, "user_id": user_id})
        session.execute(select(func.pg_notify(CHANNEL, payload)))
    session.info.setdefault(_SESSION_KEY, []).append((token_id, user_id))


def committed(session: Session) -> list[tuple]:
    """The ``(token_id, user_id)`` changes published in the transaction just committed (the
    caller drops them from its cache); forgets them."""
    return session.info.pop(_SESSION_KEY, [])
