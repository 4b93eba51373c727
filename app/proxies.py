"""Who the client is when Courtwatch runs behind a reverse proxy.

uvicorn's ProxyHeadersMiddleware rewrites the client address and scheme from X-Forwarded-For /
X-Forwarded-Proto, but only for requests that come from an address in FORWARDED_ALLOW_IPS; any
other client's headers are ignored, so nobody can claim another address to dodge the sign-in
throttle. The app does this itself (not `uvicorn --proxy-headers`), so one setting rules it
whichever server runs the app.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from fastapi import FastAPI
from starlette.requests import HTTPConnection
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.config import Settings

# The width of every stored address column (login_attempt, sign_in_session, audit_entry).
ADDRESS_MAX = 64


def install_proxy_headers(app: FastAPI, settings: Settings) -> None:
    """Add the middleware outermost, so everything inside sees the real client and scheme."""
    app.add_middleware(
        ProxyHeadersMiddleware,  # type: ignore[arg-type]
        trusted_hosts=settings.forwarded_allow_ips,
    )


def normalise_address(host: str | None) -> str:
    """An IP address in its canonical form; anything else (a misconfigured proxy can forward any
    text) cut to the stored column's width, so it is kept but never overflows."""
    if not host:
        return "unknown"
    try:
        return str(ipaddress.ip_address(host.strip()))
    except ValueError:
        return host.strip()[:ADDRESS_MAX] or "unknown"


def client_address(connection: HTTPConnection | dict[str, Any]) -> str:
    """The client's address of a request (or of an ASGI scope)."""
    scope = connection if isinstance(connection, dict) else connection.scope
    client = scope.get("client")
    return normalise_address(client[0] if client else None)
