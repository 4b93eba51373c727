"""Observation sets: a filter an organizer names and keeps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import JSONType, UTCDateTime, utcnow


class ObservationSet(SQLModel, table=True):
    __tablename__ = "observation_set"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    description: str = ""
    filters: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    owner_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PendingImport(SQLModel, table=True):
    """An uploaded JSON export between its preview and its confirmation: the file is kept
    here (in the shared database, so any app process can confirm it) under a random token
    bound to the user who uploaded it, until it is confirmed or expires."""

    __tablename__ = "pending_import"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    file_name: str = Field(max_length=255)
    sha256: str = Field(max_length=64)
    size: int
    content: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
