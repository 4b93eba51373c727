"""Agreement figures stored per pair of observations (observation_pair) when either is written:
the comparison page's agreement read from them is the same as worked out from the hearings,
and they follow edits, sitting changes, filters and a rebuild."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.analysis.agreement import Agreement, agreement
from app.observations.filters import HearingFilter
from app.observations.models import Observation, ObservationPair, ObservationSummary
from app.observations.store import rebuild_summaries
from tests.analysis.builders import comparison_definition, hearing, scope_of
from tests.analysis.conftest import COURT_A, COURT_B
from tests.protocols.factories import published_protocol

# safety_mentioned and nco per hearing, for two observers; CR-3 only the first saw
FIRST = {"CR-1": ("yes", "ordered"), "CR-2": ("no", "continued"), "CR-3": ("no", "ordered")}
SECOND = {"CR-1": ("yes", "ordered"), "CR-2": ("yes", "continued"), None: ("no", "ordered")}
SCRIPTS = {
    "CR-1": [("judge", 0, 1000), ("prosecutor", 1000, 2000)],
    "CR-2": [("judge", 0, 1000), ("defense", 1000, 2000)],
    "CR-3": [("judge", 0, 1000)],
    None: [("judge", 0, 1000)],
}


def _hearings(ratings: dict[str | None, tuple[str, str]]) -> list[dict[str, Any]]:
    out = []
    for position, (ref, (safety, nco)) in enumerate(ratings.items()):
        h = hearing(SCRIPTS[ref], {"safety_mentioned": safety, "nco": nco}, case_reference=ref)
        h["position"] = position
        out.append(h)
    return out


def _send(client, version_id, observation_id, hearings, court=COURT_A, minutes=0) -> None:
    body = {
        "observations": [
            {
                "id": observation_id,
                "protocol_version_id": version_id,
                "court": court,
                "status": "draft",
                "session_answers": {},
                "hearings": hearings,
                "client_edited_at": (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat(),
            }
        ]
    }
    response = client.post("/api/v1/observations/batch", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["result"] in ("created", "updated")


@pytest.fixture
def two_observers(db, client_for):
    version = published_protocol(db, name="Pairs", definition=comparison_definition())
    ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    clients = []
    for observation_id, ratings in zip(ids, (FIRST, SECOND), strict=True):
        client, _ = client_for("volunteer")
        clients.append(client)
        _send(client, version.id, observation_id, _hearings(ratings))
    return version, ids, clients


def _agreement(db, f: HearingFilter | None = None) -> Agreement:
    # The observations here are drafts (so that they can be edited): the filter asks for them.
    scope, protocols = scope_of(db, f or HearingFilter(status="draft"))
    return agreement(session=db, scope=scope, protocols=protocols)


def _figures(a: Agreement) -> tuple[Any, ...]:
    return (
        a.matched_count,
        a.script_distance,
        [(q.key, q.items, q.percent, q.kappa, q.method) for q in a.questions],
    )


def _from_hearings(db) -> Agreement:
    """The same figures worked out from the hearings (pairs not trusted)."""
    db.execute(sa.update(ObservationSummary).values(paired=False))
    db.commit()
    return _agreement(db)


def test_pairs_give_the_figures_worked_out_from_the_hearings(db, two_observers):
    paired = _agreement(db)
    assert paired.matched == [] and paired.paired_hearings == 2  # read from the pair row
    # CR-1, CR-2 by case; the second's hearing without a reference matches by position 2
    # (the first's CR-3 is at position 2 too, but has a reference: no match).
    # safety: (yes, yes) (no, yes); nco: (ordered, ordered) (continued, continued).
    figures = _figures(paired)
    assert figures[0] == 2
    assert dict((q[0], q[1:]) for q in figures[2]) == {
        "safety_mentioned": (2, 0.5, 0.0, "Cohen (2 observers)"),
        "nco": (2, 1.0, 1.0, "Cohen (2 observers)"),
    }
    assert figures[1] == pytest.approx(0.0)
    worked_out = _from_hearings(db)
    assert worked_out.paired_hearings == 0 and len(worked_out.matched) == 2
    assert _figures(worked_out) == figures


def test_an_edit_works_the_pair_out_again(db, two_observers):
    version, ids, clients = two_observers
    changed = dict(SECOND, **{"CR-2": ("no", "ordered")})
    _send(clients[1], version.id, ids[1], _hearings(changed), minutes=5)
    a = _agreement(db)
    assert a.paired_hearings == 2
    by_key = {q.key: q for q in a.questions}
    assert by_key["safety_mentioned"].percent == 1.0
    assert by_key["nco"].percent == 0.5
    assert _figures(a) == _figures(_from_hearings(db))


def test_a_peer_edit_keeping_its_hearing_ids_is_compared_as_it_now_is(db, client_for):
    """Phones resend their whole calendar with the same hearing ids; a peer's unchanged
    hearings are not read again, its edited one is: every pair is what the hearings say."""
    version = published_protocol(db, name="Pairs", definition=comparison_definition())
    ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    sent = [_hearings(FIRST), _hearings(SECOND)]
    clients = [client_for("volunteer")[0], client_for("volunteer")[0]]
    for client, observation_id, hearings in zip(clients, ids, sent, strict=True):
        _send(client, version.id, observation_id, hearings)
    # The first changes CR-2 (same id): safety now agrees, nco no longer does.
    sent[0][1]["answers"] = {"safety_mentioned": "yes", "nco": "ordered"}
    _send(clients[0], version.id, ids[0], sent[0], minutes=5)
    # The second edits a hearing the first did not see; its pair reads the first's hearings.
    sent[1][2]["turns"] = [{"role": "prosecutor", "start_ms": 0, "end_ms": 500}]
    _send(clients[1], version.id, ids[1], sent[1], minutes=6)
    a = _agreement(db)
    assert a.paired_hearings == 2
    by_key = {q.key: q for q in a.questions}
    assert (by_key["safety_mentioned"].percent, by_key["nco"].percent) == (1.0, 0.5)
    assert _figures(a) == _figures(_from_hearings(db))
    # And again the other way round: the second edits CR-1, the first resends.
    sent[1][0]["answers"] = {"safety_mentioned": "no", "nco": "ordered"}
    _send(clients[1], version.id, ids[1], sent[1], minutes=7)
    sent[0][2]["answers"] = {"safety_mentioned": "yes", "nco": "ordered"}
    _send(clients[0], version.id, ids[0], sent[0], minutes=8)
    a = _agreement(db)
    by_key = {q.key: q for q in a.questions}
    assert (by_key["safety_mentioned"].percent, by_key["nco"].percent) == (0.5, 0.5)
    assert _figures(a) == _figures(_from_hearings(db))


def test_moving_to_another_sitting_drops_the_pair(db, two_observers):
    version, ids, clients = two_observers
    _send(clients[1], version.id, ids[1], _hearings(SECOND), court=COURT_B, minutes=5)
    assert db.exec(select(ObservationPair)).all() == []
    assert _agreement(db).matched_count == 0


def test_a_filter_leaving_one_observation_out_uses_no_pair(db, two_observers):
    _, ids, _ = two_observers
    first = db.get(Observation, uuid.UUID(ids[0]))
    a = _agreement(db, HearingFilter(observer_id=first.observer_id, status="draft"))
    assert a.matched_count == 0 and a.questions == []


def test_a_reference_sitting_is_worked_out_from_the_hearings(db, two_observers):
    _, ids, _ = two_observers
    first = db.get(Observation, uuid.UUID(ids[0]))
    first.is_reference = True
    db.add(first)
    db.commit()
    a = _agreement(db)
    assert a.paired_hearings == 0 and len(a.matched) == 2
    assert [r.hearings for r in a.reference] == [2]


def test_rebuild_gives_the_pairs_sync_wrote(db, two_observers):
    def stored():
        return [
            (p.first_observation_id, p.second_observation_id, p.hearings, p.tallies, p.scripts)
            for p in db.exec(select(ObservationPair)).all()
        ]

    written = stored()
    assert len(written) == 1
    rebuild_summaries(db.connection())
    db.commit()
    db.expire_all()
    assert stored() == written
    assert all(s.paired for s in db.exec(select(ObservationSummary)).all())
