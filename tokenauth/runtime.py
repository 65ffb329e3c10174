"""Per-app state: settings, the worker's verify cache, last-access recorder, metrics and
password sign-in (its lockout counts and its cap on concurrent password checks)."""
from __future__ import annotations

import dataclasses

from flask import current_app

from .auth.signin import PasswordSignIn
from .extensions import db
from .ops.metrics import Metrics
from .security.login_limiter import LoginLimiter
from .services.tokens import TokenService
from .settings import Settings
from .verify.cache import VerifyCache
from .verify.last_access import LastAccessRecorder
from .verify.verifier import Verifier


@dataclasses.dataclass
class Runtime:
    settings: Settings
    cache: VerifyCache
    recorder: LastAccessRecorder
    metrics: Metrics
    signin: PasswordSignIn  # password sign-ins: web login, API Basic, /verify

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        return cls(settings, VerifyCache(settings.verify_cache_ttl),
                   LastAccessRecorder(settings.last_access_resolution), Metrics(),
                   PasswordSignIn(LoginLimiter(settings.login_max_failures,
                                               settings.login_ip_max_failures,
                                               settings.login_lockout_seconds),
                                  settings.password_check_concurrency, settings.secret_key))

    def verifier(self) -> Verifier:
        return Verifier(db.session, self.settings, self.cache, self.recorder, self.metrics,
                        self.signin)

    def tokens(self) -> TokenService:
        return TokenService(db.session, self.settings)

    def commit(self) -> None:
        """Commit a management change and forget cached lookups, so a revocation or a
        disabled user is refused at once on this worker (other workers: within the TTL)."""
        db.session.commit()
        self.cache.clear()

    def flush_last_access(self) -> int:
        """Write pending last-access times; called on graceful shutdown."""
        return self.verifier().flush_pending()


def current_runtime() -> Runtime:
    return current_app.extensions["tokenauth"]
