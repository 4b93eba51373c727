"""Background exports: request one, watch its progress, download its file."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from app.audit.service import record_audit
from app.bounds import RowId
from app.db import SessionDep
from app.deps import OrganizerUser
from app.exports import jobs
from app.exports import service as exports_service
from app.exports.models import ExportJobState
from app.i18n import gettext
from app.templating import flash, is_htmx, render

router = APIRouter(include_in_schema=False)


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post("/sets/{set_id}/exports", name="exports:request_job")
async def request_job(
    request: Request, set_id: RowId, session: SessionDep, user: OrganizerUser
) -> Response:
    observation_set = exports_service.get_set(session=session, set_id=set_id)
    form = await request.form()
    fmt = str(form.get("format", ""))
    options = exports_service.ExportOptions.from_params(form)
    job = jobs.request_export(
        session=session,
        observation_set=observation_set,
        format=fmt,
        options=options,
        requested_by=user,
    )
    record_audit(
        session,
        action="export.request",
        actor_id=user.id,
        target=f"observation_set:{set_id}",
        detail={"format": fmt, "job": job.id, **options.to_params()},
        ip_address=_client_ip(request),
    )
    session.commit()
    return RedirectResponse(str(request.url_for("exports:job", job_id=job.id)), status_code=303)


@router.get("/exports/{job_id}", name="exports:job")
def job_page(request: Request, job_id: RowId, session: SessionDep, user: OrganizerUser) -> Response:
    job = jobs.get_job(session=session, job_id=job_id, user=user)
    template = "exports/_job.html" if is_htmx(request) else "exports/job.html"
    return render(
        request,
        template,
        {"job": job, "formats": jobs.FORMATS, "shown_error": jobs.shown_error},
    )


@router.get("/exports/{job_id}/download", name="exports:job_download")
def job_download(
    request: Request, job_id: RowId, session: SessionDep, user: OrganizerUser
) -> Response:
    job = jobs.get_job(session=session, job_id=job_id, user=user)
    if job.state in (ExportJobState.queued, ExportJobState.running):
        flash(request, gettext("This export is not ready yet."), "info")
        return RedirectResponse(str(request.url_for("exports:job", job_id=job_id)), 303)
    path = jobs.download_path(job=job)
    record_audit(
        session,
        action="export.download",
        actor_id=user.id,
        target=f"observation_set:{job.set_id}",
        detail={"format": job.format, "job": job.id, "bytes": job.file_bytes, **job.options},
        ip_address=_client_ip(request),
        commit=True,
    )
    fmt = jobs.FORMATS[job.format]
    return FileResponse(
        path,
        media_type=fmt.media_type,
        filename=job.file_name or path.name,
        headers={"Cache-Control": "no-store", "Content-Encoding": "identity"},
    )
