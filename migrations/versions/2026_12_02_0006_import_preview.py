"""import preview, placeholder observers, imported revisions

Uploaded JSON exports wait in pending_import between preview and confirmation; observers
named in a file stand as placeholder accounts (user.is_placeholder); a revision says where it
came from (observation_revision.source: phone or import) and, for an import, the file's name.
Protocol versions from a file have the status "imported" (no schema change: a text column).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pending_import", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pending_import_token"), ["token"], unique=True)
        batch_op.create_index(batch_op.f("ix_pending_import_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_pending_import_expires_at"), ["expires_at"], unique=False
        )
    # Plain ADD COLUMN (no batch rebuild: rebuilding "user" under stored rows trips SQLite's
    # foreign keys).
    op.add_column(
        "user",
        sa.Column("is_placeholder", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "observation_revision",
        sa.Column(
            "source",
            sqlmodel.sql.sqltypes.AutoString(length=20),
            server_default="phone",
            nullable=False,
        ),
    )
    op.add_column(
        "observation_revision",
        sa.Column("import_file_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    )
    # Accounts an earlier import made for a file's observers are placeholders.
    op.execute(
        sa.text(
            'UPDATE "user" SET is_placeholder = :yes '
            "WHERE email LIKE 'observer-%@imported.invalid'"
        ).bindparams(yes=True)
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+ has it), for the same reason.
    op.drop_column("observation_revision", "import_file_name")
    op.drop_column("observation_revision", "source")
    op.drop_column("user", "is_placeholder")
    op.drop_table("pending_import")
