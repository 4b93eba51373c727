"""Protocols and their versions: create, edit drafts, publish, retire, diff, JSON in and out.

A published version never changes: every edit goes to a draft, and editing a published
version means making draft N+1 from it first.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, func, select

from app.db import utcnow
from app.errors import DomainError, NotFound
from app.i18n import gettext
from app.json_input import JsonRefused, load_json
from app.protocols.definition import (
    DefinitionDiff,
    DefinitionInvalid,
    FieldError,
    ProtocolDefinition,
    diff_definitions,
    load_default_protocol,
    parse_definition,
)
from app.protocols.models import Protocol, ProtocolVersion, VersionStatus

EXPORT_FORMAT = "courtwatch-protocol"
DEFAULT_PROTOCOL_NAME = "Sentencing calendar — CCR observation"


class DefinitionRejected(DomainError):
    """A definition with problems: every problem listed, nothing stored."""

    status_code = 422

    def __init__(
        self, errors: list[FieldError], message: str = "The protocol has problems."
    ) -> None:
        super().__init__(message, errors=[{"loc": e.loc, "msg": e.msg} for e in errors])


class VersionLocked(DomainError):
    status_code = 409


class DraftOpen(DomainError):
    """An upload would replace a draft someone is editing: ask first."""

    status_code = 409

    def __init__(self, draft: ProtocolVersion, name: str) -> None:
        super().__init__(
            f"“{name}” has an open draft (version {draft.version}, last changed "
            f"{draft.updated_at:%Y-%m-%d %H:%M} UTC); the upload would replace its content."
        )
        self.draft = draft
        self.name = name
        self.document: str | None = None  # the upload as Courtwatch JSON, when it was not


@dataclass
class ProtocolSummary:
    protocol: Protocol
    versions: list[ProtocolVersion]

    @property
    def latest(self) -> ProtocolVersion:
        return self.versions[-1]

    @property
    def draft(self) -> ProtocolVersion | None:
        return next((v for v in self.versions if v.status == VersionStatus.draft), None)

    @property
    def published(self) -> list[ProtocolVersion]:
        return [v for v in self.versions if v.status == VersionStatus.published]


def validate(data: Any) -> ProtocolDefinition:
    """A parsed definition, or DefinitionRejected listing every problem."""
    try:
        return parse_definition(data)
    except DefinitionInvalid as exc:
        raise DefinitionRejected(exc.errors) from exc


def blank_definition(title: str) -> dict[str, Any]:
    """The smallest useful protocol: a hearing section with the speaker timeline and notes."""
    default = load_default_protocol()
    timeline = next(
        q for s in default["sections"] for q in s["questions"] if q["type"] == "speaker_timeline"
    )
    return {
        "title": title,
        "description": "",
        "sections": [
            {
                "key": "hearing",
                "title": "Hearing",
                "level": "hearing",
                "questions": [
                    copy.deepcopy(timeline),
                    {
                        "key": "observer_notes",
                        "type": "long_text",
                        "label": "Notes",
                        "help": "Do not write the names of victims, witnesses or anyone other than public officials.",
                        "required": False,
                    },
                ],
            }
        ],
    }


def list_protocols(*, session: Session) -> list[ProtocolSummary]:
    """Every protocol with its versions (oldest first), by name."""
    protocols = list(session.exec(select(Protocol).order_by(func.lower(Protocol.name))))
    versions = list(session.exec(select(ProtocolVersion).order_by(ProtocolVersion.version)))
    by_protocol: dict[int, list[ProtocolVersion]] = {}
    for v in versions:
        by_protocol.setdefault(v.protocol_id, []).append(v)
    return [ProtocolSummary(p, by_protocol.get(p.id or 0, [])) for p in protocols]


def get_protocol(*, session: Session, protocol_id: int) -> ProtocolSummary:
    """One protocol with its versions; NotFound if missing."""
    protocol = session.get(Protocol, protocol_id)
    if protocol is None:
        raise NotFound(gettext("There is no such protocol."))
    versions = list(
        session.exec(
            select(ProtocolVersion)
            .where(ProtocolVersion.protocol_id == protocol_id)
            .order_by(ProtocolVersion.version)
        )
    )
    return ProtocolSummary(protocol, versions)


def get_version(*, session: Session, version_id: int) -> ProtocolVersion:
    """One version; NotFound if missing."""
    version = session.get(ProtocolVersion, version_id)
    if version is None:
        raise NotFound(gettext("There is no such protocol version."))
    return version


def definition_of(version: ProtocolVersion) -> ProtocolDefinition:
    return parse_definition(version.definition)


def published_versions(*, session: Session) -> list[tuple[Protocol, ProtocolVersion]]:
    """Every published version with its protocol, newest version first within a protocol."""
    rows = session.exec(
        select(Protocol, ProtocolVersion)
        .join(ProtocolVersion, col(ProtocolVersion.protocol_id) == Protocol.id)
        .where(ProtocolVersion.status == VersionStatus.published)
        .order_by(func.lower(Protocol.name), col(ProtocolVersion.version).desc())
    )
    return [(p, v) for p, v in rows]


def _name_taken(session: Session, name: str, *, except_id: int | None = None) -> bool:
    query = select(Protocol.id).where(func.lower(Protocol.name) == name.strip().lower())
    if except_id is not None:
        query = query.where(Protocol.id != except_id)
    return session.exec(query).first() is not None


def create_protocol(
    *,
    session: Session,
    name: str,
    description: str = "",
    definition: dict[str, Any] | None = None,
    created_by_id: int | None,
) -> ProtocolVersion:
    """A new protocol with a draft version 1 (blank unless a definition is given)."""
    name = " ".join(name.split())
    errors = []
    if not name:
        errors.append(FieldError("name", gettext("Give the protocol a name.")))
    elif len(name) > 200:
        errors.append(FieldError("name", gettext("Keep the name under 200 characters.")))
    elif _name_taken(session, name):
        errors.append(
            FieldError("name", gettext("A protocol named “%(name)s” already exists.", name=name))
        )
    if errors:
        raise DefinitionRejected(errors, gettext("The protocol could not be created."))
    data = definition if definition is not None else blank_definition(name)
    validate(data)
    protocol = Protocol(name=name, description=description.strip(), created_by_id=created_by_id)
    session.add(protocol)
    session.flush()
    version = ProtocolVersion(
        protocol_id=protocol.id,  # type: ignore[arg-type]
        version=1,
        status=VersionStatus.draft,
        definition=data,
        created_by_id=created_by_id,
    )
    session.add(version)
    session.commit()
    session.refresh(version)
    return version


def _require_draft(version: ProtocolVersion) -> None:
    if version.status != VersionStatus.draft:
        raise VersionLocked(
            gettext(
                "Version %(version)s is %(status)s and cannot change. "
                "Make a new draft from it to edit.",
                version=version.version,
                status=gettext(str(version.status)),
            )
        )


def update_definition(
    *, session: Session, version: ProtocolVersion, change: Callable[[dict[str, Any]], None]
) -> ProtocolVersion:
    """Apply `change` to a copy of a draft's definition; store it only if it still validates."""
    _require_draft(version)
    data = copy.deepcopy(version.definition)
    change(data)
    validate(data)
    version.definition = data
    version.updated_at = utcnow()
    session.add(version)
    session.commit()
    session.refresh(version)
    return version


def replace_definition(
    *, session: Session, version: ProtocolVersion, definition: dict[str, Any]
) -> ProtocolVersion:
    """Swap a draft's whole definition (validated first)."""

    def _swap(data: dict[str, Any]) -> None:
        data.clear()
        data.update(copy.deepcopy(definition))

    return update_definition(session=session, version=version, change=_swap)


def publish(*, session: Session, version: ProtocolVersion) -> ProtocolVersion:
    """Draft (or imported) → published; from then on it never changes. An imported version
    is offered to volunteers only from this point."""
    if version.status != VersionStatus.imported:
        _require_draft(version)
    definition = validate(version.definition)
    if not definition.questions():
        raise VersionLocked(
            gettext("A protocol needs at least one question before it is published.")
        )
    version.status = VersionStatus.published
    version.published_at = utcnow()
    session.add(version)
    session.commit()
    session.refresh(version)
    return version


def retire(*, session: Session, version: ProtocolVersion) -> ProtocolVersion:
    """Published → retired: no new assignments; existing observations keep it."""
    if version.status != VersionStatus.published:
        raise VersionLocked(
            gettext(
                "Only a published version can be retired (this one is %(status)s).",
                status=gettext(str(version.status)),
            )
        )
    version.status = VersionStatus.retired
    version.retired_at = utcnow()
    session.add(version)
    session.commit()
    session.refresh(version)
    return version


def new_draft(
    *, session: Session, version: ProtocolVersion, created_by_id: int | None
) -> ProtocolVersion:
    """Draft N+1 copied from `version`; if the protocol already has a draft, that one."""
    summary = get_protocol(session=session, protocol_id=version.protocol_id)
    if summary.draft is not None:
        return summary.draft
    draft = ProtocolVersion(
        protocol_id=version.protocol_id,
        version=summary.latest.version + 1,
        status=VersionStatus.draft,
        definition=copy.deepcopy(version.definition),
        created_by_id=created_by_id,
    )
    session.add(draft)
    session.commit()
    session.refresh(draft)
    return draft


def discard_draft(*, session: Session, version: ProtocolVersion) -> None:
    """Delete a draft version that nothing uses."""
    _require_draft(version)
    from app.observations.models import Observation
    from app.sessions.models import Assignment

    used = (
        session.exec(
            select(func.count())
            .select_from(Assignment)
            .where(Assignment.protocol_version_id == version.id)
        ).one()
        + session.exec(
            select(func.count())
            .select_from(Observation)
            .where(Observation.protocol_version_id == version.id)
        ).one()
    )
    if used:
        raise VersionLocked(gettext("This draft is already used by assignments or observations."))
    protocol_id = version.protocol_id
    session.delete(version)
    session.flush()
    remaining = session.exec(
        select(func.count())
        .select_from(ProtocolVersion)
        .where(ProtocolVersion.protocol_id == protocol_id)
    ).one()
    if not remaining:
        protocol = session.get(Protocol, protocol_id)
        if protocol is not None:
            session.delete(protocol)
    session.commit()


def diff(*, old: ProtocolVersion, new: ProtocolVersion) -> DefinitionDiff:
    """What changed between two versions of a protocol."""
    return diff_definitions(definition_of(old), definition_of(new))


def export_document(*, protocol: Protocol, version: ProtocolVersion) -> dict[str, Any]:
    """The JSON a trainer downloads (and can upload elsewhere)."""
    return {
        "format": EXPORT_FORMAT,
        "format_version": 1,
        "name": protocol.name,
        "description": protocol.description,
        "version": version.version,
        "status": version.status,
        "definition": version.definition,
    }


def import_document(
    *, session: Session, raw: bytes, created_by_id: int | None, replace_draft: bool = False
) -> ProtocolVersion:
    """An uploaded protocol JSON → a new protocol (draft v1), or a new draft of the protocol with
    that name. Every problem is listed and nothing is stored when there is one. A protocol's
    open draft is never overwritten silently: DraftOpen unless `replace_draft` (the trainer
    was asked), or the draft holds this very definition already."""
    errors: list[FieldError] = []
    try:
        doc = load_json(raw)
    except JsonRefused as exc:
        raise DefinitionRejected(
            [FieldError("file", exc.message)], gettext("The upload could not be read.")
        ) from None
    if not isinstance(doc, dict):
        raise DefinitionRejected(
            [FieldError("file", gettext("Expected a JSON object."))],
            gettext("The upload could not be read."),
        )
    if "definition" in doc:  # our export format
        if doc.get("format") not in (None, EXPORT_FORMAT):
            errors.append(
                FieldError("format", gettext("Expected “%(format)s”.", format=EXPORT_FORMAT))
            )
        name = doc.get("name")
        description = doc.get("description") or ""
        definition = doc.get("definition")
    else:  # a bare definition
        definition = doc
        name = doc.get("title")
        description = doc.get("description") or ""
    if not isinstance(name, str) or not name.strip():
        errors.append(FieldError("name", gettext("The file does not name the protocol.")))
    if not isinstance(description, str):
        errors.append(FieldError("description", gettext("Expected text.")))
        description = ""
    try:
        parse_definition(definition)
    except DefinitionInvalid as exc:
        errors.extend(
            FieldError(f"definition.{e.loc}" if e.loc else "definition", e.msg) for e in exc.errors
        )
    if errors:
        raise DefinitionRejected(errors, gettext("The upload has problems; nothing was stored."))
    assert isinstance(name, str) and isinstance(definition, dict)
    existing = session.exec(
        select(Protocol).where(func.lower(Protocol.name) == name.strip().lower())
    ).first()
    if existing is None:
        return create_protocol(
            session=session,
            name=name,
            description=description,
            definition=definition,
            created_by_id=created_by_id,
        )
    summary = get_protocol(session=session, protocol_id=existing.id)  # type: ignore[arg-type]
    if summary.draft is not None:
        if summary.draft.definition == definition:
            return summary.draft
        if not replace_draft:
            raise DraftOpen(summary.draft, existing.name)
    draft = summary.draft or new_draft(
        session=session, version=summary.latest, created_by_id=created_by_id
    )
    return replace_definition(session=session, version=draft, definition=definition)


def ensure_default_protocol(
    *, session: Session, created_by_id: int | None = None
) -> ProtocolVersion:
    """The shipped sentencing protocol, published as version 1 if it is not there yet."""
    existing = session.exec(select(Protocol).where(Protocol.name == DEFAULT_PROTOCOL_NAME)).first()
    if existing is not None:
        summary = get_protocol(session=session, protocol_id=existing.id)  # type: ignore[arg-type]
        return summary.published[-1] if summary.published else summary.latest
    version = create_protocol(
        session=session,
        name=DEFAULT_PROTOCOL_NAME,
        description="Grounded in the Duluth Model's court-observation questions.",
        definition=load_default_protocol(),
        created_by_id=created_by_id,
    )
    return publish(session=session, version=version)


def export_xlsform(*, protocol: Protocol, version: ProtocolVersion) -> bytes:
    """A protocol version as an XLSForm workbook (see app.protocols.xlsform)."""
    from app.protocols import xlsform

    return xlsform.to_xlsform(
        definition_of(version),
        form_id=_form_id(protocol.name),
        version=str(version.version),
    )


def import_xlsform(
    *, session: Session, raw: bytes, created_by_id: int | None, replace_draft: bool = False
) -> tuple[ProtocolVersion, list[str]]:
    """An XLSForm workbook → a draft (a new protocol, or a new draft of the protocol with its
    title, by the same rules as a JSON upload), with notes of what was not kept. Every row it
    cannot hold is listed (DefinitionRejected) and nothing is stored."""
    from app.protocols import xlsform

    try:
        found = xlsform.from_xlsform(raw)
    except xlsform.XLSFormRejected as exc:
        raise DefinitionRejected(
            exc.problems,
            gettext("The workbook has rows Courtwatch cannot hold; nothing was stored."),
        ) from None
    document = {
        "format": EXPORT_FORMAT,
        "name": found.name,
        "description": found.description,
        "definition": found.definition,
    }
    text = json.dumps(document, ensure_ascii=False)
    try:
        version = import_document(
            session=session,
            raw=text.encode(),
            created_by_id=created_by_id,
            replace_draft=replace_draft,
        )
    except DraftOpen as exc:
        exc.document = text
        raise
    return version, found.notes


def _form_id(name: str) -> str:
    from app.protocols.editing import slugify

    return slugify(name).replace("-", "_") or "courtwatch_protocol"
