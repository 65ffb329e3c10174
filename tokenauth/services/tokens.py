"""The API token lifecycle: create, list, rename, revoke, rotate; and the /verify lookup."""
from __future__ import annotations

import dataclasses
import ipaddress
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ..errors import Conflict, InvalidInput, NotFound
from . import changes
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


def checked_name(name: str | None) -> str:
    """The display name, stripped. Raises InvalidInput unless it is 1-100 characters."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput("invalid name", {"name": ["Length must be between 1 and 100."]})
    return name


def normalise_origins(origins) -> list[str]:
    """Origins (IP addresses or CIDRs) in canonical form. Raises InvalidInput."""
    result = []
    for origin in origins or ():
        try:
            result.append(str(ipaddress.ip_network(origin, strict=False)))
        except ValueError:
            raise InvalidInput("invalid origin", {"allowed_origins": [
                f"{origin!r} is not an IP address or CIDR."]}) from None
    return result


class TokenService:
    """Token operations on one session; the caller commits."""

    def __init__(self, session: Session, settings: Settings, clock=None):
        self.session = session
        self.settings = settings
        self.clock = clock or utcnow

    # -- issuing ----------------------------------------------------------------------
    def create(self, user: User, name: str, expires_at=DEFAULT, scopes=(),
               allowed_origins=()) -> IssuedToken:
        """Store a new token for ``user`` and return it with its raw value.

        Raises InvalidInput for a name out of range, or an expiry in the past, absent when
        a maximum lifetime is set, or beyond that maximum.
        """
        now = self.clock()
        name = checked_name(name)
        expires_at = self._checked_expiry(expires_at, now)
        raw = token_format.generate(self.settings.token_prefix)
        token = ApiToken(
            user=user, name=name, created_at=now, expires_at=expires_at,
            token_hash=token_format.token_hash(self.settings.token_pepper, raw),
            hint=token_format.hint(raw), scopes=sorted(set(scopes or ())),
            allowed_origins=normalise_origins(allowed_origins),
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

    def rotate(self, token: ApiToken) -> IssuedToken:
        """Issue a new secret with the same metadata and revoke ``token``.

        Raises Conflict when ``token`` is already revoked or expired.
        """
        status = token.status_at(self.clock())
        if status != "active":
            raise Conflict(f"cannot rotate a token that is {status}")
        issued = self.create(token.user, token.name, token.expires_at, token.scopes,
                             token.allowed_origins)
        self.revoke(token)
        return issued

    # -- reading ----------------------------------------------------------------------
    def list(self, user: User | None = None, status: str | None = None,
             username: str | None = None) -> list[ApiToken]:
        """Tokens, newest first; only ``user``'s (or ``username``'s: none when there is no
        such user) when given, only ``status`` when given."""
        query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        if user is not None:
            query = query.where(ApiToken.user_id == user.id)
        if username:
            query = query.join(User, ApiToken.user_id == User.id).where(User.username == username)
        if status:
            query = query.where(status_condition(status, self.clock()))
        return list(self.session.scalars(query))

    def get(self, token_id: str, owner: User | None = None) -> ApiToken:
        """The token ``token_id``, which must belong to ``owner`` when given.

        Raises NotFound, also for another user's token, so ids of others are not revealed.
        """
        token = self.session.get(ApiToken, token_id)
        if token is None or (owner is not None and token.user_id != owner.id):
            raise NotFound("token not found")
        return token

    # -- changing ---------------------------------------------------------------------
    def rename(self, token: ApiToken, name: str) -> ApiToken:
        """Give ``token`` a new display name. Raises InvalidInput."""
        token.name = checked_name(name)
        self.session.flush()
        return token

    def revoke(self, token: ApiToken) -> ApiToken:
        """Revoke ``token`` (idempotent: the first revocation time is kept)."""
        if token.revoked_at is None:
            token.revoked_at = self.clock()
            self.session.flush()
            changes.publish(self.session, token_id=token.id)
        return token
