"""Comparison over a filtered set of hearings: who speaks, who decides, what happens, gaps,
patterns, breakdowns and observer agreement.

The counting is done when observations are written (app.observations.store and pairs): one
observation_summary row per observation, answer values counted per observation
(observation_value), agreement per pair of observers of a sitting (observation_pair) and each
hearing's script coded one character per role (hearing.script_code). Here the few thousand
summary rows are grouped by judge, courtroom, calendar type, month and protocol version (a
"cell"), so one pass serves the overall figures and every breakdown; values are counted in SQL
in index order; each distinct script's edit distance is computed once; agreement is worked out
from the hearings only for sittings the pairs do not cover (three or more observers, a
reference, or not yet paired).
"""

from __future__ import annotations

import gc
import heapq
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.analysis import stats
from app.auth.models import User
from app.errors import NotFound
from app.observations import pairs
from app.observations.filters import HearingFilter, observation_ids
from app.observations.models import (
    Answer,
    Hearing,
    Observation,
    ObservationPair,
    ObservationSummary,
    ObservationValue,
    SpeakerRole,
    role_code,
)
from app.protocols.definition import ProtocolDefinition, Question, parse_definition
from app.protocols.models import Protocol, ProtocolVersion
from app.sessions.models import CourtSession, Judge

GAP_TAGS = ("safety", "accountability")
CATEGORICAL = {"single_choice", "yes_no"}
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
                return {"yes": "Yes", "no": "No", "not_observed": "Not observed"}.get(value, value)
        return self.role_label(value) if value in self.roles else value


def set_protocols(
    *, session: Session, f: HearingFilter, scope: Scope | None = None
) -> SetProtocols:
    """Definitions of every protocol version used by the set's observations."""
    scope = scope or make_scope(session=session, f=f)
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
        definition = parse_definition(version.definition)
        versions[version.id] = (name, definition)  # type: ignore[index]
        for r in definition.timeline_roles():
            roles[r.key] = {"label": r.label, "colour": r.colour}
    return SetProtocols(versions, roles)


# --- the set: its observations, and per-observation counts ------------------------------------


def _oid(column: Any) -> Any:
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

    def cell(self) -> tuple[Any, ...]:
        return (self.pv, self.judge_id, self.courtroom, self.calendar_type, self.month)


_CELL_FIELDS = {None: None, "judge": 1, "courtroom": 2, "calendar_type": 3, "month": 4}


def _cell_group(cell: tuple[Any, ...], by: str | None) -> Any:
    """The group a cell (Sitting.cell) falls in for a breakdown `by` (None: all together)."""
    if by not in _CELL_FIELDS:
        raise ValueError(f"unknown breakdown {by!r}")
    at = _CELL_FIELDS[by]
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
    cache: dict[Any, Any] = field(default_factory=dict)

    def where(self, observation_column: Any) -> list[Any]:
        """The condition restricting a query to the set's observations (none if unfiltered)."""
        if not self.restricted:
            return []
        return [col(observation_column).in_(observation_ids(self.f))]


def make_scope(*, session: Session, f: HearingFilter) -> Scope:
    rows = session.execute(
        select(
            _oid(Observation.id),
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
        oid: Sitting(pv, judge, room, calendar, day.strftime("%Y-%m"), cs_id, observer)
        for oid, pv, judge, room, calendar, day, cs_id, observer in rows
    }
    return Scope(f, observations, restricted=bool(f.conditions()))


def _cells(scope: Scope) -> dict[Any, tuple[Any, ...]]:
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


def _json(document: Any) -> Any:
    """A JSON column's value as the driver gives it: text on SQLite, parsed on PostgreSQL."""
    return orjson.loads(document) if isinstance(document, str | bytes) else document or {}


def _summaries(session: Session, scope: Scope) -> list[tuple[Any, ...]]:
    """The set's observation_summary rows: (cell, hearings, talk ms, speakers, questions)."""
    if "summaries" in scope.cache:
        return scope.cache["summaries"]
    cells = _cells(scope)
    table = ObservationSummary
    out = [
        (cells[oid], hearings, talk_ms, _json(speakers), _json(questions))
        for oid, hearings, talk_ms, speakers, questions in _fetch(
            session,
            select(
                _oid(table.observation_id),
                table.hearings,
                table.talk_ms,
                table.speakers,
                table.questions,
            ).where(*scope.where(table.observation_id)),
        )
        if oid in cells
    ]
    scope.cache["summaries"] = out
    return out


def _per_cell(session: Session, scope: Scope) -> dict[tuple[Any, ...], CellFigures]:
    """Every cell's hearings, talk time and speakers, added up here from a summary row per
    observation (the cells are nearly as many as the observations, so grouping in SQL would
    save nothing)."""
    if "per_cell" in scope.cache:
        return scope.cache["per_cell"]
    out: dict[tuple[Any, ...], CellFigures] = {}
    for cell, hearings, talk_ms, speakers, _ in _summaries(session, scope):
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


def _questions_per_cell(
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
    for cell, _, _, _, questions in _summaries(session, scope):
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


def _hearings_per_cell(session: Session, scope: Scope) -> dict[tuple[Any, ...], list[int]]:
    """cell → [hearings, talk ms]."""
    return {cell: [f.hearings, f.talk_ms] for cell, f in _per_cell(session, scope).items()}


def _speakers_per_cell(
    session: Session, scope: Scope
) -> dict[tuple[tuple[Any, ...], str], list[int]]:
    """(cell, role) → [turns, talk ms, hearings in which the role spoke, hearings it opened,
    hearings it closed]."""
    return {
        (cell, role): numbers
        for cell, f in _per_cell(session, scope).items()
        for role, numbers in f.speakers.items()
    }


def _fetch(session: Session, statement: Any) -> list[Any]:
    """Rows of a Core statement as the driver gives them (plain tuples, no per-row result
    processing): for the large reads of counts, keys and text only."""
    result = session.connection().execute(statement)
    try:
        return result.cursor.fetchall()  # type: ignore[attr-defined]
    finally:
        result.close()


def _value_counts(
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
        for key, value, n in _fetch(
            session,
            select(table.question_key, table.value_text, sa.func.sum(table.answers))
            .where(col(table.question_key).in_(keys), *scope.where(table.observation_id))
            .group_by(table.question_key, table.value_text),
        ):
            counts[key][value] = int(n)
        for per_key in _questions_per_cell(session, scope, keys).values():
            for key, numbers in per_key.items():
                answered[key] += numbers[0]
    scope.cache[cache_key] = (counts, answered)
    return counts, answered


# --- who speaks ------------------------------------------------------------------------------


@dataclass
class RoleFigures:
    role: str
    label: str
    colour: str
    turns: int
    talk_ms: int
    hearings: int  # hearings in which the role spoke
    share: float  # of all talk time
    first: int  # hearings this role opened
    last: int


@dataclass
class WhoSpeaks:
    hearings: int
    total_talk_ms: int
    roles: list[RoleFigures]


def count_hearings(*, session: Session, f: HearingFilter, scope: Scope | None = None) -> int:
    scope = scope or make_scope(session=session, f=f)
    return sum(n for n, _ in _hearings_per_cell(session, scope).values())


def who_speaks(
    *, session: Session, f: HearingFilter, protocols: SetProtocols, scope: Scope | None = None
) -> WhoSpeaks:
    """Turns, talk time and its share per role; how often each role spoke first and last."""
    scope = scope or make_scope(session=session, f=f)
    per_role: dict[str, list[int]] = {}
    for (_, role), figures in _speakers_per_cell(session, scope).items():
        acc = per_role.setdefault(role, [0, 0, 0, 0, 0])
        for i, n in enumerate(figures):
            acc[i] += n
    total = sum(talk for _, talk, *_ in per_role.values())
    figures = [
        RoleFigures(
            role=role,
            label=protocols.role_label(role),
            colour=protocols.role_colour(role),
            turns=turns,
            talk_ms=talk,
            hearings=n,
            share=(talk / total) if total else 0.0,
            first=opened,
            last=closed,
        )
        for role, (turns, talk, n, opened, closed) in per_role.items()
    ]
    order = list(protocols.roles)
    figures.sort(key=lambda r: (-r.talk_ms, order.index(r.role) if r.role in order else 99))
    return WhoSpeaks(count_hearings(session=session, f=f, scope=scope), total, figures)


# --- answer frequencies (who decides, what happens) -----------------------------------------


@dataclass
class Frequency:
    key: str
    label: str
    level: str
    answered: int  # hearings (or sittings) with an answer
    values: list[tuple[str, str, int, float]]  # (value, label, count, share of answered)


def answer_frequencies(
    *,
    session: Session,
    f: HearingFilter,
    protocols: SetProtocols,
    tag: str,
    scope: Scope | None = None,
) -> list[Frequency]:
    """For each question with `tag`: how often each value was given (list answers count each item)."""
    questions = protocols.questions(tag=tag)
    if not questions:
        return []
    scope = scope or make_scope(session=session, f=f)
    counts: dict[str, dict[str | None, int]] = defaultdict(dict)
    answered: dict[str, int] = defaultdict(int)
    keys = {k for k, q in questions.items() if q.type != "speaker_timeline"}
    hearing_keys = {k for k in keys if _level_of(protocols, k) == "hearing"}
    if hearing_keys:
        got_counts, got_answered = _value_counts(
            session, scope, {k: questions[k] for k in hearing_keys}
        )
        counts.update(got_counts)
        answered.update(got_answered)
    session_keys = sorted(keys - hearing_keys)
    if session_keys:
        # Asked once per sitting: few rows.
        where = (
            col(Answer.question_key).in_(session_keys),
            col(Answer.hearing_id).is_(None),
            *scope.where(Answer.observation_id),
        )
        for key, value, n in session.exec(
            select(Answer.question_key, Answer.value_text, sa.func.count())
            .where(*where)
            .group_by(Answer.question_key, Answer.value_text)
        ).all():
            counts[key][value] = int(n)
        for key, n in session.exec(
            select(Answer.question_key, sa.func.count(sa.distinct(Answer.observation_id)))
            .where(*where)
            .group_by(Answer.question_key)
        ).all():
            answered[key] = int(n)
    out = []
    for key, q in questions.items():
        if key not in counts:
            continue
        total = answered.get(key, 0)
        values_ = sorted(
            (
                (value, protocols.choice_label(key, value), n, n / total if total else 0.0)
                for value, n in counts[key].items()
                if value is not None
            ),
            key=lambda v: -v[2],
        )
        out.append(Frequency(key, q.label, _level_of(protocols, key), total, values_))
    return out


def _level_of(protocols: SetProtocols, key: str) -> str:
    for _, definition in protocols.versions.values():
        for section in definition.sections:
            if any(q.key == key for q in section.questions):
                return section.level
    return "hearing"


# --- gaps ------------------------------------------------------------------------------------


@dataclass
class GapRow:
    key: str
    label: str
    tag: str
    group: str  # "All hearings", a judge's name, a courtroom
    hearings: int  # hearings where the question applied
    absent: int  # answered with an "absent" value (No, or a choice marked absent)
    not_observed: int  # "Not observed", or left unanswered
    rate: float  # (absent + not_observed) / hearings


def gaps(
    *,
    session: Session,
    f: HearingFilter,
    protocols: SetProtocols,
    by: str | None = None,
    scope: Scope | None = None,
) -> list[GapRow]:
    """For every safety/accountability question: how often the thing was absent or not observed,
    overall (by=None), per judge (by="judge") or per courtroom (by="courtroom"); worst first.

    A question shown only under a condition counts only the hearings where it was answered;
    an unconditional question left unanswered counts as not observed."""
    questions = {
        k: (q, tag)
        for tag in GAP_TAGS
        for k, q in protocols.questions(tag=tag, level="hearing").items()
        if q.type in ("yes_no", "single_choice", "multi_choice")
    }
    if not questions:
        return []
    scope = scope or make_scope(session=session, f=f)
    labels = _group_labels(session, by)
    # Hearings per group and protocol version: the denominators.
    per_version: dict[Any, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for cell, (n, _) in _hearings_per_cell(session, scope).items():
        per_version[_cell_group(cell, by)][cell[0]] += n
    counted: dict[tuple[Any, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for cell, per_key in _questions_per_cell(session, scope, questions).items():
        grp = _cell_group(cell, by)
        for key, figures in per_key.items():
            acc = counted[(grp, key)]
            for i in range(3):
                acc[i] += figures[i]

    rows = []
    for key, (q, tag) in questions.items():
        versions = protocols.versions_with(key)
        for grp, by_version in per_version.items():
            applicable = sum(n for pv, n in by_version.items() if pv in versions)
            got, absent, not_observed = counted.get((grp, key), (0, 0, 0))
            if q.show_if is not None:
                applicable = got
            if not applicable:
                continue
            not_observed += max(0, applicable - got)
            rows.append(
                GapRow(
                    key,
                    q.label,
                    tag,
                    labels(grp),
                    applicable,
                    absent,
                    not_observed,
                    (absent + not_observed) / applicable,
                )
            )
    rows.sort(key=lambda r: (-r.rate, -r.hearings, r.key, r.group))
    return rows


def _group_labels(session: Session, by: str | None) -> Any:
    """How a group value is shown: a judge's name, a courtroom, a calendar type, a month."""
    if by is None:
        return lambda _g: "All hearings"
    if by == "judge":
        names = dict(session.exec(select(Judge.id, Judge.name)).all())
        return lambda g: names.get(g, "No judge recorded")
    if by == "courtroom":
        return lambda g: g or "—"
    if by == "calendar_type":
        return lambda g: (g or "—").replace("_", " ").capitalize()
    if by == "month":
        return lambda g: g or "—"
    raise ValueError(f"unknown breakdown {by!r}")


# --- patterns --------------------------------------------------------------------------------


@dataclass
class Patterns:
    hearings: int
    common: list[tuple[tuple[str, ...], int, float]]  # script, count, share
    modal: tuple[str, ...]
    mean_distance: float | None
    departures: list[dict[str, Any]]  # hearings that depart most from the modal script


def parse_script(script: str | None) -> tuple[str, ...]:
    if not script:
        return ()
    roles = script.split(">")
    return tuple(roles) if all(roles) else tuple(s for s in roles if s)


def patterns(
    *,
    session: Session,
    f: HearingFilter,
    top: int = 10,
    departures: int = 10,
    scope: Scope | None = None,
) -> Patterns:
    """The most common scripts, how alike the hearings are, and which depart most.

    The scripts are read coded one character per role (Hearing.script_code) and counted here
    (cheaper than the database's GROUP BY sort); each distinct script's edit distance to the
    most common one is computed once, weighted by how many hearings have it."""
    scope = scope or make_scope(session=session, f=f)
    counted = Counter(
        code
        for (code,) in _fetch(
            session,
            select(Hearing.script_code).where(
                col(Hearing.script_code) != "", *scope.where(Hearing.observation_id)
            ),
        )
    )
    if not counted:
        return Patterns(0, [], (), None, [])
    coded = list(counted)
    counts = list(counted.values())
    total = sum(counts)
    roles_by_code = {
        role_code(role_id): role
        for role_id, role in session.exec(select(SpeakerRole.id, SpeakerRole.role)).all()
    }
    # Most common first, ties in the order the roles were first met (as the codes sort);
    # only scripts as common as the top-th can rank.
    floor = heapq.nlargest(top, counts)[-1] if top > 0 else max(counts)
    ranked = heapq.nsmallest(
        max(top, 1),
        (i for i, n in enumerate(counts) if n >= floor),
        key=lambda i: (-counts[i], coded[i]),
    )
    modal = coded[ranked[0]]
    distances = stats.coded_distances(modal, coded)
    mean = sum(d * n for d, n in zip(distances, counts, strict=True)) / total
    # Farthest first, then the more common; only scripts as far as the departures-th can rank.
    far = heapq.nlargest(departures, distances)[-1] if departures > 0 else float("inf")
    worst = sorted(
        (i for i, d in enumerate(distances) if d >= far and d > 0),
        key=lambda i: (-distances[i], -counts[i]),
    )[:departures]
    worst_keys = {coded[i]: i for i in worst}
    rows = []
    if worst_keys:
        found = session.exec(
            select(
                Hearing.id, Hearing.script_code, Hearing.case_reference, CourtSession.session_date
            )
            .join(Observation, Observation.id == Hearing.observation_id)  # type: ignore[arg-type]
            .join(CourtSession, CourtSession.id == Observation.court_session_id)  # type: ignore[arg-type]
            .where(col(Hearing.script_code).in_(list(worst_keys)), *scope.f.conditions())
            .order_by(col(CourtSession.session_date).desc())
        ).all()
        seen: dict[str, int] = defaultdict(int)
        for hid, code, case_reference, session_date in found:
            if seen[code] >= 2:  # a couple of examples per unusual script
                continue
            seen[code] += 1
            i = worst_keys[code]
            rows.append(
                {
                    "hearing_id": hid,
                    "script": stats.decode_script(coded[i], roles_by_code),
                    "distance": distances[i],
                    "case_reference": case_reference,
                    "session_date": session_date,
                }
            )
        rows.sort(key=lambda r: -r["distance"])
        rows = rows[:departures]
    common = [
        (stats.decode_script(coded[i], roles_by_code), counts[i], counts[i] / total)
        for i in ranked[:top]
    ]
    return Patterns(total, common, stats.decode_script(modal, roles_by_code), mean, rows)


# --- breakdowns ------------------------------------------------------------------------------


@dataclass
class BreakdownRow:
    group: str
    hearings: int
    mean_talk_ms: float
    shares: dict[str, float]  # role → share of talk time
    gap_rate: float | None  # mean over safety/accountability questions


def breakdown(
    *,
    session: Session,
    f: HearingFilter,
    protocols: SetProtocols,
    by: str,
    scope: Scope | None = None,
    gap_rows: list[GapRow] | None = None,
) -> list[BreakdownRow]:
    """Key figures side by side per judge, courtroom, calendar type or month."""
    scope = scope or make_scope(session=session, f=f)
    labels = _group_labels(session, by)
    totals: dict[Any, list[int]] = {}
    for cell, (n, talk_ms) in _hearings_per_cell(session, scope).items():
        acc = totals.setdefault(_cell_group(cell, by), [0, 0])
        acc[0] += n
        acc[1] += talk_ms
    talk: dict[Any, dict[str, int]] = defaultdict(dict)
    for (cell, role), (_, ms, *_) in _speakers_per_cell(session, scope).items():
        per_role = talk[_cell_group(cell, by)]
        per_role[role] = per_role.get(role, 0) + ms
    gap_rates: dict[str, list[float]] = defaultdict(list)
    if by in ("judge", "courtroom"):
        if gap_rows is None:
            gap_rows = gaps(session=session, f=f, protocols=protocols, by=by, scope=scope)
        for row in gap_rows:
            gap_rates[row.group].append(row.rate)
    rows = []
    for grp, (n, talk_ms) in totals.items():
        if not n:
            continue
        total_talk = sum(talk[grp].values())
        shares = {role: ms / total_talk for role, ms in talk[grp].items()} if total_talk else {}
        label = labels(grp)
        rates = gap_rates.get(label)
        rows.append(
            BreakdownRow(label, n, talk_ms / n, shares, sum(rates) / len(rates) if rates else None)
        )
    rows.sort(key=lambda r: r.group)
    return rows


# --- agreement -------------------------------------------------------------------------------


@dataclass
class MatchedHearing:
    key: tuple[Any, ...]  # (court session id, "case", reference) or (court session id, "pos", n)
    label: str
    # observer id → {hearing_id, observation_id (as the driver gives them: keys, not UUIDs),
    # position, script, answers, is_reference}
    hearings: dict[int, dict[str, Any]]


@dataclass
class QuestionAgreement:
    key: str
    label: str
    items: int  # matched hearings rated by two or more observers
    percent: float | None
    kappa: float | None
    interpretation: str
    method: str  # "Cohen" or "Fleiss"


@dataclass
class ObserverVsReference:
    observer: str
    hearings: int
    per_question: list[tuple[str, str, int, int]]  # key, label, agreed, compared
    script_distance: float | None


@dataclass
class Agreement:
    # the matched hearings worked out from the hearings (sittings with three or more
    # observations in the set, or with a reference, or not yet paired) ...
    matched: list[MatchedHearing]
    questions: list[QuestionAgreement]
    script_distance: (
        float | None
    )  # mean pairwise normalised edit distance between observers' scripts
    reference: list[ObserverVsReference] = field(default_factory=list)
    # ... and those read from observation_pair rows: how many, and their observations
    # (observation id as the driver gives it, observer id, court session id)
    paired_hearings: int = 0
    paired_observations: list[tuple[Any, int, int]] = field(default_factory=list)

    @property
    def matched_count(self) -> int:
        """Hearings observed by two or more volunteers."""
        return len(self.matched) + self.paired_hearings


def matched_hearings(
    *,
    session: Session,
    f: HearingFilter,
    scope: Scope | None = None,
    keys: Iterable[str] | None = None,
    only: Collection[Any] | None = None,
) -> list[MatchedHearing]:
    """Hearings observed by two or more volunteers: same court session and case reference, or
    same court session and order when the case reference is missing; with their answers (to
    the questions `keys`: key → value or None; or all: key → value, a list answer as a
    sorted tuple of its items).

    Only sittings with two or more observers in the set are read at all (and of those, with
    `only`, only these observations)."""
    scope = scope or make_scope(session=session, f=f)
    observers: dict[int, set[int]] = defaultdict(set)
    for s in scope.observations.values():
        observers[s.court_session_id].add(s.observer_id)
    shared = [
        oid
        for oid, s in scope.observations.items()
        if len(observers[s.court_session_id]) >= 2 and (only is None or oid in only)
    ]
    if not shared:
        return []
    # The answers come from the hearing's JSON: all of it, or (cheaper) just the wanted keys
    # picked out by the database (json_extract / ->>), which holds only scalar answers.
    key_list = None if keys is None else sorted(set(keys))
    answer_columns = (
        [Hearing.answers]
        if key_list is None
        else [
            # a blank answer is no answer (as the answer rows have it)
            sa.func.nullif(sa.func.trim(col(Hearing.answers)[k].as_string()), "").label(
                f"answer_{i}"
            )
            for i, k in enumerate(key_list)
        ]
    )
    rows = []
    for start in range(0, len(shared), 500):
        rows.extend(
            _fetch(
                session,
                select(
                    _oid(Hearing.id).label("hearing_id"),
                    _oid(Hearing.observation_id).label("observation_id"),
                    Hearing.case_reference,
                    Hearing.position,
                    Hearing.script,
                    Observation.observer_id,
                    Observation.court_session_id,
                    Observation.is_reference,
                    *answer_columns,
                )
                .join(Observation, Observation.id == Hearing.observation_id)  # type: ignore[arg-type]
                .where(_oid(Hearing.observation_id).in_(shared[start : start + 500])),
            )
        )
    groups: dict[tuple[Any, ...], dict[int, dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        hid, oid, ref, pos, script, observer, cs_id, is_ref = row[:8]
        values = row[8:]
        if key_list is None:
            document = values[0] or {}
            answers = _comparable_answers(
                json.loads(document) if isinstance(document, str) else document
            )
        else:  # None for no answer
            answers = dict(zip(key_list, values, strict=True))
        key = (cs_id, *pairs.match_key(ref, pos))
        groups[key][observer] = {
            "hearing_id": hid,
            "observation_id": oid,
            "position": pos,
            "script": parse_script(script),
            "is_reference": bool(is_ref),
            "answers": answers,
            "values": values,  # with `keys`: the answers in the order of sorted(keys)
        }
    groups = {k: v for k, v in groups.items() if len(v) >= 2}
    if not groups:
        return []
    out = []
    # In the order of the sitting, then of the hearings in it.
    for key, observers_ in sorted(
        groups.items(),
        key=lambda kv: (
            kv[0][0],
            min(h["position"] for h in kv[1].values()),
            kv[0][1],
            str(kv[0][2]),
        ),
    ):
        label = f"case {key[2]}" if key[1] == "case" else f"hearing #{int(key[2]) + 1}"
        out.append(MatchedHearing(key, label, observers_))
    return out


def _comparable_answers(answers: dict[str, Any]) -> dict[str, Any]:
    """A hearing's answers as compared between observers: what its answer rows hold (blank
    answers left out), a list as the sorted tuple of its items."""
    out = {}
    for key, value in answers.items():
        if not value or (isinstance(value, str) and not value.strip()):
            continue  # unanswered, blank, or an empty list ("none of these": no value)
        if isinstance(value, list):
            out[key] = tuple(sorted(map(str, value))) if len(value) != 1 else value[0]
        else:
            out[key] = value
    return out


def agreement(
    *, session: Session, f: HearingFilter, protocols: SetProtocols, scope: Scope | None = None
) -> Agreement:
    """Per categorical question: percent agreement and kappa; per hearing: script distance;
    and, where a trainer marked a reference observation, each observer against it."""
    questions = {
        k: q for k, q in protocols.questions(level="hearing").items() if q.type in CATEGORICAL
    }
    scope = scope or make_scope(session=session, f=f)
    paired, live = _paired_sittings(session, scope)
    matched = matched_hearings(session=session, f=f, scope=scope, keys=questions, only=live)
    # Ordered by observer so Cohen's κ sees the same rater in the same place; identical
    # rating tuples are counted once with their number.
    tallies: dict[str, Counter[tuple[Any, ...]]] = defaultdict(Counter)
    firsts: list[tuple[Any, ...]] = []
    seconds: list[tuple[Any, ...]] = []
    for m in matched:
        hearings = [h for _, h in sorted(m.hearings.items())]
        if len(hearings) == 2:  # the common case: all pairs are counted per key below
            firsts.append(hearings[0]["values"])
            seconds.append(hearings[1]["values"])
            continue
        answers = [h["answers"] for h in hearings]
        for key in set().union(*answers):
            values = tuple(v for v in (a.get(key) for a in answers) if v is not None)
            if len(values) >= 2:
                tallies[key][values] += 1
    # One column of values per question (in the order of sorted(questions)), for all pairs.
    for key, first, second in zip(
        sorted(questions), zip(*firsts, strict=True), zip(*seconds, strict=True), strict=False
    ):  # no pairs: no columns
        for pair, n in Counter(zip(first, second, strict=True)).items():
            if pair[0] is not None and pair[1] is not None:
                tallies[key][pair] += n
    # Sittings whose two observations were paired when written: their figures as stored.
    distances: list[float] = []
    paired_hearings, distance_sum, scripts = _add_pairs(session, paired, questions, tallies)
    results = []
    for key, q in questions.items():
        tally = tallies.get(key)
        if not tally:
            continue
        k = stats.kappa_counts(tally)
        results.append(
            QuestionAgreement(
                key,
                q.label,
                sum(tally.values()),
                stats.percent_agreement_counts(tally),
                k,
                stats.interpret_kappa(k),
                "Cohen" if all(len(item) == 2 for item in tally) else "Fleiss",
            )
        )
    for m in matched:
        found = [h["script"] for h in m.hearings.values() if h["script"]]
        for i in range(len(found)):
            for j in range(i + 1, len(found)):
                distances.append(stats.normalised_edit_distance(found[i], found[j]))
    compared = len(distances) + scripts
    result = Agreement(
        matched,
        results,
        (sum(distances) + distance_sum) / compared if compared else None,
        paired_hearings=paired_hearings,
        paired_observations=[o for pair in paired.values() for o in pair],
    )
    result.reference = _against_reference(session, matched, questions)
    return result


def _paired_sittings(
    session: Session, scope: Scope
) -> tuple[dict[int, list[tuple[Any, int, int]]], set[Any]]:
    """The sittings with two or more observers in the set, told apart: those whose agreement
    figures can be read from observation_pair (exactly two observations in the set, both
    paired, neither a reference): court session → its two observations (id, observer,
    court session), lower observer first; and the observations of all the others."""
    by_sitting: dict[int, list[tuple[Any, int, int]]] = defaultdict(list)
    for oid, s in scope.observations.items():
        by_sitting[s.court_session_id].append((oid, s.observer_id, s.court_session_id))
    shared = {cs: obs for cs, obs in by_sitting.items() if len({o[1] for o in obs}) >= 2}
    ids = [o[0] for obs in shared.values() if len(obs) == 2 for o in obs]
    ready: set[Any] = set()
    for start in range(0, len(ids), 500):
        ready.update(
            oid
            for (oid,) in _fetch(
                session,
                select(_oid(ObservationSummary.observation_id))
                .join(Observation, Observation.id == ObservationSummary.observation_id)  # type: ignore[arg-type]
                .where(
                    _oid(ObservationSummary.observation_id).in_(ids[start : start + 500]),
                    col(ObservationSummary.paired).is_(True),
                    col(Observation.is_reference).is_(False),
                ),
            )
        )
    paired = {
        cs: sorted(obs, key=lambda o: o[1])
        for cs, obs in shared.items()
        if len(obs) == 2 and all(o[0] in ready for o in obs)
    }
    live = {o[0] for cs, obs in shared.items() if cs not in paired for o in obs}
    return paired, live


def _add_pairs(
    session: Session,
    paired: dict[int, list[tuple[Any, int, int]]],
    questions: Collection[str],
    tallies: dict[str, Counter[tuple[Any, ...]]],
) -> tuple[int, float, int]:
    """Add the paired sittings' answer pairs to `tallies`; (matched hearings, sum of script
    distances, scripts compared)."""
    second_of = {obs[0][0]: obs[1][0] for obs in paired.values()}
    firsts = list(second_of)
    hearings, distance_sum, scripts = 0, 0.0, 0
    wanted = set(questions)
    table = ObservationPair
    for start in range(0, len(firsts), 500):
        for first, second, n, found, distance, compared in _fetch(
            session,
            select(
                _oid(table.first_observation_id),
                _oid(table.second_observation_id),
                table.hearings,
                table.tallies,
                table.distance_sum,
                table.scripts,
            ).where(_oid(table.first_observation_id).in_(firsts[start : start + 500])),
        ):
            if second_of.get(first) != second:
                continue  # the first's pair with an observation outside the set
            hearings += n
            distance_sum += distance
            scripts += compared
            for key, counts in _json(found).items():
                if key in wanted:
                    tally = tallies[key]
                    for a, b, k in counts:
                        tally[a, b] += k
    return hearings, distance_sum, scripts


def _against_reference(
    session: Session, matched: list[MatchedHearing], questions: dict[str, Question]
) -> list[ObserverVsReference]:
    per_observer: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    hearings_seen: dict[int, int] = defaultdict(int)
    distances: dict[int, list[float]] = defaultdict(list)
    for m in matched:
        # Should two observers' records both be marked, the first observer's is the reference.
        reference = next((h for _, h in sorted(m.hearings.items()) if h["is_reference"]), None)
        if reference is None:
            continue
        for observer, h in m.hearings.items():
            if h is reference:
                continue
            hearings_seen[observer] += 1
            if reference["script"] or h["script"]:
                distances[observer].append(
                    stats.normalised_edit_distance(reference["script"], h["script"])
                )
            for key in questions:
                ref_value = reference["answers"].get(key)
                if ref_value is None:
                    continue
                counts = per_observer[observer][key]
                counts[1] += 1
                if h["answers"].get(key) == ref_value:
                    counts[0] += 1
    if not hearings_seen:
        return []
    names = dict(
        session.exec(
            select(User.id, User.display_name).where(col(User.id).in_(list(hearings_seen)))
        ).all()
    )
    out = []
    for observer, n in sorted(hearings_seen.items(), key=lambda kv: names.get(kv[0], "")):
        rows = [
            (key, questions[key].label, agreed, compared)
            for key, (agreed, compared) in per_observer[observer].items()
            if compared
        ]
        d = distances[observer]
        out.append(
            ObserverVsReference(
                names.get(observer, f"Observer {observer}"), n, rows, sum(d) / len(d) if d else None
            )
        )
    return out


def reference_candidates(
    *, session: Session, agreement: Agreement, limit: int = 20
) -> list[dict[str, Any]]:
    """The observations of the matched sittings (the latest sittings first, at most `limit`),
    with observer and sitting, for a trainer to mark (or unmark) as the reference."""
    seen: dict[Any, dict[str, Any]] = {
        oid: {
            "observation_id": oid,
            "observer_id": observer,
            "court_session_id": court_session,
            "is_reference": False,
        }
        for oid, observer, court_session in agreement.paired_observations
    }
    for m in agreement.matched:
        for observer, h in m.hearings.items():
            oid = h["observation_id"]
            if oid not in seen:
                seen[oid] = {
                    "observation_id": oid,
                    "observer_id": observer,
                    "court_session_id": m.key[0],
                    "is_reference": h["is_reference"],
                }
    rows = sorted(seen.values(), key=lambda r: (-r["court_session_id"], r["observer_id"]))[:limit]
    if not rows:
        return rows
    names = dict(
        session.exec(
            select(User.id, User.display_name).where(
                col(User.id).in_({r["observer_id"] for r in rows})
            )
        ).all()
    )
    sittings = {
        cs.id: cs
        for cs in session.exec(
            select(CourtSession).where(
                col(CourtSession.id).in_({r["court_session_id"] for r in rows})
            )
        ).all()
    }
    for r in rows:
        sitting = sittings.get(r["court_session_id"])
        r["observer"] = names.get(r["observer_id"], f"Observer {r['observer_id']}")
        r["sitting"] = f"{sitting.session_date} · courtroom {sitting.courtroom}" if sitting else "—"
    return rows


def set_reference(
    *, session: Session, observation_id: uuid.UUID, is_reference: bool
) -> Observation:
    """Mark an observation as the reference record for calibration (or take the mark off)."""
    observation = session.get(Observation, observation_id)
    if observation is None:
        raise NotFound("There is no such observation.")
    observation.is_reference = is_reference
    session.add(observation)
    session.commit()
    session.refresh(observation)
    return observation


# --- the whole page ----------------------------------------------------------------------------


@dataclass
class Comparison:
    filter: HearingFilter
    protocols: SetProtocols
    who_speaks: WhoSpeaks
    who_decides: list[Frequency]
    what_happens: list[Frequency]
    gaps_overall: list[GapRow]
    gaps_by_judge: list[GapRow]
    gaps_by_courtroom: list[GapRow]
    patterns: Patterns
    breakdown_by: str
    breakdown: list[BreakdownRow]
    agreement: Agreement | None


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """CPython's cyclic garbage collector paused for the duration.

    A comparison makes hundreds of thousands of short-lived tuples, lists and dicts, none of
    them in reference cycles: reference counting frees them all, while the cyclic collector,
    triggered every few hundred allocations, would walk them over and over (measured: a third
    of the page's time on 100,000 hearings). Other threads may run meanwhile without it too;
    it is switched back on by whoever switched it off."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def compare(
    *, session: Session, f: HearingFilter, breakdown_by: str = "judge", with_agreement: bool = True
) -> Comparison:
    """Every figure of the comparison page for one filter."""
    with _cyclic_gc_paused():
        return _compare(
            session=session, f=f, breakdown_by=breakdown_by, with_agreement=with_agreement
        )


def _compare(
    *, session: Session, f: HearingFilter, breakdown_by: str, with_agreement: bool
) -> Comparison:
    if breakdown_by not in BREAKDOWNS:
        breakdown_by = "judge"
    scope = make_scope(session=session, f=f)
    protocols = set_protocols(session=session, f=f, scope=scope)
    common = {"session": session, "f": f, "scope": scope}
    by_judge = gaps(**common, protocols=protocols, by="judge")
    by_courtroom = gaps(**common, protocols=protocols, by="courtroom")
    return Comparison(
        filter=f,
        protocols=protocols,
        who_speaks=who_speaks(**common, protocols=protocols),
        who_decides=answer_frequencies(**common, protocols=protocols, tag="decision"),
        what_happens=answer_frequencies(**common, protocols=protocols, tag="outcome"),
        gaps_overall=gaps(**common, protocols=protocols),
        gaps_by_judge=by_judge,
        gaps_by_courtroom=by_courtroom,
        patterns=patterns(**common),
        breakdown_by=breakdown_by,
        breakdown=breakdown(
            **common,
            protocols=protocols,
            by=breakdown_by,
            gap_rows={"judge": by_judge, "courtroom": by_courtroom}.get(breakdown_by),
        ),
        agreement=agreement(**common, protocols=protocols) if with_agreement else None,
    )
