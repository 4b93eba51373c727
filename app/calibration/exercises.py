"""Calibration exercises: a trainer's reference observation (their notes of a training video
or a mock hearing) that invited trainees record too, each on their own phone, through an
ordinary assignment on the reference's sitting.

Agreement with the reference is worked out as for two observers of one sitting
(app.observations.pairs: hearings matched by docket number or order, categorical answers
paired, speaker scripts compared by normalised edit distance). The exercise's observations are
kept out of every finding by app.observations.filters.exercise_observation_ids.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from app import i18n
from app.audit.service import record_audit
from app.auth.models import Role, User
from app.calibration.models import CalibrationExercise, ExerciseInvite
from app.cases.service import normalise_docket
from app.errors import DomainError, NotFound
from app.i18n import gettext
from app.observations import pairs
from app.observations.models import Hearing, Observation, ObservationStatus
from app.protocols.definition import DefinitionInvalid, ProtocolDefinition, parse_definition
from app.protocols.models import ProtocolVersion
from app.sessions.models import Assignment, AssignmentStatus, CourtSession
from app.sessions.schemas import CALENDAR_LABELS

CATEGORICAL = {"single_choice", "yes_no"}
TITLE_MAX = 200
TRAINEE_ROLES = (Role.volunteer, Role.trainer)


class ExerciseInvalid(DomainError):
    status_code = 422

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(
            next(iter(fields.values())), errors=[{"loc": k, "msg": v} for k, v in fields.items()]
        )
        self.fields = fields


def _definition(session: Session, version_id: int) -> ProtocolDefinition | None:
    version = session.get(ProtocolVersion, version_id)
    try:
        # in the reader's language (shown to people only)
        return parse_definition(version.definition).localized(i18n.language()) if version else None
    except DefinitionInvalid:
        return None


def reference_candidates(*, session: Session, trainer_id: int) -> list[dict[str, Any]]:
    """The trainer's own submitted observations, newest first, that are no exercise yet."""
    used = select(CalibrationExercise.reference_observation_id)
    rows = session.exec(
        select(Observation, CourtSession)
        .join(CourtSession, col(CourtSession.id) == Observation.court_session_id)
        .where(
            Observation.observer_id == trainer_id,
            Observation.status == ObservationStatus.submitted,
            col(Observation.id).not_in(used),
        )
        .order_by(col(Observation.submitted_at).desc())
        .limit(50)
    ).all()
    return [
        {
            "id": str(o.id),
            "label": gettext(
                "%(date)s · courtroom %(courtroom)s · %(calendar)s",
                date=i18n.format_day(s.session_date, "dd MMM y"),
                courtroom=s.courtroom,
                calendar=i18n.label(CALENDAR_LABELS, s.calendar_type),
            ),
        }
        for o, s in rows
    ]


def _trainees(session: Session, raw_ids: list[str], exclude: int) -> list[User]:
    ids: list[int] = []
    for raw in raw_ids:
        if not str(raw).strip().isdigit():
            raise ExerciseInvalid({"trainee_ids": gettext("Choose trainees from the list.")})
        ids.append(int(raw))
    if not ids:
        raise ExerciseInvalid({"trainee_ids": gettext("Invite at least one trainee.")})
    people = list(session.exec(select(User).where(col(User.id).in_(ids))).all())
    usable = [u for u in people if u.is_active and u.role in TRAINEE_ROLES and u.id != exclude]
    if len(usable) != len(set(ids)):
        raise ExerciseInvalid(
            {"trainee_ids": gettext("Choose active volunteers or trainers other than yourself.")}
        )
    return usable


def _invite(
    session: Session, exercise: CalibrationExercise, reference: Observation, people: list[User]
) -> list[ExerciseInvite]:
    invited = set(
        session.exec(
            select(ExerciseInvite.trainee_id).where(ExerciseInvite.exercise_id == exercise.id)
        ).all()
    )
    again = [p.display_name for p in people if p.id in invited]
    if again:
        raise ExerciseInvalid(
            {"trainee_ids": gettext("Already invited: %(names)s.", names=", ".join(sorted(again)))}
        )
    made = []
    for person in people:
        assignment = Assignment(
            court_session_id=reference.court_session_id,
            volunteer_id=person.id,  # type: ignore[arg-type]
            protocol_version_id=reference.protocol_version_id,
            status=AssignmentStatus.assigned,
            assigned_by_id=exercise.created_by_id,
        )
        session.add(assignment)
        session.flush()
        invite = ExerciseInvite(
            exercise_id=exercise.id,  # type: ignore[arg-type]
            trainee_id=person.id,  # type: ignore[arg-type]
            assignment_id=assignment.id,  # type: ignore[arg-type]
        )
        session.add(invite)
        made.append(invite)
    session.flush()
    return made


def create_exercise(
    *,
    session: Session,
    title: str,
    reference_observation_id: str,
    trainee_ids: list[str],
    trainer: User,
    ip_address: str | None = None,
) -> CalibrationExercise:
    """An exercise from one of the trainer's submitted observations, trainees invited (each
    gets an assignment on the reference's sitting). All or nothing; commits."""
    title = " ".join((title or "").split())
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = gettext("Give the exercise a title (e.g. the training video's name).")
    elif len(title) > TITLE_MAX:
        errors["title"] = gettext("At most %(num)s characters.", num=TITLE_MAX)
    reference: Observation | None = None
    try:
        reference = session.get(Observation, uuid.UUID(reference_observation_id.strip()))
    except (ValueError, AttributeError):
        reference = None
    if (
        reference is None
        or reference.observer_id != trainer.id
        or reference.status != ObservationStatus.submitted
    ):
        errors["reference_observation_id"] = gettext(
            "Choose one of your own submitted observations."
        )
    elif session.exec(
        select(CalibrationExercise.id).where(
            CalibrationExercise.reference_observation_id == reference.id
        )
    ).first():
        errors["reference_observation_id"] = gettext("This observation is already an exercise.")
    try:
        people = _trainees(session, trainee_ids, exclude=trainer.id)  # type: ignore[arg-type]
    except ExerciseInvalid as exc:
        errors.update(exc.fields)
    if errors:
        raise ExerciseInvalid(errors)
    assert reference is not None
    exercise = CalibrationExercise(
        title=title, reference_observation_id=reference.id, created_by_id=trainer.id
    )
    session.add(exercise)
    session.flush()
    reference.is_reference = True
    session.add(reference)
    _invite(session, exercise, reference, people)
    record_audit(
        session,
        action="calibration.exercise_create",
        actor_id=trainer.id,
        target=f"exercise:{exercise.id}",
        detail={"trainees": len(people)},
        ip_address=ip_address,
    )
    record_audit(
        session,
        action="observation.reference",
        actor_id=trainer.id,
        target=f"observation:{reference.id}",
        detail={"is_reference": True, "exercise": exercise.id},
        ip_address=ip_address,
    )
    session.commit()
    session.refresh(exercise)
    return exercise


def invite_more(
    *, session: Session, exercise_id: int, trainee_ids: list[str], trainer: User
) -> list[ExerciseInvite]:
    exercise = _exercise(session, exercise_id)
    reference = session.get(Observation, exercise.reference_observation_id)
    assert reference is not None
    people = _trainees(session, trainee_ids, exclude=reference.observer_id)
    made = _invite(session, exercise, reference, people)
    session.commit()
    return made


def _exercise(session: Session, exercise_id: int) -> CalibrationExercise:
    exercise = session.get(CalibrationExercise, exercise_id)
    if exercise is None:
        raise NotFound(gettext("There is no such exercise."))
    return exercise


# --- agreement with the reference -----------------------------------------------------------


@dataclass
class QuestionResult:
    key: str
    label: str
    compared: int  # hearings where both answered
    agreed: int
    missed: int  # the reference answered, the trainee left it blank

    @property
    def rate(self) -> float | None:
        return self.agreed / self.compared if self.compared else None


@dataclass
class AttemptResult:
    trainee_id: int
    trainee: str
    status: str  # "not started", "in progress", "submitted"
    observation_id: uuid.UUID | None
    matched_hearings: int = 0
    questions: list[QuestionResult] = field(default_factory=list)
    script_similarity: float | None = None  # 1 - mean normalised edit distance

    @property
    def agreement(self) -> float | None:
        compared = sum(q.compared for q in self.questions)
        return sum(q.agreed for q in self.questions) / compared if compared else None


def _hearing_rows(session: Session, observation_id: uuid.UUID) -> list[tuple[Any, ...]]:
    """(docket, position, script, answers) per hearing; dockets normalised as cases are, so
    "PETERSON-1" and "peterson 1" are one hearing."""
    return [
        (normalise_docket(h.case_reference) or None, h.position, h.script, h.answers or {})
        for h in session.exec(
            select(Hearing)
            .where(Hearing.observation_id == observation_id)
            .order_by(col(Hearing.position))
        ).all()
    ]


def _questions(definition: ProtocolDefinition | None) -> dict[str, str]:
    if definition is None:
        return {}
    return {q.key: q.label for q in definition.questions("hearing") if q.type in CATEGORICAL}


def compare_with_reference(
    reference: list[tuple[Any, ...]], attempt: list[tuple[Any, ...]], questions: dict[str, str]
) -> tuple[int, list[QuestionResult], float | None]:
    """(matched hearings, per question results, script similarity)."""
    figures = pairs.pair_figures(reference, attempt, questions.keys())
    if figures is None:
        return 0, [], None
    theirs = {pairs.match_key(ref, pos): answers for ref, pos, _, answers in attempt}
    missed: Counter[str] = Counter()
    for ref, pos, _, answers in reference:
        mine = theirs.get(pairs.match_key(ref, pos))
        if mine is None:
            continue
        for key in questions:
            if pairs.comparable(answers.get(key)) and not pairs.comparable(mine.get(key)):
                missed[key] += 1
    results = []
    for key, label in questions.items():
        tally = figures["tallies"].get(key, [])
        compared = sum(n for _, _, n in tally)
        agreed = sum(n for a, b, n in tally if a == b)
        if compared or missed[key]:
            results.append(QuestionResult(key, label, compared, agreed, missed[key]))
    similarity = 1 - figures["distance_sum"] / figures["scripts"] if figures["scripts"] else None
    return figures["hearings"], results, similarity


@dataclass
class ExerciseView:
    exercise: CalibrationExercise
    reference_observation_id: uuid.UUID
    court_session_id: int
    session_date: Any
    courtroom: str
    attempts: list[AttemptResult]
    questions: dict[str, str]

    def per_question(self) -> list[dict[str, Any]]:
        """Across the class: agreement and how often each question was missed, most missed
        (then least agreed) first."""
        rows = []
        for key, label in self.questions.items():
            results = [q for a in self.attempts for q in a.questions if q.key == key]
            compared = sum(q.compared for q in results)
            agreed = sum(q.agreed for q in results)
            missed = sum(q.missed for q in results)
            disagreed = compared - agreed
            if compared or missed:
                rows.append(
                    {
                        "key": key,
                        "label": label,
                        "compared": compared,
                        "agreed": agreed,
                        "rate": agreed / compared if compared else None,
                        "missed": missed,
                        "wrong_or_missed": disagreed + missed,
                    }
                )
        rows.sort(key=lambda r: (-r["wrong_or_missed"], r["rate"] if r["rate"] is not None else 2))
        return rows


STATUS_WORDS = {
    AssignmentStatus.assigned: "not started",
    AssignmentStatus.in_progress: "in progress",
    AssignmentStatus.submitted: "submitted",
    AssignmentStatus.cancelled: "cancelled",
}


def exercise_view(
    *, session: Session, exercise_id: int, only_trainee: int | None = None
) -> ExerciseView:
    """The exercise with each (or one) trainee's agreement with the reference; agreement is
    shown only for submitted attempts."""
    exercise = _exercise(session, exercise_id)
    reference = session.get(Observation, exercise.reference_observation_id)
    assert reference is not None
    sitting = session.get(CourtSession, reference.court_session_id)
    assert sitting is not None
    questions = _questions(_definition(session, reference.protocol_version_id))
    reference_rows = _hearing_rows(session, reference.id)
    query = (
        select(ExerciseInvite, User.display_name, Assignment.status, Observation)
        .join(User, col(User.id) == ExerciseInvite.trainee_id)
        .join(Assignment, col(Assignment.id) == ExerciseInvite.assignment_id)
        .outerjoin(Observation, col(Observation.assignment_id) == Assignment.id)
        .where(ExerciseInvite.exercise_id == exercise_id)
        .order_by(col(User.display_name))
    )
    if only_trainee is not None:
        query = query.where(ExerciseInvite.trainee_id == only_trainee)
    attempts = []
    for invite, name, status, obs in session.exec(query).all():
        submitted = obs is not None and obs.status == ObservationStatus.submitted
        attempt = AttemptResult(
            trainee_id=invite.trainee_id,
            trainee=name,
            status="submitted" if submitted else STATUS_WORDS.get(status, status),
            observation_id=obs.id if obs is not None else None,
        )
        if submitted:
            matched, results, similarity = compare_with_reference(
                reference_rows, _hearing_rows(session, obs.id), questions
            )
            attempt.matched_hearings = matched
            attempt.questions = results
            attempt.script_similarity = similarity
        attempts.append(attempt)
    return ExerciseView(
        exercise=exercise,
        reference_observation_id=reference.id,
        court_session_id=sitting.id,  # type: ignore[arg-type]
        session_date=sitting.session_date,
        courtroom=sitting.courtroom,
        attempts=attempts,
        questions=questions,
    )


@dataclass
class ExerciseRow:
    id: int
    title: str
    created_at: datetime
    invited: int
    submitted: int
    assignment_id: int | None = None
    my_status: str | None = None


def list_exercises(*, session: Session) -> list[ExerciseRow]:
    """Every exercise with how many were invited and have submitted (trainers)."""
    rows = []
    for exercise in session.exec(
        select(CalibrationExercise).order_by(col(CalibrationExercise.created_at).desc())
    ).all():
        statuses = session.exec(
            select(Assignment.status)
            .join(ExerciseInvite, col(ExerciseInvite.assignment_id) == Assignment.id)
            .where(ExerciseInvite.exercise_id == exercise.id)
        ).all()
        rows.append(
            ExerciseRow(
                id=exercise.id,  # type: ignore[arg-type]
                title=exercise.title,
                created_at=exercise.created_at,
                invited=len(statuses),
                submitted=sum(1 for s in statuses if s == AssignmentStatus.submitted),
            )
        )
    return rows


def exercises_for_trainee(*, session: Session, trainee_id: int) -> list[ExerciseRow]:
    """The exercises a trainee was invited to, with their assignment and its status."""
    rows = session.exec(
        select(CalibrationExercise, ExerciseInvite.assignment_id, Assignment.status)
        .join(ExerciseInvite, col(ExerciseInvite.exercise_id) == CalibrationExercise.id)
        .join(Assignment, col(Assignment.id) == ExerciseInvite.assignment_id)
        .where(ExerciseInvite.trainee_id == trainee_id)
        .order_by(col(CalibrationExercise.created_at).desc())
    ).all()
    return [
        ExerciseRow(
            id=e.id,  # type: ignore[arg-type]
            title=e.title,
            created_at=e.created_at,
            invited=1,
            submitted=int(status == AssignmentStatus.submitted),
            assignment_id=assignment_id,
            my_status=STATUS_WORDS.get(status, status),
        )
        for e, assignment_id, status in rows
    ]


def is_invited(*, session: Session, exercise_id: int, trainee_id: int) -> bool:
    return (
        session.exec(
            select(ExerciseInvite.id).where(
                ExerciseInvite.exercise_id == exercise_id, ExerciseInvite.trainee_id == trainee_id
            )
        ).first()
        is not None
    )


def script_similarity_label(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"
