"""Browsing what came back: paged lists of hearings and observations, and one hearing or
observation whole, for staff (trainers, organizers, admins).

Lists are paged by keyset (the last row's sort key, not an OFFSET), so page 2,000 of a large
store costs what page 1 costs. The total is counted once per request with the same filter.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app import i18n
from app.auth.models import User
from app.errors import NotFound
from app.i18n import gettext
from app.observations.filters import HearingFilter
from app.observations.models import Hearing, Observation, Turn
from app.protocols.definition import (
    YES_NO_LABELS,
    DefinitionInvalid,
    ProtocolDefinition,
    Question,
    parse_definition,
)
from app.protocols.models import Protocol, ProtocolVersion
from app.sessions.models import Court, CourtSession, Judge
from app.sessions.schemas import CALENDAR_LABELS

PAGE_SIZE = 50
DEFAULT_ROLE_COLOUR = "#9aa5b1"


# --- cursors ---------------------------------------------------------------------------------


def encode_cursor(values: list[Any]) -> str:
    """An opaque, URL-safe token for the last row's sort key."""
    raw = json.dumps([str(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str | None, size: int) -> list[str] | None:
    """The sort key from a token; None for none or a token that does not decode."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        values = json.loads(raw)
    except (ValueError, TypeError):
        return None
    if not isinstance(values, list) or len(values) != size:
        return None
    if not all(isinstance(v, str) for v in values):
        return None
    return values


@dataclass
class Page:
    rows: list[Any]
    total: int
    next_cursor: str | None
    is_first: bool


# --- the hearing list ------------------------------------------------------------------------


@dataclass
class SittingColumns:
    """What both lists show of an observation's sitting, observer and protocol (the
    columns of _base_columns(), in order)."""

    session_date: date
    court: str
    courtroom: str
    judge: str | None
    calendar_type: str
    observer: str
    status: str
    protocol: str
    protocol_version: int

    @property
    def calendar_label(self) -> str:
        return i18n.label(CALENDAR_LABELS, self.calendar_type)


@dataclass
class HearingRow(SittingColumns):
    id: uuid.UUID
    observation_id: uuid.UUID
    position: int
    case_reference: str | None
    turn_count: int
    talk_ms: int
    first_role: str | None


def _base_columns() -> list[Any]:
    return [
        CourtSession.session_date,
        Court.name,
        CourtSession.courtroom,
        Judge.name,
        CourtSession.calendar_type,
        User.display_name,
        Observation.status,
        Protocol.name,
        ProtocolVersion.version,
    ]


def _joined(query: Any) -> Any:
    """Observation → sitting, court, judge, observer and protocol version (for list rows)."""
    return (
        query.join(CourtSession, col(CourtSession.id) == Observation.court_session_id)
        .join(Court, col(Court.id) == CourtSession.court_id)
        .outerjoin(Judge, col(Judge.id) == CourtSession.judge_id)
        .join(User, col(User.id) == Observation.observer_id)
        .join(ProtocolVersion, col(ProtocolVersion.id) == Observation.protocol_version_id)
        .join(Protocol, col(Protocol.id) == ProtocolVersion.protocol_id)
    )


def _count(session: Session, query: Any) -> int:
    return int(session.exec(select(sa.func.count()).select_from(query.subquery())).one())


def _page(
    session: Session,
    query: Any,
    *,
    row: type[SittingColumns],
    limit: int,
    cursor_of: Any,
    total: int,
    is_first: bool,
) -> Page:
    """One page of `query` (ordered, and past the cursor already) as `row`s; the next page's
    cursor when there is one."""
    rows = [row(*r) for r in session.exec(query.limit(limit + 1)).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(cursor_of(rows[-1])) if more else None
    return Page(rows=rows, total=total, next_cursor=cursor, is_first=is_first)


def list_hearings(
    *, session: Session, f: HearingFilter, after: str | None = None, limit: int = PAGE_SIZE
) -> Page:
    """Hearings the filter keeps, newest sitting first, in their order within a sitting."""
    base = (
        select(Hearing.id)
        .join(Observation, col(Observation.id) == Hearing.observation_id)
        .join(CourtSession, col(CourtSession.id) == Observation.court_session_id)
        .where(*f.conditions())
    )
    total = _count(session, base)
    query = _joined(
        select(
            *_base_columns(),
            Hearing.id,
            Hearing.observation_id,
            Hearing.position,
            Hearing.case_reference,
            Hearing.turn_count,
            Hearing.talk_ms,
            Hearing.first_role,
        ).join(Observation, col(Observation.id) == Hearing.observation_id)
    ).where(*f.conditions())
    key = decode_cursor(after, 3)
    if key is not None:
        try:
            k_date, k_obs, k_pos = date.fromisoformat(key[0]), uuid.UUID(key[1]), int(key[2])
        except ValueError:
            key = None
        else:
            query = query.where(
                sa.or_(
                    CourtSession.session_date < k_date,
                    sa.and_(
                        CourtSession.session_date == k_date,
                        sa.or_(
                            col(Observation.id) < k_obs,
                            sa.and_(Observation.id == k_obs, Hearing.position > k_pos),
                        ),
                    ),
                )
            )
    return _page(
        session,
        query.order_by(
            sa.desc(CourtSession.session_date), sa.desc(Observation.id), Hearing.position
        ),
        row=HearingRow,
        limit=limit,
        cursor_of=lambda r: [r.session_date, r.observation_id, r.position],
        total=total,
        is_first=key is None,
    )


# --- the observation list --------------------------------------------------------------------


@dataclass
class ObservationRow(SittingColumns):
    id: uuid.UUID
    client_edited_at: datetime
    revision_count: int
    hearing_count: int


def list_observations(
    *, session: Session, f: HearingFilter, after: str | None = None, limit: int = PAGE_SIZE
) -> Page:
    """Observations the filter keeps, newest sitting first."""
    base = (
        select(Observation.id)
        .join(CourtSession, col(CourtSession.id) == Observation.court_session_id)
        .where(*f.conditions())
    )
    total = _count(session, base)
    hearing_count = (
        select(sa.func.count(col(Hearing.id)))
        .where(Hearing.observation_id == Observation.id)
        .scalar_subquery()
    )
    query = _joined(
        select(
            *_base_columns(),
            Observation.id,
            Observation.client_edited_at,
            Observation.revision_count,
            hearing_count,
        )
    ).where(*f.conditions())
    key = decode_cursor(after, 2)
    if key is not None:
        try:
            k_date, k_obs = date.fromisoformat(key[0]), uuid.UUID(key[1])
        except ValueError:
            key = None
        else:
            query = query.where(
                sa.or_(
                    CourtSession.session_date < k_date,
                    sa.and_(CourtSession.session_date == k_date, col(Observation.id) < k_obs),
                )
            )
    return _page(
        session,
        query.order_by(sa.desc(CourtSession.session_date), sa.desc(Observation.id)),
        row=ObservationRow,
        limit=limit,
        cursor_of=lambda r: [r.session_date, r.id],
        total=total,
        is_first=key is None,
    )


# --- one observation, one hearing ------------------------------------------------------------


@dataclass
class AnswerView:
    key: str
    label: str
    value: str
    is_text: bool = False


@dataclass
class TimelineTurn:
    seq: int
    role: str
    label: str
    colour: str
    start_ms: int
    end_ms: int | None

    @property
    def duration_ms(self) -> int | None:
        return None if self.end_ms is None else max(0, self.end_ms - self.start_ms)


@dataclass
class Timeline:
    turns: list[TimelineTurn]
    span_ms: int  # from 0 to the last end (or start) of any turn
    legend: list[dict[str, Any]] = field(
        default_factory=list
    )  # {role, label, colour, turns, talk_ms}


@dataclass
class ObservationContext:
    observation: Observation
    session_date: date
    court: str
    courtroom: str
    judge: str | None
    calendar_type: str
    observer: str
    protocol: str
    protocol_version: int
    definition: ProtocolDefinition | None

    @property
    def calendar_label(self) -> str:
        return i18n.label(CALENDAR_LABELS, self.calendar_type)


def _definition(data: Any) -> ProtocolDefinition | None:
    try:
        return parse_definition(data).localized(i18n.language())  # in the reader's language
    except DefinitionInvalid:
        return None


def observation_context(*, session: Session, observation_id: uuid.UUID) -> ObservationContext:
    """An observation with where, who and which protocol; NotFound if there is none."""
    row = session.exec(
        _joined(
            select(
                Observation,
                CourtSession.session_date,
                Court.name,
                CourtSession.courtroom,
                Judge.name,
                CourtSession.calendar_type,
                User.display_name,
                Protocol.name,
                ProtocolVersion.version,
                ProtocolVersion.definition,
            )
        ).where(Observation.id == observation_id)
    ).first()
    if row is None:
        raise NotFound(gettext("There is no observation with this id."))
    *values, definition = row
    return ObservationContext(*values, definition=_definition(definition))


def format_answer(
    definition: ProtocolDefinition | None, question: Question | None, value: Any
) -> str:
    """An answer as a person reads it: choice labels, Yes/No, numbers and text as given."""

    def label(item: Any) -> str:
        if question is not None and definition is not None:
            for choice in definition.choices_for(question):
                if choice.value == item:
                    return choice.label
        if isinstance(item, bool):
            return "Yes" if item else "No"
        if isinstance(item, str) and item in YES_NO_LABELS:
            return YES_NO_LABELS[item]
        return str(item)

    if isinstance(value, list):
        return ", ".join(label(v) for v in value) if value else "None of these"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return label(value)


def answer_views(
    definition: ProtocolDefinition | None, answers: dict[str, Any], level: str
) -> list[AnswerView]:
    """Answers in the protocol's order (unknown keys last), with question labels."""
    views: list[AnswerView] = []
    seen: set[str] = set()
    questions = definition.questions(level) if definition else []  # type: ignore[arg-type]
    for q in questions:
        if q.type == "speaker_timeline":
            continue
        seen.add(q.key)
        if q.key not in answers or answers[q.key] is None or answers[q.key] == "":
            continue
        views.append(
            AnswerView(
                key=q.key,
                label=q.label,
                value=format_answer(definition, q, answers[q.key]),
                is_text=q.type in ("short_text", "long_text"),
            )
        )
    for key, value in answers.items():
        if key not in seen and value not in (None, ""):
            views.append(
                AnswerView(key=key, label=key, value=format_answer(definition, None, value))
            )
    return views


def role_styles(definition: ProtocolDefinition | None) -> dict[str, tuple[str, str]]:
    """Role key → (label, colour) from the protocol's speaker timeline."""
    if definition is None:
        return {}
    return {r.key: (r.label, r.colour) for r in definition.timeline_roles()}


def hearing_timeline(
    *, session: Session, hearing_id: uuid.UUID, definition: ProtocolDefinition | None
) -> Timeline:
    """The hearing's turns in order, coloured by the protocol's role colours, with a legend."""
    styles = role_styles(definition)
    rows = session.exec(
        select(Turn.seq, Turn.role, Turn.start_ms, Turn.end_ms)
        .where(Turn.hearing_id == hearing_id)
        .order_by(Turn.seq)
    ).all()
    turns = [
        TimelineTurn(
            seq=seq,
            role=role,
            label=styles.get(role, (role.replace("_", " ").capitalize(), ""))[0],
            colour=styles.get(role, ("", DEFAULT_ROLE_COLOUR))[1],
            start_ms=start,
            end_ms=end,
        )
        for seq, role, start, end in rows
    ]
    span = max((t.end_ms if t.end_ms is not None else t.start_ms for t in turns), default=0)
    legend: dict[str, dict[str, Any]] = {}
    for t in turns:
        entry = legend.setdefault(
            t.role, {"role": t.role, "label": t.label, "colour": t.colour, "turns": 0, "talk_ms": 0}
        )
        entry["turns"] += 1
        entry["talk_ms"] += t.duration_ms or 0
    ordered = sorted(legend.values(), key=lambda e: -e["talk_ms"])
    return Timeline(turns=turns, span_ms=max(span, 1), legend=ordered)


@dataclass
class HearingPage:
    hearing: Hearing
    context: ObservationContext
    answers: list[AnswerView]
    timeline: Timeline
    previous_id: uuid.UUID | None
    next_id: uuid.UUID | None
    count_in_observation: int


def hearing_page(*, session: Session, hearing_id: uuid.UUID) -> HearingPage:
    """One hearing: where and who, its answers, its timeline, and its neighbours in the sitting."""
    hearing = session.get(Hearing, hearing_id)
    if hearing is None:
        raise NotFound(gettext("There is no hearing with this id."))
    context = observation_context(session=session, observation_id=hearing.observation_id)
    siblings = session.exec(
        select(Hearing.id)
        .where(Hearing.observation_id == hearing.observation_id)
        .order_by(Hearing.position)
    ).all()
    index = list(siblings).index(hearing.id)
    return HearingPage(
        hearing=hearing,
        context=context,
        answers=answer_views(context.definition, hearing.answers or {}, "hearing"),
        timeline=hearing_timeline(
            session=session, hearing_id=hearing.id, definition=context.definition
        ),
        previous_id=siblings[index - 1] if index > 0 else None,
        next_id=siblings[index + 1] if index + 1 < len(siblings) else None,
        count_in_observation=len(siblings),
    )


@dataclass
class ObservationPage:
    context: ObservationContext
    answers: list[AnswerView]
    hearings: list[Hearing]


def observation_page(*, session: Session, observation_id: uuid.UUID) -> ObservationPage:
    """One observation: where and who, its session-level answers and notes, its hearings."""
    context = observation_context(session=session, observation_id=observation_id)
    hearings = session.exec(
        select(Hearing).where(Hearing.observation_id == observation_id).order_by(Hearing.position)
    ).all()
    return ObservationPage(
        context=context,
        answers=answer_views(
            context.definition, context.observation.session_answers or {}, "session"
        ),
        hearings=list(hearings),
    )
