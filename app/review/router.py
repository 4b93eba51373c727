"""The staff review queue and review decisions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.db import SessionDep
from app.deps import StaffUser
from app.i18n import gettext
from app.review import service as review_service
from app.review.models import REVIEW_LABELS
from app.templating import flash, render

router = APIRouter(include_in_schema=False)


@router.get("/review", name="review:queue")
def review_queue(request: Request, session: SessionDep, user: StaffUser) -> Response:
    f, errors = review_service.QueueFilter.parse(request.query_params)
    return render(
        request,
        "review/queue.html",
        {
            "rows": review_service.queue(session=session, f=f),
            "f": f,
            "form": dict(request.query_params),
            "errors": errors,
            "states": list(REVIEW_LABELS.items()),
            "capture_flags_available": bool(review_service.capture_flag_columns()),
            "limit": review_service.QUEUE_LIMIT,
        },
        status_code=422 if errors else 200,
    )


@router.post("/review/{observation_id}", name="review:decide")
def review_decide(
    request: Request,
    observation_id: uuid.UUID,
    session: SessionDep,
    user: StaffUser,
    state: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
) -> Response:
    review_service.set_review(
        session=session,
        observation_id=observation_id,
        state=state,
        comment=comment,
        reviewer=user,
        ip_address=request.client.host if request.client else None,
    )
    flash(
        request,
        gettext("Approved.")
        if state == "approved"
        else gettext("Sent back to the volunteer with your comment."),
        "success",
    )
    return RedirectResponse(
        str(request.url_for("observations:detail", observation_id=str(observation_id))),
        status_code=303,
    )
