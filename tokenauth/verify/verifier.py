"""Deciding one /verify request: credentials and client address in, identity or denial out."""
from __future__ import annotations

import dataclasses
import hmac
import ipaddress

from ..auth.signin import PasswordSignIn
from ..errors import AuthenticationFailed, LockedOut, SignInBusy, VerifyDenied
from ..models import token_status, utcnow
from ..ops.metrics import Metrics
from ..security.tokens import MalformedToken, parse, token_hash
from ..services.tokens import TokenService
from .cache import VerifyCache
from .credentials import Credentials
from .last_access import LastAccessRecorder


@dataclasses.dataclass(frozen=True)
class Identity:
    """Who is calling; becomes the ``X-Auth-*`` headers of a 200."""

    username: str
    user_id: str
    source: str
    token_id: str = ""
    scopes: tuple = ()


class Verifier:
    def __init__(self, session, settings, cache: VerifyCache, recorder: LastAccessRecorder,
                 metrics: Metrics, signin: PasswordSignIn):
        self.session = session
        self.settings = settings
        self.cache = cache
        self.recorder = recorder
        self.metrics = metrics
        self.signin = signin

    def verify(self, credentials: Credentials, client_ip: str | None) -> Identity:
        """The caller's identity. Raises VerifyDenied with the SPEC 3 reason."""
        if not credentials.is_token:
            return self._verify_password(credentials, client_ip)
        try:
            token = parse(credentials.secret)  # cheapest rejection: no database
        except MalformedToken:
            raise VerifyDenied("malformed") from None
        digest = token_hash(self.settings.token_pepper, token)
        snap = self.lookup(digest)
        # The indexed lookup found the row by equality; compare_digest re-checks in constant
        # time, so a collation or lookup quirk can never turn into an allow.
        if snap is None or not hmac.compare_digest(snap.token_hash, digest):
            raise VerifyDenied("invalid")
        if credentials.username is not None and not hmac.compare_digest(
                credentials.username.encode(), snap.username.encode()):
            raise VerifyDenied("invalid")
        now = utcnow()
        status = token_status(snap.revoked_at, snap.expires_at, now)
        if status != "active":
            raise VerifyDenied(status)
        if not snap.user_active:
            raise VerifyDenied("user_disabled")
        if snap.allowed_origins and not origin_allowed(client_ip, snap.allowed_origins):
            raise VerifyDenied("origin_not_allowed", status=403)
        self._record_access(snap, now, client_ip)
        return Identity(snap.username, snap.user_id, snap.source, snap.token_id, snap.scopes)

    def lookup(self, digest: str):
        """The token snapshot for ``digest``: from the cache, else one indexed query."""
        snap = self.cache.get(digest)
        self.metrics.cache_lookup(hit=snap is not None)
        if snap is not None:
            return snap
        snap = TokenService(self.session, self.settings).snapshot(digest)
        if snap is not None:
            self.cache.put(digest, snap)
        return snap

    def _record_access(self, snap, now, client_ip) -> None:
        if self.recorder.is_due(snap, now, client_ip):
            TokenService(self.session, self.settings).record_access(snap.token_id, now, client_ip)
            self.recorder.written(snap.token_id, now, client_ip)

    def flush_pending(self) -> int:
        """Write the coalesced last uses (graceful shutdown). Returns how many."""
        pending = self.recorder.take_pending()
        service = TokenService(self.session, self.settings)
        for token_id, at, origin in pending:
            service.record_access(token_id, at, origin)
        return len(pending)

    def _verify_password(self, credentials: Credentials, client_ip: str | None) -> Identity:
        try:
            user = self.signin.sign_in(self.session, credentials.username, credentials.secret,
                                       client_ip, via="verify")
        except LockedOut as locked:
            raise VerifyDenied("rate_limited", retry_after=locked.retry_after) from None
        except SignInBusy:  # nothing is locked: no Retry-After
            raise VerifyDenied("rate_limited") from None
        except AuthenticationFailed:  # a disabled user's right password too
            raise VerifyDenied("invalid") from None
        return Identity(user.username, user.id, user.source)


def origin_allowed(client_ip: str | None, allowed: tuple) -> bool:
    if not client_ip:
        return False
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network) for network in allowed)
