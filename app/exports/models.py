"""Observation sets (a filter an organizer names and keeps) and their background exports."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
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


class ExportJobState(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    expired = "expired"  # done, and its file deleted after EXPORT_KEEP_HOURS


class ExportJob(SQLModel, table=True):
    """A large export made in the background by whichever app process claims it, so no
    request waits for it; its file is kept for a while where every process can serve it."""

    __tablename__ = "export_job"
    __table_args__ = (sa.Index("ix_export_job_state_created", "state", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    set_id: int | None = Field(
        default=None, foreign_key="observation_set.id", index=True, ondelete="SET NULL"
    )
    set_name: str = Field(max_length=200)  # kept for the file name if the set is deleted
    format: str = Field(max_length=10)  # csv (zip), xlsx, json
    options: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    filters: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)  # the set's, then
    requested_by_id: int = Field(foreign_key="user.id", index=True)
    state: str = Field(default=ExportJobState.queued, max_length=20)
    progress_done: int = 0
    progress_total: int = 0
    attempts: int = 0
    worker: str | None = Field(default=None, max_length=120)  # host:pid of the claimer
    file_path: str | None = None
    file_name: str | None = Field(default=None, max_length=200)
    file_bytes: int | None = Field(default=None, sa_type=sa.BigInteger)
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
