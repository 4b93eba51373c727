"""observation_value counts numbers too

Count and number answers (jail days, probation months) are stored with value_number, not
value_text, so observation_value tallied them all as one NULL value: the comparison could not
show them. The tally now keeps value_number beside value_text, and the rows with no text are
counted again from the answer rows.

Revision ID: 0010
Revises: 0013
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("observation_value", schema=None) as batch_op:
        batch_op.add_column(sa.Column("value_number", sa.Float(), nullable=True))
    op.execute("DELETE FROM observation_value WHERE value_text IS NULL")
    op.execute(
        """INSERT INTO observation_value
            (observation_id, question_key, value_text, value_number, answers)
        SELECT observation_id, question_key, NULL, value_number, COUNT(*)
        FROM answer WHERE hearing_id IS NOT NULL AND value_text IS NULL
        GROUP BY observation_id, question_key, value_number"""
    )


def downgrade() -> None:
    with op.batch_alter_table("observation_value", schema=None) as batch_op:
        batch_op.drop_column("value_number")
