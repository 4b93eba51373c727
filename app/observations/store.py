"""Writing an observation's current rows: hearings, answers, turns and per-role summaries.

Everything here is written with bulk INSERT statements (one executemany per table), never
row-by-row ORM adds: a volunteer's calendar can hold dozens of hearings with thirty turns each,
and an import can hold a hundred thousand.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlmodel import Session

from app.observations import pairs
from app.observations.models import (
    Answer,
    Hearing,
    HearingSpeaker,
    Observation,
    ObservationSummary,
    ObservationValue,
    SpeakerRole,
    Turn,
    role_code,
)
from app.protocols.definition import ProtocolDefinition, parse_definition
from app.protocols.models import ProtocolVersion
from app.sync.schemas import HearingIn, TurnIn

SCRIPT_SEPARATOR = ">"
TEXT_ROW_LIMIT = 200
NOT_OBSERVED = "not_observed"

hearing_table = Hearing.__table__  # type: ignore[attr-defined]
answer_table = Answer.__table__  # type: ignore[attr-defined]
turn_table = Turn.__table__  # type: ignore[attr-defined]
speaker_table = HearingSpeaker.__table__  # type: ignore[attr-defined]
summary_table = ObservationSummary.__table__  # type: ignore[attr-defined]
speaker_role_table = SpeakerRole.__table__  # type: ignore[attr-defined]
observation_value_table = ObservationValue.__table__  # type: ignore[attr-defined]
SUMMARY_TABLES = (summary_table, observation_value_table)


def _driver_insert(
    session: Session, table: sa.Table, columns: Sequence[str], rows: list[tuple]
) -> None:
    """executemany straight on the driver: the many narrow rows (answers, turns, speakers)
    skip SQLAlchemy's per-row parameter processing; their UUIDs are converted once per hearing."""
    if not rows:
        return
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join([mark] * len(columns))})"
    )
    connection.exec_driver_sql(sql, rows)


ANSWER_COLUMNS = ("observation_id", "hearing_id", "question_key", "value_text", "value_number")
TURN_COLUMNS = ("hearing_id", "seq", "role", "start_ms", "end_ms")
SPEAKER_COLUMNS = ("hearing_id", "role", "turn_count", "talk_ms")
OBSERVATION_VALUE_COLUMNS = (
    "observation_id",
    "question_key",
    "value_text",
    "value_number",
    "answers",
)


def speaker_codes(connection: sa.Connection, roles: Collection[str]) -> dict[str, str]:
    """role → its character in coded scripts (SpeakerRole), numbering the roles not met
    before (two writers numbering one role at once both get the one number)."""
    if not roles:
        return {}
    table = speaker_role_table
    wanted = sorted(set(roles))
    found = dict(
        connection.execute(
            sa.select(table.c.role, table.c.id).where(table.c.role.in_(wanted))
        ).all()
    )
    missing = [role for role in wanted if role not in found]
    if missing:
        dialect = connection.dialect.name
        if dialect in ("sqlite", "postgresql"):
            module = sqlite_dialect if dialect == "sqlite" else postgresql_dialect
            statement: Any = module.insert(table).on_conflict_do_nothing(index_elements=["role"])
        else:
            statement = sa.insert(table)
        connection.execute(statement, [{"role": role} for role in missing])
        found.update(
            connection.execute(
                sa.select(table.c.role, table.c.id).where(table.c.role.in_(missing))
            ).all()
        )
    return {role: role_code(role_id) for role, role_id in found.items()}


def code_script(script: str, codes: dict[str, str]) -> str:
    """A script key ("judge>prosecutor") coded one character per role."""
    return "".join(codes[role] for role in script.split(SCRIPT_SEPARATOR) if role)


def code_all_scripts(connection: sa.Connection) -> None:
    """Every stored hearing's script_code worked out from its script."""
    rows = connection.execute(
        sa.select(hearing_table.c.id, hearing_table.c.script).where(hearing_table.c.script != "")
    ).all()
    roles = {role for _, script in rows for role in script.split(SCRIPT_SEPARATOR) if role}
    codes = speaker_codes(connection, sorted(roles))
    updates = [{"hid": hid, "code": code_script(script, codes)} for hid, script in rows]
    statement = (
        sa.update(hearing_table)
        .where(hearing_table.c.id == sa.bindparam("hid"))
        .values(script_code=sa.bindparam("code"))
    )
    for start in range(0, len(updates), 5000):
        connection.execute(statement, updates[start : start + 5000])


def rebuild_summaries(connection: sa.Connection) -> None:
    """Every observation's summaries (and pairs) computed again from its current rows, as
    write_current_rows writes them: for rows written some other way (bench/synthetic.py), and
    the pairs of data stored before they existed ("courtwatch db rebuild-summaries")."""
    code_all_scripts(connection)
    for table in SUMMARY_TABLES:
        connection.execute(sa.delete(table))
    connection.exec_driver_sql(
        f"""INSERT INTO observation_value ({", ".join(OBSERVATION_VALUE_COLUMNS)})
        SELECT observation_id, question_key, value_text, value_number, COUNT(*)
        FROM answer WHERE hearing_id IS NOT NULL
        GROUP BY observation_id, question_key, value_text, value_number"""
    )
    absent_by_version = {
        version_id: parse_definition(document).absent_values()
        for version_id, document in connection.execute(
            sa.select(ProtocolVersion.id, ProtocolVersion.definition)
        )
    }
    summaries: dict[Any, _Summary] = {
        oid: _Summary(absent_by_version.get(version_id, {}))
        for oid, version_id in connection.execute(
            sa.select(Observation.id, Observation.protocol_version_id)
        )
    }
    hearings = hearing_table.c
    for oid, n, talk in connection.execute(
        sa.select(hearings.observation_id, sa.func.count(), sa.func.sum(hearings.talk_ms)).group_by(
            hearings.observation_id
        )
    ):
        summaries[oid].hearings = int(n)
        summaries[oid].talk_ms = int(talk or 0)
    speakers = speaker_table.c
    for oid, role, turns, talk, first, last in connection.execute(
        sa.select(
            hearings.observation_id,
            speakers.role,
            speakers.turn_count,
            speakers.talk_ms,
            hearings.first_role == speakers.role,
            hearings.last_role == speakers.role,
        )
        .join(speaker_table, speakers.hearing_id == hearings.id)
        .execution_options(yield_per=20_000)  # streamed: a row per hearing and role
    ):
        summaries[oid].add_speaker(role, turns, talk, bool(first), bool(last))
    answers = answer_table.c
    for oid, hid, key, value in connection.execute(
        sa.select(
            answers.observation_id, answers.hearing_id, answers.question_key, answers.value_text
        )
        .where(answers.hearing_id.is_not(None))
        .order_by(answers.observation_id, answers.hearing_id)
        .execution_options(yield_per=20_000)  # streamed: a row per answer
    ):
        summaries[oid].add_answer(hid, key, value)
    rows = [summary.row(oid) for oid, summary in summaries.items()]
    for start in range(0, len(rows), 1000):
        connection.execute(sa.insert(summary_table), rows[start : start + 1000])
    pairs.rebuild_pairs(connection)


class _Summary:
    """An observation's observation_summary figures, added up hearing by hearing."""

    def __init__(self, absent_values: Mapping[str, Collection[str]]) -> None:
        self.absent_values = absent_values
        self.hearings = 0
        self.talk_ms = 0
        self.speakers: dict[str, list[int]] = {}
        self.questions: dict[str, list[int]] = {}
        self._hearing: Any = None
        self._keys: set[str] = set()

    def add_speaker(self, role: str, turns: int, talk_ms: int, first: bool, last: bool) -> None:
        figures = self.speakers.get(role)
        if figures is None:
            figures = self.speakers[role] = [0, 0, 0, 0, 0]
        figures[0] += turns
        figures[1] += talk_ms
        figures[2] += 1
        figures[3] += first
        figures[4] += last

    def add_answer(self, hearing_id: Any, key: str, value: str | None) -> None:
        """One answer row of a hearing (a hearing's rows one after another)."""
        if hearing_id != self._hearing:
            self._hearing = hearing_id
            self._keys = set()
        counts = self.questions.get(key)
        if counts is None:
            counts = self.questions[key] = [0, 0, 0]
        if key not in self._keys:  # a list answer has a row per item: count the hearing once
            self._keys.add(key)
            counts[0] += 1
        if value in self.absent_values.get(key, ()):
            counts[1] += 1
        elif value == NOT_OBSERVED:
            counts[2] += 1

    def row(self, observation_id: Any) -> dict[str, Any]:
        return {
            "observation_id": observation_id,
            "hearings": self.hearings,
            "talk_ms": self.talk_ms,
            "speakers": self.speakers,
            "questions": self.questions,
        }


def _uuid_for(session: Session) -> Any:
    """How this database takes a UUID bound without a type: hex text on SQLite (as SQLAlchemy's
    Uuid type stores it there), the UUID itself where the database has a uuid type."""
    if session.get_bind().dialect.name == "sqlite":
        return lambda value: value.hex if value is not None else None
    return lambda value: value


@dataclass(frozen=True)
class TurnSummary:
    turn_count: int
    talk_ms: int
    first_role: str | None
    last_role: str | None
    script: str
    by_role: dict[str, tuple[int, int]]  # role → (turns, talk ms)


def summarise_turns(turns: Sequence[TurnIn]) -> TurnSummary:
    """Counts, talk time (closed turns only), first and last speaker, and the script: the
    sequence of speaking roles with consecutive turns of one role merged."""
    by_role: dict[str, list[int]] = {}
    script: list[str] = []
    total = 0
    for turn in turns:
        talk = max(0, turn.end_ms - turn.start_ms) if turn.end_ms is not None else 0
        total += talk
        counts = by_role.setdefault(turn.role, [0, 0])
        counts[0] += 1
        counts[1] += talk
        if not script or script[-1] != turn.role:
            script.append(turn.role)
    return TurnSummary(
        turn_count=len(turns),
        talk_ms=total,
        first_role=turns[0].role if turns else None,
        last_role=turns[-1].role if turns else None,
        script=SCRIPT_SEPARATOR.join(script),
        by_role={role: (c[0], c[1]) for role, c in by_role.items()},
    )


def answer_rows(
    answers: dict[str, Any], *, observation_id: Any, hearing_id: Any
) -> Iterable[dict[str, Any]]:
    """One row per answer value: a list gives one row per item (an empty list, "none of
    these", gives one row with no value so the question still counts as answered)."""
    for key, value in answers.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        values = value if isinstance(value, list) else [value]
        if not values:
            values = [None]
        for item in values:
            text: str | None = None
            number: float | None = None
            if isinstance(item, bool):
                text = "true" if item else "false"
            elif isinstance(item, int | float):
                number = float(item)
                text = None
            elif item is not None:
                # Indexed column: long free text stays whole in the hearing's JSON only
                # (PostgreSQL refuses index entries over a third of a page).
                text = str(item)[:TEXT_ROW_LIMIT]
            yield {
                "observation_id": observation_id,
                "hearing_id": hearing_id,
                "question_key": key,
                "value_text": text,
                "value_number": number,
            }


def delete_current_rows(*, session: Session, observation_id: uuid.UUID) -> None:
    """Remove an observation's hearings and everything hanging from them (not its revisions)."""
    hearing_ids = sa.select(hearing_table.c.id).where(
        hearing_table.c.observation_id == observation_id
    )
    session.execute(sa.delete(answer_table).where(answer_table.c.observation_id == observation_id))
    pairs.delete_pairs(session=session, observation_id=observation_id)
    for table in SUMMARY_TABLES:
        session.execute(sa.delete(table).where(table.c.observation_id == observation_id))
    session.execute(sa.delete(turn_table).where(turn_table.c.hearing_id.in_(hearing_ids)))
    session.execute(sa.delete(speaker_table).where(speaker_table.c.hearing_id.in_(hearing_ids)))
    session.execute(
        sa.delete(hearing_table).where(hearing_table.c.observation_id == observation_id)
    )


def hearing_digest(hearing: HearingIn) -> str:
    """What a hearing's stored rows are made of, as a digest: two writes of a hearing with
    the same digest write the same rows."""
    text = json.dumps(hearing.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _drop_hearing_rows(session: Session, hearing_ids: Sequence[Any]) -> None:
    """The rows of these hearings (answers, turns, speakers, the hearing itself)."""
    for start in range(0, len(hearing_ids), 500):
        chunk = hearing_ids[start : start + 500]
        session.execute(sa.delete(answer_table).where(answer_table.c.hearing_id.in_(chunk)))
        session.execute(sa.delete(turn_table).where(turn_table.c.hearing_id.in_(chunk)))
        session.execute(sa.delete(speaker_table).where(speaker_table.c.hearing_id.in_(chunk)))
        session.execute(sa.delete(hearing_table).where(hearing_table.c.id.in_(chunk)))


def write_current_rows(
    *,
    session: Session,
    observation: Observation,
    hearings: Sequence[HearingIn],
    definition: ProtocolDefinition,
    session_answers: dict[str, Any] | None = None,
) -> None:
    """Make an observation's hearing, answer, turn and hearing_speaker rows these, and write
    its summaries (observation_summary, observation_value, observation_pair) again.

    A phone sends its whole calendar on every sync: the rows of a hearing whose digest
    (hearing_digest) is the one stored are kept as they are; those of changed, new and gone
    hearings are rewritten or removed. `observation` is stored already (flushed);
    `definition` is its protocol version's. Session-level answers get answer rows too
    (hearing_id NULL) when given.
    """
    observation_id = observation.id
    absent_values = definition.absent_values()
    found = session.execute(
        sa.select(
            hearing_table.c.id, hearing_table.c.content_hash, hearing_table.c.clock_jump
        ).where(hearing_table.c.observation_id == observation_id)
    ).all()
    stored = {hid: digest for hid, digest, _ in found}
    # A flag for staff stays once raised (a later copy from the server no longer carries it).
    jumped = {hid for hid, _, flag in found if flag}
    digests = {hearing.id: hearing_digest(hearing) for hearing in hearings}
    kept = {
        hid for hid, digest in digests.items() if digest is not None and stored.get(hid) == digest
    }
    _drop_hearing_rows(session, [hid for hid in stored if hid not in kept])
    session.execute(
        sa.delete(answer_table).where(
            answer_table.c.observation_id == observation_id, answer_table.c.hearing_id.is_(None)
        )
    )
    pairs.delete_pairs(session=session, observation_id=observation_id)
    for table in SUMMARY_TABLES:
        session.execute(sa.delete(table).where(table.c.observation_id == observation_id))
    as_db = _uuid_for(session)
    obs_db = as_db(observation_id)
    hearing_rows: list[dict[str, Any]] = []
    scripts: dict[Any, str] = {}
    answers: list[tuple] = []
    turns: list[tuple] = []
    speakers: list[tuple] = []
    figures = _Summary(absent_values)
    codes = speaker_codes(
        session.connection(), {t.role for h in hearings if h.id not in kept for t in h.turns}
    )
    # (question key, value text, value number) → answer rows
    values: dict[tuple[str, str | None, float | None], int] = {}
    if session_answers:
        answers.extend(
            tuple(r.values())
            for r in answer_rows(session_answers, observation_id=obs_db, hearing_id=None)
        )
    for hearing in hearings:
        summary = summarise_turns(hearing.turns)
        scripts[hearing.id] = summary.script
        hearing_db = as_db(hearing.id)
        new = hearing.id not in kept
        if new:
            hearing_rows.append(
                {
                    "id": hearing.id,
                    "observation_id": observation_id,
                    "position": hearing.position,
                    "case_reference": hearing.case_reference,
                    "started_at": hearing.started_at,
                    "ended_at": hearing.ended_at,
                    "answers": hearing.answers,
                    "turn_count": summary.turn_count,
                    "talk_ms": summary.talk_ms,
                    "first_role": summary.first_role,
                    "last_role": summary.last_role,
                    "script": summary.script,
                    "script_code": code_script(summary.script, codes),
                    "content_hash": digests[hearing.id],
                    "clock_jump": bool(hearing.clock_jump_ms) or hearing.id in jumped,
                }
            )
        rows = [
            tuple(r.values())
            for r in answer_rows(hearing.answers, observation_id=obs_db, hearing_id=hearing_db)
        ]
        if new:
            answers.extend(rows)
        for _, _, key, value, number in rows:
            values[key, value, number] = values.get((key, value, number), 0) + 1
            figures.add_answer(hearing_db, key, value)
        figures.hearings += 1
        figures.talk_ms += summary.talk_ms
        for role, (n, ms) in summary.by_role.items():
            figures.add_speaker(role, n, ms, role == summary.first_role, role == summary.last_role)
        if new:
            turns.extend(
                (hearing_db, seq, t.role, t.start_ms, t.end_ms)
                for seq, t in enumerate(hearing.turns)
            )
            speakers.extend((hearing_db, role, n, ms) for role, (n, ms) in summary.by_role.items())
    if hearing_rows:
        session.execute(sa.insert(hearing_table), hearing_rows)
    _driver_insert(session, answer_table, ANSWER_COLUMNS, answers)
    _driver_insert(session, turn_table, TURN_COLUMNS, turns)
    _driver_insert(session, speaker_table, SPEAKER_COLUMNS, speakers)
    # paired: its pairs are worked out just below, in this transaction
    session.execute(sa.insert(summary_table), [{**figures.row(observation_id), "paired": True}])
    pairs.write_pairs(
        session=session,
        observation_id=observation_id,
        observer_id=observation.observer_id,
        court_session_id=observation.court_session_id,
        hearings=[
            (h.case_reference, h.position, scripts[h.id], h.answers)
            for h in sorted(hearings, key=lambda h: h.position)
        ],
        keys=definition.categorical_keys(),
    )
    _driver_insert(
        session,
        observation_value_table,
        OBSERVATION_VALUE_COLUMNS,
        [(obs_db, key, value, number, n) for (key, value, number), n in values.items()],
    )
