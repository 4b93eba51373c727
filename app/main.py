"""Application factory: middleware, routers, static files, lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from app.auth.session_middleware import ServerSessionMiddleware
from app.config import Settings, get_settings
from app.csrf import csrf_protect
from app.db import make_engine
from app.errors import install_error_handlers
from app.forms import refuse_nul_text
from app.proxies import install_proxy_headers
from app.request_log import RequestLogMiddleware
from app.templating import speak_request_language

STATIC_DIR = Path(__file__).parent / "static"


class SecurityHeadersMiddleware:
    HEADERS = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
        (
            b"content-security-policy",
            b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            b"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
            b"form-action 'self'",
        ),
    ]

    def __init__(self, app: ASGIApp, *, hsts_max_age_seconds: int = 0) -> None:
        self.app = app
        # Only over https (RFC 6797 §7.2: a browser ignores it on http, and it must not be
        # sent where the site is not served over TLS); the scheme comes from a trusted proxy.
        self.https_headers = (
            [(b"strict-transport-security", f"max-age={hsts_max_age_seconds}".encode())]
            if hsts_max_age_seconds > 0
            else []
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = self.HEADERS + (self.https_headers if scope.get("scheme") == "https" else [])

        async def send_with_headers(message: dict) -> None:  # type: ignore[type-arg]
            if message["type"] == "http.response.start":
                existing = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in headers if k not in existing
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from app.exports.jobs import ExportWorker

        worker = ExportWorker(engine, settings) if settings.export_worker else None
        if worker:
            worker.start()
        yield
        if worker:
            worker.stop()
        engine.dispose()

    app = FastAPI(
        title="Courtwatch",
        version="1",
        summary="Field notes for court watching. The JSON API under /api/v1 is the sync contract.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
        dependencies=[
            Depends(speak_request_language),
            Depends(csrf_protect),
            Depends(refuse_nul_text),
        ],
    )
    app.state.settings = settings
    app.state.engine = engine

    install_error_handlers(app)
    _include_routers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # The last added runs first: the proxy headers fix the client and scheme for all the rest.
    app.add_middleware(GZipMiddleware, minimum_size=800)
    app.add_middleware(ServerSessionMiddleware, engine=engine, settings=settings)
    if settings.log_requests:
        app.add_middleware(RequestLogMiddleware)
    app.add_middleware(
        SecurityHeadersMiddleware, hsts_max_age_seconds=settings.hsts_max_age_seconds
    )
    install_proxy_headers(app, settings)
    return app


def _include_routers(app: FastAPI) -> None:
    from app.admin.router import router as admin_router
    from app.analysis.api import router as analysis_api_router
    from app.analysis.router import router as analysis_router
    from app.auth.router import router as auth_router
    from app.calibration.router import router as calibration_router
    from app.capture.router import router as capture_router
    from app.cases.router import router as cases_router
    from app.exports.jobs_router import router as export_jobs_router
    from app.exports.router import router as exports_router
    from app.home import router as home_router
    from app.i18n.router import router as i18n_router
    from app.observations.router import router as observations_router
    from app.protocols.router import router as protocols_router
    from app.review.router import router as review_router
    from app.scheduling.router import router as scheduling_router
    from app.sessions.router import router as sessions_router
    from app.sync.pages import router as sync_pages_router
    from app.sync.router import router as sync_router

    for router in (
        home_router,
        auth_router,
        admin_router,
        protocols_router,
        sessions_router,
        sync_router,
        sync_pages_router,
        capture_router,
        observations_router,
        exports_router,
        export_jobs_router,
        analysis_router,
        i18n_router,
        review_router,
        cases_router,
        scheduling_router,
        calibration_router,
        analysis_api_router,
    ):
        app.include_router(router)
