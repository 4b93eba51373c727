"""What changed in one hearing from revision to revision, field by field, with who and when.

Read from the append-only revisions (exactly what each phone or import sent), so the page
shows the volunteer's own corrections and a reviewer's reopening alike.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from app.auth.models import User
from app.observations.browse import format_answer
from app.observations.models import ObservationRevision
from app.protocols.definition import ProtocolDefinition

UNANSWERED = "—"


@dataclass
class FieldChange:
    label: str
    before: str
    after: str


@dataclass
class RevisionChange:
    revision: int
    status: str
    by: str
    at: datetime
    changes: list[FieldChange] = field(default_factory=list)
    added: bool = False


def _turns_text(turns: list[dict[str, Any]]) -> str:
    if not turns:
        return "no turns"
    roles = " › ".join(str(t.get("role")) for t in turns[:12])
    more = " …" if len(turns) > 12 else ""
    return f"{len(turns)} turn{'s' if len(turns) != 1 else ''}: {roles}{more}"


def _text(value: Any) -> str:
    return UNANSWERED if value is None or value == "" else str(value)


def _when(value: Any) -> str:
    """A phone time as sent ("…Z" from the phone, "+00:00" once the server wrote it back)."""
    if not value:
        return UNANSWERED
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + (" UTC" if moment.tzinfo else "")


def _value(definition: ProtocolDefinition | None, key: str, value: Any) -> str:
    if value is None or value == "":
        return UNANSWERED
    question = definition.question(key) if definition else None
    return format_answer(definition, question, value)


def _diff(
    before: dict[str, Any], after: dict[str, Any], definition: ProtocolDefinition | None
) -> list[FieldChange]:
    changes: list[FieldChange] = []
    for key, label, shown in (
        ("case_reference", "Docket number", _text),
        ("position", "Order in the sitting", _text),
        ("started_at", "Started (phone clock)", _when),
        ("ended_at", "Ended (phone clock)", _when),
    ):
        if shown(before.get(key)) != shown(after.get(key)):
            changes.append(FieldChange(label, shown(before.get(key)), shown(after.get(key))))
    old, new = before.get("answers") or {}, after.get("answers") or {}
    keys = list(dict.fromkeys([*old, *new]))
    if definition is not None:
        order = {q.key: i for i, q in enumerate(definition.questions("hearing"))}
        keys.sort(key=lambda k: order.get(k, len(order)))
    for key in keys:
        if old.get(key) != new.get(key):
            question = definition.question(key) if definition else None
            changes.append(
                FieldChange(
                    question.label if question else key,
                    _value(definition, key, old.get(key)),
                    _value(definition, key, new.get(key)),
                )
            )
    if (before.get("turns") or []) != (after.get("turns") or []):
        changes.append(
            FieldChange(
                "Speaker turns",
                _turns_text(before.get("turns") or []),
                _turns_text(after.get("turns") or []),
            )
        )
    return changes


def hearing_changes(
    *,
    session: Session,
    observation_id: uuid.UUID,
    hearing_id: uuid.UUID,
    definition: ProtocolDefinition | None,
) -> list[RevisionChange]:
    """Per revision that touched the hearing (added it, changed it, or reopened its
    observation), oldest first."""
    rows = session.exec(
        select(ObservationRevision, User.display_name)
        .outerjoin(User, col(User.id) == ObservationRevision.user_id)
        .where(ObservationRevision.observation_id == observation_id)
        .order_by(col(ObservationRevision.revision))
    ).all()
    wanted = str(hearing_id)
    previous: dict[str, Any] | None = None
    previous_status: str | None = None
    result: list[RevisionChange] = []
    for revision, name in rows:
        payload = revision.payload or {}
        mine = next((h for h in payload.get("hearings") or [] if str(h.get("id")) == wanted), None)
        entry = RevisionChange(
            revision=revision.revision,
            status=revision.status,
            by=name or "—",
            at=revision.received_at,
        )
        if mine is not None and previous is None:
            entry.added = True
        elif mine is not None and previous is not None:
            entry.changes = _diff(previous, mine, definition)
        if (
            entry.added
            or entry.changes
            or (previous is not None and revision.status != previous_status)
        ):
            result.append(entry)
        if mine is not None:
            previous = mine
        previous_status = revision.status
    return result
