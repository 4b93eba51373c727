"""The JSON export: every observation of a set with full fidelity, the protocol versions they
were made with and their observers, in a document another deployment can import.

Nothing in the document is a database id of this deployment: protocol versions are named by
protocol name and version number, observers by a reference (their email when identities are
included), courts and judges by name, so the same document means the same thing anywhere.
Streamed: observations are read CHUNK at a time (keyset on sitting date and id); the turns,
millions of them, are written straight from their rows into JSON text (orjson).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.db import utcnow
from app.exports.progress import report_rows
from app.exports.service import ExportOptions, Observer, SetVersion
from app.observations import service as observations_service
from app.observations.filters import HearingFilter
from app.observations.models import Observation
from app.protocols.definition import TEXT_TYPES
from app.sessions.models import CourtSession

FORMAT = "courtwatch-observations"
FORMAT_VERSION = 1
CHUNK = 100
HEARING_KEYS = ("id", "position", "case_reference", "started_at", "ended_at", "answers", "turns")
COURT_KEYS = ("court", "courtroom", "session_date", "start_time", "judge", "calendar_type")


def _dumps(value: Any) -> str:
    """Compact JSON, UTF-8 as it is (orjson: several times the standard library's speed)."""
    return orjson.dumps(value).decode()


def protocol_entry(v: SetVersion) -> dict[str, Any]:
    return {
        "name": v.protocol,
        "description": v.description,
        "version": v.version,
        "status": v.status,
        "definition": v.definition_doc,
    }


def observer_entry(o: Observer, options: ExportOptions) -> dict[str, Any]:
    if options.identities:
        return {"ref": o.email, "display_name": o.name, "email": o.email}
    return {"ref": o.ref}


def observer_ref(o: Observer, options: ExportOptions) -> str:
    return o.email if options.identities else o.ref


def _text_keys(v: SetVersion) -> set[str]:
    return {q.key for q in v.definition.questions() if q.type in TEXT_TYPES}


def observation_entry(
    doc: dict[str, Any],
    *,
    versions: dict[int, SetVersion],
    observers: dict[int, Observer],
    options: ExportOptions,
) -> dict[str, Any]:
    """An observation as observations.service reads it → as the export document holds it."""
    version = versions[doc["protocol_version_id"]]
    drop = set() if options.free_text else _text_keys(version)
    where = doc.get("court_session") or doc.get("court") or {}
    hearings = []
    for h in doc.get("hearings", []):
        entry = {k: h.get(k) for k in HEARING_KEYS}
        entry["answers"] = {k: v for k, v in (h.get("answers") or {}).items() if k not in drop}
        turns = h.get("turns", [])
        entry["turns"] = (
            turns  # already JSON text, with just these keys
            if isinstance(turns, orjson.Fragment)
            else [
                {"role": t["role"], "start_ms": t["start_ms"], "end_ms": t.get("end_ms")}
                for t in turns
            ]
        )
        hearings.append(entry)
    return {
        "id": doc["id"],
        "observer": observer_ref(observers[doc["observer_id"]], options),
        "protocol": {"name": version.protocol, "version": version.version},
        "court": {k: where.get(k) for k in COURT_KEYS},
        "status": doc["status"],
        "session_answers": {
            k: v for k, v in (doc.get("session_answers") or {}).items() if k not in drop
        },
        "notes": doc.get("notes", "") if options.free_text else "",
        "hearings": hearings,
        "client_edited_at": doc.get("client_edited_at"),
        "received_at": doc.get("received_at"),
        "submitted_at": doc.get("submitted_at"),
        "revision": doc.get("revision"),
        "revision_count": doc.get("revision_count"),
        "is_reference": bool(doc.get("is_reference", False)),
        "review": _review(doc.get("review"), options),
    }


def _review(review: dict[str, Any] | None, options: ExportOptions) -> dict[str, Any] | None:
    """The review state; the comment is free text, left out with the rest of it."""
    if review is None:
        return None
    return {
        "state": review["state"],
        "comment": review.get("comment") if options.free_text else None,
    }


def _observation_id_chunks(session: Session, f: HearingFilter) -> Iterator[list[uuid.UUID]]:
    """The set's observation ids by sitting date and id, CHUNK at a time (keyset pages)."""
    last: tuple[date, uuid.UUID] | None = None
    while True:
        query = (
            select(CourtSession.session_date, Observation.id)
            .join(CourtSession, col(CourtSession.id) == Observation.court_session_id)
            .where(*f.conditions())
        )
        if last is not None:
            query = query.where(
                sa.or_(
                    CourtSession.session_date > last[0],
                    sa.and_(CourtSession.session_date == last[0], col(Observation.id) > last[1]),
                )
            )
        rows = session.exec(
            query.order_by(CourtSession.session_date, Observation.id).limit(CHUNK)
        ).all()
        if not rows:
            return
        yield [r[1] for r in rows]
        last = (rows[-1][0], rows[-1][1])


def export_json(
    session: Session,
    *,
    f: HearingFilter,
    options: ExportOptions,
    versions: list[SetVersion],
    observers: dict[int, Observer],
    set_name: str | None = None,
) -> Iterator[bytes]:
    """The document's bytes, observation by observation."""
    by_id = {v.id: v for v in versions}
    head = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": utcnow().isoformat(),
        "set": {"name": set_name, "filters": f.to_params()},
        "options": {"free_text": options.free_text, "identities": options.identities},
        "protocols": [protocol_entry(v) for v in versions],
        "observers": sorted(
            (observer_entry(o, options) for o in observers.values()), key=lambda e: e["ref"]
        ),
    }
    yield (_dumps(head)[:-1] + ',"observations":[\n').encode()
    first = True
    for ids in _observation_id_chunks(session, f):
        docs = observations_service.observation_document(
            session=session, observation_ids=ids, turns_as_json=True
        )
        parts = []
        for doc in docs:
            entry = observation_entry(doc, versions=by_id, observers=observers, options=options)
            if not first:
                parts.append(b",\n")
            parts.append(orjson.dumps(entry))
            first = False
        yield b"".join(parts)
        report_rows(len(ids))
        session.expunge_all()  # keep the identity map from growing with the set
    yield b"\n]}\n"
