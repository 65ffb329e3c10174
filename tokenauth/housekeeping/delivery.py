"""Delivering queued alerts to ``TOKENAUTH_WEBHOOK_URL`` (SPEC 7).

The ``alert_outbox`` table is the queue, so a restart loses nothing. A worker first claims
due rows by setting ``claimed_until`` (a lease): on PostgreSQL the candidates are read with
``FOR UPDATE SKIP LOCKED``, so concurrent claimers never wait on each other; on both
databases the claim is a conditional UPDATE that only one claimer can win (rowcount 1). A
claim whose worker died expires and is claimed again. The outcome is written only while the
claim is still ours.

Each POST carries the stored body byte for byte, ``X-Tokenauth-Event-Id`` and
``X-Tokenauth-Signature: sha256=<hex HMAC-SHA256(secret, body)>``. A 2xx delivers it;
anything else is retried after ``retry_delay``: 5 s doubling up to 1 h, times a random
factor in [0.5, 1), for GIVE_UP (72 h) after the event; then the row is left with its last
error (it is kept, never claimed again).
"""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import http.client
import logging
import random
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from ..models import AlertDelivery, utcnow

log = logging.getLogger(__name__)
BATCH = 10                 # rows claimed at a time
TIMEOUT = 5.0              # seconds per POST (connect and read)
LEASE = timedelta(seconds=BATCH * TIMEOUT + 30)  # a claim outlives a batch of timeouts
FIRST_RETRY = 5.0          # seconds after the first failure
MAX_RETRY = 3600.0         # the longest wait between two attempts
GIVE_UP = timedelta(hours=72)  # retried at least this long after the event (SPEC 7: 24 h)
USER_AGENT = "tokenauth-webhook"


class DeliveryFailed(Exception):
    """The receiver did not take the alert; the message says why (never a secret)."""


def signature(secret: str, body: bytes) -> str:
    """The ``X-Tokenauth-Signature`` value of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_delay(attempts: int, rand=random.random) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: exponential with jitter."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), MAX_RETRY) * (0.5 + rand() / 2)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect would turn the POST into a GET
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: bytes, headers: dict, timeout: float) -> None:
    """POST ``body`` to ``url``. Raises DeliveryFailed unless the answer is 2xx."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(65536)
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (OSError, ValueError, http.client.HTTPException) as error:
        # refused, reset, timed out, a bad URL, an answer that is not HTTP
        reason = getattr(error, "reason", None) or error
        raise DeliveryFailed(f"{error.__class__.__name__}: {reason}"[:200]) from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status}")


@dataclasses.dataclass(frozen=True)
class Claim:
    event_id: str
    body: str
    attempts: int
    created_at: datetime
    lease: datetime  # our claimed_until: the outcome is written only while it is still ours


class Deliverer:
    """Claims due alerts and POSTs them. ``clock``, ``send`` (``post``'s signature) and
    ``delay`` (``retry_delay``) are injectable for tests."""

    def __init__(self, engine, url: str, secret: str, *, clock=utcnow, send=post,
                 delay=retry_delay, timeout: float = TIMEOUT):
        self.engine = engine
        self.url = url
        self.secret = secret
        self.clock = clock
        self.send = send
        self.delay = delay
        self.timeout = timeout
        self.postgres = engine.dialect.name == "postgresql"

    def deliver_due(self, limit: int = BATCH) -> int:
        """Claim up to ``limit`` due alerts and attempt each once; returns how many were
        attempted (delivered or not)."""
        claims = self.claim(limit)
        for claim in claims:
            self.attempt(claim)
        return len(claims)

    def claim(self, limit: int = BATCH) -> list[Claim]:
        """Claim up to ``limit`` due alerts for this worker: undelivered, due, not claimed
        (or the claim expired), and not older than GIVE_UP."""
        now = self.clock()
        lease = now + LEASE
        table = AlertDelivery
        due = (table.delivered_at.is_(None), table.next_attempt_at <= now,
               table.created_at > now - GIVE_UP,
               or_(table.claimed_until.is_(None), table.claimed_until < now))
        claims = []
        with self.engine.begin() as connection:
            rows = connection.execute(
                select(table.event_id, table.body, table.attempts, table.created_at)
                .where(*due).order_by(table.next_attempt_at).limit(limit)
                .with_for_update(skip_locked=True)).all()  # PostgreSQL; SQLite ignores it
            for event_id, body, attempts, created_at in rows:
                won = connection.execute(
                    update(table).where(table.event_id == event_id, *due)
                    .values(claimed_until=lease)).rowcount == 1
                if won:
                    claims.append(Claim(event_id, body, attempts, created_at, lease))
        return claims

    def attempt(self, claim: Claim) -> bool:
        """POST one claimed alert and record the outcome; True when it was delivered."""
        body = claim.body.encode("utf-8")
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   "X-Tokenauth-Event-Id": claim.event_id,
                   "X-Tokenauth-Signature": signature(self.secret, body)}
        try:
            self.send(self.url, body, headers, self.timeout)
        except DeliveryFailed as failure:
            self._failed(claim, str(failure))
            return False
        self._record(claim, delivered_at=self.clock(), attempts=claim.attempts + 1,
                     last_error=None)
        return True

    def _failed(self, claim: Claim, error: str) -> None:
        attempts = claim.attempts + 1
        now = self.clock()
        next_at = now + timedelta(seconds=self.delay(attempts))
        if next_at >= claim.created_at + GIVE_UP:
            error = f"gave up after {attempts} attempts: {error}"[:200]
            log.warning("alert %s not delivered; %s", claim.event_id, error)
        else:
            log.info("alert %s not delivered (attempt %d: %s); next attempt at %s",
                     claim.event_id, attempts, error, next_at.isoformat())
        self._record(claim, attempts=attempts, next_attempt_at=next_at, last_error=error)

    def _record(self, claim: Claim, **values) -> None:
        table = AlertDelivery
        with self.engine.begin() as connection:
            connection.execute(update(table).where(table.event_id == claim.event_id,
                                                   table.claimed_until == claim.lease)
                               .values(claimed_until=None, **values))
