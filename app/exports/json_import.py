"""Importing a JSON export into this deployment: a preview first, then the confirmed file.

plan_import reads the file and the database and says, per entry, what would happen; it stores
nothing. apply_import stores a plan in one transaction (the caller confirms first). The rules:

- An observation new here is created, with its observer mapped to an existing account only
  when an admin confirmed that mapping in the preview, otherwise to a placeholder observer
  (an inactive account with no usable password, is_placeholder) standing in for them.
- An observation already here whose current copy has the file's content is "already here".
- Submitted is final, and an observer's own draft is theirs: a different copy of either is
  kept as a revision marked as imported (by the importing user, with the file's name and the
  time) and reported as a conflict, never made current.
- An observation whose current copy came from an earlier import follows lineage: a later
  revision of it at its source (a higher revision number in the file) becomes current;
  another copy is a conflict, kept as a revision.
- Protocol versions are matched by protocol name, version number and definition; one not
  here arrives as an imported version (status "imported"): usable by these observations only,
  offered to no volunteer until a trainer publishes it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import Session, col, select

from app.auth.models import Role, User
from app.db import utcnow
from app.errors import DomainError
from app.exports import json_export
from app.exports.models import PendingImport
from app.exports.schemas import ExportDocument, ObservationEntry, ObserverEntry, ProtocolEntry
from app.exports.service import (
    PLACEHOLDER_DOMAIN,
    ExportOptions,
    Observer,
    pseudonym,
    versions_in,
)
from app.i18n import N_, format_day, gettext, ngettext
from app.json_input import JsonRefused, load_json
from app.observations import service as observations_service
from app.observations import store
from app.observations.models import (
    Hearing,
    Observation,
    ObservationRevision,
    ObservationStatus,
    RevisionSource,
)
from app.protocols.definition import (
    DefinitionInvalid,
    ProtocolDefinition,
    from_pydantic_error,
    parse_definition,
    validate_answers,
    validate_turns,
)
from app.protocols.models import Protocol, ProtocolVersion, VersionStatus
from app.sessions import service as sessions_service

MAX_IMPORT_BYTES = 200 * 1024 * 1024
MAX_ERRORS = 50
IMPORTED_SUFFIX = " (imported)"
# What says how an entry travelled rather than what was observed: left out of the comparison.
NOT_CONTENT = frozenset({"observer", "revision", "revision_count", "received_at"})

Outcome = Literal["create", "update", "unchanged", "conflict"]
# An observation's status as a plan's reason says it.
STATUS_WORDS = {ObservationStatus.draft: N_("draft"), ObservationStatus.submitted: N_("submitted")}


class ImportRejected(DomainError):
    status_code = 422


def _reject(errors: list[dict[str, str]], message: str | None = None) -> ImportRejected:
    shown = errors[:MAX_ERRORS]
    more = len(errors) - len(shown)
    if more:
        shown.append(
            {
                "loc": "",
                "msg": ngettext("… and %(num)s more problem.", "… and %(num)s more problems.", more)
                % {"num": more},
            }
        )
    count = len(errors)
    return ImportRejected(
        message
        or ngettext(
            "The file has %(num)s problem; nothing was imported.",
            "The file has %(num)s problems; nothing was imported.",
            count,
        )
        % {"num": count},
        errors=shown,
    )


def parse_document(raw: bytes) -> ExportDocument:
    """The document, or ImportRejected listing what is wrong with it."""
    if len(raw) > MAX_IMPORT_BYTES:
        raise _reject(
            [
                {
                    "loc": "file",
                    "msg": gettext(
                        "The file is larger than %(size)s MB.", size=MAX_IMPORT_BYTES // 2**20
                    ),
                }
            ]
        )
    if not raw.strip():
        raise _reject([{"loc": "file", "msg": gettext("The file is empty.")}])
    try:
        data = load_json(raw)
    except JsonRefused as exc:
        raise _reject([{"loc": "file", "msg": exc.message}]) from None
    if not isinstance(data, dict) or data.get("format") != "courtwatch-observations":
        raise _reject(
            [
                {
                    "loc": "format",
                    "msg": gettext(
                        "This is not a Courtwatch observations export "
                        '(expected "format": "courtwatch-observations").'
                    ),
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


def _check(
    session: Session, doc: ExportDocument
) -> tuple[dict[tuple[str, int], ProtocolDefinition], list[dict[str, str]]]:
    """Every problem of a well-shaped document: references, definitions, answers, ids. Reads only."""
    errors: list[dict[str, str]] = []
    definitions: dict[tuple[str, int], ProtocolDefinition] = {}
    for i, p in enumerate(doc.protocols):
        key = (p.name, p.version)
        if key in definitions:
            errors.append(
                {
                    "loc": f"protocols[{i}]",
                    "msg": gettext(
                        "“%(name)s” v%(version)s is listed twice.", name=p.name, version=p.version
                    ),
                }
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
        errors.append(
            {"loc": "observers", "msg": gettext("An observer reference is listed twice.")}
        )
    seen_obs: set[uuid.UUID] = set()
    hearing_owner: dict[uuid.UUID, uuid.UUID] = {}
    for i, o in enumerate(doc.observations):
        where = f"observations[{i}]"
        if o.id in seen_obs:
            errors.append(
                {"loc": f"{where}.id", "msg": gettext("This observation id is listed twice.")}
            )
        seen_obs.add(o.id)
        if o.observer not in refs:
            errors.append(
                {
                    "loc": f"{where}.observer",
                    "msg": gettext("No observer “%(ref)s” in observers.", ref=o.observer),
                }
            )
        definition = definitions.get((o.protocol.name, o.protocol.version))
        if definition is None:
            errors.append(
                {
                    "loc": f"{where}.protocol",
                    "msg": gettext(
                        "No protocol “%(name)s” v%(version)s in protocols.",
                        name=o.protocol.name,
                        version=o.protocol.version,
                    ),
                }
            )
            continue
        for e in validate_answers(definition, o.session_answers, level="session", strict=False):
            errors.append({"loc": f"{where}.session_{e.loc}", "msg": e.msg})
        positions: set[int] = set()
        for j, h in enumerate(o.hearings):
            hwhere = f"{where}.hearings[{j}]"
            if h.id in hearing_owner:
                errors.append(
                    {"loc": f"{hwhere}.id", "msg": gettext("This hearing id is listed twice.")}
                )
            hearing_owner[h.id] = o.id
            if h.position in positions:
                errors.append(
                    {
                        "loc": f"{hwhere}.position",
                        "msg": gettext("Two hearings share this position."),
                    }
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
                        "msg": gettext(
                            "Hearing %(id)s already belongs to another observation here.", id=hid
                        ),
                    }
                )
    return definitions, errors


def content_hash(entry: ObservationEntry) -> str:
    """A digest of what was observed (not of how the entry travelled): equal content, equal hash."""
    content = {k: v for k, v in entry.model_dump(mode="json").items() if k not in NOT_CONTENT}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def placeholder_email(ref: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", ref.lower()).strip("-")[:64] or "unknown"
    return f"observer-{slug}@{PLACEHOLDER_DOMAIN}"


# --- the plan (reads only) -------------------------------------------------------------------


@dataclass
class ProtocolPlan:
    entry: ProtocolEntry
    local: ProtocolVersion | None  # the same version here already
    store_under: str  # the protocol name a new imported version goes under

    @property
    def label(self) -> str:
        return f"{self.entry.name} v{self.entry.version}"


@dataclass
class ObserverPlan:
    index: int
    entry: ObserverEntry
    account: User | None  # an account here the file's observer matches (by email or reference)
    placeholder: User | None  # the placeholder standing in for them here already
    mapped: bool  # an admin confirmed the mapping to `account`
    needed: bool = False  # a new observation of the file is theirs

    @property
    def user(self) -> User | None:
        return self.account if self.mapped else self.placeholder

    @property
    def placeholder_email(self) -> str:
        return placeholder_email(self.entry.ref)

    @property
    def placeholder_name(self) -> str:
        name = self.entry.display_name or f"Observer {self.entry.ref[:40]}"
        return (name + IMPORTED_SUFFIX)[:120]


@dataclass
class EntryPlan:
    index: int
    entry: ObservationEntry
    digest: str
    outcome: Outcome
    reason: str
    existing: Observation | None = None

    @property
    def where(self) -> str:
        court = self.entry.court
        return f"{court.court} · {court.courtroom} · {court.session_date.isoformat()}"


@dataclass
class ImportPlan:
    document: ExportDocument
    definitions: dict[tuple[str, int], ProtocolDefinition]
    protocols: list[ProtocolPlan]
    observers: list[ObserverPlan]
    entries: list[EntryPlan]
    may_map_accounts: bool

    def count(self, outcome: Outcome) -> int:
        return sum(1 for e in self.entries if e.outcome == outcome)

    @property
    def counts(self) -> dict[str, int]:
        return {o: self.count(o) for o in ("create", "update", "unchanged", "conflict")}

    @property
    def mappable(self) -> list[ObserverPlan]:
        return [o for o in self.observers if o.account is not None and self.may_map_accounts]


def _find_accounts(session: Session, doc: ExportDocument, secret: str) -> dict[str, User]:
    """The file's observers who have an account here (never a placeholder): by email, or, in
    a file without identities, by the reference this deployment gives its observers in
    exports (a set exported without identities names its own deployment's people)."""
    found: dict[str, User] = {}
    anonymous = {o.ref for o in doc.observers if not o.email}
    real = col(User.is_placeholder).is_(False)
    if anonymous:
        for user_id, email in session.exec(select(User.id, User.email).where(real)).all():
            ref = pseudonym(user_id, email, secret)  # type: ignore[arg-type]
            if ref in anonymous:
                user = session.get(User, user_id)
                if user is not None:
                    found[ref] = user
    for o in doc.observers:
        if o.email:
            user = session.exec(
                select(User).where(sa.func.lower(User.email) == o.email.strip().lower(), real)
            ).first()
            if user is not None:
                found[o.ref] = user
    return found


def _plan_observers(
    session: Session,
    doc: ExportDocument,
    *,
    secret: str,
    may_map_accounts: bool,
    mapped: Collection[str],
) -> list[ObserverPlan]:
    accounts = _find_accounts(session, doc, secret)
    plans = []
    for i, o in enumerate(doc.observers):
        placeholder = session.exec(
            select(User).where(User.email == placeholder_email(o.ref), col(User.is_placeholder))
        ).first()
        account = accounts.get(o.ref)
        plans.append(
            ObserverPlan(
                index=i,
                entry=o,
                account=account,
                placeholder=placeholder,
                mapped=may_map_accounts and account is not None and o.ref in mapped,
            )
        )
    return plans


def _plan_protocol(session: Session, p: ProtocolEntry) -> ProtocolPlan:
    """The version here with this protocol name, number and definition, or where a new one goes:
    under its own name when that number is free there, else under “<name> (imported)”."""
    for name in (p.name, p.name + IMPORTED_SUFFIX):
        protocol = session.exec(
            select(Protocol).where(sa.func.lower(Protocol.name) == name.lower())
        ).first()
        if protocol is None:
            return ProtocolPlan(entry=p, local=None, store_under=name)
        version = session.exec(
            select(ProtocolVersion).where(
                ProtocolVersion.protocol_id == protocol.id, ProtocolVersion.version == p.version
            )
        ).first()
        if version is None:
            return ProtocolPlan(entry=p, local=None, store_under=protocol.name)
        if version.definition == p.definition:
            return ProtocolPlan(entry=p, local=version, store_under=protocol.name)
    raise _reject(
        [
            {
                "loc": "protocols",
                "msg": gettext(
                    "“%(name)s” v%(version)s exists here twice with other definitions.",
                    name=p.name,
                    version=p.version,
                ),
            }
        ]
    )


def _current_digests(
    session: Session, existing: list[Observation], options: ExportOptions
) -> dict[uuid.UUID, str]:
    """Per observation here: the content hash of its current copy as an export with the
    file's options would hold it (so that a file without free text compares without it)."""
    if not existing:
        return {}
    docs = observations_service.observation_document(
        session=session, observation_ids=[o.id for o in existing]
    )
    versions = {
        v.id: v
        for v in versions_in(
            session=session, version_ids=sorted({o.protocol_version_id for o in existing})
        )
    }
    nobody = Observer(ref="-", name="", email="")
    observers = {o.observer_id: nobody for o in existing}
    digests = {}
    for doc in docs:
        entry = json_export.observation_entry(
            doc, versions=versions, observers=observers, options=options
        )
        digests[doc["id"] if isinstance(doc["id"], uuid.UUID) else uuid.UUID(str(doc["id"]))] = (
            content_hash(ObservationEntry.model_validate(entry))
        )
    return digests


def _current_revision(session: Session, observation: Observation) -> ObservationRevision | None:
    return session.exec(
        select(ObservationRevision).where(
            ObservationRevision.observation_id == observation.id,
            ObservationRevision.revision == observation.current_revision,
        )
    ).first()


def _plan_entry(
    session: Session, i: int, entry: ObservationEntry, *, current: dict[uuid.UUID, str]
) -> EntryPlan:
    digest = content_hash(entry)
    existing = session.get(Observation, entry.id)
    plan = EntryPlan(index=i, entry=entry, digest=digest, outcome="create", reason="")
    if existing is None:
        plan.reason = gettext("New here.")
        return plan
    plan.existing = existing
    if current.get(existing.id) == digest:
        plan.outcome, plan.reason = "unchanged", gettext("Already here: the same content.")
        return plan
    kept = session.exec(
        select(ObservationRevision.revision).where(
            ObservationRevision.observation_id == existing.id,
            ObservationRevision.payload_hash == digest,
        )
    ).first()
    if kept is not None:
        plan.outcome = "unchanged"
        plan.reason = gettext(
            "Already here as revision %(revision)s, kept beside the current copy "
            "(revision %(current)s); nothing new to store.",
            revision=kept,
            current=existing.current_revision,
        )
        return plan
    keep_as = existing.revision_count + 1  # the revision the file's copy is kept as
    if existing.status == ObservationStatus.submitted:
        when = existing.submitted_at or existing.client_edited_at
        plan.outcome = "conflict"
        plan.reason = gettext(
            "Submitted here on %(date)s and final: the file's copy is kept as revision "
            "%(revision)s (imported), not made current.",
            date=format_day(when),
            revision=keep_as,
        )
        return plan
    revision = _current_revision(session, existing)
    if revision is None or revision.source != RevisionSource.import_:
        plan.outcome = "conflict"
        plan.reason = gettext(
            "A draft its observer is still working on here: the file's copy is kept as "
            "revision %(revision)s (imported); the observer's draft stays current.",
            revision=keep_as,
        )
        return plan
    # The current copy came from an earlier import: a later revision of it at its source wins.
    source_revision = int((revision.payload or {}).get("revision") or 0)
    if entry.status == ObservationStatus.submitted or entry.revision > source_revision:
        plan.outcome = "update"
        plan.reason = gettext(
            "A later revision (%(revision)s, %(status)s) of the imported copy here "
            "(revision %(source)s at its source).",
            revision=entry.revision,
            status=gettext(STATUS_WORDS.get(entry.status, entry.status)),
            source=source_revision,
        )
        return plan
    plan.outcome = "conflict"
    plan.reason = gettext(
        "Another copy of revision %(revision)s at its source than the one imported here: the "
        "file's copy is kept as revision %(kept)s (imported), not made current.",
        revision=entry.revision,
        kept=keep_as,
    )
    return plan


def plan_import(
    *,
    session: Session,
    raw: bytes,
    secret: str,
    may_map_accounts: bool = False,
    mapped: Collection[str] = (),
) -> ImportPlan:
    """What importing the file would do, entry by entry; ImportRejected when the file has any
    problem. Reads only. `secret` is this deployment's (to recognise its own observer
    references); `mapped` the observer references an admin confirmed to map to accounts here
    (ignored unless `may_map_accounts`)."""
    doc = parse_document(raw)
    definitions, errors = _check(session, doc)
    if errors:
        raise _reject(errors)
    protocols = [_plan_protocol(session, p) for p in doc.protocols]
    observers = _plan_observers(
        session, doc, secret=secret, may_map_accounts=may_map_accounts, mapped=mapped
    )
    options = ExportOptions(
        free_text=bool((doc.options or {}).get("free_text", True)),
        identities=bool((doc.options or {}).get("identities", True)),
    )
    ids = [o.id for o in doc.observations]
    existing = []
    for start in range(0, len(ids), 500):
        existing.extend(
            session.exec(
                select(Observation).where(col(Observation.id).in_(ids[start : start + 500]))
            ).all()
        )
    current = _current_digests(session, existing, options)
    entries = [_plan_entry(session, i, e, current=current) for i, e in enumerate(doc.observations)]
    by_ref = {o.entry.ref: o for o in observers}
    for e in entries:
        if e.outcome == "create":
            by_ref[e.entry.observer].needed = True
    return ImportPlan(
        document=doc,
        definitions=definitions,
        protocols=protocols,
        observers=observers,
        entries=entries,
        may_map_accounts=may_map_accounts,
    )


# --- storing a confirmed plan ----------------------------------------------------------------


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0
    protocols_created: int = 0
    observers_created: int = 0
    entries: list[EntryPlan] = field(default_factory=list)


def _store_protocol(
    session: Session, plan: ProtocolPlan, *, imported_by_id: int | None
) -> ProtocolVersion:
    if plan.local is not None:
        return plan.local
    p = plan.entry
    protocol = session.exec(
        select(Protocol).where(sa.func.lower(Protocol.name) == plan.store_under.lower())
    ).first()
    if protocol is None:
        protocol = Protocol(
            name=plan.store_under, description=p.description, created_by_id=imported_by_id
        )
        session.add(protocol)
        session.flush()
    version = ProtocolVersion(
        protocol_id=protocol.id,  # type: ignore[arg-type]
        version=p.version,
        status=VersionStatus.imported,
        definition=p.definition,
        created_by_id=imported_by_id,
    )
    session.add(version)
    session.flush()
    plan.local = version
    return version


def _store_observer(session: Session, plan: ObserverPlan) -> tuple[User, bool]:
    """The observer's account here (mapped or placeholder), and whether it was made now."""
    user = plan.user
    if user is not None:
        return user, False
    user = User(
        email=plan.placeholder_email,
        display_name=plan.placeholder_name,
        role=Role.volunteer,
        password_hash="!",  # matches no password: a placeholder never signs in
        is_active=False,
        is_placeholder=True,
    )
    session.add(user)
    session.flush()
    plan.placeholder = user
    return user, True


def apply_import(
    *, session: Session, plan: ImportPlan, imported_by_id: int, file_name: str
) -> ImportResult:
    """Store a plan (made in this transaction: plan_import, then this) and commit."""
    result = ImportResult(entries=plan.entries)
    try:
        versions = {(p.entry.name, p.entry.version): p for p in plan.protocols}
        by_ref = {o.entry.ref: o for o in plan.observers}
        for e in plan.entries:
            if e.outcome == "unchanged":
                result.unchanged += 1
                continue
            observer_id = version = None
            if e.outcome in ("create", "update"):  # a conflict stores only a revision
                protocol = versions[(e.entry.protocol.name, e.entry.protocol.version)]
                result.protocols_created += protocol.local is None
                version = _store_protocol(session, protocol, imported_by_id=imported_by_id)
            if e.outcome == "create":
                observer, new = _store_observer(session, by_ref[e.entry.observer])
                result.observers_created += new
                observer_id = observer.id
            _store_entry(
                session,
                e,
                version=version,
                observer_id=observer_id,
                imported_by_id=imported_by_id,
                file_name=file_name,
                definition=plan.definitions[(e.entry.protocol.name, e.entry.protocol.version)],
            )
            if e.outcome == "create":
                result.created += 1
            elif e.outcome == "update":
                result.updated += 1
            else:
                result.conflicts += 1
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return result


def _store_entry(
    session: Session,
    plan: EntryPlan,
    *,
    version: ProtocolVersion | None,
    observer_id: int | None,
    imported_by_id: int,
    file_name: str,
    definition: ProtocolDefinition,
) -> None:
    entry = plan.entry
    now = utcnow()
    existing = plan.existing
    if existing is None:
        assert version is not None
        revision = entry.revision_count
        observation = Observation(
            id=entry.id,
            observer_id=observer_id,  # type: ignore[arg-type]
            protocol_version_id=version.id,  # type: ignore[arg-type]
            court_session_id=0,
            client_edited_at=entry.client_edited_at,
        )
    else:
        observation = existing
        revision = existing.revision_count + 1
    observation.revision_count = revision
    wins = plan.outcome in ("create", "update")
    if wins:
        assert version is not None
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
        observation.current_revision = revision
        observation.protocol_version_id = version.id  # type: ignore[assignment]
        observation.court_session_id = sitting.id  # type: ignore[assignment]
        observation.status = entry.status
        observation.session_answers = entry.session_answers
        observation.notes = entry.notes
        observation.client_edited_at = entry.client_edited_at
        observation.received_at = entry.received_at or now
        observation.submitted_at = entry.submitted_at
        observation.is_reference = entry.is_reference
    session.add(observation)
    session.flush()
    session.execute(
        sa.insert(ObservationRevision.__table__),  # type: ignore[attr-defined]
        [
            {
                "observation_id": entry.id,
                "revision": revision,
                "user_id": imported_by_id,  # who really made this revision
                "status": entry.status,
                "client_edited_at": entry.client_edited_at,
                "received_at": now,
                "based_on_revision": None,
                "payload_hash": plan.digest,
                "payload": entry.model_dump(mode="json"),
                "source": RevisionSource.import_,
                "import_file_name": file_name[:255],
            }
        ],
    )
    if wins:
        store.write_current_rows(
            session=session,
            observation=observation,
            hearings=entry.hearings,
            definition=definition,
            session_answers=entry.session_answers,
        )


# --- the file between preview and confirmation ------------------------------------------------


class PreviewGone(DomainError):
    status_code = 404


def hold_upload(
    *, session: Session, user_id: int, file_name: str, raw: bytes, ttl_seconds: int
) -> PendingImport:
    """Keep an uploaded file for its confirmation, under a new random token bound to the user
    (expired files of anyone are dropped on the way)."""
    now = utcnow()
    session.execute(sa.delete(PendingImport).where(col(PendingImport.expires_at) < now))
    pending = PendingImport(
        token=secrets.token_urlsafe(32),
        user_id=user_id,
        file_name=(file_name or "import.json")[:255],
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        content=raw,
        expires_at=now + timedelta(seconds=ttl_seconds),
    )
    session.add(pending)
    session.flush()
    return pending


def held_upload(*, session: Session, token: str, user_id: int, sha256: str) -> PendingImport:
    """The file previewed under `token` by this user, checked to be the very file previewed
    (`sha256` as the preview showed it); PreviewGone otherwise."""
    pending = session.exec(
        select(PendingImport).where(PendingImport.token == token[:64]).with_for_update()
    ).first()
    gone = gettext(
        "This preview is no longer open (confirmed already, expired or not yours): upload the "
        "file again."
    )
    if (
        pending is None
        or pending.user_id != user_id
        or pending.confirmed_at is not None
        or pending.expires_at < utcnow()
    ):
        raise PreviewGone(gone)
    if not (
        hmac.compare_digest(pending.sha256, sha256)
        and hmac.compare_digest(hashlib.sha256(pending.content).hexdigest(), pending.sha256)
    ):
        raise PreviewGone(gettext("The file confirmed is not the file previewed: upload it again."))
    return pending


def claim_upload(*, session: Session, pending: PendingImport) -> None:
    """Mark the held file confirmed (once: a second confirmation of it is PreviewGone) and drop
    its bytes (its name, size and digest stay); the caller commits with what it stores."""
    claimed = session.execute(
        sa.update(PendingImport)
        .where(col(PendingImport.id) == pending.id, col(PendingImport.confirmed_at).is_(None))
        .values(confirmed_at=utcnow(), content=b"")
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise PreviewGone(gettext("This file was confirmed already."))
