"""Fixtures for the background work: an empty audit trail and outbox per test (the tables
outlive other tests' users and tokens), a controllable clock, a webhook receiver."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete

from tokenauth.extensions import db
from tokenauth.models import AlertDelivery, Event

from .receiver import receiver

SECRET = "webhook-secret-" + "s" * 32


@pytest.fixture(autouse=True)
def empty_trail(app):
    db.session.execute(delete(AlertDelivery))
    db.session.execute(delete(Event))
    db.session.commit()


class Clock:
    """``now`` that a test moves forward."""

    def __init__(self, start: datetime | None = None):
        # A second ahead: what the test records just before (at the real time) is due.
        self.now = start or datetime.now(timezone.utc) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now

    def catch_up(self) -> datetime:
        """A second ahead of the real time again: all recorded so far is due (recording
        many alerts can take longer than the first second on a busy machine)."""
        self.now = max(self.now, datetime.now(timezone.utc) + timedelta(seconds=1))
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def webhook():
    with receiver(fail_first=0) as target:
        yield target
