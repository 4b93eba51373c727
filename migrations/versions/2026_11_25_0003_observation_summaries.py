"""observation summaries

Per-observation summaries written with the hearing rows, for the comparison page: speakers
(turns, talk time, hearings spoken in, opened, closed), questions (hearings answered, answers
marking absence, "not observed") and answer values (a tally of the hearing-level answer
rows). Filled here from the rows already stored.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:00:00
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "observation_speaker",
        sa.Column("observation_id", sa.Uuid(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("turn_count", sa.Integer(), nullable=False),
        sa.Column("talk_ms", sa.Integer(), nullable=False),
        sa.Column("hearings", sa.Integer(), nullable=False),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["observation_id"], ["observation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("observation_id", "role"),
    )
    op.create_table(
        "observation_question",
        sa.Column("observation_id", sa.Uuid(), nullable=False),
        sa.Column("question_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hearings", sa.Integer(), nullable=False),
        sa.Column("absent", sa.Integer(), nullable=False),
        sa.Column("not_observed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["observation_id"], ["observation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("observation_id", "question_key"),
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
            ["question_key", "observation_id", "value_text", "answers"],
            unique=False,
        )
    # From what is already stored (the same figures store.write_current_rows writes).
    op.execute(
        """
        INSERT INTO observation_speaker
            (observation_id, role, turn_count, talk_ms, hearings, opened, closed)
        SELECT h.observation_id, s.role, SUM(s.turn_count), SUM(s.talk_ms), COUNT(*),
               SUM(CASE WHEN h.first_role = s.role THEN 1 ELSE 0 END),
               SUM(CASE WHEN h.last_role = s.role THEN 1 ELSE 0 END)
        FROM hearing h JOIN hearing_speaker s ON s.hearing_id = h.id
        GROUP BY h.observation_id, s.role
        """
    )
    op.execute(
        """
        INSERT INTO observation_question
            (observation_id, question_key, hearings, absent, not_observed)
        SELECT observation_id, question_key, COUNT(DISTINCT hearing_id), 0,
               SUM(CASE WHEN value_text = 'not_observed' THEN 1 ELSE 0 END)
        FROM answer WHERE hearing_id IS NOT NULL
        GROUP BY observation_id, question_key
        """
    )
    op.execute(
        """
        INSERT INTO observation_value (observation_id, question_key, value_text, answers)
        SELECT observation_id, question_key, value_text, COUNT(*)
        FROM answer WHERE hearing_id IS NOT NULL
        GROUP BY observation_id, question_key, value_text
        """
    )
    # Absent values are per protocol version: a yes/no question's "no", a choice marked absent.
    connection = op.get_bind()
    versions = connection.execute(sa.text("SELECT id, definition FROM protocol_version")).all()
    for version_id, definition in versions:
        for key, values in _absent_values(definition).items():
            connection.execute(
                sa.text(
                    """
                    UPDATE observation_question SET absent = COALESCE((
                        SELECT SUM(v.answers) FROM observation_value v
                        WHERE v.observation_id = observation_question.observation_id
                          AND v.question_key = observation_question.question_key
                          AND v.value_text IN :values), 0)
                    WHERE question_key = :key AND observation_id IN (
                        SELECT id FROM observation WHERE protocol_version_id = :version)
                    """
                ).bindparams(sa.bindparam("values", expanding=True)),
                {"values": sorted(values), "key": key, "version": version_id},
            )


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
    op.drop_table("observation_question")
    op.drop_table("observation_speaker")
