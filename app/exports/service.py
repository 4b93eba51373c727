"""Observation sets (a filter an organizer names and keeps) and what every export shares: the
options, the protocol versions a set spans and how observers are named in an export."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlmodel import Session, col, select

from app.auth.models import User
from app.db import utcnow
from app.errors import DomainError, NotFound
from app.exports.models import ObservationSet
from app.forms import field_errors
from app.i18n import gettext
from app.observations.filters import HearingFilter, hearing_ids, observation_ids
from app.observations.models import Observation
from app.protocols.definition import ProtocolDefinition, parse_definition
from app.protocols.models import Protocol, ProtocolVersion

# Placeholder accounts made by an import without identities: observer-<ref>@imported.invalid
PLACEHOLDER_DOMAIN = "imported.invalid"
PLACEHOLDER_RE = re.compile(r"^observer-([a-z0-9-]{1,64})@imported\.invalid$")


class SetInvalid(DomainError):
    status_code = 422


class SetIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)

    @field_validator("name", "description", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return " ".join(value.split()) if isinstance(value, str) else value


@dataclass(frozen=True)
class ExportOptions:
    """What to leave out of an export."""

    free_text: bool = True  # short_text / long_text answers and notes
    identities: bool = True  # observers' names and emails

    @classmethod
    def from_params(cls, params: Any) -> ExportOptions:
        def on(name: str) -> bool:
            return str(params.get(name, "")).lower() in ("1", "true", "on", "yes")

        return cls(free_text=not on("without_free_text"), identities=not on("without_identities"))

    def to_params(self) -> dict[str, str]:
        params = {}
        if not self.free_text:
            params["without_free_text"] = "1"
        if not self.identities:
            params["without_identities"] = "1"
        return params


# --- observation sets ------------------------------------------------------------------------


def list_sets(*, session: Session) -> list[ObservationSet]:
    return list(session.exec(select(ObservationSet).order_by(ObservationSet.name)).all())


def get_set(*, session: Session, set_id: int) -> ObservationSet:
    found = session.get(ObservationSet, set_id)
    if found is None:
        raise NotFound(gettext("There is no observation set with this id."))
    return found


def set_filter(observation_set: ObservationSet) -> HearingFilter:
    """The set's filter (fields stored by an older version that no longer parse are dropped)."""
    return HearingFilter.parse(observation_set.filters or {})[0]


def _set_in(name: str, description: str) -> SetIn:
    """A set's name and description checked; SetInvalid with field messages."""
    try:
        return SetIn(name=name, description=description)
    except ValidationError as exc:
        raise SetInvalid(
            gettext("The set could not be saved."),
            errors=[{"loc": k, "msg": v} for k, v in field_errors(exc).items()],
        ) from None


def create_set(
    *, session: Session, name: str, description: str, f: HearingFilter, owner_id: int
) -> ObservationSet:
    """Name and keep a filter; SetInvalid with field messages when the name is missing."""
    data = _set_in(name, description)
    observation_set = ObservationSet(
        name=data.name, description=data.description, filters=f.to_params(), owner_id=owner_id
    )
    session.add(observation_set)
    session.commit()
    session.refresh(observation_set)
    return observation_set


def update_set(
    *, session: Session, observation_set: ObservationSet, name: str, description: str
) -> ObservationSet:
    data = _set_in(name, description)
    observation_set.name = data.name
    observation_set.description = data.description
    observation_set.updated_at = utcnow()
    session.add(observation_set)
    session.commit()
    session.refresh(observation_set)
    return observation_set


def delete_set(*, session: Session, observation_set: ObservationSet) -> None:
    session.delete(observation_set)
    session.commit()


@dataclass(frozen=True)
class SetCounts:
    observations: int
    hearings: int


def count_set(*, session: Session, f: HearingFilter) -> SetCounts:
    """How many observations and hearings the filter keeps (counted in SQL)."""
    n_obs = session.exec(select(sa.func.count()).select_from(observation_ids(f).subquery())).one()
    n_hear = session.exec(select(sa.func.count()).select_from(hearing_ids(f).subquery())).one()
    return SetCounts(observations=int(n_obs), hearings=int(n_hear))


# --- what an export is made of ---------------------------------------------------------------


@dataclass(frozen=True)
class SetVersion:
    id: int
    protocol: str
    description: str
    version: int
    status: str
    definition_doc: dict[str, Any]
    definition: ProtocolDefinition

    @property
    def label(self) -> str:
        return f"{self.protocol} v{self.version}"


def set_versions(*, session: Session, f: HearingFilter) -> list[SetVersion]:
    """Every protocol version used by the filter's observations, by protocol name and version."""
    used = (
        select(Observation.protocol_version_id)
        .where(col(Observation.id).in_(observation_ids(f)))
        .distinct()
    )
    return versions_in(session=session, version_ids=used)


def versions_in(*, session: Session, version_ids: Any) -> list[SetVersion]:
    """These protocol versions (ids, or a query of ids) as exports describe them."""
    rows = session.exec(
        select(ProtocolVersion, Protocol.name, Protocol.description)
        .join(Protocol, col(Protocol.id) == ProtocolVersion.protocol_id)
        .where(col(ProtocolVersion.id).in_(version_ids))
        .order_by(Protocol.name, ProtocolVersion.version)
    ).all()
    return [
        SetVersion(
            id=v.id,  # type: ignore[arg-type]
            protocol=name,
            description=description,
            version=v.version,
            status=v.status,
            definition_doc=v.definition,
            definition=parse_definition(v.definition),
        )
        for v, name, description in rows
    ]


@dataclass(frozen=True)
class Observer:
    ref: str  # stable within a deployment; an email when identities are included in JSON
    name: str
    email: str


def pseudonym(user_id: int, email: str, secret: str) -> str:
    """A stable reference to an observer that does not identify them outside this deployment.

    Placeholder accounts made by an earlier import keep the reference they came with, so an
    imported set exports again the same."""
    placeholder = PLACEHOLDER_RE.match(email)
    if placeholder:
        return placeholder.group(1)
    digest = hmac.new(secret.encode(), f"observer:{user_id}".encode(), hashlib.sha256)
    return "o-" + digest.hexdigest()[:12]


def set_observers(*, session: Session, f: HearingFilter, secret: str) -> dict[int, Observer]:
    """user id → how the observer appears in exports, for every observer in the set."""
    used = select(Observation.observer_id).where(col(Observation.id).in_(observation_ids(f)))
    rows = session.exec(
        select(User.id, User.display_name, User.email).where(col(User.id).in_(used))
    ).all()
    return {
        uid: Observer(ref=pseudonym(uid, email, secret), name=name, email=email)  # type: ignore[arg-type]
        for uid, name, email in rows
    }
