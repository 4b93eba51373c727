"""GET /api/v1/compare: every figure of the comparison page as JSON, with the same query
parameters as /compare (described in the OpenAPI document), for analysts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from app.analysis import report
from app.analysis.router import compare_figures, read_compare_query
from app.bounds import QueryDay, QueryText, RowId
from app.db import SessionDep
from app.deps import StaffUser
from app.errors import DomainError, NotFound
from app.i18n import gettext

router = APIRouter(prefix="/api/v1", tags=["findings"])


class RateOut(BaseModel):
    count: int
    n: int
    rate: float | None
    ci95: list[float] | None
    not_observed: int
    unanswered: int | None
    too_few: bool


class GapOut(RateOut):
    key: str
    label: str
    tag: str


class CompareOut(BaseModel):
    """The comparison's figures; rates follow the rules of the report's method section."""

    filter: dict[str, str]
    options: dict[str, str]
    min_n: int
    hearings: int
    headlines: list[str]
    who_speaks: dict[str, Any]
    who_decides: list[dict[str, Any]]
    what_happens: list[dict[str, Any]]
    numbers: list[dict[str, Any]]
    gaps: list[GapOut]
    gap_matrix: dict[str, Any]
    patterns: dict[str, Any]
    breakdown: dict[str, Any]
    agreement: dict[str, Any] | None
    trend: dict[str, Any] | None
    before_after: dict[str, Any] | None


@router.get("/compare", name="api:compare", response_model=CompareOut)
def compare_json(
    request: Request,
    session: SessionDep,
    user: StaffUser,
    set: Annotated[RowId | None, Query(description="a saved observation set's id")] = None,
    date_from: QueryDay | None = None,
    date_to: QueryDay | None = None,
    court_id: RowId | None = None,
    courtroom: QueryText | None = None,
    judge_id: RowId | None = None,
    calendar_type: QueryText | None = None,
    protocol_id: RowId | None = None,
    protocol_version_id: RowId | None = None,
    observer_id: RowId | None = None,
    status: Annotated[
        Literal["draft", "submitted"] | None,
        Query(description="submitted (the default) or draft"),
    ] = None,
    by: Literal["judge", "courtroom", "calendar_type", "month"] = "judge",
    sort: Annotated[
        QueryText | None, Query(description="a gap question key: sort the matrices")
    ] = None,
    question: Annotated[QueryText | None, Query(description="the trend's question key")] = None,
    trend_by: Literal["judge", "courtroom"] = "judge",
    on: Annotated[
        QueryDay | None, Query(description="before/after: 'after' starts this day")
    ] = None,
) -> dict[str, Any]:
    """The same figures as the /compare page, read from the same query parameters."""
    f, options, _, errors = read_compare_query(request, session)
    if "set" in errors:  # a saved set that is not there (ids are well-formed by the schema)
        raise NotFound(errors["set"])
    if errors:
        raise DomainError(
            gettext("Some parameters were not understood."),
            errors=[{"loc": k, "msg": v} for k, v in errors.items()],
            status_code=422,
        )
    return report.comparison_json(compare_figures(request, session, f, options))
