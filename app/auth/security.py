"""Password hashing (argon2 through pwdlib)."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher


@lru_cache(maxsize=2)
def password_hasher(cost: str = "default") -> PasswordHash:
    if cost == "fast":  # tests only: the same algorithm with small parameters
        return PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    return PasswordHash.recommended()


def hash_password(password: str, *, cost: str = "default") -> str:
    return password_hasher(cost).hash(password)


def verify_password(password: str, password_hash: str, *, cost: str = "default") -> bool:
    try:
        return password_hasher(cost).verify(password, password_hash)
    except Exception:  # a malformed stored hash is a failed sign-in, never a crash
        return False


@lru_cache(maxsize=2)
def dummy_hash(cost: str = "default") -> str:
    """A hash to verify against when the account does not exist, so timing does not reveal it."""
    return hash_password("not-a-real-password", cost=cost)
