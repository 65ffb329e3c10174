"""Who is calling the management API (SPEC 4), and the decorators that require it.

Order: the ``Authorization`` header (Basic username:password; a token only where a view
allows it), then the external-user header from a trusted proxy, then the web session, for
which unsafe methods must carry the CSRF token. The web pages share ``browser_user`` (the
last two) and the session helpers ``start_session`` / ``end_session``.
"""
from __future__ import annotations

import functools
import time

from flask import current_app, g, request, session
from flask_smorest import abort
from flask_wtf.csrf import CSRFError

from ..errors import AuthenticationFailed, VerifyDenied
from ..extensions import csrf, db
from ..proxy import TRUSTED_ENVIRON_KEY
from ..runtime import current_runtime
from ..services import users
from ..verify.credentials import read_credentials

SESSION_USER_KEY = "user_id"
SESSION_LOGIN_AT_KEY = "login_at"  # epoch seconds; the session ends a fixed time after login


def _from_authorization(header: str, allow_token: bool):
    """The user (and token id) that the Authorization header proves."""
    try:
        credentials = read_credentials(header, allow_password=True)
    except VerifyDenied:
        raise AuthenticationFailed("malformed Authorization header") from None
    if not credentials.is_token:
        return users.authenticate_throttled(
            db.session, current_runtime().login_limiter, credentials.username,
            credentials.secret, request.remote_addr), None
    if not allow_token:
        raise AuthenticationFailed(
            "API tokens cannot manage tokens; use your password or the web session")
    try:
        identity = current_runtime().verifier.verify(credentials, request.remote_addr)
    except VerifyDenied as denial:
        raise AuthenticationFailed(f"token refused: {denial.reason}") from None
    return users.get_user(db.session, identity.user_id), identity.token_id


def _from_external_header():
    header = current_runtime().settings.external_user_header
    if not header or not request.environ.get(TRUSTED_ENVIRON_KEY):
        return None
    username = request.headers.get(header)
    if username is None:
        return None
    user = users.external_user(db.session, username.strip())
    if request.cookies:
        # A browser: the proxy may have signed it in by a cookie that a cross-site form
        # also carries. Scripts without cookies need no CSRF token.
        _require_csrf()
    return user


def _require_csrf() -> None:
    """For unsafe methods, abort 400 unless the request carries the session's CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    try:
        csrf.protect()  # cookies ride along cross-site; the CSRF token does not
    except CSRFError as refused:  # flask-smorest's JSON error would drop the reason
        abort(400, message=f"{refused.description} Cookie-authenticated requests must "
                           "send the page's CSRF token in the X-CSRFToken header.")


def start_session(user) -> None:
    """Sign ``user`` in to the web session: a fresh session (nothing carried over from before
    the login, so no fixation), stamped with the login time."""
    session.clear()
    session.permanent = True  # the cookie expires with the session lifetime too
    session[SESSION_USER_KEY] = user.id
    session[SESSION_LOGIN_AT_KEY] = int(time.time())


def end_session() -> None:
    session.clear()


def session_expired() -> bool:
    """True when the session holds a user whose login is older than the session lifetime
    (or has no login time). The signed cookie alone would be renewed on every request."""
    if not session.get(SESSION_USER_KEY):
        return False
    login_at = session.get(SESSION_LOGIN_AT_KEY)
    lifetime = current_runtime().settings.session_lifetime_minutes * 60
    return not isinstance(login_at, (int, float)) or time.time() - login_at >= lifetime


def _from_session():
    user_id = session.get(SESSION_USER_KEY)
    if not user_id:
        return None
    if session_expired():
        session.clear()
        return None
    user = db.session.get(users.User, user_id)
    if user is None or not user.active:
        session.clear()
        return None
    _require_csrf()
    return user


def browser_user():
    """The caller of a web page: the external-user header from a trusted proxy, else the web
    session. Returns None when neither; raises AuthenticationFailed when the proxy's user is
    refused (invalid name, disabled, or an internal user's name)."""
    return _from_external_header() or _from_session()


def authenticate(allow_token: bool = False):
    """Set ``g.user`` (and ``g.token_id`` when a token was used) or abort 401."""
    try:
        header = request.headers.get("Authorization")
        token_id = None
        if header:
            user, token_id = _from_authorization(header, allow_token)
        else:
            user = browser_user()
    except AuthenticationFailed as failure:
        current_app.logger.info("api authentication refused: %s", failure)
        abort(401, message=str(failure), headers={"WWW-Authenticate": 'Basic realm="tokenauth"'})
    if user is None:
        abort(401, message="authentication required",
              headers={"WWW-Authenticate": 'Basic realm="tokenauth"'})
    g.user, g.token_id = user, token_id
    return user


def login_required(view=None, *, admin: bool = False, allow_token: bool = False):
    """Decorator: the caller must be authenticated (and an admin when ``admin``)."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = authenticate(allow_token=allow_token)
            if admin and not user.is_admin:
                abort(403, message="administrators only")
            return view(*args, **kwargs)
        return wrapper
    return decorate(view) if view else decorate
