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
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from app.auth import service as auth_service
from app.auth.models import Role, User
from app.auth.schemas import UserCreate
from app.config import Settings
from app.demo import DEMO_DOMAIN, demo_email
from app.protocols.definition import ProtocolDefinition, Question, parse_definition
from app.sessions import service as sessions_service
from app.sessions.demo import DEMO_COURT, _latest_default_version
from app.sessions.models import CalendarType, Court, CourtSession, Judge
from app.sync import service as sync_service

DEMO_NAMESPACE = uuid.UUID("5a0c3c1e-6f0e-4c1b-9a37-2f1d6d3c0b7e")
SECOND_OBSERVER = ("observer-two", "Demo Observer Two", "demo-observer-pass")
# Sittings before the demo calendars (app.sessions.demo), so trends have months to show.
HISTORY_WEEKS = 16
HISTORY_CALENDARS = [  # (weekday, courtroom, judge): as the demo calendars
    (1, "3B", "Judge Maria Alvarez"),
    (3, "5A", "Judge Thomas Becker"),
    (4, "1753", "Judge Linda Okafor"),
]
# The day a (fictional) bench card reminding judges to order firearm surrender came in: the
# before/after view shows the change it made.
CHANGE_WEEKS_AGO = 7
# Judges differ, as the comparison page should show: how often safety and accountability
# come up, how much the judge speaks, how often the defendant is heard, who holds the
# influence, where the sentence terms come from, and how the bench card changed things.
JUDGE_HABITS: dict[str, dict[str, Any]] = {
    "Judge Maria Alvarez": {
        "safety": 0.78,
        "accountability": 0.72,
        "judge_weight": 5,
        "defendant": 0.6,
        "influence": {"judge": 6, "prosecutor": 3, "probation": 1},
        "terms": {
            "plea_agreement": 4,
            "prosecutor_recommendation": 2,
            "presentence_report": 3,
            "judge_own": 3,
        },
        "firearm": (0.35, 0.8),
    },
    "Judge Thomas Becker": {
        "safety": 0.3,
        "accountability": 0.35,
        "judge_weight": 2,
        "defendant": 0.25,
        "influence": {"prosecutor": 7, "judge": 2, "defense": 1},
        "terms": {
            "plea_agreement": 8,
            "prosecutor_recommendation": 3,
            "presentence_report": 1,
            "judge_own": 1,
        },
        "firearm": (0.2, 0.25),
    },
    "Judge Linda Okafor": {
        "safety": 0.6,
        "accountability": 0.55,
        "judge_weight": 4,
        "defendant": 0.5,
        "influence": {"judge": 4, "prosecutor": 4, "probation": 2},
        "terms": {
            "plea_agreement": 5,
            "prosecutor_recommendation": 2,
            "presentence_report": 3,
            "judge_own": 1,
        },
        "firearm": (0.3, 0.7),
    },
}
DEFAULT_HABITS = JUDGE_HABITS["Judge Linda Okafor"]
# How often one observer notes a categorical answer differently from the other (a slip, a
# moment not heard): gives agreement between the two demo observers of about κ 0.6–0.8.
SLIP = 0.07


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


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _count(q: Question, rng: random.Random) -> int:
    """Plausible sentence numbers: days to serve, days stayed, months of probation."""
    if q.key == "jail_days_executed":
        return rng.choices([0, 2, 5, 10, 30, 45, 90], [3, 2, 2, 2, 3, 1, 1])[0]
    if q.key == "jail_days_stayed":
        return rng.choice([30, 60, 90, 180, 270, 365])
    if q.key == "probation_months":
        return rng.choices([12, 18, 24, 36], [3, 1, 4, 2])[0]
    return rng.randint(0, 30)


def _value(
    q: Question, definition: ProtocolDefinition, rng: random.Random, habits: dict, after: bool
) -> Any:
    if q.type == "yes_no":
        if q.key == "firearm_surrender":
            p_yes = habits["firearm"][1 if after else 0]
        elif "safety" in q.tags:
            p_yes = habits["safety"]
        elif "accountability" in q.tags:
            p_yes = habits["accountability"]
        else:
            p_yes = 0.55
        r = rng.random()
        return "yes" if r < p_yes * 0.96 else ("no" if r < 0.96 else "not_observed")
    choices = definition.allowed_values(q)
    if q.type == "single_choice":
        if q.key in ("most_influence", "influence_overall", "sentence_decided_by"):
            return _weighted(rng, habits["influence"])
        if q.key == "sentence_terms_source":
            return _weighted(rng, habits["terms"])
        if q.key == "no_contact_order":
            return _weighted(
                rng,
                {
                    "ordered": 5,
                    "continued": 3,
                    "lifted": 1,
                    "not_mentioned": 4 - 3 * (habits["safety"] > 0.5),
                },
            )
        return rng.choice(choices)
    if q.type == "multi_choice":
        if q.key == "sentence_components":
            found = {"probation"} if rng.random() < 0.8 else set()
            found |= {"jail"} if rng.random() < 0.6 else set()
            found |= {
                c
                for c in ("batterer_intervention", "no_contact_order", "fine")
                if rng.random() < 0.45
            }
            return sorted(found or {"fine"})
        return sorted(set(rng.sample(choices, k=min(len(choices), rng.randint(1, 3)))))
    if q.type == "roles_present":
        return ["judge", "prosecutor", "defense", "clerk"]
    if q.type == "count":
        return _count(q, rng)
    return None  # free text stays empty in the demo


def _answers(
    definition: ProtocolDefinition,
    level: str,
    rng: random.Random,
    habits: dict,
    *,
    after: bool,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for q in definition.questions(level):  # type: ignore[arg-type]
        if q.type == "speaker_timeline" or not definition.is_visible(q, answers, context):
            continue
        if q.key == "continued":
            answers[q.key] = "yes" if rng.random() < 0.12 else "no"
            continue
        value = _value(q, definition, rng, habits, after)
        if value is not None:
            answers[q.key] = value
    return answers


def _slips(
    answers: dict[str, Any], definition: ProtocolDefinition, rng: random.Random
) -> dict[str, Any]:
    """One observer's own record of shared answers: now and then a categorical answer noted
    differently; what that hides is dropped, what it shows is left unanswered (as on a phone)."""
    out = dict(answers)
    for key, value in answers.items():
        q = definition.question(key)
        if q is None or q.type not in ("yes_no", "single_choice"):
            continue
        if rng.random() < SLIP:
            others = [v for v in definition.allowed_values(q) if v != value]
            if q.type == "yes_no":
                others = [v for v in others if v != "not_observed"] or others
            if others:
                out[key] = rng.choice(others)
    return {
        key: value
        for key, value in out.items()
        if (q := definition.question(key)) is not None and definition.is_visible(q, out)
    }


def _observation(
    *,
    sitting: CourtSession,
    judge: str | None,
    observer: User,
    version_id: int,
    definition: ProtocolDefinition,
    court: str,
    change_day: date,
) -> dict[str, Any]:
    """One observer's record of one sitting; the same sitting gives both observers the same
    hearings (same case numbers and order), with small differences in what each noted."""
    habits = JUDGE_HABITS.get(judge or "", DEFAULT_HABITS)
    after = sitting.session_date >= change_day
    sitting_rng = random.Random(f"sitting-{sitting.session_date}-{sitting.courtroom}")
    own_rng = random.Random(f"observer-{observer.email}-{sitting.session_date}-{sitting.courtroom}")
    hearings = []
    for position in range(sitting_rng.randint(5, 9)):
        seed = sitting_rng.random()
        shared = random.Random(seed)
        turns = _script(shared, habits)
        if own_rng.random() < 0.2 and len(turns) > 3:  # an observer misses a short exchange
            del turns[own_rng.randint(1, len(turns) - 2)]
        answers = _slips(
            _answers(definition, "hearing", random.Random(seed), habits, after=after),
            definition,
            own_rng,
        )
        if own_rng.random() < 0.05 and "safety_mentioned" in answers:
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
    session_answers = _answers(
        definition, "session", random.Random(f"session-{sitting.id}"), habits, after=after
    )
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


def _history_sittings(session: Session, today: date) -> None:
    """The weekly demo calendars of the HISTORY_WEEKS before app.sessions.demo's (which
    begin three weeks back), so the months and the before/after view have hearings."""
    first = today - timedelta(weeks=3, days=today.weekday())
    for week in range(HISTORY_WEEKS, 0, -1):
        monday = first - timedelta(weeks=week)
        for weekday, room, judge in HISTORY_CALENDARS:
            sessions_service.find_or_create_court_session(
                session=session,
                court=DEMO_COURT,
                courtroom=room,
                session_date=monday + timedelta(days=weekday),
                start_time=time(9, 0),
                judge=judge,
                calendar_type=CalendarType.sentencing,
                created_by_id=None,
            )
    session.commit()


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
    _history_sittings(session, today)
    change_day = today - timedelta(weeks=CHANGE_WEEKS_AGO, days=today.weekday())
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
                change_day=change_day,
            )
            (result,) = sync_service.ingest_batch(session=session, user=observer, items=[body])
            counts[result.result] = counts.get(result.result, 0) + 1
            if result.result == "invalid":
                log(f"  observation refused: {result.reason} {result.errors[:3]}")
    session.commit()
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
    log(f"  observations of {len(sittings)} past sittings ({summary}); a bench card on firearm "
        f"surrender from {change_day} (see Compare › Over time); second observer "
        f"{second.email} password: {SECOND_OBSERVER[2]}")  # fmt: skip
