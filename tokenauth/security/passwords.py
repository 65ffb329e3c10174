"""Password hashing with passlib's argon2id (from libpass + argon2-cffi)."""
from __future__ import annotations

from passlib.context import CryptContext

password_context = CryptContext(schemes=["argon2"], deprecated="auto", argon2__type="ID")

# Verified against when the user does not exist or has no password, so a wrong username
# costs the same time as a wrong password.
_DUMMY_HASH = password_context.hash("tokenauth-dummy-password")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return password_context.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when ``password`` matches ``password_hash``; constant effort when there is no hash."""
    if not password_hash:
        password_context.verify(password, _DUMMY_HASH)
        return False
    try:
        return password_context.verify(password, password_hash)
    except (ValueError, TypeError):
        return False
