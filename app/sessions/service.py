"""Court sessions (single and recurring), assignments and their life cycle, names kept consistent.

Functions that other domains call inside their own transaction (`mark_assignment_status`,
`find_or_create_court_session`) only flush; the caller commits. Functions behind the trainer's
pages commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, time, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from app import i18n
from app.auth.models import Role, User
from app.calibration.models import ExerciseInvite
from app.db import utcnow
from app.errors import DomainError, NotFound
from app.i18n import N_, gettext
from app.observations.models import Hearing, Observation
from app.protocols.models import Protocol, ProtocolVersion, VersionStatus
from app.scheduling import service as scheduling_service
from app.sessions import courts
from app.sessions.models import Assignment, AssignmentStatus, Court, CourtSession, Judge
from app.sessions.schemas import (
    CALENDAR_LABELS,
    MAX_OCCURRENCES,
    STATUS_LABELS,
    AssignIn,
    AssignmentView,
    Choices,
    CourtSessionIn,
    MyAssignments,
    ObservationBack,
    PackAssignment,
    PackCourtSession,
    PlannedDate,
    PublishedVersion,
    RecurrenceIn,
    SessionInfo,
    SessionRow,
    VolunteerRow,
    WhereFields,
)
from app.transactions import insert_ignoring_conflicts

ASSIGNABLE_ROLES = (Role.volunteer, Role.trainer)
# Progress only moves forward; "cancelled" is outside this order on purpose.
_PROGRESS: dict[str, int] = {
    AssignmentStatus.assigned: 0,
    AssignmentStatus.in_progress: 1,
    AssignmentStatus.submitted: 2,
}
PACK_PAST_DAYS = 7


class FormInvalid(DomainError):
    """Field-level problems with what a trainer submitted; nothing was stored."""

    status_code = 422

    def __init__(
        self, fields: dict[str, str], message: str = "Please correct the marked fields."
    ) -> None:
        super().__init__(message, errors=[{"loc": k, "msg": v} for k, v in fields.items()])
        self.fields = fields


class NamesToConfirm(FormInvalid):
    """A typed court or judge name is new but looks like an existing one: ask before creating it."""

    def __init__(self, suggestions: dict[str, list[str]]) -> None:
        fields = {
            name: "Did you mean " + " or ".join(f"“{s}”" for s in options) + "?"
            for name, options in suggestions.items()
        }
        super().__init__(fields, "A name looks like one already in use.")
        self.suggestions = suggestions


class AssignmentLocked(DomainError):
    status_code = 409


# --- lookups -------------------------------------------------------------------------------


def published_versions(*, session: Session) -> list[PublishedVersion]:
    """Every published protocol version, by protocol name, newest version first."""
    rows = session.exec(
        select(
            ProtocolVersion.id, ProtocolVersion.protocol_id, Protocol.name, ProtocolVersion.version
        )
        .join(Protocol, col(Protocol.id) == ProtocolVersion.protocol_id)
        .where(ProtocolVersion.status == VersionStatus.published)
        .order_by(func.lower(Protocol.name), col(ProtocolVersion.version).desc())
    ).all()
    return [
        PublishedVersion(id=r[0], protocol_id=r[1], protocol_name=r[2], version=r[3]) for r in rows
    ]


def assignable_people(*, session: Session) -> list[User]:
    """Active volunteers (and trainers, who observe too), by name."""
    return list(
        session.exec(
            select(User)
            .where(
                col(User.role).in_(ASSIGNABLE_ROLES),
                col(User.is_active).is_(True),
                col(User.is_placeholder).is_(False),
            )
            .order_by(col(User.role).desc(), func.lower(User.display_name))
        )
    )


def court_and_judge_choices(*, session: Session) -> Choices:
    """Court, judge and courtroom names already in use, for datalists and the phone's ad hoc form."""
    rooms = session.exec(
        select(CourtSession.courtroom).distinct().order_by(CourtSession.courtroom)
    ).all()
    seen: dict[str, str] = {}
    for room in rooms:  # "3b" and "3B" are one courtroom: offer the first spelling
        seen.setdefault(room.casefold(), room)
    return Choices(
        courts=[c.name for c in courts.list_courts(session=session)],
        judges=[j.name for j in courts.list_judges(session=session)],
        courtrooms=list(seen.values()),
    )


def name_suggestions(
    *, session: Session, court: str, judge: str | None, court_is_new: bool, judge_is_new: bool
) -> dict[str, list[str]]:
    """{field: existing names} for typed names that are new yet look like an existing one."""
    found: dict[str, list[str]] = {}
    court_names = [c.name for c in courts.list_courts(session=session)]
    if (
        not court_is_new
        and not _court_exists(session, court)
        and (similar := courts.similar_names(court, court_names))
    ):
        found["court"] = similar
    if judge and not judge_is_new and not _judge_exists(session, judge):
        judge_names = [j.name for j in courts.list_judges(session=session)]
        if similar := courts.similar_judge_names(judge, judge_names):
            found["judge"] = similar
    return found


def _court_exists(session: Session, name: str) -> bool:
    key = courts.name_key(name)
    return session.exec(select(Court.id).where(Court.name_key == key)).first() is not None


def _judge_exists(session: Session, name: str) -> bool:
    key = courts.judge_key(name)
    return session.exec(select(Judge.id).where(Judge.name_key == key)).first() is not None


def _check_names(session: Session, data: WhereFields) -> None:
    suggestions = name_suggestions(
        session=session,
        court=data.court,
        judge=data.judge,
        court_is_new=data.court_is_new,
        judge_is_new=data.judge_is_new,
    )
    if suggestions:
        raise NamesToConfirm(suggestions)


# --- court sessions ------------------------------------------------------------------------


def _same_sitting(
    *,
    court_id: int,
    courtroom: str,
    calendar_type: str,
    days: Sequence[date],
    start_time: time | Literal["any"] | None = "any",
) -> Any:
    """Sessions of this court, courtroom (any case) and calendar on these days (the database's
    lower() on both sides, as the unique index uq_court_session_sitting folds the courtroom)."""
    query = select(CourtSession).where(
        CourtSession.court_id == court_id,
        func.lower(CourtSession.courtroom) == func.lower(courtroom),
        CourtSession.calendar_type == calendar_type,
        col(CourtSession.session_date).in_(list(days)),
    )
    if start_time != "any":
        query = query.where(
            col(CourtSession.start_time).is_(None)
            if start_time is None
            else CourtSession.start_time == start_time
        )
    return query


def _existing_days(session: Session, data: WhereFields, days: Sequence[date]) -> set[date]:
    court_key = courts.name_key(data.court)
    court = session.exec(select(Court).where(Court.name_key == court_key)).first()
    if court is None or not days:
        return set()
    # Any start time: one sitting per court, courtroom, date and calendar (a database constraint).
    query = _same_sitting(
        court_id=court.id,  # type: ignore[arg-type]
        courtroom=data.courtroom,
        calendar_type=data.calendar_type,
        days=days,
    )
    return {s.session_date for s in session.exec(query)}


SAME_SITTING_MESSAGE = N_(
    "This court already has that sitting (same courtroom, calendar and date)."
)


def _commit_new_sittings(session: Session) -> None:
    """Commit sittings just made; another trainer who made one of them first (the unique
    index) gets the form's date message, not an error page."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise FormInvalid({"session_date": gettext(SAME_SITTING_MESSAGE)}) from None


def _new_session(
    session: Session, data: WhereFields, day: date, created_by_id: int | None, series_id: str | None
) -> CourtSession:
    court = courts.get_or_create_court(session=session, name=data.court)
    judge = courts.get_or_create_judge(session=session, name=data.judge) if data.judge else None
    sitting = CourtSession(
        court_id=court.id,  # type: ignore[arg-type]
        courtroom=data.courtroom,
        session_date=day,
        start_time=data.start_time,
        calendar_type=data.calendar_type,
        judge_id=judge.id if judge else None,
        notes=data.notes,
        series_id=series_id,
        created_by_id=created_by_id,
    )
    session.add(sitting)
    return sitting


def create_court_session(
    *, session: Session, data: CourtSessionIn, created_by_id: int | None
) -> CourtSession:
    """One sitting; NamesToConfirm for a near-miss name, FormInvalid for an identical sitting."""
    _check_names(session, data)
    if _existing_days(session, data, [data.session_date]):
        raise FormInvalid({"session_date": gettext(SAME_SITTING_MESSAGE)})
    sitting = _new_session(session, data, data.session_date, created_by_id, None)
    _commit_new_sittings(session)
    session.refresh(sitting)
    return sitting


def recurrence_dates(data: RecurrenceIn) -> list[date]:
    """The dates of a recurring calendar; FormInvalid with a field message when they make no sense."""
    if data.weeks is None and data.end_date is None:
        raise FormInvalid({"weeks": gettext("Give a number of weeks or an end date.")})
    if data.weeks is not None and data.end_date is not None:
        raise FormInvalid({"end_date": gettext("Give a number of weeks or an end date, not both.")})
    if data.end_date is not None and data.end_date < data.start_date:
        raise FormInvalid({"end_date": gettext("The end date is before the first date.")})
    first = data.start_date + timedelta(days=(data.weekday - data.start_date.weekday()) % 7)
    if data.weeks is not None:
        return [first + timedelta(weeks=n) for n in range(data.weeks)]
    assert data.end_date is not None
    if first > data.end_date:
        raise FormInvalid(
            {
                "end_date": gettext(
                    "There is no %(weekday)s between the first date and the end date.",
                    weekday=i18n.weekday_name(data.weekday),
                )
            }
        )
    count = (data.end_date - first).days // 7 + 1
    if count > MAX_OCCURRENCES:
        raise FormInvalid(
            {
                "end_date": gettext(
                    "That makes %(count)s sittings; make at most %(num)s at once.",
                    count=count,
                    num=MAX_OCCURRENCES,
                )
            }
        )
    return [first + timedelta(weeks=n) for n in range(count)]


def plan_recurrence(*, session: Session, data: RecurrenceIn) -> list[PlannedDate]:
    """The preview: each date, marked when that sitting already exists (it will be skipped)."""
    _check_names(session, data)
    days = recurrence_dates(data)
    existing = _existing_days(session, data, days)
    return [PlannedDate(day=d, exists=d in existing) for d in days]


def create_recurring_sessions(
    *, session: Session, data: RecurrenceIn, created_by_id: int | None
) -> tuple[list[CourtSession], list[date]]:
    """(sittings created, dates skipped because that sitting already existed), one series id."""
    plan = plan_recurrence(session=session, data=data)
    series_id = str(uuid.uuid4())
    created = [
        _new_session(session, data, p.day, created_by_id, series_id) for p in plan if not p.exists
    ]
    _commit_new_sittings(session)
    for sitting in created:
        session.refresh(sitting)
    return created, [p.day for p in plan if p.exists]


def court_session_id_for(
    *,
    session: Session,
    court: str,
    courtroom: str,
    session_date: date,
    start_time: time | None,
    judge: str | None,
    calendar_type: str,
    created_by_id: int | None,
    create: bool = True,
) -> int | None:
    """The id of the sitting for these court details: the existing one (same court, courtroom
    in any case, date and calendar) or, with `create`, a new one. Writers that create one
    sitting at once converge on one row (INSERT … ON CONFLICT DO NOTHING on the unique index,
    then SELECT). Takes no lock on an existing sitting: lock_court_sessions does, in order."""
    courtroom = courts.clean_name(courtroom)
    if create:
        court_row: Court | None = courts.get_or_create_court(session=session, name=court)
    else:
        court_row = session.exec(
            select(Court).where(Court.name_key == courts.name_key(court))
        ).first()
        if court_row is None:
            return None
    assert court_row is not None
    same = _same_sitting(
        court_id=court_row.id,  # type: ignore[arg-type]
        courtroom=courtroom,
        calendar_type=calendar_type,
        days=[session_date],
    )
    found = session.exec(same).first()
    if found is not None or not create:
        return found.id if found is not None else None
    judge_row = (
        courts.get_or_create_judge(session=session, name=judge) if judge and judge.strip() else None
    )
    session.execute(
        insert_ignoring_conflicts(session, CourtSession.__table__),  # type: ignore[attr-defined]
        [
            {
                "court_id": court_row.id,
                "courtroom": courtroom,
                "session_date": session_date,
                "start_time": start_time,
                "calendar_type": calendar_type,
                "judge_id": judge_row.id if judge_row else None,
                "notes": "",
                "created_by_id": created_by_id,
                "created_at": utcnow(),
            }
        ],
    )
    return session.exec(same).one().id


def lock_court_sessions(*, session: Session, court_session_ids: Iterable[int]) -> None:
    """Lock these sittings' rows until the transaction ends, in id order (PostgreSQL; SQLite
    has one writer at a time anyway). Whoever writes a sitting's observations or agreement
    pairs takes this first, before inserting rows whose foreign keys share-lock the sitting:
    one order for every writer, so no deadlock. FOR NO KEY UPDATE: it serialises those
    writers without blocking the key-share locks of rows that merely refer to the sitting."""
    ids = sorted(set(court_session_ids))
    if ids:
        session.execute(
            sa.select(CourtSession.id)
            .where(col(CourtSession.id).in_(ids))
            .order_by(CourtSession.id)
            .with_for_update(key_share=True)
        ).all()


def find_or_create_court_session(
    *,
    session: Session,
    court: str,
    courtroom: str,
    session_date: date,
    start_time: time | None,
    judge: str | None,
    calendar_type: str,
    created_by_id: int | None,
) -> CourtSession:
    """The sitting for an ad hoc observation: an existing one (same court, courtroom in any case,
    date and calendar) or a new one, locked (lock_court_sessions). Fills in a missing judge or
    start time. Flushes only. FormInvalid for an unknown calendar type, so analysis never meets
    a stray one."""
    if calendar_type not in CALENDAR_LABELS:
        raise FormInvalid(
            {"calendar_type": gettext("Unknown calendar type: %(value)s.", value=calendar_type)}
        )
    sitting_id = court_session_id_for(
        session=session,
        court=court,
        courtroom=courtroom,
        session_date=session_date,
        start_time=start_time,
        judge=judge,
        calendar_type=calendar_type,
        created_by_id=created_by_id,
    )
    assert sitting_id is not None
    lock_court_sessions(session=session, court_session_ids=[sitting_id])
    sitting = session.get(CourtSession, sitting_id)
    assert sitting is not None
    if sitting.judge_id is None and judge and judge.strip():
        sitting.judge_id = courts.get_or_create_judge(session=session, name=judge).id
    if sitting.start_time is None and start_time is not None:
        sitting.start_time = start_time
    session.add(sitting)
    session.flush()
    return sitting


def _session_info_query() -> Any:
    return (
        select(CourtSession, Court.name, Judge.name)
        .join(Court, col(Court.id) == CourtSession.court_id)
        .outerjoin(Judge, col(Judge.id) == CourtSession.judge_id)
    )


def _info(sitting: CourtSession, court_name: str, judge_name: str | None) -> SessionInfo:
    return SessionInfo(
        id=sitting.id,  # type: ignore[arg-type]
        court_id=sitting.court_id,
        court=court_name,
        courtroom=sitting.courtroom,
        session_date=sitting.session_date,
        start_time=sitting.start_time,
        calendar_type=sitting.calendar_type,
        judge_id=sitting.judge_id,
        judge=judge_name,
        notes=sitting.notes,
        series_id=sitting.series_id,
    )


def get_court_session(*, session: Session, court_session_id: int) -> SessionInfo:
    """One sitting with its names; NotFound if missing."""
    row = session.exec(_session_info_query().where(CourtSession.id == court_session_id)).first()
    if row is None:
        raise NotFound(gettext("There is no such court session."))
    return _info(*row)


def list_court_sessions(
    *,
    session: Session,
    today: date,
    when: Literal["upcoming", "past"] = "upcoming",
    limit: int = 300,
) -> list[SessionRow]:
    """Sittings from today on (soonest first) or before today (latest first), with assignment counts."""

    def count(status: AssignmentStatus) -> Any:
        return func.coalesce(func.sum(sa.case((Assignment.status == status, 1), else_=0)), 0)

    query = (
        select(
            CourtSession,
            Court.name,
            Judge.name,
            count(AssignmentStatus.assigned),
            count(AssignmentStatus.in_progress),
            count(AssignmentStatus.submitted),
        )
        .join(Court, col(Court.id) == CourtSession.court_id)
        .outerjoin(Judge, col(Judge.id) == CourtSession.judge_id)
        .outerjoin(Assignment, col(Assignment.court_session_id) == CourtSession.id)
        .group_by(col(CourtSession.id), col(Court.name), col(Judge.name))
        .limit(limit)
    )
    if when == "past":
        query = query.where(CourtSession.session_date < today).order_by(
            col(CourtSession.session_date).desc(), col(CourtSession.start_time).desc().nulls_last()
        )
    else:
        query = query.where(CourtSession.session_date >= today).order_by(
            col(CourtSession.session_date), col(CourtSession.start_time).nulls_last(), Court.name
        )
    return [
        SessionRow(info=_info(s, c, j), assigned=int(a), in_progress=int(p), submitted=int(d))
        for s, c, j, a, p, d in session.exec(query)
    ]


# --- assignment views ------------------------------------------------------------------------


def _assignment_query() -> Any:
    return (
        select(
            Assignment,
            CourtSession,
            Court.name,
            Judge.name,
            Protocol.name,
            ProtocolVersion.version,
            User.display_name,
        )
        .join(CourtSession, col(CourtSession.id) == Assignment.court_session_id)
        .join(Court, col(Court.id) == CourtSession.court_id)
        .outerjoin(Judge, col(Judge.id) == CourtSession.judge_id)
        .join(ProtocolVersion, col(ProtocolVersion.id) == Assignment.protocol_version_id)
        .join(Protocol, col(Protocol.id) == ProtocolVersion.protocol_id)
        .join(User, col(User.id) == Assignment.volunteer_id)
    )


def _observations_back(session: Session, assignment_ids: list[int]) -> dict[int, ObservationBack]:
    """The latest observation sent for each assignment, with its hearing count."""
    if not assignment_ids:
        return {}
    hearings = (
        select(Hearing.observation_id, func.count().label("n"))
        .group_by(col(Hearing.observation_id))
        .subquery()
    )
    rows = session.exec(
        select(Observation, func.coalesce(hearings.c.n, 0))
        .outerjoin(hearings, hearings.c.observation_id == Observation.id)
        .where(col(Observation.assignment_id).in_(assignment_ids))
        .order_by(col(Observation.received_at))
    ).all()
    found: dict[int, ObservationBack] = {}
    for obs, n in rows:  # later rows win: the latest observation per assignment
        found[obs.assignment_id] = ObservationBack(  # type: ignore[index]
            id=obs.id,
            status=obs.status,
            hearing_count=int(n),
            received_at=obs.received_at,
            submitted_at=obs.submitted_at,
        )
    return found


def _views(session: Session, query: Any) -> list[AssignmentView]:
    rows = session.exec(query).all()
    back = _observations_back(session, [r[0].id for r in rows])
    return [
        AssignmentView(
            id=a.id,
            status=a.status,
            volunteer_id=a.volunteer_id,
            volunteer_name=volunteer,
            protocol_version_id=a.protocol_version_id,
            protocol_name=protocol,
            protocol_version=version,
            court_session=_info(s, court, judge),
            created_at=a.created_at,
            updated_at=a.updated_at,
            observation=back.get(a.id),
        )
        for a, s, court, judge, protocol, version, volunteer in rows
    ]


def _by_time() -> tuple[Any, ...]:
    return (
        col(CourtSession.session_date),
        col(CourtSession.start_time).nulls_last(),
        col(Assignment.id),
    )


def list_assignments_for_session(
    *, session: Session, court_session_id: int
) -> list[AssignmentView]:
    """Every assignment of a sitting (cancelled ones too, last), by volunteer name."""
    query = (
        _assignment_query()
        .where(Assignment.court_session_id == court_session_id)
        .order_by(
            sa.case((Assignment.status == AssignmentStatus.cancelled, 1), else_=0),
            func.lower(User.display_name),
            col(Assignment.id),
        )
    )
    return _views(session, query)


def list_assignments_for_volunteer(
    *, session: Session, volunteer_id: int, today: date
) -> MyAssignments:
    """A volunteer's own assignments, cancelled left out, grouped today / upcoming / past."""
    query = (
        _assignment_query()
        .where(
            Assignment.volunteer_id == volunteer_id,
            Assignment.status != AssignmentStatus.cancelled,
        )
        .order_by(*_by_time())
    )
    grouped = MyAssignments()
    for view in _views(session, query):
        day = view.court_session.session_date
        if day == today:
            grouped.today.append(view)
        elif day > today:
            grouped.upcoming.append(view)
        else:
            grouped.past.append(view)
    grouped.past.reverse()  # the most recent past sitting first
    return grouped


def volunteer_assignments(*, session: Session, volunteer_id: int) -> list[AssignmentView]:
    """Everything ever assigned to one person (cancelled too), latest sitting first."""
    query = (
        _assignment_query()
        .where(Assignment.volunteer_id == volunteer_id)
        .order_by(
            col(CourtSession.session_date).desc(),
            col(CourtSession.start_time).desc().nulls_last(),
            col(Assignment.id).desc(),
        )
    )
    return _views(session, query)


def adhoc_observations(
    *, session: Session, volunteer_id: int
) -> list[tuple[ObservationBack, SessionInfo]]:
    """Observations a person made without an assignment, latest sitting first."""
    hearings = (
        select(Hearing.observation_id, func.count().label("n"))
        .group_by(col(Hearing.observation_id))
        .subquery()
    )
    rows = session.exec(
        select(Observation, func.coalesce(hearings.c.n, 0), CourtSession, Court.name, Judge.name)
        .outerjoin(hearings, hearings.c.observation_id == Observation.id)
        .join(CourtSession, col(CourtSession.id) == Observation.court_session_id)
        .join(Court, col(Court.id) == CourtSession.court_id)
        .outerjoin(Judge, col(Judge.id) == CourtSession.judge_id)
        .where(Observation.observer_id == volunteer_id, col(Observation.assignment_id).is_(None))
        .order_by(col(CourtSession.session_date).desc(), col(Observation.received_at).desc())
    ).all()
    return [
        (
            ObservationBack(
                id=o.id,
                status=o.status,
                hearing_count=int(n),
                received_at=o.received_at,
                submitted_at=o.submitted_at,
            ),
            _info(s, c, j),
        )
        for o, n, s, c, j in rows
    ]


def list_volunteers(*, session: Session) -> list[VolunteerRow]:
    """Everyone who can be assigned, with counts of their assignments by status and ad hoc observations."""

    def count(status: AssignmentStatus) -> Any:
        return (
            select(func.count())
            .select_from(Assignment)
            .where(Assignment.volunteer_id == User.id, Assignment.status == status)
            .scalar_subquery()
        )

    adhoc = (
        select(func.count())
        .select_from(Observation)
        .where(Observation.observer_id == User.id, col(Observation.assignment_id).is_(None))
        .scalar_subquery()
    )
    rows = session.exec(
        select(
            User,
            count(AssignmentStatus.assigned),
            count(AssignmentStatus.in_progress),
            count(AssignmentStatus.submitted),
            adhoc,
        )
        .where(col(User.role).in_(ASSIGNABLE_ROLES))
        .order_by(col(User.role).desc(), func.lower(User.display_name))
    ).all()
    return [
        VolunteerRow(
            id=u.id,  # type: ignore[arg-type]
            name=u.display_name,
            email=u.email,
            role=u.role,
            assigned=int(a),
            in_progress=int(p),
            submitted=int(s),
            adhoc=int(h),
        )
        for u, a, p, s, h in rows
    ]


def get_person(*, session: Session, user_id: int) -> User:
    """Someone who can be assigned; NotFound otherwise."""
    user = session.get(User, user_id)
    if user is None or user.role not in ASSIGNABLE_ROLES:
        raise NotFound(gettext("There is no such volunteer."))
    return user


# --- assigning ---------------------------------------------------------------------------------


def get_assignment(*, session: Session, assignment_id: int) -> Assignment | None:
    """The assignment row, or None."""
    return session.get(Assignment, assignment_id)


def _require_assignment(session: Session, assignment_id: int) -> Assignment:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound(gettext("There is no such assignment."))
    return assignment


def _active_on_session(
    session: Session, court_session_id: int, volunteer_ids: list[int]
) -> set[int]:
    """Of these people, those already holding a not-cancelled assignment on the sitting."""
    return set(
        session.exec(
            select(Assignment.volunteer_id).where(
                Assignment.court_session_id == court_session_id,
                col(Assignment.volunteer_id).in_(volunteer_ids),
                Assignment.status != AssignmentStatus.cancelled,
            )
        ).all()
    )


def _check_people(session: Session, court_session_id: int, volunteer_ids: list[int]) -> list[User]:
    people = list(session.exec(select(User).where(col(User.id).in_(volunteer_ids))))
    usable = {
        u.id: u
        for u in people
        if u.is_active and not u.is_placeholder and u.role in ASSIGNABLE_ROLES
    }
    if len(usable) != len(set(volunteer_ids)):
        raise FormInvalid(
            {"volunteer_ids": gettext("Choose volunteers from the list (active accounts only).")}
        )
    taken = _active_on_session(session, court_session_id, list(usable))
    if taken:
        names = ", ".join(sorted(usable[i].display_name for i in taken))
        raise FormInvalid(
            {"volunteer_ids": gettext("Already assigned to this session: %(names)s.", names=names)}
        )
    people = [usable[i] for i in dict.fromkeys(volunteer_ids)]
    refusal = scheduling_service.conflict_refusal(
        session=session, court_session_id=court_session_id, people=people
    )
    if refusal:
        raise FormInvalid({"volunteer_ids": refusal})
    return people


def _check_published(session: Session, protocol_version_id: int) -> ProtocolVersion:
    version = session.get(ProtocolVersion, protocol_version_id)
    if version is None or version.status != VersionStatus.published:
        raise FormInvalid(
            {
                "protocol_version_id": "Choose a published protocol version (drafts and retired versions cannot be assigned)."
            }
        )
    return version


def assign(
    *, session: Session, court_session_id: int, data: AssignIn, assigned_by_id: int | None
) -> list[Assignment]:
    """One assignment per chosen person; all or nothing."""
    if session.get(CourtSession, court_session_id) is None:
        raise NotFound(gettext("There is no such court session."))
    _check_published(session, data.protocol_version_id)
    people = _check_people(session, court_session_id, data.volunteer_ids)
    created = [
        Assignment(
            court_session_id=court_session_id,
            volunteer_id=person.id,  # type: ignore[arg-type]
            protocol_version_id=data.protocol_version_id,
            status=AssignmentStatus.assigned,
            assigned_by_id=assigned_by_id,
        )
        for person in people
    ]
    session.add_all(created)
    session.commit()
    for a in created:
        session.refresh(a)
    return created


_NOT_STARTED_ONLY = {
    "cancel": N_(
        "This assignment is %(status)s: only an assignment that has not started can be cancelled."
    ),
    "reassign": N_(
        "This assignment is %(status)s: only an assignment that has not started can be reassigned."
    ),
}


def _require_not_started(assignment: Assignment, action: str) -> None:
    if assignment.status != AssignmentStatus.assigned:
        raise AssignmentLocked(
            gettext(_NOT_STARTED_ONLY[action], status=i18n.label(STATUS_LABELS, assignment.status))
        )


def cancel_assignment(*, session: Session, assignment_id: int) -> Assignment:
    """Cancel an assignment that has not started; AssignmentLocked (409) otherwise."""
    assignment = _require_assignment(session, assignment_id)
    _require_not_started(assignment, "cancel")
    assignment.status = AssignmentStatus.cancelled
    assignment.updated_at = utcnow()
    session.add(assignment)
    session.commit()
    session.refresh(assignment)
    return assignment


def reassign(
    *, session: Session, assignment_id: int, volunteer_id: int | None, assigned_by_id: int | None
) -> Assignment:
    """Hand a not-started assignment to someone else: the old one is cancelled (so a copy
    already on the first volunteer's phone can no longer be started), a new one made."""
    assignment = _require_assignment(session, assignment_id)
    _require_not_started(assignment, "reassign")
    if volunteer_id is None:
        raise FormInvalid({"volunteer_id": gettext("Choose who takes this assignment over.")})
    if volunteer_id == assignment.volunteer_id:
        raise FormInvalid(
            {"volunteer_id": gettext("Choose someone other than the current volunteer.")}
        )
    (person,) = _check_people(session, assignment.court_session_id, [volunteer_id])
    assignment.status = AssignmentStatus.cancelled
    assignment.updated_at = utcnow()
    replacement = Assignment(
        court_session_id=assignment.court_session_id,
        volunteer_id=person.id,  # type: ignore[arg-type]
        protocol_version_id=assignment.protocol_version_id,
        status=AssignmentStatus.assigned,
        assigned_by_id=assigned_by_id,
    )
    session.add(assignment)
    session.add(replacement)
    session.commit()
    session.refresh(replacement)
    return replacement


def mark_assignment_status(*, session: Session, assignment_id: int, status: str) -> Assignment:
    """Move an assignment forward (assigned → in_progress → submitted) as its observation
    arrives. Never backwards and never out of 'cancelled': those calls change nothing.
    Flushes only; the caller commits."""
    if status not in _PROGRESS:
        raise DomainError(f"Unknown assignment status: {status}.", status_code=422)
    assignment = _require_assignment(session, assignment_id)
    current = _PROGRESS.get(assignment.status)
    if current is not None and _PROGRESS[status] > current:
        assignment.status = status
        assignment.updated_at = utcnow()
        session.add(assignment)
        session.flush()
    return assignment


def open_assignments_for_pack(
    *, session: Session, volunteer_id: int, today: date | None = None
) -> list[PackAssignment]:
    """Assigned and in-progress assignments from a week ago on, for the phone's offline pack."""
    today = today or date.today()
    query = (
        _assignment_query()
        .where(
            Assignment.volunteer_id == volunteer_id,
            col(Assignment.status).in_([AssignmentStatus.assigned, AssignmentStatus.in_progress]),
            sa.or_(
                CourtSession.session_date >= today - timedelta(days=PACK_PAST_DAYS),
                # A calibration exercise records a training video's sitting, whatever its date.
                col(Assignment.id).in_(select(ExerciseInvite.assignment_id)),
            ),
        )
        .order_by(*_by_time())
    )
    return [
        PackAssignment(
            id=v.id,
            status=v.status,
            protocol_version_id=v.protocol_version_id,
            court_session_id=v.court_session.id,
            observation_id=v.observation.id if v.observation else None,
            court_session=PackCourtSession(
                id=v.court_session.id,
                court=v.court_session.court,
                courtroom=v.court_session.courtroom,
                session_date=v.court_session.session_date,
                start_time=v.court_session.start_time,
                calendar_type=v.court_session.calendar_type,
                judge=v.court_session.judge,
            ),
        )
        for v in _views(session, query)
    ]
