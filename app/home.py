"""The start page (what each role starts the day with), the OpenAPI document and a health check.

Volunteers get today's sitting one tap away, what is due and what was sent back; trainers what
is to review, overdue or unassigned; organizers a few headline findings of the last 90 days.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.auth.models import Role, User
from app.calibration import exercises as exercises_service
from app.config import Settings
from app.db import SessionDep
from app.deps import AnyUser, Public, SettingsDep
from app.observations.filters import HearingFilter
from app.review import service as review_service
from app.scheduling import service as scheduling_service
from app.sessions import service as sessions_service
from app.templating import render

router = APIRouter(include_in_schema=False)
log = logging.getLogger("courtwatch")

HEADLINE_DAYS = 90


def _observer_day(session: Session, user: User, settings: Settings, today: date) -> dict[str, Any]:
    grouped = sessions_service.list_assignments_for_volunteer(
        session=session,
        volunteer_id=user.id,  # type: ignore[arg-type]
        today=today,
    )
    return {
        "today_assignments": [a for a in grouped.today if a.status != "submitted"],
        "due": scheduling_service.due_for(
            session=session,
            volunteer_id=user.id,  # type: ignore[arg-type]
            hours=settings.submission_deadline_hours,
            today=today,
        ),
        "sent_back": review_service.sent_back_to(session=session, observer_id=user.id),  # type: ignore[arg-type]
        "exercises": [
            e
            for e in exercises_service.exercises_for_trainee(session=session, trainee_id=user.id)  # type: ignore[arg-type]
            if e.my_status != "submitted"
        ],
    }


def _trainer_day(session: Session, settings: Settings, today: date) -> dict[str, Any]:
    return {
        "to_review": review_service.count_to_review(session=session),
        "overdue": scheduling_service.overdue_assignments(
            session=session, hours=settings.submission_deadline_hours
        ),
        "unassigned": scheduling_service.unassigned_sittings(session=session, today=today),
    }


def _headlines(session: Session, settings: Settings, today: date) -> dict[str, Any]:
    """The comparison's headline findings for the last HEADLINE_DAYS days (submitted only,
    rates with their intervals, groups under the minimum n left out)."""
    from app.analysis import service as analysis_service

    f = HearingFilter(date_from=today - timedelta(days=HEADLINE_DAYS), status="submitted")
    found = analysis_service.compare(
        session=session, f=f, min_n=settings.compare_min_n, with_agreement=False
    )
    return {
        "headline_filter": f,
        "hearings": found.hearings,
        "headlines": analysis_service.headlines(found),
        "days": HEADLINE_DAYS,
    }


@router.get("/", name="home")
def home(request: Request, user: AnyUser, session: SessionDep, settings: SettingsDep) -> Response:
    today = date.today()
    context: dict[str, Any] = {"today": today}
    if user.role in (Role.volunteer, Role.trainer):
        context.update(_observer_day(session, user, settings, today))
    if user.role in (Role.trainer, Role.admin):
        context.update(_trainer_day(session, settings, today))
    if user.role in (Role.organizer, Role.admin):
        context.update(_headlines(session, settings, today))
    return render(request, "home.html", context)


@router.get("/openapi.json", name="openapi")
def openapi(request: Request, user: AnyUser) -> JSONResponse:
    from app.openapi import build_openapi

    return JSONResponse(build_openapi(request.app, api_only=False))


@router.get("/healthz", name="healthz", dependencies=[Public])
def healthz(request: Request) -> JSONResponse:
    """For load balancers and container health checks: 200 when the database answers, 503
    when it does not (without saying more than that to an anonymous caller)."""
    try:
        with request.app.state.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except SQLAlchemyError:
        log.exception("health check: the database does not answer")
        return JSONResponse({"status": "error", "database": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
