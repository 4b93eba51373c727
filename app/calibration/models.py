"""Calibration exercises: a reference observation trainees record too, never a finding."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class CalibrationExercise(SQLModel, table=True):
    __tablename__ = "calibration_exercise"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    reference_observation_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid, sa.ForeignKey("observation.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ExerciseInvite(SQLModel, table=True):
    """A trainee invited to an exercise, through an assignment on the reference's sitting:
    the observation made for that assignment is the trainee's attempt."""

    __tablename__ = "exercise_invite"
    __table_args__ = (sa.UniqueConstraint("exercise_id", "trainee_id"),)

    id: int | None = Field(default=None, primary_key=True)
    exercise_id: int = Field(
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("calibration_exercise.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    trainee_id: int = Field(foreign_key="user.id", index=True)
    assignment_id: int = Field(foreign_key="assignment.id", unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
