"""Users: internal (with a password here) and external (vouched for by the proxy)."""
from __future__ import annotations

import re

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from ..models import User, WebSession
from ..security import passwords
from ..security.tokens import looks_like_token
from . import changes

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
    """Change ``active``, ``is_admin`` or the password. Raises InvalidInput.

    A password change or disabling the user ends all of their browser sessions (SPEC 5), in
    the caller's transaction.
    """
    if active is not None and active != user.active:
        user.active = active
        changes.publish(session, user_id=user.id)  # cached lookups of their tokens change
    if is_admin is not None:
        user.is_admin = is_admin
    if password is not None:
        if user.source != "internal":
            raise InvalidInput("external users have no password here",
                               {"password": ["External users sign in elsewhere."]})
        check_password_rules(password)
        user.password_hash = passwords.hash_password(password)
    if password is not None or active is False:
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.flush()
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

