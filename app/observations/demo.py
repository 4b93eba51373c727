"""Demo step: submitted observations of the past demo sittings, so browsing, comparison and
exports have something to show. Sent through the same ingest path as a phone's batch.

Two demo volunteers watch most sittings (so agreement has pairs to compare); the hearings,
scripts and answers are invented, seeded per sitting so a second run changes nothing. No names
of anyone in a hearing appear anywhere: case references are invented numbers.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from app.auth import service as auth_service
from app.auth.models import Role, User
from app.auth.schemas import UserCreate
from app.config import Settings
from app.demo import DEMO_DOMAIN, demo_email
from app.protocols.definition import ProtocolDefinition, Question, parse_definition
from app.sessions.demo import DEMO_COURT, _latest_default_version
from app.sessions.models import Court, CourtSession, Judge
from app.sync import service as sync_service

DEMO_NAMESPACE = uuid.UUID("5a0c3c1e-6f0e-4c1b-9a37-2f1d6d3c0b7e")
SECOND_OBSERVER = ("observer-two", "Demo Observer Two", "demo-observer-pass")
# Judges differ, as the comparison page should show: how often safety comes up, how much
# the judge speaks, how often the defendant is heard.
JUDGE_HABITS = {
    "Judge Maria Alvarez": {"safety": 0.75, "judge_weight": 5, "defendant": 0.6},
    "Judge Thomas Becker": {"safety": 0.35, "judge_weight": 3, "defendant": 0.3},
    "Judge Linda Okafor": {"safety": 0.55, "judge_weight": 4, "defendant": 0.5},
}
DEFAULT_HABITS = {"safety": 0.5, "judge_weight": 4, "defendant": 0.4}


def _second_observer(session: Session, settings: Settings) -> User:
    email = f"{SECOND_OBSERVER[0]}@{DEMO_DOMAIN}"
    user = auth_service.get_by_email(session=session, email=email)
    if user is None:
        user = auth_service.create_user(
            session=session,
            settings=settings,
            data=UserCreate(
                email=email,
                display_name=SECOND_OBSERVER[1],
                role=Role.volunteer,
                password=SECOND_OBSERVER[2],
            ),
            via="demo",
            enforce_password_policy=False,  # a printed demo password, guessable on purpose
        )
    return user


def _script(rng: random.Random, habits: dict[str, Any]) -> list[dict[str, int | str]]:
    """A sentencing hearing's turns: the judge opens, the lawyers speak, the judge decides."""
    roles = ["judge", "prosecutor", "defense"]
    if rng.random() < 0.4:
        roles.append("probation")
    if rng.random() < habits["defendant"]:
        roles.append("defendant")
    if rng.random() < 0.15:
        roles.insert(2, "advocate")
    sequence = ["clerk", "judge", *roles[1:], "judge"]
    extra = rng.randint(0, 4)
    for _ in range(extra):
        sequence.insert(
            rng.randint(2, len(sequence) - 1),
            rng.choices(["judge", "prosecutor", "defense"], [habits["judge_weight"], 2, 2])[0],
        )
    turns: list[dict[str, int | str]] = []
    t = 0
    for role in sequence:
        length = rng.randint(4_000, 25_000) if role != "judge" else rng.randint(6_000, 45_000)
        turns.append({"role": role, "start_ms": t, "end_ms": t + length})
        t += length + rng.randint(0, 2_500)
    return turns


def _value(q: Question, definition: ProtocolDefinition, rng: random.Random, habits: dict) -> Any:
    if q.type == "yes_no":
        p_yes = habits["safety"] if "safety" in q.tags else 0.55
        r = rng.random()
        return "yes" if r < p_yes else ("no" if r < 0.92 else "not_observed")
    choices = definition.allowed_values(q)
    if q.type == "single_choice":
        if q.key in ("most_influence", "sentence_decided_by"):
            return rng.choices(["judge", "prosecutor", "probation", "defense"], [5, 4, 1, 1])[0]
        return rng.choice(choices)
    if q.type == "multi_choice":
        return sorted(set(rng.sample(choices, k=min(len(choices), rng.randint(1, 3)))))
    if q.type == "roles_present":
        return ["judge", "prosecutor", "defense", "clerk"]
    if q.type == "count":
        return rng.randint(0, 90)
    return None  # free text stays empty in the demo


def _answers(
    definition: ProtocolDefinition,
    level: str,
    rng: random.Random,
    habits: dict,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for q in definition.questions(level):  # type: ignore[arg-type]
        if q.type == "speaker_timeline" or not definition.is_visible(q, answers, context):
            continue
        if q.key == "continued":
            answers[q.key] = "yes" if rng.random() < 0.12 else "no"
            continue
        value = _value(q, definition, rng, habits)
        if value is not None:
            answers[q.key] = value
    return answers


def _observation(
    *,
    sitting: CourtSession,
    judge: str | None,
    observer: User,
    version_id: int,
    definition: ProtocolDefinition,
    court: str,
) -> dict[str, Any]:
    """One observer's record of one sitting; the same sitting gives both observers the same
    hearings (same case numbers and order), with small differences in what each noted."""
    habits = JUDGE_HABITS.get(judge or "", DEFAULT_HABITS)
    sitting_rng = random.Random(f"sitting-{sitting.session_date}-{sitting.courtroom}")
    own_rng = random.Random(f"observer-{observer.email}-{sitting.session_date}-{sitting.courtroom}")
    hearings = []
    for position in range(sitting_rng.randint(5, 9)):
        seed = sitting_rng.random()
        shared = random.Random(seed)
        turns = _script(shared, habits)
        if own_rng.random() < 0.2 and len(turns) > 3:  # an observer misses a short exchange
            del turns[own_rng.randint(1, len(turns) - 2)]
        answers = _answers(definition, "hearing", random.Random(seed), habits)
        if own_rng.random() < 0.15 and "safety_mentioned" in answers:
            answers["safety_mentioned"] = "not_observed"
            answers.pop("safety_mentioned_by", None)
        start = datetime.combine(sitting.session_date, sitting.start_time or datetime.min.time())
        started = start.replace(tzinfo=UTC) + timedelta(minutes=8 * position)
        hearings.append(
            {
                "id": str(uuid.uuid5(DEMO_NAMESPACE, f"{observer.email}/{sitting.id}/{position}")),
                "position": position,
                "case_reference": f"27-CR-{sitting.session_date:%y}-{int(seed * 90000) + 10000}",
                "started_at": started.isoformat(),
                "ended_at": (started + timedelta(minutes=6)).isoformat(),
                "answers": answers,
                "turns": turns,
            }
        )
    session_answers = _answers(definition, "session", own_rng, habits)
    edited = datetime.combine(sitting.session_date, datetime.min.time(), tzinfo=UTC) + timedelta(
        hours=15
    )
    return {
        "id": str(uuid.uuid5(DEMO_NAMESPACE, f"{observer.email}/{sitting.id}")),
        "protocol_version_id": version_id,
        "court": {
            "court": court,
            "courtroom": sitting.courtroom,
            "session_date": sitting.session_date.isoformat(),
            "start_time": sitting.start_time.strftime("%H:%M") if sitting.start_time else None,
            "judge": judge,
            "calendar_type": sitting.calendar_type,
        },
        "status": "submitted",
        "session_answers": session_answers,
        "hearings": hearings,
        "client_edited_at": edited.isoformat(),
    }


def seed_observations(*, session: Session, settings: Settings, log: Callable[[str], None]) -> None:
    """Submitted observations of every past demo sitting, by one or two demo volunteers."""
    version = _latest_default_version(session)
    volunteer = auth_service.get_by_email(session=session, email=demo_email(Role.volunteer))
    if version is None or volunteer is None:
        log("  observations skipped (no default protocol or demo volunteer)")
        return
    second = _second_observer(session, settings)
    definition = parse_definition(version.definition)
    today = date.today()
    sittings = session.exec(
        select(CourtSession, Judge.name)
        .join(Court, col(Court.id) == CourtSession.court_id)
        .outerjoin(Judge, col(Judge.id) == CourtSession.judge_id)
        .where(Court.name == DEMO_COURT, CourtSession.session_date < today)
        .order_by(CourtSession.session_date, CourtSession.courtroom)
    ).all()
    counts: dict[str, int] = {}
    for n, (sitting, judge) in enumerate(sittings):
        observers = [volunteer, second] if n % 3 != 2 else [volunteer]
        for observer in observers:
            body = _observation(
                sitting=sitting,
                judge=judge,
                observer=observer,
                version_id=version.id,  # type: ignore[arg-type]
                definition=definition,
                court=DEMO_COURT,
            )
            (result,) = sync_service.ingest_batch(session=session, user=observer, items=[body])
            counts[result.result] = counts.get(result.result, 0) + 1
            if result.result == "invalid":
                log(f"  observation refused: {result.reason} {result.errors[:3]}")
    session.commit()
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
    log(f"  observations of {len(sittings)} past sittings ({summary}); second observer "
        f"{second.email} password: {SECOND_OBSERVER[2]}")  # fmt: skip
