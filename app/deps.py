"""Who is asking: the signed-in user and the roles each route allows.

Every route declares its roles with one of the aliases below (or `Depends(allow(...))`);
tests/test_role_matrix.py walks every route and fails on one that declares none.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.auth.models import Role, User
from app.auth.session_middleware import session_state
from app.config import Settings
from app.db import SessionDep
from app.i18n import N_, gettext


class NotAuthenticated(Exception):
    """No signed-in user: pages redirect to the login page, the API answers 401."""


class Forbidden(Exception):
    """Signed in, but the role may not use this route."""

    def __init__(self, message: str = N_("Your role does not give access to this page.")) -> None:
        super().__init__(gettext(message))


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def current_user_optional(request: Request, session: SessionDep) -> User | None:
    """The signed-in, active user, or None; cached on the request."""
    if hasattr(request.state, "user"):
        return request.state.user
    user: User | None = None
    user_id = session_state(request).user_id
    if user_id is not None:
        found = session.get(User, user_id)
        if found is not None and found.is_active and not found.is_placeholder:
            user = found
    request.state.user = user
    return user


class RoleGuard:
    """A dependency that lets through only signed-in users with one of `roles`."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    def __call__(
        self, request: Request, user: Annotated[User | None, Depends(current_user_optional)]
    ) -> User:
        if user is None:
            raise NotAuthenticated()
        if user.role not in self.roles:
            raise Forbidden()
        return user

    def __repr__(self) -> str:
        return f"RoleGuard({', '.join(sorted(self.roles))})"


def allow(*roles: Role) -> RoleGuard:
    return RoleGuard(*roles)


ANY_ROLE = tuple(Role)

AnyUser = Annotated[User, Depends(allow(*ANY_ROLE))]
VolunteerUser = Annotated[User, Depends(allow(Role.volunteer, Role.trainer))]
TrainerUser = Annotated[User, Depends(allow(Role.trainer, Role.admin))]
StaffUser = Annotated[User, Depends(allow(Role.trainer, Role.organizer, Role.admin))]
OrganizerUser = Annotated[User, Depends(allow(Role.organizer, Role.admin))]
AdminUser = Annotated[User, Depends(allow(Role.admin))]


def public(request: Request) -> None:
    """Marks a route as open to anonymous users (login, static files, the service worker)."""


Public = Depends(public)
