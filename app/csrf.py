"""CSRF protection for every state-changing request.

A synchronizer token bound to the session: an HMAC of the session cookie's random token (so a
signed-out visitor on the login form needs no stored row), rotating with it at sign-in. Pages
put it in a hidden `csrf_token` field (so forms work without JavaScript), htmx and fetch send
it as `X-CSRF-Token`. (starlette-csrf only reads a header, which plain HTML forms cannot send.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from fastapi import Request

from app.auth.session_middleware import session_state
from app.i18n import gettext

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"


class CsrfFailed(Exception):
    def __init__(self) -> None:
        super().__init__(
            gettext(
                "This form has expired or did not come from Courtwatch. "
                "Reload the page and try again."
            )
        )


def _token_for(request: Request, session_token: str) -> str:
    secret = request.app.state.settings.secret_key.encode()
    digest = hmac.new(secret, b"csrf:" + session_token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csrf_token(request: Request) -> str:
    """The session's token (a session cookie is made on first use)."""
    return _token_for(request, session_state(request).ensure_token())


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: unsafe methods must carry the session's token."""
    if request.method in SAFE_METHODS:
        return
    session_token = session_state(request).token
    expected = _token_for(request, session_token) if session_token else None
    supplied = request.headers.get(HEADER)
    content_type = request.headers.get("content-type", "")
    if not supplied and (
        content_type.startswith("application/x-www-form-urlencoded")
        or content_type.startswith("multipart/form-data")
    ):
        try:
            form = await request.form()
        except Exception:  # a malformed body is simply a missing token
            form = None
        value = form.get(FORM_FIELD) if form is not None else None
        supplied = value if isinstance(value, str) else None
    if not (
        isinstance(expected, str)
        and supplied
        and hmac.compare_digest(expected.encode(), supplied.encode())
    ):
        raise CsrfFailed()
