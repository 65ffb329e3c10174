"""Database models: users, their API tokens and browser sessions (SQLAlchemy 2 style)."""
from __future__ import annotations

import functools
import uuid
from datetime import datetime, timezone

from sqlalchemy import (JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text,
                        TypeDecorator, func, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db


# The time now, aware, in UTC. A partial, not a function: /verify asks on every request, and
# a Python function's call cost more than the clock.
utcnow = functools.partial(datetime.now, timezone.utc)


def iso_utc(value: datetime | None) -> str | None:
    """``2026-11-28T03:00:00Z`` (SPEC 2: UTC, whole seconds, ``Z``); None stays None."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id() -> str:
    """A new id: 32 lowercase hex characters (``rules.ID_PATTERN``)."""
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend.

    SQLite drops the offset (``+02:00`` came back naive and two hours wrong), so values are
    normalised to UTC before storing and tagged UTC when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: tokenauth stores only aware UTC times")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(150), unique=True, index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(16), default="internal")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    def __repr__(self) -> str:
        return f"<User {self.username} ({self.source})>"


# Usernames are unique regardless of case (SPEC 4): ``Alice`` beside ``alice`` would let a
# product that compares names case-insensitively be impersonated. Also serves the lookups.
Index("ux_users_username_lower", func.lower(User.username), unique=True)


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # HMAC-SHA256(pepper, raw token); the raw token is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    hint: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_accessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_accessed_origin: Mapped[str | None] = mapped_column(String(45))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    allowed_origins: Mapped[list] = mapped_column(JSON, default=list)
    # SPEC 3 route rules ("GET /api/**"); none: the token is not restricted.
    routes: Mapped[list] = mapped_column(JSON, default=list)
    # A canary is refused like an unknown token, and every presentation raises an alert.
    canary: Mapped[bool] = mapped_column(Boolean, default=False)
    # When its expiring_soon event was recorded (once per token), else None.
    expiry_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")

    def status_at(self, now: datetime) -> str:
        return token_status(self.revoked_at, self.expires_at, now)

    @property
    def status(self) -> str:
        return self.status_at(utcnow())

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.hint}>"


# The expiring_soon sweep reads only the tokens it has still to warn.
_UNWARNED = text("expiry_warned_at IS NULL AND revoked_at IS NULL AND expires_at IS NOT NULL")
Index("ix_api_tokens_unwarned_expiry", ApiToken.expires_at, postgresql_where=_UNWARNED,
      sqlite_where=_UNWARNED)


def token_status(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> str:
    """SPEC 2: revoked, else expired once ``expires_at <= now``, else active."""
    if revoked_at is not None:
        return "revoked"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return "active"


class WebSession(db.Model):
    """A signed-in browser (SPEC 5). The cookie carries a random session id; only its SHA-256
    is stored, so a copy of this table signs nobody in. Deleting the row ends the session."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    def __repr__(self) -> str:
        return f"<WebSession of {self.user_id} until {iso_utc(self.expires_at)}>"


class TokenChange(db.Model):
    """A change that cached /verify answers must learn of (SPEC 3): a token revoked (also by
    rotation), a user disabled or enabled. Written in the same transaction as the change;
    every worker's ``verify.changes.ChangeListener`` reads it (on PostgreSQL it is also
    announced with NOTIFY) and drops the cached lookups it concerns."""

    __tablename__ = "token_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    token_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(32))


class TokenOrigin(db.Model):
    """A client IP a token was used from: first and last seen (SPEC 4 ``/origins``)."""

    __tablename__ = "token_origins"
    __table_args__ = (Index("ix_token_origins_token_last_seen", "token_id", "last_seen_at"),)

    token_id: Mapped[str] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"),
                                          primary_key=True)
    origin: Mapped[str] = mapped_column(String(45), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Event(db.Model):
    """The audit trail (SPEC 4 event object), written in the transaction of what it records.
    ``actor`` is the username that caused it, None for the system (or the CLI, which says
    so in ``details``)."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    type: Mapped[str] = mapped_column(String(32), index=True)
    token_id: Mapped[str | None] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                index=True)
    actor: Mapped[str | None] = mapped_column(String(150))
    origin: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict | None] = mapped_column(JSON)


class AlertDelivery(db.Model):
    """An alert to POST to ``TOKENAUTH_WEBHOOK_URL`` (SPEC 7): the outbox. ``body`` is the
    exact JSON that is sent and signed; rows are kept after delivery for the record."""

    __tablename__ = "alert_outbox"
    # Workers look for due alerts every second: only undelivered rows are indexed.
    __table_args__ = (Index("ix_alert_outbox_due", "next_attempt_at",
                            postgresql_where=text("delivered_at IS NULL"),
                            sqlite_where=text("delivered_at IS NULL")),)

    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))
