"""Observation sets and their exports (organizers and admins), and the JSON import."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlmodel import Session

from app.analysis.router import filter_choices
from app.bounds import RowId
from app.db import SessionDep
from app.deps import OrganizerUser
from app.exports import json_import
from app.exports import service as exports_service
from app.exports.csv_export import export_zip
from app.exports.json_export import export_json
from app.exports.models import ObservationSet
from app.exports.tabular import export_context
from app.exports.xlsx_export import export_xlsx
from app.observations.filters import HearingFilter
from app.templating import flash, render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form()]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "observations"


def _filename(observation_set: ObservationSet, ext: str) -> str:
    return f"{_slug(observation_set.name)}-{date.today().isoformat()}.{ext}"


def _download(
    body: Iterator[bytes], media_type: str, filename: str, *, compressed: bool = False
) -> StreamingResponse:
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    }
    if compressed:
        # Already a zip inside: keeps the app's gzip middleware from compressing it again.
        headers["Content-Encoding"] = "identity"
    return StreamingResponse(body, media_type=media_type, headers=headers)


def _sets_page(
    request: Request,
    session: SessionDep,
    form: dict[str, Any],
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "exports/sets.html",
        {
            "sets": exports_service.list_sets(session=session),
            "form": form,
            "errors": errors,
            "choices": filter_choices(session),
        },
        status_code=status_code,
    )


@router.get("/sets", name="exports:sets")
def sets_page(request: Request, session: SessionDep, user: OrganizerUser) -> Response:
    f, errors = HearingFilter.parse(dict(request.query_params))
    return _sets_page(request, session, f.to_params(), errors)


@router.post("/sets", name="exports:create_set")
async def create_set(request: Request, session: SessionDep, user: OrganizerUser) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    f, errors = HearingFilter.parse(form)
    values = {
        **f.to_params(),
        "name": form.get("name", ""),
        "description": form.get("description", ""),
    }
    if errors:
        return _sets_page(request, session, values, errors, status_code=422)
    try:
        created = exports_service.create_set(
            session=session,
            name=form.get("name", ""),
            description=form.get("description", ""),
            f=f,
            owner_id=user.id,  # type: ignore[arg-type]
        )
    except exports_service.SetInvalid as exc:
        field_errors = {e["loc"]: e["msg"] for e in exc.errors}
        return _sets_page(request, session, values, field_errors, status_code=422)
    flash(request, f"Set “{created.name}” saved.", "success")
    return RedirectResponse(str(request.url_for("exports:set", set_id=created.id)), status_code=303)


def _set_page(
    request: Request,
    session: Session,
    observation_set: ObservationSet,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    f = exports_service.set_filter(observation_set)
    choices = filter_choices(session)  # type: ignore[arg-type]
    labels = {
        "date_from": "From",
        "date_to": "To",
        "court_id": "Court",
        "courtroom": "Courtroom",
        "judge_id": "Judge",
        "calendar_type": "Calendar",
        "protocol_id": "Protocol",
        "protocol_version_id": "Protocol version",
        "observer_id": "Observer",
        "status": "Status",
    }
    summary = []
    for key, value in f.to_params().items():
        named = dict(choices.get(key, [])).get(value, value)
        summary.append((labels.get(key, key), named))
    return render(
        request,
        "exports/set.html",
        {
            "s": observation_set,
            "filter_summary": summary,
            "filter_params": f.to_params(),
            "counts": exports_service.count_set(session=session, f=f),
            "versions": exports_service.set_versions(session=session, f=f),
            "form": form
            or {"name": observation_set.name, "description": observation_set.description},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/sets/{set_id}", name="exports:set")
def set_page(request: Request, set_id: RowId, session: SessionDep, user: OrganizerUser) -> Response:
    observation_set = exports_service.get_set(session=session, set_id=set_id)
    return _set_page(request, session, observation_set)


@router.post("/sets/{set_id}", name="exports:update_set")
def update_set(
    request: Request,
    set_id: RowId,
    session: SessionDep,
    user: OrganizerUser,
    name: Text = "",
    description: Text = "",
) -> Response:
    observation_set = exports_service.get_set(session=session, set_id=set_id)
    try:
        exports_service.update_set(
            session=session, observation_set=observation_set, name=name, description=description
        )
    except exports_service.SetInvalid as exc:
        session.refresh(observation_set)
        return _set_page(
            request,
            session,
            observation_set,
            form={"name": name, "description": description},
            errors={e["loc"]: e["msg"] for e in exc.errors},
            status_code=422,
        )
    flash(request, "Set saved.", "success")
    return RedirectResponse(str(request.url_for("exports:set", set_id=set_id)), status_code=303)


@router.post("/sets/{set_id}/delete", name="exports:delete_set")
def delete_set(
    request: Request, set_id: RowId, session: SessionDep, user: OrganizerUser
) -> Response:
    observation_set = exports_service.get_set(session=session, set_id=set_id)
    name = observation_set.name
    exports_service.delete_set(session=session, observation_set=observation_set)
    flash(request, f"Set “{name}” deleted. Its observations are untouched.", "success")
    return RedirectResponse(str(request.url_for("exports:sets")), status_code=303)


def _prepare(request: Request, session: Session, set_id: RowId) -> tuple[ObservationSet, Any]:
    observation_set = exports_service.get_set(session=session, set_id=set_id)
    options = exports_service.ExportOptions.from_params(request.query_params)
    f = exports_service.set_filter(observation_set)
    ctx = export_context(
        session=session, f=f, options=options, secret=request.app.state.settings.secret_key
    )
    return observation_set, ctx


@router.get("/sets/{set_id}/export.zip", name="exports:csv")
def export_csv(
    request: Request, set_id: RowId, session: SessionDep, user: OrganizerUser
) -> Response:
    observation_set, ctx = _prepare(request, session, set_id)
    body = export_zip(request.app.state.engine.connect, ctx)
    return _download(body, "application/zip", _filename(observation_set, "zip"))


@router.get("/sets/{set_id}/export.xlsx", name="exports:xlsx")
def export_xlsx_file(
    request: Request, set_id: RowId, session: SessionDep, user: OrganizerUser
) -> Response:
    observation_set, ctx = _prepare(request, session, set_id)
    body = export_xlsx(request.app.state.engine.connect, ctx)
    return _download(
        body,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _filename(observation_set, "xlsx"),
        compressed=True,
    )


@router.get("/sets/{set_id}/export.json", name="exports:json")
def export_json_file(
    request: Request, set_id: RowId, session: SessionDep, user: OrganizerUser
) -> Response:
    observation_set, ctx = _prepare(request, session, set_id)
    engine = request.app.state.engine

    def body() -> Iterator[bytes]:
        with Session(engine, expire_on_commit=False) as read:
            yield from export_json(
                read,
                f=ctx.f,
                options=ctx.options,
                versions=list(ctx.versions.values()),
                observers=ctx.observers,
                set_name=observation_set.name,
            )

    return _download(body(), "application/json", _filename(observation_set, "json"))


@router.get("/import", name="exports:import_form")
def import_form(request: Request, user: OrganizerUser) -> Response:
    return render(request, "exports/import.html", {"errors": [], "result": None})


@router.post("/import", name="exports:import")
def import_upload(
    request: Request,
    session: SessionDep,
    user: OrganizerUser,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    if file is None or not file.filename:
        return render(
            request,
            "exports/import.html",
            {
                "errors": [{"loc": "file", "msg": "Choose a JSON export file to import."}],
                "result": None,
            },
            status_code=422,
        )
    raw = file.file.read(json_import.MAX_IMPORT_BYTES + 1)
    try:
        result = json_import.import_document(
            session=session,
            raw=raw,
            imported_by_id=user.id,
            secret=request.app.state.settings.secret_key,
        )
    except json_import.ImportRejected as exc:
        return render(
            request,
            "exports/import.html",
            {"errors": exc.errors, "message": exc.message, "result": None},
            status_code=422,
        )
    return render(request, "exports/import.html", {"errors": [], "result": result})
