"""Origin history (SPEC 4 ``/origins``): the client IPs a token was used from, with first
and last seen. /verify writes a new origin at once (:func:`record_new`); later uses from a
known origin only move ``last_seen_at``, within the last-access resolution
(``verify.store.TokenStore.touch_origin``)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .. import rules
from ..models import ApiToken, TokenOrigin
from . import events

KEEP = 20  # origins kept per token: the most recently seen


def for_token(session: Session, token_id: str, limit: int = KEEP) -> list[TokenOrigin]:
    """The origins of ``token_id``, most recently seen first, at most ``limit``; none for an
    id that is not well-formed (without asking the database). The caller checks that the
    token is the user's to see."""
    if not rules.is_id(token_id):
        return []
    return list(session.scalars(
        select(TokenOrigin).where(TokenOrigin.token_id == token_id)
        .order_by(TokenOrigin.last_seen_at.desc(), TokenOrigin.origin).limit(max(0, limit))))


def record_new(session: Session, token_id: str, origin: str, at: datetime, *,
               alert: bool = False) -> bool:
    """Store ``origin`` as seen from ``token_id`` at ``at`` unless it already is (two workers
    may race: the database lets one insert). When this call added it and the token had been
    used before from elsewhere, record a ``new_origin`` event (and, with ``alert``, queue its
    webhook), and forget all but the :data:`KEEP` most recent origins. The caller commits.
    Returns whether the origin was new."""
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql"
              else sqlite.insert)(TokenOrigin)
    added = session.scalar(
        insert.values(token_id=token_id, origin=origin, first_seen_at=at, last_seen_at=at)
        .on_conflict_do_nothing(index_elements=["token_id", "origin"])
        .returning(TokenOrigin.origin))
    if added is None:
        return False
    token = session.get(ApiToken, token_id)
    used_elsewhere = session.scalar(select(TokenOrigin.origin).where(
        TokenOrigin.token_id == token_id, TokenOrigin.origin != origin).limit(1)) is not None
    # Used before origin history existed: its last use is the only trace.
    used_before = used_elsewhere or (token is not None and token.last_accessed_origin
                                     not in (None, origin))
    if used_before:
        events.record(session, "new_origin", token_id=token_id,
                      user_id=token.user_id if token else None, origin=origin, alert=alert)
        _forget_old(session, token_id)
    return True


def _forget_old(session: Session, token_id: str) -> None:
    kept = (select(TokenOrigin.origin).where(TokenOrigin.token_id == token_id)
            .order_by(TokenOrigin.last_seen_at.desc(), TokenOrigin.origin).limit(KEEP))
    session.execute(delete(TokenOrigin).where(TokenOrigin.token_id == token_id,
                                              TokenOrigin.origin.not_in(kept.scalar_subquery())),
                    execution_options={"synchronize_session": False})
