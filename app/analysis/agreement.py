"""Agreement between observers of the same hearings: per categorical question the share of
hearings they agreed on and κ (Cohen's for two observers, Fleiss' for a varying number), the
speaker scripts' distance, and each observer against a trainer's reference record.

Two-observer sittings are read from observation_pair (worked out at ingest); sittings with
three or more observers, a reference, or not yet paired are worked out from the hearings. One
rule everywhere: a question is compared only where both records answered it (a question
hidden by show_if, or left blank, on either side is not compared).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.analysis import stats
from app.analysis.patterns import parse_script
from app.analysis.scope import Scope, SetProtocols, as_text, fetch, json_value, oid_key
from app.auth.models import User
from app.errors import NotFound
from app.i18n import gettext
from app.observations import pairs
from app.observations.models import (
    Hearing,
    Observation,
    ObservationPair,
    ObservationSummary,
)
from app.protocols.definition import Question
from app.sessions.models import CourtSession

CATEGORICAL = {"single_choice", "yes_no"}


@dataclass
class MatchedHearing:
    key: tuple[Any, ...]  # (court session id, "case", reference) or (court session id, "pos", n)
    label: str
    # observer id → {hearing_id, observation_id (as the driver gives them: keys, not UUIDs),
    # position, script, answers, is_reference}
    hearings: dict[int, dict[str, Any]]


@dataclass
class QuestionAgreement:
    key: str
    label: str
    items: int  # matched hearings rated by two or more observers
    percent: float | None
    kappa: float | None
    interpretation: str
    method: str  # "Cohen (2 observers)", "Fleiss (2–3 observers)"
    note: str = ""  # why κ is undefined, when it is


@dataclass
class ObserverVsReference:
    observer: str
    hearings: int
    per_question: list[tuple[str, str, int, int, int]]  # key, label, agreed, compared, skipped
    script_distance: float | None


@dataclass
class Agreement:
    # the matched hearings worked out from the hearings (sittings with three or more
    # observations in the set, or with a reference, or not yet paired) ...
    matched: list[MatchedHearing]
    questions: list[QuestionAgreement]
    script_distance: (
        float | None
    )  # mean pairwise normalised edit distance between observers' scripts
    reference: list[ObserverVsReference] = field(default_factory=list)
    # ... and those read from observation_pair rows: how many, and their observations
    # (observation id as the driver gives it, observer id, court session id)
    paired_hearings: int = 0
    paired_observations: list[tuple[Any, int, int]] = field(default_factory=list)

    @property
    def matched_count(self) -> int:
        """Hearings observed by two or more volunteers."""
        return len(self.matched) + self.paired_hearings


def matched_hearings(
    *,
    session: Session,
    scope: Scope,
    keys: Iterable[str] | None = None,
    only: Collection[Any] | None = None,
) -> list[MatchedHearing]:
    """Hearings observed by two or more volunteers: same court session and case reference, or
    same court session and order when the case reference is missing; with their answers (to
    the questions `keys`: key → value or None; or all: key → value, a list answer as a
    sorted tuple of its items).

    Only sittings with two or more observers in the set are read at all (and of those, with
    `only`, only these observations)."""
    observers: dict[int, set[int]] = defaultdict(set)
    for s in scope.observations.values():
        observers[s.court_session_id].add(s.observer_id)
    shared = [
        oid
        for oid, s in scope.observations.items()
        if len(observers[s.court_session_id]) >= 2 and (only is None or oid in only)
    ]
    if not shared:
        return []
    # The answers come from the hearing's JSON: all of it, or (cheaper) just the wanted keys
    # picked out by the database (json_extract / ->>), which holds only scalar answers.
    key_list = None if keys is None else sorted(set(keys))
    answer_columns = (
        [Hearing.answers]
        if key_list is None
        else [
            # a blank answer is no answer (as the answer rows have it)
            sa.func.nullif(sa.func.trim(col(Hearing.answers)[k].as_string()), "").label(
                f"answer_{i}"
            )
            for i, k in enumerate(key_list)
        ]
    )
    rows = []
    for start in range(0, len(shared), 500):
        rows.extend(
            fetch(
                session,
                select(
                    oid_key(Hearing.id).label("hearing_id"),
                    oid_key(Hearing.observation_id).label("observation_id"),
                    Hearing.case_reference,
                    Hearing.position,
                    Hearing.script,
                    Observation.observer_id,
                    Observation.court_session_id,
                    Observation.is_reference,
                    *answer_columns,
                )
                .join(Observation, Observation.id == Hearing.observation_id)  # type: ignore[arg-type]
                .where(oid_key(Hearing.observation_id).in_(shared[start : start + 500])),
            )
        )
    groups: dict[tuple[Any, ...], dict[int, dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        hid, oid, ref, pos, script, observer, cs_id, is_ref = row[:8]
        values = row[8:]
        if key_list is None:
            document = values[0] or {}
            answers = _comparable_answers(
                json.loads(document) if isinstance(document, str) else document
            )
        else:  # None for no answer
            answers = dict(zip(key_list, values, strict=True))
        key = (cs_id, *pairs.match_key(ref, pos))
        groups[key][observer] = {
            "hearing_id": hid,
            "observation_id": oid,
            "position": pos,
            "script": parse_script(script),
            "is_reference": bool(is_ref),
            "answers": answers,
            "values": values,  # with `keys`: the answers in the order of sorted(keys)
        }
    groups = {k: v for k, v in groups.items() if len(v) >= 2}
    if not groups:
        return []
    out = []
    # In the order of the sitting, then of the hearings in it.
    for key, observers_ in sorted(
        groups.items(),
        key=lambda kv: (
            kv[0][0],
            min(h["position"] for h in kv[1].values()),
            kv[0][1],
            str(kv[0][2]),
        ),
    ):
        label = f"case {key[2]}" if key[1] == "case" else f"hearing #{int(key[2]) + 1}"
        out.append(MatchedHearing(key, label, observers_))
    return out


def _comparable_answers(answers: dict[str, Any]) -> dict[str, Any]:
    """A hearing's answers as compared between observers: what its answer rows hold (blank
    answers left out), a list as the sorted tuple of its items."""
    out = {}
    for key, value in answers.items():
        if not value or (isinstance(value, str) and not value.strip()):
            continue  # unanswered, blank, or an empty list ("none of these": no value)
        if isinstance(value, list):
            out[key] = tuple(sorted(map(str, value))) if len(value) != 1 else value[0]
        else:
            out[key] = value
    return out


def agreement(*, session: Session, scope: Scope, protocols: SetProtocols) -> Agreement:
    """Per categorical question: percent agreement and kappa; per hearing: script distance;
    and, where a trainer marked a reference observation, each observer against it."""
    questions = {
        k: q for k, q in protocols.questions(level="hearing").items() if q.type in CATEGORICAL
    }
    paired, live = _paired_sittings(session, scope)
    matched = matched_hearings(session=session, scope=scope, keys=questions, only=live)
    # Ordered by observer so Cohen's κ sees the same rater in the same place; identical
    # rating tuples are counted once with their number.
    tallies: dict[str, Counter[tuple[Any, ...]]] = defaultdict(Counter)
    firsts: list[tuple[Any, ...]] = []
    seconds: list[tuple[Any, ...]] = []
    for m in matched:
        hearings = [h for _, h in sorted(m.hearings.items())]
        if len(hearings) == 2:  # the common case: all pairs are counted per key below
            firsts.append(hearings[0]["values"])
            seconds.append(hearings[1]["values"])
            continue
        answers = [h["answers"] for h in hearings]
        for key in set().union(*answers):
            values = tuple(v for v in (a.get(key) for a in answers) if v is not None)
            if len(values) >= 2:
                tallies[key][values] += 1
    # One column of values per question (in the order of sorted(questions)), for all pairs.
    for key, first, second in zip(
        sorted(questions), zip(*firsts, strict=True), zip(*seconds, strict=True), strict=False
    ):  # no pairs: no columns
        for pair, n in Counter(zip(first, second, strict=True)).items():
            if pair[0] is not None and pair[1] is not None:
                tallies[key][pair] += n
    # Sittings whose two observations were paired when written: their figures as stored.
    distances: list[float] = []
    paired_hearings, distance_sum, scripts = _add_pairs(session, paired, questions, tallies)
    results = []
    for key, q in questions.items():
        tally = tallies.get(key)
        if not tally:
            continue
        k = stats.kappa_counts(tally)
        results.append(
            QuestionAgreement(
                key,
                q.label,
                sum(tally.values()),
                stats.percent_agreement_counts(tally),
                k,
                stats.interpret_kappa(k) if k is not None else "—",
                stats.kappa_method(tally),
                stats.KAPPA_UNDEFINED if k is None else "",
            )
        )
    for m in matched:
        found = [h["script"] for h in m.hearings.values() if h["script"]]
        for i in range(len(found)):
            for j in range(i + 1, len(found)):
                distances.append(stats.normalised_edit_distance(found[i], found[j]))
    compared = len(distances) + scripts
    result = Agreement(
        matched,
        results,
        (sum(distances) + distance_sum) / compared if compared else None,
        paired_hearings=paired_hearings,
        paired_observations=[o for pair in paired.values() for o in pair],
    )
    result.reference = _against_reference(session, matched, questions)
    return result


def _paired_sittings(
    session: Session, scope: Scope
) -> tuple[dict[int, list[tuple[Any, int, int]]], set[Any]]:
    """The sittings with two or more observers in the set, told apart: those whose agreement
    figures can be read from observation_pair (exactly two observations in the set, both
    paired, neither a reference): court session → its two observations (id, observer,
    court session), lower observer first; and the observations of all the others."""
    by_sitting: dict[int, list[tuple[Any, int, int]]] = defaultdict(list)
    for oid, s in scope.observations.items():
        by_sitting[s.court_session_id].append((oid, s.observer_id, s.court_session_id))
    shared = {cs: obs for cs, obs in by_sitting.items() if len({o[1] for o in obs}) >= 2}
    ids = [o[0] for obs in shared.values() if len(obs) == 2 for o in obs]
    ready: set[Any] = set()
    for start in range(0, len(ids), 500):
        ready.update(
            oid
            for (oid,) in fetch(
                session,
                select(oid_key(ObservationSummary.observation_id))
                .join(Observation, Observation.id == ObservationSummary.observation_id)  # type: ignore[arg-type]
                .where(
                    oid_key(ObservationSummary.observation_id).in_(ids[start : start + 500]),
                    col(ObservationSummary.paired).is_(True),
                    col(Observation.is_reference).is_(False),
                ),
            )
        )
    paired = {
        cs: sorted(obs, key=lambda o: o[1])
        for cs, obs in shared.items()
        if len(obs) == 2 and all(o[0] in ready for o in obs)
    }
    live = {o[0] for cs, obs in shared.items() if cs not in paired for o in obs}
    return paired, live


def _add_pairs(
    session: Session,
    paired: dict[int, list[tuple[Any, int, int]]],
    questions: Collection[str],
    tallies: dict[str, Counter[tuple[Any, ...]]],
) -> tuple[int, float, int]:
    """Add the paired sittings' answer pairs to `tallies`; (matched hearings, sum of script
    distances, scripts compared)."""
    second_of = {obs[0][0]: obs[1][0] for obs in paired.values()}
    firsts = list(second_of)
    hearings, distance_sum, scripts = 0, 0.0, 0
    wanted = set(questions)
    table = ObservationPair
    for start in range(0, len(firsts), 500):
        for first, second, n, found, distance, compared in fetch(
            session,
            select(
                oid_key(table.first_observation_id),
                oid_key(table.second_observation_id),
                table.hearings,
                as_text(table.tallies),
                table.distance_sum,
                table.scripts,
            ).where(oid_key(table.first_observation_id).in_(firsts[start : start + 500])),
        ):
            if second_of.get(first) != second:
                continue  # the first's pair with an observation outside the set
            hearings += n
            distance_sum += distance
            scripts += compared
            for key, counts in json_value(found).items():
                if key in wanted:
                    tally = tallies[key]
                    for a, b, k in counts:
                        tally[a, b] += k
    return hearings, distance_sum, scripts


def _against_reference(
    session: Session, matched: list[MatchedHearing], questions: dict[str, Question]
) -> list[ObserverVsReference]:
    # observer → key → [agreed, compared, not compared (unanswered or hidden on one side)]
    per_observer: dict[int, dict[str, list[int]]] = defaultdict(
        lambda: defaultdict(lambda: [0, 0, 0])
    )
    hearings_seen: dict[int, int] = defaultdict(int)
    distances: dict[int, list[float]] = defaultdict(list)
    for m in matched:
        # Should two observers' records both be marked, the first observer's is the reference.
        reference = next((h for _, h in sorted(m.hearings.items()) if h["is_reference"]), None)
        if reference is None:
            continue
        for observer, h in m.hearings.items():
            if h is reference:
                continue
            hearings_seen[observer] += 1
            if reference["script"] or h["script"]:
                distances[observer].append(
                    stats.normalised_edit_distance(reference["script"], h["script"])
                )
            for key in questions:
                ref_value, value = reference["answers"].get(key), h["answers"].get(key)
                if ref_value is None and value is None:
                    continue
                counts = per_observer[observer][key]
                if ref_value is None or value is None:  # the same rule as the pairs'
                    counts[2] += 1
                    continue
                counts[1] += 1
                if value == ref_value:
                    counts[0] += 1
    if not hearings_seen:
        return []
    names = dict(
        session.exec(
            select(User.id, User.display_name).where(col(User.id).in_(list(hearings_seen)))
        ).all()
    )
    out = []
    for observer, n in sorted(hearings_seen.items(), key=lambda kv: names.get(kv[0], "")):
        rows = [
            (key, questions[key].label, agreed, compared, skipped)
            for key, (agreed, compared, skipped) in per_observer[observer].items()
            if compared or skipped
        ]
        d = distances[observer]
        out.append(
            ObserverVsReference(
                names.get(observer, f"Observer {observer}"), n, rows, sum(d) / len(d) if d else None
            )
        )
    return out


def reference_candidates(
    *, session: Session, agreement: Agreement, limit: int = 20
) -> list[dict[str, Any]]:
    """The observations of the matched sittings (the latest sittings first, at most `limit`),
    with observer and sitting, for a trainer to mark (or unmark) as the reference."""
    seen: dict[Any, dict[str, Any]] = {
        oid: {
            "observation_id": oid,
            "observer_id": observer,
            "court_session_id": court_session,
            "is_reference": False,
        }
        for oid, observer, court_session in agreement.paired_observations
    }
    for m in agreement.matched:
        for observer, h in m.hearings.items():
            oid = h["observation_id"]
            if oid not in seen:
                seen[oid] = {
                    "observation_id": oid,
                    "observer_id": observer,
                    "court_session_id": m.key[0],
                    "is_reference": h["is_reference"],
                }
    rows = sorted(seen.values(), key=lambda r: (-r["court_session_id"], r["observer_id"]))[:limit]
    if not rows:
        return rows
    names = dict(
        session.exec(
            select(User.id, User.display_name).where(
                col(User.id).in_({r["observer_id"] for r in rows})
            )
        ).all()
    )
    sittings = {
        cs.id: cs
        for cs in session.exec(
            select(CourtSession).where(
                col(CourtSession.id).in_({r["court_session_id"] for r in rows})
            )
        ).all()
    }
    for r in rows:
        sitting = sittings.get(r["court_session_id"])
        r["observer"] = names.get(r["observer_id"], f"Observer {r['observer_id']}")
        r["sitting"] = f"{sitting.session_date} · courtroom {sitting.courtroom}" if sitting else "—"
    return rows


def set_reference(
    *, session: Session, observation_id: uuid.UUID, is_reference: bool
) -> Observation:
    """Mark an observation as the reference record for calibration (or take the mark off)."""
    observation = session.get(Observation, observation_id)
    if observation is None:
        raise NotFound(gettext("There is no such observation."))
    observation.is_reference = is_reference
    session.add(observation)
    session.commit()
    session.refresh(observation)
    return observation
