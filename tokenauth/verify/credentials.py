"""Reading the credentials out of an ``Authorization`` header (SPEC 3)."""
from __future__ import annotations

import base64
import binascii
from typing import NamedTuple

from ..errors import VerifyDenied
from ..security.tokens import looks_like_token


_new_tuple = tuple.__new__


class Credentials(NamedTuple):  # a tuple: made on every /verify, twice as fast as a dataclass
    """``secret`` is a token (``is_token``) or a password; ``username`` comes with Basic."""

    secret: str
    username: str | None = None
    is_token: bool = True

    def __repr__(self) -> str:  # never let a secret reach a log through repr()
        return f"Credentials(username={self.username!r}, is_token={self.is_token})"


def read_credentials(header: str | None, allow_password: bool) -> Credentials:
    """Parse ``Authorization``: ``Bearer <token>`` or ``Basic base64(user:secret)``.

    Returns :class:`Credentials`. Raises :class:`VerifyDenied` with reason ``missing`` when
    there is no header, ``malformed`` when it cannot be read, ``invalid`` for a Basic
    password while password authentication is off.
    """
    if header is None:
        raise VerifyDenied("missing")
    if header.startswith("Bearer "):  # as nearly every client writes it: one check
        value = header[7:]
        if looks_like_token(value):
            # The tuple itself: a NamedTuple's __new__ is a Python function (one call more).
            return _new_tuple(Credentials, (value, None, True))
    if not header.strip():
        raise VerifyDenied("missing")
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    scheme = scheme.lower()
    if scheme == "bearer":
        if not looks_like_token(value):
            raise VerifyDenied("malformed")
        return Credentials(value)
    if scheme == "basic":
        username, secret = _decode_basic(value)
        if looks_like_token(secret):
            return Credentials(secret=secret, username=username)
        if not allow_password:
            raise VerifyDenied("invalid")
        return Credentials(secret=secret, username=username, is_token=False)
    raise VerifyDenied("malformed")


def _decode_basic(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value.encode("ascii"), validate=True).decode("utf-8")
    except (UnicodeError, binascii.Error, ValueError):
        raise VerifyDenied("malformed") from None
    username, colon, secret = decoded.partition(":")
    if not colon or not username or not secret:
        raise VerifyDenied("malformed")
    return username, secret
