"""The caller of a page or of a cookie-carrying API call."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ..models import User
from ..settings import Settings
from . import sessions
from .csrf import require_csrf
from .external import proxy_user


def browser_user(session: Session, settings: Settings) -> User | None:
    """The external-user header from a trusted proxy, else the web session's user.

    Returns None when neither (``sessions.ended_reason()`` then says whether a session had
    ended or expired). Raises AuthenticationFailed when the proxy's user is refused; aborts
    400 when a cookie-authenticated unsafe request lacks the CSRF token.
    """
    user = proxy_user(session, settings.external_user_header)
    if user is not None:
        return user
    user = sessions.resume(session)
    if user is not None:
        require_csrf()
    return user
