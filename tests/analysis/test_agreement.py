"""Agreement between observers of the same hearings: matching, Cohen's and Fleiss' κ (a mix
of observer counts drops nothing), undefined κ, and one rule for unanswered questions."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.analysis import stats
from app.analysis.agreement import agreement, matched_hearings
from app.observations.filters import HearingFilter
from app.observations.models import Observation
from tests.analysis.builders import comparison_definition, hearing, scope_of, send_observation
from tests.analysis.conftest import COURT_A
from tests.protocols.factories import published_protocol


def _agreement(db, f=None):
    scope, protocols = scope_of(db, f)
    return agreement(session=db, scope=scope, protocols=protocols)


def _question(a, key="safety_mentioned"):
    return next(q for q in a.questions if q.key == key)


def test_matching_rules(db, observed_twice):
    _, observers = observed_twice
    scope, _ = scope_of(db)
    matched = matched_hearings(session=db, scope=scope)
    assert [m.label for m in matched] == ["case CR-1", "case CR-2", "hearing #3"]
    assert all(len(m.hearings) == 3 for m in matched)
    # One observer alone matches nobody.
    scope, _ = scope_of(db, HearingFilter(observer_id=observers[0].id))
    assert matched_hearings(session=db, scope=scope) == []


def test_cohen_kappa_for_two_observers(db, observed_twice):
    _, observers = observed_twice
    third = db.exec(select(Observation).where(Observation.observer_id == observers[2].id)).one()
    db.delete(third)
    db.commit()
    q = _question(a := _agreement(db))
    # Pairs (yes,yes) (no,yes) (no,no): po = 2/3; marginals 1/3,2/3 and 2/3,1/3 → pe = 4/9;
    # κ = (2/3 − 4/9) / (1 − 4/9) = 0.4.
    assert q.method == "Cohen (2 observers)" and q.items == 3
    assert q.percent == pytest.approx(2 / 3)
    assert q.kappa == pytest.approx(0.4)
    # Scripts: identical, J>P>D vs J>D (1 deletion of 3 → 1/3), identical → mean 1/9.
    assert a.script_distance == pytest.approx(1 / 9)


def test_fleiss_kappa_for_three_observers(db, observed_twice):
    q = _question(_agreement(db))
    # n = 3 raters, N = 3 items. Category totals yes 5, no 4 of 9 → Pe = (25 + 16) / 81 = 41/81.
    # P_i = 1, 1/3, 1 → P̄ = 7/9. κ = (7/9 − 41/81) / (1 − 41/81) = 22/40 = 0.55.
    assert q.method == "Fleiss (3 observers)"
    assert q.kappa == pytest.approx(0.55)
    assert q.percent == pytest.approx(2 / 3)


def test_a_mix_of_two_and_three_observers_drops_no_hearing(db, client_for):
    version = published_protocol(db, name="Mixed", definition=comparison_definition())
    ratings = [  # per observer: CR-1, CR-2, then a hearing with no reference
        ["yes", "no", "no"],
        ["yes", "yes", "no"],
        ["yes", "yes"],  # the third observer left before the last hearing
    ]
    for answers in ratings:
        client, _ = client_for("volunteer")
        refs = ["CR-1", "CR-2", None][: len(answers)]
        send_observation(
            client,
            protocol_version_id=version.id,
            court=COURT_A,
            hearings=[
                hearing([], {"safety_mentioned": a}, case_reference=r)
                for a, r in zip(answers, refs, strict=True)
            ],
        )
    q = _question(_agreement(db))
    # Items (y y y), (n y y), (n n): all three count. Fleiss for a varying number of raters:
    # po = (1 + 1/3 + 1) / 3 = 7/9; π_yes = (1 + 2/3 + 0) / 3 = 5/9, π_no = 4/9 →
    # pe = 41/81; κ = (63/81 − 41/81) / (40/81) = 0.55.
    assert q.items == 3
    assert q.method == "Fleiss (2–3 observers)"
    assert q.kappa == pytest.approx(0.55)


def test_undefined_kappa_is_a_dash_with_its_reason_not_a_perfect_score(db, client_for):
    version = published_protocol(db, name="Same", definition=comparison_definition())
    for _ in range(2):
        client, _ = client_for("volunteer")
        send_observation(
            client,
            protocol_version_id=version.id,
            court=COURT_A,
            hearings=[
                hearing([], {"safety_mentioned": "yes"}, case_reference=f"CR-{i}") for i in range(4)
            ],
        )
    q = _question(_agreement(db))
    assert q.items == 4 and q.percent == 1.0
    assert q.kappa is None and q.interpretation == "—"
    assert q.note == stats.KAPPA_UNDEFINED


def test_the_reference_table_compares_only_what_both_answered(db, client_for):
    version = published_protocol(db, name="Reference", definition=comparison_definition())
    ids = []
    for answers in [["yes", "yes", "no"], ["yes", None, "yes"]]:
        client, user = client_for("volunteer")
        ids.append(user)
        send_observation(
            client,
            protocol_version_id=version.id,
            court=COURT_A,
            hearings=[
                hearing([], {"safety_mentioned": a} if a else {}, case_reference=f"CR-{i}")
                for i, a in enumerate(answers)
            ],
        )
    reference = db.exec(select(Observation).where(Observation.observer_id == ids[0].id)).one()
    reference.is_reference = True
    db.add(reference)
    db.commit()
    a = _agreement(db)
    (row,) = a.reference
    # CR-0 agreed, CR-2 disagreed; CR-1 left blank by the observer is not compared (as the
    # pairs table does), not counted as a disagreement.
    assert row.per_question == [("safety_mentioned", "Victim safety mentioned?", 1, 2, 1)]
    assert _question(a).items == 2


def test_no_agreement_without_shared_hearings(db, four_hearings):
    a = _agreement(db)
    assert a.matched == [] and a.questions == [] and a.script_distance is None
