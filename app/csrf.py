"""CSRF protection for every state-changing request.

A synchronizer token kept in the signed session: pages put it in a hidden `csrf_token`
field (so forms work without JavaScript), htmx and fetch send it as `X-CSRF-Token`.
(starlette-csrf only reads a header, which plain HTML forms cannot send.)
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SESSION_KEY = "csrf"
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"


class CsrfFailed(Exception):
    def __init__(self) -> None:
        super().__init__(
            "This form has expired or did not come from Courtwatch. Reload the page and try again."
        )


def csrf_token(request: Request) -> str:
    """The session's token, created on first use."""
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return token


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: unsafe methods must carry the session's token."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get(SESSION_KEY)
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
    if not (isinstance(expected, str) and supplied and hmac.compare_digest(expected, supplied)):
        raise CsrfFailed()
