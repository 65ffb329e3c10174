"""The API token format (SPEC 2): ``<prefix>_<body><check>``, and its keyed hash.

Everything here is pure: no database, no Flask. ``parse`` is the cheap first rejection on
the /verify path; ``token_hash`` is what the database stores and is looked up by.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import zlib

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BODY_LENGTH = 40
CHECK_LENGTH = 6
# Longer than any token we issue, short enough that hashing a hostile header is free.
MAX_TOKEN_LENGTH = 256
_SHA256_BLOCK = 64  # bytes: HMAC pads its key to this
TOKEN_RE = re.compile(r"[a-z0-9]+_[0-9A-Za-z]{46,}")
_PAIRS = tuple(high + low for high in ALPHABET for low in ALPHABET)  # "00" ... "zz"


class MalformedToken(ValueError):
    """The string is not a well-formed token (shape or check digits)."""


def base62(number: int, width: int) -> str:
    """``number`` in base62, most significant first, left-padded with ``0`` to ``width``."""
    digits = ""
    while number:  # two digits a step: every uncached /verify computes a check
        number, pair = divmod(number, len(_PAIRS))
        digits = _PAIRS[pair] + digits
    return digits.lstrip("0").rjust(width, "0")


def checksum(prefixed_body: str) -> str:
    """The 6-character base62 CRC32 of ``<prefix>_<body>``."""
    return base62(zlib.crc32(prefixed_body.encode("utf-8")), CHECK_LENGTH)


def generate(prefix: str) -> str:
    """A new raw token: ``BODY_LENGTH`` CSPRNG base62 characters plus the check."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    prefixed = f"{prefix}_{body}"
    return prefixed + checksum(prefixed)


# ``looks_like_token(value)``: a match (true) when ``value`` has the token shape and at most
# MAX_TOKEN_LENGTH characters, else None; the check digits are not verified. The pattern's
# own method, with the length in a lookahead: /verify asks on every request, and a Python
# function around it cost more than the match.
looks_like_token = re.compile(
    rf"(?=.{{1,{MAX_TOKEN_LENGTH}}}\Z){TOKEN_RE.pattern}", re.DOTALL).fullmatch


def parse(value: str) -> str:
    """Return ``value`` if it is a well-formed token with a matching check.

    Raises :class:`MalformedToken` otherwise. Any prefix of the right shape is accepted, so
    changing ``TOKENAUTH_TOKEN_PREFIX`` does not invalidate tokens already issued.
    """
    if not looks_like_token(value):
        raise MalformedToken("not a token")
    prefixed, check = value[:-CHECK_LENGTH], value[-CHECK_LENGTH:]
    if not hmac.compare_digest(checksum(prefixed), check):
        raise MalformedToken("token check digits do not match")
    return value


def token_hash(pepper: str, token: str) -> str:
    """HMAC-SHA256 of the token keyed with the pepper, as 64 hex characters."""
    return token_hasher(pepper)(token)


def token_hasher(pepper: str):
    """``token_hash`` with the pepper bound: a function of the token alone, for /verify.

    RFC 2104 HMAC-SHA256, as ``hmac.new`` computes it, from the two SHA-256 states the key
    starts (key XOR ipad, key XOR opad), prepared once: each token then costs two state
    copies and two short hashes, half of what copying an ``hmac`` object costs (its
    OpenSSL context is copied again to finalise). Not ``hmac.digest``: OpenSSL's one-shot
    HMAC lets go of the GIL for every call, and with four request threads that handed the
    GIL over on nearly every /verify (3× its CPU). The tests check it against ``hmac.new``.
    """
    key = pepper.encode("utf-8")
    if len(key) > _SHA256_BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_SHA256_BLOCK, b"\0")
    inner_start = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
    outer_start = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))

    def hash_token(token: str) -> str:
        inner = inner_start.copy()
        inner.update(token.encode("utf-8"))
        outer = outer_start.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    return hash_token


def hint(token: str) -> str:
    """What a user sees to recognise a token: its prefix and last 4 characters."""
    prefix = token.split("_", 1)[0]
    return f"{prefix}_...{token[-4:]}"
