"""Scheduling: conflicts of interest, sittings open for sign-up, calendar feed tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class ConflictOfInterest(SQLModel, table=True):
    """What a volunteer declares: a judge, a court, or a relationship in their own words.
    A judge or court conflict keeps them off those sittings; a relationship is shown to
    trainers when they assign."""

    __tablename__ = "conflict_of_interest"

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    judge_id: int | None = Field(default=None, foreign_key="judge.id")
    court_id: int | None = Field(default=None, foreign_key="court.id")
    relationship: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SittingSignup(SQLModel, table=True):
    """A sitting opened for volunteers to sign up to themselves, with a number of places."""

    __tablename__ = "sitting_signup"

    court_session_id: int = Field(
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("court_session.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    places: int
    protocol_version_id: int = Field(foreign_key="protocol_version.id")
    opened_by_id: int | None = Field(default=None, foreign_key="user.id")
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CalendarFeed(SQLModel, table=True):
    """A volunteer's private iCalendar address: the token is the only key, renewable."""

    __tablename__ = "calendar_feed"

    user_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
        )
    )
    token: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
