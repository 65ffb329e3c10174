"""Marshmallow schemas of the management API. No dump schema has a hash field."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from .. import rules
from ..models import iso_utc
from ..services.events import TYPES as EVENT_TYPES

EVENT_LIMIT = 1000  # the most events one answer carries


class UTCDateTime(fields.Field):
    """Dumps an aware time as UTC ``2026-11-28T03:00:00Z`` (SPEC 2). Input times are loaded
    by ``rules.EXPIRES_AT.field()``."""

    def __init__(self, **kwargs):
        metadata = {"type": "string", "format": "date-time",
                    "example": "2026-11-28T03:00:00Z", **kwargs.pop("metadata", {})}
        super().__init__(dump_only=True, metadata=metadata, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return iso_utc(value)


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
    routes = fields.List(fields.String(), metadata={
        "description": "Route rules ('GET /api/**'); none: the token is not restricted."})
    canary = fields.Boolean(metadata={"description": (
        "A canary: /verify refuses it like an unknown token and raises an alert.")})


class TokenCreatedSchema(TokenSchema):
    token = fields.String(attribute="raw",
                          metadata={"description": "The raw token, shown this once only."})


class AdminTokenSchema(TokenSchema):
    user_id = fields.String()
    username = fields.Function(lambda token: token.user.username)


class TokenCreateSchema(Schema):
    name = rules.TOKEN_NAME.field(required=True)
    expires_at = rules.EXPIRES_AT.field(allow_none=True, metadata={"description": (
        f"{rules.EXPIRES_AT.summary} Must be in the future (and within the maximum lifetime "
        "when one is set). Omitted: the default lifetime. null: never expires (not "
        "recommended; refused when a maximum lifetime is set).")})
    scopes = rules.SCOPES.field()
    allowed_origins = rules.ALLOWED_ORIGINS.field(metadata={"description": (
        f"Client IPs or CIDRs allowed to use the token (none: any). "
        f"{rules.ALLOWED_ORIGINS.summary}")})
    routes = rules.ROUTES.field(metadata={"description": (
        "Where the token may be used: /verify allows it only when X-Original-Method and the "
        "path of X-Original-URI match one of these (403 forbidden_scope otherwise; none: "
        f"anywhere). {rules.ROUTES.summary}")})
    canary = fields.Boolean(load_default=False, truthy={True}, falsy={False}, metadata={
        "description": (
            "A canary token: never valid; /verify refuses it like an unknown token, records "
            "a canary_used event with the client IP and raises an alert. Plant it where a "
            "leak would be found.")})


class TokenUpdateSchema(Schema):
    name = rules.TOKEN_NAME.field(required=True)


class TokenQueryArgsSchema(Schema):
    status = fields.String(validate=STATUS)


class AdminTokenQueryArgsSchema(TokenQueryArgsSchema):
    user = rules.USERNAME.field(metadata={
        "description": f"Only this user's tokens (the name in any case). {rules.USERNAME.summary}"})


class MeSchema(Schema):
    id = fields.String()
    username = fields.String()
    source = fields.String()
    is_admin = fields.Boolean()


class UserSchema(MeSchema):
    active = fields.Boolean()
    created_at = UTCDateTime()


class UserCreateSchema(Schema):
    username = rules.USERNAME.field(required=True)
    password = rules.PASSWORD.field(required=True, load_only=True)
    is_admin = fields.Boolean(load_default=False)


class UserUpdateSchema(Schema):
    active = fields.Boolean(metadata={"description": (
        "false disables the user; the last active administrator cannot be disabled (409).")})
    is_admin = fields.Boolean(metadata={"description": (
        "false demotes the user; the last active administrator cannot be demoted (409).")})
    password = rules.PASSWORD.field(load_only=True)


class OriginSchema(Schema):
    origin = fields.String(metadata={"description": "Client IP."})
    first_seen_at = UTCDateTime()
    last_seen_at = UTCDateTime()


class EventSchema(Schema):
    id = fields.String()
    at = UTCDateTime()
    type = fields.String(metadata={"description": "What happened: " + ", ".join(EVENT_TYPES)})
    token_id = fields.String(allow_none=True)
    user_id = fields.String(allow_none=True)
    actor = fields.String(allow_none=True, metadata={
        "description": "The username that caused it; null: the system or the command line."})
    origin = fields.String(allow_none=True, metadata={"description": "Client IP, if any."})


class EventQueryArgsSchema(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=EVENT_LIMIT),
                           metadata={"description": f"At most this many (1-{EVENT_LIMIT})."})


class AdminEventQueryArgsSchema(EventQueryArgsSchema):
    user = rules.USERNAME.field(metadata={
        "description": f"Only this user's events (the name in any case). {rules.USERNAME.summary}"})
    token = fields.String(validate=validate.Regexp(rules.ID_PATTERN), metadata={
        "description": "Only this token's events (its id)."})
    type = fields.String(validate=validate.OneOf(EVENT_TYPES))
