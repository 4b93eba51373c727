"""Account management for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from app.auth import service as auth_service
from app.auth.exceptions import DuplicateEmail, SelfLockout
from app.auth.models import Role
from app.auth.schemas import UserCreate, UserUpdate
from app.bounds import RowId
from app.db import SessionDep
from app.deps import AdminUser, SettingsDep
from app.errors import NotFound
from app.forms import field_errors
from app.templating import flash, render

router = APIRouter(prefix="/admin", include_in_schema=False)


@router.get("/users", name="admin:users")
def list_users(request: Request, session: SessionDep, user: AdminUser) -> Response:
    return render(request, "admin/users.html", {"users": auth_service.list_users(session=session)})


@router.get("/users/new", name="admin:user_new")
def new_user(request: Request, user: AdminUser) -> Response:
    form = {"role": Role.volunteer.value}
    return render(request, "admin/user_form.html", {"form": form, "errors": {}, "edited": None})


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
    form = {"email": email, "display_name": display_name, "role": role}
    try:
        data = UserCreate(
            email=email.strip(), display_name=display_name, role=role, password=password
        )  # type: ignore[arg-type]
        created = auth_service.create_user(session=session, settings=settings, data=data)
    except ValidationError as exc:
        return render(
            request,
            "admin/user_form.html",
            {"form": form, "errors": field_errors(exc), "edited": None},
            status_code=422,
        )
    except DuplicateEmail as exc:
        return render(
            request,
            "admin/user_form.html",
            {"form": form, "errors": {"email": str(exc)}, "edited": None},
            status_code=409,
        )
    flash(request, f"Account created for {created.display_name}.", "success")
    return RedirectResponse(request.url_for("admin:users"), status_code=303)


@router.get("/users/{user_id}", name="admin:user_edit")
def edit_user(request: Request, session: SessionDep, user: AdminUser, user_id: RowId) -> Response:
    edited = auth_service.get(session=session, user_id=user_id)
    if edited is None:
        raise NotFound("There is no such account.")
    form = {
        "email": edited.email,
        "display_name": edited.display_name,
        "role": edited.role,
        "is_active": edited.is_active,
    }
    return render(request, "admin/user_form.html", {"form": form, "errors": {}, "edited": edited})


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
    edited = auth_service.get(session=session, user_id=user_id)
    if edited is None:
        raise NotFound("There is no such account.")
    active = is_active in ("on", "true", "1")
    form = {"email": email, "display_name": display_name, "role": role, "is_active": active}
    ctx = {"form": form, "edited": edited}
    try:
        data = UserUpdate(
            email=email.strip(),
            display_name=display_name,
            role=role,
            is_active=active,
            password=password,
        )  # type: ignore[arg-type]
        auth_service.update_user(
            session=session, settings=settings, user=edited, data=data, acting_user=user
        )
    except ValidationError as exc:
        return render(
            request, "admin/user_form.html", {**ctx, "errors": field_errors(exc)}, status_code=422
        )
    except DuplicateEmail as exc:
        return render(
            request, "admin/user_form.html", {**ctx, "errors": {"email": str(exc)}}, status_code=409
        )
    except SelfLockout as exc:
        return render(
            request,
            "admin/user_form.html",
            {**ctx, "errors": {"__all__": str(exc)}},
            status_code=409,
        )
    flash(request, f"Saved {edited.display_name}.", "success")
    return RedirectResponse(request.url_for("admin:users"), status_code=303)
