"""Per-app state, built once in ``create_app``: settings, the /verify machinery (cache,
store, last-access recorder, verifier, failure throttle), metrics, the failure counters
behind both throttles, and the password sign-in (its lockout counts and its cap on
concurrent password checks). Building is all it
does; the blueprints and the /verify endpoint get what they need through ``init_app``."""
from __future__ import annotations

import dataclasses

from flask import current_app

from .auth.signin import PasswordSignIn
from .database import call_deadline
from .extensions import db
from .housekeeping.delivery import Deliverer
from .housekeeping.sweeps import Sweeper
from .housekeeping.worker import Housekeeper
from .ops.metrics import Metrics
from .proxy import TrustedProxies
from .security.counters import CounterStore
from .security.login_limiter import LoginLimiter
from .security.redis_counters import RedisCounterStore, redis_client
from .security.shared_memory import open_server_counters
from .services.tokens import TokenService
from .services import changes
from .settings import Settings
from .verify.alarms import Alarms
from .verify.cache import VerifyCache
from .verify.changes import ChangeListener
from .verify.last_access import LastAccessRecorder
from .verify.password_signin import BasicPasswordAuth
from .verify.store import TokenStore
from .verify.throttle import FailureThrottle
from .verify.verifier import Verifier


@dataclasses.dataclass
class Runtime:
    settings: Settings
    proxies: TrustedProxies
    metrics: Metrics
    counters: CounterStore  # failure counts of both throttles: per server, or via Redis
    throttle: FailureThrottle  # /verify failures per client IP
    signin: PasswordSignIn  # password sign-ins: web login, API Basic, /verify
    cache: VerifyCache
    changes: ChangeListener
    store: TokenStore
    recorder: LastAccessRecorder
    verifier: Verifier
    housekeeper: Housekeeper  # alerts and sweeps, in a thread (start_background)
    alarms: Alarms  # new origins and canary uses, for the audit trail

    @classmethod
    def build(cls, app, settings: Settings) -> Runtime:
        """Everything per app; ``app`` must have its database bound."""
        with app.app_context():
            engine = db.engine
        metrics = Metrics()
        counters = open_server_counters()
        if settings.redis_url:
            counters = RedisCounterStore(redis_client(settings.redis_url), counters,
                                         settings.secret_key)
        throttle = FailureThrottle(counters, settings.verify_max_failures,
                                   settings.verify_failure_window)
        signin = PasswordSignIn(LoginLimiter(settings.login_max_failures,
                                             settings.login_ip_max_failures,
                                             settings.login_lockout_seconds, counters),
                                settings.password_check_concurrency, settings.secret_key)
        cache = VerifyCache(settings.verify_cache_ttl, settings.verify_cache_size)
        call_seconds = call_deadline(settings.database_timeout)
        listener = ChangeListener(engine, cache, call_seconds)
        store = TokenStore(engine, call_seconds)
        alarms = Alarms(engine, alert=bool(settings.webhook_url))
        recorder = LastAccessRecorder(settings.last_access_resolution, store, metrics, alarms)
        verifier = Verifier(settings.token_pepper, cache, listener, store, recorder, metrics,
                            BasicPasswordAuth(app, signin), throttle, alarms)
        deliverer = (Deliverer(engine, settings.webhook_url, settings.webhook_secret)
                     if settings.webhook_url else None)
        housekeeper = Housekeeper(deliverer, Sweeper(engine, settings, listener.forget),
                                  sweep_every=settings.sweep_interval)
        return cls(settings, TrustedProxies(settings.trusted_networks), metrics, counters,
                   throttle, signin, cache, listener, store, recorder, verifier, housekeeper,
                   alarms)

    def tokens(self) -> TokenService:
        return TokenService(db.session, self.settings)

    def commit(self) -> None:
        """Commit a management change; what it revoked or disabled is dropped from this
        worker's cache at once (other workers and replicas: their ChangeListener)."""
        db.session.commit()
        self.changes.forget(changes.committed(db.session))

    def flush_last_access(self) -> int:
        """Write pending last-access times; called on graceful shutdown."""
        return self.recorder.flush()

    def start_background(self) -> None:
        """Start this worker's housekeeping thread (alert delivery, sweeps): the gunicorn
        worker hook calls it; tests call it or drive the parts directly."""
        self.housekeeper.start()

    def close(self) -> None:
        """Stop the housekeeping, publish the last metrics and release the /verify
        connections and the counters (worker exit, tests)."""
        self.housekeeper.close()
        self.metrics.close()
        self.alarms.close()
        self.changes.close()
        self.store.close()
        self.counters.close()


def current_runtime() -> Runtime:
    return current_app.extensions["tokenauth"]
