"""Browsing what came back (staff): hearing and observation lists, one hearing, one observation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.analysis.router import filter_choices
from app.cases import service as cases_service
from app.db import SessionDep
from app.deps import StaffUser
from app.observations import browse
from app.observations.filters import HearingFilter
from app.review import history as review_history
from app.review import service as review_service
from app.templating import render

router = APIRouter(include_in_schema=False)


def _list_page(
    request: Request, session: SessionDep, lister: Callable[..., browse.Page], template: str
) -> Response:
    """A filtered, paged list (422 with the fields named when the filter has bad values)."""
    f, errors = HearingFilter.parse(dict(request.query_params))
    page = lister(
        session=session, f=f, after=request.query_params.get("after"), limit=browse.PAGE_SIZE
    )
    return render(
        request,
        template,
        {
            "form": f.to_params(),
            "errors": errors,
            "choices": filter_choices(session),
            "filter_query": urlencode(f.to_params()),
            "page": page,
            "filter": f,
        },
        status_code=422 if errors else 200,
    )


@router.get("/hearings", name="observations:hearings")
def hearings_page(request: Request, session: SessionDep, user: StaffUser) -> Response:
    return _list_page(request, session, browse.list_hearings, "observations/hearings.html")


@router.get("/observations", name="observations:list")
def observations_page(request: Request, session: SessionDep, user: StaffUser) -> Response:
    return _list_page(request, session, browse.list_observations, "observations/list.html")


@router.get("/hearings/{hearing_id}", name="observations:hearing")
def hearing_detail(
    request: Request, hearing_id: uuid.UUID, session: SessionDep, user: StaffUser
) -> Response:
    page = browse.hearing_page(session=session, hearing_id=hearing_id)
    case = cases_service.case_of_hearing(session=session, hearing=page.hearing)
    changes = review_history.hearing_changes(
        session=session,
        observation_id=page.context.observation.id,
        hearing_id=hearing_id,
        definition=page.context.definition,
    )
    return render(
        request, "observations/hearing.html", {"p": page, "case": case, "changes": changes}
    )


@router.get("/observations/{observation_id}", name="observations:detail")
def observation_detail(
    request: Request, observation_id: uuid.UUID, session: SessionDep, user: StaffUser
) -> Response:
    page = browse.observation_page(session=session, observation_id=observation_id)
    return render(
        request,
        "observations/detail.html",
        {
            "p": page,
            "oid": observation_id,
            "review": review_service.review_of(session=session, observation_id=observation_id),
            "review_history": review_service.history(
                session=session, observation_id=observation_id
            ),
        },
    )
