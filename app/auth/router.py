"""Sign in and sign out."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from app.auth import service as auth_service
from app.auth.exceptions import InvalidCredentials, LoginThrottled
from app.auth.schemas import LoginForm
from app.csrf import csrf_token
from app.db import SessionDep
from app.deps import SESSION_USER_KEY, AnyUser, Public, SettingsDep
from app.forms import field_errors
from app.templating import flash, render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login", name="auth:login", dependencies=[Public])
def login_page(request: Request, next: str = "/") -> Response:
    if getattr(request.state, "user", None) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    csrf_token(request)
    return render(request, "auth/login.html", {"next": _safe_next(next), "form": {}, "errors": {}})


@router.post("/login", name="auth:login_submit", dependencies=[Public])
def login_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    form = {"email": email}
    ctx = {"next": _safe_next(next), "form": form}
    try:
        data = LoginForm(email=email.strip(), password=password)
    except ValidationError as exc:
        return render(
            request, "auth/login.html", {**ctx, "errors": field_errors(exc)}, status_code=422
        )
    try:
        user = auth_service.authenticate(
            session=session,
            settings=settings,
            email=str(data.email),
            password=data.password,
            ip_address=client_address(request),
        )
    except LoginThrottled as exc:
        return render(
            request,
            "auth/login.html",
            {**ctx, "errors": {"__all__": str(exc)}},
            status_code=429,
            headers={"Retry-After": str(exc.retry_after_seconds)},
        )
    except InvalidCredentials as exc:
        return render(
            request, "auth/login.html", {**ctx, "errors": {"__all__": str(exc)}}, status_code=401
        )
    # A fresh session on sign-in: nothing from before (e.g. another user's flashes) carries over.
    request.session.clear()
    request.session[SESSION_USER_KEY] = user.id
    csrf_token(request)
    request.state.user = user
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", name="auth:logout")
def logout(request: Request, user: AnyUser) -> Response:
    request.session.clear()
    flash(request, "You are signed out.", "info")
    return RedirectResponse("/login", status_code=303)
