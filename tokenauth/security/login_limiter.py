"""Counting failed sign-ins and locking out whoever makes too many.

Two limits, both over failures only (an attempt still being checked counts for nothing, so
correct passwords in parallel are never refused for it):

- per (username, client IP): ``max_failures``. Keyed on the pair, so a stranger cannot
  lock a user out from another address;
- per client IP: ``ip_max_failures`` whatever the usernames, so made-up usernames cannot
  dodge the first limit.

Failures are counted in a window of ``lockout_seconds`` from the first one; reaching a
limit locks that key for ``lockout_seconds``. A lock is the only thing that refuses an
attempt, and the only thing that yields a Retry-After.

The counts live in a :class:`~.counters.CounterStore` under ``login:`` keys: the server's
shared store in the app, shared by its workers (and by replicas through Redis), so the
limits hold per server, not per worker. Nothing here knows Flask.
"""
from __future__ import annotations

import dataclasses
import math

from .counters import CounterStore, MemoryCounterStore

FAIL, LOCK = "login:fail:", "login:lock:"


@dataclasses.dataclass(frozen=True)
class Failure:
    """A counted failure: the counts in their windows, and the lockout it started (seconds)."""

    failures: int
    address_failures: int
    lockout: int | None


class LoginLimiter:
    """Failed sign-ins per (username, client IP) and per client IP, and their lockouts.

    Use: ``locked_for(username, ip)``; when None, check the password, then ``succeeded`` or
    ``failed``.
    """

    def __init__(self, max_failures: int, ip_max_failures: int, lockout_seconds: int,
                 store: CounterStore | None = None):
        self.max_failures = max_failures
        self.ip_max_failures = ip_max_failures
        self.lockout_seconds = lockout_seconds
        self.store = store if store is not None else MemoryCounterStore()

    @staticmethod
    def _keys(username: str, client_ip: str | None) -> tuple[str, str]:
        """The pair's key and the address's key (an IP holds no space, so they never mix)."""
        address = client_ip or "-"
        return f"{address} {username.strip().lower()[:150]}", address

    def locked_for(self, username: str, client_ip: str | None) -> int | None:
        """Seconds left while the pair or the address is locked out, else None."""
        left = max(self.store.get(LOCK + key).seconds_left
                   for key in self._keys(username, client_ip))
        return max(1, math.ceil(left)) if left > 0 else None

    def failed(self, username: str, client_ip: str | None) -> Failure:
        """Count a failure of the pair and of the address; lock whichever reached its limit."""
        pair, address = self._keys(username, client_ip)
        window = self.lockout_seconds
        pair_count = self.store.add(FAIL + pair, window).hits
        address_count = self.store.add(FAIL + address, window).hits
        locked = [key for key, count, limit in ((pair, pair_count, self.max_failures),
                                                (address, address_count, self.ip_max_failures))
                  if count >= limit]
        for key in locked:
            self.store.clear(FAIL + key)  # a fresh count once the lock ends
            self.store.add(LOCK + key, window)
        return Failure(pair_count, address_count, window if locked else None)

    def succeeded(self, username: str, client_ip: str | None) -> None:
        """Forget the pair's failures. The address's stay: one good account must not let its
        holder wipe out the count of guesses at others."""
        self.store.clear(FAIL + self._keys(username, client_ip)[0])
