"""Review of submitted observations (after ODK Central's review states).

A submitted observation is *received* until staff approve it or say it *has issues* with a
comment. Has issues reopens it for the volunteer: the reviewer's action is stored as a new
revision of the same content marked `draft` (made by the reviewer), so the offline pack hands
the phone an editable draft newer than its submitted copy, and the sync rule "submitted is
final" no longer applies. The volunteer's corrected resubmission makes it received again.
Every change of state is a review_event row.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.audit.service import record_audit
from app.auth.models import User
from app.db import utcnow
from app.errors import DomainError, NotFound
from app.i18n import gettext
from app.observations.filters import exercise_observation_ids
from app.observations.models import (
    Answer,
    Hearing,
    Observation,
    ObservationRevision,
    ObservationStatus,
)
from app.review.models import REVIEW_LABELS, ObservationReview, ReviewEvent, ReviewState
from app.sessions.models import Court, CourtSession

COMMENT_MAX = 2000
FLAG_QUESTION = "flag_for_review"
# Hearing or observation columns the capture may set when something looks wrong (a clock
# jump, two devices changing one hearing). The queue filters on whichever exist.
CAPTURE_FLAG_COLUMNS = ("clock_jump", "device_conflict", "capture_flag", "flagged_for_review")
QUEUE_LIMIT = 200


class ReviewInvalid(DomainError):
    status_code = 422


@dataclass
class ReviewInfo:
    state: str
    comment: str
    updated_at: datetime | None

    @property
    def label(self) -> str:
        return REVIEW_LABELS.get(ReviewState(self.state), self.state)

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "comment": self.comment or None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


def state_column() -> Any:
    """The review state of an observation in a query joined (outer) to observation_review."""
    return sa.func.coalesce(ObservationReview.state, ReviewState.received.value)


def reviews_of(
    *, session: Session, observation_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ReviewInfo]:
    """Review state of each observation ever submitted (received when none was recorded)."""
    if not observation_ids:
        return {}
    rows = session.exec(
        select(
            Observation.id,
            ObservationReview.state,
            ObservationReview.comment,
            ObservationReview.updated_at,
        )
        .outerjoin(ObservationReview, col(ObservationReview.observation_id) == Observation.id)
        .where(col(Observation.id).in_(list(observation_ids)))
        .where(col(Observation.submitted_at).is_not(None))
    ).all()
    return {
        oid: ReviewInfo(state or ReviewState.received, comment or "", updated)
        for oid, state, comment, updated in rows
    }


def review_of(*, session: Session, observation_id: uuid.UUID) -> ReviewInfo | None:
    return reviews_of(session=session, observation_ids=[observation_id]).get(observation_id)


def history(*, session: Session, observation_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every change of state, oldest first, with who made it."""
    rows = session.exec(
        select(ReviewEvent, User.display_name)
        .outerjoin(User, col(User.id) == ReviewEvent.actor_id)
        .where(ReviewEvent.observation_id == observation_id)
        .order_by(col(ReviewEvent.created_at), col(ReviewEvent.id))
    ).all()
    return [
        {
            "state": e.state,
            "label": REVIEW_LABELS.get(ReviewState(e.state), e.state),
            "comment": e.comment,
            "revision": e.revision,
            "by": name or "—",
            "at": e.created_at,
        }
        for e, name in rows
    ]


def _set_state(
    session: Session,
    observation: Observation,
    *,
    state: ReviewState,
    comment: str,
    actor_id: int | None,
) -> None:
    now = utcnow()
    row = session.get(ObservationReview, observation.id)
    if row is None:
        row = ObservationReview(observation_id=observation.id)
    row.state = state
    row.comment = comment if state == ReviewState.has_issues else row.comment
    if state == ReviewState.approved:
        row.comment = ""
    row.updated_by_id = actor_id
    row.updated_at = now
    session.add(row)
    session.add(
        ReviewEvent(
            observation_id=observation.id,
            state=state,
            comment=comment,
            revision=observation.current_revision,
            actor_id=actor_id,
            created_at=now,
        )
    )
    session.flush()


def note_submitted(*, session: Session, observation: Observation, actor_id: int | None) -> None:
    """Sync calls this when a submitted revision becomes current: the first submission is
    received, and so is a resubmission of one that had issues. Flushes only."""
    row = session.get(ObservationReview, observation.id)
    if row is None or row.state == ReviewState.has_issues:
        _set_state(session, observation, state=ReviewState.received, comment="", actor_id=actor_id)


def _reopen(session: Session, observation: Observation, reviewer: User) -> None:
    """A new current revision by the reviewer: the same content, as a draft."""
    from app.sync.service import payload_hash  # sync imports this module

    current = session.exec(
        select(ObservationRevision).where(
            ObservationRevision.observation_id == observation.id,
            ObservationRevision.revision == observation.current_revision,
        )
    ).one()
    payload = {**current.payload, "status": ObservationStatus.draft.value}
    revision = observation.revision_count + 1
    session.add(
        ObservationRevision(
            observation_id=observation.id,
            revision=revision,
            user_id=reviewer.id,  # type: ignore[arg-type]
            status=ObservationStatus.draft,
            client_edited_at=current.client_edited_at,
            received_at=utcnow(),
            based_on_revision=observation.current_revision,
            payload_hash=payload_hash(payload),
            payload=payload,
        )
    )
    observation.status = ObservationStatus.draft
    observation.current_revision = revision
    observation.revision_count = revision
    session.add(observation)
    session.flush()


def set_review(
    *,
    session: Session,
    observation_id: uuid.UUID,
    state: str,
    comment: str,
    reviewer: User,
    ip_address: str | None = None,
) -> ReviewInfo:
    """Approve an observation or send it back with a comment (which reopens it). Commits."""
    comment = (comment or "").strip()
    errors: list[dict[str, str]] = []
    if state not in (ReviewState.approved, ReviewState.has_issues):
        errors.append({"loc": "state", "msg": gettext("Choose Approve or Has issues.")})
    if state == ReviewState.has_issues and not comment:
        errors.append({"loc": "comment", "msg": gettext("Say what the volunteer should fix.")})
    if len(comment) > COMMENT_MAX:
        errors.append(
            {"loc": "comment", "msg": gettext("At most %(num)s characters.", num=COMMENT_MAX)}
        )
    observation = session.exec(
        select(Observation).where(Observation.id == observation_id).with_for_update()
    ).first()
    if observation is None:
        raise NotFound(gettext("There is no such observation."))
    if observation.submitted_at is None:
        raise ReviewInvalid(
            gettext("Only submitted observations are reviewed; this one is still a draft."),
            errors=[{"loc": "state", "msg": gettext("Not submitted yet.")}],
            status_code=409,
        )
    current = review_of(session=session, observation_id=observation_id)
    if current is not None and current.state == ReviewState.has_issues:
        errors.append(
            {
                "loc": "state",
                "msg": "This observation is with the volunteer for correction; "
                "it can be reviewed again once they resubmit it.",
            }
        )
    if errors:
        raise ReviewInvalid(errors[0]["msg"], errors=errors)
    if state == ReviewState.has_issues:
        _reopen(session, observation, reviewer)
    _set_state(
        session, observation, state=ReviewState(state), comment=comment, actor_id=reviewer.id
    )
    record_audit(
        session,
        action=f"review.{state}",
        actor_id=reviewer.id,
        target=f"observation:{observation_id}",
        detail={"revision": observation.current_revision},
        ip_address=ip_address,
    )
    session.commit()
    result = review_of(session=session, observation_id=observation_id)
    assert result is not None
    return result


# --- the staff queue ------------------------------------------------------------------------


@dataclass
class QueueFilter:
    state: str | None = None
    flagged: bool = False
    capture_flagged: bool = False
    older_than_days: int | None = None

    @classmethod
    def parse(cls, params: Any) -> tuple[QueueFilter, dict[str, str]]:
        errors: dict[str, str] = {}
        f = cls()
        state = (params.get("state") or "").strip()
        if state:
            if state in ReviewState.__members__:
                f.state = state
            else:
                errors["state"] = gettext("Choose received, approved or has issues.")
        f.flagged = params.get("flagged") in ("1", "on", "true")
        f.capture_flagged = params.get("capture_flagged") in ("1", "on", "true")
        age = (params.get("older_than_days") or "").strip()
        if age:
            if age.isdigit() and int(age) <= 3650:
                f.older_than_days = int(age)
            else:
                errors["older_than_days"] = gettext("A whole number of days (0 to 3650).")
        return f, errors


def capture_flag_columns() -> list[Any]:
    """The capture's flag columns present in this schema (none until the capture adds them)."""
    return [
        getattr(model, name)
        for model in (Hearing, Observation)
        for name in CAPTURE_FLAG_COLUMNS
        if name in model.model_fields
    ]


@dataclass
class QueueRow:
    observation_id: uuid.UUID
    observer: str
    session_date: Any
    court: str
    courtroom: str
    submitted_at: datetime
    state: str
    comment: str
    hearings: int
    flagged_hearings: int

    @property
    def label(self) -> str:
        return REVIEW_LABELS.get(ReviewState(self.state), self.state)

    @property
    def age_days(self) -> int:
        return max(0, (utcnow() - self.submitted_at).days)


def queue(*, session: Session, f: QueueFilter, now: datetime | None = None) -> list[QueueRow]:
    """Submitted observations (and those sent back), oldest submission first."""
    now = now or utcnow()
    flagged = (
        select(sa.func.count())
        .select_from(Answer)
        .where(
            Answer.observation_id == Observation.id,
            Answer.question_key == FLAG_QUESTION,
            Answer.value_text == "yes",
            col(Answer.hearing_id).is_not(None),
        )
        .scalar_subquery()
    )
    hearings = (
        select(sa.func.count())
        .select_from(Hearing)
        .where(Hearing.observation_id == Observation.id)
        .scalar_subquery()
    )
    state = state_column()
    query = (
        select(
            Observation.id,
            User.display_name,
            CourtSession.session_date,
            Court.name,
            CourtSession.courtroom,
            Observation.submitted_at,
            state,
            ObservationReview.comment,
            hearings,
            flagged,
        )
        .join(User, col(User.id) == Observation.observer_id)
        .join(CourtSession, col(CourtSession.id) == Observation.court_session_id)
        .join(Court, col(Court.id) == CourtSession.court_id)
        .outerjoin(ObservationReview, col(ObservationReview.observation_id) == Observation.id)
        .where(col(Observation.submitted_at).is_not(None))
        .where(col(Observation.id).not_in(exercise_observation_ids()))
    )
    if f.state:
        query = query.where(state == f.state)
    if f.flagged:
        query = query.where(flagged > 0)
    if f.capture_flagged:
        columns = capture_flag_columns()
        hearing_flags = [c for c in columns if c.class_ is Hearing]
        observation_flags = [c for c in columns if c.class_ is Observation]
        conditions: list[Any] = [c.is_(True) for c in observation_flags]
        if hearing_flags:
            conditions.append(
                col(Observation.id).in_(
                    select(Hearing.observation_id).where(
                        sa.or_(*[c.is_(True) for c in hearing_flags])
                    )
                )
            )
        query = query.where(sa.or_(*conditions) if conditions else sa.false())
    if f.older_than_days is not None:
        query = query.where(
            col(Observation.submitted_at) <= now - timedelta(days=f.older_than_days)
        )
    query = query.order_by(col(Observation.submitted_at), col(Observation.id)).limit(QUEUE_LIMIT)
    return [
        QueueRow(
            observation_id=oid,
            observer=name,
            session_date=day,
            court=court,
            courtroom=room,
            submitted_at=submitted,
            state=st,
            comment=comment or "",
            hearings=n,
            flagged_hearings=fl,
        )
        for oid, name, day, court, room, submitted, st, comment, n, fl in session.exec(query).all()
    ]


def count_to_review(*, session: Session) -> int:
    """Submitted observations waiting for a first (or renewed) look."""
    return len(queue(session=session, f=QueueFilter(state=ReviewState.received)))


def sent_back_to(*, session: Session, observer_id: int) -> list[dict[str, Any]]:
    """A volunteer's observations with issues to fix, with the comment, newest first."""
    rows = session.exec(
        select(Observation.id, CourtSession.session_date, CourtSession.courtroom, Court.name)
        .add_columns(ObservationReview.comment, ObservationReview.updated_at)
        .join(ObservationReview, col(ObservationReview.observation_id) == Observation.id)
        .join(CourtSession, col(CourtSession.id) == Observation.court_session_id)
        .join(Court, col(Court.id) == CourtSession.court_id)
        .where(
            Observation.observer_id == observer_id,
            ObservationReview.state == ReviewState.has_issues,
        )
        .order_by(col(ObservationReview.updated_at).desc())
    ).all()
    return [
        {
            "observation_id": oid,
            "session_date": day,
            "courtroom": room,
            "court": court,
            "comment": comment,
            "at": at,
        }
        for oid, day, room, court, comment, at in rows
    ]
