"""The audit log page: entries newest first, filtered by action, actor, target and dates."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.audit.schemas import AuditFilter
from app.audit.service import list_audit, list_audit_actions
from app.auth import service as auth_service
from app.db import SessionDep
from app.deps import AdminUser
from app.templating import render

router = APIRouter()

PAGE_SIZE = 50


@router.get("/audit", name="admin:audit")
def audit_log(request: Request, session: SessionDep, user: AdminUser) -> Response:
    audit_filter, errors = AuditFilter.parse(dict(request.query_params))
    rows = list_audit(
        session,
        action=audit_filter.action,
        actor_id=audit_filter.actor_id,
        target=audit_filter.target,
        since=audit_filter.since,
        until=audit_filter.until,
        limit=PAGE_SIZE + 1,
        offset=(audit_filter.page - 1) * PAGE_SIZE,
    )
    users = auth_service.list_users(session=session)
    page = audit_filter.page

    def page_url(number: int) -> str:
        query = urlencode(audit_filter.to_params(page=number))
        return str(request.url_for("admin:audit")) + (f"?{query}" if query else "")

    return render(
        request,
        "admin/audit.html",
        {
            "entries": rows[:PAGE_SIZE],
            "names": {u.id: u.display_name for u in users},
            "actor_choices": [(str(u.id), f"{u.display_name} ({u.email})") for u in users],
            "action_choices": [(a, a) for a in list_audit_actions(session)],
            "form": {k: v for k, v in dict(request.query_params).items() if k not in errors},
            "errors": errors,
            "page": page,
            "previous_url": page_url(page - 1) if page > 1 else None,
            "next_url": page_url(page + 1) if len(rows) > PAGE_SIZE else None,
        },
        status_code=422 if errors else 200,
    )
