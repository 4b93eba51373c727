"""Server-side sign-in sessions: start, find, end, list.

The cookie carries a random token and only its SHA-256 is stored, so a database dump does not
hand out live cookies. Ending a row (logout, password change, role change, deactivation, an
admin) makes every copy of its cookie worthless, in every app process at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, delete, select, update

from app.auth.models import SignInSession
from app.config import Settings
from app.db import utcnow

# Ended and expired rows are kept this long (an admin may ask what happened), then purged.
ENDED_SESSION_RETENTION = timedelta(days=30)
USER_AGENT_MAX = 255


def new_token() -> str:
    """A cookie value: 256 random bits, URL- and cookie-safe."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def touch_interval_seconds(settings: Settings) -> int:
    """How stale last_seen_at may get before a request writes it (at most a minute; less when
    the idle lifetime is short, so an active user is never timed out)."""
    return max(0, min(60, settings.session_idle_timeout_seconds // 10))


def is_live(record: SignInSession, *, settings: Settings, now: datetime | None = None) -> bool:
    """Not ended, not idle too long, not older than the absolute lifetime."""
    now = now or utcnow()
    if record.ended_at is not None:
        return False
    if now - record.created_at >= timedelta(seconds=settings.session_max_age_seconds):
        return False
    return now - record.last_seen_at < timedelta(seconds=settings.session_idle_timeout_seconds)


def find_by_token(*, session: Session, token: str) -> SignInSession | None:
    """The row a cookie names, live or not."""
    return session.exec(
        select(SignInSession).where(SignInSession.token_hash == hash_token(token))
    ).first()


def start(
    *,
    session: Session,
    user_id: int | None,
    token: str,
    data: dict[str, Any] | None = None,
    ip_address: str | None = None,
    user_agent: str | None = None,
    commit: bool = True,
) -> SignInSession:
    """A new session row for a cookie token (user_id None: a signed-out visitor's flashes)."""
    now = utcnow()
    record = SignInSession(
        token_hash=hash_token(token),
        user_id=user_id,
        data=dict(data or {}),
        created_at=now,
        last_seen_at=now,
        ip_address=ip_address,
        user_agent=(user_agent or "")[:USER_AGENT_MAX] or None,
    )
    session.add(record)
    if commit:
        session.commit()
        session.refresh(record)
    else:
        session.flush()
    return record


def end(*, session: Session, session_id: int, reason: str, commit: bool = True) -> bool:
    """End one session; False when it had already ended."""
    result = session.execute(
        update(SignInSession)
        .where(col(SignInSession.id) == session_id, col(SignInSession.ended_at).is_(None))
        .values(ended_at=utcnow(), end_reason=reason[:40], data={})
    )
    if commit:
        session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def end_all_for_user(
    *, session: Session, user_id: int, reason: str, except_id: int | None = None
) -> int:
    """End every session of one user (but `except_id`); the caller commits, so the end lands
    in the same transaction as the change that caused it."""
    query = update(SignInSession).where(
        col(SignInSession.user_id) == user_id, col(SignInSession.ended_at).is_(None)
    )
    if except_id is not None:
        query = query.where(col(SignInSession.id) != except_id)
    result = session.execute(query.values(ended_at=utcnow(), end_reason=reason[:40], data={}))
    return int(result.rowcount)  # type: ignore[attr-defined]


def save(
    *,
    session: Session,
    session_id: int,
    data: dict[str, Any] | None = None,
    seen: bool = False,
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> None:
    """Store a live session's data and/or mark it seen now (with the address it came from)."""
    values: dict[str, Any] = {}
    if data is not None:
        values["data"] = data
    if seen:
        values.update(
            last_seen_at=utcnow(),
            ip_address=ip_address,
            user_agent=(user_agent or "")[:USER_AGENT_MAX] or None,
        )
    if values:
        session.execute(
            update(SignInSession)
            .where(col(SignInSession.id) == session_id, col(SignInSession.ended_at).is_(None))
            .values(**values)
        )
        session.commit()


def discard(*, session: Session, session_id: int) -> None:
    """Delete a signed-out visitor's row once nothing is left in it."""
    session.execute(
        delete(SignInSession).where(
            col(SignInSession.id) == session_id, col(SignInSession.user_id).is_(None)
        )
    )
    session.commit()


def _live_filter(settings: Settings, now: datetime) -> list[Any]:
    return [
        col(SignInSession.ended_at).is_(None),
        col(SignInSession.created_at) > now - timedelta(seconds=settings.session_max_age_seconds),
        col(SignInSession.last_seen_at)
        > now - timedelta(seconds=settings.session_idle_timeout_seconds),
    ]


def list_live_for_user(
    *, session: Session, settings: Settings, user_id: int
) -> list[SignInSession]:
    """A user's live sessions, most recently seen first."""
    return list(
        session.exec(
            select(SignInSession)
            .where(SignInSession.user_id == user_id, *_live_filter(settings, utcnow()))
            .order_by(col(SignInSession.last_seen_at).desc(), col(SignInSession.id).desc())
        )
    )


def get_live_for_user(
    *, session: Session, settings: Settings, user_id: int, session_id: int
) -> SignInSession | None:
    return session.exec(
        select(SignInSession).where(
            SignInSession.id == session_id,
            SignInSession.user_id == user_id,
            *_live_filter(settings, utcnow()),
        )
    ).first()


def purge_stale(*, session: Session, settings: Settings) -> int:
    """Delete rows that ended, or could no longer be used, more than the retention ago."""
    cutoff = utcnow() - ENDED_SESSION_RETENTION
    lifetime = timedelta(seconds=settings.session_max_age_seconds)
    idle = timedelta(seconds=settings.session_idle_timeout_seconds)
    result = session.execute(
        delete(SignInSession).where(
            col(SignInSession.ended_at).is_not(None) & (col(SignInSession.ended_at) < cutoff)
            | (col(SignInSession.created_at) < cutoff - lifetime)
            | (col(SignInSession.last_seen_at) < cutoff - idle)
        )
    )
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
