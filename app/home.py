"""The start page, the OpenAPI document and a health check."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from app.deps import AnyUser, Public
from app.templating import render

router = APIRouter(include_in_schema=False)
log = logging.getLogger("courtwatch")


@router.get("/", name="home")
def home(request: Request, user: AnyUser) -> Response:
    return render(request, "home.html", {})


@router.get("/openapi.json", name="openapi")
def openapi(request: Request, user: AnyUser) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/healthz", name="healthz", dependencies=[Public])
def healthz(request: Request) -> JSONResponse:
    """For load balancers and container health checks: 200 when the database answers, 503
    when it does not (without saying more than that to an anonymous caller)."""
    try:
        with request.app.state.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except SQLAlchemyError:
        log.exception("health check: the database does not answer")
        return JSONResponse({"status": "error", "database": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
