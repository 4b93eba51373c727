"""Review of submitted observations: the current state, and every change of it."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow
from app.i18n import N_


class ReviewState(StrEnum):
    received = "received"
    approved = "approved"
    has_issues = "has_issues"


REVIEW_LABELS = {
    ReviewState.received: N_("Received"),
    ReviewState.approved: N_("Approved"),
    ReviewState.has_issues: N_("Has issues"),
}


class ObservationReview(SQLModel, table=True):
    """The review state of one submitted observation (no row yet: received)."""

    __tablename__ = "observation_review"

    observation_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid, sa.ForeignKey("observation.id", ondelete="CASCADE"), primary_key=True
        )
    )
    state: str = Field(default=ReviewState.received, max_length=20, index=True)
    # The comment of the latest "has issues" (what the volunteer is asked to fix).
    comment: str = ""
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReviewEvent(SQLModel, table=True):
    """One change of review state, kept for ever: who, when, the revision looked at."""

    __tablename__ = "review_event"

    id: int | None = Field(default=None, primary_key=True)
    observation_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid, sa.ForeignKey("observation.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    state: str = Field(max_length=20)
    comment: str = ""
    revision: int
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
