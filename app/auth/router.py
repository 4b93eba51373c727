"""Sign in, sign out, and change one's own password."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from app.auth import service as auth_service
from app.auth import sign_in_sessions
from app.auth.exceptions import (
    InvalidCredentials,
    LoginThrottled,
    WeakPassword,
    WrongCurrentPassword,
)
from app.auth.schemas import LoginForm, PasswordChange
from app.auth.session_middleware import begin_session, end_session, session_state
from app.csrf import csrf_token
from app.db import SessionDep
from app.deps import AnyUser, Public, SettingsDep
from app.forms import field_errors
from app.i18n import gettext, ngettext
from app.proxies import client_address
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
    # A new session with a new token (session fixation); nothing from before carries over.
    assert user.id is not None
    begin_session(request, session=session, user_id=user.id, reason="signed_in_again")
    sign_in_sessions.purge_stale(session=session, settings=settings)
    request.state.user = user
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", name="auth:logout")
def logout(request: Request, session: SessionDep, user: AnyUser) -> Response:
    end_session(request, session=session, reason="logout")
    flash(request, gettext("You are signed out."), "info")
    return RedirectResponse("/login", status_code=303)


@router.get("/account/password", name="auth:password")
def password_page(request: Request, user: AnyUser) -> Response:
    return render(request, "auth/password.html", {"errors": {}})


@router.post("/account/password", name="auth:password_submit")
def password_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: AnyUser,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
    new_password_again: Annotated[str, Form()] = "",
) -> Response:
    def again(
        errors: dict[str, str], status_code: int, headers: dict[str, str] | None = None
    ) -> Response:
        return render(
            request,
            "auth/password.html",
            {"errors": errors},
            status_code=status_code,
            headers=headers,
        )

    try:
        data = PasswordChange(
            current_password=current_password,
            new_password=new_password,
            new_password_again=new_password_again,
        )
        ended = auth_service.change_own_password(
            session=session,
            settings=settings,
            user=user,
            data=data,
            ip_address=client_address(request),
            current_session_id=session_state(request).record_id,
        )
    except ValidationError as exc:
        return again(field_errors(exc), 422)
    except WrongCurrentPassword as exc:
        return again({"current_password": str(exc)}, 422)
    except WeakPassword as exc:
        return again({"new_password": str(exc)}, 422)
    except LoginThrottled as exc:
        return again(
            {"__all__": str(exc)}, 429, headers={"Retry-After": str(exc.retry_after_seconds)}
        )
    # This browser stays signed in, with a new token: a copy of the old cookie is worthless.
    assert user.id is not None
    begin_session(
        request, session=session, user_id=user.id, reason="password_changed", keep_data=True
    )
    message = gettext("Your password is changed.")
    if ended:
        others = ngettext(
            "Signed out %(num)s other session.", "Signed out %(num)s other sessions.", ended
        )
        message += " " + others % {"num": ended}
    flash(request, message, "success")
    return RedirectResponse("/", status_code=303)
