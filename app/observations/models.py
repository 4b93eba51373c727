"""Observations, hearings, answers, turns and the append-only revisions behind them.

The current state of an observation (observation, hearing, answer, turn, hearing_speaker rows)
is rebuilt from the winning revision on every sync; revisions are never changed or deleted.
Answers and turns are rows so that analysis runs in SQL; answers are also kept as JSON on the
hearing for full-fidelity export.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import JSONType, UTCDateTime, utcnow


class ObservationStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"


class Observation(SQLModel, table=True):
    id: uuid.UUID = Field(primary_key=True)
    observer_id: int = Field(foreign_key="user.id", index=True)
    protocol_version_id: int = Field(foreign_key="protocol_version.id", index=True)
    assignment_id: int | None = Field(default=None, foreign_key="assignment.id", index=True)
    court_session_id: int = Field(foreign_key="court_session.id", index=True)
    status: str = Field(default=ObservationStatus.draft, max_length=20, index=True)
    session_answers: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    notes: str = ""
    # The revision whose content the rows below hold, and how many revisions exist.
    current_revision: int = 1
    revision_count: int = 1
    client_edited_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A trainer's reference record (e.g. their notes of a training video) for calibration.
    is_reference: bool = False
    # Two devices changed one hearing from the same revision: both are kept as revisions, the
    # later received is current; for staff to check.
    device_conflict: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Hearing(SQLModel, table=True):
    __table_args__ = (
        sa.Index("ix_hearing_observation_position", "observation_id", "position"),
        # Comparison: hearings and talk time per observation, read from the index alone.
        sa.Index("ix_hearing_observation_talk", "observation_id", "id", "talk_ms"),
    )

    id: uuid.UUID = Field(primary_key=True)
    observation_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid, sa.ForeignKey("observation.id", ondelete="CASCADE"), nullable=False
        )
    )
    position: int
    case_reference: str | None = Field(default=None, max_length=80, index=True)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answers: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    # Summaries of the turns, written at ingest so comparison need not scan every turn.
    turn_count: int = 0
    talk_ms: int = 0
    first_role: str | None = Field(default=None, max_length=40)
    last_role: str | None = Field(default=None, max_length=40)
    script: str = ""  # speaker roles with consecutive repeats merged, joined by ">"
    # The same script one character per role (SpeakerRole.code): compared in bulk.
    script_code: str = Field(default="", sa_column_kwargs={"server_default": ""})
    # A digest of the hearing as last written (app.observations.store.hearing_digest): a sync
    # rewrites the rows of changed hearings only. None: rewritten at the next write.
    content_hash: str | None = Field(default=None, max_length=64)
    # The phone's clock jumped while this hearing was open (its offsets follow the monotonic
    # clock); for staff to check (review queue, "flagged by the capture").
    clock_jump: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class SpeakerRole(SQLModel, table=True):
    """Every speaker role key met in a script, with a number of its own: a script is stored
    coded one character per role too (Hearing.script_code), for the comparison page's
    counting and edit distances. Rows are only ever added."""

    __tablename__ = "speaker_role"

    id: int | None = Field(default=None, primary_key=True)
    role: str = Field(max_length=40, unique=True)

    @property
    def code(self) -> str:
        return role_code(self.id)  # type: ignore[arg-type]


CODE_BASE = 0x100


def role_code(role_id: int) -> str:
    """The character a speaker role stands as in a coded script."""
    return chr(CODE_BASE + role_id)


class Answer(SQLModel, table=True):
    """One answer value; list answers (multi-choice, roles present) give one row per item."""

    __table_args__ = (
        sa.Index("ix_answer_key_value", "question_key", "value_text"),
        sa.Index("ix_answer_hearing_key", "hearing_id", "question_key"),
        # Comparison: answers per question, observation and value, read in index order.
        sa.Index(
            "ix_answer_key_observation_value",
            "question_key",
            "observation_id",
            "value_text",
            "hearing_id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    observation_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid, sa.ForeignKey("observation.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    hearing_id: uuid.UUID | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Uuid, sa.ForeignKey("hearing.id", ondelete="CASCADE"), nullable=True
        ),
    )
    question_key: str = Field(max_length=64)
    value_text: str | None = None
    value_number: float | None = None


class Turn(SQLModel, table=True):
    """One speaker turn: offsets in ms from the hearing's start, on the phone's monotonic clock."""

    __table_args__ = (sa.Index("ix_turn_hearing_seq", "hearing_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    hearing_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid, sa.ForeignKey("hearing.id", ondelete="CASCADE"), nullable=False
        )
    )
    seq: int
    role: str = Field(max_length=40, index=True)
    start_ms: int
    end_ms: int | None = None


class HearingSpeaker(SQLModel, table=True):
    """Per hearing and role: number of turns and talk time (a summary of Turn rows)."""

    __tablename__ = "hearing_speaker"
    # Comparison: the summaries of a hearing read from the index alone.
    __table_args__ = (
        sa.Index("ix_hearing_speaker_cover", "hearing_id", "role", "turn_count", "talk_ms"),
    )

    hearing_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid, sa.ForeignKey("hearing.id", ondelete="CASCADE"), primary_key=True
        )
    )
    role: str = Field(max_length=40, primary_key=True)
    turn_count: int
    talk_ms: int


class ObservationSummary(SQLModel, table=True):
    """An observation's figures for the comparison page, written with its hearing rows: one
    small row per observation instead of many per hearing.

    speakers: role → [turns, talk ms, hearings the role spoke in, opened (spoke first),
    closed (spoke last)]. questions: hearing-level question key → [hearings that answered it,
    answer rows marking the thing absent (by the observation's protocol version: a "No", a
    choice marked absent), answer rows "not observed"]."""

    __tablename__ = "observation_summary"

    observation_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid, sa.ForeignKey("observation.id", ondelete="CASCADE"), primary_key=True
        )
    )
    hearings: int
    talk_ms: int
    speakers: dict[str, list[int]] = Field(default_factory=dict, sa_type=JSONType)
    questions: dict[str, list[int]] = Field(default_factory=dict, sa_type=JSONType)
    # Its observation_pair rows are worked out (written since they exist, or rebuilt): else
    # the comparison page works its agreement out from the hearings.
    paired: bool = False


class ObservationPair(SQLModel, table=True):
    """Two observations of one sitting by two observers (the first is the lower observer
    id's), as app.observations.pairs works them out: matched hearings, per categorical
    question the answer pairs with their numbers ([[first's, second's, n], ...]), and the
    normalised edit distances between matched hearings' scripts (sum, and how many)."""

    __tablename__ = "observation_pair"

    first_observation_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid, sa.ForeignKey("observation.id", ondelete="CASCADE"), primary_key=True
        )
    )
    second_observation_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid,
            sa.ForeignKey("observation.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        )
    )
    hearings: int
    tallies: dict[str, list[list[Any]]] = Field(default_factory=dict, sa_type=JSONType)
    distance_sum: float
    scripts: int


class ObservationValue(SQLModel, table=True):
    """Per observation, hearing-level question and value: how many answer rows have it (a
    tally of the hearing-level Answer rows; value_text and value_number as there: a number has
    value_text NULL and its value_number, "none of these" both NULL)."""

    __tablename__ = "observation_value"
    # Counting per question and value reads this index in order (no sort).
    __table_args__ = (
        sa.Index(
            "ix_observation_value_cover", "question_key", "value_text", "observation_id", "answers"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    observation_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid, sa.ForeignKey("observation.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    question_key: str = Field(max_length=64)
    value_text: str | None = None
    value_number: float | None = None
    answers: int


class RevisionSource(StrEnum):
    phone = "phone"  # sent by the observer's phone (sync, or a backup file they uploaded)
    import_ = "import"  # from a JSON export file, by the user who imported it


class ObservationRevision(SQLModel, table=True):
    """Every version of an observation the server ever received. Append-only.

    user_id is who really made the revision: the observer for a phone's revision, the
    importing user for an imported one (the observer stays the observation's observer_id)."""

    __tablename__ = "observation_revision"
    __table_args__ = (sa.UniqueConstraint("observation_id", "revision"),)

    id: int | None = Field(default=None, primary_key=True)
    observation_id: uuid.UUID = Field(
        sa_column=sa.Column(
            sa.Uuid, sa.ForeignKey("observation.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    revision: int
    user_id: int = Field(foreign_key="user.id")
    status: str = Field(max_length=20)
    client_edited_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    based_on_revision: int | None = None
    payload_hash: str = Field(max_length=64, index=True)
    payload: dict[str, Any] = Field(sa_type=JSONType)
    source: str = Field(
        default=RevisionSource.phone, max_length=20, sa_column_kwargs={"server_default": "phone"}
    )
    # For an imported revision: the file it came from (received_at is when).
    import_file_name: str | None = Field(default=None, max_length=255)
