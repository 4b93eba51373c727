"""Cases across hearings (staff only): the list, the search, one case."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.bounds import RowId
from app.cases import service as cases_service
from app.db import SessionDep
from app.deps import StaffUser
from app.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/cases", name="cases:list")
def cases_list(request: Request, session: SessionDep, user: StaffUser) -> Response:
    docket = (request.query_params.get("docket") or "").strip()
    errors: dict[str, str] = {}
    rows: list[cases_service.CaseRow] = []
    if docket:
        try:
            rows = cases_service.search_cases(session=session, docket=docket)
        except cases_service.CaseSearchInvalid as exc:
            errors = {e["loc"]: e["msg"] for e in exc.errors}
    else:
        rows = cases_service.cases_seen_more_than_once(session=session)
    return render(
        request,
        "cases/list.html",
        {"rows": rows, "docket": docket, "errors": errors, "limit": cases_service.LIST_LIMIT},
        status_code=422 if errors else 200,
    )


@router.get("/cases/{court_id}/{key}", name="cases:detail")
def case_detail(
    request: Request, court_id: RowId, key: str, session: SessionDep, user: StaffUser
) -> Response:
    page = cases_service.case_page(session=session, court_id=court_id, key=key)
    return render(request, "cases/detail.html", {"p": page})
