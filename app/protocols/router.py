"""Trainer pages: protocols, versions, the draft editor, preview, publish/retire, JSON in/out."""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.audit.service import record_audit
from app.auth.models import User
from app.auth.router import client_address
from app.bounds import RowId
from app.db import SessionDep
from app.deps import TrainerUser
from app.i18n import N_, gettext
from app.protocols import editing
from app.protocols import service as protocol_service
from app.protocols.definition import load_default_protocol
from app.protocols.models import ProtocolVersion
from app.templating import flash, is_htmx, render

router = APIRouter(prefix="/protocols", include_in_schema=False)
MAX_UPLOAD_BYTES = 1_000_000


def _redirect(request: Request, name: str, **params: Any) -> Response:
    url = str(request.url_for(name, **params))
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _version_page(
    request: Request,
    session: SessionDep,
    version: ProtocolVersion,
    *,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
) -> Response:
    summary = protocol_service.get_protocol(session=session, protocol_id=version.protocol_id)
    previous = next((v for v in reversed(summary.versions) if v.version < version.version), None)
    return render(
        request,
        "protocols/version.html",
        {
            "summary": summary,
            "version": version,
            "definition": protocol_service.definition_of(version),
            "previous": previous,
            "errors": errors or [],
            "question_types": dict(editing.QUESTION_TYPES),
        },
        status_code=status_code,
    )


@router.get("", name="protocols:list")
def list_protocols(request: Request, session: SessionDep, user: TrainerUser) -> Response:
    return render(
        request,
        "protocols/list.html",
        {"protocols": protocol_service.list_protocols(session=session), "form": {}, "errors": {}},
    )


@router.post("", name="protocols:create")
def create_protocol(
    request: Request,
    session: SessionDep,
    user: TrainerUser,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    start_from: Annotated[str, Form()] = "blank",
) -> Response:
    definition = None
    if start_from == "default":
        definition = load_default_protocol()
        definition["title"] = name.strip() or definition["title"]
    try:
        version = protocol_service.create_protocol(
            session=session,
            name=name,
            description=description,
            definition=definition,
            created_by_id=user.id,
        )
    except protocol_service.DefinitionRejected as exc:
        form_errors = {e["loc"]: e["msg"] for e in exc.errors}
        return render(
            request,
            "protocols/list.html",
            {
                "protocols": protocol_service.list_protocols(session=session),
                "form": {"name": name, "description": description, "start_from": start_from},
                "errors": form_errors,
            },
            status_code=422,
        )
    flash(
        request,
        gettext(
            "Created “%(name)s” as a draft. Add questions, preview, then publish.",
            name=name.strip(),
        ),
        "success",
    )
    return _redirect(request, "protocols:version", version_id=version.id)


@router.post("/import", name="protocols:import")
async def import_protocol(
    request: Request,
    session: SessionDep,
    user: TrainerUser,
    file: UploadFile | None = None,
    document: Annotated[str, Form(max_length=MAX_UPLOAD_BYTES + 1)] = "",
    replace_draft: Annotated[str, Form()] = "",
) -> Response:
    """Upload a protocol JSON. When its protocol has an open draft, the trainer is asked
    first; their answer comes back with the document itself (`document`, `replace_draft`)."""
    raw = await file.read(MAX_UPLOAD_BYTES + 1) if file is not None else b""
    if not raw and document:
        raw = document.encode()
    filename = file.filename if file is not None and file.filename else "The file"
    problems: list[dict[str, str]] = []
    if not raw:
        problems = [{"loc": "file", "msg": gettext("Choose a protocol JSON file to upload.")}]
    elif len(raw) > MAX_UPLOAD_BYTES:
        problems = [
            {
                "loc": "file",
                "msg": gettext("The file is larger than 1 MB; a protocol is much smaller."),
            }
        ]
    if not problems:
        notes: list[str] = []
        try:
            if raw[:4] == b"PK\x03\x04":  # a zip: an XLSForm workbook
                version, notes = protocol_service.import_xlsform(
                    session=session,
                    raw=raw,
                    created_by_id=user.id,
                    replace_draft=replace_draft == "1",
                )
            else:
                version = protocol_service.import_document(
                    session=session,
                    raw=raw,
                    created_by_id=user.id,
                    replace_draft=replace_draft == "1",
                )
        except protocol_service.DefinitionRejected as exc:
            problems = exc.errors
        except protocol_service.DraftOpen as exc:
            return render(
                request,
                "protocols/import_draft_open.html",
                {
                    "message": exc.message,
                    "draft": exc.draft,
                    "name": exc.name,
                    # an XLSForm comes back as the definition it was read into
                    "document": exc.document or raw.decode("utf-8-sig"),
                    "filename": filename,
                },
                status_code=409,
            )
        else:
            flash(
                request,
                gettext("Uploaded as draft version %(version)s.", version=version.version),
                "success",
            )
            if notes:
                flash(
                    request, gettext("Not kept from the workbook:") + " " + " ".join(notes), "info"
                )
            return _redirect(request, "protocols:version", version_id=version.id)
    return render(
        request,
        "protocols/import_errors.html",
        {"problems": problems, "filename": filename},
        status_code=422,
    )


@router.get("/{protocol_id}", name="protocols:detail")
def protocol_detail(
    request: Request, session: SessionDep, user: TrainerUser, protocol_id: RowId
) -> Response:
    summary = protocol_service.get_protocol(session=session, protocol_id=protocol_id)
    return _redirect(request, "protocols:version", version_id=summary.latest.id)


@router.get("/versions/{version_id}", name="protocols:version")
def version_page(
    request: Request, session: SessionDep, user: TrainerUser, version_id: RowId
) -> Response:
    return _version_page(
        request, session, protocol_service.get_version(session=session, version_id=version_id)
    )


@router.get("/versions/{version_id}/preview", name="protocols:preview")
def preview(
    request: Request, session: SessionDep, user: TrainerUser, version_id: RowId
) -> Response:
    version = protocol_service.get_version(session=session, version_id=version_id)
    summary = protocol_service.get_protocol(session=session, protocol_id=version.protocol_id)
    return render(
        request,
        "protocols/preview.html",
        {"summary": summary, "version": version, "definition_json": json.dumps(version.definition)},
    )


@router.get("/versions/{version_id}/export.json", name="protocols:export")
def export_json(
    request: Request, session: SessionDep, user: TrainerUser, version_id: RowId
) -> Response:
    version = protocol_service.get_version(session=session, version_id=version_id)
    summary = protocol_service.get_protocol(session=session, protocol_id=version.protocol_id)
    doc = protocol_service.export_document(protocol=summary.protocol, version=version)
    filename = f"{editing.slugify(summary.protocol.name) or 'protocol'}-v{version.version}.json"
    return Response(
        json.dumps(doc, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/versions/{version_id}/export.xlsx", name="protocols:export_xlsform")
def export_xlsform(
    request: Request, session: SessionDep, user: TrainerUser, version_id: RowId
) -> Response:
    version = protocol_service.get_version(session=session, version_id=version_id)
    summary = protocol_service.get_protocol(session=session, protocol_id=version.protocol_id)
    raw = protocol_service.export_xlsform(protocol=summary.protocol, version=version)
    filename = f"{editing.slugify(summary.protocol.name) or 'protocol'}-v{version.version}.xlsx"
    return Response(
        raw,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/versions/{version_id}/diff", name="protocols:diff")
def diff_page(
    request: Request,
    session: SessionDep,
    user: TrainerUser,
    version_id: RowId,
    against: RowId | None = None,
) -> Response:
    version = protocol_service.get_version(session=session, version_id=version_id)
    summary = protocol_service.get_protocol(session=session, protocol_id=version.protocol_id)
    others = [v for v in summary.versions if v.id != version.id]
    if against is None:
        earlier = [v for v in others if v.version < version.version]
        base = earlier[-1] if earlier else (others[0] if others else None)
    else:
        base = next((v for v in others if v.id == against), None)
        if base is None:
            from app.errors import DomainError

            raise DomainError("Compare with another version of the same protocol.", status_code=422)
    changes = protocol_service.diff(old=base, new=version) if base else None
    return render(
        request,
        "protocols/diff.html",
        {
            "summary": summary,
            "version": version,
            "base": base,
            "others": others,
            "changes": changes,
        },
    )


# --- life cycle ----------------------------------------------------------------------------


def _audit_life_cycle(
    request: Request, session: Session, user: User, version: ProtocolVersion, *, action: str,
    was: str,
) -> None:  # fmt: skip
    record_audit(
        session,
        action=action,
        actor_id=user.id,
        target=f"protocol_version:{version.id}",
        detail={"protocol_id": version.protocol_id, "version": version.version, "from": was},
        ip_address=client_address(request),
        commit=True,
    )


@router.post("/versions/{version_id}/publish", name="protocols:publish")
def publish(
    request: Request, session: SessionDep, user: TrainerUser, version_id: RowId
) -> Response:
    version = protocol_service.get_version(session=session, version_id=version_id)
    was = version.status
    version = protocol_service.publish(session=session, version=version)
    _audit_life_cycle(request, session, user, version, action="protocol.publish", was=was)
    flash(
        request,
        gettext(
            "Version %(version)s is published: it can be assigned and will never change.",
            version=version.version,
        ),
        "success",
    )
    return _redirect(request, "protocols:version", version_id=version.id)


@router.post("/versions/{version_id}/retire", name="protocols:retire")
def retire(request: Request, session: SessionDep, user: TrainerUser, version_id: RowId) -> Response:
    version = protocol_service.retire(
        session=session,
        version=protocol_service.get_version(session=session, version_id=version_id),
    )
    _audit_life_cycle(request, session, user, version, action="protocol.retire", was="published")
    flash(
        request,
        gettext(
            "Version %(version)s is retired: no new assignments use it.", version=version.version
        ),
        "info",
    )
    return _redirect(request, "protocols:version", version_id=version.id)


@router.post("/versions/{version_id}/new-draft", name="protocols:new_draft")
def new_draft(
    request: Request, session: SessionDep, user: TrainerUser, version_id: RowId
) -> Response:
    source = protocol_service.get_version(session=session, version_id=version_id)
    draft = protocol_service.new_draft(session=session, version=source, created_by_id=user.id)
    flash(request, gettext("Editing draft version %(version)s.", version=draft.version), "info")
    return _redirect(request, "protocols:version", version_id=draft.id)


@router.post("/versions/{version_id}/discard", name="protocols:discard")
def discard(
    request: Request, session: SessionDep, user: TrainerUser, version_id: RowId
) -> Response:
    version = protocol_service.get_version(session=session, version_id=version_id)
    protocol_id = version.protocol_id
    protocol_service.discard_draft(session=session, version=version)
    flash(request, gettext("Draft discarded."), "info")
    remaining = [
        s for s in protocol_service.list_protocols(session=session) if s.protocol.id == protocol_id
    ]
    if remaining:
        return _redirect(request, "protocols:version", version_id=remaining[0].latest.id)
    return _redirect(request, "protocols:list")


# --- the draft editor ------------------------------------------------------------------------


def _apply(
    request: Request, session: SessionDep, version_id: RowId, change: editing.Change, done: str
) -> Response:
    version = protocol_service.get_version(session=session, version_id=version_id)
    try:
        protocol_service.update_definition(session=session, version=version, change=change)
    except protocol_service.DefinitionRejected as exc:
        return _version_page(request, session, version, status_code=422, errors=exc.errors)
    except editing.FormProblems as exc:
        errors = [{"loc": k, "msg": v} for k, v in exc.errors.items()]
        return _version_page(request, session, version, status_code=422, errors=errors)
    flash(request, gettext(done), "success")
    return _redirect(request, "protocols:version", version_id=version.id)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post("/versions/{version_id}/sections", name="protocols:section_add")
async def add_section(
    request: Request, session: SessionDep, user: TrainerUser, version_id: RowId
) -> Response:
    form = await _form(request)
    try:
        change = editing.add_section(form)
    except editing.FormProblems as exc:
        version = protocol_service.get_version(session=session, version_id=version_id)
        return _version_page(
            request,
            session,
            version,
            status_code=422,
            errors=[{"loc": f"section.{k}", "msg": v} for k, v in exc.errors.items()],
        )
    return _apply(request, session, version_id, change, N_("Section added."))


@router.post("/versions/{version_id}/sections/{section_key}", name="protocols:section_update")
async def update_section(
    request: Request, session: SessionDep, user: TrainerUser, version_id: RowId, section_key: str
) -> Response:
    form = await _form(request)
    try:
        change = editing.update_section(section_key, form)
    except editing.FormProblems as exc:
        version = protocol_service.get_version(session=session, version_id=version_id)
        return _version_page(
            request,
            session,
            version,
            status_code=422,
            errors=[{"loc": f"{section_key}.{k}", "msg": v} for k, v in exc.errors.items()],
        )
    return _apply(request, session, version_id, change, N_("Section saved."))


@router.post(
    "/versions/{version_id}/sections/{section_key}/delete", name="protocols:section_delete"
)
def delete_section(
    request: Request, session: SessionDep, user: TrainerUser, version_id: RowId, section_key: str
) -> Response:
    return _apply(
        request, session, version_id, editing.remove_section(section_key), N_("Section removed.")
    )


@router.post("/versions/{version_id}/sections/{section_key}/move", name="protocols:section_move")
def move_section(
    request: Request,
    session: SessionDep,
    user: TrainerUser,
    version_id: RowId,
    section_key: str,
    direction: Annotated[str, Form()] = "down",
) -> Response:
    return _apply(
        request,
        session,
        version_id,
        editing.move_section(section_key, -1 if direction == "up" else 1),
        N_("Section moved."),
    )


def _question_form_page(
    request: Request,
    session: SessionDep,
    version: ProtocolVersion,
    *,
    section_key: str,
    question_key: str | None,
    form: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    definition = protocol_service.definition_of(version)
    # show_if may only point at questions before this one.
    earlier = []
    for q in definition.questions():
        if q.key == question_key:
            break
        earlier.append(q)
    return render(
        request,
        "protocols/question_form.html",
        {
            "version": version,
            "section_key": section_key,
            "question_key": question_key,
            "form": form,
            "errors": errors,
            "question_types": editing.QUESTION_TYPES,
            "tags": editing.TAGS,
            "show_if_options": [("", "— always show —")]
            + [(q.key, f"{q.label} ({q.key})") for q in earlier],
        },
        status_code=status_code,
    )


@router.get(
    "/versions/{version_id}/sections/{section_key}/questions/new", name="protocols:question_new"
)
def new_question(
    request: Request, session: SessionDep, user: TrainerUser, version_id: RowId, section_key: str
) -> Response:
    version = protocol_service.get_version(session=session, version_id=version_id)
    return _question_form_page(
        request,
        session,
        version,
        section_key=section_key,
        question_key=None,
        form={"type": "yes_no", "tags": []},
        errors={},
    )


@router.get("/versions/{version_id}/questions/{question_key}", name="protocols:question_edit")
def edit_question(
    request: Request, session: SessionDep, user: TrainerUser, version_id: RowId, question_key: str
) -> Response:
    version = protocol_service.get_version(session=session, version_id=version_id)
    try:
        section, index = editing._find_question(version.definition, question_key)
    except editing.FormProblems:
        from app.errors import NotFound

        raise NotFound(gettext("There is no such question in this version.")) from None
    return _question_form_page(
        request,
        session,
        version,
        section_key=section["key"],
        question_key=question_key,
        form=editing.question_form_values(section["questions"][index]),
        errors={},
    )


async def _save_question(
    request: Request,
    session: SessionDep,
    version_id: RowId,
    section_key: str,
    question_key: str | None,
) -> Response:
    version = protocol_service.get_version(session=session, version_id=version_id)
    raw = await request.form()
    form = {k: v for k, v in raw.items() if isinstance(v, str) and k != "tags"}
    tags = [t for t in raw.getlist("tags") if isinstance(t, str)]
    shown = {**form, "tags": tags, "required": form.get("required") in ("on", "true", "1")}
    try:
        targets = {q.key: q.type for q in protocol_service.definition_of(version).questions()}
        question = editing.question_fields(form, tags, targets)
        change = (
            editing.update_question(question_key, question)
            if question_key
            else editing.add_question(section_key, question)
        )
        protocol_service.update_definition(session=session, version=version, change=change)
    except editing.FormProblems as exc:
        return _question_form_page(
            request,
            session,
            version,
            section_key=section_key,
            question_key=question_key,
            form=shown,
            errors=exc.errors,
            status_code=422,
        )
    except protocol_service.DefinitionRejected as exc:
        attempted = copy.deepcopy(version.definition)
        with contextlib.suppress(editing.FormProblems):
            change(attempted)
        errors = editing.errors_for_question(exc.errors, attempted, question["key"])
        return _question_form_page(
            request,
            session,
            version,
            section_key=section_key,
            question_key=question_key,
            form=shown,
            errors=errors,
            status_code=422,
        )
    flash(request, gettext("Question saved."), "success")
    return _redirect(request, "protocols:version", version_id=version.id)


@router.post(
    "/versions/{version_id}/sections/{section_key}/questions", name="protocols:question_add"
)
async def add_question(
    request: Request, session: SessionDep, user: TrainerUser, version_id: RowId, section_key: str
) -> Response:
    return await _save_question(request, session, version_id, section_key, None)


@router.post("/versions/{version_id}/questions/{question_key}", name="protocols:question_update")
async def update_question(
    request: Request, session: SessionDep, user: TrainerUser, version_id: RowId, question_key: str
) -> Response:
    version = protocol_service.get_version(session=session, version_id=version_id)
    try:
        section, _ = editing._find_question(version.definition, question_key)
    except editing.FormProblems:
        from app.errors import NotFound

        raise NotFound(gettext("There is no such question in this version.")) from None
    return await _save_question(request, session, version_id, section["key"], question_key)


@router.post(
    "/versions/{version_id}/questions/{question_key}/delete", name="protocols:question_delete"
)
def delete_question(
    request: Request, session: SessionDep, user: TrainerUser, version_id: RowId, question_key: str
) -> Response:
    return _apply(
        request, session, version_id, editing.remove_question(question_key), N_("Question removed.")
    )


@router.post("/versions/{version_id}/questions/{question_key}/move", name="protocols:question_move")
def move_question(
    request: Request,
    session: SessionDep,
    user: TrainerUser,
    version_id: RowId,
    question_key: str,
    direction: Annotated[str, Form()] = "down",
) -> Response:
    return _apply(
        request,
        session,
        version_id,
        editing.move_question(question_key, -1 if direction == "up" else 1),
        N_("Question moved."),
    )
