"""Observation sets: a filter an organizer names and keeps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
