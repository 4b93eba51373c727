"""Account management for admins: accounts, their sessions, the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from app.admin.audit_page import router as audit_router
from app.auth import service as auth_service
from app.auth import sign_in_sessions
from app.auth.exceptions import DuplicateEmail, SelfLockout, WeakPassword
from app.auth.models import Role, User
from app.auth.schemas import UserCreate, UserUpdate
from app.auth.session_middleware import session_state
from app.bounds import RowId
from app.config import Settings
from app.db import SessionDep
from app.deps import AdminUser, SettingsDep
from app.errors import NotFound
from app.forms import field_errors
from app.i18n import gettext, ngettext
from app.proxies import client_address
from app.templating import flash, render

router = APIRouter(prefix="/admin", include_in_schema=False)
router.include_router(audit_router)


def _user_form(
    request: Request,
    *,
    session: Session,
    settings: Settings,
    form: dict[str, object],
    errors: dict[str, str],
    edited: User | None,
    status_code: int = 200,
) -> Response:
    """The account form; for an existing account, with its live sessions."""
    sessions = (
        sign_in_sessions.list_live_for_user(session=session, settings=settings, user_id=edited.id)
        if edited is not None and edited.id is not None
        else []
    )
    return render(
        request,
        "admin/user_form.html",
        {
            "form": form,
            "errors": errors,
            "edited": edited,
            "sessions": sessions,
            "current_session_id": session_state(request).record_id,
        },
        status_code=status_code,
    )


def _edited_or_404(session: Session, user_id: RowId) -> User:
    edited = auth_service.get(session=session, user_id=user_id)
    if edited is None:
        raise NotFound(gettext("There is no such account."))
    return edited


@router.get("/users", name="admin:users")
def list_users(request: Request, session: SessionDep, user: AdminUser) -> Response:
    return render(request, "admin/users.html", {"users": auth_service.list_users(session=session)})


@router.get("/users/new", name="admin:user_new")
def new_user(
    request: Request, session: SessionDep, settings: SettingsDep, user: AdminUser
) -> Response:
    form: dict[str, object] = {"role": Role.volunteer.value}
    return _user_form(
        request, session=session, settings=settings, form=form, errors={}, edited=None
    )


@router.post("/users/new", name="admin:user_create")
def create_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: AdminUser,
    email: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    form: dict[str, object] = {"email": email, "display_name": display_name, "role": role}
    errors: dict[str, str]
    try:
        data = UserCreate(
            email=email.strip(), display_name=display_name, role=role, password=password
        )  # type: ignore[arg-type]
        created = auth_service.create_user(
            session=session,
            settings=settings,
            data=data,
            acting_user=user,
            ip_address=client_address(request),
        )
    except ValidationError as exc:
        errors, status_code = field_errors(exc), 422
    except WeakPassword as exc:
        errors, status_code = {exc.field: str(exc)}, 422
    except DuplicateEmail as exc:
        errors, status_code = {"email": str(exc)}, 409
    else:
        flash(
            request, gettext("Account created for %(name)s.", name=created.display_name), "success"
        )
        return RedirectResponse(request.url_for("admin:users"), status_code=303)
    return _user_form(
        request,
        session=session,
        settings=settings,
        form=form,
        errors=errors,
        edited=None,
        status_code=status_code,
    )


@router.get("/users/{user_id}", name="admin:user_edit")
def edit_user(
    request: Request, session: SessionDep, settings: SettingsDep, user: AdminUser, user_id: RowId
) -> Response:
    edited = _edited_or_404(session, user_id)
    form: dict[str, object] = {
        "email": edited.email,
        "display_name": edited.display_name,
        "role": edited.role,
        "is_active": edited.is_active,
    }
    return _user_form(
        request, session=session, settings=settings, form=form, errors={}, edited=edited
    )


@router.post("/users/{user_id}", name="admin:user_update")
def update_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: AdminUser,
    user_id: RowId,
    email: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    is_active: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    edited = _edited_or_404(session, user_id)
    active = is_active in ("on", "true", "1")
    form: dict[str, object] = {
        "email": email,
        "display_name": display_name,
        "role": role,
        "is_active": active,
    }
    errors: dict[str, str]
    try:
        data = UserUpdate(
            email=email.strip(),
            display_name=display_name,
            role=role,
            is_active=active,
            password=password,
        )  # type: ignore[arg-type]
        auth_service.update_user(
            session=session,
            settings=settings,
            user=edited,
            data=data,
            acting_user=user,
            ip_address=client_address(request),
        )
    except ValidationError as exc:
        errors, status_code = field_errors(exc), 422
    except WeakPassword as exc:
        errors, status_code = {exc.field: str(exc)}, 422
    except DuplicateEmail as exc:
        errors, status_code = {"email": str(exc)}, 409
    except SelfLockout as exc:
        errors, status_code = {"__all__": str(exc)}, 409
    else:
        flash(request, gettext("Saved %(name)s.", name=edited.display_name), "success")
        return RedirectResponse(request.url_for("admin:users"), status_code=303)
    session.rollback()
    session.refresh(edited)
    return _user_form(
        request,
        session=session,
        settings=settings,
        form=form,
        errors=errors,
        edited=edited,
        status_code=status_code,
    )


def _end_sessions(
    request: Request,
    *,
    session: Session,
    settings: Settings,
    acting_user: User,
    user_id: RowId,
    session_id: RowId | None,
) -> Response:
    edited = _edited_or_404(session, user_id)
    ended = auth_service.end_sessions_by_admin(
        session=session,
        settings=settings,
        user=edited,
        acting_user=acting_user,
        session_id=session_id,
        ip_address=client_address(request),
    )
    if ended:
        ended_message = ngettext(
            "Ended %(num)s session of %(name)s.", "Ended %(num)s sessions of %(name)s.", ended
        )
        flash(request, ended_message % {"num": ended, "name": edited.display_name}, "success")
    else:
        flash(request, gettext("That session had already ended."), "info")
    return RedirectResponse(
        str(request.url_for("admin:user_edit", user_id=user_id)) + "#sessions", status_code=303
    )


@router.post("/users/{user_id}/sessions/end-all", name="admin:user_sessions_end_all")
def end_all_sessions(
    request: Request, session: SessionDep, settings: SettingsDep, user: AdminUser, user_id: RowId
) -> Response:
    return _end_sessions(
        request,
        session=session,
        settings=settings,
        acting_user=user,
        user_id=user_id,
        session_id=None,
    )


@router.post("/users/{user_id}/sessions/{session_id}/end", name="admin:user_session_end")
def end_one_session(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: AdminUser,
    user_id: RowId,
    session_id: RowId,
) -> Response:
    return _end_sessions(
        request,
        session=session,
        settings=settings,
        acting_user=user,
        user_id=user_id,
        session_id=session_id,
    )
