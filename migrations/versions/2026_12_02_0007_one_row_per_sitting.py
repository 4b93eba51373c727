"""one row per sitting

Sittings become unique on (court, courtroom in any case, date, calendar type): a unique index
on (court_id, lower(courtroom), session_date, calendar_type), which the sync writes with
INSERT … ON CONFLICT DO NOTHING so that phones creating one ad hoc sitting at once converge on
one row. Concurrent ad hoc syncs made duplicates before: they are merged first into the oldest
row (observations and assignments moved, a missing judge, start time or notes taken from the
others), and the agreement pairs of every merged sitting worked out again, as
`courtwatch db rebuild-summaries` does, so that its observers are compared. The courtroom
column is NOT NULL, so no NULL slips past the index. Downgrade drops the index only (merged
sittings stay merged).

Revision ID: 0007
Revises: 0014
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_court_session_sitting"

court_session = sa.table(
    "court_session",
    sa.column("id", sa.Integer),
    sa.column("court_id", sa.Integer),
    sa.column("courtroom", sa.String),
    sa.column("session_date", sa.Date),
    sa.column("calendar_type", sa.String),
    sa.column("start_time", sa.Time),
    sa.column("judge_id", sa.Integer),
    sa.column("notes", sa.String),
)
# Every table whose rows belong to a sitting (as of this revision).
SITTING_CHILDREN = ("observation", "assignment")


def merge_duplicate_sittings(connection: sa.Connection) -> list[int]:
    """Fold every group of sittings with one (court, lower(courtroom), date, calendar type)
    into its lowest id; the ids kept for groups that had duplicates."""
    c = court_session.c
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for row in connection.execute(
        sa.select(
            c.id,
            c.court_id,
            sa.func.lower(c.courtroom),
            c.session_date,
            c.calendar_type,
            c.start_time,
            c.judge_id,
            c.notes,
        ).order_by(c.id)
    ):
        groups.setdefault(tuple(row[1:5]), []).append(row)
    kept_ids = []
    for rows in groups.values():
        if len(rows) < 2:
            continue
        kept, others = rows[0], rows[1:]
        other_ids = [row.id for row in others]
        notes = [n for n in dict.fromkeys(row.notes.strip() for row in rows if row.notes) if n]
        connection.execute(
            sa.update(court_session)
            .where(c.id == kept.id)
            .values(
                judge_id=next((r.judge_id for r in rows if r.judge_id is not None), None),
                start_time=next((r.start_time for r in rows if r.start_time is not None), None),
                notes="\n".join(notes),
            )
        )
        for child in SITTING_CHILDREN:
            table = sa.table(child, sa.column("court_session_id", sa.Integer))
            connection.execute(
                sa.update(table)
                .where(table.c.court_session_id.in_(other_ids))
                .values(court_session_id=kept.id)
            )
        connection.execute(sa.delete(court_session).where(c.id.in_(other_ids)))
        kept_ids.append(kept.id)
    return kept_ids


def upgrade() -> None:
    from app.observations import pairs

    connection = op.get_bind()
    merged = merge_duplicate_sittings(connection)
    if merged:
        pairs.rebuild_pairs(connection, court_session_ids=merged)
    op.create_index(
        INDEX,
        "court_session",
        ["court_id", sa.text("lower(courtroom)"), "session_date", "calendar_type"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="court_session")
