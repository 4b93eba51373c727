"""user language

The interface language a user chose (None follows the browser's Accept-Language).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "user",
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    )


def downgrade() -> None:
    # A plain DROP COLUMN: a batch copy of "user" on SQLite trips the foreign keys of the
    # rows that point at it.
    op.drop_column("user", "language")
