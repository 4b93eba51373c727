"""The hearing's script: most common orders, how alike the hearings are, departures."""

from __future__ import annotations

import pytest

from app.analysis.patterns import parse_script, patterns
from tests.analysis.builders import scope_of


def test_patterns(db, four_hearings):
    scope, _ = scope_of(db)
    result = patterns(session=db, scope=scope)
    # Scripts: J>P>D>J twice (H1, H3 once merged), J>P>J, P>J.
    assert result.modal == ("judge", "prosecutor", "defense", "judge")
    assert result.common[0][1] == 2 and result.common[0][2] == 0.5
    # Distances to the modal script: 0, 0, 1/4 (drop D), 2/4 (insert J before P and D after) → mean 0.1875.
    assert result.mean_distance == pytest.approx(0.1875)
    assert [d["script"] for d in result.departures] == [
        ("prosecutor", "judge"),
        ("judge", "prosecutor", "judge"),
    ]
    assert result.departures[0]["distance"] == pytest.approx(0.5)


def test_a_hearing_observed_by_several_is_one_departure(db, observed_twice):
    # CR-2 was observed by three volunteers (J>P>D once, J>D twice), both departing from
    # the usual script: the hearing is listed once, with the farthest of its scripts.
    scope, _ = scope_of(db)
    result = patterns(session=db, scope=scope)
    departures = [d for d in result.departures if d["case_reference"] == "CR-2"]
    assert [d["script"] for d in departures] == [("judge", "prosecutor", "defense")]


def test_parse_script():
    assert parse_script("judge>prosecutor") == ("judge", "prosecutor")
    assert parse_script("") == ()
