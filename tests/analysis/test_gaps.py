"""Gaps: rates out of the hearings where the observer could tell, with "not observed" and
"unanswered" beside, the minimum-n rule, drafts left out, conditional questions, and the
judge × question matrix."""

from __future__ import annotations

import copy

import pytest

from app.analysis.gaps import gap_matrix, gaps
from app.observations.filters import HearingFilter
from tests.analysis.builders import comparison_definition, hearing, scope_of, send_observation
from tests.analysis.conftest import COURT_A, COURT_B
from tests.protocols.factories import published_protocol


def _by_key(rows):
    return {(r.key, r.group): r.rate for r in rows}


def test_the_rate_counts_only_hearings_where_the_observer_could_tell(db, four_hearings):
    scope, protocols = scope_of(db)
    rates = _by_key(gaps(session=db, scope=scope, protocols=protocols))
    # safety_mentioned: yes (H1), no (H2), not observed (H3), no (H4): absent 2 of the 3 that
    # could tell; the "not observed" is counted beside, never in the rate.
    s = rates[("safety_mentioned", "All hearings")]
    assert (s.count, s.n, s.not_observed, s.unanswered) == (2, 3, 1, 0)
    assert s.value == pytest.approx(2 / 3)
    # nco: ordered, not mentioned (marked absent), left blank (H3), continued: 1 of 3, and the
    # blank one is "unanswered", not "not observed".
    n = rates[("nco", "All hearings")]
    assert (n.count, n.n, n.not_observed, n.unanswered) == (1, 3, 0, 1)
    # Every rate has its 95 % Wilson interval: 2 of 3 → 0.2077–0.9385.
    assert s.interval == pytest.approx((0.2077, 0.9385), abs=5e-5)


def test_groups_below_the_minimum_are_not_ranked(db, four_hearings):
    scope, protocols = scope_of(db, min_n=1)
    ranked = gaps(session=db, scope=scope, protocols=protocols, by="judge")
    # Worst first: Judge Ben Brooks on safety_mentioned, 1 of 1 (H4; H3 was not observed).
    first = ranked[0]
    assert (first.key, first.group, first.rate.value) == (
        "safety_mentioned",
        "Judge Ben Brooks",
        1.0,
    )
    assert [r.rate.value for r in ranked] == sorted((r.rate.value for r in ranked), reverse=True)
    # With the default minimum of 10 every group here is too few: none is ranked, all are
    # listed in name order.
    scope, protocols = scope_of(db)
    listed = gaps(session=db, scope=scope, protocols=protocols, by="judge")
    assert all(r.rate.too_few for r in listed)
    assert [r.group for r in listed] == sorted(r.group for r in listed)
    assert len(listed) == len(ranked) == 4


def test_drafts_are_left_out_unless_asked_for(db, four_hearings, volunteer):
    client, _ = volunteer
    # An empty draft hearing at a sitting with no judge.
    send_observation(
        client,
        protocol_version_id=four_hearings.id,
        court={**COURT_A, "judge": "", "session_date": "2026-11-20"},
        hearings=[hearing([], {})],
        status="draft",
    )
    scope, protocols = scope_of(db)
    assert {r.group for r in gaps(session=db, scope=scope, protocols=protocols, by="judge")} == {
        "Judge Ada Alvarez",
        "Judge Ben Brooks",
    }
    scope, protocols = scope_of(db, HearingFilter(status="draft"))
    drafts = _by_key(gaps(session=db, scope=scope, protocols=protocols, by="judge"))
    # The blank hearing is unanswered everywhere: no rate, nothing at 100 %.
    blank = drafts[("safety_mentioned", "No judge recorded")]
    assert (blank.n, blank.unanswered, blank.value) == (0, 1, None)


def _conditional_definition():
    definition = copy.deepcopy(comparison_definition())
    definition["sections"][1]["questions"].append(
        {
            "key": "nco_explained",
            "type": "yes_no",
            "label": "No-contact order explained?",
            "tags": ["safety"],
            "show_if": {"question": "nco", "any_of": ["ordered", "continued"]},
        }
    )
    return definition


def test_a_conditional_question_counts_where_its_condition_held(db, volunteer):
    client, _ = volunteer
    version = published_protocol(db, name="Conditional", definition=_conditional_definition())
    send_observation(
        client,
        protocol_version_id=version.id,
        court=COURT_A,
        hearings=[
            hearing([], {"nco": "ordered", "nco_explained": "no"}),
            hearing([], {"nco": "continued", "nco_explained": "yes"}),
            hearing([], {"nco": "continued"}),  # shown, left blank: unanswered
            hearing([], {"nco": "not_mentioned"}),  # hidden: not counted at all
        ],
    )
    scope, protocols = scope_of(db)
    r = _by_key(gaps(session=db, scope=scope, protocols=protocols))[
        ("nco_explained", "All hearings")
    ]
    assert (r.count, r.n, r.not_observed, r.unanswered) == (1, 2, 0, 1)


def test_the_matrix_shows_every_judge_and_sorts_by_a_question(db, four_hearings, volunteer):
    client, _ = volunteer
    for i in range(30):  # thirty more judges, one hearing each
        send_observation(
            client,
            protocol_version_id=four_hearings.id,
            court={**COURT_B, "judge": f"Judge {i:02d}", "session_date": f"2026-09-{i + 1:02d}"},
            hearings=[hearing([], {"safety_mentioned": "yes" if i % 2 else "no"})],
        )
    scope, protocols = scope_of(db, min_n=2)
    m = gap_matrix(
        session=db, scope=scope, protocols=protocols, by="judge", sort="safety_mentioned"
    )
    assert len(m.rows) == 32  # nobody cut off
    assert [k for k, _, _ in m.questions] == ["safety_mentioned", "nco"]
    # Sorted by safety_mentioned: the one judge with enough hearings first (Ada, 1 of 2),
    # then every judge with one hearing that could tell (too few), unranked, by name.
    assert m.rows[0]["group"] == "Judge Ada Alvarez"
    assert m.rows[0]["cells"]["safety_mentioned"].value == 0.5
    assert all(row["cells"]["safety_mentioned"].too_few for row in m.rows[1:])
    rest = [row["group"] for row in m.rows[1:]]
    assert rest == sorted(rest)
    # A judge whose hearings left nco blank has it as unanswered, with no rate.
    judge_05 = next(row for row in m.rows if row["group"] == "Judge 05")
    assert (judge_05["cells"]["nco"].unanswered, judge_05["cells"]["nco"].n) == (1, 0)
    by_name = gap_matrix(session=db, scope=scope, protocols=protocols, by="judge")
    assert by_name.sort is None
    assert [row["group"] for row in by_name.rows] == sorted(row["group"] for row in by_name.rows)
