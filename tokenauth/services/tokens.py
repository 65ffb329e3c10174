"""The API token lifecycle: create, list, rename, revoke, rotate; and the /verify lookup."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from .. import rules
from ..errors import Conflict, InvalidInput, NotFound
from . import changes, events
from ..models import ApiToken, User, utcnow
from ..security import tokens as token_format
from ..settings import Settings

# Marks "expires_at not given" apart from an explicit None (= never expires).
DEFAULT = object()


@dataclasses.dataclass(frozen=True)
class IssuedToken:
    """A newly stored token and its raw value, which exists only in this object."""

    token: ApiToken
    raw: str

    def __getattr__(self, name):  # dumps like the token, plus ``raw``
        return getattr(self.token, name)


def status_condition(status: str, now: datetime):
    """A SQL condition selecting tokens whose derived status is ``status``."""
    not_revoked = ApiToken.revoked_at.is_(None)
    if status == "revoked":
        return ApiToken.revoked_at.is_not(None)
    if status == "expired":
        return and_(not_revoked, ApiToken.expires_at.is_not(None), ApiToken.expires_at <= now)
    return and_(not_revoked, or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now))


class TokenService:
    """Token operations on one session; the caller commits."""

    def __init__(self, session: Session, settings: Settings, clock=None):
        self.session = session
        self.settings = settings
        self.clock = clock or utcnow

    # -- issuing ----------------------------------------------------------------------
    def create(self, user: User, name: str, expires_at=DEFAULT, scopes=(),
               allowed_origins=(), routes=(), *, canary: bool = False,
               actor: str | None = None) -> IssuedToken:
        """Store a new token for ``user`` and return it with its raw value, with a
        ``created`` event by ``actor`` (the username who did it; None: the system). A
        ``canary`` is refused by /verify like an unknown token and raises an alert.

        Raises InvalidInput for a value that breaks its rule (``tokenauth.rules``), or an
        expiry in the past, absent when a maximum lifetime is set, or beyond that maximum.
        """
        now = self.clock()
        issued = self._issue(user, rules.TOKEN_NAME.check(name),
                             self._checked_expiry(expires_at, now), rules.SCOPES.check(scopes),
                             rules.ALLOWED_ORIGINS.check(allowed_origins),
                             rules.ROUTES.check(routes), now, canary=bool(canary))
        self._event("created", issued.token, actor, canary=issued.token.canary)
        return issued

    def _event(self, type_: str, token: ApiToken, actor: str | None, **details) -> None:
        events.record(self.session, type_, token_id=token.id, user_id=token.user_id,
                      actor=actor, details=details or None)

    def _issue(self, user: User, name: str, expires_at, scopes, allowed_origins, routes,
               now: datetime, canary: bool = False) -> IssuedToken:
        raw = token_format.generate(self.settings.token_prefix)
        token = ApiToken(
            user=user, name=name, created_at=now, expires_at=expires_at,
            token_hash=token_format.token_hash(self.settings.token_pepper, raw),
            hint=token_format.hint(raw), scopes=list(scopes), allowed_origins=list(allowed_origins),
            routes=list(routes), canary=canary,
        )
        self.session.add(token)
        self.session.flush()
        return IssuedToken(token, raw)

    def _checked_expiry(self, expires_at, now: datetime) -> datetime | None:
        max_days = self.settings.max_token_days
        if expires_at is DEFAULT:
            return (now + timedelta(days=self.settings.default_token_days)).replace(microsecond=0)
        if expires_at is None:
            if max_days is not None:
                raise InvalidInput("tokens without expiry are not allowed here", {"expires_at": [
                    f"An expiration date is required (at most {max_days} days)."]})
            return None
        if expires_at <= now:
            raise InvalidInput("expiration is in the past",
                               {"expires_at": ["Must be in the future."]})
        if max_days is not None and expires_at > now + timedelta(days=max_days):
            raise InvalidInput("expiration is too far away",
                               {"expires_at": [f"Must be at most {max_days} days from now."]})
        return expires_at

    def rotate(self, token: ApiToken, *, actor: str | None = None) -> IssuedToken:
        """Revoke ``token`` and issue a new secret with the same metadata, atomically: of
        concurrent rotations of one token, exactly one gets a successor. The old token gets
        a ``rotated`` event (its successor in the details), the successor a ``created`` one.

        Raises Conflict when ``token`` is revoked or expired, also when another rotation or
        revocation got there first (this copy of it may be stale); InvalidInput when its
        expiry breaks the maximum lifetime. On an error the caller rolls back.
        """
        now = self.clock()
        status = token.status_at(now)
        if status == "active":
            expires_at = self._checked_expiry(token.expires_at, now)
            # The database decides, not this copy: only the request whose update revokes
            # the still-active row issues a successor. PostgreSQL makes the others wait for
            # the row lock and then re-reads it; on SQLite this update is the transaction's
            # first write, so it waits for the write lock and then reads the latest row.
            if self._revoke_if_active(token.id, now):
                issued = self._issue(token.user, token.name, expires_at, token.scopes,
                                     token.allowed_origins, token.routes or (), now,
                                     canary=token.canary)
                self._event("rotated", token, actor, successor=issued.token.id)
                self._event("created", issued.token, actor, rotated_from=token.id,
                            canary=issued.token.canary)
                return issued
            self.session.expire(token)
            status = token.status_at(now)
        raise Conflict(f"cannot rotate a token that is {status}")

    # -- reading ----------------------------------------------------------------------
    def list(self, user: User | None = None, status: str | None = None,
             username: str | None = None) -> list[ApiToken]:
        """Tokens, newest first; only ``user``'s (or ``username``'s: none when there is no
        such user) when given, only ``status`` when given."""
        query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        if user is not None:
            query = query.where(ApiToken.user_id == user.id)
        if username:
            if not rules.USERNAME.accepts(username):
                return []  # no user has that name
            query = query.join(User, ApiToken.user_id == User.id).where(
                func.lower(User.username) == rules.username_key(username))
        if status:
            query = query.where(status_condition(status, self.clock()))
        return list(self.session.scalars(query))

    def expiring(self, within: timedelta) -> list[ApiToken]:
        """Active tokens whose expiry is within ``within`` from now, soonest first."""
        now = self.clock()
        return list(self.session.scalars(
            select(ApiToken).where(status_condition("active", now),
                                   ApiToken.expires_at.is_not(None),
                                   ApiToken.expires_at <= now + within)
            .order_by(ApiToken.expires_at, ApiToken.id)))

    def get(self, token_id: str, owner: User | None = None) -> ApiToken:
        """The token ``token_id``, which must belong to ``owner`` when given.

        Raises NotFound, also for another user's token, so ids of others are not revealed,
        and for an id that is not well-formed, without asking the database.
        """
        if not rules.is_id(token_id):
            raise NotFound("token not found")
        token = self.session.get(ApiToken, token_id)
        if token is None or (owner is not None and token.user_id != owner.id):
            raise NotFound("token not found")
        return token

    # -- changing ---------------------------------------------------------------------
    def rename(self, token: ApiToken, name: str, *, actor: str | None = None) -> ApiToken:
        """Give ``token`` a new display name, with a ``renamed`` event by ``actor``.
        Raises InvalidInput."""
        old, token.name = token.name, rules.TOKEN_NAME.check(name)
        self.session.flush()
        if token.name != old:
            self._event("renamed", token, actor, old=old, new=token.name)
        return token

    def revoke(self, token: ApiToken, *, actor: str | None = None) -> ApiToken:
        """Revoke ``token`` (idempotent: the first revocation time is kept, also when two
        revocations race), with one ``revoked`` event by ``actor`` (None: the system) from
        the call that revoked it."""
        if token.revoked_at is None:
            if self._revoke_if_active(token.id, self.clock(), expired_too=True):
                self._event("revoked", token, actor)
            self.session.expire(token, ["revoked_at"])
        return token

    def _revoke_if_active(self, token_id: str, now: datetime, expired_too: bool = False) -> bool:
        """Set ``revoked_at`` if the row is not revoked (nor expired, unless
        ``expired_too``). True when this call changed the row."""
        query = update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        if not expired_too:
            query = query.where(or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now))
        result = self.session.execute(query.values(revoked_at=now),
                                      execution_options={"synchronize_session": False})
        if result.rowcount != 1:
            return False
        changes.publish(self.session, token_id=token_id)  # every worker's cache learns of it
        return True
