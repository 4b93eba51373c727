"""Cases: the hearings that share a docket number within one court, across sittings and
observers, so staff can follow how one case was processed from hearing to hearing.

A docket number is compared normalised: lower case, with spaces and the usual punctuation
taken out ("27-CR-24-1234", "27 cr 24 1234" and "27CR241234" are one case). The same
normalisation runs in SQL (nested REPLACEs, the same on SQLite and PostgreSQL) and in Python.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app import i18n
from app.auth.models import User
from app.errors import DomainError, NotFound
from app.i18n import gettext
from app.observations.browse import format_answer
from app.observations.filters import HearingFilter
from app.observations.models import Hearing, Observation
from app.protocols.definition import DefinitionInvalid, ProtocolDefinition, parse_definition
from app.protocols.models import ProtocolVersion
from app.sessions.models import Court, CourtSession, Judge
from app.sessions.schemas import CALENDAR_LABELS

# Taken out of docket numbers before comparing.
DOCKET_PUNCTUATION = " -_./\\:#,;()[]'\"\t"
SEARCH_MAX = 80
LIST_LIMIT = 200
ABSENT_ANSWERS = {"no"}


class CaseSearchInvalid(DomainError):
    status_code = 422


def normalise_docket(docket: str | None) -> str:
    text = (docket or "").lower()
    for ch in DOCKET_PUNCTUATION:
        text = text.replace(ch, "")
    return text


def docket_key_column() -> Any:
    """normalise_docket(hearing.case_reference) as SQL."""
    expr: Any = sa.func.lower(Hearing.case_reference)
    for ch in DOCKET_PUNCTUATION:
        expr = sa.func.replace(expr, ch, "")
    return expr


@dataclass
class CaseRow:
    court_id: int
    court: str
    key: str
    docket: str
    hearings: int
    sittings: int
    observers: int
    first: date
    last: date


def _case_rows(session: Session, query: Any) -> list[CaseRow]:
    return [
        CaseRow(court_id=c, court=name, key=k, docket=d, hearings=h, sittings=s, observers=o,
                first=first, last=last)
        for c, name, k, d, h, s, o, first, last in session.exec(query).all()
    ]  # fmt: skip


def _grouped(where: list[Any], having: Any | None = None) -> Any:
    key = docket_key_column()
    query = (
        select(
            CourtSession.court_id,
            Court.name,
            key,
            sa.func.min(Hearing.case_reference),
            sa.func.count(Hearing.id),
            sa.func.count(sa.distinct(CourtSession.id)),
            sa.func.count(sa.distinct(Observation.observer_id)),
            sa.func.min(CourtSession.session_date),
            sa.func.max(CourtSession.session_date),
        )
        .select_from(Hearing)
        .join(Observation, col(Observation.id) == Hearing.observation_id)
        .join(CourtSession, col(CourtSession.id) == Observation.court_session_id)
        .join(Court, col(Court.id) == CourtSession.court_id)
        .where(col(Hearing.case_reference).is_not(None), key != "")
        .where(*HearingFilter().conditions(), *where)
        .group_by(CourtSession.court_id, Court.name, key)
    )
    if having is not None:
        query = query.having(having)
    return query.order_by(sa.func.max(CourtSession.session_date).desc(), key).limit(LIST_LIMIT)


def cases_seen_more_than_once(*, session: Session) -> list[CaseRow]:
    """Cases heard in two or more sittings (the ones whose processing can be followed)."""
    return _case_rows(session, _grouped([], having=sa.func.count(sa.distinct(CourtSession.id)) > 1))


def search_cases(*, session: Session, docket: str) -> list[CaseRow]:
    """Cases whose normalised docket number contains the normalised query."""
    wanted = normalise_docket(docket)
    if len(docket) > SEARCH_MAX:
        raise CaseSearchInvalid(
            gettext("A docket number has at most %(num)s characters.", num=SEARCH_MAX),
            errors=[
                {"loc": "docket", "msg": gettext("At most %(num)s characters.", num=SEARCH_MAX)}
            ],
        )
    if not wanted:
        raise CaseSearchInvalid(
            gettext("Type a docket number (letters or digits)."),
            errors=[{"loc": "docket", "msg": gettext("Letters or digits, please.")}],
        )
    escaped = wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return _case_rows(session, _grouped([docket_key_column().like(f"%{escaped}%", escape="\\")]))


@dataclass
class CaseHearing:
    hearing_id: uuid.UUID
    observation_id: uuid.UUID
    session_date: date
    courtroom: str
    judge: str | None
    calendar_type: str
    observer: str
    docket: str
    outcome: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    days_since_previous: int | None = None

    @property
    def calendar_label(self) -> str:
        return i18n.label(CALENDAR_LABELS, self.calendar_type)


@dataclass
class CasePage:
    court_id: int
    court: str
    key: str
    docket: str
    hearings: list[CaseHearing]

    @property
    def sittings(self) -> int:
        return len({(h.session_date, h.courtroom) for h in self.hearings})


def _tagged(definition: ProtocolDefinition | None, tag: str) -> list[Any]:
    if definition is None:
        return []
    return [q for q in definition.questions("hearing") if tag in (q.tags or [])]


def case_page(*, session: Session, court_id: int, key: str) -> CasePage:
    """Every observed hearing of the case in date order, with outcome and gaps."""
    court = session.get(Court, court_id)
    key = normalise_docket(key)
    if court is None or not key:
        raise NotFound(gettext("There is no such case."))
    rows = session.exec(
        select(Hearing, Observation, CourtSession, Judge.name, User.display_name)
        .join(Observation, col(Observation.id) == Hearing.observation_id)
        .join(CourtSession, col(CourtSession.id) == Observation.court_session_id)
        .outerjoin(Judge, col(Judge.id) == CourtSession.judge_id)
        .join(User, col(User.id) == Observation.observer_id)
        .where(CourtSession.court_id == court_id, docket_key_column() == key)
        .where(*HearingFilter().conditions())
        .order_by(
            col(CourtSession.session_date),
            col(CourtSession.start_time),
            col(Hearing.position),
            col(Observation.observer_id),
        )
    ).all()
    if not rows:
        raise NotFound(gettext("No observed hearing has this docket number in this court."))
    definitions: dict[int, ProtocolDefinition | None] = {}
    hearings: list[CaseHearing] = []
    previous: date | None = None
    for hearing, obs, sitting, judge, observer in rows:
        if obs.protocol_version_id not in definitions:
            version = session.get(ProtocolVersion, obs.protocol_version_id)
            try:
                definitions[obs.protocol_version_id] = (
                    parse_definition(version.definition).localized(i18n.language())
                    if version
                    else None
                )
            except DefinitionInvalid:
                definitions[obs.protocol_version_id] = None
        definition = definitions[obs.protocol_version_id]
        answers = hearing.answers or {}
        outcome = [
            f"{q.label}: {format_answer(definition, q, answers[q.key])}"
            for q in _tagged(definition, "outcome")
            if answers.get(q.key) not in (None, "", [])
        ]
        gaps = [
            q.label
            for tag in ("safety", "accountability")
            for q in _tagged(definition, tag)
            if answers.get(q.key) in ABSENT_ANSWERS
        ]
        hearings.append(
            CaseHearing(
                hearing_id=hearing.id,
                observation_id=obs.id,
                session_date=sitting.session_date,
                courtroom=sitting.courtroom,
                judge=judge,
                calendar_type=sitting.calendar_type,
                observer=observer,
                docket=hearing.case_reference or "",
                outcome=outcome,
                gaps=gaps,
                days_since_previous=(sitting.session_date - previous).days
                if previous is not None
                else None,
            )
        )
        previous = sitting.session_date
    return CasePage(
        court_id=court_id, court=court.name, key=key, docket=hearings[0].docket, hearings=hearings
    )


def case_of_hearing(*, session: Session, hearing: Hearing) -> tuple[int, str] | None:
    """(court id, docket key) of the hearing's case, or None without a docket number."""
    key = normalise_docket(hearing.case_reference)
    if not key:
        return None
    court_id = session.exec(
        select(CourtSession.court_id)
        .join(Observation, col(Observation.court_session_id) == CourtSession.id)
        .where(Observation.id == hearing.observation_id)
    ).one()
    return court_id, key
