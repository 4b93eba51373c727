"""Reading observations back whole: for the phone (offline pack, another device) and exports."""

from __future__ import annotations

import sqlite3
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.db import uuid_text
from app.observations.models import (
    Hearing,
    Observation,
    ObservationRevision,
    ObservationStatus,
    Turn,
)
from app.protocols.models import ProtocolVersion, VersionStatus
from app.sessions.models import Court, CourtSession, Judge

# Drafts larger than this many are not all put in a pack; the newest come first.
PACK_DRAFT_LIMIT = 50


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _court_details(
    sitting: CourtSession, court_name: str, judge_name: str | None
) -> dict[str, Any]:
    return {
        "court": court_name,
        "courtroom": sitting.courtroom,
        "session_date": sitting.session_date.isoformat(),
        "start_time": sitting.start_time.strftime("%H:%M") if sitting.start_time else None,
        "judge": judge_name,
        "calendar_type": sitting.calendar_type,
    }


def observation_document(
    *, session: Session, observation_ids: Sequence[uuid.UUID], turns_as_json: bool = False
) -> list[dict[str, Any]]:
    """Each observation as a JSON-ready dict, in the order asked: where, answers, hearings with
    their answers and turns, status and the server's revision.

    With `turns_as_json`, each hearing's turns are given already written as a JSON array (an
    orjson.Fragment, for the export, which has millions of them)."""
    if not observation_ids:
        return []
    ids = list(observation_ids)
    rows = session.exec(
        select(Observation, CourtSession, Court.name, Judge.name)
        .join(CourtSession, col(CourtSession.id) == Observation.court_session_id)
        .join(Court, col(Court.id) == CourtSession.court_id)
        .outerjoin(Judge, col(Judge.id) == CourtSession.judge_id)
        .where(col(Observation.id).in_(ids))
    ).all()
    # Columns, not ORM objects: a sitting's hearings are read whole, never changed here.
    hearings_by_obs: dict[str, list[Any]] = defaultdict(list)
    hearing_rows = (
        session.connection()
        .execute(
            select(
                # Ids as the driver gives them (no UUID object per row): the hearing's is the
                # key its turns are matched on.
                sa.type_coerce(Hearing.id, sa.String),
                sa.type_coerce(Hearing.observation_id, sa.String),
                Hearing.position,
                Hearing.case_reference,
                Hearing.started_at,
                Hearing.ended_at,
                sa.cast(Hearing.answers, sa.Text),  # parsed by orjson: several times faster
                Hearing.clock_jump,
            )
            .where(col(Hearing.observation_id).in_(ids))
            .order_by(Hearing.observation_id, Hearing.position)
        )
        .all()
    )
    for hearing in hearing_rows:
        hearings_by_obs[uuid_text(hearing[1])].append(hearing)
    turns_by_hearing = _turns(session, ids, as_json=turns_as_json)
    no_turns: Any = orjson.Fragment(b"[]") if turns_as_json else []

    from app.review.service import reviews_of  # review reads observations too

    reviews = reviews_of(session=session, observation_ids=ids)
    by_id: dict[uuid.UUID, dict[str, Any]] = {}
    for obs, sitting, court_name, judge_name in rows:
        details = _court_details(sitting, court_name, judge_name)
        by_id[obs.id] = {
            "id": str(obs.id),
            "observer_id": obs.observer_id,
            "protocol_version_id": obs.protocol_version_id,
            "assignment_id": obs.assignment_id,
            "court_session_id": obs.court_session_id,
            # The phone sends `court` back only for an observation without an assignment.
            "court": None if obs.assignment_id else details,
            "court_session": {"id": sitting.id, **details},
            "status": obs.status,
            "session_answers": obs.session_answers,
            "notes": obs.notes,
            "hearings": [
                {
                    "id": uuid_text(key),
                    "position": position,
                    "case_reference": case_reference,
                    "started_at": _iso(started_at),
                    "ended_at": _iso(ended_at),
                    "answers": orjson.loads(answers) if answers is not None else None,
                    "turns": turns_by_hearing.get(key) or (no_turns if turns_as_json else []),
                    "clock_jump": clock_jump,
                }
                for (
                    key,
                    _,
                    position,
                    case_reference,
                    started_at,
                    ended_at,
                    answers,
                    clock_jump,
                ) in hearings_by_obs.get(str(obs.id), [])
            ],
            "client_edited_at": _iso(obs.client_edited_at),
            "received_at": _iso(obs.received_at),
            "submitted_at": _iso(obs.submitted_at),
            "revision": obs.current_revision,
            "revision_count": obs.revision_count,
            "is_reference": obs.is_reference,
            # For staff: edited on two devices at once (both kept as revisions).
            "device_conflict": obs.device_conflict,
            # received / approved / has_issues (with the comment) once ever submitted
            "review": reviews[obs.id].as_json() if obs.id in reviews else None,
        }
    return [by_id[i] for i in ids if i in by_id]


def _turns(session: Session, observation_ids: list[uuid.UUID], *, as_json: bool) -> dict[Any, Any]:
    """The observations' turns by hearing (keyed by the hearing id as the driver gives it), in
    order: as dicts, or each hearing's as one JSON array (orjson.Fragment) that the database
    writes (for the export: millions of turns, one row per hearing instead of one per turn)."""
    hearing_key = sa.type_coerce(Turn.hearing_id, sa.String)
    of_these = col(Turn.hearing_id).in_(
        select(Hearing.id).where(col(Hearing.observation_id).in_(observation_ids))
    )
    if as_json:
        query = select(hearing_key, _turns_json(session)).where(of_these).group_by(Turn.hearing_id)
    else:
        query = (
            select(hearing_key, Turn.role, Turn.start_ms, Turn.end_ms)
            .where(of_these)
            .order_by(Turn.hearing_id, Turn.seq)
        )
    result = session.connection().execute(query)
    try:
        raw = result.cursor.fetchall()  # type: ignore[attr-defined]
    finally:
        result.close()
    if as_json:
        return {hid: orjson.Fragment(f"[{items}]") for hid, items in raw}
    out: dict[Any, Any] = {}
    for hid, role, start_ms, end_ms in raw:
        turn = {"role": role, "start_ms": start_ms, "end_ms": end_ms}
        found = out.get(hid)
        if found is None:
            out[hid] = [turn]
        else:
            found.append(turn)
    return out


def _turns_json(session: Session) -> Any:
    """A hearing's turns as the items of a JSON array of {"role", "start_ms", "end_ms"}, in
    seq order, written by the database."""
    if session.get_bind().dialect.name == "postgresql":
        item = sa.func.format(
            '{"role":%s,"start_ms":%s,"end_ms":%s}',
            sa.func.to_json(Turn.role),
            Turn.start_ms,
            sa.func.coalesce(sa.cast(Turn.end_ms, sa.Text), "null"),
        )
        return sa.aggregate_order_by(sa.func.aggregate_strings(item, ","), Turn.seq)
    # Role keys are slugs ([a-z0-9_], checked when a protocol is saved and a turn received, as
    # turns.csv relies on too): written between quotes as they are, without json_quote.
    item = sa.func.printf(
        '{"role":"%s","start_ms":%d,"end_ms":%s}',
        Turn.role,
        Turn.start_ms,
        sa.func.ifnull(Turn.end_ms, "null"),
    )
    if sqlite3.sqlite_version_info >= (3, 44, 0):
        return sa.aggregate_order_by(sa.func.aggregate_strings(item, ","), Turn.seq)
    # Older SQLite has no ORDER BY inside group_concat. Grouped by hearing_id, its plan walks
    # the (hearing_id, seq) index, so a hearing's turns arrive in seq order (as the CSV
    # export's turns.csv relies on; tests/exports check the order).
    return sa.func.group_concat(item, ",")


def get_observation(*, session: Session, observation_id: uuid.UUID) -> Observation | None:
    return session.get(Observation, observation_id)


def has_revision(*, session: Session, observation_id: uuid.UUID, payload_hash: str) -> bool:
    """Whether this content was stored for the observation already (as any revision)."""
    return (
        session.exec(
            select(ObservationRevision.id).where(
                ObservationRevision.observation_id == observation_id,
                ObservationRevision.payload_hash == payload_hash,
            )
        ).first()
        is not None
    )


def list_observations_for(
    *, session: Session, observer_id: int | None, status: str | None = None, limit: int = 100
) -> list[Observation]:
    """Newest edits first; `observer_id` None means everyone's (staff)."""
    query = select(Observation).order_by(sa.desc(Observation.client_edited_at)).limit(limit)
    if observer_id is not None:
        query = query.where(Observation.observer_id == observer_id)
    if status is not None:
        query = query.where(Observation.status == status)
    return list(session.exec(query).all())


def drafts_for_pack(*, session: Session, observer_id: int) -> list[dict[str, Any]]:
    """The volunteer's unsubmitted observations, whole, so another phone can carry on."""
    ids = session.exec(
        select(Observation.id)
        .join(ProtocolVersion, col(ProtocolVersion.id) == Observation.protocol_version_id)
        .where(
            Observation.observer_id == observer_id,
            Observation.status == ObservationStatus.draft,
            # An imported draft is not the volunteer's to carry on: its version is offered
            # to no volunteer until a trainer publishes it.
            ProtocolVersion.status != VersionStatus.imported,
        )
        .order_by(sa.desc(Observation.client_edited_at))
        .limit(PACK_DRAFT_LIMIT)
    ).all()
    return observation_document(session=session, observation_ids=list(ids))
