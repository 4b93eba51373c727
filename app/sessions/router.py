"""Court sessions and assignments: trainer pages, and the volunteer's My assignments."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.routing import NoMatchFound

from app.bounds import RowId
from app.db import SessionDep, utcnow
from app.deps import TrainerUser, VolunteerUser
from app.i18n import gettext, ngettext
from app.review import service as review_service
from app.scheduling import service as scheduling_service
from app.sessions import service as sessions_service
from app.sessions.schemas import (
    CALENDAR_LABELS,
    MAX_OCCURRENCES,
    STATUS_LABELS,
    WEEKDAYS,
    AssignIn,
    CourtSessionIn,
    RecurrenceIn,
    parse_form,
)
from app.templating import flash, is_htmx, render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form()]


def _redirect(request: Request, name: str, **params: Any) -> Response:
    url = str(request.url_for(name, **params))
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _today() -> date:
    return date.today()


def observation_url(request: Request, observation_id: uuid.UUID) -> str | None:
    """The observations domain's page for one observation, once that page exists."""
    try:
        return str(request.url_for("observations:detail", observation_id=str(observation_id)))
    except NoMatchFound:
        return None


def _common(request: Request, session: SessionDep) -> dict[str, Any]:
    return {
        "choices": sessions_service.court_and_judge_choices(session=session),
        "calendar_types": list(CALENDAR_LABELS.items()),
        "weekdays": list(enumerate(WEEKDAYS)),
        "status_labels": STATUS_LABELS,
        "observation_url": lambda oid: observation_url(request, oid),
        "max_occurrences": MAX_OCCURRENCES,
    }


def _where_form(
    court: str,
    courtroom: str,
    calendar_type: str,
    judge: str,
    start_time: str,
    notes: str,
    court_is_new: str,
    judge_is_new: str,
    court_use: str,
    judge_use: str,
) -> dict[str, Any]:
    """The where-fields as submitted; a "Use X" button replaces the typed name with X."""
    return {
        "court": court_use or court,
        "courtroom": courtroom,
        "calendar_type": calendar_type,
        "judge": judge_use or judge,
        "start_time": start_time,
        "notes": notes,
        "court_is_new": court_is_new,
        "judge_is_new": judge_is_new,
    }


def _form_page(
    request: Request,
    session: SessionDep,
    template: str,
    form: dict[str, Any],
    errors: dict[str, str],
    suggestions: dict[str, list[str]] | None = None,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    return render(
        request,
        template,
        {
            **_common(request, session),
            "form": form,
            "errors": errors,
            "suggestions": suggestions or {},
            **extra,
        },
        status_code=status_code,
    )


# --- trainer: court sessions ---------------------------------------------------------------


@router.get("/sessions", name="sessions:list")
def list_sessions(
    request: Request,
    session: SessionDep,
    user: TrainerUser,
    when: Literal["upcoming", "past"] = "upcoming",
) -> Response:
    today = _today()
    return render(
        request,
        "sessions/list.html",
        {
            "rows": sessions_service.list_court_sessions(session=session, today=today, when=when),
            "when": when,
            "today": today,
        },
    )


@router.get("/sessions/new", name="sessions:new")
def new_session(request: Request, session: SessionDep, user: TrainerUser) -> Response:
    form = {"calendar_type": "sentencing", "session_date": _today().isoformat()}
    return _form_page(request, session, "sessions/new.html", form, {})


@router.post("/sessions", name="sessions:create")
def create_session(
    request: Request,
    session: SessionDep,
    user: TrainerUser,
    court: Text = "",
    courtroom: Text = "",
    calendar_type: Text = "",
    judge: Text = "",
    session_date: Text = "",
    start_time: Text = "",
    notes: Text = "",
    court_is_new: Text = "",
    judge_is_new: Text = "",
    court_use: Text = "",
    judge_use: Text = "",
) -> Response:
    form = _where_form(
        court, courtroom, calendar_type, judge, start_time, notes,
        court_is_new, judge_is_new, court_use, judge_use,
    )  # fmt: skip
    form["session_date"] = session_date
    data, errors = parse_form(CourtSessionIn, form)
    if data is not None:
        try:
            sitting = sessions_service.create_court_session(
                session=session, data=data, created_by_id=user.id
            )
        except sessions_service.NamesToConfirm as exc:
            return _form_page(
                request, session, "sessions/new.html", form, exc.fields, exc.suggestions,
                status_code=422,
            )  # fmt: skip
        except sessions_service.FormInvalid as exc:
            errors = exc.fields
        else:
            flash(request, gettext("Court session created. Assign volunteers below."), "success")
            return _redirect(request, "sessions:detail", court_session_id=sitting.id)
    return _form_page(request, session, "sessions/new.html", form, errors, status_code=422)


@router.get("/sessions/recurring", name="sessions:new_recurring")
def new_recurring(request: Request, session: SessionDep, user: TrainerUser) -> Response:
    today = _today()
    form = {
        "calendar_type": "sentencing",
        "start_date": today.isoformat(),
        "weekday": str(today.weekday()),
        "start_time": "09:00",
        "weeks": "6",
    }
    return _form_page(request, session, "sessions/recurring.html", form, {}, plan=None)


@router.post("/sessions/recurring", name="sessions:create_recurring")
def create_recurring(
    request: Request,
    session: SessionDep,
    user: TrainerUser,
    court: Text = "",
    courtroom: Text = "",
    calendar_type: Text = "",
    judge: Text = "",
    start_time: Text = "",
    notes: Text = "",
    court_is_new: Text = "",
    judge_is_new: Text = "",
    court_use: Text = "",
    judge_use: Text = "",
    weekday: Text = "",
    start_date: Text = "",
    weeks: Text = "",
    end_date: Text = "",
    action: Text = "preview",
) -> Response:
    form = _where_form(
        court, courtroom, calendar_type, judge, start_time, notes,
        court_is_new, judge_is_new, court_use, judge_use,
    )  # fmt: skip
    form.update(weekday=weekday, start_date=start_date, weeks=weeks, end_date=end_date)
    page = "sessions/recurring.html"
    data, errors = parse_form(RecurrenceIn, form)
    if data is None:
        return _form_page(request, session, page, form, errors, status_code=422, plan=None)
    try:
        if action != "create":
            plan = sessions_service.plan_recurrence(session=session, data=data)
            return _form_page(request, session, page, form, {}, plan=plan)
        created, skipped = sessions_service.create_recurring_sessions(
            session=session, data=data, created_by_id=user.id
        )
    except sessions_service.NamesToConfirm as exc:
        return _form_page(
            request, session, page, form, exc.fields, exc.suggestions, status_code=422, plan=None
        )
    except sessions_service.FormInvalid as exc:
        return _form_page(request, session, page, form, exc.fields, status_code=422, plan=None)
    message = ngettext(
        "Created %(num)s court session.", "Created %(num)s court sessions.", len(created)
    ) % {"num": len(created)}
    if skipped:
        message += " " + ngettext(
            "Skipped %(num)s that already existed.",
            "Skipped %(num)s that already existed.",
            len(skipped),
        ) % {"num": len(skipped)}
    flash(request, message, "success")
    return _redirect(request, "sessions:list")


# --- trainer: volunteers ---------------------------------------------------------------------


@router.get("/sessions/volunteers", name="sessions:volunteers")
def volunteers(request: Request, session: SessionDep, user: TrainerUser) -> Response:
    return render(
        request,
        "sessions/volunteers.html",
        {"rows": sessions_service.list_volunteers(session=session)},
    )


@router.get("/sessions/volunteers/{volunteer_id}", name="sessions:volunteer")
def volunteer_page(
    request: Request, session: SessionDep, user: TrainerUser, volunteer_id: RowId
) -> Response:
    person = sessions_service.get_person(session=session, user_id=volunteer_id)
    return render(
        request,
        "sessions/volunteer.html",
        {
            **_common(request, session),
            "person": person,
            "assignments": sessions_service.volunteer_assignments(
                session=session, volunteer_id=volunteer_id
            ),
            "adhoc": sessions_service.adhoc_observations(
                session=session, volunteer_id=volunteer_id
            ),
        },
    )


# --- trainer: one session and its assignments -------------------------------------------------


def _detail_page(
    request: Request,
    session: SessionDep,
    court_session_id: RowId,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    info = sessions_service.get_court_session(session=session, court_session_id=court_session_id)
    assignments = sessions_service.list_assignments_for_session(
        session=session, court_session_id=court_session_id
    )
    versions = sessions_service.published_versions(session=session)
    taken = {a.volunteer_id for a in assignments if a.status != "cancelled"}
    people = sessions_service.assignable_people(session=session)
    ids = [p.id for p in people if p.id not in taken]
    conflicted = scheduling_service.conflicts_with_sitting(
        session=session,
        court_session_id=court_session_id,
        volunteer_ids=ids,  # type: ignore[arg-type]
    )
    default_form = {"protocol_version_id": str(versions[0].id) if versions else ""}
    return render(
        request,
        "sessions/detail.html",
        {
            **_common(request, session),
            "info": info,
            "assignments": assignments,
            "versions": versions,
            "people": people,
            "free_people": [p for p in people if p.id not in taken and p.id not in conflicted],
            "conflicted_people": [(p, conflicted[p.id]) for p in people if p.id in conflicted],
            "relationships": scheduling_service.relationships_of(
                session=session,
                volunteer_ids=ids,  # type: ignore[arg-type]
            ),
            "signup": scheduling_service.signup_of(
                session=session, court_session_id=court_session_id
            ),
            "form": form or default_form,
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/sessions/{court_session_id}", name="sessions:detail")
def session_detail(
    request: Request, session: SessionDep, user: TrainerUser, court_session_id: RowId
) -> Response:
    return _detail_page(request, session, court_session_id)


@router.post("/sessions/{court_session_id}/assign", name="sessions:assign")
def assign(
    request: Request,
    session: SessionDep,
    user: TrainerUser,
    court_session_id: RowId,
    volunteer_ids: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    protocol_version_id: Text = "",
) -> Response:
    sessions_service.get_court_session(session=session, court_session_id=court_session_id)
    form: dict[str, Any] = {
        "volunteer_ids": volunteer_ids,
        "protocol_version_id": protocol_version_id,
    }
    data, errors = parse_form(AssignIn, form)
    if data is not None:
        try:
            created = sessions_service.assign(
                session=session,
                court_session_id=court_session_id,
                data=data,
                assigned_by_id=user.id,
            )
        except sessions_service.FormInvalid as exc:
            errors = exc.fields
        else:
            flash(
                request,
                ngettext(
                    "Assigned %(num)s volunteer.", "Assigned %(num)s volunteers.", len(created)
                )
                % {"num": len(created)},
                "success",
            )
            return _redirect(request, "sessions:detail", court_session_id=court_session_id)
    return _detail_page(
        request, session, court_session_id, form=form, errors=errors, status_code=422
    )


@router.post("/assignments/{assignment_id}/cancel", name="sessions:cancel")
def cancel(
    request: Request, session: SessionDep, user: TrainerUser, assignment_id: RowId
) -> Response:
    assignment = sessions_service.cancel_assignment(session=session, assignment_id=assignment_id)
    flash(request, gettext("Assignment cancelled."), "info")
    return _redirect(request, "sessions:detail", court_session_id=assignment.court_session_id)


@router.post("/assignments/{assignment_id}/reassign", name="sessions:reassign")
def reassign(
    request: Request,
    session: SessionDep,
    user: TrainerUser,
    assignment_id: RowId,
    volunteer_id: Text = "",
) -> Response:
    target = int(volunteer_id) if volunteer_id.strip().isdigit() else None
    try:
        replacement = sessions_service.reassign(
            session=session,
            assignment_id=assignment_id,
            volunteer_id=target,
            assigned_by_id=user.id,
        )
    except sessions_service.FormInvalid as exc:
        original = sessions_service.get_assignment(session=session, assignment_id=assignment_id)
        assert original is not None  # reassign raised NotFound otherwise
        return _detail_page(
            request,
            session,
            original.court_session_id,
            errors={
                f"reassign-{assignment_id}": exc.fields.get("volunteer_id")
                or exc.fields.get("volunteer_ids")
                or exc.message
            },
            status_code=422,
        )
    flash(request, gettext("Assignment handed over; the previous one is cancelled."), "success")
    return _redirect(request, "sessions:detail", court_session_id=replacement.court_session_id)


# --- volunteer -----------------------------------------------------------------------------------


@router.get("/my/assignments", name="sessions:my_assignments")
def my_assignments(request: Request, session: SessionDep, user: VolunteerUser) -> Response:
    today = _today()
    grouped = sessions_service.list_assignments_for_volunteer(
        session=session,
        volunteer_id=user.id,  # type: ignore[arg-type]
        today=today,
    )
    return render(
        request,
        "sessions/my_assignments.html",
        {
            "grouped": grouped,
            "today": today,
            "status_labels": STATUS_LABELS,
            "sent_back": review_service.sent_back_to(session=session, observer_id=user.id),  # type: ignore[arg-type]
            # Shown when the page comes from the phone's copy offline: "as of 09:12".
            "rendered_at": utcnow(),
        },
    )
