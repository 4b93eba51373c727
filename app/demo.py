"""Demo data, clearly marked as such: one account per role and (from later domains) more.

Every step is idempotent: running seed-demo again reuses what exists.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from app.auth import service as auth_service
from app.auth.models import Role
from app.auth.schemas import UserCreate
from app.config import Settings

DEMO_DOMAIN = "demo.example.org"
DEMO_ACCOUNTS = [
    (Role.volunteer, "Demo Volunteer", "demo-volunteer-pass"),
    (Role.trainer, "Demo Trainer", "demo-trainer-pass"),
    (Role.organizer, "Demo Organizer", "demo-organizer-pass"),
    (Role.admin, "Demo Admin", "demo-admin-pass"),
]


def demo_email(role: Role) -> str:
    return f"{role.value}@{DEMO_DOMAIN}"


def seed_accounts(*, session: Session, settings: Settings, log: Callable[[str], None]) -> None:
    """One account per role, with fixed demo passwords."""
    for role, name, password in DEMO_ACCOUNTS:
        email = demo_email(role)
        if auth_service.get_by_email(session=session, email=email) is None:
            auth_service.create_user(
                session=session,
                settings=settings,
                data=UserCreate(email=email, display_name=name, role=role, password=password),
                via="demo",
                enforce_password_policy=False,  # printed demo passwords, guessable on purpose
            )
            log(f"  created {role.value:<9} {email}  password: {password}")
        else:
            log(f"  exists  {role.value:<9} {email}  password: {password}")


def _steps() -> list[Callable[..., None]]:
    """Accounts, then each domain's demo step in dependency order (imported late)."""
    from app.observations.demo import seed_observations
    from app.protocols.demo import seed_protocols
    from app.sessions.demo import seed_sessions

    steps: list[Callable[..., None]] = [
        seed_accounts,
        seed_protocols,
        seed_sessions,
        seed_observations,
    ]
    return steps


def seed_demo(*, session: Session, settings: Settings, log: Callable[[str], None] = print) -> None:
    """Run every demo step in order."""
    log("Demo data (for trying Courtwatch out, not for real observations):")
    for step in _steps():
        step(session=session, settings=settings, log=log)
