"""The periodic sweeps: expiry warnings, the inactive-token policy, event retention.

Each does a bounded amount of work per call and is safe when several workers and replicas
run it at once: a row changes only through a conditional UPDATE or DELETE that one of them
wins, and the event it records is written in that winner's transaction.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from ..models import AlertDelivery, ApiToken, Event, iso_utc, utcnow
from ..services import changes, events
from .delivery import GIVE_UP

BATCH = 100         # tokens warned or revoked per call
PRUNE_BATCH = 500   # events deleted per call


def _active(now):
    return and_(ApiToken.revoked_at.is_(None),
                or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now))


class Sweeper:
    """The sweeps over ``engine`` with ``settings``; ``forget(changes)`` drops revoked
    tokens from this worker's /verify cache (``ChangeListener.forget``)."""

    def __init__(self, engine, settings, forget=lambda found: None, clock=utcnow):
        self.engine = engine
        self.settings = settings
        self.forget = forget
        self.clock = clock

    def run(self) -> dict:
        """One round of every sweep; how many rows each changed."""
        return {"expiring_soon": self.warn_expiring(), "inactive": self.revoke_inactive(),
                "pruned": self.prune_events()}

    def warn_expiring(self, limit: int = BATCH) -> int:
        """Record ``expiring_soon`` (and queue its alert when a webhook is set) once per
        active token that expires within TOKENAUTH_EXPIRY_WARNING_DAYS. Returns how many."""
        now = self.clock()
        soon = (_active(now), ApiToken.expires_at.is_not(None),
                ApiToken.expires_at <= now + timedelta(days=self.settings.expiry_warning_days),
                ApiToken.expiry_warned_at.is_(None))
        warned = 0
        with Session(self.engine) as session:
            rows = session.execute(select(ApiToken.id, ApiToken.user_id, ApiToken.expires_at)
                                   .where(*soon).order_by(ApiToken.expires_at)
                                   .limit(limit)).all()
            for token_id, user_id, expires_at in rows:
                if self._won(session, update(ApiToken).where(ApiToken.id == token_id, *soon)
                             .values(expiry_warned_at=now)):
                    events.record(session, "expiring_soon", token_id=token_id,
                                  user_id=user_id, details={"expires_at": iso_utc(expires_at)},
                                  alert=bool(self.settings.webhook_url))
                    warned += 1
                session.commit()
        return warned

    def revoke_inactive(self, limit: int = BATCH) -> int:
        """With TOKENAUTH_INACTIVE_TOKEN_DAYS set, revoke active tokens unused (last access,
        or creation when never used) for that long, each with a ``revoked`` event by the
        system (actor None). Canary tokens are never used by design and are kept. Returns
        how many were revoked."""
        days = self.settings.inactive_token_days
        if not days:
            return 0
        now = self.clock()
        last_used = func.coalesce(ApiToken.last_accessed_at, ApiToken.created_at)
        idle = (_active(now), ApiToken.canary.is_(False),
                last_used < now - timedelta(days=days))
        revoked = 0
        with Session(self.engine) as session:
            rows = session.execute(select(ApiToken.id, ApiToken.user_id).where(*idle)
                                   .order_by(ApiToken.created_at).limit(limit)).all()
            for token_id, user_id in rows:
                # The condition is checked again by the UPDATE: a token used since the
                # SELECT, or revoked by another sweeper, is left alone.
                if self._won(session, update(ApiToken).where(ApiToken.id == token_id, *idle)
                             .values(revoked_at=now)):
                    changes.publish(session, token_id=token_id)
                    events.record(session, "revoked", token_id=token_id, user_id=user_id,
                                  actor=None, details={"reason": "inactive",
                                                       "inactive_days": days})
                    revoked += 1
                session.commit()
                self.forget(changes.committed(session))
        return revoked

    def prune_events(self, limit: int = PRUNE_BATCH) -> int:
        """Delete up to ``limit`` events older than TOKENAUTH_EVENT_RETENTION_DAYS with their
        outbox rows, except those whose alert is still being retried. Returns how many."""
        now = self.clock()
        retrying = exists().where(AlertDelivery.event_id == Event.id,
                                  AlertDelivery.delivered_at.is_(None),
                                  AlertDelivery.created_at > now - GIVE_UP)
        cutoff = now - timedelta(days=self.settings.event_retention_days)
        with Session(self.engine) as session:
            ids = list(session.scalars(select(Event.id).where(Event.at < cutoff, ~retrying)
                                       .order_by(Event.at).limit(limit)))
            if not ids:
                return 0
            session.execute(delete(AlertDelivery).where(AlertDelivery.event_id.in_(ids)))
            pruned = session.execute(delete(Event).where(Event.id.in_(ids))).rowcount
            session.commit()
        return pruned

    @staticmethod
    def _won(session: Session, statement) -> bool:
        result = session.execute(statement, execution_options={"synchronize_session": False})
        return result.rowcount == 1
