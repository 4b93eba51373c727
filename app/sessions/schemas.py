"""What the sessions pages accept (forms) and what the service hands out (views, the pack part)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app import i18n
from app.forms import field_errors
from app.i18n import N_, gettext
from app.sessions.models import AssignmentStatus, CalendarType

CALENDAR_LABELS: dict[str, str] = {
    CalendarType.sentencing: N_("Sentencing"),
    CalendarType.arraignment: N_("Arraignment"),
    CalendarType.pretrial: N_("Pre-trial"),
    CalendarType.review: N_("Review"),
    CalendarType.plea: N_("Plea"),
    CalendarType.probation_violation: N_("Probation violation"),
    CalendarType.other: N_("Other"),
}
STATUS_LABELS: dict[str, str] = {
    AssignmentStatus.assigned: N_("assigned"),
    AssignmentStatus.in_progress: N_("in progress"),
    AssignmentStatus.submitted: N_("submitted"),
    AssignmentStatus.cancelled: N_("cancelled"),
}
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# Court calendars are set months ahead, rarely years: a date far outside this is a typo.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
MAX_OCCURRENCES = 52


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _tidy(value: Any) -> Any:
    return " ".join(value.split()) if isinstance(value, str) else value


class _Form(BaseModel):
    model_config = ConfigDict(extra="ignore")


class WhereFields(_Form):
    """Court, courtroom, calendar and judge: shared by the single and the recurring form."""

    court: str = Field(min_length=1, max_length=200)
    courtroom: str = Field(min_length=1, max_length=60)
    calendar_type: CalendarType
    judge: str | None = Field(default=None, max_length=200)
    start_time: time | None = None
    notes: str = Field(default="", max_length=2000)
    # Ticked by the trainer when a name that looks like an existing one really is a new one.
    court_is_new: bool = False
    judge_is_new: bool = False

    @field_validator("court", "courtroom", "notes", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return _tidy(value) if isinstance(value, str) else value

    @field_validator("judge", "start_time", mode="before")
    @classmethod
    def _optional(cls, value: Any) -> Any:
        return _tidy(_blank_to_none(value))

    @field_validator("court_is_new", "judge_is_new", mode="before")
    @classmethod
    def _checkbox(cls, value: Any) -> Any:
        return value not in (None, "", "0", "false", "off", False)


def _check_year(value: date) -> date:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(
            gettext(
                "Enter a date between %(first)s and %(last)s.",
                first=EARLIEST_YEAR,
                last=LATEST_YEAR,
            )
        )
    return value


class CourtSessionIn(WhereFields):
    """One sitting."""

    session_date: date

    @field_validator("session_date")
    @classmethod
    def _year(cls, value: date) -> date:
        return _check_year(value)


class RecurrenceIn(WhereFields):
    """A recurring calendar: one weekday, from a first date, for N weeks or until an end date."""

    weekday: int = Field(ge=0, le=6)
    start_date: date
    weeks: int | None = Field(default=None, ge=1, le=MAX_OCCURRENCES)
    end_date: date | None = None

    @field_validator("weeks", "end_date", mode="before")
    @classmethod
    def _optional_number(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("start_date", "end_date")
    @classmethod
    def _year(cls, value: date | None) -> date | None:
        return _check_year(value) if value is not None else None


class AssignIn(_Form):
    volunteer_ids: list[int] = Field(min_length=1, max_length=50)
    protocol_version_id: int


_MESSAGES = {
    "session_date": N_("Enter the date of the sitting, like 2026-12-01."),
    "start_date": N_("Enter the first date, like 2026-12-01."),
    "end_date": N_("Enter the end date, like 2027-01-31, or leave it empty."),
    "start_time": N_("Enter a time like 09:00, or leave it empty."),
    "calendar_type": N_("Choose a calendar type."),
    "weekday": N_("Choose a weekday."),
    "weeks": N_("Enter a number of weeks from 1 to %(num)s, or leave it empty."),
    "volunteer_ids": N_("Choose at least one volunteer."),
    "protocol_version_id": N_("Choose a published protocol version."),
}
# Pydantic's wording is fine for these; for the typed fields above ours is clearer.
_KEEP_PYDANTIC = {"value_error", "string_too_long"}
# Picked from a list: "choose" says more than "required".
_CHOICES = {"calendar_type", "weekday", "volunteer_ids", "protocol_version_id"}


def _message(name: str) -> str:
    return (
        gettext(_MESSAGES[name], num=MAX_OCCURRENCES)
        if name == "weeks"
        else gettext(_MESSAGES[name])
    )


def parse_form(model: type[_Form], data: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    """(the model or None, {field: message}) for a submitted form."""
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        errors = field_errors(exc)
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "__all__"
            empty = err["type"] == "missing" or err.get("input") in ("", None)
            if empty and name not in _CHOICES:
                errors[name] = gettext("This field is required.")
            elif name in _MESSAGES and err["type"] not in _KEEP_PYDANTIC:
                errors[name] = _message(name)
        # "volunteer_ids.0" and the like: report on the field the person sees.
        for key in [k for k in errors if "." in k]:
            field = key.split(".", 1)[0]
            errors.setdefault(field, _message(field) if field in _MESSAGES else errors[key])
            del errors[key]
        return None, errors


# --- what the service hands out ----------------------------------------------------------


@dataclass
class SessionInfo:
    """A court session with its court and judge names."""

    id: int
    court_id: int
    court: str
    courtroom: str
    session_date: date
    start_time: time | None
    calendar_type: str
    judge_id: int | None
    judge: str | None
    notes: str = ""
    series_id: str | None = None

    @property
    def calendar_label(self) -> str:
        return i18n.label(CALENDAR_LABELS, self.calendar_type)

    @property
    def time_label(self) -> str:
        return self.start_time.strftime("%H:%M") if self.start_time else ""


@dataclass
class ObservationBack:
    """What came back for an assignment: the observation the volunteer sent."""

    id: uuid.UUID
    status: str
    hearing_count: int
    received_at: datetime
    submitted_at: datetime | None


@dataclass
class AssignmentView:
    id: int
    status: str
    volunteer_id: int
    volunteer_name: str
    protocol_version_id: int
    protocol_name: str
    protocol_version: int
    court_session: SessionInfo
    created_at: datetime
    updated_at: datetime
    observation: ObservationBack | None = None

    @property
    def status_label(self) -> str:
        return i18n.label(STATUS_LABELS, self.status)

    @property
    def capture_url(self) -> str:
        return f"/capture?assignment={self.id}"


@dataclass
class MyAssignments:
    """A volunteer's assignments: today's by time, upcoming soonest first, past latest first."""

    today: list[AssignmentView] = field(default_factory=list)
    upcoming: list[AssignmentView] = field(default_factory=list)
    past: list[AssignmentView] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.today) + len(self.upcoming) + len(self.past)


@dataclass
class SessionRow:
    """One line of the trainer's list: the session and how its assignments stand."""

    info: SessionInfo
    assigned: int
    in_progress: int
    submitted: int

    @property
    def active(self) -> int:
        return self.assigned + self.in_progress + self.submitted


@dataclass
class VolunteerRow:
    id: int
    name: str
    email: str
    role: str
    assigned: int
    in_progress: int
    submitted: int
    adhoc: int


@dataclass
class PublishedVersion:
    id: int
    protocol_id: int
    protocol_name: str
    version: int

    @property
    def label(self) -> str:
        return f"{self.protocol_name} — v{self.version}"


@dataclass
class PlannedDate:
    """One date of a recurring calendar, and whether an identical sitting already exists."""

    day: date
    exists: bool = False


class Choices(BaseModel):
    """Names offered in datalists and on the phone's ad hoc form."""

    courts: list[str] = Field(default_factory=list)
    judges: list[str] = Field(default_factory=list)
    courtrooms: list[str] = Field(default_factory=list)


# --- the sessions part of the offline pack ------------------------------------------------


class PackCourtSession(BaseModel):
    id: int
    court: str
    courtroom: str
    session_date: date
    start_time: time | None
    calendar_type: str
    judge: str | None


class PackAssignment(BaseModel):
    id: int
    status: str
    protocol_version_id: int
    court_session_id: int
    observation_id: uuid.UUID | None = None
    court_session: PackCourtSession
