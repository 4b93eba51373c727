"""Importing a JSON export into this deployment: merge by UUID, idempotently.

Everything is checked before anything is written, and the whole file is written in one
transaction, so a malformed file stores nothing. Protocol versions are matched by protocol name,
version number and definition; courts and judges by name; observers by email when the file
includes identities, otherwise by a placeholder account (inactive) for each reference.
An observation already here is left alone when the file holds the same content (importing twice
changes nothing) or an older edit; a newer edit replaces its current rows and is kept as a
revision, as a sync would.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import Session, col, select

from app.auth.models import Role, User
from app.db import utcnow
from app.errors import DomainError
from app.exports.schemas import ExportDocument, ObservationEntry, ObserverEntry, ProtocolEntry
from app.exports.service import PLACEHOLDER_DOMAIN, pseudonym
from app.json_input import JsonRefused, load_json
from app.observations import service as observations_service
from app.observations import store
from app.observations.models import Hearing, Observation, ObservationRevision, ObservationStatus
from app.protocols.definition import (
    DefinitionInvalid,
    ProtocolDefinition,
    from_pydantic_error,
    parse_definition,
    validate_answers,
    validate_turns,
)
from app.protocols.models import Protocol, ProtocolVersion
from app.sessions import service as sessions_service

MAX_IMPORT_BYTES = 200 * 1024 * 1024
MAX_ERRORS = 50
IMPORTED_SUFFIX = " (imported)"


class ImportRejected(DomainError):
    status_code = 422


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0  # this deployment holds a newer edit
    protocols_created: int = 0
    observers_created: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)


def _reject(errors: list[dict[str, str]], message: str | None = None) -> ImportRejected:
    shown = errors[:MAX_ERRORS]
    more = len(errors) - len(shown)
    if more:
        shown.append({"loc": "", "msg": f"… and {more} more problems."})
    return ImportRejected(
        message or f"The file has {len(errors)} problem(s); nothing was imported.", errors=shown
    )


def parse_document(raw: bytes) -> ExportDocument:
    """The document, or ImportRejected listing what is wrong with it."""
    if len(raw) > MAX_IMPORT_BYTES:
        raise _reject(
            [{"loc": "file", "msg": f"The file is larger than {MAX_IMPORT_BYTES // 2**20} MB."}]
        )
    if not raw.strip():
        raise _reject([{"loc": "file", "msg": "The file is empty."}])
    try:
        data = load_json(raw)
    except JsonRefused as exc:
        raise _reject([{"loc": "file", "msg": exc.message}]) from None
    if not isinstance(data, dict) or data.get("format") != "courtwatch-observations":
        raise _reject(
            [
                {
                    "loc": "format",
                    "msg": "This is not a Courtwatch observations export "
                    '(expected "format": "courtwatch-observations").',
                }
            ]
        )
    try:
        return ExportDocument.model_validate(data)
    except ValidationError as exc:
        errors = []
        for e in exc.errors():
            fe = from_pydantic_error(e)
            errors.append({"loc": fe.loc, "msg": fe.msg})
        raise _reject(errors) from None


def _content_hash(entry: ObservationEntry) -> str:
    content = entry.model_dump(mode="json")
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _placeholder_email(ref: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", ref.lower()).strip("-")[:64] or "unknown"
    return f"observer-{slug}@{PLACEHOLDER_DOMAIN}"


def _observer_email(entry: ObserverEntry) -> str:
    return (entry.email or "").strip() or _placeholder_email(entry.ref)


def _local_observers(session: Session, doc: ExportDocument, secret: str) -> dict[str, User]:
    """The file's observers who already have an account here: by email, or, in a file without
    identities, by the reference this deployment gives its observers in exports (so a set
    exported without identities imports back into its own deployment as the same people)."""
    found: dict[str, User] = {}
    anonymous = {o.ref for o in doc.observers if not o.email}
    by_ref: dict[str, int] = {}
    if anonymous:
        for user_id, email in session.exec(select(User.id, User.email)).all():
            ref = pseudonym(user_id, email, secret)  # type: ignore[arg-type]
            if ref in anonymous:
                by_ref[ref] = user_id  # type: ignore[assignment]
    for o in doc.observers:
        user: User | None
        if o.email:
            user = session.exec(
                select(User).where(sa.func.lower(User.email) == o.email.strip().lower())
            ).first()
        else:
            user = session.get(User, by_ref[o.ref]) if o.ref in by_ref else None
            if user is None:
                user = session.exec(
                    select(User).where(User.email == _placeholder_email(o.ref))
                ).first()
        if user is not None:
            found[o.ref] = user
    return found


def _check(
    session: Session, doc: ExportDocument, local: dict[str, User]
) -> tuple[dict[tuple[str, int], ProtocolDefinition], list[dict[str, str]]]:
    """Every problem of a well-shaped document: references, definitions, answers, ids. Reads only."""
    errors: list[dict[str, str]] = []
    definitions: dict[tuple[str, int], ProtocolDefinition] = {}
    for i, p in enumerate(doc.protocols):
        key = (p.name, p.version)
        if key in definitions:
            errors.append(
                {"loc": f"protocols[{i}]", "msg": f"“{p.name}” v{p.version} is listed twice."}
            )
            continue
        try:
            definitions[key] = parse_definition(p.definition)
        except DefinitionInvalid as exc:
            errors.extend(
                {"loc": f"protocols[{i}].definition.{e.loc}".rstrip("."), "msg": e.msg}
                for e in exc.errors
            )
    refs = {o.ref for o in doc.observers}
    if len(refs) != len(doc.observers):
        errors.append({"loc": "observers", "msg": "An observer reference is listed twice."})
    seen_obs: set[uuid.UUID] = set()
    hearing_owner: dict[uuid.UUID, uuid.UUID] = {}
    for i, o in enumerate(doc.observations):
        where = f"observations[{i}]"
        if o.id in seen_obs:
            errors.append({"loc": f"{where}.id", "msg": "This observation id is listed twice."})
        seen_obs.add(o.id)
        if o.observer not in refs:
            errors.append(
                {"loc": f"{where}.observer", "msg": f"No observer “{o.observer}” in observers."}
            )
        definition = definitions.get((o.protocol.name, o.protocol.version))
        if definition is None:
            errors.append(
                {
                    "loc": f"{where}.protocol",
                    "msg": f"No protocol “{o.protocol.name}” v{o.protocol.version} in protocols.",
                }
            )
            continue
        for e in validate_answers(definition, o.session_answers, level="session", strict=False):
            errors.append({"loc": f"{where}.session_{e.loc}", "msg": e.msg})
        positions: set[int] = set()
        for j, h in enumerate(o.hearings):
            hwhere = f"{where}.hearings[{j}]"
            if h.id in hearing_owner:
                errors.append({"loc": f"{hwhere}.id", "msg": "This hearing id is listed twice."})
            hearing_owner[h.id] = o.id
            if h.position in positions:
                errors.append(
                    {"loc": f"{hwhere}.position", "msg": "Two hearings share this position."}
                )
            positions.add(h.position)
            for e in validate_answers(
                definition, h.answers, level="hearing", strict=False, context=o.session_answers
            ):
                errors.append({"loc": f"{hwhere}.{e.loc}", "msg": e.msg})
            for e in validate_turns(definition, [t.model_dump() for t in h.turns]):
                errors.append({"loc": f"{hwhere}.{e.loc}", "msg": e.msg})
    # Ids already used here by something else.
    index = {o.id: i for i, o in enumerate(doc.observations)}
    ids = list(hearing_owner)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for hid, owner in session.exec(
            select(Hearing.id, Hearing.observation_id).where(col(Hearing.id).in_(chunk))
        ).all():
            if owner != hearing_owner[hid]:
                errors.append(
                    {
                        "loc": f"observations[{index[hearing_owner[hid]]}].hearings",
                        "msg": f"Hearing {hid} already belongs to another observation here.",
                    }
                )
    obs_ids = list(index)
    for start in range(0, len(obs_ids), 500):
        chunk = obs_ids[start : start + 500]
        for oid, observer_id in session.exec(
            select(Observation.id, Observation.observer_id).where(col(Observation.id).in_(chunk))
        ).all():
            entry = doc.observations[index[oid]]
            here = local.get(entry.observer)
            if here is None or here.id != observer_id:
                errors.append(
                    {
                        "loc": f"observations[{index[oid]}].id",
                        "msg": "An observation with this id already exists here, recorded by another observer.",
                    }
                )
    return definitions, errors


def _protocol_version(session: Session, p: ProtocolEntry, result: ImportResult) -> ProtocolVersion:
    """The version here with this protocol name, number and definition; made if there is none.

    When the name and number are taken by a different definition, the version goes under
    “<name> (imported)” so that both stay intact."""
    for name in (p.name, p.name + IMPORTED_SUFFIX):
        protocol = session.exec(
            select(Protocol).where(sa.func.lower(Protocol.name) == name.lower())
        ).first()
        version = None
        if protocol is not None:
            version = session.exec(
                select(ProtocolVersion).where(
                    ProtocolVersion.protocol_id == protocol.id,
                    ProtocolVersion.version == p.version,
                )
            ).first()
            if version is not None:
                if version.definition == p.definition:
                    return version
                continue
        if protocol is None:
            protocol = Protocol(name=name, description=p.description)
            session.add(protocol)
            session.flush()
        now = utcnow()
        version = ProtocolVersion(
            protocol_id=protocol.id,  # type: ignore[arg-type]
            version=p.version,
            status=p.status,
            definition=p.definition,
            published_at=now,
            retired_at=now if p.status == "retired" else None,
        )
        session.add(version)
        session.flush()
        result.protocols_created += 1
        return version
    raise _reject(
        [
            {
                "loc": "protocols",
                "msg": f"“{p.name}” v{p.version} exists here twice with other definitions.",
            }
        ]
    )


def _observer(
    session: Session, entry: ObserverEntry, local: dict[str, User], result: ImportResult
) -> User:
    """The observer's account here; a new, inactive one (no password) if there is none."""
    user = local.get(entry.ref)
    if user is None:
        email = _observer_email(entry)
        name = entry.display_name or f"Imported observer {entry.ref[:12]}"
        user = User(
            email=email,
            display_name=name[:120],
            role=Role.volunteer,
            password_hash="!",  # no password: the account cannot sign in until an admin sets one
            is_active=False,
        )
        session.add(user)
        session.flush()
        result.observers_created += 1
    return user


def _is_newer(entry: ObservationEntry, existing: Observation) -> bool:
    if existing.status == ObservationStatus.submitted and entry.status != "submitted":
        return False
    edited = entry.client_edited_at
    if edited.tzinfo is None:
        edited = edited.replace(tzinfo=existing.client_edited_at.tzinfo)
    if edited != existing.client_edited_at:
        return edited > existing.client_edited_at
    return entry.revision > existing.current_revision


def import_document(
    *, session: Session, raw: bytes, imported_by_id: int | None, secret: str
) -> ImportResult:
    """Check the whole file, then store it in one transaction; ImportRejected stores nothing.
    `secret` is this deployment's, for recognising its own observer references."""
    doc = parse_document(raw)
    local = _local_observers(session, doc, secret)
    definitions, errors = _check(session, doc, local)
    if errors:
        raise _reject(errors)
    result = ImportResult()
    try:
        versions = {
            (p.name, p.version): _protocol_version(session, p, result) for p in doc.protocols
        }
        observers = {o.ref: _observer(session, o, local, result) for o in doc.observers}
        for entry in doc.observations:
            _import_observation(
                session, entry, versions=versions, observers=observers, result=result,
                imported_by_id=imported_by_id,
                definition=definitions[(entry.protocol.name, entry.protocol.version)],
            )  # fmt: skip
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return result


def _import_observation(
    session: Session,
    entry: ObservationEntry,
    *,
    versions: dict[tuple[str, int], ProtocolVersion],
    observers: dict[str, User],
    result: ImportResult,
    imported_by_id: int | None,
    definition: ProtocolDefinition,
) -> None:
    digest = _content_hash(entry)
    existing = session.get(Observation, entry.id)
    if existing is not None:
        if observations_service.has_revision(
            session=session, observation_id=entry.id, payload_hash=digest
        ):
            result.unchanged += 1
            return
        if not _is_newer(entry, existing):
            result.kept += 1
            return
    observer = observers[entry.observer]
    version = versions[(entry.protocol.name, entry.protocol.version)]
    sitting = sessions_service.find_or_create_court_session(
        session=session,
        court=entry.court.court,
        courtroom=entry.court.courtroom,
        session_date=entry.court.session_date,
        start_time=entry.court.start_time,
        judge=entry.court.judge,
        calendar_type=entry.court.calendar_type,
        created_by_id=imported_by_id,
    )
    now = utcnow()
    if existing is None:
        revision = entry.revision_count
        observation = Observation(
            id=entry.id,
            observer_id=observer.id,  # type: ignore[arg-type]
            protocol_version_id=version.id,  # type: ignore[arg-type]
            court_session_id=sitting.id,  # type: ignore[arg-type]
            client_edited_at=entry.client_edited_at,
        )
        observation.current_revision = entry.revision
        result.created += 1
    else:
        observation = existing
        revision = existing.revision_count + 1
        observation.current_revision = revision
        result.updated += 1
    observation.protocol_version_id = version.id  # type: ignore[assignment]
    observation.court_session_id = sitting.id  # type: ignore[assignment]
    observation.status = entry.status
    observation.session_answers = entry.session_answers
    observation.notes = entry.notes
    observation.client_edited_at = entry.client_edited_at
    observation.received_at = entry.received_at or now
    observation.submitted_at = entry.submitted_at
    observation.is_reference = entry.is_reference
    observation.revision_count = revision
    session.add(observation)
    session.flush()
    session.execute(
        sa.insert(ObservationRevision.__table__),  # type: ignore[attr-defined]
        [
            {
                "observation_id": entry.id,
                "revision": revision,
                "user_id": observer.id,
                "status": entry.status,
                "client_edited_at": entry.client_edited_at,
                "received_at": now,
                "based_on_revision": None,
                "payload_hash": digest,
                "payload": entry.model_dump(mode="json"),
            }
        ],
    )
    store.write_current_rows(
        session=session,
        observation=observation,
        hearings=entry.hearings,
        definition=definition,
        session_answers=entry.session_answers,
    )
