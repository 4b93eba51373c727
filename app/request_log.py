"""One structured log line per request: method, route, status, duration, user id.

The route is the matched path template (`/sets/{set_id}/export.zip`), never the query string,
a form or a body, so no observation content and no search terms reach the logs. Lines are JSON
on the `courtwatch.request` logger, ready for a log collector.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("courtwatch.request")


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path:
        return str(path)
    raw = str(scope.get("path", ""))
    if raw.startswith("/static/"):
        return "/static/{path}"
    return "(no route)"


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before starting a response

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            user: Any = (scope.get("state") or {}).get("user")
            log.info(
                orjson.dumps(
                    {
                        "event": "request",
                        "method": scope.get("method"),
                        "route": _route(scope),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                        "user_id": getattr(user, "id", None),
                    }
                ).decode()
            )
