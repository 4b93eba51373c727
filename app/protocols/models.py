"""Protocols (the forms) and their versions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import JSONType, UTCDateTime, utcnow


class VersionStatus(StrEnum):
    draft = "draft"
    published = "published"
    retired = "retired"
    # Came with an imported observations file: used only by those observations, never offered
    # to volunteers (offline pack, assignments, capture) until a trainer publishes it.
    imported = "imported"


class Protocol(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    description: str = ""
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProtocolVersion(SQLModel, table=True):
    """One version of a protocol; a published version never changes."""

    __tablename__ = "protocol_version"
    __table_args__ = (sa.UniqueConstraint("protocol_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    protocol_id: int = Field(foreign_key="protocol.id", index=True)
    version: int
    status: str = Field(default=VersionStatus.draft, max_length=20, index=True)
    definition: dict[str, Any] = Field(sa_type=JSONType)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
