"""Users: internal (with a password here) and external (vouched for by the proxy)."""
from __future__ import annotations

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from .. import rules
from ..errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from ..models import User, WebSession
from ..security import passwords
from . import changes, events


def create_user(session: Session, username: str, password: str | None = None, *,
                is_admin: bool = False, source: str = "internal",
                actor: str | None = None) -> User:
    """Create and flush a user, with a ``user_created`` event by ``actor`` (the username who
    did it; None: the system). Raises InvalidInput (``rules.USERNAME``, ``rules.PASSWORD``),
    or Conflict if the username is taken in any case (``Alice`` beside ``alice``)."""
    username = rules.USERNAME.check(username)
    if password is not None:
        password = rules.PASSWORD.check(password)
    taken = find_user(session, username)
    if taken is not None:
        raise _taken(username, taken.username)
    user = User(username=username, source=source, is_admin=is_admin,
                password_hash=passwords.hash_password(password) if password else None)
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # created meanwhile by another request
        raise _taken(username) from None
    events.record(session, "user_created", user_id=user.id, actor=actor,
                  details={"source": source, "is_admin": bool(is_admin)})
    return user


def _taken(username: str, existing: str | None = None) -> Conflict:
    by = f" by {existing!r}" if existing and existing != username else ""
    return Conflict(f"username {username!r} is taken{by}; usernames are unique regardless "
                    "of case")


def get_user(session: Session, user_id: str) -> User:
    """The user with ``user_id``. Raises NotFound, also for an id that is not well-formed,
    without asking the database."""
    user = session.get(User, user_id) if rules.is_id(user_id) else None
    if user is None:
        raise NotFound("user not found")
    return user


def find_user(session: Session, username: str) -> User | None:
    """The user named ``username`` in any case (usernames are unique regardless of case),
    or None; None without asking the database when it is no valid username."""
    if not rules.USERNAME.accepts(username):
        return None
    return session.scalar(select(User).where(
        func.lower(User.username) == rules.username_key(username)))


def require_user(session: Session, username: str) -> User:
    """The user named ``username``. Raises NotFound."""
    user = find_user(session, username)
    if user is None:
        raise NotFound(f"user {username!r} not found")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def update_user(session: Session, user: User, *, active: bool | None = None,
                is_admin: bool | None = None, password: str | None = None,
                actor: str | None = None) -> User:
    """Change ``active``, ``is_admin`` or the password, recording ``user_disabled`` /
    ``user_enabled`` (when ``active`` changes) and ``password_changed`` events by ``actor``.

    Raises InvalidInput, or Conflict when the change would leave no active administrator
    (also when two admins remove each other at the same time: one of them gets it). A
    password change or disabling the user ends all of their browser sessions (SPEC 5), in
    the caller's transaction.
    """
    values = {}
    if active is not None:
        values["active"] = active
    if is_admin is not None:
        values["is_admin"] = is_admin
    if password is not None:
        if user.source != "internal":
            raise InvalidInput("external users have no password here",
                               {"password": ["External users sign in elsewhere."]})
        values["password_hash"] = passwords.hash_password(rules.PASSWORD.check(password))
    if not values:
        return user
    change = update(User).where(User.id == user.id)
    if active is False or is_admin is False:
        change = change.where(_keeps_an_active_admin(session, user.id))
    if session.execute(change.values(**values),
                       execution_options={"synchronize_session": False}).rowcount != 1:
        raise Conflict("cannot demote or disable the last active administrator; make "
                       "another user an administrator first")
    if active is not None and active != user.active:
        changes.publish(session, user_id=user.id)  # cached lookups of their tokens change
        events.record(session, "user_enabled" if active else "user_disabled",
                      user_id=user.id, actor=actor)
    if password is not None:
        events.record(session, "password_changed", user_id=user.id, actor=actor)
    if password is not None or active is False:  # SPEC 5: every session of theirs ends
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.expire(user)
    return user


def _keeps_an_active_admin(session: Session, user_id: str):
    """A condition for updating user ``user_id``: it is no active admin, or another is.

    The database evaluates it in the update itself, on current rows. On PostgreSQL the
    active admins' rows are locked first, in id order, so a concurrent removal waits here
    and then sees this one's result; SQLite lets one writer in at a time, and the update is
    the transaction's first write, so it reads the latest rows.
    """
    session.scalars(select(User.id).where(User.is_admin, User.active)
                    .order_by(User.id).with_for_update()).all()
    other = aliased(User)
    another_active_admin = (select(other.id)
                            .where(other.is_admin, other.active, other.id != user_id).exists())
    return or_(~and_(User.is_admin, User.active), another_active_admin)


def external_user(session: Session, username: str) -> User:
    """The external user ``username`` (in any case), created on first sight (SPEC 4).

    Raises AuthenticationFailed for an invalid name, a disabled user, or an internal user
    of that name (the proxy cannot sign in as a local account).
    """
    if not rules.USERNAME.accepts(username):
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

