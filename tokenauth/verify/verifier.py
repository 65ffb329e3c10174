"""Deciding one /verify request: credentials and client address in, identity or denial out."""
from __future__ import annotations

import functools
import hmac
import ipaddress
from datetime import datetime, timedelta
from typing import NamedTuple

from ..errors import VerifyDenied
from ..models import iso_utc, utcnow
from ..security.tokens import MalformedToken, parse, token_hasher
from .credentials import Credentials


MICROCACHE_SECONDS = 1
# Every uncached lookup of a token formats its expiry again (strftime is slow): remembered.
_iso_utc = functools.lru_cache(maxsize=4096)(iso_utc)
MICROCACHE_SPAN = timedelta(seconds=MICROCACHE_SECONDS)


class Identity(NamedTuple):  # a tuple: immutable (cached, shared by threads) and quick to make
    """Who is calling; ``headers`` are the ``X-Auth-*`` headers of the 200 (SPEC 3). Made by
    :meth:`of`, which derives them."""

    username: str
    user_id: str
    source: str
    token_id: str
    scopes: tuple
    expires_at: datetime | None
    # The answer depends on nothing but the credential and the client address, so nginx's
    # micro-cache may reuse it for a second (deploy/nginx/tokenauth-microcache.conf).
    cacheable: bool
    headers: tuple

    @classmethod
    def of(cls, username: str, user_id: str, source: str, token_id: str = "",
           scopes: tuple = (), expires_at: datetime | None = None,
           cacheable: bool = False) -> "Identity":
        headers = (("X-Auth-User", username), ("X-Auth-User-Id", user_id),
                   ("X-Auth-Token-Id", token_id), ("X-Auth-Scopes", " ".join(scopes)),
                   ("X-Auth-Source", source))
        if expires_at is not None:
            headers += (("X-Auth-Expires-At", _iso_utc(expires_at)),)
        return cls(username, user_id, source, token_id, scopes, expires_at, cacheable, headers)


class Verifier:
    """The SPEC 3 decision. Collaborators are built by the runtime:

    ``cache`` (digest -> (snapshot, identity); the revocation listener ``changes`` vouches
    for it, and says whether a lookup may be cached), ``store`` (one indexed lookup),
    ``recorder`` (last access), ``metrics``, ``password_signin(username, password,
    client_ip) -> Identity`` for Basic passwords (raises VerifyDenied), and ``throttle``
    (the failure throttle, asked again before each database lookup), ``alarms`` (canary
    presentations).
    """

    def __init__(self, pepper: str, cache, changes, store, recorder, metrics,
                 password_signin, throttle, alarms):
        self.hash_token = token_hasher(pepper)
        self.cache = cache
        self.changes = changes
        self.store = store
        self.recorder = recorder
        self.metrics = metrics
        self.password_signin = password_signin
        self.throttle = throttle
        self.alarms = alarms

    def verify(self, credentials: Credentials, client_ip: str | None,
               request: tuple | None) -> Identity:
        """The caller's identity. ``request``: ``(X-Original-Method, X-Original-URI)``, which
        a token's route rules must allow; None only where route rules do not apply (the
        management API's self-rotation). Raises VerifyDenied with the SPEC 3 reason, or
        DatabaseUnavailable."""
        if not credentials.is_token:
            self.throttle.refuse_if_locked(client_ip, before_database=True)
            return self.password_signin(credentials.username, credentials.secret, client_ip)
        token = credentials.secret  # token-shaped, at most 256 characters (read_credentials)
        digest = self.hash_token(token)
        found = self.cache.get(digest)
        if found is None:
            found = self.lookup(digest, client_ip, token)
        else:
            # Only looked-up tokens are cached, and each passed the check digits first: a
            # hit is a well-formed token, so they are not computed again.
            self.metrics.cache_lookup(hit=True)
        snap, identity = found
        # The indexed lookup found the row by equality; compare_digest re-checks in constant
        # time, so a collation or lookup quirk can never turn into an allow.
        if snap is None or not hmac.compare_digest(snap.token_hash, digest):
            raise VerifyDenied("invalid")
        now = utcnow()
        if snap.canary:  # refused like an unknown token; the event is written off the request
            self.alarms.canary_used(snap, client_ip, now)
            raise VerifyDenied("invalid")
        if credentials.username is not None and not hmac.compare_digest(
                credentials.username.encode(), snap.username.encode()):
            raise VerifyDenied("invalid")
        # models.token_status, inline (a call on every /verify): revoked, else expired once
        # expires_at <= now (SPEC 2).
        if snap.revoked_at is not None:
            raise VerifyDenied("revoked")
        if snap.expires_at is not None and snap.expires_at <= now:
            raise VerifyDenied("expired")
        if not snap.user_active:
            raise VerifyDenied("user_disabled")
        if snap.allowed_origins and not origin_allowed(client_ip, snap.allowed_origins):
            raise VerifyDenied("origin_not_allowed", status=403)
        if snap.routes and request is not None and not snap.routes.allows(*request):
            raise VerifyDenied("forbidden_scope", status=403)  # checked per request, cached too
        self.recorder.record(snap, now, client_ip)
        if identity.cacheable and snap.expires_at and snap.expires_at - now < MICROCACHE_SPAN:
            return identity._replace(cacheable=False)  # not reused past its expiry
        return identity

    def lookup(self, digest: str, client_ip: str | None, token: str) -> tuple:
        """``(snapshot, identity)`` for ``token`` (whose hash is ``digest``) from one indexed
        query, cached when it may be (a cache miss); ``(None, None)`` when no token has that
        hash. Raises VerifyDenied ``malformed`` for a token whose check digits are wrong
        and ``rate_limited`` for a locked client, both instead of a query."""
        try:
            parse(token)  # the cheapest rejection before the database
        except MalformedToken:
            raise VerifyDenied("malformed") from None
        self.metrics.cache_lookup(hit=False)  # a malformed token is no lookup, as before
        self.throttle.refuse_if_locked(client_ip, before_database=True)
        self.changes.ensure_running()  # in this process, before the first lookup is read
        read_at = self.changes.clock()
        snap = self.store.snapshot(digest)
        if snap is None:
            return None, None
        found = (snap, Identity.of(snap.username, snap.user_id, snap.source, snap.token_id,
                                   snap.scopes, snap.expires_at,
                                   cacheable=not snap.routes and not snap.allowed_origins))
        # A canary is never cached: like an unknown token, each presentation is a lookup.
        if self.changes.may_cache(read_at) and not snap.canary:
            self.cache.put(digest, found)
        return found


def origin_allowed(client_ip: str | None, networks: tuple) -> bool:
    """Whether ``client_ip`` is in one of ``networks`` (parsed by the store)."""
    if not client_ip:
        return False
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    return any(network is not None and address in network for network in networks)
