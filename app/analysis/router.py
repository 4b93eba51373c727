"""The comparison page for organizers and trainers."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import col, select

from app.audit.service import record_audit
from app.auth.models import Role, User
from app.auth.router import client_address
from app.db import SessionDep
from app.deps import StaffUser, TrainerUser
from app.errors import DomainError
from app.exports.models import ObservationSet
from app.observations.filters import HearingFilter
from app.observations.models import Observation
from app.protocols.models import Protocol
from app.sessions import courts
from app.sessions.models import CalendarType, CourtSession
from app.templating import flash, render

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
    candidates = []
    if result.agreement and user.role in (Role.trainer, Role.admin):
        candidates = analysis_service.reference_candidates(
            session=session, agreement=result.agreement
        )
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
            "candidates": candidates,
            "back": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        },
        status_code=422 if errors else 200,
    )


@router.post("/compare/reference", name="analysis:reference")
def mark_reference(
    request: Request,
    session: SessionDep,
    user: TrainerUser,
    observation_id: Annotated[str, Form()] = "",
    is_reference: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """A trainer marks an observation as the reference record (e.g. their own notes of a
    training video), or takes the mark off; agreement then compares each observer with it."""
    from app.analysis import service as analysis_service

    try:
        oid = uuid.UUID(observation_id.strip())
    except ValueError:
        raise DomainError(
            "Choose an observation.",
            errors=[{"loc": "observation_id", "msg": "Not an observation id."}],
            status_code=422,
        ) from None
    if is_reference not in ("0", "1"):
        raise DomainError(
            "Say whether it is the reference.",
            errors=[{"loc": "is_reference", "msg": "Use 1 (reference) or 0 (not)."}],
            status_code=422,
        )
    analysis_service.set_reference(
        session=session, observation_id=oid, is_reference=is_reference == "1"
    )
    record_audit(
        session,
        action="observation.reference_mark"
        if is_reference == "1"
        else "observation.reference_unmark",
        actor_id=user.id,
        target=f"observation:{oid}",
        ip_address=client_address(request),
        commit=True,
    )
    flash(
        request,
        "Marked as the reference." if is_reference == "1" else "No longer the reference.",
        "success",
    )
    target = back if back.startswith("/compare") and "//" not in back else None
    return RedirectResponse(target or str(request.url_for("analysis:compare")), status_code=303)
