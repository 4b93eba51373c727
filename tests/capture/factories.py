"""Test data for capture: a volunteer with an assignment on the default sentencing protocol.

Built straight from the models (not through the sessions pages), so capture tests do not
depend on another domain's screens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from sqlmodel import Session

from app.auth.models import Role, User
from app.db import utcnow
from app.protocols.definition import load_default_protocol
from app.protocols.models import Protocol, ProtocolVersion, VersionStatus
from app.sessions.models import (
    Assignment,
    AssignmentStatus,
    CalendarType,
    Court,
    CourtSession,
    Judge,
)
from tests.factories import create_user


@dataclass
class CaptureSetup:
    volunteer: User
    trainer: User
    version: ProtocolVersion
    court_session: CourtSession
    assignment: Assignment


def published_default_protocol(db: Session, *, created_by: User | None = None) -> ProtocolVersion:
    protocol = Protocol(
        name="Sentencing calendar — CCR observation",
        created_by_id=created_by.id if created_by else None,
    )
    db.add(protocol)
    db.flush()
    version = ProtocolVersion(
        protocol_id=protocol.id,  # type: ignore[arg-type]
        version=1,
        status=VersionStatus.published,
        definition=load_default_protocol(),
        created_by_id=created_by.id if created_by else None,
        published_at=utcnow(),
    )
    db.add(version)
    db.commit()
    db.refresh(version)
    return version


def court_session(
    db: Session,
    *,
    court: str = "Hennepin County District Court",
    courtroom: str = "1753",
    judge: str = "Maria Alvarez",
    day: date | None = None,
) -> CourtSession:
    court_row = Court(name=court, name_key=court.lower())
    judge_row = Judge(name=judge, name_key=judge.lower())
    db.add(court_row)
    db.add(judge_row)
    db.flush()
    sitting = CourtSession(
        court_id=court_row.id,  # type: ignore[arg-type]
        courtroom=courtroom,
        session_date=day or date.today(),
        start_time=time(9, 0),
        calendar_type=CalendarType.sentencing,
        judge_id=judge_row.id,
    )
    db.add(sitting)
    db.commit()
    db.refresh(sitting)
    return sitting


def capture_setup(db: Session, *, email: str | None = None) -> CaptureSetup:
    """A trainer, a volunteer, the default protocol published, and one assignment."""
    trainer = create_user(db, role=Role.trainer)
    volunteer = create_user(db, role=Role.volunteer, email=email)
    version = published_default_protocol(db, created_by=trainer)
    sitting = court_session(db)
    assignment = Assignment(
        court_session_id=sitting.id,  # type: ignore[arg-type]
        volunteer_id=volunteer.id,  # type: ignore[arg-type]
        protocol_version_id=version.id,  # type: ignore[arg-type]
        status=AssignmentStatus.assigned,
        assigned_by_id=trainer.id,
    )
    db.add(assignment)
    db.commit()
    db.refresh(assignment)
    return CaptureSetup(volunteer, trainer, version, sitting, assignment)
