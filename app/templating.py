"""One Jinja2 environment; htmx-aware rendering; flash messages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from app import i18n
from app.auth.models import ROLE_LABELS, Role, User
from app.csrf import csrf_token
from app.deps import current_user_optional
from app.navigation import nav_links

TEMPLATES_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.globals["csrf_token"] = csrf_token
templates.env.globals["ROLE_LABELS"] = ROLE_LABELS
templates.env.globals["Role"] = Role
templates.env.globals["nav_links"] = nav_links
i18n.install(templates.env)


def request_language(request: Request) -> str:
    """The language to answer in: the user's choice, a visitor's cookie, Accept-Language."""
    user = getattr(request.state, "user", None)
    chosen = getattr(user, "language", None) or request.cookies.get(i18n.LANGUAGE_COOKIE)
    return i18n.negotiate(request.headers.get("accept-language"), chosen)


def speak_for(request: Request) -> str:
    """Speak the request's language from here on (this context); the language."""
    language = request_language(request)
    i18n.use_language(language)
    return language


async def speak_request_language(
    request: Request, user: Annotated[User | None, Depends(current_user_optional)]
) -> None:
    """App-wide dependency: the request's language is spoken before the route runs, so that
    flash messages and field errors made in Python are in it too. (Async on purpose: it runs
    in the request's own context, which the route's thread copies; a sync dependency's
    change would stay in its own thread.)"""
    speak_for(request)


# Keys shown as words on pages (statuses in badges, question tags): `{{ key|word }}`.
WORDS = {
    "draft": i18n.N_("draft"),
    "submitted": i18n.N_("submitted"),
    "safety": i18n.N_("safety"),
    "accountability": i18n.N_("accountability"),
}


def word(key: Any) -> Any:
    """A key shown as a word, in the current language (the key itself if it is not one)."""
    return i18n.gettext(WORDS[key]) if key in WORDS else key


templates.env.filters["word"] = word


FLASH_KEY = "_flashes"


def is_htmx(request: Request) -> bool:
    """An htmx request that swaps part of a page (not a boosted full navigation)."""
    return (
        request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"
    )


def flash(request: Request, message: str, category: str = "info") -> None:
    """Keep a message for the next page the user sees."""
    request.session.setdefault(FLASH_KEY, [])
    request.session[FLASH_KEY] = [
        *request.session[FLASH_KEY],
        {"message": message, "category": category},
    ]


def pop_flashes(request: Request) -> list[dict[str, str]]:
    return list(request.session.pop(FLASH_KEY, []) or [])


templates.env.globals["pop_flashes"] = pop_flashes


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page (or, for an htmx request, just its content block) with the common context."""
    language = speak_for(request)
    ctx: dict[str, Any] = {
        "lang": language,
        "user": getattr(request.state, "user", None),
        "layout": "_partial.html" if is_htmx(request) else "base.html",
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)
