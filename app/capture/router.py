"""The offline capture shell, the service worker, the web app manifest and the offline page.

The capture page is one shell for every assignment, protocol and ad hoc observation: the
browser renders the flow from the offline pack kept in IndexedDB. It carries no per-user data,
so the service worker can cache it once and serve it for any query string.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from app.capture import service as capture_service
from app.deps import Public, VolunteerUser
from app.templating import templates

router = APIRouter(include_in_schema=False)

# Revalidated on every load: a stale worker or shell is what strands people on old code.
NO_CACHE = {"Cache-Control": "no-cache"}


@router.get("/capture", name="capture:page")
def capture_page(request: Request, user: VolunteerUser) -> Response:
    # Rendered without the user or a CSRF token on purpose: the worker caches this response.
    return templates.TemplateResponse(
        request,
        "capture/page.html",
        {"shell_version": capture_service.shell_version()},
        headers=NO_CACHE,
    )


@router.get("/offline", name="capture:offline", dependencies=[Public])
def offline_page(request: Request) -> Response:
    return templates.TemplateResponse(request, "offline.html", {}, headers=NO_CACHE)


@router.get("/sw.js", name="capture:service_worker", dependencies=[Public])
def service_worker() -> Response:
    return Response(
        capture_service.service_worker_source(),
        media_type="text/javascript",
        headers={**NO_CACHE, "Service-Worker-Allowed": "/"},
    )


@router.get("/manifest.webmanifest", name="capture:manifest", dependencies=[Public])
def manifest() -> Response:
    return FileResponse(
        capture_service.MANIFEST_PATH,
        media_type="application/manifest+json",
        headers=NO_CACHE,
    )
