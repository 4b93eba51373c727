"""Trends per month and before/after a date, with the difference and its interval."""

from __future__ import annotations

from datetime import date

import pytest

from app.analysis import stats
from app.analysis.trends import before_after, trend
from tests.analysis.builders import comparison_definition, hearing, scope_of, send_observation
from tests.analysis.conftest import COURT_A
from tests.protocols.factories import published_protocol


@pytest.fixture
def a_change(db, volunteer):
    """Judge Ada Alvarez: safety mentioned in 3 of 10 hearings in September, 7 of 10 in
    October (and one "not observed" each month, counted beside)."""
    client, _ = volunteer
    version = published_protocol(db, name="Trend", definition=comparison_definition())
    for day, yes in [("2026-09-07", 3), ("2026-10-05", 7)]:
        answers = ["yes"] * yes + ["no"] * (10 - yes) + ["not_observed"]
        send_observation(
            client,
            protocol_version_id=version.id,
            court={**COURT_A, "session_date": day},
            hearings=[hearing([], {"safety_mentioned": a}) for a in answers],
        )
    return version


def test_trend_per_month_and_judge(db, a_change):
    scope, protocols = scope_of(db)
    t = trend(session=db, scope=scope, protocols=protocols, key="safety_mentioned", by="judge")
    assert t.months == ["2026-09", "2026-10"]
    sept, octo = t.overall["2026-09"], t.overall["2026-10"]
    assert (sept.count, sept.n, sept.not_observed) == (3, 10, 1)
    assert (octo.count, octo.n) == (7, 10)
    (ada,) = t.groups
    assert ada["group"] == "Judge Ada Alvarez" and ada["months"]["2026-10"].value == 0.7
    assert trend(session=db, scope=scope, protocols=protocols, key="nope") is None


def test_before_and_after_a_date(db, a_change):
    scope, protocols = scope_of(db)
    ba = before_after(
        session=db, scope=scope, protocols=protocols, key="safety_mentioned", on=date(2026, 10, 1)
    )
    d = ba.overall
    assert (d.before.count, d.before.n, d.after.count, d.after.n) == (3, 10, 7, 10)
    difference, low, high = d.figures
    assert difference == pytest.approx(0.4)
    # Newcombe's interval from the two Wilson intervals.
    assert (low, high) == pytest.approx(stats.difference_interval(7, 10, 3, 10)[1:])
    assert low < 0.4 < high and not d.too_few
    ((label, _, per_judge),) = ba.groups
    assert label == "Judge Ada Alvarez" and per_judge.figures == d.figures
    # With a higher minimum, both halves are too few to compare.
    scope, protocols = scope_of(db, min_n=11)
    ba = before_after(
        session=db, scope=scope, protocols=protocols, key="safety_mentioned", on=date(2026, 10, 1)
    )
    assert ba.overall.too_few
