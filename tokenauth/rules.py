"""Every input rule, written once: usernames, passwords, token names, scopes, allowed
origins, expiry times and ids (SPEC 2 and 4). A :class:`Rule` checks and normalises one
value and describes itself: services call ``RULE.check(value)`` (InvalidInput with a
per-field message that states the rule), the API's schemas use ``RULE.field()`` (the same
check, and the same facts as OpenAPI ``pattern``, lengths, description and example), and
the CLI goes through the services. No Flask, no database.

Patterns use the common subset of Python and ECMA-262 regexes (no ``\\d``, ``\\s``, ``\\w``,
whose meanings differ): clients and generators such as schemathesis read them.
To add a rule: a function returning the clean value or raising :class:`Broken`, wrapped in
a ``Rule`` (``pattern_rule`` when one pattern says it all; ``ListRule`` for lists).
"""
from __future__ import annotations

import dataclasses
import ipaddress
import re
from datetime import date, datetime, timezone
from typing import Any, Callable

from marshmallow import ValidationError, fields, validate

from .errors import InvalidInput
from .security.tokens import TOKEN_RE
from .verify import routes as route_rules


class Broken(ValueError):
    """A value breaks a rule; the message says how, in one sentence."""


@dataclasses.dataclass(frozen=True)
class Rule:
    """One input rule.

    ``field_name``: the input field named in messages; ``summary``: the rule in one sentence,
    appended to every refusal and used as the OpenAPI description; ``normalise``: returns
    the clean value or raises Broken; ``openapi``: the JSON Schema keywords that state the
    rule to clients (each must hold for every accepted value).
    """

    field_name: str
    summary: str
    normalise: Callable[[Any], Any]
    openapi: dict = dataclasses.field(default_factory=dict)

    def explain(self, broken: Broken) -> str:
        return f"{broken} {self.summary}"

    def check(self, value, field: str | None = None):
        """The clean value. Raises InvalidInput naming ``field`` and saying the rule."""
        field = field or self.field_name
        try:
            return self.normalise(value)
        except Broken as broken:
            raise InvalidInput(f"invalid {field}: {_lower_first(str(broken))}",
                               {field: [self.explain(broken)]}) from None

    def accepts(self, value) -> bool:
        try:
            self.normalise(value)
        except Broken:
            return False
        return True

    def field(self, **kwargs) -> fields.Field:
        """A marshmallow field that loads the clean value and documents the rule."""
        return RuleField(self, **kwargs)


class RuleField(fields.String):
    """A string field checked and normalised by a :class:`Rule`."""

    def __init__(self, rule: Rule, **kwargs):
        metadata = {"description": rule.summary, **rule.openapi, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)
        self.rule = rule

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return self.rule.normalise(text)
        except Broken as broken:
            raise ValidationError(self.rule.explain(broken)) from None


@dataclasses.dataclass(frozen=True)
class ListRule:
    """A list of at most ``max_items`` values that each follow ``item``; ``tidy`` orders or
    de-duplicates the clean values."""

    field_name: str
    item: Rule
    max_items: int
    tidy: Callable[[list], list] = list

    @property
    def summary(self) -> str:
        return f"At most {self.max_items} items. {self.item.summary}"

    def check(self, values, field: str | None = None) -> list:
        """The clean list. Raises InvalidInput with messages per item, like marshmallow's."""
        field = field or self.field_name
        if isinstance(values, str):
            raise InvalidInput(f"invalid {field}: not a list", {field: ["Must be a list."]})
        values = list(values or ())
        if len(values) > self.max_items:
            raise InvalidInput(f"invalid {field}: too many",
                               {field: [f"At most {self.max_items} items."]})
        clean, problems = [], {}
        for index, value in enumerate(values):
            try:
                clean.append(self.item.normalise(value))
            except Broken as broken:
                problems[index] = [self.item.explain(broken)]
        if problems:
            raise InvalidInput(f"invalid {field}", {field: problems})
        return self.tidy(clean)

    def field(self, **kwargs) -> fields.List:
        metadata = {"description": self.summary, "maxItems": self.max_items,
                    **kwargs.pop("metadata", {})}
        return fields.List(self.item.field(), metadata=metadata,
                           validate=validate.Length(max=self.max_items,
                                                    error=f"At most {self.max_items} items."),
                           **kwargs)


def _lower_first(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:]


def _text(value) -> str:
    if not isinstance(value, str):
        raise Broken("Must be text.")
    return value


def pattern_rule(field_name: str, summary: str, pattern: str, broken: str, **openapi) -> Rule:
    """A rule that is one anchored pattern (``^...$``); ``broken`` says what is wrong."""
    compiled = re.compile(pattern[1:-1])  # fullmatch: Python's $ would allow a final \n

    def normalise(value):
        if compiled.fullmatch(_text(value)) is None:
            raise Broken(broken)
        return value
    return Rule(field_name, summary, normalise, {"pattern": pattern, **openapi})


def _no_lone_surrogates(value: str) -> str:
    # JSON can carry "\ud800"; such a string cannot be encoded, so no database stores it.
    if any("\ud800" <= char <= "\udfff" for char in value):
        raise Broken("Contains a lone surrogate, which is not valid Unicode.")
    return value


# -- usernames ------------------------------------------------------------------------------
# ASCII only: the username travels to the product in the X-Auth-User header.
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,149}$"
USERNAME = pattern_rule(
    "username",
    "A username is 1-150 ASCII characters: letters, digits and . _ @ + -, starting with a "
    "letter or digit. Usernames are unique regardless of case.",
    USERNAME_PATTERN, "Not a valid username.", minLength=1, maxLength=150, example="alice")


def username_key(username: str) -> str:
    """What usernames are compared by: ``Alice`` and ``alice`` are the same user. Matches
    SQL ``lower()`` on every database, as usernames are ASCII."""
    return username.lower()


# -- passwords ------------------------------------------------------------------------------
MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH = 8, 1024
# Basic user:<secret> is read as a token when the secret has the token shape (SPEC 2), so
# a password must not have it, at any length.
PASSWORD_PATTERN = rf"^(?!{TOKEN_RE.pattern}$)"


def _password(value) -> str:
    value = _no_lone_surrogates(_text(value))
    if len(value) < MIN_PASSWORD_LENGTH:
        raise Broken(f"Too short: at least {MIN_PASSWORD_LENGTH} characters.")
    if len(value) > MAX_PASSWORD_LENGTH:
        raise Broken(f"Too long: at most {MAX_PASSWORD_LENGTH} characters.")
    if TOKEN_RE.fullmatch(value):
        raise Broken("Looks like an API token.")
    return value


PASSWORD = Rule(
    "password",
    f"A password is {MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters and must not "
    "look like an API token.",
    _password,
    {"pattern": PASSWORD_PATTERN, "minLength": MIN_PASSWORD_LENGTH,
     "maxLength": MAX_PASSWORD_LENGTH, "format": "password"},
)


# -- token names ----------------------------------------------------------------------------
MAX_NAME_LENGTH = 100
# Unicode category Cc: C0 controls, DEL and C1 controls.
CONTROL_CLASS = r"\x00-\x1f\x7f-\x9f"
# What is stripped around a name: the Unicode spaces that are not controls, plus BOM
# (ECMA-262 counts U+FEFF as white space; Python's str.strip does not).
SPACES = (" \u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200b)))
          + "\u2028\u2029\u202f\u205f\u3000\ufeff")
_SPACE_CLASS = "".join(f"\\u{ord(char):04x}" for char in SPACES)
NAME_PATTERN = rf"^[^{CONTROL_CLASS}]*[^{CONTROL_CLASS}{_SPACE_CLASS}][^{CONTROL_CLASS}]*$"
_CONTROL_RE = re.compile(f"[{CONTROL_CLASS}]")


def _token_name(value) -> str:
    value = _no_lone_surrogates(_text(value))
    if len(value) > MAX_NAME_LENGTH:
        raise Broken(f"Too long: at most {MAX_NAME_LENGTH} characters.")
    if _CONTROL_RE.search(value):
        raise Broken("Contains a control character (such as a tab, a line break or NUL).")
    value = value.strip(SPACES)
    if not value:
        raise Broken("Must not be blank.")
    return value


TOKEN_NAME = Rule(
    "name",
    f"A name is 1-{MAX_NAME_LENGTH} characters, not blank, without control characters; "
    "spaces around it are removed. Names are for display and need not be unique.",
    _token_name,
    {"pattern": NAME_PATTERN, "minLength": 1, "maxLength": MAX_NAME_LENGTH,
     "example": "deploy bot"},
)


# -- scopes ---------------------------------------------------------------------------------
SCOPE_PATTERN = r"^[A-Za-z0-9:._/-]{1,64}$"
SCOPE = pattern_rule(
    "scopes", "A scope is 1-64 of A-Z a-z 0-9 : . _ / - (a label passed on to the product).",
    SCOPE_PATTERN, "Not a valid scope.", minLength=1, maxLength=64, example="read:reports")
SCOPES = ListRule("scopes", SCOPE, 32, tidy=lambda scopes: sorted(set(scopes)))


# -- allowed origins ------------------------------------------------------------------------
# A necessary shape (hex digits, dots and colons, a prefix length) that every address or
# CIDR has; the parser decides the rest. No zone ids (fe80::1%eth0), no netmasks.
ORIGIN_PATTERN = r"^[0-9A-Fa-f:.]{2,45}(/[0-9]{1,3})?$"
_ORIGIN_RE = re.compile(ORIGIN_PATTERN[1:-1])


def _origin(value) -> str:
    if _ORIGIN_RE.fullmatch(_text(value)):
        try:
            return str(ipaddress.ip_network(value, strict=False))
        except ValueError:
            pass
    raise Broken(f"{value[:60]!r} is not an IP address or CIDR.")


ORIGIN = Rule(
    "allowed_origins",
    "An origin is an IPv4 or IPv6 address or a CIDR network with a prefix length "
    "(10.0.0.0/8, 2001:db8::/32); it is stored normalised, so 10.1.2.3/8 becomes 10.0.0.0/8 "
    "and an address becomes a /32 or /128.",
    _origin,
    {"pattern": ORIGIN_PATTERN, "minLength": 2, "maxLength": 49, "example": "192.0.2.0/24"},
)
ALLOWED_ORIGINS = ListRule("allowed_origins", ORIGIN, 32,
                           tidy=lambda origins: list(dict.fromkeys(origins)))


# -- route rules ----------------------------------------------------------------------------
# The grammar lives with the matcher (verify/routes.py), so what is accepted here is exactly
# what /verify compiles. The pattern states its shape to clients; rule_problem decides.
ROUTE_PATTERN = r"^(\*|[A-Z]{1,20}) /[^\x00-\x20\x7f-\x9f%?#\\]*$"


def _route(value) -> str:
    problem = route_rules.rule_problem(_text(value))
    if problem:
        raise Broken(f"{value[:60]!r} {problem}.")
    return value


ROUTE = Rule(
    "routes",
    "A route rule is '<METHOD> <pattern>': an HTTP method in capitals or * (any; GET also "
    "covers HEAD), a space, and a path pattern starting with /, matched segment by segment: "
    "* is one segment, ** any number (GET /api/reports/**).",
    _route,
    {"pattern": ROUTE_PATTERN, "minLength": 3, "maxLength": route_rules.MAX_RULE_LENGTH,
     "example": "GET /api/**"},
)
ROUTES = ListRule("routes", ROUTE, route_rules.MAX_RULES,
                  tidy=lambda routes: list(dict.fromkeys(routes)))


# -- expiry times ---------------------------------------------------------------------------
EXPIRES_AT_PATTERN = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
                      r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
                      r"(Z|[+-][0-9]{2}:?[0-9]{2})?)?$")
_EXPIRES_AT_RE = re.compile(EXPIRES_AT_PATTERN[1:-1])


def _expires_at(value) -> datetime:
    if _EXPIRES_AT_RE.fullmatch(_text(value)):
        try:
            if len(value) == 10:
                return datetime.combine(date.fromisoformat(value), datetime.min.time(),
                                        timezone.utc)
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
            return parsed.astimezone(timezone.utc)
        except (ValueError, OverflowError):
            pass
    raise Broken("Not a valid date or time.")


EXPIRES_AT = Rule(
    "expires_at",
    "ISO 8601: a date (2027-01-31 = that day 00:00 UTC) or a date and time with Z or an "
    "offset (2027-01-31T12:00:00+02:00); a time without an offset is UTC.",
    _expires_at,
    {"pattern": EXPIRES_AT_PATTERN, "maxLength": 32, "example": "2027-01-31T12:00:00Z"},
)


# -- ids ------------------------------------------------------------------------------------
# models.new_id: uuid4().hex. Any other value names nothing, so it need not reach the
# database, which may refuse it (PostgreSQL refuses NUL) and must not answer 5xx for it.
ID_PATTERN = r"^[0-9a-f]{32}$"
ID = pattern_rule("id", "An id: 32 lowercase hexadecimal characters; any other value is 404.",
                  ID_PATTERN, "Not a valid id.", minLength=32, maxLength=32,
                  example="9b1e6f0c2d4a4f0e8c3b7a1d5e9f2c6b")
is_id = ID.accepts


def id_parameter(name: str) -> dict:
    """The OpenAPI description of the path parameter ``name`` holding an id."""
    return {"in": "path", "name": name, "required": True, "description": ID.summary,
            "schema": {"type": "string", **ID.openapi}}
