"""Observer agreement between two observations of one sitting, worked out when either is
written: which hearings match, what each said to every categorical question, and how far
apart their speaker scripts are. The comparison page then adds up a row per pair instead of
reading every hearing of every doubly-observed sitting.

Hearings match on the case reference (trimmed, upper case) or, without one, on their order in
the sitting (app.analysis.service.matched_hearings uses the same key). Pairs are ordered by
observer id (the first observation is the lower observer's), as Cohen's kappa needs the same
rater in the same place.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections import OrderedDict
from collections.abc import Collection, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from app.analysis import stats
from app.observations.models import Hearing, Observation, ObservationPair, ObservationSummary
from app.sessions import service as sessions_service

pair_table = ObservationPair.__table__  # type: ignore[attr-defined]
hearing_table = Hearing.__table__  # type: ignore[attr-defined]


def match_key(case_reference: str | None, position: int) -> tuple[str, Any]:
    """What a hearing is matched on within its sitting."""
    reference = (case_reference or "").strip().upper()
    return ("case", reference) if reference else ("pos", position)


def comparable(value: Any) -> str | None:
    """An answer as compared between observers: a non-blank text, else None."""
    return value if isinstance(value, str) and value.strip() else None


Prepared = dict[tuple[str, Any], tuple[Any, dict[str, str]]]


def prepare(
    hearings: Iterable[tuple[str | None, int, str, dict[str, Any]]], keys: Collection[str]
) -> Prepared:
    """Hearings (case reference, position, script, answers) as pair_figures compares them:
    by match key, the parsed script and the comparable answers to `keys`. Worked out once
    for an observation compared with several others."""
    out: Prepared = {}
    wanted = keys if isinstance(keys, set | frozenset) else set(keys)
    for ref, pos, script, answers in hearings:
        found = {
            question: value
            for question, value in answers.items()
            if question in wanted and comparable(value) is not None
        }
        out[match_key(ref, pos)] = (stats.parse_script_key(script) if script else None, found)
    return out


def pair_figures(
    first: Iterable[tuple[str | None, int, str, dict[str, Any]]] | Prepared,
    second: Iterable[tuple[str | None, int, str, dict[str, Any]]] | Prepared,
    keys: Collection[str],
) -> dict[str, Any] | None:
    """Two observations' hearings, each (case reference, position, script, answers) or as
    prepared: the matched hearings, per question in `keys` the (first, second) answer pairs
    with their numbers, and the scripts' normalised edit distances (summed, and how many).
    None when no hearing matches."""
    mine = first if isinstance(first, dict) else prepare(first, keys)
    theirs = second if isinstance(second, dict) else prepare(second, keys)
    matched = mine.keys() & theirs.keys()
    if not matched:
        return None
    tallies: dict[str, dict[tuple[str, str], int]] = {}
    distances: list[float] = []
    for key in matched:
        (script_a, answers_a), (script_b, answers_b) = mine[key], theirs[key]
        for question, a in answers_a.items():
            b = answers_b.get(question)
            if b is not None:
                counts = tallies.setdefault(question, {})
                counts[a, b] = counts.get((a, b), 0) + 1
        if script_a and script_b:
            distances.append(stats.normalised_edit_distance(script_a, script_b))
    return {
        "hearings": len(matched),
        "tallies": {
            q: [[a, b, n] for (a, b), n in sorted(counts.items())] for q, counts in tallies.items()
        },
        # fsum: the same sum whatever order the set of matched hearings comes in
        "distance_sum": math.fsum(distances),
        "scripts": len(distances),
    }


def write_pairs(
    *,
    session: Session,
    observation_id: uuid.UUID,
    observer_id: int,
    court_session_id: int,
    hearings: Sequence[tuple[str | None, int, str, dict[str, Any]]],
    keys: Collection[str],
) -> None:
    """Work out an observation's pairs with the other observers' observations of its sitting
    (its old pairs are gone: delete_pairs); its summary is written as paired.

    The sitting's row is locked (PostgreSQL), so that two observations of one sitting written
    at once see each other: the second waits for the first to commit. The sync batch has
    taken that lock already, before writing anything (lock_court_sessions); here it is
    taken again for other writers (a no-op when held)."""
    sessions_service.lock_court_sessions(session=session, court_session_ids=[court_session_id])
    peers = session.execute(
        sa.select(Observation.id, Observation.observer_id).where(
            Observation.court_session_id == court_session_id,
            Observation.id != observation_id,
            Observation.observer_id != observer_id,
        )
    ).all()
    observer_of = dict(peers)
    wanted = frozenset(keys)
    by_peer = _peer_hearings(session, list(observer_of), wanted)
    rows = []
    mine = prepare(hearings, wanted)
    for peer_id, theirs in by_peer.items():
        if observer_of[peer_id] < observer_id:
            first, second, figures = peer_id, observation_id, pair_figures(theirs, mine, wanted)
        else:
            first, second, figures = observation_id, peer_id, pair_figures(mine, theirs, wanted)
        if figures is not None:
            rows.append({"first_observation_id": first, "second_observation_id": second, **figures})
    if rows:
        session.execute(sa.insert(pair_table), rows)


# A hearing as prepare() gives it, by (content digest, question keys): a digest fixes the
# hearing's position, case reference, answers and turns (app.observations.store.hearing_digest),
# so a peer's unchanged hearings are neither read nor prepared again at every sync.
_PREPARED: OrderedDict[tuple[str, frozenset[str]], tuple[tuple[str, Any], Any]] = OrderedDict()
_PREPARED_LIMIT = 50_000
_PREPARED_LOCK = threading.Lock()


def _peer_hearings(
    session: Session, peer_ids: list[Any], keys: frozenset[str]
) -> dict[Any, Prepared]:
    """Each peer observation's hearings, prepared for pair_figures (in position order, as
    prepare() takes them: of two hearings with one match key, the later is compared)."""
    found: dict[Any, list[tuple[int, tuple[str, Any], Any]]] = {p: [] for p in peer_ids}
    unknown: list[Any] = []
    for start in range(0, len(peer_ids), 500):
        for peer_id, hearing_id, position, digest in session.execute(
            sa.select(
                hearing_table.c.observation_id,
                hearing_table.c.id,
                hearing_table.c.position,
                hearing_table.c.content_hash,
            ).where(hearing_table.c.observation_id.in_(peer_ids[start : start + 500]))
        ):
            entry = _PREPARED.get((digest, keys)) if digest is not None else None
            if entry is None:
                unknown.append(hearing_id)
            else:
                found[peer_id].append((position, *entry))
    for start in range(0, len(unknown), 500):
        for peer_id, digest, ref, pos, script, answers in session.execute(
            sa.select(
                hearing_table.c.observation_id,
                hearing_table.c.content_hash,
                hearing_table.c.case_reference,
                hearing_table.c.position,
                hearing_table.c.script,
                hearing_table.c.answers,
            ).where(hearing_table.c.id.in_(unknown[start : start + 500]))
        ):
            ((key, entry),) = prepare([(ref, pos, script, answers)], keys).items()
            found[peer_id].append((pos, key, entry))
            if digest is not None:
                with _PREPARED_LOCK:
                    _PREPARED[digest, keys] = (key, entry)
                    while len(_PREPARED) > _PREPARED_LIMIT:
                        _PREPARED.popitem(last=False)
    return {
        peer_id: {key: entry for _, key, entry in sorted(rows, key=lambda r: r[0])}
        for peer_id, rows in found.items()
    }


def delete_pairs(*, session: Session, observation_id: uuid.UUID) -> None:
    session.execute(
        sa.delete(pair_table).where(
            sa.or_(
                pair_table.c.first_observation_id == observation_id,
                pair_table.c.second_observation_id == observation_id,
            )
        )
    )


def rebuild_pairs(
    connection: sa.Connection, *, court_session_ids: Collection[int] | None = None
) -> None:
    """Every observation's pairs worked out again from the stored hearings (for rows written
    some other way, and for data stored before pairs existed); every summary marked paired.
    With `court_session_ids`, only the observations of those sittings (sittings merged by
    migration 0007)."""
    from app.protocols.definition import parse_definition
    from app.protocols.models import ProtocolVersion

    in_sittings = sa.select(Observation.id).where(
        Observation.court_session_id.in_(sorted(court_session_ids or ()))  # type: ignore[attr-defined]
    )

    def scoped(query: Any, column: Any) -> Any:
        return query if court_session_ids is None else query.where(column.in_(in_sittings))

    connection.execute(
        sa.delete(pair_table)
        if court_session_ids is None
        else sa.delete(pair_table).where(
            sa.or_(
                pair_table.c.first_observation_id.in_(in_sittings),
                pair_table.c.second_observation_id.in_(in_sittings),
            )
        )
    )
    keys = {
        version_id: parse_definition(document).categorical_keys()
        for version_id, document in connection.execute(
            sa.select(ProtocolVersion.id, ProtocolVersion.definition)
        )
    }
    by_sitting: dict[int, list[tuple[Any, int, int]]] = {}
    for oid, observer, sitting, version_id in connection.execute(
        scoped(
            sa.select(
                Observation.id,
                Observation.observer_id,
                Observation.court_session_id,
                Observation.protocol_version_id,
            ),
            Observation.id,
        )
    ):
        by_sitting.setdefault(sitting, []).append((oid, observer, version_id))
    shared = [obs for obs in by_sitting.values() if len({o[1] for o in obs}) >= 2]
    wanted = [oid for obs in shared for oid, _, _ in obs]
    hearings: dict[Any, list[tuple[str | None, int, str, dict[str, Any]]]] = {}
    for start in range(0, len(wanted), 500):
        for oid, ref, pos, script, answers in connection.execute(
            sa.select(
                hearing_table.c.observation_id,
                hearing_table.c.case_reference,
                hearing_table.c.position,
                hearing_table.c.script,
                hearing_table.c.answers,
            )
            .where(hearing_table.c.observation_id.in_(wanted[start : start + 500]))
            .order_by(hearing_table.c.observation_id, hearing_table.c.position)
        ):
            hearings.setdefault(oid, []).append((ref, pos, script, answers))
    rows = []
    for observations in shared:
        ordered = sorted(observations, key=lambda o: o[1])
        for i, (first, first_observer, version_id) in enumerate(ordered):
            for second, second_observer, _ in ordered[i + 1 :]:
                if second_observer == first_observer:
                    continue
                figures = pair_figures(
                    hearings.get(first, []), hearings.get(second, []), keys.get(version_id, [])
                )
                if figures is not None:
                    rows.append(
                        {"first_observation_id": first, "second_observation_id": second, **figures}
                    )
    for start in range(0, len(rows), 1000):
        connection.execute(sa.insert(pair_table), rows[start : start + 1000])
    summary = ObservationSummary.__table__  # type: ignore[attr-defined]
    connection.execute(scoped(sa.update(summary), summary.c.observation_id).values(paired=True))
