"""review states, conflicts of interest, sign-up, calendar feeds, calibration exercises

observation_review (one row per reviewed observation; none yet means "received") and
review_event (every change, append-only); conflict_of_interest, sitting_signup and
calendar_feed for scheduling; calibration_exercise and exercise_invite.

Revision ID: 0011
Revises: 0006
Create Date: 2026-12-02 07:49:20.224923
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = "0011"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_feed",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
        sa.UniqueConstraint("token"),
    )
    op.create_table(
        "conflict_of_interest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("judge_id", sa.Integer(), nullable=True),
        sa.Column("court_id", sa.Integer(), nullable=True),
        sa.Column("relationship", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["court_id"],
            ["court.id"],
        ),
        sa.ForeignKeyConstraint(
            ["judge_id"],
            ["judge.id"],
        ),
        sa.ForeignKeyConstraint(["volunteer_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("conflict_of_interest", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conflict_of_interest_volunteer_id"), ["volunteer_id"], unique=False
        )

    op.create_table(
        "sitting_signup",
        sa.Column("court_session_id", sa.Integer(), nullable=False),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.Column("protocol_version_id", sa.Integer(), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["court_session_id"], ["court_session.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["opened_by_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["protocol_version_id"],
            ["protocol_version.id"],
        ),
        sa.PrimaryKeyConstraint("court_session_id"),
    )
    op.create_table(
        "calibration_exercise",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("reference_observation_id", sa.Uuid(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reference_observation_id"], ["observation.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("calibration_exercise", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calibration_exercise_reference_observation_id"),
            ["reference_observation_id"],
            unique=False,
        )

    op.create_table(
        "observation_review",
        sa.Column("observation_id", sa.Uuid(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["observation_id"], ["observation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("observation_id"),
    )
    with op.batch_alter_table("observation_review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_observation_review_state"), ["state"], unique=False)

    op.create_table(
        "review_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("observation_id", sa.Uuid(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(["observation_id"], ["observation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("review_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_event_observation_id"), ["observation_id"], unique=False
        )

    op.create_table(
        "exercise_invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignment.id"],
        ),
        sa.ForeignKeyConstraint(["exercise_id"], ["calibration_exercise.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["trainee_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("assignment_id"),
        sa.UniqueConstraint("exercise_id", "trainee_id"),
    )
    with op.batch_alter_table("exercise_invite", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exercise_invite_exercise_id"), ["exercise_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exercise_invite_trainee_id"), ["trainee_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("exercise_invite", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exercise_invite_trainee_id"))
        batch_op.drop_index(batch_op.f("ix_exercise_invite_exercise_id"))

    op.drop_table("exercise_invite")
    with op.batch_alter_table("review_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_event_observation_id"))

    op.drop_table("review_event")
    with op.batch_alter_table("observation_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observation_review_state"))

    op.drop_table("observation_review")
    with op.batch_alter_table("calibration_exercise", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calibration_exercise_reference_observation_id"))

    op.drop_table("calibration_exercise")
    op.drop_table("sitting_signup")
    with op.batch_alter_table("conflict_of_interest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conflict_of_interest_volunteer_id"))

    op.drop_table("conflict_of_interest")
    op.drop_table("calendar_feed")
