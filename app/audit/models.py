"""One audit entry per action that matters for trust (never observation content)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    # Who did it (None for an anonymous actor such as a failed sign-in burst).
    actor_id: int | None = Field(
        default=None, foreign_key="user.id", index=True, ondelete="SET NULL"
    )
    # A dotted name: "export.download", "import.confirm", "user.role_change", "session.end" …
    action: str = Field(max_length=60, index=True)
    # What it concerned, for filtering: "observation_set:4", "user:12", "protocol_version:7".
    target: str | None = Field(default=None, max_length=120, index=True)
    # Small structured facts (format, options, counts); never observation content.
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    ip_address: str | None = Field(default=None, max_length=64)
