"""Typed settings, built once from ``TOKENAUTH_*`` variables and validated at start-up.

Each field of :class:`Settings` is the variable ``TOKENAUTH_<FIELD>``, parsed by the field's
type hint (bool, int, float, str, tuple[str, ...], or one of these ``| None``), with its
simple rules (minimum, maximum, choices) beside it: adding a setting is one line. Every
problem is collected and reported together, one line each, naming the variable and what
would be valid.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
import secrets
import types
import typing
from pathlib import Path

from flask import Flask

ENVIRONMENTS = ("development", "production", "testing")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SECRETS = ("secret_key", "token_pepper")
SECRET_ADVICE = "at least 32 random characters (e.g. openssl rand -hex 32)"
DATABASE_ADVICE = ("use postgresql+psycopg://USER:PASSWORD@HOST:5432/DATABASE or "
                   "sqlite:////path/to/tokenauth.db")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """Settings are missing or invalid; ``problems`` has one line for each, naming the
    variable and what would be valid."""

    def __init__(self, problems):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


def without_password(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***`` (for messages and repr)."""
    if not url:
        return url
    return re.sub(r"(://[^/:@]*:)[^@]*@", r"\1***@", url)


def hidden(value: str) -> str:
    return "<hidden>" if value else ""


def setting(default, *, minimum=None, maximum=None, choices=None, shown=None):
    """A field with its rules. ``shown`` gives what ``repr`` shows instead of the value."""
    return dataclasses.field(default=default, metadata={
        "minimum": minimum, "maximum": maximum, "choices": choices, "shown": shown})


def secret():
    return setting("", shown=hidden)


@dataclasses.dataclass(frozen=True, repr=False)
class Settings:
    env: str = setting("development", choices=ENVIRONMENTS)
    instance_path: str = ""  # default: Flask's instance folder of the tokenauth package
    database_url: str = setting("", shown=without_password)  # default: SQLite in the instance
    database_timeout: float = setting(3.0, minimum=0.1, maximum=3600)  # any one database wait
    # PostgreSQL: pooled connections a worker keeps (a burst may open as many again), besides
    # one per request thread for /verify and one for the revocation listener.
    database_pool_size: int = setting(5, minimum=1, maximum=100)
    secret_key: str = secret()
    token_pepper: str = secret()
    token_prefix: str = "tka"
    allow_password_auth: bool = False
    trusted_proxies: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    external_user_header: str | None = None
    default_token_days: int = setting(90, minimum=1)
    max_token_days: int | None = setting(None, minimum=1)
    last_access_resolution: int = setting(60, minimum=0)
    # Revocations reach every worker within a second (verify/changes.py), so a cached lookup
    # may live long; 300 s from make bench's TTL study (README: /verify).
    verify_cache_ttl: float = setting(300.0, minimum=0)
    verify_cache_size: int = setting(10_000, minimum=1)
    session_lifetime_minutes: int = setting(720, minimum=1)
    login_max_failures: int = setting(5, minimum=1)
    login_ip_max_failures: int = setting(20, minimum=1)
    login_lockout_seconds: int = setting(60, minimum=1)
    password_check_concurrency: int = setting(1, minimum=1)
    verify_max_failures: int = setting(30, minimum=0)  # 0: no failure throttle
    verify_failure_window: int = setting(60, minimum=1)
    redis_url: str | None = setting(None, shown=without_password)  # shared counts of replicas
    webhook_url: str | None = setting(None, shown=without_password)  # alerts (SPEC 7)
    webhook_secret: str = secret()  # HMAC-SHA256 key of the alerts' signature
    expiry_warning_days: int = setting(7, minimum=1)
    event_retention_days: int = setting(365, minimum=1)
    inactive_token_days: int | None = setting(None, minimum=1)  # unset: never revoked for it
    sweep_interval: int = setting(300, minimum=0)  # seconds between sweeps; 0: none here
    log_level: str = setting("INFO", choices=LOG_LEVELS)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def trusted_networks(self) -> tuple:
        return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in self.trusted_proxies)

    def __repr__(self) -> str:
        parts = []
        for field in dataclasses.fields(self):
            value, show = getattr(self, field.name), field.metadata.get("shown")
            parts.append(f"{field.name}={(show(value) if show else value)!r}")
        return f"Settings({', '.join(parts)})"


def variable(name: str) -> str:
    return f"TOKENAUTH_{name.upper()}"


def parse(hint, raw: str):
    """``raw`` as a value of the type ``hint``. Raises ValueError saying what is expected."""
    text = raw.strip()
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        if not text:
            return None
        [hint] = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    if hint is bool:
        if text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        raise ValueError("expected true or false (also 1/0, yes/no, on/off)")
    if hint is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError("expected a whole number") from None
    if hint is float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ValueError("expected a number")
        return value
    if hint is str:
        return text
    if typing.get_origin(hint) is tuple:
        return tuple(part.strip() for part in text.split(",") if part.strip())
    raise TypeError(f"no parser for settings of type {hint!r}")


def parse_environment(cls, environ) -> tuple[dict, list[str]]:
    """The fields of dataclass ``cls`` that ``environ`` sets, parsed by their type hints,
    and a line for each value that does not parse."""
    hints = typing.get_type_hints(cls)
    values, problems = {}, []
    for field in dataclasses.fields(cls):
        raw = environ.get(variable(field.name))
        if raw is None:
            continue
        try:
            values[field.name] = parse(hints[field.name], raw)
        except ValueError as error:
            shown = "" if field.metadata.get("shown") is hidden else f"={raw!r}"
            problems.append(f"{variable(field.name)}{shown} is not valid: {error}")
    return values, problems


def field_problems(instance) -> list[str]:
    """A line for each field of ``instance`` that breaks its minimum, maximum or choices."""
    problems = []
    for field in dataclasses.fields(instance):
        value, rules = getattr(instance, field.name), field.metadata
        low, high, choices = rules.get("minimum"), rules.get("maximum"), rules.get("choices")
        if value is None:
            continue
        if low is not None and high is not None and not low <= value <= high:
            rule = f"must be between {low} and {high}"
        elif low is not None and value < low:
            rule = f"must be at least {low}"
        elif high is not None and value > high:
            rule = f"must be at most {high}"
        elif choices is not None and value not in choices:
            rule = f"must be one of {', '.join(choices)}"
        else:
            continue
        problems.append(f"{variable(field.name)}={value!r} is not valid: {rule}")
    return problems


def load_settings(overrides: dict | None = None, environ=None) -> Settings:
    """Build settings from ``TOKENAUTH_*`` variables, then ``overrides`` (tests pass these).

    Returns a validated :class:`Settings`. Raises :class:`SettingsError` listing every
    problem. In development and testing, a missing secret is generated once into the
    instance folder.
    """
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    # Text overrides read like their variables: {"trusted_proxies": "10.0.0.0/8,::1"}.
    fields = {field.name for field in dataclasses.fields(Settings)}
    text = {variable(name): overrides.pop(name) for name, value in list(overrides.items())
            if name in fields and isinstance(value, str)}
    values, problems = parse_environment(Settings, {**environ, **text})
    values.update(overrides)
    settings = Settings(**values)
    instance = os.path.abspath(settings.instance_path or default_instance_path())
    settings = dataclasses.replace(settings, instance_path=instance)
    if settings.log_level.upper() in LOG_LEVELS:
        settings = dataclasses.replace(settings, log_level=settings.log_level.upper())
    problems += field_problems(settings) + list(_rule_problems(settings))
    if not problems:
        settings, problems = _with_instance_defaults(settings)
    if problems:
        raise SettingsError(problems)
    return settings


def default_instance_path() -> str:
    """Flask's instance folder for the tokenauth package, whatever the working directory:
    ``<project>/instance`` beside a source checkout (also an editable install), else
    ``<sys.prefix>/var/tokenauth-instance``."""
    return Flask(__name__.partition(".")[0]).instance_path


def _rule_problems(settings: Settings):
    """Rules across fields, or beyond a minimum or a choice; in field order."""
    url = settings.database_url
    if url and not url.startswith(("sqlite://", "postgresql+psycopg://")):
        yield f"TOKENAUTH_DATABASE_URL={without_password(url)!r} is not valid: {DATABASE_ADVICE}"
    for name in SECRETS:
        value = getattr(settings, name)
        if not value and settings.production:
            yield f"{variable(name)} is not set: TOKENAUTH_ENV=production needs {SECRET_ADVICE}"
        elif value and len(value) < 32:
            yield f"{variable(name)} is too short ({len(value)} characters): use {SECRET_ADVICE}"
    if not re.fullmatch(r"[a-z0-9]{1,16}", settings.token_prefix):
        yield (f"TOKENAUTH_TOKEN_PREFIX={settings.token_prefix!r} is not valid: use 1-16 "
               "lower-case letters and digits")
    for cidr in settings.trusted_proxies:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            yield (f"TOKENAUTH_TRUSTED_PROXIES: {cidr!r} is not valid: use IP addresses or "
                   "CIDRs separated by commas (e.g. 127.0.0.0/8,10.0.0.5)")
    longest = settings.max_token_days
    if longest is not None and settings.default_token_days > longest:
        yield (f"TOKENAUTH_DEFAULT_TOKEN_DAYS={settings.default_token_days} is not valid: must "
               f"not exceed TOKENAUTH_MAX_TOKEN_DAYS={settings.max_token_days}")
    redis = settings.redis_url
    if redis and not redis.startswith(("redis://", "rediss://", "unix://")):
        yield (f"TOKENAUTH_REDIS_URL={without_password(redis)!r} is not valid: use "
               "redis://HOST:6379/0, rediss://... or unix:///path/to/redis.sock")
    hook = settings.webhook_url
    if hook and not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", hook):
        yield (f"TOKENAUTH_WEBHOOK_URL={without_password(hook)!r} is not valid: use an http:// "
               "or https:// URL")
    if hook and len(settings.webhook_secret) < 32:
        yield ("TOKENAUTH_WEBHOOK_SECRET is not set or too short: TOKENAUTH_WEBHOOK_URL needs "
               f"{SECRET_ADVICE} to sign the alerts with")
    header = settings.external_user_header
    if header and not re.fullmatch(r"[A-Za-z0-9-]+", header):
        yield (f"TOKENAUTH_EXTERNAL_USER_HEADER={header!r} is not valid: use a header name of "
               "letters, digits and - (e.g. X-Forwarded-User)")


def _with_instance_defaults(settings: Settings) -> tuple[Settings, list[str]]:
    """Fill the default database and, outside production, the generated secrets; both live
    in the instance folder, which is created only when one of them is needed."""
    instance = Path(settings.instance_path)
    changes = {}
    try:
        if not settings.database_url:
            instance.mkdir(parents=True, exist_ok=True)
            changes["database_url"] = f"sqlite:///{instance / 'tokenauth.db'}"
        if not settings.production:
            # Development convenience: each secret is generated once and kept in the
            # instance folder, so restarts keep sessions and tokens valid.
            for name in SECRETS:
                if not getattr(settings, name):
                    changes[name] = _instance_secret(instance, name)
    except OSError as error:
        return settings, [f"TOKENAUTH_INSTANCE_PATH={str(instance)!r} is not usable "
                          f"({error.strerror}: {error.filename}): it must be a writable folder "
                          "for the default SQLite database and the development secrets"]
    return dataclasses.replace(settings, **changes), []


def _instance_secret(instance: Path, name: str) -> str:
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
