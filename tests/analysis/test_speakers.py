"""Who speaks and the side-by-side breakdowns, on the four hand-made hearings."""

from __future__ import annotations

import pytest

from app.analysis.speakers import breakdown, who_speaks
from tests.analysis.builders import scope_of


def test_who_speaks(db, four_hearings):
    scope, protocols = scope_of(db)
    result = who_speaks(session=db, scope=scope, protocols=protocols)
    assert result.hearings == 4
    # judge 10+10 + 5+5 + 20+5 + 10 = 65 s; prosecutor 20+10+5+10 = 45 s; defense 10+10 = 20 s; total 130 s.
    assert result.total_talk_ms == 130_000
    by_role = {r.role: r for r in result.roles}
    assert [r.role for r in result.roles] == ["judge", "prosecutor", "defense"]
    assert by_role["judge"].talk_ms == 65_000 and by_role["judge"].share == pytest.approx(0.5)
    assert by_role["prosecutor"].share == pytest.approx(45 / 130)
    assert by_role["defense"].share == pytest.approx(20 / 130)
    # Turns as recorded (H3's two judge taps are two turns): judge 2+2+3+1, prosecutor 4, defense 2.
    assert (by_role["judge"].turns, by_role["prosecutor"].turns, by_role["defense"].turns) == (
        8,
        4,
        2,
    )
    # First speaker: judge in H1-H3, prosecutor in H4; last: judge in all four.
    assert (by_role["judge"].first, by_role["prosecutor"].first) == (3, 1)
    assert (by_role["judge"].last, by_role["prosecutor"].last) == (4, 0)
    assert by_role["defense"].hearings == 2 and by_role["judge"].label == "Judge"


def test_breakdown_per_judge_and_month_with_the_mean_gap(db, four_hearings):
    scope, protocols = scope_of(db, min_n=1)
    rows = {r.group: r for r in breakdown(session=db, scope=scope, protocols=protocols, by="judge")}
    # Judge Ada Alvarez: H1 (50 s) and H2 (20 s): mean 35 s; judge talk 30 of 70 s.
    ada = rows["Judge Ada Alvarez"]
    assert ada.hearings == 2 and ada.mean_talk_ms == pytest.approx(35_000)
    assert ada.shares["judge"] == pytest.approx(30 / 70)
    # Her mean gap over safety_mentioned (no in 1 of 2 that could tell) and nco (1 of 2).
    assert ada.gap_rate == pytest.approx(0.5) and not ada.too_few
    # Months get the mean gap too: October (Ada) as above, November (Ben) safety 1 of 1
    # (H3 not observed is not counted), nco 0 of 1 (H3 unanswered) → 0.5.
    months = {
        r.group: r for r in breakdown(session=db, scope=scope, protocols=protocols, by="month")
    }
    assert list(months) == ["2026-10", "2026-11"]
    assert months["2026-11"].gap_rate == pytest.approx(0.5)
    calendars = breakdown(session=db, scope=scope, protocols=protocols, by="calendar_type")
    assert [(r.group, r.hearings) for r in calendars] == [("Sentencing", 4)]
    assert calendars[0].gap_rate == pytest.approx((2 / 3 + 1 / 3) / 2)


def test_a_group_below_the_minimum_has_no_mean_gap(db, four_hearings):
    scope, protocols = scope_of(db, min_n=3)
    rows = breakdown(session=db, scope=scope, protocols=protocols, by="judge")
    assert all(r.too_few and r.gap_rate is None for r in rows)
