"""Per-app state, built once in ``create_app``: settings, the /verify machinery (cache,
store, last-access recorder, verifier), metrics and the password sign-in (its lockout
counts and its cap on concurrent password checks). Building is all it
does; the blueprints and the /verify endpoint get what they need through ``init_app``."""
from __future__ import annotations

import dataclasses

from flask import current_app

from .auth.signin import PasswordSignIn
from .database import call_deadline
from .extensions import db
from .ops.metrics import Metrics
from .proxy import TrustedProxies
from .security.login_limiter import LoginLimiter
from .services.tokens import TokenService
from .settings import Settings
from .services import changes
from .verify.cache import VerifyCache
from .verify.changes import ChangeListener
from .verify.last_access import LastAccessRecorder
from .verify.password_signin import BasicPasswordAuth
from .verify.store import TokenStore
from .verify.verifier import Verifier


@dataclasses.dataclass
class Runtime:
    settings: Settings
    proxies: TrustedProxies
    metrics: Metrics
    signin: PasswordSignIn  # password sign-ins: web login, API Basic, /verify
    cache: VerifyCache
    changes: ChangeListener
    store: TokenStore
    recorder: LastAccessRecorder
    verifier: Verifier

    @classmethod
    def build(cls, app, settings: Settings) -> Runtime:
        """Everything per app; ``app`` must have its database bound."""
        with app.app_context():
            engine = db.engine
        metrics = Metrics()
        signin = PasswordSignIn(LoginLimiter(settings.login_max_failures,
                                             settings.login_ip_max_failures,
                                             settings.login_lockout_seconds),
                                settings.password_check_concurrency, settings.secret_key)
        cache = VerifyCache(settings.verify_cache_ttl, settings.verify_cache_size)
        call_seconds = call_deadline(settings.database_timeout)
        listener = ChangeListener(engine, cache, call_seconds)
        store = TokenStore(engine, call_seconds)
        recorder = LastAccessRecorder(settings.last_access_resolution, store, metrics)
        verifier = Verifier(settings.token_pepper, cache, listener, store, recorder, metrics,
                            BasicPasswordAuth(app, signin))
        return cls(settings, TrustedProxies(settings.trusted_networks), metrics, signin,
                   cache, listener, store, recorder, verifier)

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

    def close(self) -> None:
        """Publish the last metrics and release the /verify connections (worker exit, tests)."""
        self.metrics.close()
        self.changes.close()
        self.store.close()


def current_runtime() -> Runtime:
    return current_app.extensions["tokenauth"]
