"""Small builders of test data, through the real services."""

from __future__ import annotations

import itertools

from sqlmodel import Session

from app.auth.models import Role, User
from app.auth.security import hash_password

DEFAULT_PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def create_user(
    db: Session,
    *,
    role: Role = Role.volunteer,
    email: str | None = None,
    display_name: str | None = None,
    password: str = DEFAULT_PASSWORD,
    is_active: bool = True,
) -> User:
    n = next(_counter)
    user = User(
        email=email or f"{role.value}{n}@example.org",
        display_name=display_name or f"{role.value.title()} {n}",
        role=role,
        password_hash=hash_password(password, cost="fast"),
        is_active=is_active,
    )
    db.add(user)
    db.commit()
    db.refresh(user)
    return user


STRONG_PASSWORD = "marble otter lantern quietly"


def new_account_form(**fields: str) -> dict[str, str]:
    """The admin's new-account form, filled in (a field given here replaces its value)."""
    return {
        "email": "rmartinez@example.org",
        "display_name": "Rosa Martinez",
        "role": "volunteer",
        "password": STRONG_PASSWORD,
        **fields,
    }
