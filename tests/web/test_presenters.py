"""Presenters: UTC strings for <time> elements and the expiration choices."""
from datetime import datetime, timedelta, timezone

import pytest

from tokenauth.settings import Settings
from tokenauth.web.presenters import ExpiryChoices, iso_utc, utc_text

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_times_are_utc_whatever_the_offset():
    value = datetime(2027, 1, 1, 2, 30, tzinfo=timezone(timedelta(hours=2)))
    assert iso_utc(value) == "2027-01-01T00:30:00Z"
    assert utc_text(value) == "2027-01-01 00:30 UTC"
    assert iso_utc(None) == "" and utc_text(None) == ""


@pytest.mark.parametrize("default, maximum, presets, never, max_date", [
    (90, None, (30, 60, 90), True, ""),
    (30, None, (30, 60, 90), True, ""),
    (7, None, (7, 30, 60, 90), True, ""),
    (45, 60, (30, 45, 60), False, "2026-04-30"),
    (10, 20, (10,), False, "2026-03-21"),
])
def test_expiry_choices_follow_the_settings(default, maximum, presets, never, max_date):
    settings = Settings(default_token_days=default, max_token_days=maximum)
    choices = ExpiryChoices.from_settings(settings, NOW)
    assert choices.presets == presets
    assert choices.default_days == default
    assert choices.allow_never is never
    assert choices.min_date == "2026-03-02"
    assert choices.max_date == max_date
