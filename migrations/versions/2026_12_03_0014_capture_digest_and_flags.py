"""capture digest and flags

A digest of each hearing as the phone last sent it (its position, case reference, times,
answers and turns). A phone sends its whole calendar on every sync, one hearing longer each
time; with the digest, the sync rewrites the answer, turn and speaker rows of the hearings
that changed only. Rows stored before have none and are rewritten at their next sync.

Two flags for staff, which the review queue's "flagged by the capture" filter reads:
hearing.clock_jump (the phone's clock moved while the hearing was open; its offsets were kept
on the monotonic clock) and observation.device_conflict (two devices changed one hearing from
the same revision; both are kept as revisions, the later received is current).

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "hearing",
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    )
    op.add_column(
        "hearing",
        sa.Column("clock_jump", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "observation",
        sa.Column("device_conflict", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("observation", "device_conflict")
    op.drop_column("hearing", "clock_jump")
    op.drop_column("hearing", "content_hash")
