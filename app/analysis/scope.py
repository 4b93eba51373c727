"""The set a comparison is about, and the rules every figure follows.

A filter keeps observations (submitted only unless it asks for drafts); the Scope holds them
with what they are grouped by (a "cell": protocol version, judge, courtroom, calendar type,
month) and caches what the figure families share, each read from the database at most once:

- observation_summary (one row per observation, written at ingest by app.observations.store):
  hearings, talk time, per role turns/talk/first/last, per question [hearings answering,
  answer rows marking the thing absent, answer rows "not observed"];
- observation_value: answer values (value_text) and numbers (value_number) counted per
  observation, counted again here in SQL in index order.

The figure families (speakers, answers, gaps, patterns, agreement, trends, report) group the
cells as they need; a group's rate always follows `rules.Rate`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.i18n import gettext, label, language
from app.observations.filters import HearingFilter, observation_ids
from app.observations.models import (
    Observation,
    ObservationStatus,
    ObservationSummary,
    ObservationValue,
)
from app.protocols.definition import YES_NO_LABELS, ProtocolDefinition, Question, parse_definition
from app.protocols.models import Protocol, ProtocolVersion
from app.sessions.models import CourtSession, Judge
from app.sessions.schemas import CALENDAR_LABELS

DEFAULT_MIN_N = 10

BREAKDOWNS = {
    "judge": "Judge",
    "courtroom": "Courtroom",
    "calendar_type": "Calendar type",
    "month": "Month",
}


# --- what the set's protocols say ------------------------------------------------------------


@dataclass
class SetProtocols:
    """The protocol versions in a set, and the questions and roles they define."""

    versions: dict[int, tuple[str, ProtocolDefinition]]  # version id → (protocol name, definition)
    roles: dict[str, dict[str, str]]  # role key → {label, colour}

    def questions(self, *, tag: str | None = None, level: str | None = None) -> dict[str, Question]:
        """Questions by key over every version (the newest version's wording wins)."""
        found: dict[str, Question] = {}
        for version_id in sorted(self.versions):
            for q in self.versions[version_id][1].questions(level):  # type: ignore[arg-type]
                if tag is None or tag in q.tags:
                    found[q.key] = q
        return found

    def section_mates(self, *, tag: str) -> dict[str, Question]:
        """The untagged choice questions asked in the same sections as questions with `tag`
        (e.g. where the sentence terms came from, beside who decided)."""
        found: dict[str, Question] = {}
        for version_id in sorted(self.versions):
            for section in self.versions[version_id][1].sections:
                if any(tag in q.tags for q in section.questions):
                    for q in section.questions:
                        if not q.tags and q.type in ("single_choice", "multi_choice"):
                            found[q.key] = q
        return found

    def versions_with(self, key: str) -> set[int]:
        return {vid for vid, (_, d) in self.versions.items() if d.question(key) is not None}

    def role_label(self, key: str | None) -> str:
        if key is None:
            return "—"
        return self.roles.get(key, {}).get("label", key.replace("_", " ").capitalize())

    def role_colour(self, key: str) -> str:
        return self.roles.get(key, {}).get("colour", "#9aa5b1")

    def choice_label(self, key: str, value: str) -> str:
        q = self.questions().get(key)
        if q is not None:
            for c in q.choices:
                if c.value == value:
                    return c.label
            if q.type == "yes_no":
                return gettext(YES_NO_LABELS[value]) if value in YES_NO_LABELS else value
        return self.role_label(value) if value in self.roles else value


def set_protocols(*, session: Session, scope: Scope) -> SetProtocols:
    """Definitions of every protocol version used by the set's observations."""
    ids = sorted({s.pv for s in scope.observations.values()})
    versions: dict[int, tuple[str, ProtocolDefinition]] = {}
    roles: dict[str, dict[str, str]] = {}
    if not ids:
        return SetProtocols(versions, roles)
    rows = session.exec(
        select(ProtocolVersion, Protocol.name)
        .join(Protocol, Protocol.id == ProtocolVersion.protocol_id)  # type: ignore[arg-type]
        .where(col(ProtocolVersion.id).in_(ids))
        .order_by(ProtocolVersion.id)
    ).all()
    for version, name in rows:
        # in the reader's language where the protocol has it (keys and values are the same)
        definition = parse_definition(version.definition).localized(language())
        versions[version.id] = (name, definition)  # type: ignore[index]
        for r in definition.timeline_roles():
            roles[r.key] = {"label": r.label, "colour": r.colour}
    return SetProtocols(versions, roles)


# --- the set: its observations, and per-observation counts ------------------------------------


def oid_key(column: Any) -> Any:
    """An observation id as the driver gives it (no UUID object per row): used only as a key."""
    return sa.type_coerce(column, sa.String)


@dataclass(frozen=True)
class Sitting:
    """What an observation is grouped by."""

    pv: int
    judge_id: int | None
    courtroom: str | None
    calendar_type: str | None
    month: str
    court_session_id: int
    observer_id: int
    day: date

    def cell(self) -> tuple[Any, ...]:
        return (self.pv, self.judge_id, self.courtroom, self.calendar_type, self.month)


CELL_FIELDS = {None: None, "judge": 1, "courtroom": 2, "calendar_type": 3, "month": 4}


def cell_group(cell: tuple[Any, ...], by: str | None) -> Any:
    """The group a cell (Sitting.cell) falls in for a breakdown `by` (None: all together)."""
    if by not in CELL_FIELDS:
        raise ValueError(f"unknown breakdown {by!r}")
    at = CELL_FIELDS[by]
    return "all" if at is None else cell[at]


@dataclass
class Scope:
    """The observations a filter keeps, with what they are grouped by, and the grouped counts
    the sections share (each read from the database at most once per page).

    The figures are read per observation (a summary row each) and grouped here by cell, so
    one pass serves the overall figures and every breakdown alike."""

    f: HearingFilter
    observations: dict[Any, Sitting]
    restricted: bool  # False: the filter keeps everything, so queries need no restriction
    min_n: int = DEFAULT_MIN_N  # fewer hearings than this: "too few hearings to compare"
    cache: dict[Any, Any] = field(default_factory=dict)

    def where(self, observation_column: Any) -> list[Any]:
        """The condition restricting a query to the set's observations (none if unfiltered)."""
        if not self.restricted:
            return []
        return [col(observation_column).in_(observation_ids(self.f))]


def effective_filter(f: HearingFilter) -> HearingFilter:
    """The filter as figures read it: submitted observations only unless it asks for drafts."""
    return f if f.status else f.model_copy(update={"status": ObservationStatus.submitted.value})


def make_scope(*, session: Session, f: HearingFilter, min_n: int = DEFAULT_MIN_N) -> Scope:
    """The observations `f` keeps (submitted only, unless it asks for drafts)."""
    f = effective_filter(f)
    rows = session.execute(
        select(
            oid_key(Observation.id),
            Observation.protocol_version_id,
            CourtSession.judge_id,
            CourtSession.courtroom,
            CourtSession.calendar_type,
            CourtSession.session_date,
            Observation.court_session_id,
            Observation.observer_id,
        )
        .join(CourtSession, CourtSession.id == Observation.court_session_id)  # type: ignore[arg-type]
        .where(*f.conditions())
    ).all()
    observations = {
        oid: Sitting(pv, judge, room, calendar, day.strftime("%Y-%m"), cs_id, observer, day)
        for oid, pv, judge, room, calendar, day, cs_id, observer in rows
    }
    # Every stored observation kept (all submitted): queries need no restriction.
    everything = session.execute(select(sa.func.count()).select_from(Observation)).scalar_one()
    return Scope(f, observations, restricted=len(observations) != everything, min_n=min_n)


def cells(scope: Scope) -> dict[Any, tuple[Any, ...]]:
    if "cells" not in scope.cache:
        scope.cache["cells"] = {oid: s.cell() for oid, s in scope.observations.items()}
    return scope.cache["cells"]


@dataclass
class CellFigures:
    """A cell's observations added up (from their observation_summary rows)."""

    hearings: int = 0
    talk_ms: int = 0
    # role → [turns, talk ms, hearings the role spoke in, opened, closed]
    speakers: dict[str, list[int]] = field(default_factory=dict)


def json_value(document: Any) -> Any:
    """A JSON column's value as the driver gives it: text on SQLite, parsed on PostgreSQL."""
    return orjson.loads(document) if isinstance(document, str | bytes) else document or {}


def as_text(json_column: Any) -> Any:
    """A JSON column read as its text, for orjson (json_value) to parse: on PostgreSQL the
    driver would otherwise parse JSONB with the standard library, several times slower."""
    return sa.cast(json_column, sa.Text)


def summaries(session: Session, scope: Scope) -> list[tuple[Any, ...]]:
    """The set's observation_summary rows: (cell, hearings, talk ms, speakers, questions,
    observation id)."""
    if "summaries" in scope.cache:
        return scope.cache["summaries"]
    cells_ = cells(scope)
    table = ObservationSummary
    out = [
        (cells_[oid], hearings, talk_ms, json_value(speakers), json_value(questions), oid)
        for oid, hearings, talk_ms, speakers, questions in fetch(
            session,
            select(
                oid_key(table.observation_id),
                table.hearings,
                table.talk_ms,
                as_text(table.speakers),
                as_text(table.questions),
            ).where(*scope.where(table.observation_id)),
        )
        if oid in cells_
    ]
    scope.cache["summaries"] = out
    return out


def per_cell(session: Session, scope: Scope) -> dict[tuple[Any, ...], CellFigures]:
    """Every cell's hearings, talk time and speakers, added up here from a summary row per
    observation (the cells are nearly as many as the observations, so grouping in SQL would
    save nothing)."""
    if "per_cell" in scope.cache:
        return scope.cache["per_cell"]
    out: dict[tuple[Any, ...], CellFigures] = {}
    for cell, hearings, talk_ms, speakers, _, _ in summaries(session, scope):
        figures = out.get(cell)
        if figures is None:
            figures = out[cell] = CellFigures()
        figures.hearings += hearings
        figures.talk_ms += talk_ms
        into = figures.speakers
        for role, numbers in speakers.items():
            acc = into.get(role)
            if acc is None:
                into[role] = list(numbers)
            else:
                for i, n in enumerate(numbers):
                    acc[i] += n
    scope.cache["per_cell"] = out
    return out


def questions_per_cell(
    session: Session, scope: Scope, keys: Iterable[str]
) -> dict[tuple[Any, ...], dict[str, list[int]]]:
    """Per cell and question in `keys`: [hearings answering, answer rows marking the thing
    absent, answer rows "not observed"] (absence as each observation's own protocol version
    defines it)."""
    wanted = sorted(set(keys))
    cache_key = ("questions", tuple(wanted))
    if cache_key in scope.cache:
        return scope.cache[cache_key]
    out: dict[tuple[Any, ...], dict[str, list[int]]] = defaultdict(dict)
    for cell, _, _, _, questions, _ in summaries(session, scope):
        into = out[cell]
        for key in wanted:
            numbers = questions.get(key)
            if numbers is None:
                continue
            acc = into.get(key)
            if acc is None:
                into[key] = list(numbers)
            else:
                acc[0] += numbers[0]
                acc[1] += numbers[1]
                acc[2] += numbers[2]
    scope.cache[cache_key] = out
    return out


def hearings_per_cell(session: Session, scope: Scope) -> dict[tuple[Any, ...], list[int]]:
    """cell → [hearings, talk ms]."""
    return {cell: [f.hearings, f.talk_ms] for cell, f in per_cell(session, scope).items()}


def speakers_per_cell(
    session: Session, scope: Scope
) -> dict[tuple[tuple[Any, ...], str], list[int]]:
    """(cell, role) → [turns, talk ms, hearings in which the role spoke, hearings it opened,
    hearings it closed]."""
    return {
        (cell, role): numbers
        for cell, f in per_cell(session, scope).items()
        for role, numbers in f.speakers.items()
    }


def fetch(session: Session, statement: Any) -> list[Any]:
    """Rows of a Core statement as the driver gives them (plain tuples, no per-row result
    processing): for the large reads of counts, keys and text only."""
    result = session.connection().execute(statement)
    try:
        return result.cursor.fetchall()  # type: ignore[attr-defined]
    finally:
        result.close()


def value_counts(
    session: Session, scope: Scope, questions: dict[str, Question]
) -> tuple[dict[str, dict[str | None, int]], dict[str, int]]:
    """Hearing-level answers of `questions` over the whole set: (key → value → answer rows,
    key → hearings answered). The values are counted in SQL over observation_value in the
    order of its covering index; the hearings answered come with the cells' figures."""
    keys = sorted(questions)
    cache_key = ("values", tuple(keys))
    if cache_key in scope.cache:
        return scope.cache[cache_key]
    counts: dict[str, dict[str | None, int]] = defaultdict(dict)
    answered: dict[str, int] = defaultdict(int)
    if keys:
        table = ObservationValue
        for key, value, n in fetch(
            session,
            select(table.question_key, table.value_text, sa.func.sum(table.answers))
            .where(col(table.question_key).in_(keys), *scope.where(table.observation_id))
            .group_by(table.question_key, table.value_text),
        ):
            counts[key][value] = int(n)
        for per_key in questions_per_cell(session, scope, keys).values():
            for key, numbers in per_key.items():
                answered[key] += numbers[0]
    scope.cache[cache_key] = (counts, answered)
    return counts, answered


def group_labels(session: Session, by: str | None) -> Any:
    """How a group value is shown: a judge's name, a courtroom, a calendar type, a month."""
    if by is None:
        everything = gettext("All hearings")
        return lambda _g: everything
    if by == "judge":
        names = dict(session.exec(select(Judge.id, Judge.name)).all())
        nobody = gettext("No judge recorded")
        return lambda g: names.get(g, nobody)
    if by == "courtroom":
        return lambda g: g or "—"
    if by == "calendar_type":
        return lambda g: label(CALENDAR_LABELS, g) if g else "—"
    if by == "month":
        return lambda g: g or "—"
    raise ValueError(f"unknown breakdown {by!r}")


def level_of(protocols: SetProtocols, key: str) -> str:
    for _, definition in protocols.versions.values():
        for section in definition.sections:
            if any(q.key == key for q in section.questions):
                return section.level
    return "hearing"
