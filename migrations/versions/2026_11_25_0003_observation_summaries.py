"""observation summaries

For the comparison page: speaker scripts coded one character per role (speaker_role numbers
the roles; hearing.script_code), and per-observation figures written with the hearing rows:
one observation_summary row per observation (hearings, talk time, per role: turns, talk time,
hearings spoken in, opened, closed; per hearing-level question: hearings answering, answers
marking absence, "not observed"), observation_value (a tally of the hearing-level answer rows
per question and value) and observation_pair (agreement figures between two observers'
observations of one sitting). All but the pairs are filled here from the rows already stored
(as app.observations.store writes them); pairs are left to "courtwatch db rebuild-summaries"
(until then the page works agreement out from the hearings).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:00:00
"""

import json
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "speaker_role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("role"),
    )
    # A plain ADD COLUMN (no batch mode: on SQLite that copies the table, and dropping the old
    # one would cascade to the answers, turns and speakers of every hearing).
    op.add_column(
        "hearing",
        sa.Column(
            "script_code", sqlmodel.sql.sqltypes.AutoString(), server_default="", nullable=False
        ),
    )
    _code_scripts(op.get_bind())
    summary = op.create_table(
        "observation_summary",
        sa.Column("observation_id", sa.Uuid(), nullable=False),
        sa.Column("hearings", sa.Integer(), nullable=False),
        sa.Column("talk_ms", sa.Integer(), nullable=False),
        sa.Column("speakers", JSON, nullable=False),
        sa.Column("questions", JSON, nullable=False),
        sa.Column("paired", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["observation_id"], ["observation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("observation_id"),
    )
    op.create_table(
        "observation_pair",
        sa.Column("first_observation_id", sa.Uuid(), nullable=False),
        sa.Column("second_observation_id", sa.Uuid(), nullable=False),
        sa.Column("hearings", sa.Integer(), nullable=False),
        sa.Column("tallies", JSON, nullable=False),
        sa.Column("distance_sum", sa.Float(), nullable=False),
        sa.Column("scripts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["first_observation_id"], ["observation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["second_observation_id"], ["observation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("first_observation_id", "second_observation_id"),
    )
    with op.batch_alter_table("observation_pair", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_observation_pair_second_observation_id"),
            ["second_observation_id"],
            unique=False,
        )
    op.create_table(
        "observation_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("observation_id", sa.Uuid(), nullable=False),
        sa.Column("question_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("value_text", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["observation_id"], ["observation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("observation_value", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_observation_value_observation_id"), ["observation_id"], unique=False
        )
        batch_op.create_index(
            "ix_observation_value_cover",
            ["question_key", "value_text", "observation_id", "answers"],
            unique=False,
        )
    op.execute(
        """
        INSERT INTO observation_value (observation_id, question_key, value_text, answers)
        SELECT observation_id, question_key, value_text, COUNT(*)
        FROM answer WHERE hearing_id IS NOT NULL
        GROUP BY observation_id, question_key, value_text
        """
    )
    _fill_summaries(op.get_bind(), summary)


def _code_scripts(connection: sa.Connection) -> None:
    """Number every role met in a stored script (in alphabetical order) and store each
    hearing's script coded one character per role (as app.observations.store does)."""
    scripts = connection.execute(sa.text("SELECT id, script FROM hearing WHERE script <> ''")).all()
    roles = sorted({role for _, script in scripts for role in script.split(">") if role})
    if roles:
        connection.execute(
            sa.text("INSERT INTO speaker_role (role) VALUES (:role)"), [{"role": r} for r in roles]
        )
    codes = {
        role: chr(0x100 + role_id)
        for role_id, role in connection.execute(sa.text("SELECT id, role FROM speaker_role"))
    }
    updates = [
        {"id": hid, "code": "".join(codes[r] for r in script.split(">") if r)}
        for hid, script in scripts
    ]
    for start in range(0, len(updates), 5000):
        connection.execute(
            sa.text("UPDATE hearing SET script_code = :code WHERE id = :id"),
            updates[start : start + 5000],
        )


def _fill_summaries(connection: sa.Connection, summary: sa.Table) -> None:
    absent_by_version = {
        version_id: _absent_values(definition)
        for version_id, definition in connection.execute(
            sa.text("SELECT id, definition FROM protocol_version")
        )
    }
    rows: dict[Any, dict[str, Any]] = {}
    for oid, version_id in connection.execute(
        sa.text("SELECT id, protocol_version_id FROM observation")
    ):
        rows[oid] = {
            "observation_id": uuid.UUID(str(oid)),
            "hearings": 0,
            "talk_ms": 0,
            "speakers": {},
            "questions": {},
            "paired": False,  # observation_pair is left empty: agreement from the hearings
            "_absent": absent_by_version.get(version_id, {}),
        }
    for oid, n, talk in connection.execute(
        sa.text(
            "SELECT observation_id, COUNT(*), SUM(talk_ms) FROM hearing GROUP BY observation_id"
        )
    ):
        rows[oid]["hearings"] = int(n)
        rows[oid]["talk_ms"] = int(talk or 0)
    for oid, role, *figures in connection.execute(
        sa.text(
            """
            SELECT h.observation_id, s.role, SUM(s.turn_count), SUM(s.talk_ms), COUNT(*),
                   SUM(CASE WHEN h.first_role = s.role THEN 1 ELSE 0 END),
                   SUM(CASE WHEN h.last_role = s.role THEN 1 ELSE 0 END)
            FROM hearing h JOIN hearing_speaker s ON s.hearing_id = h.id
            GROUP BY h.observation_id, s.role
            """
        )
    ):
        rows[oid]["speakers"][role] = [int(n or 0) for n in figures]
    for oid, key, n in connection.execute(
        sa.text(
            "SELECT observation_id, question_key, COUNT(DISTINCT hearing_id) FROM answer "
            "WHERE hearing_id IS NOT NULL GROUP BY observation_id, question_key"
        )
    ):
        rows[oid]["questions"][key] = [int(n), 0, 0]
    for oid, key, value, n in connection.execute(
        sa.text("SELECT observation_id, question_key, value_text, answers FROM observation_value")
    ):
        row = rows[oid]
        if value in row["_absent"].get(key, ()):
            row["questions"][key][1] += int(n)
        elif value == "not_observed":
            row["questions"][key][2] += int(n)
    batch = []
    for row in rows.values():
        row.pop("_absent")
        batch.append(row)
        if len(batch) >= 1000:
            connection.execute(summary.insert(), batch)
            batch = []
    if batch:
        connection.execute(summary.insert(), batch)


def _absent_values(definition: Any) -> dict[str, set[str]]:
    """Hearing-level question key → its values that mark absence, from a stored definition
    (as app.protocols.definition.ProtocolDefinition.absent_values has it)."""
    if isinstance(definition, str):
        definition = json.loads(definition)
    found: dict[str, set[str]] = {}
    for section in definition.get("sections", []):
        if section.get("level") != "hearing":
            continue
        for question in section.get("questions", []):
            if question.get("type") == "yes_no":
                values = {"no"}
            else:
                values = {c["value"] for c in question.get("choices") or [] if c.get("absent")}
            if values and question.get("key") not in found:
                found[question["key"]] = values
    return found


def downgrade() -> None:
    with op.batch_alter_table("observation_value", schema=None) as batch_op:
        batch_op.drop_index("ix_observation_value_cover")
        batch_op.drop_index(batch_op.f("ix_observation_value_observation_id"))
    op.drop_table("observation_value")
    with op.batch_alter_table("observation_pair", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observation_pair_second_observation_id"))
    op.drop_table("observation_pair")
    op.drop_table("observation_summary")
    op.execute("ALTER TABLE hearing DROP COLUMN script_code")  # SQLite 3.35+, PostgreSQL
    op.drop_table("speaker_role")
