"""The /verify failure throttle (SPEC 3): too many ``malformed`` or ``invalid`` answers to
one client IP, and every /verify from it answers 401 ``rate_limited`` with ``Retry-After``,
without touching the database, until its failures age out.

Failures are counted per client IP in a window that starts at the first one
(``TOKENAUTH_VERIFY_FAILURE_WINDOW``); the count that reaches
``TOKENAUTH_VERIFY_MAX_FAILURES`` locks the IP until that window ends. While locked, its
requests are refused before they are read, so they add nothing: the lock ends with the
window. The counts are in the server's counter store (shared by its workers, and by the
replicas through Redis when configured).

Two checks, both by ``refuse_if_locked`` (the first after ``anyone_locked``):

- on every request, local only: while no client is locked, one word of the shared table
  (the store's flag, raised for as long as any client is locked); while one is, a read of
  the client's count (about 1 µs);
- before a database lookup (a cache miss, a password): the client's count again, so a lock
  counted by another request meanwhile stops the lookup, and in Redis when configured, so
  a lock counted on another replica does too (and raises the flag here).

Neither read takes the table's lock: a read sees each count as it was before a racing write
or as it is after it, never a mix (``security/shared_memory.py``), which is all a locked
read could promise. So a locked client never reaches the database.
"""
from __future__ import annotations

import math

from ..errors import VerifyDenied
from ..security.counters import CounterStore

COUNTED_REASONS = frozenset({"malformed", "invalid"})


class FailureThrottle:
    def __init__(self, store: CounterStore, max_failures: int, window: float):
        self.store = store
        self.max_failures = max_failures  # 0: off
        self.window = window
        # Whether any client may be locked: the store's flag, one word (asked by every
        # /verify before ``refuse_if_locked``, which is then rarely called).
        self.anyone_locked = store.flag_is_up

    def retry_after(self, client_ip: str | None, before_database: bool = False) -> int | None:
        """Seconds until ``client_ip``'s lock ends (at least 1), or None when it is not
        locked. ``before_database``: the consistent read, in Redis too."""
        if not self.max_failures:
            return None
        key = _key(client_ip)
        count = self.store.get(key) if before_database else self.store.peek(key)
        if count.hits < self.max_failures:
            return None
        if before_database:
            self.store.raise_flag(count.seconds_left)  # a lock maybe learned from Redis
        return max(1, math.ceil(count.seconds_left))

    def refuse_if_locked(self, client_ip: str | None, before_database: bool = False) -> None:
        """Raises VerifyDenied ``rate_limited`` with ``retry_after`` while locked. Every
        /verify asks ``anyone_locked`` first, so no client's count is read while nobody is."""
        locked = self.retry_after(client_ip, before_database)
        if locked is not None:
            raise VerifyDenied("rate_limited", retry_after=locked)

    def failed(self, client_ip: str | None) -> None:
        """Count one ``malformed`` or ``invalid`` answer to ``client_ip``."""
        if self.max_failures:
            count = self.store.add(_key(client_ip), self.window)
            if count.hits >= self.max_failures:
                self.store.raise_flag(count.seconds_left)


def _key(client_ip: str | None) -> str:
    return "verify:" + (client_ip or "-")
