"""Courts, judges, court sessions (one sitting of one calendar) and assignments."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class CalendarType(StrEnum):
    sentencing = "sentencing"
    arraignment = "arraignment"
    pretrial = "pretrial"
    review = "review"
    plea = "plea"
    probation_violation = "probation_violation"
    other = "other"


class AssignmentStatus(StrEnum):
    assigned = "assigned"
    in_progress = "in_progress"
    submitted = "submitted"
    cancelled = "cancelled"


class Court(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    # Lower-cased, punctuation and spacing folded: two spellings of one court meet here.
    name_key: str = Field(max_length=200, unique=True)


class Judge(SQLModel, table=True):
    """A presiding judge: a public official, named as on the court's calendar."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200, unique=True)


class CourtSession(SQLModel, table=True):
    __tablename__ = "court_session"
    # One sitting per court, courtroom (any case), date and calendar type: phones that create
    # the same ad hoc sitting at once converge on one row (INSERT … ON CONFLICT DO NOTHING),
    # so its observers are compared. The start time and judge are filled in, not keyed on.
    __table_args__ = (
        sa.Index(
            "uq_court_session_sitting",
            "court_id",
            sa.text("lower(courtroom)"),
            "session_date",
            "calendar_type",
            unique=True,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    court_id: int = Field(foreign_key="court.id", index=True)
    courtroom: str = Field(max_length=60, index=True)
    session_date: date = Field(index=True)
    start_time: time | None = None
    calendar_type: str = Field(max_length=40, index=True)
    judge_id: int | None = Field(default=None, foreign_key="judge.id", index=True)
    notes: str = ""
    # Sessions made together as a recurring calendar share a series id.
    series_id: str | None = Field(default=None, max_length=36, index=True)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Assignment(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_assignment_volunteer_status", "volunteer_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    court_session_id: int = Field(foreign_key="court_session.id", index=True)
    volunteer_id: int = Field(foreign_key="user.id", index=True)
    protocol_version_id: int = Field(foreign_key="protocol_version.id", index=True)
    status: str = Field(default=AssignmentStatus.assigned, max_length=20)
    assigned_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
