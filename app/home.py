"""The start page, the OpenAPI document and a health check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from app.deps import AnyUser, Public
from app.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/", name="home")
def home(request: Request, user: AnyUser) -> Response:
    return render(request, "home.html", {})


@router.get("/openapi.json", name="openapi")
def openapi(request: Request, user: AnyUser) -> JSONResponse:
    from app.openapi import build_openapi

    return JSONResponse(build_openapi(request.app, api_only=False))


@router.get("/healthz", name="healthz", dependencies=[Public])
def healthz() -> dict[str, str]:
    return {"status": "ok"}
