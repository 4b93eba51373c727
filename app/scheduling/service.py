"""Scheduling around people: conflicts of interest, sign-up to open sittings, submission
deadlines and the volunteer's iCalendar feed.

A judge or court conflict keeps a volunteer off every sitting of that judge or court, both
when a trainer assigns and when the volunteer signs up; a free-text relationship is shown to
trainers but refuses nothing by itself. A deadline is the sitting's start plus
SUBMISSION_DEADLINE_HOURS (the sitting's day at midnight when it has no start time).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app import i18n
from app.auth.models import User
from app.db import utcnow
from app.errors import DomainError, NotFound
from app.i18n import gettext
from app.judges import judge_label
from app.protocols.models import ProtocolVersion, VersionStatus
from app.scheduling.models import CalendarFeed, ConflictOfInterest, SittingSignup
from app.sessions.models import Assignment, AssignmentStatus, Court, CourtSession, Judge
from app.sessions.schemas import CALENDAR_LABELS

RELATIONSHIP_MAX = 300
PLACES_MAX = 50
OPEN_STATUSES = (AssignmentStatus.assigned, AssignmentStatus.in_progress)


class SchedulingInvalid(DomainError):
    status_code = 422

    def __init__(self, fields: dict[str, str], status_code: int | None = None) -> None:
        super().__init__(
            next(iter(fields.values())),
            errors=[{"loc": k, "msg": v} for k, v in fields.items()],
            status_code=status_code,
        )
        self.fields = fields


# --- conflicts of interest --------------------------------------------------------------------


@dataclass
class ConflictView:
    id: int
    judge: str | None
    court: str | None
    relationship: str

    @property
    def label(self) -> str:
        parts = []
        if self.judge:
            parts.append(judge_label(self.judge))
        if self.court:
            parts.append(self.court)
        if self.relationship:
            parts.append(self.relationship)
        return " · ".join(parts)


def list_conflicts(*, session: Session, volunteer_id: int) -> list[ConflictView]:
    rows = session.exec(
        select(ConflictOfInterest, Judge.name, Court.name)
        .outerjoin(Judge, col(Judge.id) == ConflictOfInterest.judge_id)
        .outerjoin(Court, col(Court.id) == ConflictOfInterest.court_id)
        .where(ConflictOfInterest.volunteer_id == volunteer_id)
        .order_by(col(ConflictOfInterest.id))
    ).all()
    return [
        ConflictView(id=c.id, judge=j, court=k, relationship=c.relationship)  # type: ignore[arg-type]
        for c, j, k in rows
    ]


def _id_or_none(value: str, field: str, model: Any, session: Session) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or session.get(model, int(value)) is None:
        raise SchedulingInvalid({field: gettext("Choose from the list.")})
    return int(value)


def declare_conflict(
    *, session: Session, volunteer_id: int, judge_id: str, court_id: str, relationship: str
) -> ConflictOfInterest:
    """Add one declaration: a judge, a court and/or a relationship (at least one). Commits."""
    relationship = " ".join((relationship or "").split())
    judge = _id_or_none(judge_id, "judge_id", Judge, session)
    court = _id_or_none(court_id, "court_id", Court, session)
    if len(relationship) > RELATIONSHIP_MAX:
        raise SchedulingInvalid(
            {"relationship": gettext("At most %(num)s characters.", num=RELATIONSHIP_MAX)}
        )
    if judge is None and court is None and not relationship:
        raise SchedulingInvalid(
            {"__all__": gettext("Choose a judge or a court, or describe the relationship.")}
        )
    conflict = ConflictOfInterest(
        volunteer_id=volunteer_id, judge_id=judge, court_id=court, relationship=relationship
    )
    session.add(conflict)
    session.commit()
    session.refresh(conflict)
    return conflict


def withdraw_conflict(*, session: Session, volunteer_id: int, conflict_id: int) -> None:
    conflict = session.get(ConflictOfInterest, conflict_id)
    if conflict is None or conflict.volunteer_id != volunteer_id:
        raise NotFound(gettext("You have no such declaration."))
    session.delete(conflict)
    session.commit()


def conflicts_with_sitting(
    *, session: Session, court_session_id: int, volunteer_ids: Sequence[int]
) -> dict[int, str]:
    """volunteer id → why they may not observe this sitting (judge or court conflicts)."""
    sitting = session.get(CourtSession, court_session_id)
    if sitting is None or not volunteer_ids:
        return {}
    clash = [ConflictOfInterest.court_id == sitting.court_id]
    if sitting.judge_id is not None:
        clash.append(ConflictOfInterest.judge_id == sitting.judge_id)
    rows = session.exec(
        select(ConflictOfInterest, Judge.name, Court.name)
        .outerjoin(Judge, col(Judge.id) == ConflictOfInterest.judge_id)
        .outerjoin(Court, col(Court.id) == ConflictOfInterest.court_id)
        .where(col(ConflictOfInterest.volunteer_id).in_(list(volunteer_ids)), sa.or_(*clash))
        .order_by(col(ConflictOfInterest.id))
    ).all()
    reasons: dict[int, str] = {}
    for conflict, judge, court in rows:
        if conflict.judge_id is not None and conflict.judge_id == sitting.judge_id:
            reason = gettext("declared a conflict with %(whom)s", whom=judge_label(judge))
        else:
            reason = gettext("declared a conflict with %(whom)s", whom=court)
        reasons.setdefault(conflict.volunteer_id, reason)
    return reasons


def relationships_of(*, session: Session, volunteer_ids: Sequence[int]) -> dict[int, list[str]]:
    """The free-text relationships people declared, for the trainer to weigh."""
    out: dict[int, list[str]] = {}
    if not volunteer_ids:
        return out
    for vid, text in session.exec(
        select(ConflictOfInterest.volunteer_id, ConflictOfInterest.relationship).where(
            col(ConflictOfInterest.volunteer_id).in_(list(volunteer_ids)),
            ConflictOfInterest.relationship != "",
        )
    ).all():
        out.setdefault(vid, []).append(text)
    return out


def conflict_refusal(
    *, session: Session, court_session_id: int, people: Sequence[User]
) -> str | None:
    """Why these people may not all be assigned to the sitting (each named), or None."""
    reasons = conflicts_with_sitting(
        session=session,
        court_session_id=court_session_id,
        volunteer_ids=[p.id for p in people],  # type: ignore[misc]
    )
    if not reasons:
        return None
    names = {p.id: p.display_name for p in people}
    text = "; ".join(f"{names[v]} {why}" for v, why in sorted(reasons.items()))
    return gettext("Not assigned: %(reasons)s.", reasons=text)


# --- deadlines --------------------------------------------------------------------------------


def due_at(session_date: date, start_time: time | None, hours: int) -> datetime:
    return datetime.combine(session_date, start_time or time(0), tzinfo=UTC) + timedelta(
        hours=hours
    )


def _past_deadline(now: datetime, hours: int) -> Any:
    """Sittings whose deadline has passed at `now`, as SQL on the sitting's date and time."""
    cutoff = (now.astimezone(UTC) - timedelta(hours=hours)).replace(tzinfo=None)
    return sa.or_(
        CourtSession.session_date < cutoff.date(),
        sa.and_(
            CourtSession.session_date == cutoff.date(),
            sa.func.coalesce(CourtSession.start_time, time(0)) <= cutoff.time(),
        ),
    )


@dataclass
class DueAssignment:
    assignment_id: int
    court_session_id: int
    volunteer_id: int
    volunteer: str
    session_date: date
    start_time: time | None
    court: str
    courtroom: str
    calendar_type: str
    status: str
    due_at: datetime

    @property
    def calendar_label(self) -> str:
        return i18n.label(CALENDAR_LABELS, self.calendar_type)

    def overdue(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) > self.due_at


def _due_rows(session: Session, hours: int, *conditions: Any) -> list[DueAssignment]:
    rows = session.exec(
        select(Assignment, User.display_name, CourtSession, Court.name)
        .join(User, col(User.id) == Assignment.volunteer_id)
        .join(CourtSession, col(CourtSession.id) == Assignment.court_session_id)
        .join(Court, col(Court.id) == CourtSession.court_id)
        .where(col(Assignment.status).in_(OPEN_STATUSES), *conditions)
        .order_by(col(CourtSession.session_date), col(CourtSession.start_time), col(Assignment.id))
        .limit(500)
    ).all()
    return [
        DueAssignment(
            assignment_id=a.id,  # type: ignore[arg-type]
            court_session_id=s.id,  # type: ignore[arg-type]
            volunteer_id=a.volunteer_id,
            volunteer=name,
            session_date=s.session_date,
            start_time=s.start_time,
            court=court,
            courtroom=s.courtroom,
            calendar_type=s.calendar_type,
            status=a.status,
            due_at=due_at(s.session_date, s.start_time, hours),
        )
        for a, name, s, court in rows
    ]


def overdue_assignments(
    *, session: Session, hours: int, now: datetime | None = None
) -> list[DueAssignment]:
    """Not submitted, deadline passed (oldest first): for trainers to chase."""
    return _due_rows(session, hours, _past_deadline(now or utcnow(), hours))


def due_for(
    *, session: Session, volunteer_id: int, hours: int, today: date | None = None
) -> list[DueAssignment]:
    """A volunteer's sittings already held (or today's) still to submit, with deadlines."""
    today = today or utcnow().date()
    return _due_rows(
        session,
        hours,
        Assignment.volunteer_id == volunteer_id,
        CourtSession.session_date <= today,
    )


def unassigned_sittings(
    *, session: Session, today: date | None = None, days: int = 14
) -> list[Any]:
    """Upcoming sittings (next `days`) with no one assigned."""
    today = today or utcnow().date()
    taken = select(Assignment.court_session_id).where(
        Assignment.status != AssignmentStatus.cancelled
    )
    return list(
        session.exec(
            select(CourtSession, Court.name)
            .join(Court, col(Court.id) == CourtSession.court_id)
            .where(
                CourtSession.session_date >= today,
                CourtSession.session_date <= today + timedelta(days=days),
                col(CourtSession.id).not_in(taken),
            )
            .order_by(col(CourtSession.session_date), col(CourtSession.start_time))
            .limit(50)
        ).all()
    )


def _exercise_assignment_ids() -> Any:
    from app.calibration.models import ExerciseInvite

    return select(ExerciseInvite.assignment_id)


# --- sign-up ----------------------------------------------------------------------------------


def _active_count(session: Session, court_session_id: int) -> int:
    return session.exec(
        select(sa.func.count())
        .select_from(Assignment)
        .where(
            Assignment.court_session_id == court_session_id,
            Assignment.status != AssignmentStatus.cancelled,
        )
    ).one()


def open_signup(
    *,
    session: Session,
    court_session_id: int,
    places: str,
    protocol_version_id: str,
    opened_by_id: int | None,
) -> SittingSignup:
    """Open a sitting (or change its places and protocol). Commits."""
    if session.get(CourtSession, court_session_id) is None:
        raise NotFound(gettext("There is no such court session."))
    errors: dict[str, str] = {}
    places = (places or "").strip()
    if not places.isdigit() or not 1 <= int(places) <= PLACES_MAX:
        errors["places"] = gettext("A whole number of places from 1 to %(num)s.", num=PLACES_MAX)
    version_id = (protocol_version_id or "").strip()
    version = session.get(ProtocolVersion, int(version_id)) if version_id.isdigit() else None
    if version is None or version.status != VersionStatus.published:
        errors["signup_protocol_version_id"] = gettext("Choose a published protocol version.")
    if errors:
        raise SchedulingInvalid(errors)
    signup = session.get(SittingSignup, court_session_id) or SittingSignup(
        court_session_id=court_session_id,
        places=0,
        protocol_version_id=version.id,  # type: ignore[union-attr]
    )
    signup.places = int(places)
    signup.protocol_version_id = version.id  # type: ignore[union-attr,assignment]
    signup.opened_by_id = opened_by_id
    session.add(signup)
    session.commit()
    session.refresh(signup)
    return signup


def close_signup(*, session: Session, court_session_id: int) -> None:
    signup = session.get(SittingSignup, court_session_id)
    if signup is not None:
        session.delete(signup)
        session.commit()


def signup_of(*, session: Session, court_session_id: int) -> tuple[SittingSignup, int] | None:
    """The sitting's sign-up and how many places are taken, if it is open."""
    signup = session.get(SittingSignup, court_session_id)
    if signup is None:
        return None
    return signup, _active_count(session, court_session_id)


@dataclass
class OpenSitting:
    court_session_id: int
    session_date: date
    start_time: time | None
    court: str
    courtroom: str
    judge: str | None
    calendar_type: str
    places: int
    taken: int
    mine: bool
    conflict: str | None

    @property
    def left(self) -> int:
        return max(0, self.places - self.taken)

    @property
    def calendar_label(self) -> str:
        return i18n.label(CALENDAR_LABELS, self.calendar_type)


def open_sittings_for(
    *, session: Session, volunteer_id: int, today: date | None = None
) -> list[OpenSitting]:
    """Sittings from today on that are open for sign-up, with places left and conflicts."""
    today = today or utcnow().date()
    taken = (
        select(sa.func.count())
        .select_from(Assignment)
        .where(
            Assignment.court_session_id == CourtSession.id,
            Assignment.status != AssignmentStatus.cancelled,
        )
        .scalar_subquery()
    )
    mine = (
        select(sa.func.count())
        .select_from(Assignment)
        .where(
            Assignment.court_session_id == CourtSession.id,
            Assignment.volunteer_id == volunteer_id,
            Assignment.status != AssignmentStatus.cancelled,
        )
        .scalar_subquery()
    )
    rows = session.exec(
        select(CourtSession, Court.name, Judge.name, SittingSignup.places, taken, mine)
        .join(SittingSignup, col(SittingSignup.court_session_id) == CourtSession.id)
        .join(Court, col(Court.id) == CourtSession.court_id)
        .outerjoin(Judge, col(Judge.id) == CourtSession.judge_id)
        .where(CourtSession.session_date >= today)
        .order_by(col(CourtSession.session_date), col(CourtSession.start_time))
        .limit(100)
    ).all()
    out = []
    for sitting, court, judge, places, n_taken, n_mine in rows:
        reasons = conflicts_with_sitting(
            session=session, court_session_id=sitting.id, volunteer_ids=[volunteer_id]
        )
        out.append(
            OpenSitting(
                court_session_id=sitting.id,
                session_date=sitting.session_date,
                start_time=sitting.start_time,
                court=court,
                courtroom=sitting.courtroom,
                judge=judge,
                calendar_type=sitting.calendar_type,
                places=places,
                taken=n_taken,
                mine=n_mine > 0,
                conflict=reasons.get(volunteer_id),
            )
        )
    return out


def sign_up(
    *, session: Session, volunteer: User, court_session_id: int, today: date | None = None
) -> Assignment:
    """The volunteer takes a place: refused when closed, past, full, conflicted or already
    theirs. The sign-up row is written first so concurrent sign-ups queue on it (a row lock
    on PostgreSQL, the write lock on SQLite) and never overfill the places. Commits."""
    today = today or utcnow().date()
    locked = session.execute(
        sa.update(SittingSignup)
        .where(SittingSignup.court_session_id == court_session_id)  # type: ignore[arg-type]
        .values(places=SittingSignup.places)
    )
    signup = session.get(SittingSignup, court_session_id, populate_existing=True)
    sitting = session.get(CourtSession, court_session_id)
    if locked.rowcount == 0 or signup is None or sitting is None:  # type: ignore[attr-defined]
        session.rollback()
        raise SchedulingInvalid(
            {"court_session_id": gettext("This sitting is not open for sign-up.")}, 409
        )
    problem: str | None = None
    if sitting.session_date < today:
        problem = gettext("This sitting has already taken place.")
    elif session.exec(
        select(Assignment.id).where(
            Assignment.court_session_id == court_session_id,
            Assignment.volunteer_id == volunteer.id,
            Assignment.status != AssignmentStatus.cancelled,
        )
    ).first():
        problem = gettext("You are already on this sitting.")
    elif _active_count(session, court_session_id) >= signup.places:
        problem = gettext("All places on this sitting are taken.")
    else:
        reasons = conflicts_with_sitting(
            session=session,
            court_session_id=court_session_id,
            volunteer_ids=[volunteer.id],  # type: ignore[list-item]
        )
        if reasons:
            problem = gettext("You %(reason)s.", reason=reasons[volunteer.id])  # type: ignore[index]
    if problem:
        session.rollback()
        raise SchedulingInvalid({"court_session_id": problem}, 409)
    assignment = Assignment(
        court_session_id=court_session_id,
        volunteer_id=volunteer.id,  # type: ignore[arg-type]
        protocol_version_id=signup.protocol_version_id,
        status=AssignmentStatus.assigned,
        assigned_by_id=volunteer.id,
    )
    session.add(assignment)
    session.commit()
    session.refresh(assignment)
    return assignment


# --- the iCalendar feed -----------------------------------------------------------------------


def feed_token(*, session: Session, user_id: int, renew: bool = False) -> str:
    """The user's feed token, made on first use; renewing makes the old address stop working."""
    feed = session.get(CalendarFeed, user_id)
    if feed is None:
        feed = CalendarFeed(user_id=user_id, token=secrets.token_urlsafe(32))
    elif renew:
        feed.token = secrets.token_urlsafe(32)
        feed.created_at = utcnow()
    else:
        return feed.token
    session.add(feed)
    session.commit()
    return feed.token


def feed_owner(*, session: Session, token: str) -> User | None:
    if not token or len(token) > 64:
        return None
    row = session.exec(select(CalendarFeed).where(CalendarFeed.token == token)).first()
    if row is None:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.is_active else None


def calendar_feed(*, session: Session, user: User, hours: int, host: str) -> bytes:
    """The user's not-cancelled assignments as an iCalendar document."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Courtwatch//assignments//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Courtwatch assignments")
    rows = session.exec(
        select(Assignment, CourtSession, Court.name, Judge.name)
        .join(CourtSession, col(CourtSession.id) == Assignment.court_session_id)
        .join(Court, col(Court.id) == CourtSession.court_id)
        .outerjoin(Judge, col(Judge.id) == CourtSession.judge_id)
        .where(
            Assignment.volunteer_id == user.id,
            Assignment.status != AssignmentStatus.cancelled,
            col(Assignment.id).not_in(_exercise_assignment_ids()),
        )
        .order_by(col(CourtSession.session_date))
        .limit(1000)
    ).all()
    for assignment, sitting, court, judge in rows:
        event = Event()
        event.add("uid", f"assignment-{assignment.id}@{host}")
        event.add("dtstamp", assignment.updated_at)
        label = CALENDAR_LABELS.get(sitting.calendar_type, sitting.calendar_type)
        event.add("summary", f"Court watch: {label}, courtroom {sitting.courtroom}")
        if sitting.start_time is not None:
            start = datetime.combine(sitting.session_date, sitting.start_time)
            event.add("dtstart", start)
            event.add("dtend", start + timedelta(hours=3))
        else:
            event.add("dtstart", sitting.session_date)
            event.add("dtend", sitting.session_date + timedelta(days=1))
        event.add("location", f"{court}, courtroom {sitting.courtroom}")
        deadline = due_at(sitting.session_date, sitting.start_time, hours)
        event.add(
            "description",
            f"Presiding: {judge or 'not recorded'}. Submit your notes by "
            f"{deadline:%a %d %b %Y %H:%M} UTC.",
        )
        cal.add_component(event)
    return cal.to_ical()
