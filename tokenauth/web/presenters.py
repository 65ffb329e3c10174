"""What the templates show: UTC times for ``<time>`` elements and the expiration choices."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

from .. import models
from ..settings import Settings

PRESET_DAYS = (30, 60, 90)
STATUSES = ("active", "expired", "revoked")
# What /tokens shows first: the tokens that work. Revoked and expired ones are a click away.
DEFAULT_STATUS = "active"


def expiring_before(settings: Settings, now: datetime) -> datetime:
    """Active tokens expiring before this moment get an "expires soon" badge."""
    return now + timedelta(days=settings.expiry_warning_days)


def iso_utc(value: datetime | None) -> str:
    """``2026-11-28T03:00:00Z``, as in the JSON API; the browser localises it."""
    return models.iso_utc(value) or ""


def utc_text(value: datetime | None) -> str:
    """``2026-11-28 03:00 UTC``: what a browser without JavaScript shows."""
    if value is None:
        return ""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@dataclasses.dataclass(frozen=True)
class ExpiryChoices:
    """The Add Token dialog's expiration select: presets in days, the default preset,
    whether "No expiration" is offered, and the date range of the custom date input (no
    latest date without a maximum lifetime)."""

    presets: tuple
    default_days: int
    allow_never: bool
    max_days: int | None
    min_date: str
    max_date: str

    @classmethod
    def from_settings(cls, settings: Settings, now: datetime | None = None) -> ExpiryChoices:
        now = now or datetime.now(timezone.utc)
        limit = settings.max_token_days
        presets = sorted({*PRESET_DAYS, settings.default_token_days})
        presets = tuple(days for days in presets if limit is None or days <= limit)
        latest = (now + timedelta(days=limit)).date().isoformat() if limit else ""
        return cls(presets, settings.default_token_days, limit is None, limit,
                   (now + timedelta(days=1)).date().isoformat(), latest)
