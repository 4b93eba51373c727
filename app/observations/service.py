"""Reading observations back whole: for the phone (offline pack, another device) and exports."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

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
    *, session: Session, observation_ids: Sequence[uuid.UUID]
) -> list[dict[str, Any]]:
    """Each observation as a JSON-ready dict, in the order asked: where, answers, hearings with
    their answers and turns, status and the server's revision."""
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
    hearings_by_obs: dict[uuid.UUID, list[Hearing]] = defaultdict(list)
    hearing_rows = session.exec(
        select(Hearing)
        .where(col(Hearing.observation_id).in_(ids))
        .order_by(Hearing.observation_id, Hearing.position)
    ).all()
    for hearing in hearing_rows:
        hearings_by_obs[hearing.observation_id].append(hearing)
    turns_by_hearing: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    hearing_ids = [h.id for h in hearing_rows]
    for start in range(0, len(hearing_ids), 500):
        chunk = hearing_ids[start : start + 500]
        for hid, role, start_ms, end_ms in session.exec(
            select(Turn.hearing_id, Turn.role, Turn.start_ms, Turn.end_ms)
            .where(col(Turn.hearing_id).in_(chunk))
            .order_by(Turn.hearing_id, Turn.seq)
        ).all():
            turns_by_hearing[hid].append({"role": role, "start_ms": start_ms, "end_ms": end_ms})

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
                    "id": str(h.id),
                    "position": h.position,
                    "case_reference": h.case_reference,
                    "started_at": _iso(h.started_at),
                    "ended_at": _iso(h.ended_at),
                    "answers": h.answers,
                    "turns": turns_by_hearing.get(h.id, []),
                    "clock_jump": h.clock_jump,
                }
                for h in hearings_by_obs.get(obs.id, [])
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
