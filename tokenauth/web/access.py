"""Who may see a page: the signed-in browser user (session or trusted external header)."""
from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, request, url_for

from ..auth import sessions
from ..auth.browser import browser_user
from ..errors import AuthenticationFailed
from ..extensions import db
from ..runtime import current_runtime

ENDED_MESSAGES = {
    "expired": "Your session has expired. Please sign in again.",
    "ended": "Your session has ended. Please sign in again.",
}


def page_login_required(view=None, *, admin: bool = False):
    """Decorator for pages: sets ``g.user``; sends strangers to the login page (coming back
    here afterwards), answers 403 to non-admins on admin pages and to a refused proxy user."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            try:
                user = browser_user(db.session, current_runtime().settings)
            except AuthenticationFailed as refused:
                abort(403, description=f"Your sign-in through the proxy was refused: {refused}.")
            if user is None:
                ended = sessions.ended_reason()
                if ended:
                    flash(ENDED_MESSAGES[ended], "info")
                return redirect(url_for("session.login", next=local_target()))
            g.user = user
            if admin and not user.is_admin:
                abort(403, description="This page is for administrators only.")
            return view(*args, **kwargs)
        return wrapper
    return decorate(view) if view else decorate


def local_target() -> str:
    """This request's path and query, relative to the application root (no prefix)."""
    query = request.query_string.decode("latin-1")
    return request.path + ("?" + query if query else "")


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path inside this application, else None: never another host,
    scheme or protocol-relative URL (``//evil``, ``/\\evil``), never control characters."""
    if not target or len(target) > 2000 or not target.startswith("/"):
        return None
    if target.startswith(("//", "/\\")) or "\\" in target:
        return None
    if any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
