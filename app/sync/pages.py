"""Importing a backup file from the capture page: what a phone could not sync, brought in by hand.

The file is the batch body the phone would have sent ({"observations": [...]}), so it goes
through the same checks as a sync: a volunteer imports their own records; an admin imports on
behalf of the observer they pick. Every record gets its own result, as in a sync.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import Response

from app.auth.models import Role, User
from app.bounds import INT32_MAX
from app.db import SessionDep
from app.deps import allow
from app.i18n import gettext
from app.json_input import JsonRefused, load_json
from app.sessions import service as sessions_service
from app.sync import service as sync_service
from app.templating import render

router = APIRouter(include_in_schema=False)

BackupUser = Annotated[User, Depends(allow(Role.volunteer, Role.trainer, Role.admin))]
MAX_BACKUP_BYTES = 20_000_000


def _page(
    request: Request,
    session: Any,
    user: User,
    *,
    errors: dict[str, str] | None = None,
    results: list[Any] | None = None,
    status_code: int = 200,
    chosen: str = "",
) -> Response:
    observers = (
        sessions_service.assignable_people(session=session) if user.role == Role.admin else []
    )
    return render(
        request,
        "sync/backup.html",
        {
            "errors": errors or {},
            "results": results,
            "observers": observers,
            "chosen": chosen,
        },
        status_code=status_code,
    )


@router.get("/backup", name="sync:backup")
def backup_page(request: Request, session: SessionDep, user: BackupUser) -> Response:
    return _page(request, session, user)


@router.post("/backup", name="sync:backup_import")
async def import_backup(
    request: Request,
    session: SessionDep,
    user: BackupUser,
    file: UploadFile | None = None,
    observer_id: Annotated[str, Form()] = "",
) -> Response:
    errors: dict[str, str] = {}
    owner = user
    if user.role == Role.admin:
        chosen = (
            session.get(User, int(observer_id))
            if observer_id.isascii() and observer_id.isdigit() and int(observer_id) <= INT32_MAX
            else None
        )
        if chosen is None or chosen.role not in (Role.volunteer, Role.trainer):
            errors["observer_id"] = gettext("Choose whose observations these are.")
        else:
            owner = chosen
    raw = await file.read(MAX_BACKUP_BYTES + 1) if file is not None else b""
    items: list[Any] = []
    if not raw:
        errors["file"] = gettext("Choose the backup file (courtwatch-backup-….json) to import.")
    elif len(raw) > MAX_BACKUP_BYTES:
        errors["file"] = gettext("The file is larger than 20 MB; this is not a Courtwatch backup.")
    else:
        try:
            data = load_json(raw)
        except JsonRefused as exc:
            errors["file"] = gettext(
                "This file is not a Courtwatch backup: it is %(reason)s.", reason=exc.reason
            )
        else:
            if not isinstance(data, dict) or not isinstance(data.get("observations"), list):
                errors["file"] = gettext(
                    "This file is not a Courtwatch backup: it holds no list of observations."
                )
            else:
                items = data["observations"]
                if not items:
                    errors["file"] = gettext("The backup holds no observations: nothing to import.")
    if errors:
        return _page(request, session, user, errors=errors, status_code=422, chosen=observer_id)
    results = sync_service.ingest_batch(session=session, user=owner, items=items)
    session.commit()
    status = 200 if all(r.result != "invalid" for r in results) else 422
    return _page(request, session, user, results=results, status_code=status, chosen=observer_id)
