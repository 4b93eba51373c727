"""Every route × every role (and anonymous): allowed, 403, or sent to sign in.

A route must declare its roles (a RoleGuard) or be one of the few public routes listed here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.auth import sign_in_sessions
from app.auth.models import Role
from app.auth.session_middleware import COOKIE_NAME
from app.deps import RoleGuard, public
from tests.conftest import login, page_csrf_token
from tests.factories import create_user

# The only routes anonymous users may reach (besides /static).
PUBLIC_ROUTES = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/healthz"),
    ("GET", "/sw.js"),
    ("GET", "/manifest.webmanifest"),
    ("GET", "/offline"),
    ("POST", "/language"),
    # A volunteer's iCalendar feed: calendar apps cannot sign in; the private token is the key.
    ("GET", "/calendar/{token}.ics"),
}


@dataclass
class RouteInfo:
    method: str
    path: str
    name: str
    roles: frozenset[str] | None  # None: public
    params: dict[str, Any]


def _guards(dependant: Any) -> Iterator[Any]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _guards(dep)


def _dummy(annotation: Any) -> str:
    if annotation is int:
        return "1"
    if annotation is uuid.UUID:
        return str(uuid.UUID(int=1))
    return "x"


def iter_routes(app: FastAPI) -> Iterator[RouteInfo]:
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: routes are flat
        contexts: Any = app.routes
    else:
        contexts = iter_route_contexts(app.routes)
    for route in contexts:
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue  # mounts (static files)
        calls = list(_guards(dependant))
        guards = [c for c in calls if isinstance(c, RoleGuard)]
        is_public = public in calls
        assert len(guards) + int(is_public) == 1, (
            f"{route.path} must declare exactly one role guard or be public, found {guards} public={is_public}"
        )
        roles = None if is_public else frozenset(str(r) for r in guards[0].roles)
        params = {p.name: _dummy(p.field_info.annotation) for p in dependant.path_params}
        for method in sorted(route.methods or []):
            if method == "HEAD":
                continue
            yield RouteInfo(method, route.path, route.name, roles, params)


def test_only_the_listed_routes_are_public(app):
    found = {(r.method, r.path) for r in iter_routes(app) if r.roles is None}
    assert found <= PUBLIC_ROUTES, f"unexpected public routes: {found - PUBLIC_ROUTES}"


def test_every_route_answers_each_role_as_declared(app, db):
    routes = list(iter_routes(app))
    assert len(routes) > 5
    clients: dict[str, tuple[TestClient, dict[str, str], dict[str, str]]] = {}
    emails: dict[str, str] = {}
    opened = []

    def sign_in_as(who: str, c: TestClient) -> None:
        c.cookies.clear()
        c.headers.pop("X-CSRF-Token", None)
        if who != "anonymous":
            login(c, emails[who])
        else:
            c.headers["X-CSRF-Token"] = page_csrf_token(c, "/login")
        clients[who] = (c, dict(c.cookies), dict(c.headers))

    def session_is_live(cookies: dict[str, str]) -> bool:
        token = cookies.get(COOKIE_NAME)
        db.expire_all()
        found = token and sign_in_sessions.find_by_token(session=db, token=token)
        return bool(found) and sign_in_sessions.is_live(found, settings=app.state.settings)

    for who in [*(r.value for r in Role), "anonymous"]:
        c = TestClient(app, follow_redirects=False)
        c.__enter__()
        opened.append(c)
        if who != "anonymous":
            emails[who] = create_user(db, role=Role(who)).email
        sign_in_as(who, c)

    problems: list[str] = []
    try:
        for route in routes:
            path = route.path
            for name, value in route.params.items():
                for suffix in ("", ":path", ":uuid"):
                    path = path.replace("{" + name + suffix + "}", value)
            for who in list(clients):
                c, cookies, headers = clients[who]
                # Restore the signed-in state each time: a route (/logout, ending sessions) may
                # have ended the session on the server, then sign in again.
                if who != "anonymous" and not session_is_live(cookies):
                    sign_in_as(who, c)
                    c, cookies, headers = clients[who]
                c.cookies.clear()
                for k, v in cookies.items():
                    c.cookies.set(k, v)
                kwargs: dict[str, Any] = {"headers": headers}
                if route.method in ("POST", "PUT", "PATCH") and path.startswith("/api/"):
                    kwargs["json"] = {}
                response = c.request(route.method, path, **kwargs)
                status = response.status_code
                location = response.headers.get("location", "")
                to_login = status == 303 and location.startswith("/login?next=")
                is_api = path.startswith("/api/") or path == "/openapi.json"
                if route.roles is None:
                    ok = status not in (401, 403) and not to_login
                    expected = "allowed (public)"
                elif who == "anonymous":
                    ok = (status == 401) if is_api else to_login
                    expected = "sign in first"
                elif who in route.roles:
                    ok = status not in (401, 403) and not to_login and status < 500
                    expected = "allowed"
                else:
                    ok = status == 403
                    expected = "403"
                if not ok:
                    problems.append(
                        f"{route.method} {path} as {who}: {status} {location} (expected {expected})"
                    )
    finally:
        for c in opened:
            c.__exit__(None, None, None)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", ["/static/css/app.css", "/static/vendor/htmx-2.0.11.min.js"])
def test_static_files_are_public(client, path):
    response = client.get(path)
    assert response.status_code == 200
