"""Accounts: sign-in with throttling, user management, password changes.

Every change that affects who may do what (creation, role, deactivation, a new password) ends
the sessions it must and is written to the audit log in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from app.audit.service import record_audit
from app.auth import sign_in_sessions
from app.auth.exceptions import (
    DuplicateEmail,
    InvalidCredentials,
    LoginThrottled,
    SelfLockout,
    WeakPassword,
    WrongCurrentPassword,
)
from app.auth.models import LoginAttempt, Role, User
from app.auth.password_policy import password_weakness
from app.auth.schemas import PasswordChange, UserCreate, UserUpdate
from app.auth.security import dummy_hash, hash_password, verify_password
from app.config import Settings
from app.db import utcnow
from app.i18n import gettext

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


def _throttle_checks(
    settings: Settings, email: str, ip_address: str
) -> tuple[tuple[sa.ColumnElement, str, int], ...]:
    return (
        (LoginAttempt.email, normalise_email(email), settings.login_max_failures_per_account),
        (LoginAttempt.ip_address, ip_address, settings.login_max_failures_per_address),
    )


def check_throttle(*, session: Session, settings: Settings, email: str, ip_address: str) -> None:
    """Raise LoginThrottled when the account or the address failed too often recently."""
    for column, value, limit in _throttle_checks(settings, email, ip_address):
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
    if not ok or user is None:
        session.flush()
        _audit_failure_burst(
            session=session, settings=settings, email=email, user=user, ip_address=ip_address
        )
        session.commit()
        log.info("sign-in failed for %s from %s", email, ip_address)
        raise InvalidCredentials()
    session.commit()
    return user


def _audit_failure_burst(
    *, session: Session, settings: Settings, email: str, user: User | None, ip_address: str
) -> None:
    """Write one audit entry when this failure is the one that throttles the account or the
    address (later attempts are refused before they count, so a burst is logged once)."""
    for column, value, limit in _throttle_checks(settings, email, ip_address):
        count, _ = _recent_failures(session=session, settings=settings, column=column, value=value)
        if count != limit:
            continue
        by_account = column is LoginAttempt.email
        if by_account:
            target = f"user:{user.id}" if user is not None else None
        else:
            target = f"address:{ip_address}"
        record_audit(
            session,
            action="auth.sign_in_throttled",
            target=target,
            detail={
                "throttled": "account" if by_account else "address",
                "failures": count,
                "window_seconds": settings.login_window_seconds,
                **({"email": email} if by_account else {}),
            },
            ip_address=ip_address,
        )


def _new_password_hash(*, settings: Settings, password: str, email: str, display_name: str) -> str:
    """The hash of an acceptable new password; WeakPassword says why one is not."""
    problem = password_weakness(
        password,
        email=email,
        display_name=display_name,
        min_score=settings.password_min_score,
    )
    if problem:
        raise WeakPassword(problem)
    return hash_password(password, cost=settings.password_hash_cost)


def create_user(
    *,
    session: Session,
    settings: Settings,
    data: UserCreate,
    acting_user: User | None = None,
    ip_address: str | None = None,
    via: str = "admin",
    enforce_password_policy: bool = True,
) -> User:
    """A new account; the email must be unused and the password not guessable (except demo
    accounts, whose passwords are printed for all to see anyway)."""
    email = normalise_email(str(data.email))
    if get_by_email(session=session, email=email) is not None:
        raise DuplicateEmail(email)
    user = User(
        email=email,
        display_name=data.display_name,
        role=data.role,
        password_hash=_new_password_hash(
            settings=settings, password=data.password, email=email, display_name=data.display_name
        )
        if enforce_password_policy
        else hash_password(data.password, cost=settings.password_hash_cost),
    )
    session.add(user)
    session.flush()
    record_audit(
        session,
        action="user.create",
        actor_id=acting_user.id if acting_user else None,
        target=f"user:{user.id}",
        detail={"role": str(data.role), "via": via},
        ip_address=ip_address,
    )
    session.commit()
    session.refresh(user)
    log.info("account created: %s (%s)", email, data.role)
    return user


def update_user(
    *,
    session: Session,
    settings: Settings,
    user: User,
    data: UserUpdate,
    acting_user: User,
    ip_address: str | None = None,
) -> User:
    """Change an account; an admin cannot lock themselves out. A new role, a deactivation or a
    password reset ends all of the account's sessions (it must sign in again)."""
    email = normalise_email(str(data.email))
    other = get_by_email(session=session, email=email)
    if other is not None and other.id != user.id:
        raise DuplicateEmail(email)
    if user.id == acting_user.id and (not data.is_active or data.role != Role.admin):
        raise SelfLockout(
            gettext("You cannot deactivate your own account or remove your own admin role.")
        )
    new_hash = (
        _new_password_hash(
            settings=settings, password=data.password, email=email, display_name=data.display_name
        )
        if data.password
        else None
    )
    changes: list[tuple[str, dict[str, object]]] = []
    if data.role != user.role:
        changes.append(("user.role_change", {"from": str(user.role), "to": str(data.role)}))
    if data.is_active != user.is_active:
        changes.append(("user.reactivate" if data.is_active else "user.deactivate", {}))
    if new_hash is not None:
        changes.append(("user.password_reset", {}))
    user.email = email
    user.display_name = data.display_name
    user.role = data.role
    user.is_active = data.is_active
    if new_hash is not None:
        user.password_hash = new_hash
    user.updated_at = utcnow()
    session.add(user)
    assert user.id is not None
    ending = [action for action, _ in changes if action != "user.reactivate"]
    ended = (
        sign_in_sessions.end_all_for_user(
            session=session, user_id=user.id, reason=ending[0].removeprefix("user.")
        )
        if ending
        else 0
    )
    for action, detail in changes:
        record_audit(
            session,
            action=action,
            actor_id=acting_user.id,
            target=f"user:{user.id}",
            detail={**detail, "sessions_ended": ended},
            ip_address=ip_address,
        )
    session.commit()
    session.refresh(user)
    return user


def change_own_password(
    *,
    session: Session,
    settings: Settings,
    user: User,
    data: PasswordChange,
    ip_address: str,
    current_session_id: int | None,
) -> int:
    """A signed-in user sets a new password: the current one must be right (attempts count
    towards the sign-in throttle), every other session of theirs ends. Returns how many ended."""
    try:
        authenticate(
            session=session,
            settings=settings,
            email=user.email,
            password=data.current_password,
            ip_address=ip_address,
        )
    except InvalidCredentials as exc:
        raise WrongCurrentPassword() from exc
    new_hash = _new_password_hash(
        settings=settings,
        password=data.new_password,
        email=user.email,
        display_name=user.display_name,
    )
    user.password_hash = new_hash
    user.updated_at = utcnow()
    session.add(user)
    assert user.id is not None
    ended = sign_in_sessions.end_all_for_user(
        session=session, user_id=user.id, reason="password_changed", except_id=current_session_id
    )
    record_audit(
        session,
        action="user.password_change",
        actor_id=user.id,
        target=f"user:{user.id}",
        detail={"other_sessions_ended": ended},
        ip_address=ip_address,
    )
    session.commit()
    return ended


def end_sessions_by_admin(
    *,
    session: Session,
    settings: Settings,
    user: User,
    acting_user: User,
    session_id: int | None,
    ip_address: str | None,
) -> int:
    """An admin ends one of a user's sessions (session_id) or all of them (None)."""
    assert user.id is not None
    if session_id is None:
        ended = sign_in_sessions.end_all_for_user(
            session=session, user_id=user.id, reason="ended_by_admin"
        )
    else:
        found = sign_in_sessions.get_live_for_user(
            session=session, settings=settings, user_id=user.id, session_id=session_id
        )
        ended = 0
        if found is not None:
            ended = int(
                sign_in_sessions.end(
                    session=session, session_id=session_id, reason="ended_by_admin", commit=False
                )
            )
    if ended:
        record_audit(
            session,
            action="session.end",
            actor_id=acting_user.id,
            target=f"user:{user.id}",
            detail={"sessions_ended": ended, **({"session": session_id} if session_id else {})},
            ip_address=ip_address,
        )
    session.commit()
    return ended
