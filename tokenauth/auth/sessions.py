"""The browser session's life cycle (SPEC 5), kept on the server.

The signed Flask cookie holds only a random session id; the ``web_sessions`` table holds
its SHA-256, the user and the expiry. Deleting the row ends the session, whatever copies of
the cookie exist: signing out deletes one row, a password change or disabling the user
deletes all of theirs (``services.users.update_user``). A session ends
``TOKENAUTH_SESSION_LIFETIME_MINUTES`` after login, however active the user is.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import g, session as cookie
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..models import User, WebSession, utcnow

SESSION_ID_KEY = "sid"
_ENDED_KEY = "tokenauth_session_ended"


def _digest(session_id: str) -> str:
    # The id is 256 random bits: a plain hash is enough to make the table useless to a thief.
    return hashlib.sha256(session_id.encode()).hexdigest()


def start(session: Session, user: User, lifetime: timedelta) -> None:
    """Sign ``user`` in: a new session row, and a fresh cookie naming it (nothing carried
    over from before the login, so no fixation). Prunes expired rows. The caller commits."""
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    session_id = secrets.token_urlsafe(32)
    session.add(WebSession(id_hash=_digest(session_id), user_id=user.id, created_at=now,
                           expires_at=now + lifetime))
    cookie.clear()
    cookie.permanent = True  # the cookie expires with the session lifetime too
    cookie[SESSION_ID_KEY] = session_id


def resume(session: Session) -> User | None:
    """The active user of this request's session, else None. A session that has ended or
    expired clears the cookie, and ``ended_reason()`` then says which."""
    session_id = cookie.get(SESSION_ID_KEY)
    if not isinstance(session_id, str):
        return None
    found = session.execute(
        select(WebSession.expires_at, User).join(User, User.id == WebSession.user_id)
        .where(WebSession.id_hash == _digest(session_id))).first()
    if found is not None and found.User.active and found.expires_at > utcnow():
        return found.User
    g.setdefault(_ENDED_KEY, "expired" if found is not None and found.User.active else "ended")
    cookie.clear()
    return None


def ended_reason() -> str | None:
    """``"expired"`` or ``"ended"`` when this request brought a session that no longer
    counts, else None."""
    return g.get(_ENDED_KEY)


def end(session: Session) -> None:
    """Sign out: delete this session's row and clear the cookie. The caller commits."""
    session_id = cookie.get(SESSION_ID_KEY)
    if isinstance(session_id, str):
        session.execute(delete(WebSession).where(WebSession.id_hash == _digest(session_id)))
    cookie.clear()
