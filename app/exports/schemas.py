"""The JSON export document, as the import reads it back (pydantic, strict about shape)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.sync.schemas import CourtDetails, HearingIn


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProtocolEntry(_Doc):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    version: int = Field(ge=1)
    status: Literal["published", "retired", "imported"]
    definition: dict[str, Any]


class ObserverEntry(_Doc):
    ref: str = Field(min_length=1, max_length=254)
    display_name: str | None = Field(default=None, max_length=120)
    email: str | None = Field(default=None, max_length=254)


class ProtocolRef(_Doc):
    name: str
    version: int


class ReviewEntry(_Doc):
    state: Literal["received", "approved", "has_issues"]
    comment: str | None = Field(default=None, max_length=2000)


class ObservationEntry(_Doc):
    id: uuid.UUID
    observer: str
    protocol: ProtocolRef
    court: CourtDetails
    status: Literal["draft", "submitted"]
    session_answers: dict[str, Any] = Field(default_factory=dict)
    notes: str = Field(default="", max_length=20_000)
    hearings: list[HearingIn] = Field(default_factory=list, max_length=500)
    client_edited_at: datetime
    received_at: datetime | None = None
    submitted_at: datetime | None = None
    revision: int = Field(default=1, ge=1)
    revision_count: int = Field(default=1, ge=1)
    is_reference: bool = False
    # The review state when exported (for reading; an import does not carry it over).
    review: ReviewEntry | None = None


class ExportDocument(_Doc):
    format: Literal["courtwatch-observations"]
    format_version: Literal[1]
    exported_at: datetime | None = None
    set: dict[str, Any] | None = None
    options: dict[str, Any] | None = None
    protocols: list[ProtocolEntry]
    observers: list[ObserverEntry]
    observations: list[ObservationEntry]
