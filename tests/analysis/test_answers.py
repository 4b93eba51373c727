"""Who decides, what happens, and the numbers (counts stored as value_number)."""

from __future__ import annotations

import copy

import pytest

from app.analysis.answers import answer_frequencies, numbers
from tests.analysis.builders import comparison_definition, hearing, scope_of, send_observation
from tests.analysis.conftest import COURT_A, COURT_B
from tests.protocols.factories import published_protocol


def test_who_decides_and_what_happens(db, four_hearings):
    scope, protocols = scope_of(db)
    decides = {
        q.key: q
        for q in answer_frequencies(session=db, scope=scope, protocols=protocols, tag="decision")
    }
    # decided_by: judge in H1, H3, H4; prosecutor in H2 → 3/4 and 1/4.
    assert decides["decided_by"].answered == 4
    assert [(v[0], v[2]) for v in decides["decided_by"].values] == [("judge", 3), ("prosecutor", 1)]
    assert decides["decided_by"].values[0][3] == pytest.approx(0.75)
    # influence is asked once per sitting: judge once, prosecutor once.
    assert decides["influence"].level == "session" and decides["influence"].answered == 2
    outcomes = {
        q.key: q
        for q in answer_frequencies(session=db, scope=scope, protocols=protocols, tag="outcome")
    }
    # components answered in 3 hearings: probation 2, jail 1, fine 1.
    comp = outcomes["components"]
    assert comp.answered == 3
    assert dict((v[0], v[2]) for v in comp.values) == {"probation": 2, "jail": 1, "fine": 1}
    assert comp.values[0][0] == "probation" and comp.values[0][3] == pytest.approx(2 / 3)


def _numbers_definition():
    definition = copy.deepcopy(comparison_definition())
    definition["sections"][1]["questions"].append(
        {
            "key": "jail_days",
            "type": "count",
            "label": "Jail days to serve",
            "tags": ["outcome"],
        }
    )
    return definition


def test_numbers_get_n_median_quartiles_mean_and_range_per_group(db, volunteer):
    client, _ = volunteer
    version = published_protocol(db, name="Numbers", definition=_numbers_definition())
    # Judge Ada Alvarez: 7, 15, 36, 39, 40, 41 days; Judge Ben Brooks: 0, 0, 0, 30.
    for court, days in [(COURT_A, [7, 15, 36, 39, 40, 41]), (COURT_B, [0, 0, 0, 30])]:
        send_observation(
            client,
            protocol_version_id=version.id,
            court=court,
            hearings=[hearing([], {"jail_days": d}) for d in days],
        )
    scope, protocols = scope_of(db)
    (jail,) = numbers(session=db, scope=scope, protocols=protocols, by="judge")
    assert (jail.key, jail.label) == ("jail_days", "Jail days to serve")
    # All ten: 0 0 0 7 15 30 36 39 40 41 → median (15 + 30) / 2, q1 at 2.25 → 0 + .25·7,
    # q3 at 6.75 → 36 + .75·3, mean 208 / 10.
    o = jail.overall
    assert (o.n, o.minimum, o.median, o.maximum) == (10, 0, 22.5, 41)
    assert (o.q1, o.q3, o.mean) == pytest.approx((1.75, 38.25, 20.8))
    groups = dict(jail.groups)
    ada, ben = groups["Judge Ada Alvarez"], groups["Judge Ben Brooks"]
    assert (ada.n, ada.q1, ada.median, ada.q3) == (6, 20.25, 37.5, 39.75)
    assert (ben.n, ben.q1, ben.median, ben.q3, ben.mean) == (4, 0, 0, 7.5, 7.5)
    # Numbers are not listed as answer values (they used to appear as one empty value).
    outcomes = answer_frequencies(session=db, scope=scope, protocols=protocols, tag="outcome")
    assert "jail_days" not in {q.key for q in outcomes}


def test_who_decides_shows_where_the_terms_came_from(db, volunteer):
    definition = copy.deepcopy(comparison_definition())
    definition["sections"][1]["questions"].append(
        {
            "key": "terms_source",
            "type": "single_choice",
            "label": "Where did the sentence terms come from?",
            "choices": [
                {"value": "plea_agreement", "label": "Plea agreement"},
                {"value": "judge_own", "label": "The judge's own"},
            ],
        }
    )
    client, _ = volunteer
    version = published_protocol(db, name="Terms", definition=definition)
    send_observation(
        client,
        protocol_version_id=version.id,
        court=COURT_A,
        hearings=[hearing([], {"terms_source": t}) for t in ["plea_agreement"] * 3 + ["judge_own"]],
    )
    scope, protocols = scope_of(db)
    plain = answer_frequencies(session=db, scope=scope, protocols=protocols, tag="decision")
    assert "terms_source" not in {q.key for q in plain}
    found = answer_frequencies(
        session=db, scope=scope, protocols=protocols, tag="decision", with_section_mates=True
    )
    terms = next(q for q in found if q.key == "terms_source")
    assert [(v[1], v[2]) for v in terms.values] == [("Plea agreement", 3), ("The judge's own", 1)]
