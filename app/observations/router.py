"""Browsing what came back (staff): hearing and observation lists, one hearing, one observation."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.analysis.router import filter_choices
from app.db import SessionDep
from app.deps import StaffUser
from app.observations import browse
from app.observations.filters import HearingFilter
from app.templating import render

router = APIRouter(include_in_schema=False)


def _list_context(request: Request, session: SessionDep) -> tuple[HearingFilter, dict[str, Any]]:
    f, errors = HearingFilter.parse(dict(request.query_params))
    return f, {
        "form": f.to_params(),
        "errors": errors,
        "choices": filter_choices(session),
        "filter_query": urlencode(f.to_params()),
    }


@router.get("/hearings", name="observations:hearings")
def hearings_page(request: Request, session: SessionDep, user: StaffUser) -> Response:
    f, ctx = _list_context(request, session)
    page = browse.list_hearings(
        session=session, f=f, after=request.query_params.get("after"), limit=browse.PAGE_SIZE
    )
    return render(
        request,
        "observations/hearings.html",
        {**ctx, "page": page, "filter": f},
        status_code=422 if ctx["errors"] else 200,
    )


@router.get("/observations", name="observations:list")
def observations_page(request: Request, session: SessionDep, user: StaffUser) -> Response:
    f, ctx = _list_context(request, session)
    page = browse.list_observations(
        session=session, f=f, after=request.query_params.get("after"), limit=browse.PAGE_SIZE
    )
    return render(
        request,
        "observations/list.html",
        {**ctx, "page": page, "filter": f},
        status_code=422 if ctx["errors"] else 200,
    )


@router.get("/hearings/{hearing_id}", name="observations:hearing")
def hearing_detail(
    request: Request, hearing_id: uuid.UUID, session: SessionDep, user: StaffUser
) -> Response:
    page = browse.hearing_page(session=session, hearing_id=hearing_id)
    return render(request, "observations/hearing.html", {"p": page})


@router.get("/observations/{observation_id}", name="observations:detail")
def observation_detail(
    request: Request, observation_id: uuid.UUID, session: SessionDep, user: StaffUser
) -> Response:
    page = browse.observation_page(session=session, observation_id=observation_id)
    return render(request, "observations/detail.html", {"p": page})
