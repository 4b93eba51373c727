"""The role-aware navigation: each entry names a route and the roles that see it."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.routing import NoMatchFound

from app.auth.models import Role
from app.i18n import gettext


def N_(message: str) -> str:
    """Marks a message for the catalog; it is translated where it is shown."""
    return message


VOL, TRA, ORG, ADM = Role.volunteer, Role.trainer, Role.organizer, Role.admin


@dataclass(frozen=True)
class NavEntry:
    label: str
    route: str
    roles: frozenset[Role]


NAV = (
    NavEntry(N_("My assignments"), "sessions:my_assignments", frozenset({VOL, TRA})),
    NavEntry(N_("Review"), "review:queue", frozenset({TRA, ORG, ADM})),
    NavEntry(N_("Cases"), "cases:list", frozenset({TRA, ORG, ADM})),
    NavEntry(N_("Exercises"), "calibration:list", frozenset({TRA, ADM})),
    NavEntry(N_("Protocols"), "protocols:list", frozenset({TRA, ADM})),
    NavEntry(N_("Court sessions"), "sessions:list", frozenset({TRA, ADM})),
    NavEntry(N_("Hearings"), "observations:hearings", frozenset({TRA, ORG, ADM})),
    NavEntry(N_("Sets"), "exports:sets", frozenset({ORG, ADM})),
    NavEntry(N_("Compare"), "analysis:compare", frozenset({TRA, ORG, ADM})),
    NavEntry(N_("Users"), "admin:users", frozenset({ADM})),
    NavEntry(N_("Audit log"), "admin:audit", frozenset({ADM})),
)


def nav_links(request: Request) -> list[dict[str, str | bool]]:
    """The entries the signed-in user may see whose routes exist, with the current one marked."""
    user = getattr(request.state, "user", None)
    if user is None:
        return []
    links: list[dict[str, str | bool]] = []
    for entry in NAV:
        if user.role not in entry.roles:
            continue
        try:
            url = str(request.url_for(entry.route))
        except NoMatchFound:
            continue
        path = request.url_for(entry.route).path
        links.append(
            {
                "label": gettext(entry.label),
                "url": url,
                "current": request.url.path.startswith(path),
            }
        )
    return links
