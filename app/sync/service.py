"""The server side of the sync contract: take whole observations from phones, never lose one,
never store one twice.

Each item of a batch is checked on its own (shape, ownership, protocol, answers, turns) before
anything is written, so one bad observation never blocks the others. A valid item is kept as
an append-only revision; the current rows (observation, hearings, answers, turns) follow the
winning revision: a submitted one if any (submitted is final), otherwise the latest by the
phone's edit time, then revision number. The same content sent again is `unchanged`.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import Session, col, select

from app.auth.models import User
from app.db import utcnow
from app.observations import service as observations_service
from app.observations import store
from app.observations.models import Hearing, Observation, ObservationRevision, ObservationStatus
from app.protocols.definition import (
    DefinitionInvalid,
    FieldError,
    ProtocolDefinition,
    from_pydantic_error,
    parse_definition,
    validate_answers,
    validate_turns,
)
from app.protocols.models import ProtocolVersion, VersionStatus
from app.review import service as review_service
from app.sessions import courts
from app.sessions import service as sessions_service
from app.sessions.models import Assignment, AssignmentStatus
from app.sessions.schemas import CALENDAR_LABELS
from app.sync import merge
from app.sync.schemas import FieldErrorOut, ItemResult, ObservationIn

# Content that defines a revision; the rest (which device, which revision it was based on)
# describes how it travelled.
TRAVEL_FIELDS = {"based_on_revision", "device_id"}
USABLE_STATUSES = {VersionStatus.published, VersionStatus.retired}


@dataclass
class _Protocols:
    """Protocol versions met in one batch, parsed once."""

    session: Session
    found: dict[int, tuple[ProtocolVersion, ProtocolDefinition] | None] = field(
        default_factory=dict
    )
    # Ad hoc court details already resolved to a sitting in this batch.
    sittings: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def get(self, version_id: int) -> tuple[ProtocolVersion, ProtocolDefinition] | None:
        if version_id not in self.found:
            version = self.session.get(ProtocolVersion, version_id)
            parsed: tuple[ProtocolVersion, ProtocolDefinition] | None = None
            if version is not None:
                try:
                    parsed = (version, _parsed_definition(version))
                except DefinitionInvalid:
                    parsed = None
            self.found[version_id] = parsed
        return self.found[version_id]


# Protocol definitions parsed before, by their text: the sync parses a version once per
# process, not at every batch.
_PARSED: dict[str, ProtocolDefinition] = {}
_PARSED_LIMIT = 256


def _parsed_definition(version: ProtocolVersion) -> ProtocolDefinition:
    key = hashlib.sha256(json.dumps(version.definition).encode()).hexdigest()
    parsed = _PARSED.get(key)
    if parsed is None:
        parsed = parse_definition(version.definition)
        if len(_PARSED) >= _PARSED_LIMIT:
            _PARSED.clear()
        _PARSED[key] = parsed
    return parsed


class _Refused(Exception):
    def __init__(self, reason: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors or []


def payload_hash(raw: dict[str, Any]) -> str:
    """A digest of what the phone sent, less how it travelled: the same content, the same hash."""
    content = {k: v for k, v in raw.items() if k not in TRAVEL_FIELDS}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _nul_path(value: Any, loc: str = "") -> str | None:
    """Where a NUL character hides in the item (databases refuse to store one), if anywhere."""
    if isinstance(value, str):
        return loc if "\x00" in value else None
    if isinstance(value, dict):
        for key, inner in value.items():
            sub = f"{loc}.{key}" if loc else str(key)
            if "\x00" in str(key):
                return sub
            found = _nul_path(inner, sub)
            if found is not None:
                return found
    if isinstance(value, list):
        for i, inner in enumerate(value):
            found = _nul_path(inner, f"{loc}[{i}]")
            if found is not None:
                return found
    return None


def _raw_id(raw: Any) -> uuid.UUID | None:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        try:
            return uuid.UUID(raw["id"])
        except ValueError:
            return None
    return None


def _out(errors: list[FieldError]) -> list[FieldErrorOut]:
    return [FieldErrorOut(loc=e.loc, msg=e.msg) for e in errors]


def _problems_reason(errors: list[FieldError]) -> str:
    if len(errors) == 1:
        return "One problem to fix before this observation can be stored: " + errors[0].msg
    return f"{len(errors)} problems to fix before this observation can be stored."


def ingest_batch(
    *, session: Session, user: User, items: list[Any], may_hold_nul: bool = True
) -> list[ItemResult]:
    """One result per item, in order. Writes are flushed; the caller commits.

    Every sitting the batch writes to is found or created and then locked, in id order,
    before anything else is written (_lock_sittings): phones syncing one sitting through
    several processes then queue on it instead of deadlocking.

    `may_hold_nul` False (the raw body had no \\u0000 escape) skips looking for NUL characters.
    """
    protocols = _Protocols(session)
    parsed = [
        _parse_item(index=i, raw=raw, may_hold_nul=may_hold_nul) for i, raw in enumerate(items)
    ]
    _lock_sittings(
        session=session,
        user=user,
        items=[
            (p, items[p_index]) for p_index, p in enumerate(parsed) if isinstance(p, ObservationIn)
        ],
        protocols=protocols,
    )
    return [
        p
        if isinstance(p, ItemResult)
        else _ingest_item(
            session=session, user=user, index=i, item=p, raw=items[i], protocols=protocols
        )
        for i, p in enumerate(parsed)
    ]


def _parse_item(*, index: int, raw: Any, may_hold_nul: bool) -> ItemResult | ObservationIn:
    """The item checked for shape: an ObservationIn, or its `invalid` result."""
    raw_id = _raw_id(raw)
    if not isinstance(raw, dict):
        return ItemResult(
            id=None,
            index=index,
            result="invalid",
            reason="Each observation must be a JSON object.",
            errors=[FieldErrorOut(loc="", msg="Expected an object ({…}).")],
        )
    nul = _nul_path(raw) if may_hold_nul else None
    if nul is not None:
        return ItemResult(
            id=raw_id,
            index=index,
            result="invalid",
            reason="Text may not contain NUL characters.",
            errors=[FieldErrorOut(loc=nul, msg="Remove the NUL character (\\u0000).")],
        )
    try:
        return ObservationIn.model_validate(raw)
    except ValidationError as exc:
        errors = [from_pydantic_error(e) for e in exc.errors()]
        return ItemResult(
            id=raw_id,
            index=index,
            result="invalid",
            reason=_problems_reason(errors),
            errors=_out(errors),
        )


def _lock_sittings(
    *,
    session: Session,
    user: User,
    items: list[tuple[ObservationIn, dict[str, Any]]],
    protocols: _Protocols,
) -> None:
    """Find (or create) and lock every sitting these items may write to, before any other
    write: the sitting an observation is stored under now, its assignment's, and its ad hoc
    court details' (created only for an item that passes its checks, so a refused
    observation leaves no empty sitting behind). Read without locks; _ingest_item reads
    again under them."""
    if not items:
        return
    stored = {
        o.id: o
        for o in session.exec(
            select(Observation).where(col(Observation.id).in_([item.id for item, _ in items]))
        )
    }
    sitting_ids: set[int] = set()
    ad_hoc: list[tuple[tuple[Any, ...], ObservationIn, dict[str, Any], Observation | None]] = []
    for item, raw in items:
        existing = stored.get(item.id)
        if existing is not None:
            if existing.observer_id != user.id:
                continue
            sitting_ids.add(existing.court_session_id)
        if item.assignment_id is not None:
            assignment = session.get(Assignment, item.assignment_id)
            if assignment is not None and assignment.volunteer_id == user.id:
                sitting_ids.add(assignment.court_session_id)
        elif item.court is not None and item.court.calendar_type in CALENDAR_LABELS:
            ad_hoc.append((_sitting_key(item), item, raw, existing))
    # Court details in one order, so two batches creating the same new rows meet in one order.
    for key, item, raw, existing in sorted(ad_hoc, key=lambda entry: entry[0]):
        if key in protocols.sittings:
            sitting_ids.add(protocols.sittings[key])
            continue
        found = _ad_hoc_sitting_id(session=session, user=user, item=item, create=False)
        if found is None and _passes_checks(
            session=session, user=user, item=item, raw=raw, existing=existing, protocols=protocols
        ):
            found = _ad_hoc_sitting_id(session=session, user=user, item=item, create=True)
        if found is not None:
            protocols.sittings[key] = found
            sitting_ids.add(found)
    sessions_service.lock_court_sessions(session=session, court_session_ids=sitting_ids)


def _sitting_key(item: ObservationIn) -> tuple[Any, ...]:
    assert item.court is not None
    court = item.court
    return (
        courts.name_key(court.court),
        courts.clean_name(court.courtroom).lower(),
        court.session_date,
        court.calendar_type,
    )


def _ad_hoc_sitting_id(
    *, session: Session, user: User, item: ObservationIn, create: bool
) -> int | None:
    assert item.court is not None
    return sessions_service.court_session_id_for(
        session=session,
        court=item.court.court,
        courtroom=item.court.courtroom,
        session_date=item.court.session_date,
        start_time=item.court.start_time,
        judge=item.court.judge,
        calendar_type=item.court.calendar_type,
        created_by_id=user.id,
        create=create,
    )


def _passes_checks(
    *,
    session: Session,
    user: User,
    item: ObservationIn,
    raw: dict[str, Any],
    existing: Observation | None,
    protocols: _Protocols,
) -> bool:
    if existing is not None and existing.status == ObservationStatus.submitted:
        return False
    try:
        _check(
            session=session, user=user, item=item, raw=raw, existing=existing, protocols=protocols
        )
    except _Refused:
        return False
    return True


def _ingest_item(
    *,
    session: Session,
    user: User,
    index: int,
    item: ObservationIn,
    raw: dict[str, Any],
    protocols: _Protocols,
) -> ItemResult:
    existing = session.exec(
        select(Observation)
        .where(Observation.id == item.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    try:
        return _store(session=session, user=user, index=index, item=item, raw=raw, existing=existing, protocols=protocols)  # fmt: skip
    except _Refused as refused:
        kept = _store_the_rest(session=session, user=user, index=index, raw=raw, existing=existing, protocols=protocols, refused=refused)  # fmt: skip
        if kept is not None:
            return kept
        return ItemResult(
            id=item.id,
            index=index,
            result="invalid",
            revision=existing.current_revision
            if existing and existing.observer_id == user.id
            else None,
            reason=refused.reason,
            errors=_out(refused.errors),
        )


_HEARING_LOC = re.compile(r"^hearings\[(\d+)\]")


def _store_the_rest(
    *,
    session: Session,
    user: User,
    index: int,
    raw: dict[str, Any],
    existing: Observation | None,
    protocols: _Protocols,
    refused: _Refused,
) -> ItemResult | None:
    """When only some hearings hold the problems, the rest of the observation is stored as a
    draft (a refusal never leaves the volunteer with nothing on the server); the item is still
    answered `invalid` with every problem, for the phone to show beside its hearing."""
    if not refused.errors or any(not _HEARING_LOC.match(e.loc) for e in refused.errors):
        return None
    bad = {int(m.group(1)) for e in refused.errors if (m := _HEARING_LOC.match(e.loc))}
    hearings = raw.get("hearings")
    if not isinstance(hearings, list):
        return None
    # A refused hearing the server already holds keeps its stored version: the refusal never
    # loses what was accepted before.
    current = (
        _revision_payload(session, existing.id, existing.current_revision)
        if existing is not None and existing.observer_id == user.id
        else None
    ) or {}
    stored_hearings = {h.get("id"): h for h in current.get("hearings", []) if isinstance(h, dict)}
    kept: list[Any] = []
    for i, hearing in enumerate(hearings):
        if i not in bad:
            kept.append(hearing)
        elif isinstance(hearing, dict) and hearing.get("id") in stored_hearings:
            kept.append({**stored_hearings[hearing["id"]], "position": hearing.get("position", i)})
    rest = {**raw, "status": ObservationStatus.draft.value, "hearings": kept}
    try:
        item = ObservationIn.model_validate(rest)
    except ValidationError:
        return None
    try:
        # _store refuses before it writes anything (_check reads only).
        stored = _store(session=session, user=user, index=index, item=item, raw=rest, existing=existing, protocols=protocols)  # fmt: skip
    except _Refused:
        return None
    return ItemResult(
        id=item.id,
        index=index,
        result="invalid",
        revision=stored.revision,
        reason=refused.reason
        + f" The rest ({len(hearings) - len(bad)} of {len(hearings)} hearings) is stored on the"
        " server as a draft; a refused hearing the server had keeps its earlier version.",
        errors=_out(refused.errors),
    )


def _store(
    *,
    session: Session,
    user: User,
    index: int,
    item: ObservationIn,
    raw: dict[str, Any],
    existing: Observation | None,
    protocols: _Protocols,
) -> ItemResult:
    if existing is not None and existing.observer_id != user.id:
        raise _Refused(
            "This observation belongs to another account; nothing was changed.",
            [FieldError("id", "This id is already used by an observation of another account.")],
        )
    digest = payload_hash(raw)
    if existing is not None:
        if observations_service.has_revision(
            session=session, observation_id=item.id, payload_hash=digest
        ):
            current = session.execute(
                sa.select(ObservationRevision.payload_hash).where(
                    ObservationRevision.observation_id == item.id,
                    ObservationRevision.revision == existing.current_revision,
                )
            ).scalar_one_or_none()
            return ItemResult(
                id=item.id,
                index=index,
                result="unchanged",
                revision=existing.current_revision,
                server_copy_differs=current != digest,
            )
        if existing.status == ObservationStatus.submitted:
            when = existing.submitted_at or existing.client_edited_at
            raise _Refused(
                f"This observation was submitted on {when:%Y-%m-%d at %H:%M} UTC and is final; "
                "this later change was not stored."
            )
    _check(session=session, user=user, item=item, raw=raw, existing=existing, protocols=protocols)
    received, received_raw, received_digest = item, raw, digest
    merged: merge.Merged | None = None
    if existing is not None:
        merged = _merge_with_current(session=session, existing=existing, item=item, raw=raw)
        if merged is not None and payload_hash(merged.payload) == digest:
            merged = merge.Merged(received_raw, merged.conflict)  # nothing came from the other side
        if merged is not None and merged.payload is not received_raw:
            try:
                item = ObservationIn.model_validate(merged.payload)
                _check(session=session, user=user, item=item, raw=merged.payload, existing=existing, protocols=protocols)  # fmt: skip
                raw = merged.payload
            except (ValidationError, _Refused):
                # The merge does not hold together: this device's copy, received last, wins.
                item, raw, merged = received, received_raw, merge.Merged(received_raw, True)
    court_session_id = _court_session_for(
        session=session, user=user, item=item, known=protocols.sittings
    )
    revision = (existing.revision_count + 1) if existing is not None else 1
    now = utcnow()
    edited_at = _aware(item.client_edited_at)
    if existing is None:
        observation = Observation(
            id=item.id,
            observer_id=user.id,  # type: ignore[arg-type]
            protocol_version_id=item.protocol_version_id,
            assignment_id=item.assignment_id,
            court_session_id=court_session_id,
            client_edited_at=edited_at,
            received_at=now,
        )
        result = "created"
        wins = True
    else:
        observation = existing
        result = "updated"
        wins = _wins(existing, received, edited_at) or merged is not None
    rows = [
        {
            "observation_id": item.id,
            "revision": revision,
            "user_id": user.id,
            "status": received.status,
            "client_edited_at": received.client_edited_at,
            "received_at": now,
            "based_on_revision": received.based_on_revision,
            "payload_hash": received_digest,
            "payload": received_raw,  # exactly what was received
        }
    ]
    differs = False
    if merged is not None and raw is not received_raw:
        # The merge is a revision of its own, based on the current one: the current copy is
        # always one stored revision.
        revision += 1
        differs = True
        rows.append(
            {
                **rows[0],
                "revision": revision,
                "status": item.status,
                "based_on_revision": existing.current_revision,  # type: ignore[union-attr]
                "payload_hash": payload_hash(raw),
                "payload": raw,
            }
        )
    observation.revision_count = revision
    if merged is not None and merged.conflict:
        observation.device_conflict = True
    session.add(observation)
    session.flush()
    session.execute(sa.insert(ObservationRevision.__table__), rows)  # type: ignore[attr-defined]
    if not wins:
        assert existing is not None
        return ItemResult(
            id=item.id,
            index=index,
            result="unchanged",
            revision=revision,
            reason=(
                f"Kept as revision {revision}; a later edit (revision "
                f"{existing.current_revision}) is the current one."
            ),
            server_copy_differs=True,
        )
    observation.status = item.status
    observation.session_answers = item.session_answers
    observation.notes = item.notes
    observation.court_session_id = court_session_id
    observation.client_edited_at = edited_at
    observation.received_at = now
    observation.current_revision = revision
    observation.revision_count = revision
    if item.status == ObservationStatus.submitted:
        observation.submitted_at = now
    session.add(observation)
    session.flush()
    store.write_current_rows(
        session=session,
        observation=observation,
        hearings=item.hearings,
        definition=protocols.get(item.protocol_version_id)[1],  # type: ignore[index]
        session_answers=item.session_answers,
    )
    if item.status == ObservationStatus.submitted:
        review_service.note_submitted(session=session, observation=observation, actor_id=user.id)
    if item.assignment_id is not None:
        sessions_service.mark_assignment_status(
            session=session,
            assignment_id=item.assignment_id,
            status=AssignmentStatus.submitted
            if item.status == ObservationStatus.submitted
            else AssignmentStatus.in_progress,
        )
    return ItemResult(
        id=item.id,
        index=index,
        result=result,  # type: ignore[arg-type]
        revision=revision,
        server_copy_differs=differs,
    )


def _wins(existing: Observation, item: ObservationIn, edited_at: datetime) -> bool:
    """Whether an edit becomes current: a submit does; an edit based on the current revision
    does, whatever the phone's clock says; without a base (an old phone, a backup file) the
    later edit by the phone's clock does."""
    if item.status == ObservationStatus.submitted:
        return True
    if item.based_on_revision is not None:
        return item.based_on_revision >= existing.current_revision
    return edited_at >= _aware(existing.client_edited_at)


def _revision_payload(
    session: Session, observation_id: uuid.UUID, revision: int
) -> dict[str, Any] | None:
    return session.execute(
        sa.select(ObservationRevision.payload).where(
            ObservationRevision.observation_id == observation_id,
            ObservationRevision.revision == revision,
        )
    ).scalar_one_or_none()


def _merge_with_current(
    *, session: Session, existing: Observation, item: ObservationIn, raw: dict[str, Any]
) -> merge.Merged | None:
    """This edit merged with the current copy when it was based on an older revision (the
    current one from another device: app.sync.merge; from this one: this edit as it is);
    None when the lineage decides alone (based on the current one, or no base)."""
    base = item.based_on_revision
    if base is None or base >= existing.current_revision:
        return None
    current = _revision_payload(session, item.id, existing.current_revision)
    if current is None:
        return None
    if item.device_id is not None and current.get("device_id") == item.device_id:
        # This phone's own later edit (an answer lost on the way): it holds it all.
        return merge.Merged(raw, False)
    base_payload = _revision_payload(session, item.id, base)
    if base_payload is None:
        return None
    return merge.merge(base_payload, current, raw)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _check(
    *,
    session: Session,
    user: User,
    item: ObservationIn,
    raw: dict[str, Any],
    existing: Observation | None,
    protocols: _Protocols,
) -> None:
    """Refuse the item with every problem found. Reads only."""
    errors: list[FieldError] = []
    found = protocols.get(item.protocol_version_id)
    if found is None or found[0].status not in USABLE_STATUSES:
        raise _Refused(
            "The protocol version of this observation is not available.",
            [FieldError("protocol_version_id", "No published protocol version has this id.")],
        )
    definition = found[1]
    if existing is not None and existing.protocol_version_id != item.protocol_version_id:
        errors.append(
            FieldError(
                "protocol_version_id",
                "An observation keeps the protocol version it was started with.",
            )
        )
    if existing is not None and existing.assignment_id != item.assignment_id:
        errors.append(
            FieldError("assignment_id", "An observation keeps the assignment it was started for.")
        )
    if item.assignment_id is not None:
        assignment = session.get(Assignment, item.assignment_id)
        if assignment is None or assignment.volunteer_id != user.id:
            errors.append(FieldError("assignment_id", "You have no assignment with this id."))
        elif assignment.protocol_version_id != item.protocol_version_id:
            errors.append(
                FieldError(
                    "protocol_version_id",
                    "This assignment uses another protocol version; reopen it from My assignments.",
                )
            )
    elif item.court is None:
        errors.append(
            FieldError(
                "court",
                "Give the court, courtroom and date for an observation without an assignment.",
            )
        )
    elif item.court.calendar_type not in CALENDAR_LABELS:
        errors.append(
            FieldError(
                "court.calendar_type",
                f"Unknown calendar type '{item.court.calendar_type}'; expected one of "
                + ", ".join(CALENDAR_LABELS)
                + ".",
            )
        )

    strict = item.status == ObservationStatus.submitted
    for e in validate_answers(definition, item.session_answers, level="session", strict=strict):
        errors.append(FieldError("session_" + e.loc, e.msg))
    seen_ids: dict[uuid.UUID, int] = {}
    seen_positions: dict[int, int] = {}
    for i, hearing in enumerate(item.hearings):
        where = f"hearings[{i}]"
        if hearing.id in seen_ids:
            errors.append(
                FieldError(f"{where}.id", f"Same id as hearings[{seen_ids[hearing.id]}].")
            )
        seen_ids.setdefault(hearing.id, i)
        if hearing.position in seen_positions:
            errors.append(
                FieldError(
                    f"{where}.position",
                    f"Same position as hearings[{seen_positions[hearing.position]}].",
                )
            )
        seen_positions.setdefault(hearing.position, i)
        if (
            hearing.started_at is not None
            and hearing.ended_at is not None
            and _aware(hearing.ended_at) < _aware(hearing.started_at)
        ):
            errors.append(FieldError(f"{where}.ended_at", "The hearing ends before it starts."))
        for e in validate_answers(
            definition,
            hearing.answers,
            level="hearing",
            strict=strict,
            context=item.session_answers,
        ):
            errors.append(FieldError(f"{where}.{e.loc}", e.msg))
        # The raw turns: already type-checked by the schema, and cheaper than dumping models.
        for e in validate_turns(definition, raw["hearings"][i].get("turns", [])):
            errors.append(FieldError(f"{where}.{e.loc}", e.msg))
    if seen_ids:
        taken = session.exec(
            select(Hearing.id).where(
                col(Hearing.id).in_(list(seen_ids)), Hearing.observation_id != item.id
            )
        ).all()
        for hearing_id in taken:
            errors.append(
                FieldError(
                    f"hearings[{seen_ids[hearing_id]}].id",
                    "This hearing id already belongs to another observation.",
                )
            )
    if errors:
        raise _Refused(_problems_reason(errors), errors)


def _court_session_for(
    *, session: Session, user: User, item: ObservationIn, known: dict[tuple[Any, ...], int]
) -> int:
    if item.assignment_id is not None:
        assignment = session.get(Assignment, item.assignment_id)
        assert assignment is not None  # checked in _check
        return assignment.court_session_id
    assert item.court is not None  # checked in _check
    # Found, created and locked by _lock_sittings as a rule; this fills in a missing judge or
    # start time under that lock.
    sitting = sessions_service.find_or_create_court_session(
        session=session,
        court=item.court.court,
        courtroom=item.court.courtroom,
        session_date=item.court.session_date,
        start_time=item.court.start_time,
        judge=item.court.judge,
        calendar_type=item.court.calendar_type,
        created_by_id=user.id,
    )
    known[_sitting_key(item)] = sitting.id  # type: ignore[assignment]
    return sitting.id  # type: ignore[return-value]
