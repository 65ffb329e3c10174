"""External users, vouched for by a trusted proxy's header (SPEC 4)."""
from __future__ import annotations

from flask import request
from sqlalchemy.orm import Session

from ..models import User
from ..proxy import TRUSTED_ENVIRON_KEY
from ..services import users
from .csrf import require_csrf


def proxy_user(session: Session, header: str | None) -> User | None:
    """The external user named in ``header`` when a trusted proxy sent it, else None.

    Raises AuthenticationFailed when the name is refused (invalid, disabled, or an internal
    user's); aborts 400 when a cookie-carrying unsafe request lacks the CSRF token.
    """
    if not header or not request.environ.get(TRUSTED_ENVIRON_KEY):
        return None
    username = request.headers.get(header)
    if username is None:
        return None
    user = users.external_user(session, username.strip())
    if request.cookies:
        # A browser: the proxy may have signed it in by a cookie that a cross-site form
        # also carries. Scripts without cookies need no CSRF token.
        require_csrf()
    return user
