"""Failure counters shared by every replica through Redis (``TOKENAUTH_REDIS_URL``).

Each count is kept twice: in this server's local store (shared memory) and in Redis, which
every replica adds to. ``get`` and ``add`` answer the higher of the two, and a higher Redis
count is copied into the local store, so a lock learned from Redis is then seen by the
local checks (``peek``) of every worker without asking Redis again. ``peek`` never leaves
this server: the throttles ask Redis only on failures and before a database lookup.

Redis unreachable, slow or failing: every call has a 250 ms socket timeout and no retries;
after an error Redis is skipped for ``pause`` seconds (a circuit breaker), a warning is
logged at most once a minute, and the local counts, which were kept all along, answer
alone. So Redis going away never fails a request and never allows what the local counts
would refuse; it only narrows the count from every replica to this server's.

Redis keys are HMAC-SHA256 of the counter's name under the secret key (shared by every
replica): a typed username, which may be a password typed in the wrong field, never
reaches Redis. Needs Redis 7 (``PEXPIRE ... NX``).

Why not the ``limits`` library: it counts *requests* against a limit ("hit, then test"),
with its own per-process memory storage beside its Redis one. Both throttles here count
failures only, lock out on reaching a limit, clear a count on success, and need one local
store that the workers of a server share; that is the small :class:`CounterStore`
protocol, and in Redis it is three commands of redis-py.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .counters import Count, CounterStore

log = logging.getLogger("tokenauth")  # the app's logger, which carries the redacting filter
TIMEOUT = 0.25  # seconds, to connect and for each answer
PAUSE = 5.0  # seconds without Redis after an error
WARN_EVERY = 60.0  # seconds between warnings
KEY_PREFIX = "tokenauth:counter:"


def redis_client(url: str, timeout: float = TIMEOUT) -> redis.Redis:
    """A client that fails fast: short timeouts, no retries (the breaker decides)."""
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                retry=Retry(NoBackoff(), 0), health_check_interval=0)


class RedisCounterStore:
    """A :class:`CounterStore` shared through Redis, on top of ``local``."""

    def __init__(self, client: redis.Redis, local: CounterStore, key_secret: str,
                 clock=time.monotonic, pause: float = PAUSE):
        self.client = client
        self.local = local
        self.clock = clock
        self.pause = pause
        self._key_secret = key_secret.encode()
        self._skip_until = float("-inf")
        self._warned_at = float("-inf")
        self._failing = False
        self._lock = threading.Lock()

    def add(self, key: str, window: float) -> Count:
        here = self.local.add(key, window)
        return self._higher(key, here, self._remote(self._add, self._name(key), window))

    def get(self, key: str) -> Count:
        here = self.local.get(key)
        return self._higher(key, here, self._remote(self._get, self._name(key)))

    def peek(self, key: str) -> Count:
        return self.local.peek(key)

    def merge(self, key: str, count: Count) -> None:
        self.local.merge(key, count)

    # A lock learned from Redis raises the flag here (the throttle does, when it reads one).
    def raise_flag(self, seconds: float) -> None:
        self.local.raise_flag(seconds)

    def flag_is_up(self) -> bool:
        return self.local.flag_is_up()

    def clear(self, key: str) -> None:
        self.local.clear(key)
        self._remote(self.client.delete, self._name(key))

    def close(self) -> None:
        self.client.close()
        self.local.close()

    # -- Redis -------------------------------------------------------------------------
    def _name(self, key: str) -> str:
        digest = hmac.new(self._key_secret, key.encode(), hashlib.sha256).hexdigest()
        return KEY_PREFIX + digest[:32]

    def _add(self, name: str, window: float) -> Count:
        pipe = self.client.pipeline(transaction=True)  # MULTI: never a count without expiry
        pipe.incr(name)
        pipe.pexpire(name, max(1, int(window * 1000)), nx=True)
        pipe.pttl(name)
        hits, _, left = pipe.execute()
        return Count(int(hits), max(left, 0) / 1000)

    def _get(self, name: str) -> Count:
        pipe = self.client.pipeline(transaction=False)
        pipe.get(name)
        pipe.pttl(name)
        hits, left = pipe.execute()
        return Count(int(hits or 0), max(left, 0) / 1000)

    def _higher(self, key: str, here: Count, there: Count | None) -> Count:
        """The higher count; a higher Redis count is kept locally too."""
        if there is None or there.hits <= here.hits or there.seconds_left <= 0:
            return here
        self.local.merge(key, there)
        return there

    def _remote(self, operation, *args):
        """``operation(*args)``, or None while Redis is skipped or when it fails."""
        if self.clock() < self._skip_until:
            return None
        try:
            result = operation(*args)
        except (redis.RedisError, OSError, ValueError) as error:
            self._failed(error)
            return None
        if self._failing:
            self._failing = False
            log.info("Redis answers again: failure counts are shared by every replica")
        return result

    def _failed(self, error: Exception) -> None:
        with self._lock:
            now = self.clock()
            self._skip_until = now + self.pause
            self._failing = True
            if now - self._warned_at < WARN_EVERY:
                return
            self._warned_at = now
        # The error's class only: its text may carry the URL, and with it a password.
        log.warning("Redis unavailable (%s): failure counts are per server until it "
                    "answers; retrying in %.0f s", error.__class__.__name__, self.pause)
