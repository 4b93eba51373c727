"""Domain errors and the one place that turns errors into 4xx pages or JSON."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.auth.exceptions import AuthError
from app.csrf import CsrfFailed
from app.deps import Forbidden, NotAuthenticated
from app.i18n import N_, gettext
from app.messages import labelled_message
from app.templating import is_htmx, render, speak_for

log = logging.getLogger("courtwatch")


class DomainError(Exception):
    """An error a client caused: a message, optional field-level errors, a 4xx status."""

    status_code = 400

    def __init__(
        self,
        message: str,
        *,
        errors: list[dict[str, str]] | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []
        if status_code is not None:
            self.status_code = status_code


class NotFound(DomainError):
    status_code = 404


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def error_response(
    request: Request, status_code: int, message: str, errors: list[dict[str, Any]] | None = None
) -> Response:
    speak_for(request)
    # A message marked N_ where it was made (a constant) is translated here; one made
    # already translated is shown as it is.
    message = gettext(message)
    if wants_json(request):
        body: dict[str, Any] = {"detail": message}
        if errors:
            body["errors"] = errors
        return JSONResponse(body, status_code=status_code)
    return render(
        request,
        "error.html",
        {"status_code": status_code, "message": message, "errors": errors or []},
        status_code=status_code,
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticated)
    async def _not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if wants_json(request):
            speak_for(request)
            return JSONResponse({"detail": gettext("Sign in first.")}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        location = f"/login?next={quote(target, safe='')}"
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": location})
        return RedirectResponse(location, status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return error_response(request, 403, str(exc))

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        log.info("CSRF check failed on %s %s", request.method, request.url.path)
        return error_response(request, 403, str(exc))

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        return error_response(request, exc.status_code, exc.message, exc.errors)

    @app.exception_handler(AuthError)
    async def _auth(request: Request, exc: AuthError) -> Response:
        return error_response(request, 400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        speak_for(request)
        errors = [
            {
                "loc": ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body",
                "msg": labelled_message(err),
                "type": str(err.get("type", "")),
            }
            for err in exc.errors()
        ]
        if wants_json(request):
            return JSONResponse(
                {"detail": gettext("The request is not valid."), "errors": errors}, status_code=422
            )
        return error_response(request, 422, N_("Some of what was sent is not valid."), errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else N_("Request failed.")
        if exc.status_code == 404 and message == "Not Found":
            message = N_("There is nothing at this address.")
        if exc.status_code == 405:
            message = N_("That action is not available at this address.")
        response = error_response(request, exc.status_code, message)
        if exc.headers:
            response.headers.update(exc.headers)
        return response
