"""Typed settings built once from ``TOKENAUTH_*`` variables and validated at start-up."""
from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import secrets
from pathlib import Path


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclasses.dataclass(frozen=True)
class Settings:
    env: str = "development"
    instance_path: str = ""
    database_url: str = ""
    # Kept out of repr(), so printing or logging the settings never shows them.
    secret_key: str = dataclasses.field(default="", repr=False)
    token_pepper: str = dataclasses.field(default="", repr=False)
    token_prefix: str = "tka"
    allow_password_auth: bool = False
    trusted_proxies: tuple = ("127.0.0.0/8", "::1/128")
    external_user_header: str | None = None
    default_token_days: int = 90
    max_token_days: int | None = None
    last_access_resolution: int = 60
    verify_cache_ttl: float = 2.0
    verify_cache_size: int = 10_000
    session_lifetime_minutes: int = 720
    login_max_failures: int = 5
    login_ip_max_failures: int = 20
    login_lockout_seconds: int = 60
    password_check_concurrency: int = 1
    verify_max_failures: int = 30
    verify_failure_window: int = 60
    redis_url: str | None = dataclasses.field(default=None, repr=False)  # may hold a password
    log_level: str = "INFO"

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def trusted_networks(self) -> tuple:
        return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in self.trusted_proxies)


def _parse(field: dataclasses.Field, raw: str):
    name = f"TOKENAUTH_{field.name.upper()}"
    kind = field.type
    try:
        if kind == "bool":
            value = raw.strip().lower()
            if value in _TRUE:
                return True
            if value in _FALSE:
                return False
            raise ValueError("expected true or false")
        if kind == "int":
            return int(raw)
        if kind == "int | None":
            return int(raw) if raw.strip() else None
        if kind == "float":
            return float(raw)
        if kind == "tuple":
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        if kind == "str | None":
            return raw.strip() or None
        return raw
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is invalid: {exc}") from None


def load_settings(overrides: dict | None = None, environ=None) -> Settings:
    """Build settings from ``TOKENAUTH_*`` variables, then ``overrides`` (tests pass these).

    Returns a validated :class:`Settings`. Raises :class:`SettingsError` naming the variable.
    """
    environ = os.environ if environ is None else environ
    values = {}
    for field in dataclasses.fields(Settings):
        raw = environ.get(f"TOKENAUTH_{field.name.upper()}")
        if raw is not None:
            values[field.name] = _parse(field, raw)
    values.update(overrides or {})
    settings = Settings(**values)
    settings = _fill_defaults(settings)
    _validate(settings)
    return settings


def _fill_defaults(settings: Settings) -> Settings:
    instance = Path(settings.instance_path or Path.cwd() / "instance").resolve()
    changes = {"instance_path": str(instance)}
    if not settings.database_url:
        changes["database_url"] = f"sqlite:///{instance / 'tokenauth.db'}"
    if not settings.production:
        # Development convenience: generate each secret once and keep it in the instance
        # folder, so restarts keep sessions and tokens valid.
        for name in ("secret_key", "token_pepper"):
            if not getattr(settings, name):
                changes[name] = _instance_secret(instance, name)
    return dataclasses.replace(settings, **changes)


def _instance_secret(instance: Path, name: str) -> str:
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _validate(settings: Settings) -> None:
    if settings.env not in ("development", "production", "testing"):
        raise SettingsError("TOKENAUTH_ENV must be development, production or testing")
    for name in ("secret_key", "token_pepper"):
        value = getattr(settings, name)
        if not value:
            raise SettingsError(f"TOKENAUTH_{name.upper()} must be set when TOKENAUTH_ENV=production")
        if len(value) < 32:
            raise SettingsError(f"TOKENAUTH_{name.upper()} must be at least 32 characters")
    if not re.fullmatch(r"[a-z0-9]{1,16}", settings.token_prefix):
        raise SettingsError("TOKENAUTH_TOKEN_PREFIX must be 1-16 characters of [a-z0-9]")
    try:
        settings.trusted_networks
    except ValueError as exc:
        raise SettingsError(f"TOKENAUTH_TRUSTED_PROXIES is invalid: {exc}") from None
    if settings.default_token_days < 1:
        raise SettingsError("TOKENAUTH_DEFAULT_TOKEN_DAYS must be at least 1")
    if settings.max_token_days is not None:
        if settings.max_token_days < 1:
            raise SettingsError("TOKENAUTH_MAX_TOKEN_DAYS must be at least 1")
        if settings.default_token_days > settings.max_token_days:
            raise SettingsError("TOKENAUTH_DEFAULT_TOKEN_DAYS must not exceed TOKENAUTH_MAX_TOKEN_DAYS")
    if settings.last_access_resolution < 0:
        raise SettingsError("TOKENAUTH_LAST_ACCESS_RESOLUTION must be >= 0")
    for name in ("login_max_failures", "login_ip_max_failures", "login_lockout_seconds",
                 "password_check_concurrency"):
        if getattr(settings, name) < 1:
            raise SettingsError(f"TOKENAUTH_{name.upper()} must be at least 1")
    if settings.verify_max_failures < 0:
        raise SettingsError("TOKENAUTH_VERIFY_MAX_FAILURES must be >= 0 (0 = off)")
    if settings.verify_failure_window < 1:
        raise SettingsError("TOKENAUTH_VERIFY_FAILURE_WINDOW must be at least 1")
    if settings.redis_url and not settings.redis_url.startswith(("redis:", "rediss:", "unix:")):
        raise SettingsError("TOKENAUTH_REDIS_URL must be a redis://, rediss:// or unix:// URL")
    if settings.session_lifetime_minutes < 1:
        raise SettingsError("TOKENAUTH_SESSION_LIFETIME_MINUTES must be at least 1")
    if settings.verify_cache_ttl < 0:
        raise SettingsError("TOKENAUTH_VERIFY_CACHE_TTL must be >= 0")
    if settings.verify_cache_size < 1:
        raise SettingsError("TOKENAUTH_VERIFY_CACHE_SIZE must be at least 1")
    if settings.external_user_header and not re.fullmatch(r"[A-Za-z0-9-]+", settings.external_user_header):
        raise SettingsError("TOKENAUTH_EXTERNAL_USER_HEADER must be a header name")
    if not settings.database_url.startswith(("sqlite:", "postgresql")):
        raise SettingsError("TOKENAUTH_DATABASE_URL must be a sqlite:// or postgresql+psycopg:// URL")
