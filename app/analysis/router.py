"""The comparison page for organizers and trainers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import col, select

from app.auth.models import User
from app.db import SessionDep
from app.deps import StaffUser
from app.exports.models import ObservationSet
from app.observations.filters import HearingFilter
from app.observations.models import Observation
from app.protocols.models import Protocol
from app.sessions import courts
from app.sessions.models import CalendarType, CourtSession
from app.templating import render

router = APIRouter(include_in_schema=False)


def filter_choices(session: SessionDep) -> dict[str, list[tuple[str, str]]]:
    """Options for the filter form, from what exists."""
    courtrooms = sorted(
        {r for r in session.exec(select(CourtSession.courtroom).distinct()).all() if r}
    )
    observers = session.exec(
        select(User.id, User.display_name)
        .where(col(User.id).in_(select(Observation.observer_id).distinct()))
        .order_by(User.display_name)
    ).all()
    return {
        "court_id": [(str(c.id), c.name) for c in courts.list_courts(session=session)],
        "judge_id": [(str(j.id), j.name) for j in courts.list_judges(session=session)],
        "courtroom": [(r, r) for r in courtrooms],
        "calendar_type": [(c.value, c.value.replace("_", " ").capitalize()) for c in CalendarType],
        "protocol_id": [
            (str(p.id), p.name)
            for p in session.exec(select(Protocol).order_by(Protocol.name)).all()
        ],
        "observer_id": [(str(i), n) for i, n in observers],
        "status": [("submitted", "Submitted"), ("draft", "Draft")],
    }


@router.get("/compare", name="analysis:compare")
def compare_page(request: Request, session: SessionDep, user: StaffUser) -> Response:
    from app.analysis import service as analysis_service

    params = dict(request.query_params)
    saved: ObservationSet | None = None
    set_error = None
    if params.get("set"):
        try:
            saved = session.get(ObservationSet, int(params["set"]))
        except ValueError:
            saved = None
        if saved is None:
            set_error = "There is no such observation set."
        else:
            params = {**saved.filters, **{k: v for k, v in params.items() if k != "set" and v}}
    f, errors = HearingFilter.parse(params)
    if set_error:
        errors["set"] = set_error
    breakdown_by = params.get("by", "judge")
    if breakdown_by not in analysis_service.BREAKDOWNS:
        errors["by"] = "Choose judge, courtroom, calendar type or month."
        breakdown_by = "judge"
    result = analysis_service.compare(session=session, f=f, breakdown_by=breakdown_by)
    sets = session.exec(select(ObservationSet).order_by(ObservationSet.name)).all()
    return render(
        request,
        "analysis/compare.html",
        {
            "c": result,
            "form": {**f.to_params(), "by": breakdown_by, "set": str(saved.id) if saved else ""},
            "errors": errors,
            "choices": filter_choices(session),
            "sets": sets,
            "set_options": [("", "— none —")] + [(str(s.id), s.name) for s in sets],
            "saved": saved,
            "breakdowns": analysis_service.BREAKDOWNS,
        },
        status_code=422 if errors else 200,
    )
