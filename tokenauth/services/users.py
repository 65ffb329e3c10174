"""Users: internal (with a password here) and external (vouched for by the proxy)."""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import AuthenticationFailed, Conflict, InvalidInput, LockedOut, NotFound, UserDisabled
from ..models import User
from ..security import passwords
from ..security.login_limiter import LoginLimiter
from ..security.tokens import looks_like_token

# ASCII only: the username travels to the product in the X-Auth-User header.
USERNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,149}")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


def valid_username(username: str) -> bool:
    return USERNAME_RE.fullmatch(username) is not None


def check_password_rules(password: str) -> None:
    """Raise :class:`InvalidInput` unless ``password`` is acceptable."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must be {MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters",
            {"password": ["Length must be between 8 and 1024."]},
        )
    if looks_like_token(password):
        # Basic user:<secret> is read as a token when it has the token shape.
        raise InvalidInput("password must not look like an API token",
                           {"password": ["Must not look like an API token."]})


def create_user(session: Session, username: str, password: str | None = None, *,
                is_admin: bool = False, source: str = "internal") -> User:
    """Create and flush a user. Raises InvalidInput, or Conflict if the username is taken."""
    if not valid_username(username):
        raise InvalidInput("invalid username", {"username": [
            "1-150 characters: letters, digits and . _ @ + -, starting with a letter or digit."]})
    if password is not None:
        check_password_rules(password)
    if session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"user {username!r} already exists")
    user = User(username=username, source=source, is_admin=is_admin,
                password_hash=passwords.hash_password(password) if password else None)
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"user {username!r} already exists") from None
    return user


def get_user(session: Session, user_id: str) -> User:
    """The user with ``user_id``. Raises NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    return user


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def require_user(session: Session, username: str) -> User:
    """The user named ``username``. Raises NotFound."""
    user = find_user(session, username)
    if user is None:
        raise NotFound(f"user {username!r} not found")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def update_user(session: Session, user: User, *, active: bool | None = None,
                is_admin: bool | None = None, password: str | None = None) -> User:
    """Change ``active``, ``is_admin`` or the password. Raises InvalidInput."""
    if active is not None:
        user.active = active
    if is_admin is not None:
        user.is_admin = is_admin
    if password is not None:
        if user.source != "internal":
            raise InvalidInput("external users have no password here",
                               {"password": ["External users sign in elsewhere."]})
        check_password_rules(password)
        user.password_hash = passwords.hash_password(password)
    session.flush()
    return user


def authenticate_password(session: Session, username: str, password: str) -> User:
    """The active internal user whose password this is.

    Raises AuthenticationFailed, or its subclass UserDisabled when the password is right
    but the user is disabled.
    """
    user = find_user(session, username) if valid_username(username) else None
    ok = passwords.verify_password(password, user.password_hash if user else None)
    if not ok or user is None:
        raise AuthenticationFailed("invalid username or password")
    if not user.active:
        raise UserDisabled("user is disabled")
    return user


def authenticate_throttled(session: Session, limiter: LoginLimiter, username: str,
                           password: str, client_ip: str | None) -> User:
    """:func:`authenticate_password`, counted per (username, client IP) by ``limiter``.

    Raises LockedOut while that pair is locked out (before any password check), else what
    authenticate_password raises; a failure carries ``lockout`` (seconds, when this failure
    started one, else None) and ``failures`` (the count so far).
    """
    key = limiter.key(username, client_ip)
    retry_after = limiter.begin(key)
    if retry_after is not None:
        raise LockedOut(retry_after)
    try:
        user = authenticate_password(session, username, password)
    except AuthenticationFailed as failure:
        failure.lockout = limiter.failed(key)
        failure.failures = limiter.max_failures if failure.lockout else limiter.failures(key)
        raise
    except BaseException:  # e.g. the database failed: no answer, so not a failure
        limiter.abandoned(key)
        raise
    limiter.succeeded(key)
    return user


def external_user(session: Session, username: str) -> User:
    """The external user ``username``, created on first sight (SPEC 4).

    Raises AuthenticationFailed for an invalid name, a disabled user, or an internal user
    of that name (the proxy cannot sign in as a local account).
    """
    if not valid_username(username):
        raise AuthenticationFailed("the external user header does not hold a valid username")
    user = find_user(session, username)
    if user is None:
        try:
            user = create_user(session, username, source="external")
            session.commit()
        except Conflict:  # another worker created it first
            session.rollback()
            user = require_user(session, username)
    if user.source != "external":
        raise AuthenticationFailed("the external user header names an internal user")
    if not user.active:
        raise AuthenticationFailed("user is disabled")
    return user

