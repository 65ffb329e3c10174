"""Marshmallow schemas of the management API. No dump schema has a hash field."""
from __future__ import annotations

import ipaddress
import re
import unicodedata
from datetime import date, datetime, timezone

from marshmallow import Schema, ValidationError, fields, validate

from ..models import iso_utc


class UTCDateTime(fields.Field):
    """Dumps aware UTC ``2026-11-28T03:00:00Z``; loads any ISO 8601 offset (naive = UTC) or a
    bare date (``2027-01-31`` = that day 00:00 UTC)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return iso_utc(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 64:
            raise ValidationError("Not a valid datetime or date.")
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                return datetime.combine(date.fromisoformat(value), datetime.min.time(), timezone.utc)
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
            return parsed.astimezone(timezone.utc)
        except (ValueError, OverflowError):
            raise ValidationError("Not a valid datetime or date (ISO 8601, e.g. "
                                  "2027-01-31 or 2027-01-31T12:00:00Z).") from None


def printable(value: str) -> None:
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in value):
        raise ValidationError("Must not contain control characters.")


def not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Must not be blank.")


def ip_or_cidr(value: str) -> None:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValidationError(f"{value!r} is not an IP address or CIDR.") from None


NAME = dict(required=True, validate=[validate.Length(1, 100), not_blank, printable],
            metadata={"description": "Display name, 1-100 characters, not unique."})
SCOPE = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9:._/-]{1,64}$",
                                               error="Scopes are 1-64 of A-Z a-z 0-9 : . _ / -"))
STATUS = validate.OneOf(["active", "expired", "revoked"])


class TokenSchema(Schema):
    id = fields.String(metadata={"description": "Opaque token id."})
    name = fields.String()
    hint = fields.String(metadata={"description": "Prefix and last 4 characters."})
    status = fields.String(metadata={"description": "active, expired or revoked."})
    created_at = UTCDateTime()
    expires_at = UTCDateTime(allow_none=True, metadata={"description": "null = never."})
    last_accessed_at = UTCDateTime(allow_none=True)
    last_accessed_origin = fields.String(allow_none=True)
    revoked_at = UTCDateTime(allow_none=True)
    scopes = fields.List(fields.String())
    allowed_origins = fields.List(fields.String())


class TokenCreatedSchema(TokenSchema):
    token = fields.String(attribute="raw",
                          metadata={"description": "The raw token, shown this once only."})


class AdminTokenSchema(TokenSchema):
    user_id = fields.String()
    username = fields.Function(lambda token: token.user.username)


class TokenCreateSchema(Schema):
    name = fields.String(**NAME)
    expires_at = UTCDateTime(allow_none=True, metadata={
        "description": "Omitted: the default lifetime. null: never expires (not recommended)."})
    scopes = fields.List(SCOPE, validate=validate.Length(max=32))
    allowed_origins = fields.List(fields.String(validate=ip_or_cidr),
                                  validate=validate.Length(max=32), metadata={
                                      "description": "Client IPs or CIDRs allowed to use it."})


class TokenUpdateSchema(Schema):
    name = fields.String(**NAME)


class TokenQueryArgsSchema(Schema):
    status = fields.String(validate=STATUS)


class AdminTokenQueryArgsSchema(TokenQueryArgsSchema):
    user = fields.String(metadata={"description": "Only this username's tokens."})


class MeSchema(Schema):
    id = fields.String()
    username = fields.String()
    source = fields.String()
    is_admin = fields.Boolean()


class UserSchema(MeSchema):
    active = fields.Boolean()
    created_at = UTCDateTime()


class UserCreateSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(1, 150))
    password = fields.String(required=True, validate=validate.Length(8, 1024), load_only=True)
    is_admin = fields.Boolean(load_default=False)


class UserUpdateSchema(Schema):
    active = fields.Boolean()
    is_admin = fields.Boolean()
    password = fields.String(validate=validate.Length(8, 1024), load_only=True)
