"""Builders for the sessions tests: protocol versions straight from the models, sittings and
assignments through the real sessions service."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, time
from typing import Any

from sqlmodel import Session

from app.auth.models import User
from app.db import utcnow
from app.observations.models import Hearing, Observation
from app.protocols.definition import load_default_protocol
from app.protocols.models import Protocol, ProtocolVersion, VersionStatus
from app.sessions import service as sessions_service
from app.sessions.models import Assignment, CourtSession
from app.sessions.schemas import AssignIn, CourtSessionIn

_counter = itertools.count(1)


def protocol_version(
    db: Session, *, name: str | None = None, status: VersionStatus = VersionStatus.published
) -> ProtocolVersion:
    """A protocol with one version of the default definition (published unless told)."""
    protocol = Protocol(name=name or f"Sentencing watch {next(_counter)}")
    db.add(protocol)
    db.flush()
    version = ProtocolVersion(
        protocol_id=protocol.id,  # type: ignore[arg-type]
        version=1,
        status=status,
        definition=load_default_protocol(),
        published_at=utcnow() if status == VersionStatus.published else None,
    )
    db.add(version)
    db.commit()
    db.refresh(version)
    return version


def sitting(
    db: Session,
    *,
    day: date,
    court: str = "Hennepin County District Court",
    courtroom: str = "3B",
    judge: str | None = "Maria Alvarez",
    start: time | None = time(9, 0),
    calendar_type: str = "sentencing",
    created_by: User | None = None,
) -> CourtSession:
    data = CourtSessionIn(
        court=court,
        courtroom=courtroom,
        judge=judge,
        start_time=start,
        calendar_type=calendar_type,  # type: ignore[arg-type]
        session_date=day,
        court_is_new=True,
        judge_is_new=True,
    )
    return sessions_service.create_court_session(
        session=db, data=data, created_by_id=created_by.id if created_by else None
    )


def assignment(
    db: Session, *, court_session: CourtSession, volunteer: User, version: ProtocolVersion
) -> Assignment:
    (made,) = sessions_service.assign(
        session=db,
        court_session_id=court_session.id,  # type: ignore[arg-type]
        data=AssignIn(volunteer_ids=[volunteer.id], protocol_version_id=version.id),  # type: ignore[list-item]
        assigned_by_id=None,
    )
    return made


def observation(
    db: Session, *, assignment: Assignment | None = None, observer: User, court_session: CourtSession,
    version: ProtocolVersion, status: str = "draft", hearings: int = 0,
) -> Observation:  # fmt: skip
    """An observation as sync would store it (the sync domain is built elsewhere)."""
    obs = Observation(
        id=uuid.uuid4(),
        observer_id=observer.id,  # type: ignore[arg-type]
        protocol_version_id=version.id,  # type: ignore[arg-type]
        assignment_id=assignment.id if assignment else None,
        court_session_id=court_session.id,  # type: ignore[arg-type]
        status=status,
        client_edited_at=utcnow(),
        submitted_at=utcnow() if status == "submitted" else None,
    )
    db.add(obs)
    db.flush()
    for n in range(hearings):
        db.add(Hearing(id=uuid.uuid4(), observation_id=obs.id, position=n))
    db.commit()
    db.refresh(obs)
    return obs


def form(**values: Any) -> dict[str, Any]:
    """A single-session form as the page posts it, with defaults."""
    base = {
        "court": "Hennepin County District Court",
        "courtroom": "3B",
        "calendar_type": "sentencing",
        "judge": "Maria Alvarez",
        "session_date": "2026-12-01",
        "start_time": "09:00",
        "notes": "",
    }
    base.update(values)
    return base
