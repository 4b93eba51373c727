"""The sync contract (JSON API /api/v1): what the phone sends and what it gets back.

Shared by the sync API, the capture page's outbox (app/static/js) and the JSON export/import.
Times: `client_edited_at`, `started_at`, `ended_at` are the phone's wall clock (ISO 8601 with
offset); turn offsets are milliseconds from the hearing's start on the phone's monotonic clock.

Types are strict (pydantic strict mode): "3" is not a number and 1764000000 is not a time. JSON
has no date, time or UUID type, so those fields take text (never a number) and parse it; every
integer is bounded by what its column holds on both backends (app/bounds.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from app.bounds import INT32_MAX
from app.sessions.schemas import CALENDAR_LABELS

ItemResultKind = Literal["created", "updated", "unchanged", "invalid"]


def _text_or(kind: type, example: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, str | kind):
            return value
        raise ValueError(f"give it as text, like {example}")

    return check


def _fits_utc(value: datetime) -> datetime:
    # 9999-12-31T23:59-01:00 is a valid ISO time but past year 9999 in UTC: refuse it here
    # rather than fail when it is stored.
    if value.tzinfo is not None:
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValueError("this time is outside the years 1 to 9999 in UTC") from None
    return value


_Lax = Field(strict=False)
JsonDateTime = Annotated[
    datetime,
    _Lax,
    BeforeValidator(_text_or(datetime, "2026-11-24T09:00:00Z")),
    AfterValidator(_fits_utc),
]
JsonDate = Annotated[date, _Lax, BeforeValidator(_text_or(date, "2026-11-24"))]
JsonTime = Annotated[time, _Lax, BeforeValidator(_text_or(time, "09:00"))]
JsonUUID = Annotated[
    uuid.UUID, _Lax, BeforeValidator(_text_or(uuid.UUID, "9b2d5c1e-0f7a-4c43-9d1e-2a6f0c3b8e11"))
]
RowRef = Annotated[int, Field(ge=1, le=INT32_MAX)]
Millis = Annotated[int, Field(ge=0, le=INT32_MAX)]  # about 24 days: longer than any hearing


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TurnIn(_Contract):
    role: str = Field(min_length=1, max_length=40)
    start_ms: Millis
    end_ms: Millis | None = None


class HearingIn(_Contract):
    id: JsonUUID
    position: int = Field(ge=0, le=10_000)
    case_reference: str | None = Field(default=None, max_length=80)
    started_at: JsonDateTime | None = None
    ended_at: JsonDateTime | None = None
    answers: dict[str, Any] = Field(default_factory=dict)
    turns: list[TurnIn] = Field(default_factory=list, max_length=2_000)
    # How far the phone's wall clock moved while the hearing was open (ms, + ahead): the
    # offsets follow the monotonic clock regardless; staff see the hearing flagged.
    clock_jump_ms: int | None = Field(default=None, ge=-(10**12), le=10**12)


class CourtDetails(_Contract):
    """Where and when, for an observation made without an assignment."""

    court: str = Field(min_length=1, max_length=200)
    courtroom: str = Field(min_length=1, max_length=60)
    session_date: JsonDate
    start_time: JsonTime | None = None
    judge: str | None = Field(default=None, max_length=200)
    # The service names the calendar types in its message when the value is not one of them.
    calendar_type: str = Field(
        default="sentencing", max_length=40, json_schema_extra={"enum": list(CALENDAR_LABELS)}
    )


class ObservationIn(_Contract):
    """One whole observation as the phone holds it."""

    id: JsonUUID
    protocol_version_id: RowRef
    assignment_id: RowRef | None = None
    court: CourtDetails | None = None  # required when assignment_id is None
    status: Literal["draft", "submitted"] = "draft"
    session_answers: dict[str, Any] = Field(default_factory=dict)
    notes: str = Field(default="", max_length=20_000)
    hearings: list[HearingIn] = Field(default_factory=list, max_length=500)
    client_edited_at: JsonDateTime
    based_on_revision: RowRef | None = None
    device_id: str | None = Field(default=None, max_length=64)


class FieldErrorOut(BaseModel):
    loc: str  # e.g. "hearings[2].answers.victim_present", "hearings[0].turns[3].end_ms"
    msg: str


class ItemResult(BaseModel):
    id: uuid.UUID | None  # None only when the item had no readable id
    index: int  # position of the item in the batch
    result: ItemResultKind
    revision: int | None = None  # the server's current revision of this observation
    # The server's current copy is not what was sent (merged with another device's edit, or
    # an older edit kept beside a later one): fetch it before calling the phone synced.
    server_copy_differs: bool = False
    errors: list[FieldErrorOut] = Field(default_factory=list)
    reason: str | None = None  # a sentence for the volunteer when result is "invalid"


class BatchOut(BaseModel):
    results: list[ItemResult]
    server_time: datetime
