"""Calibration exercise pages: trainers make them and see the class; trainees see their own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.bounds import RowId
from app.calibration import exercises as exercises_service
from app.db import SessionDep
from app.deps import TrainerUser, VolunteerUser
from app.errors import NotFound
from app.i18n import gettext
from app.sessions import service as sessions_service
from app.templating import flash, render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form()]
Ids = Annotated[list[str], Form()]


def _list_page(
    request: Request,
    session: SessionDep,
    user: TrainerUser,
    form: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "calibration/list.html",
        {
            "rows": exercises_service.list_exercises(session=session),
            "references": exercises_service.reference_candidates(
                session=session,
                trainer_id=user.id,  # type: ignore[arg-type]
            ),
            "people": [
                p for p in sessions_service.assignable_people(session=session) if p.id != user.id
            ],
            "form": form or {},
            "errors": errors or {},
        },
        status_code=422 if errors else 200,
    )


@router.get("/exercises", name="calibration:list")
def exercise_list(request: Request, session: SessionDep, user: TrainerUser) -> Response:
    return _list_page(request, session, user)


@router.post("/exercises", name="calibration:create")
def exercise_create(
    request: Request,
    session: SessionDep,
    user: TrainerUser,
    title: Text = "",
    reference_observation_id: Text = "",
    trainee_ids: Ids = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    form = {
        "title": title,
        "reference_observation_id": reference_observation_id,
        "trainee_ids": trainee_ids,
    }
    try:
        exercise = exercises_service.create_exercise(
            session=session,
            title=title,
            reference_observation_id=reference_observation_id,
            trainee_ids=trainee_ids,
            trainer=user,
            ip_address=request.client.host if request.client else None,
        )
    except exercises_service.ExerciseInvalid as exc:
        return _list_page(request, session, user, form=form, errors=exc.fields)
    flash(request, gettext("Exercise made; the trainees have it in their assignments."), "success")
    return RedirectResponse(
        str(request.url_for("calibration:detail", exercise_id=exercise.id)), status_code=303
    )


@router.get("/exercises/{exercise_id}", name="calibration:detail")
def exercise_detail(
    request: Request, exercise_id: RowId, session: SessionDep, user: TrainerUser
) -> Response:
    view = exercises_service.exercise_view(session=session, exercise_id=exercise_id)
    invited = {a.trainee_id for a in view.attempts}
    return render(
        request,
        "calibration/detail.html",
        {
            "v": view,
            "people": [
                p
                for p in sessions_service.assignable_people(session=session)
                if p.id not in invited and p.id != view.exercise.created_by_id
            ],
        },
    )


@router.post("/exercises/{exercise_id}/invite", name="calibration:invite")
def exercise_invite(
    request: Request,
    exercise_id: RowId,
    session: SessionDep,
    user: TrainerUser,
    trainee_ids: Ids = [],  # noqa: B006
) -> Response:
    made = exercises_service.invite_more(
        session=session, exercise_id=exercise_id, trainee_ids=trainee_ids, trainer=user
    )
    flash(request, gettext("Invited %(num)s more.", num=len(made)), "success")
    return RedirectResponse(
        str(request.url_for("calibration:detail", exercise_id=exercise_id)), status_code=303
    )


@router.get("/my/exercises", name="calibration:mine")
def my_exercises(request: Request, session: SessionDep, user: VolunteerUser) -> Response:
    return render(
        request,
        "calibration/mine.html",
        {"rows": exercises_service.exercises_for_trainee(session=session, trainee_id=user.id)},  # type: ignore[arg-type]
    )


@router.get("/my/exercises/{exercise_id}", name="calibration:my_result")
def my_result(
    request: Request, exercise_id: RowId, session: SessionDep, user: VolunteerUser
) -> Response:
    if not exercises_service.is_invited(
        session=session,
        exercise_id=exercise_id,
        trainee_id=user.id,  # type: ignore[arg-type]
    ):
        raise NotFound(gettext("You have no such exercise."))
    view = exercises_service.exercise_view(
        session=session, exercise_id=exercise_id, only_trainee=user.id
    )
    return render(request, "calibration/result.html", {"v": view, "attempt": view.attempts[0]})
