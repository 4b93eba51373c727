"""The sync contract (JSON API /api/v1): what the phone sends and what it gets back.

Shared by the sync API, the capture page's outbox (app/static/js) and the JSON export/import.
Times: `client_edited_at`, `started_at`, `ended_at` are the phone's wall clock (ISO 8601 with
offset); turn offsets are milliseconds from the hearing's start on the phone's monotonic clock.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ItemResultKind = Literal["created", "updated", "unchanged", "invalid"]


class TurnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str = Field(min_length=1, max_length=40)
    start_ms: int = Field(ge=0)
    end_ms: int | None = Field(default=None, ge=0)


class HearingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID
    position: int = Field(ge=0, le=10_000)
    case_reference: str | None = Field(default=None, max_length=80)
    started_at: datetime | None = None
    ended_at: datetime | None = None
    answers: dict[str, Any] = Field(default_factory=dict)
    turns: list[TurnIn] = Field(default_factory=list, max_length=2_000)


class CourtDetails(BaseModel):
    """Where and when, for an observation made without an assignment."""

    model_config = ConfigDict(extra="forbid")

    court: str = Field(min_length=1, max_length=200)
    courtroom: str = Field(min_length=1, max_length=60)
    session_date: date
    start_time: time | None = None
    judge: str | None = Field(default=None, max_length=200)
    calendar_type: str = Field(default="sentencing", max_length=40)


class ObservationIn(BaseModel):
    """One whole observation as the phone holds it."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID
    protocol_version_id: int
    assignment_id: int | None = None
    court: CourtDetails | None = None  # required when assignment_id is None
    status: Literal["draft", "submitted"] = "draft"
    session_answers: dict[str, Any] = Field(default_factory=dict)
    notes: str = Field(default="", max_length=20_000)
    hearings: list[HearingIn] = Field(default_factory=list, max_length=500)
    client_edited_at: datetime
    based_on_revision: int | None = Field(default=None, ge=1)
    device_id: str | None = Field(default=None, max_length=64)


class FieldErrorOut(BaseModel):
    loc: str  # e.g. "hearings[2].answers.victim_present", "hearings[0].turns[3].end_ms"
    msg: str


class ItemResult(BaseModel):
    id: uuid.UUID | None  # None only when the item had no readable id
    index: int  # position of the item in the batch
    result: ItemResultKind
    revision: int | None = None  # the server's current revision of this observation
    errors: list[FieldErrorOut] = Field(default_factory=list)
    reason: str | None = None  # a sentence for the volunteer when result is "invalid"


class BatchOut(BaseModel):
    results: list[ItemResult]
    server_time: datetime
