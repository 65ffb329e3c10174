"""Who is calling the management API (SPEC 4), and the decorators that require it.

The ``Authorization`` header first: Basic username:password through the shared password
sign-in (``auth.signin``), or a token where a view allows it. Without one, the browser's
identity (``auth.browser_user``: the trusted proxy's header, else the web session).
"""
from __future__ import annotations

import functools

from flask import current_app, g, request
from flask_smorest import abort

from ..auth.browser import browser_user
from ..errors import AuthenticationFailed, VerifyDenied
from ..extensions import db
from ..runtime import current_runtime
from ..services import users
from ..verify.credentials import read_credentials

CHALLENGE = {"WWW-Authenticate": 'Basic realm="tokenauth"'}


def _from_authorization(header: str, allow_token: bool):
    """The user (and token id) that the Authorization header proves.

    Raises AuthenticationFailed, and LockedOut / SignInBusy (429) from the password sign-in.
    """
    try:
        credentials = read_credentials(header, allow_password=True)
    except VerifyDenied:
        raise AuthenticationFailed("malformed Authorization header") from None
    runtime = current_runtime()
    if not credentials.is_token:
        user = runtime.signin.sign_in(db.session, credentials.username, credentials.secret,
                                      request.remote_addr, via="api")
        return user, None
    if not allow_token:
        raise AuthenticationFailed(
            "API tokens cannot manage tokens; use your password or the web session")
    try:
        # Route rules restrict where the product accepts the token, not this rotation.
        identity = runtime.verifier.verify(credentials, request.remote_addr, None)
    except VerifyDenied as denial:
        raise AuthenticationFailed(f"token refused: {denial.reason}") from None
    return users.get_user(db.session, identity.user_id), identity.token_id


def authenticate(allow_token: bool = False):
    """Set ``g.user`` (and ``g.token_id`` when a token was used) or abort 401."""
    try:
        header = request.headers.get("Authorization")
        token_id = None
        if header:
            user, token_id = _from_authorization(header, allow_token)
        else:
            user = browser_user(db.session, current_runtime().settings)
    except AuthenticationFailed as failure:
        current_app.logger.info("api authentication refused: %s", failure)
        abort(401, message=str(failure), headers=CHALLENGE)
    if user is None:
        abort(401, message="authentication required", headers=CHALLENGE)
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
