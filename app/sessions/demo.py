"""Demo step: a few weeks of sentencing calendars around today, today's assigned to the demo volunteer.

The court and the judges are invented for the demo.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time, timedelta

from sqlmodel import Session, col, select

from app.auth.models import Role, User
from app.config import Settings
from app.demo import demo_email
from app.protocols.models import Protocol, ProtocolVersion, VersionStatus
from app.protocols.service import DEFAULT_PROTOCOL_NAME
from app.sessions import service as sessions_service
from app.sessions.models import Assignment, AssignmentStatus, CalendarType

DEMO_COURT = "Lakeview County District Court (demo)"
# (weekday, courtroom, judge, start): three courtrooms, three judges, one sentencing calendar each.
DEMO_CALENDARS = [
    (1, "3B", "Judge Maria Alvarez", time(9, 0)),
    (3, "5A", "Judge Thomas Becker", time(13, 30)),
    (4, "1753", "Judge Linda Okafor", time(9, 0)),
]
WEEKS_BEFORE, WEEKS_AFTER = 3, 2


def _demo_dates(today: date) -> list[tuple[date, str, str, time]]:
    start = today - timedelta(weeks=WEEKS_BEFORE, days=today.weekday())
    end = today + timedelta(weeks=WEEKS_AFTER)
    found = []
    day = start
    while day <= end:
        for weekday, room, judge, start_time in DEMO_CALENDARS:
            if day.weekday() == weekday:
                found.append((day, room, judge, start_time))
        day += timedelta(days=1)
    # Today always has a sitting, whatever the weekday, so the demo volunteer has one to open.
    if not any(d == today for d, *_ in found):
        _, room, judge, start_time = DEMO_CALENDARS[0]
        found.append((today, room, judge, start_time))
    return found


def _latest_default_version(session: Session) -> ProtocolVersion | None:
    return session.exec(
        select(ProtocolVersion)
        .join(Protocol, col(Protocol.id) == ProtocolVersion.protocol_id)
        .where(
            Protocol.name == DEFAULT_PROTOCOL_NAME,
            ProtocolVersion.status == VersionStatus.published,
        )
        .order_by(col(ProtocolVersion.version).desc())
    ).first()


def seed_sessions(*, session: Session, settings: Settings, log: Callable[[str], None]) -> None:
    """Sentencing sessions from three weeks back to two weeks ahead; today's one assigned."""
    today = date.today()
    trainer = session.exec(select(User).where(User.email == demo_email(Role.trainer))).first()
    trainer_id = trainer.id if trainer else None
    sittings = {}
    for day, room, judge, start_time in _demo_dates(today):
        sitting = sessions_service.find_or_create_court_session(
            session=session,
            court=DEMO_COURT,
            courtroom=room,
            session_date=day,
            start_time=start_time,
            judge=judge,
            calendar_type=CalendarType.sentencing,
            created_by_id=trainer_id,
        )
        sittings[(day, room)] = sitting
    session.commit()
    log(f"  sessions  {len(sittings)} sentencing sittings in {DEMO_COURT}")

    volunteer = session.exec(select(User).where(User.email == demo_email(Role.volunteer))).first()
    version = _latest_default_version(session)
    if volunteer is None or version is None:
        log(
            "  sessions  no assignment: the demo volunteer or a published default protocol is missing"
        )
        return
    todays = sorted((s for (d, _), s in sittings.items() if d == today), key=lambda s: s.id or 0)
    sitting = todays[0]
    existing = session.exec(
        select(Assignment).where(
            Assignment.court_session_id == sitting.id,
            Assignment.volunteer_id == volunteer.id,
            Assignment.status != AssignmentStatus.cancelled,
        )
    ).first()
    if existing is None:
        session.add(
            Assignment(
                court_session_id=sitting.id,  # type: ignore[arg-type]
                volunteer_id=volunteer.id,  # type: ignore[arg-type]
                protocol_version_id=version.id,  # type: ignore[arg-type]
                assigned_by_id=trainer_id,
            )
        )
        session.commit()
        log(f"  assigned  today's sitting (courtroom {sitting.courtroom}) to {volunteer.email}")
    else:
        log(f"  exists    today's assignment for {volunteer.email}")
