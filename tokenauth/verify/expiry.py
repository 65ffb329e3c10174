"""The expiry warning of a 200 (``X-Auth-Expiry-Warning``): sent while the token expires
within TOKENAUTH_EXPIRY_WARNING_DAYS, so nginx can pass it to the client (deploy/nginx).

The header and the moment it starts to apply are computed once per expiry time (cached);
each answer then costs one clock read and one comparison.
"""
from __future__ import annotations

import functools
import time
from datetime import datetime

from ..models import iso_utc

HEADER = "X-Auth-Expiry-Warning"


class ExpiryWarning:
    def __init__(self, days: int, clock=time.time):
        self.window = days * 86400.0
        self.clock = clock
        self._prepared = functools.lru_cache(maxsize=4096)(self._prepare)

    def headers(self, expires_at: datetime | None) -> tuple:
        """``((HEADER, "token expires at <ISO>"),)`` when ``expires_at`` is within the
        window from now, else ``()``."""
        if expires_at is None:
            return ()
        warn_from, headers = self._prepared(expires_at)
        return headers if self.clock() >= warn_from else ()

    def _prepare(self, expires_at: datetime) -> tuple:
        return (expires_at.timestamp() - self.window,
                ((HEADER, f"token expires at {iso_utc(expires_at)}"),))
