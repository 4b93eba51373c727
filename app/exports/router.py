"""Observation sets and their exports (organizers and admins), and the JSON import."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlmodel import Session

from app.analysis.router import filter_choices
from app.audit.service import record_audit
from app.auth.models import Role, User
from app.auth.router import client_address
from app.bounds import RowId
from app.db import SessionDep
from app.deps import OrganizerUser
from app.exports import jobs, json_import
from app.exports import service as exports_service
from app.exports.csv_export import export_zip
from app.exports.json_export import export_json
from app.exports.models import ObservationSet, PendingImport
from app.exports.tabular import export_context
from app.exports.xlsx_export import export_xlsx
from app.i18n import N_, gettext
from app.observations.filters import HearingFilter
from app.templating import flash, render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form()]


def _slug(text: str, *, ascii_only: bool) -> str:
    """The set's name as a file name: letters and digits (any script's, or ASCII ones for the
    fallback, accents dropped) joined by hyphens."""
    if ascii_only:
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        slug = re.sub(r"[^a-z0-9]+", "-", text.lower())
    else:
        slug = re.sub(r"[\W_]+", "-", unicodedata.normalize("NFC", text).lower())
    return slug.strip("-")[:60].strip("-") or "observations"


def _filenames(observation_set: ObservationSet, ext: str) -> tuple[str, str]:
    """(the file name in UTF-8, its ASCII fallback)."""
    today = date.today().isoformat()
    return tuple(  # type: ignore[return-value]
        f"{_slug(observation_set.name, ascii_only=plain)}-{today}.{ext}" for plain in (False, True)
    )


def _download(
    body: Iterator[bytes], media_type: str, filenames: tuple[str, str], *, compressed: bool = False
) -> StreamingResponse:
    utf8, fallback = filenames
    disposition = f'attachment; filename="{fallback}"'
    if utf8 != fallback:  # RFC 6266 / RFC 5987: browsers take filename* over filename
        disposition += f"; filename*=UTF-8''{quote(utf8, safe='')}"
    headers = {
        "Content-Disposition": disposition,
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
    flash(request, gettext("Set “%(name)s” saved.", name=created.name), "success")
    return RedirectResponse(str(request.url_for("exports:set", set_id=created.id)), status_code=303)


FILTER_LABELS = {
    "date_from": N_("From"),
    "date_to": N_("To"),
    "court_id": N_("Court"),
    "courtroom": N_("Courtroom"),
    "judge_id": N_("Judge"),
    "calendar_type": N_("Calendar"),
    "protocol_id": N_("Protocol"),
    "protocol_version_id": N_("Protocol version"),
    "observer_id": N_("Observer"),
    "status": N_("Status"),
}


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
    counts = exports_service.count_set(session=session, f=f)
    summary = []
    for key, value in f.to_params().items():
        named = dict(choices.get(key, [])).get(value, value)  # the filter form's own words
        summary.append((gettext(FILTER_LABELS[key]) if key in FILTER_LABELS else key, named))
    return render(
        request,
        "exports/set.html",
        {
            "s": observation_set,
            "filter_summary": summary,
            "filter_params": f.to_params(),
            "counts": counts,
            "streamed": counts.hearings <= request.app.state.settings.export_stream_max_hearings,
            "stream_max": request.app.state.settings.export_stream_max_hearings,
            "jobs": jobs.list_jobs(
                session=session, user=request.state.user, set_id=observation_set.id
            ),
            "formats": jobs.FORMATS,
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
    flash(request, gettext("Set saved."), "success")
    return RedirectResponse(str(request.url_for("exports:set", set_id=set_id)), status_code=303)


@router.post("/sets/{set_id}/delete", name="exports:delete_set")
def delete_set(
    request: Request, set_id: RowId, session: SessionDep, user: OrganizerUser
) -> Response:
    observation_set = exports_service.get_set(session=session, set_id=set_id)
    name = observation_set.name
    exports_service.delete_set(session=session, observation_set=observation_set)
    flash(
        request,
        gettext("Set “%(name)s” deleted. Its observations are untouched.", name=name),
        "success",
    )
    return RedirectResponse(str(request.url_for("exports:sets")), status_code=303)


def _prepare(
    request: Request, session: Session, set_id: RowId, *, user: User, export_format: str
) -> tuple[ObservationSet, Any]:
    """The set and its export context; the download is written to the audit log first."""
    observation_set = exports_service.get_set(session=session, set_id=set_id)
    options = exports_service.ExportOptions.from_params(request.query_params)
    f = exports_service.set_filter(observation_set)
    jobs.check_streamable(session=session, f=f, settings=request.app.state.settings)
    ctx = export_context(
        session=session, f=f, options=options, secret=request.app.state.settings.secret_key
    )
    record_audit(
        session,
        action="export.download",
        actor_id=user.id,
        target=f"observation_set:{observation_set.id}",
        detail={
            "format": export_format,
            "set_name": observation_set.name,
            "filters": f.to_params(),
            "options": {"free_text": options.free_text, "identities": options.identities},
        },
        ip_address=client_address(request),
        commit=True,
    )
    return observation_set, ctx


@router.get("/sets/{set_id}/export.zip", name="exports:csv")
def export_csv(
    request: Request, set_id: RowId, session: SessionDep, user: OrganizerUser
) -> Response:
    observation_set, ctx = _prepare(request, session, set_id, user=user, export_format="csv")
    body = export_zip(request.app.state.engine.connect, ctx)
    return _download(body, "application/zip", _filenames(observation_set, "zip"))


@router.get("/sets/{set_id}/export.xlsx", name="exports:xlsx")
def export_xlsx_file(
    request: Request, set_id: RowId, session: SessionDep, user: OrganizerUser
) -> Response:
    observation_set, ctx = _prepare(request, session, set_id, user=user, export_format="xlsx")
    body = export_xlsx(request.app.state.engine.connect, ctx)
    return _download(
        body,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _filenames(observation_set, "xlsx"),
        compressed=True,
    )


@router.get("/sets/{set_id}/export.json", name="exports:json")
def export_json_file(
    request: Request, set_id: RowId, session: SessionDep, user: OrganizerUser
) -> Response:
    observation_set, ctx = _prepare(request, session, set_id, user=user, export_format="json")
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

    return _download(body(), "application/json", _filenames(observation_set, "json"))


def _import_page(
    request: Request,
    *,
    errors: list[dict[str, str]] | None = None,
    message: str | None = None,
    plan: json_import.ImportPlan | None = None,
    pending: PendingImport | None = None,
    result: json_import.ImportResult | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "exports/import.html",
        {
            "errors": errors or [],
            "message": message,
            "plan": plan,
            "pending": pending,
            "result": result,
        },
        status_code=status_code,
    )


def _audit_import(
    request: Request, session: Session, *, action: str, user: User, pending: PendingImport,
    detail: dict[str, Any],
) -> None:  # fmt: skip
    record_audit(
        session,
        action=action,
        actor_id=user.id,
        target=f"pending_import:{pending.id}",
        detail={"file_name": pending.file_name, "size": pending.size, **detail},
        ip_address=client_address(request),
    )


def _mapped_refs(plan_doc_refs: list[str], form: Any) -> set[str]:
    """The observer references an admin ticked for mapping (by their index in the file)."""
    picked = set()
    for value in form.getlist("map"):
        if isinstance(value, str) and value.isdigit() and int(value) < len(plan_doc_refs):
            picked.add(plan_doc_refs[int(value)])
    return picked


@router.get("/import", name="exports:import_form")
def import_form(request: Request, user: OrganizerUser) -> Response:
    return _import_page(request)


@router.post("/import", name="exports:import")
def import_upload(
    request: Request,
    session: SessionDep,
    user: OrganizerUser,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Upload → preview: the file is checked and kept; nothing of it is stored yet."""
    if file is None or not file.filename:
        return _import_page(
            request,
            errors=[{"loc": "file", "msg": gettext("Choose a JSON export file to import.")}],
            status_code=422,
        )
    raw = file.file.read(json_import.MAX_IMPORT_BYTES + 1)
    try:
        plan = json_import.plan_import(
            session=session,
            raw=raw,
            secret=request.app.state.settings.secret_key,
            may_map_accounts=user.role == Role.admin,
        )
    except json_import.ImportRejected as exc:
        session.rollback()
        return _import_page(request, errors=exc.errors, message=exc.message, status_code=422)
    pending = json_import.hold_upload(
        session=session,
        user_id=user.id,  # type: ignore[arg-type]
        file_name=file.filename,
        raw=raw,
        ttl_seconds=request.app.state.settings.import_preview_ttl_seconds,
    )
    _audit_import(
        request, session, action="import.preview", user=user, pending=pending,
        detail={"counts": plan.counts, "observations": len(plan.entries)},
    )  # fmt: skip
    session.commit()
    return _import_page(request, plan=plan, pending=pending)


@router.post("/import/confirm", name="exports:import_confirm")
async def import_confirm(request: Request, session: SessionDep, user: OrganizerUser) -> Response:
    """Confirm → store: the file kept at preview (checked to be the same), planned again
    against the database as it is now, and stored in one transaction."""
    form = await request.form()
    token, sha256 = str(form.get("token", "")), str(form.get("sha256", ""))
    try:
        pending = json_import.held_upload(
            session=session,
            token=token,
            user_id=user.id,  # type: ignore[arg-type]
            sha256=sha256,
        )
        raw = pending.content
        refs = [o.ref for o in json_import.parse_document(raw).observers]
        plan = json_import.plan_import(
            session=session,
            raw=raw,
            secret=request.app.state.settings.secret_key,
            may_map_accounts=user.role == Role.admin,
            mapped=_mapped_refs(refs, form),
        )
        json_import.claim_upload(session=session, pending=pending)
    except (json_import.PreviewGone, json_import.ImportRejected) as exc:
        session.rollback()
        status = 404 if isinstance(exc, json_import.PreviewGone) else 422
        if not exc.errors:  # a preview that is gone: its reason is the one line shown
            return _import_page(
                request,
                errors=[{"loc": "", "msg": exc.message}],
                message=gettext("Nothing was stored."),
                status_code=status,
            )
        return _import_page(request, errors=exc.errors, message=exc.message, status_code=status)
    _audit_import(
        request, session, action="import.confirm", user=user, pending=pending,
        detail={
            "counts": plan.counts,
            "mapped_accounts": sorted(o.account.id for o in plan.observers if o.mapped and o.account),  # type: ignore[misc]
        },
    )  # fmt: skip
    result = json_import.apply_import(
        session=session,
        plan=plan,
        imported_by_id=user.id,  # type: ignore[arg-type]
        file_name=pending.file_name,
    )
    return _import_page(request, result=result, plan=plan)
