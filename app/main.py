"""Application factory: middleware, routers, static files, lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings, get_settings
from app.csrf import csrf_protect
from app.db import make_engine
from app.errors import install_error_handlers

STATIC_DIR = Path(__file__).parent / "static"


class SchemeAwareSessionMiddleware:
    """Signed session cookie (HttpOnly, SameSite=Lax) that is Secure whenever the request is https."""

    def __init__(self, app: ASGIApp, *, secret_key: str, max_age: int, force_secure: bool) -> None:
        common = {
            "secret_key": secret_key,
            "max_age": max_age,
            "same_site": "lax",
            "session_cookie": "courtwatch_session",
        }
        self.secure = SessionMiddleware(app, https_only=True, **common)  # type: ignore[arg-type]
        self.plain = (
            self.secure if force_secure else SessionMiddleware(app, https_only=False, **common)
        )  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self.secure if scope.get("scheme") in ("https", "wss") else self.plain
        await handler(scope, receive, send)


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

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict) -> None:  # type: ignore[type-arg]
            if message["type"] == "http.response.start":
                existing = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in self.HEADERS if k not in existing
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
        yield
        engine.dispose()

    app = FastAPI(
        title="Courtwatch",
        version="1",
        summary="Field notes for court watching. The JSON API under /api/v1 is the sync contract.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
        dependencies=[Depends(csrf_protect)],
    )
    app.state.settings = settings
    app.state.engine = engine

    install_error_handlers(app)
    _include_routers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.add_middleware(GZipMiddleware, minimum_size=800)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(
        SchemeAwareSessionMiddleware,
        secret_key=settings.secret_key,
        max_age=settings.session_max_age_seconds,
        force_secure=settings.session_cookie_secure,
    )
    return app


def _include_routers(app: FastAPI) -> None:
    from app.admin.router import router as admin_router
    from app.analysis.api import router as analysis_api_router
    from app.analysis.router import router as analysis_router
    from app.auth.router import router as auth_router
    from app.capture.router import router as capture_router
    from app.exports.router import router as exports_router
    from app.home import router as home_router
    from app.observations.router import router as observations_router
    from app.protocols.router import router as protocols_router
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
        analysis_router,
        analysis_api_router,
    ):
        app.include_router(router)
