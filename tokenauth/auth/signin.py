"""Password sign-in: the one path for the web login, API Basic and /verify with passwords.

In order, cheapest refusal first:

1. while the username + address, or the address alone, is locked out: refused, no check;
2. when this worker already runs ``TOKENAUTH_PASSWORD_CHECK_CONCURRENCY`` password checks
   (argon2id: ~250 ms on every core each): refused at once, no check. A flood of sign-ins
   thus never occupies the threads that answer /verify, and nothing here ever sleeps;
3. the check. A wrong password, an unknown user, an external user (no password here) and a
   disabled user's right password all fail alike (answer, log line, count).

Failed sign-ins are logged with a short keyed hash of the typed username, never the typed
text: people type passwords into the username field.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import threading

from sqlalchemy.orm import Session

from .. import rules
from ..errors import AuthenticationFailed, LockedOut, SignInBusy
from ..models import User
from ..security import passwords
from ..security.login_limiter import LoginLimiter
from ..services import users

log = logging.getLogger("tokenauth")  # the app's logger, which carries the redacting filter


def username_tag(key: str, username: str) -> str:
    """The first 12 hex digits of HMAC-SHA256(key, username in lower case): the same typed
    name gives the same tag, so attempts correlate, but the log never shows what was typed."""
    name = username.strip().lower().encode("utf-8", "replace")
    return hmac.new(key.encode(), name, hashlib.sha256).hexdigest()[:12]


class PasswordSignIn:
    """Throttled, capped password sign-in; one per worker. The cap on checks is this
    worker's; the failure counts are the limiter's store (per server, or shared by replicas)."""

    def __init__(self, limiter: LoginLimiter, concurrency: int, log_key: str):
        self.limiter = limiter
        self.concurrency = concurrency
        self.log_key = log_key
        self._checks = threading.BoundedSemaphore(concurrency)

    def sign_in(self, session: Session, username: str, password: str,
                client_ip: str | None, via: str) -> User:
        """The active internal user whose password this is. ``via`` names the caller in logs.

        Raises LockedOut (with ``retry_after``) while locked out, or when this failure
        starts a lockout; SignInBusy when the worker's password checks are all taken;
        AuthenticationFailed for any other failure, whatever its reason.
        """
        tag = username_tag(self.log_key, username)
        locked = self.limiter.locked_for(username, client_ip)
        if locked is not None:
            log.warning("sign-in refused while locked out: user=%s client=%s via=%s "
                        "retry_after=%d", tag, client_ip, via, locked)
            raise LockedOut(locked)
        if not self._checks.acquire(blocking=False):
            log.info("sign-in refused, too many being checked: user=%s client=%s via=%s",
                     tag, client_ip, via)
            raise SignInBusy()
        try:
            user = self._check(session, username, password)
        finally:
            self._checks.release()
        if user is not None:
            self.limiter.succeeded(username, client_ip)
            return user
        failure = self.limiter.failed(username, client_ip)
        log.warning(
            "sign-in failed: user=%s client=%s via=%s failure %d of %d, %d of %d from this "
            "address%s", tag, client_ip, via, failure.failures, self.limiter.max_failures,
            failure.address_failures, self.limiter.ip_max_failures,
            f", locked out for {failure.lockout} s" if failure.lockout else "")
        if failure.lockout:
            raise LockedOut(failure.lockout)
        raise AuthenticationFailed("invalid username or password")

    @staticmethod
    def _check(session: Session, username: str, password: str) -> User | None:
        user = users.find_user(session, username) if rules.USERNAME.accepts(username) else None
        # Checked against a dummy hash when there is none: every failure costs the same.
        matches = passwords.verify_password(password, user.password_hash if user else None)
        if matches and user.active and user.source == "internal":
            return user
        return None
