"""Accounts: sign-in with throttling, and user management."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from app.auth.exceptions import DuplicateEmail, InvalidCredentials, LoginThrottled, SelfLockout
from app.auth.models import LoginAttempt, Role, User
from app.auth.schemas import UserCreate, UserUpdate
from app.auth.security import dummy_hash, hash_password, verify_password
from app.config import Settings
from app.db import utcnow

log = logging.getLogger("courtwatch.auth")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def get(*, session: Session, user_id: int) -> User | None:
    """One user by id."""
    return session.get(User, user_id)


def get_by_email(*, session: Session, email: str) -> User | None:
    """One user by email, case-insensitively."""
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def list_users(*, session: Session) -> list[User]:
    """Every account, active first, then by name."""
    return list(
        session.exec(
            select(User).order_by(col(User.is_active).desc(), func.lower(User.display_name))
        )
    )


def list_by_role(*, session: Session, role: Role, active_only: bool = True) -> list[User]:
    """Accounts with one role, by name."""
    query = select(User).where(User.role == role)
    if active_only:
        query = query.where(col(User.is_active).is_(True), col(User.is_placeholder).is_(False))
    return list(session.exec(query.order_by(func.lower(User.display_name))))


def _recent_failures(
    *, session: Session, settings: Settings, column: sa.ColumnElement, value: str
) -> tuple[int, object]:
    since = utcnow() - timedelta(seconds=settings.login_window_seconds)
    row = session.exec(
        select(func.count(), func.min(LoginAttempt.created_at)).where(
            column == value,
            col(LoginAttempt.succeeded).is_(False),
            LoginAttempt.created_at >= since,
        )
    ).one()
    return int(row[0]), row[1]


def check_throttle(*, session: Session, settings: Settings, email: str, ip_address: str) -> None:
    """Raise LoginThrottled when the account or the address failed too often recently."""
    checks = (
        (LoginAttempt.email, normalise_email(email), settings.login_max_failures_per_account),
        (LoginAttempt.ip_address, ip_address, settings.login_max_failures_per_address),
    )
    for column, value, limit in checks:
        count, oldest = _recent_failures(
            session=session, settings=settings, column=column, value=value
        )
        if count >= limit:
            retry = settings.login_window_seconds
            if oldest is not None:
                elapsed = (utcnow() - oldest).total_seconds()  # type: ignore[operator]  # tz-aware via UTCDateTime
                retry = max(1, int(settings.login_window_seconds - elapsed))
            log.warning(
                "sign-in throttled: %s failures in %ss for %s",
                count,
                settings.login_window_seconds,
                "account " + normalise_email(email)
                if column is LoginAttempt.email
                else "address " + ip_address,
            )
            raise LoginThrottled(retry)


def authenticate(
    *, session: Session, settings: Settings, email: str, password: str, ip_address: str
) -> User:
    """Check the password of an active account, recording the attempt; throttles first."""
    email = normalise_email(email)
    check_throttle(session=session, settings=settings, email=email, ip_address=ip_address)
    user = get_by_email(session=session, email=email)
    cost = settings.password_hash_cost
    if user is None:
        verify_password(password, dummy_hash(cost), cost=cost)
        ok = False
    else:
        # A placeholder observer (made by an import) never signs in, whatever was done to it.
        ok = (
            verify_password(password, user.password_hash, cost=cost)
            and user.is_active
            and not user.is_placeholder
        )
    session.add(LoginAttempt(email=email, ip_address=ip_address, succeeded=ok))
    session.commit()
    if not ok or user is None:
        log.info("sign-in failed for %s from %s", email, ip_address)
        raise InvalidCredentials()
    return user


def create_user(*, session: Session, settings: Settings, data: UserCreate) -> User:
    """A new account; the email must be unused."""
    email = normalise_email(str(data.email))
    if get_by_email(session=session, email=email) is not None:
        raise DuplicateEmail(email)
    user = User(
        email=email,
        display_name=data.display_name,
        role=data.role,
        password_hash=hash_password(data.password, cost=settings.password_hash_cost),
    )
    session.add(user)
    session.commit()
    session.refresh(user)
    log.info("account created: %s (%s)", email, data.role)
    return user


def update_user(
    *, session: Session, settings: Settings, user: User, data: UserUpdate, acting_user: User
) -> User:
    """Change an account; an admin cannot lock themselves out."""
    email = normalise_email(str(data.email))
    other = get_by_email(session=session, email=email)
    if other is not None and other.id != user.id:
        raise DuplicateEmail(email)
    if user.id == acting_user.id and (not data.is_active or data.role != Role.admin):
        raise SelfLockout("You cannot deactivate your own account or remove your own admin role.")
    user.email = email
    user.display_name = data.display_name
    user.role = data.role
    user.is_active = data.is_active
    if data.password:
        user.password_hash = hash_password(data.password, cost=settings.password_hash_cost)
    user.updated_at = utcnow()
    session.add(user)
    session.commit()
    session.refresh(user)
    return user
