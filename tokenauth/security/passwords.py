"""Password hashing with passlib's argon2id (from libpass + argon2-cffi)."""
from __future__ import annotations

import functools

from passlib.context import CryptContext


def argon2id(**cost) -> CryptContext:
    """A passlib context hashing with argon2id; ``cost`` as passlib names it
    (``memory_cost``, ``rounds``, ``parallelism``), libpass's defaults otherwise."""
    return CryptContext(schemes=["argon2"], deprecated="auto", argon2__type="ID",
                        **{f"argon2__{name}": value for name, value in cost.items()})


# libpass's defaults: m=64 MiB, t=3, p=4 (~250 ms of both cores here, per check).
password_context = argon2id()


@functools.lru_cache(maxsize=4)
def _dummy_hash(context: CryptContext) -> str:
    # Checked against when the user does not exist or has no password, so a wrong username
    # costs the same as a wrong password. Made on first use: the CLI starts faster.
    return context.hash("tokenauth-dummy-password")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return password_context.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when ``password`` matches ``password_hash``; constant effort when there is no hash."""
    if not password_hash:
        password_context.verify(password, _dummy_hash(password_context))
        return False
    try:
        return password_context.verify(password, password_hash)
    except (ValueError, TypeError):
        return False
