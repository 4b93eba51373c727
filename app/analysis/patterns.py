"""Patterns: the hearing's usual script (the order in which the roles speak), how alike the
hearings are, and which depart most from it.

Scripts are read coded one character per role (hearing.script_code) and counted here; each
distinct script's edit distance to the most common one is computed once (rapidfuzz).
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from app.analysis import stats
from app.analysis.scope import Scope, fetch
from app.observations import pairs
from app.observations.models import Hearing, Observation, SpeakerRole, role_code
from app.sessions.models import CourtSession


@dataclass
class Patterns:
    hearings: int
    common: list[tuple[tuple[str, ...], int, float]]  # script, count, share
    modal: tuple[str, ...]
    mean_distance: float | None
    departures: list[dict[str, Any]]  # hearings that depart most from the modal script


def parse_script(script: str | None) -> tuple[str, ...]:
    if not script:
        return ()
    roles = script.split(">")
    return tuple(roles) if all(roles) else tuple(s for s in roles if s)


def patterns(
    *,
    session: Session,
    scope: Scope,
    top: int = 10,
    departures: int = 10,
) -> Patterns:
    """The most common scripts, how alike the hearings are, and which depart most.

    The scripts are read coded one character per role (Hearing.script_code) and counted here
    (cheaper than the database's GROUP BY sort); each distinct script's edit distance to the
    most common one is computed once, weighted by how many hearings have it. A hearing
    observed by two volunteers is listed once among the departures."""
    counted = Counter(
        code
        for (code,) in fetch(
            session,
            select(Hearing.script_code).where(
                col(Hearing.script_code) != "", *scope.where(Hearing.observation_id)
            ),
        )
    )
    if not counted:
        return Patterns(0, [], (), None, [])
    coded = list(counted)
    counts = list(counted.values())
    total = sum(counts)
    roles_by_code = {
        role_code(role_id): role
        for role_id, role in session.exec(select(SpeakerRole.id, SpeakerRole.role)).all()
    }
    # Most common first, ties in the order the roles were first met (as the codes sort);
    # only scripts as common as the top-th can rank.
    floor = heapq.nlargest(top, counts)[-1] if top > 0 else max(counts)
    ranked = heapq.nsmallest(
        max(top, 1),
        (i for i, n in enumerate(counts) if n >= floor),
        key=lambda i: (-counts[i], coded[i]),
    )
    modal = coded[ranked[0]]
    distances = stats.coded_distances(modal, coded)
    mean = sum(d * n for d, n in zip(distances, counts, strict=True)) / total
    # Farthest first, then the more common; only scripts as far as the departures-th can rank.
    far = heapq.nlargest(departures, distances)[-1] if departures > 0 else float("inf")
    worst = sorted(
        (i for i, d in enumerate(distances) if d >= far and d > 0),
        key=lambda i: (-distances[i], -counts[i]),
    )[:departures]
    worst_keys = {coded[i]: i for i in worst}
    rows = []
    if worst_keys:
        found = session.exec(
            select(
                Hearing.id,
                Hearing.script_code,
                Hearing.case_reference,
                CourtSession.session_date,
                Observation.court_session_id,
                Hearing.position,
            )
            .join(Observation, Observation.id == Hearing.observation_id)  # type: ignore[arg-type]
            .join(CourtSession, CourtSession.id == Observation.court_session_id)  # type: ignore[arg-type]
            .where(col(Hearing.script_code).in_(list(worst_keys)), *scope.f.conditions())
            .order_by(col(CourtSession.session_date).desc())
        ).all()
        seen: dict[str, int] = defaultdict(int)
        listed: set[tuple[Any, ...]] = set()
        # Farthest first, so a hearing whose observers recorded different scripts is listed
        # with the farthest one.
        found = sorted(found, key=lambda row: -distances[worst_keys[row[1]]])
        for hid, code, case_reference, session_date, sitting, position in found:
            same_hearing = (sitting, *pairs.match_key(case_reference, position))
            if seen[code] >= 2 or same_hearing in listed:  # a couple of examples per script
                continue
            seen[code] += 1
            listed.add(same_hearing)
            i = worst_keys[code]
            rows.append(
                {
                    "hearing_id": hid,
                    "script": stats.decode_script(coded[i], roles_by_code),
                    "distance": distances[i],
                    "case_reference": case_reference,
                    "session_date": session_date,
                }
            )
        rows.sort(key=lambda r: -r["distance"])
        rows = rows[:departures]
    common = [
        (stats.decode_script(coded[i], roles_by_code), counts[i], counts[i] / total)
        for i in ranked[:top]
    ]
    return Patterns(total, common, stats.decode_script(modal, roles_by_code), mean, rows)
