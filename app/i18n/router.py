"""Choosing the interface language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from app import i18n
from app.auth.models import User
from app.db import SessionDep
from app.deps import Public, current_user_optional
from app.templating import flash

router = APIRouter(include_in_schema=False)


def _safe_next(value: str) -> str:
    # Only a path on this site (never //host or a scheme).
    return value if value.startswith("/") and not value.startswith("//") else "/"


@router.post("/language", name="i18n:choose", dependencies=[Public])
def choose_language(
    request: Request,
    session: SessionDep,
    user: Annotated[User | None, Depends(current_user_optional)],
    language: Annotated[str, Form(max_length=8)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Remember the language: on the account when signed in, in a cookie otherwise; an
    empty choice goes back to following the browser."""
    chosen = language if language in i18n.LANGUAGES else None
    if language and chosen is None:
        flash(request, i18n.gettext("That language is not available."), "error")
    if user is not None:
        user.language = chosen
        session.add(user)
        session.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    if chosen:
        response.set_cookie(
            i18n.LANGUAGE_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="lax", httponly=True
        )
    else:
        response.delete_cookie(i18n.LANGUAGE_COOKIE)
    return response
