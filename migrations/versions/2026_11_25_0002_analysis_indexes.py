"""analysis indexes

Covering indexes for the comparison page, so its GROUP BY queries read an index in order
instead of the (wide) tables: answers per question, observation and value; hearings per
observation with their talk time; speaker summaries per hearing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 07:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.create_index(
            "ix_answer_key_observation_value",
            ["question_key", "observation_id", "value_text", "hearing_id"],
            unique=False,
        )
    with op.batch_alter_table("hearing", schema=None) as batch_op:
        batch_op.create_index(
            "ix_hearing_observation_talk", ["observation_id", "id", "talk_ms"], unique=False
        )
    with op.batch_alter_table("hearing_speaker", schema=None) as batch_op:
        batch_op.create_index(
            "ix_hearing_speaker_cover",
            ["hearing_id", "role", "turn_count", "talk_ms"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("hearing_speaker", schema=None) as batch_op:
        batch_op.drop_index("ix_hearing_speaker_cover")
    with op.batch_alter_table("hearing", schema=None) as batch_op:
        batch_op.drop_index("ix_hearing_observation_talk")
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.drop_index("ix_answer_key_observation_value")
