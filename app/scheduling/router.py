"""Scheduling pages: a volunteer's conflicts, sign-up and calendar feed; a trainer's sign-up
controls and overdue list; the feed itself (public, behind its private token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.bounds import RowId
from app.db import SessionDep
from app.deps import Public, SettingsDep, TrainerUser, VolunteerUser
from app.errors import NotFound
from app.i18n import gettext
from app.scheduling import service as scheduling_service
from app.sessions import courts
from app.templating import flash, render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form()]


def _back(request: Request, name: str, **params: object) -> Response:
    return RedirectResponse(str(request.url_for(name, **params)), status_code=303)


# --- volunteer: conflicts of interest ---------------------------------------------------------


def _conflicts_page(
    request: Request,
    session: SessionDep,
    user: VolunteerUser,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "scheduling/conflicts.html",
        {
            "conflicts": scheduling_service.list_conflicts(session=session, volunteer_id=user.id),  # type: ignore[arg-type]
            "judges": courts.list_judges(session=session),
            "courts": courts.list_courts(session=session),
            "form": form or {},
            "errors": errors or {},
        },
        status_code=422 if errors else 200,
    )


@router.get("/my/conflicts", name="scheduling:conflicts")
def conflicts(request: Request, session: SessionDep, user: VolunteerUser) -> Response:
    return _conflicts_page(request, session, user)


@router.post("/my/conflicts", name="scheduling:declare")
def declare(
    request: Request,
    session: SessionDep,
    user: VolunteerUser,
    judge_id: Text = "",
    court_id: Text = "",
    relationship: Text = "",
) -> Response:
    form = {"judge_id": judge_id, "court_id": court_id, "relationship": relationship}
    try:
        scheduling_service.declare_conflict(
            session=session,
            volunteer_id=user.id,
            **form,  # type: ignore[arg-type]
        )
    except scheduling_service.SchedulingInvalid as exc:
        return _conflicts_page(request, session, user, form=form, errors=exc.fields)
    flash(request, gettext("Declared. You will not be scheduled where it applies."), "success")
    return _back(request, "scheduling:conflicts")


@router.post("/my/conflicts/{conflict_id}/withdraw", name="scheduling:withdraw")
def withdraw(
    request: Request, session: SessionDep, user: VolunteerUser, conflict_id: RowId
) -> Response:
    scheduling_service.withdraw_conflict(
        session=session,
        volunteer_id=user.id,
        conflict_id=conflict_id,  # type: ignore[arg-type]
    )
    flash(request, gettext("Declaration withdrawn."), "info")
    return _back(request, "scheduling:conflicts")


# --- volunteer: sign-up -------------------------------------------------------------------------


def _signups_page(
    request: Request, session: SessionDep, user: VolunteerUser, error: str | None = None
) -> Response:
    return render(
        request,
        "scheduling/signups.html",
        {
            "sittings": scheduling_service.open_sittings_for(session=session, volunteer_id=user.id),  # type: ignore[arg-type]
            "error": error,
        },
        status_code=409 if error else 200,
    )


@router.get("/my/signups", name="scheduling:signups")
def signups(request: Request, session: SessionDep, user: VolunteerUser) -> Response:
    return _signups_page(request, session, user)


@router.post("/my/signups/{court_session_id}", name="scheduling:sign_up")
def sign_up(
    request: Request, session: SessionDep, user: VolunteerUser, court_session_id: RowId
) -> Response:
    try:
        scheduling_service.sign_up(
            session=session, volunteer=user, court_session_id=court_session_id
        )
    except scheduling_service.SchedulingInvalid as exc:
        return _signups_page(request, session, user, error=exc.message)
    flash(request, gettext("Signed up: the sitting is in your assignments."), "success")
    return _back(request, "sessions:my_assignments")


# --- volunteer: the calendar feed ---------------------------------------------------------------


@router.get("/my/calendar", name="scheduling:calendar")
def calendar_page(request: Request, session: SessionDep, user: VolunteerUser) -> Response:
    token = scheduling_service.feed_token(session=session, user_id=user.id)  # type: ignore[arg-type]
    return render(
        request,
        "scheduling/calendar.html",
        {"feed_url": str(request.url_for("scheduling:feed", token=token))},
    )


@router.post("/my/calendar/renew", name="scheduling:renew_feed")
def renew_feed(request: Request, session: SessionDep, user: VolunteerUser) -> Response:
    scheduling_service.feed_token(session=session, user_id=user.id, renew=True)  # type: ignore[arg-type]
    flash(request, gettext("New address made: the old one no longer works."), "success")
    return _back(request, "scheduling:calendar")


@router.get("/calendar/{token}.ics", name="scheduling:feed", dependencies=[Public])
def feed(request: Request, token: str, session: SessionDep, settings: SettingsDep) -> Response:
    owner = scheduling_service.feed_owner(session=session, token=token)
    if owner is None:
        raise NotFound(gettext("There is no calendar at this address (it may have been renewed)."))
    body = scheduling_service.calendar_feed(
        session=session,
        user=owner,
        hours=settings.submission_deadline_hours,
        host=request.url.hostname or "courtwatch",
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer"},
    )


# --- trainer: sign-up and deadlines -------------------------------------------------------------


@router.post("/sessions/{court_session_id}/signup", name="scheduling:open_signup")
def open_signup(
    request: Request,
    session: SessionDep,
    user: TrainerUser,
    court_session_id: RowId,
    places: Text = "",
    protocol_version_id: Text = "",
) -> Response:
    scheduling_service.open_signup(
        session=session,
        court_session_id=court_session_id,
        places=places,
        protocol_version_id=protocol_version_id,
        opened_by_id=user.id,
    )
    flash(request, gettext("Open for sign-up."), "success")
    return _back(request, "sessions:detail", court_session_id=court_session_id)


@router.post("/sessions/{court_session_id}/signup/close", name="scheduling:close_signup")
def close_signup(
    request: Request, session: SessionDep, user: TrainerUser, court_session_id: RowId
) -> Response:
    scheduling_service.close_signup(session=session, court_session_id=court_session_id)
    flash(request, gettext("Sign-up closed; who signed up stays assigned."), "info")
    return _back(request, "sessions:detail", court_session_id=court_session_id)


@router.get("/schedule/overdue", name="scheduling:overdue")
def overdue(
    request: Request, session: SessionDep, user: TrainerUser, settings: SettingsDep
) -> Response:
    return render(
        request,
        "scheduling/overdue.html",
        {
            "rows": scheduling_service.overdue_assignments(
                session=session, hours=settings.submission_deadline_hours
            ),
            "hours": settings.submission_deadline_hours,
        },
    )
