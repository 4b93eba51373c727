"""The rows of the tabular exports, streamed from the database (shared by CSV and XLSX).

Every query runs on a plain connection with `yield_per`, so rows arrive in batches (a
server-side cursor on PostgreSQL) and memory stays flat however large the set. Values are
Python scalars in the codebook's column order: text, numbers, dates, ISO datetimes, None.
"""

from __future__ import annotations

import json
import operator
import re
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.db import uuid_text
from app.exports.codebook import (
    AnswerPlan,
    Column,
    Layout,
    layout,
    neutralise_formulas,
    plain_text,
)
from app.exports.progress import report_rows
from app.exports.service import ExportOptions, Observer, SetVersion, set_observers, set_versions
from app.observations.filters import HearingFilter, hearing_ids
from app.observations.models import Hearing, Observation, Turn
from app.sessions.models import Court, CourtSession, Judge

BATCH = 2000
ANSWERS_AT_ONCE = 100
TURN_SEPARATOR = "|"  # never in a turn line: role keys are slugs, the rest are numbers


@dataclass
class ExportContext:
    """Everything the row generators need besides the connection."""

    f: HearingFilter
    options: ExportOptions
    versions: dict[int, SetVersion]
    observers: dict[int, Observer]
    layout: Layout


def stream(conn: sa.Connection, query: Any) -> Iterator[Any]:
    result = conn.execution_options(yield_per=BATCH).execute(query)
    for partition in result.partitions():
        report_rows(len(partition))
        yield from partition


def _iso(value: datetime | str | None) -> str | None:
    """A UTC timestamp as ISO 8601, from a datetime or as SQLite stores it (naive UTC text)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.replace(" ", "T", 1).removesuffix(".000000")
        return text if "+" in text[10:] else text + "+00:00"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _sitting_columns() -> list[Any]:
    return [
        _raw(CourtSession.session_date),
        col(Court.name).label("court"),
        col(CourtSession.courtroom).label("courtroom"),
        col(Judge.name).label("judge"),
        col(CourtSession.calendar_type).label("calendar_type"),
        col(Observation.protocol_version_id).label("protocol_version_id"),
        col(Observation.observer_id).label("observer_id"),
        col(Observation.status).label("status"),
    ]


def _from_observation(query: Any) -> Any:
    return (
        query.join(CourtSession, col(CourtSession.id) == Observation.court_session_id)
        .join(Court, col(Court.id) == CourtSession.court_id)
        .outerjoin(Judge, col(Judge.id) == CourtSession.judge_id)
    )


def _raw(column: Any) -> Any:
    """The column as the driver returns it, without SQLAlchemy's conversion (ids, JSON)."""
    return sa.type_coerce(column, sa.String()).label(column.key)


def _json(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        return json.loads(raw)  # type: ignore[no-any-return]
    return raw or {}  # PostgreSQL's driver parses JSONB itself


# The sitting, protocol and observer cells of a row, in this order (see _Where).
SITTING_CELLS = (
    "observation_id",
    "session_date",
    "court",
    "courtroom",
    "judge",
    "calendar_type",
    "protocol",
    "protocol_version",
    "observer_ref",
    "status",
    "observer_name",
    "observer_email",
)


class _Where:
    """Per observation: the sitting, protocol and observer cells (SITTING_CELLS), computed
    once and reused for each of its hearings."""

    def __init__(self, ctx: ExportContext, blank: Any) -> None:
        self.ctx = ctx
        self.blank = blank

    def cells(self, observation_id: Any, row: Any) -> tuple[Any, ...]:
        ctx, blank = self.ctx, self.blank
        version = ctx.versions.get(row.protocol_version_id)
        observer = ctx.observers.get(row.observer_id)
        named = observer if ctx.options.identities else None
        cells = (
            uuid_text(observation_id),
            _date(row.session_date),
            row.court,
            row.courtroom,
            row.judge,
            row.calendar_type,
            version.protocol if version else None,
            version.version if version else None,
            observer.ref if observer else None,
            row.status,
            named.name if named else None,
            named.email if named else None,
        )
        return tuple(blank if cell is None else cell for cell in cells)


def _plan(
    columns: list[Column], source: tuple[str, ...], blank: Any
) -> tuple[Any, list[Any], AnswerPlan]:
    """How to build a row: a picker of the fixed cells from a tuple of the `source` cells,
    the blank question cells that follow them, and the plan that fills those in."""
    fixed = [source.index(c.name) for c in columns if c.kind == "fixed"]
    pick = operator.itemgetter(*fixed) if len(fixed) > 1 else lambda t: (t[fixed[0]],)
    plan = AnswerPlan([c for c in columns if c.kind != "fixed"], offset=len(fixed))
    return pick, [blank] * plan.width, plan


def _with_answers(batch: Sequence[Any], column: str) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Each row of `batch` with its answers (`column`) parsed.

    On SQLite the answers are JSON text: a hundred rows' are parsed as one JSON array, which
    is about a third faster than a parse per row (and a hundred at a time, not the whole
    batch, keeps few parsed answers alive, so that the garbage collector has little to
    look through). PostgreSQL's driver parses JSONB itself.
    """
    for start in range(0, len(batch), ANSWERS_AT_ONCE):
        rows = batch[start : start + ANSWERS_AT_ONCE]
        raws = [getattr(row, column) for row in rows]
        parsed: list[Any] = []
        if all(type(raw) is str for raw in raws):
            # the standard library, not orjson: it keeps integers past 64 bits exact
            parsed = json.loads("[" + ",".join(raws) + "]")
        if len(parsed) != len(rows):  # not all text (or text that was not one value each)
            parsed = [_json(raw) for raw in raws]
        yield from zip(rows, parsed, strict=True)


def _batches(conn: sa.Connection, query: Any) -> Iterator[Any]:
    """The query's rows, a batch of up to BATCH rows at a time."""
    result = conn.execution_options(yield_per=BATCH).execute(query)
    for partition in result.partitions():
        report_rows(len(partition))
        yield partition


HEARING_CELLS = (
    *SITTING_CELLS,
    "hearing_id",
    "position",
    "case_reference",
    "started_at",
    "ended_at",
    "turn_count",
    "talk_ms",
    "first_role",
    "last_role",
    "script",
)


def hearing_rows(
    conn: sa.Connection, ctx: ExportContext, *, blank: Any = None
) -> Iterator[list[Any]]:
    """hearings.csv: one row per hearing, by sitting date, observation and position.

    `blank` is an empty cell: None, or "" for the CSV export (whose rows then need no
    conversion of None)."""
    pick, blanks, plan = _plan(ctx.layout.hearings, HEARING_CELLS, blank)
    query = _from_observation(
        select(
            _raw(Hearing.id),
            _raw(Hearing.observation_id),
            Hearing.position,
            Hearing.case_reference,
            _raw(Hearing.started_at),
            _raw(Hearing.ended_at),
            Hearing.turn_count,
            Hearing.talk_ms,
            Hearing.first_role,
            Hearing.last_role,
            Hearing.script,
            _raw(Hearing.answers),
            *_sitting_columns(),
        ).join(Observation, col(Observation.id) == Hearing.observation_id)
    ).where(*ctx.f.conditions())
    query = query.order_by(CourtSession.session_date, Observation.id, Hearing.position)
    where = _Where(ctx, blank)
    fill = plan.fill
    last_observation: Any = None
    sitting: tuple[Any, ...] = ()
    for batch in _batches(conn, query):
        for row, answers in _with_answers(batch, "answers"):
            (
                hearing_id,
                observation_id,
                position,
                case_reference,
                started_at,
                ended_at,
                turn_count,
                talk_ms,
                first_role,
                last_role,
                script,
            ) = row[:11]
            if observation_id != last_observation:
                last_observation = observation_id
                sitting = tuple(neutralise_formulas(list(where.cells(observation_id, row))))
            # Text that could run as a formula is made plain where it enters the row: here
            # (the sitting's once per observation) and in fill; ids, times and numbers cannot.
            cells = list(
                pick(
                    (
                        *sitting,
                        uuid_text(hearing_id),
                        position,
                        blank if case_reference is None else plain_text(case_reference),
                        blank if started_at is None else _iso(started_at),
                        blank if ended_at is None else _iso(ended_at),
                        turn_count,
                        talk_ms,
                        blank if first_role is None else plain_text(first_role),
                        blank if last_role is None else plain_text(last_role),
                        plain_text(script),
                    )
                )
            )
            cells += blanks
            fill(cells, answers)
            yield cells


OBSERVATION_CELLS = (
    *SITTING_CELLS,
    "start_time",
    "hearing_count",
    "client_edited_at",
    "submitted_at",
    "revision",
    "notes",
)


def observation_rows(
    conn: sa.Connection, ctx: ExportContext, *, blank: Any = None
) -> Iterator[list[Any]]:
    """observations.csv: one row per observation with its session-level answers (`blank`:
    as for hearing_rows)."""
    pick, blanks, plan = _plan(ctx.layout.observations, OBSERVATION_CELLS, blank)
    hearing_count = (
        select(sa.func.count(col(Hearing.id)))
        .where(Hearing.observation_id == Observation.id)
        .scalar_subquery()
    )
    query = _from_observation(
        select(
            _raw(Observation.id),
            _raw(Observation.session_answers),
            Observation.notes,
            _raw(Observation.client_edited_at),
            _raw(Observation.submitted_at),
            Observation.current_revision,
            col(CourtSession.start_time).label("start_time"),
            hearing_count.label("hearing_count"),
            *_sitting_columns(),
        )
    ).where(*ctx.f.conditions())
    query = query.order_by(CourtSession.session_date, Observation.id)
    where = _Where(ctx, blank)
    for batch in _batches(conn, query):
        for row, answers in _with_answers(batch, "session_answers"):
            cells = list(
                pick(
                    (
                        *where.cells(row.id, row),
                        row.start_time.strftime("%H:%M") if row.start_time else None,
                        row.hearing_count,
                        _iso(row.client_edited_at),
                        _iso(row.submitted_at),
                        row.current_revision,
                        row.notes or None,
                    )
                )
            )
            if blank is not None and None in cells:
                cells = [blank if cell is None else cell for cell in cells]
            cells += blanks
            plan.fill(cells, answers)
            yield neutralise_formulas(cells)


def turn_rows(conn: sa.Connection, ctx: ExportContext) -> Iterator[list[Any]]:
    """turns.csv: one row per speaker turn, by hearing and order (the turn index's order)."""
    query = (
        select(_raw(Turn.hearing_id), Turn.seq, Turn.role, Turn.start_ms, Turn.end_ms)
        .where(col(Turn.hearing_id).in_(hearing_ids(ctx.f)))
        .order_by(Turn.hearing_id, Turn.seq)
    )
    last_raw: Any = None
    last_text = ""
    for raw, seq, role, start_ms, end_ms in stream(conn, query):
        if raw != last_raw:  # turns come grouped by hearing: format each id once
            last_raw, last_text = raw, uuid_text(raw)
        yield [last_text, seq, role, start_ms, end_ms]


def _turns_per_hearing(
    conn: sa.Connection, ctx: ExportContext, line: Any, separator: str
) -> Iterator[tuple[Any, str, int, int]]:
    """Each hearing's turns as one string built by the database: `line` per turn (in seq
    order), joined by `separator`; with the hearing id as the driver gives it, its number
    of turns and its last seq."""
    postgres = conn.dialect.name == "postgresql"
    aggregate: Any
    if postgres or sqlite3.sqlite_version_info >= (3, 44, 0):
        aggregate = sa.aggregate_order_by(sa.func.aggregate_strings(line, separator), Turn.seq)
    else:
        # Older SQLite has no ORDER BY inside group_concat. Its plan here walks the
        # (hearing_id, seq) index (tests/exports check the order), so a hearing's turns
        # arrive in seq order.
        aggregate = sa.func.group_concat(line, separator)
    # With no filter every turn is wanted: skip the membership test.
    wanted = sa.true() if ctx.f.is_empty() else col(Turn.hearing_id).in_(hearing_ids(ctx.f))
    query = (
        select(_raw(Turn.hearing_id), aggregate, sa.func.count(), sa.func.max(Turn.seq))
        .where(wanted)
        .group_by(Turn.hearing_id)
    )
    yield from stream(conn, query)


def _text_of(conn: sa.Connection, parts: list[Any]) -> Any:
    """Text and integer columns put together in SQL: one printf in SQLite (much faster than
    a chain of ||, each of which makes a new string; %s writes numbers as || would and NULL
    as nothing), format() in PostgreSQL (NULL as nothing too). Literal text in `parts` is a
    str; it must hold no % sign."""
    template = "".join(p if isinstance(p, str) else "%s" for p in parts)
    values = [p for p in parts if not isinstance(p, str)]
    if conn.dialect.name == "postgresql":
        return sa.func.format(template, *values)
    return sa.func.printf(template, *values)


def turn_csv_lines(conn: sa.Connection, ctx: ExportContext) -> Iterator[str]:
    """turns.csv's lines, built by the database one hearing at a time.

    The same rows as turn_rows, but each hearing's turns come back as one string (aggregated
    in SQL, in seq order) that Python only prefixes with the hearing id: for three million
    turns this is over twice as fast as a Python loop with the csv module.
    Role keys are slugs ([a-z0-9_], checked when a protocol is saved and a turn is received),
    so the cells need no quoting.
    """
    line = _text_of(conn, [Turn.seq, ",", Turn.role, ",", Turn.start_ms, ",", Turn.end_ms])
    newline = "\r\n"
    for raw, joined, _, _ in _turns_per_hearing(conn, ctx, line, TURN_SEPARATOR):
        prefix = uuid_text(raw) + ","
        yield prefix + joined.replace(TURN_SEPARATOR, newline + prefix) + newline


def turn_sheet_rows(
    conn: sa.Connection, ctx: ExportContext
) -> Iterator[tuple[str, str, Sequence[int]]]:
    """The turns sheet's rows as SpreadsheetML, built by the database one hearing at a time
    (as turn_csv_lines): (hearing id, the rows' XML as a str.format template, the turns'
    seqs in order). In the template {h} stands for the hearing id and {k} for the row number
    of the turn whose seq is k; each turn's row ends with </row>. The cells hold ids, role
    keys (slugs) and numbers only: nothing to escape, and no braces of their own."""
    k = [Turn.seq]
    end = sa.case(
        (col(Turn.end_ms).is_(None), ""),
        else_=_text_of(conn, ['<c r="E{', *k, '}"><v>', Turn.end_ms, "</v></c>"]),
    )
    line = _text_of(
        conn,
        [
            '<row r="{', *k, '}"><c r="A{', *k, '}" t="inlineStr"><is><t>{h}</t></is></c>',
            '<c r="B{', *k, '}"><v>', Turn.seq, "</v></c>",
            '<c r="C{', *k, '}" t="inlineStr"><is><t>', Turn.role, "</t></is></c>",
            '<c r="D{', *k, '}"><v>', Turn.start_ms, "</v></c>", end, "</row>",
        ],
    )  # fmt: skip
    for raw, template, count, last_seq in _turns_per_hearing(conn, ctx, line, ""):
        seqs: Sequence[int] = range(count)
        if last_seq != count - 1:  # not stored by app.observations.store: read them
            seqs = [int(s) for s in _ROW_SEQ.findall(template)]
        yield uuid_text(raw), template, seqs


_ROW_SEQ = re.compile(r'<row r="\{(\d+)\}">')


def export_context(
    *, session: Session, f: HearingFilter, options: ExportOptions, secret: str
) -> ExportContext:
    """Read the set's protocol versions and observers once (both are small) and lay out columns."""
    versions = set_versions(session=session, f=f)
    return ExportContext(
        f=f,
        options=options,
        versions={v.id: v for v in versions},
        observers=set_observers(session=session, f=f, secret=secret),
        layout=layout(versions, options),
    )
