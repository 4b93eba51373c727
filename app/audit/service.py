"""Writing and reading the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from app.audit.models import AuditEntry


def record_audit(
    session: Session,
    *,
    action: str,
    actor_id: int | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    ip_address: str | None = None,
    commit: bool = False,
) -> AuditEntry:
    """Add one entry to the audit log (flushed with the caller's transaction unless commit)."""
    entry = AuditEntry(
        action=action[:60],
        actor_id=actor_id,
        target=target[:120] if target else None,
        detail=detail or {},
        ip_address=ip_address[:64] if ip_address else None,
    )
    session.add(entry)
    if commit:
        session.commit()
    else:
        session.flush()
    return entry


def list_audit(
    session: Session,
    *,
    action: str | None = None,
    actor_id: int | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[AuditEntry]:
    """Entries newest first, filtered by action prefix, actor, target and time."""
    query = select(AuditEntry)
    if action:
        query = query.where(col(AuditEntry.action).startswith(action))
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if target:
        query = query.where(AuditEntry.target == target)
    if since is not None:
        query = query.where(col(AuditEntry.created_at) >= since)
    if until is not None:
        query = query.where(col(AuditEntry.created_at) < until)
    query = query.order_by(col(AuditEntry.created_at).desc(), col(AuditEntry.id).desc())
    return list(session.exec(query.offset(offset).limit(limit)).all())


def list_audit_actions(session: Session) -> list[str]:
    """Every action name the log holds, for the audit page's filter."""
    return list(session.exec(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
