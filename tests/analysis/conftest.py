"""Hand-made observation sets shared by the comparison tests (sent through the sync API)."""

from __future__ import annotations

import pytest

from tests.analysis.builders import comparison_definition, hearing, send_observation
from tests.protocols.factories import published_protocol

COURT_A = {
    "court": "District Court",
    "courtroom": "3B",
    "session_date": "2026-10-06",
    "judge": "Judge Ada Alvarez",
    "calendar_type": "sentencing",
}
COURT_B = {
    "court": "District Court",
    "courtroom": "4A",
    "session_date": "2026-11-03",
    "judge": "Judge Ben Brooks",
    "calendar_type": "sentencing",
}


@pytest.fixture
def four_hearings(db, volunteer):
    """Four hearings, two per judge (working in the test docstrings below)."""
    client, _ = volunteer
    version = published_protocol(db, name="Comparison", definition=comparison_definition())
    send_observation(
        client,
        protocol_version_id=version.id,
        court=COURT_A,
        session_answers={"influence": "judge"},
        hearings=[
            # H1: J 0-10s, P 10-30s, D 30-40s, J 40-50s → script J>P>D>J
            hearing(
                [
                    ("judge", 0, 10_000),
                    ("prosecutor", 10_000, 30_000),
                    ("defense", 30_000, 40_000),
                    ("judge", 40_000, 50_000),
                ],
                {
                    "safety_mentioned": "yes",
                    "nco": "ordered",
                    "decided_by": "judge",
                    "components": ["jail", "probation"],
                },
            ),
            # H2: J 0-5s, P 5-15s, J 15-20s → J>P>J
            hearing(
                [("judge", 0, 5_000), ("prosecutor", 5_000, 15_000), ("judge", 15_000, 20_000)],
                {
                    "safety_mentioned": "no",
                    "nco": "not_mentioned",
                    "decided_by": "prosecutor",
                    "components": ["probation"],
                },
            ),
        ],
    )
    send_observation(
        client,
        protocol_version_id=version.id,
        court=COURT_B,
        session_answers={"influence": "prosecutor"},
        hearings=[
            # H3: J 0-10s, J 10-20s (merged), P 20-25s, D 25-35s, J 35-40s → J>P>D>J
            hearing(
                [
                    ("judge", 0, 10_000),
                    ("judge", 10_000, 20_000),
                    ("prosecutor", 20_000, 25_000),
                    ("defense", 25_000, 35_000),
                    ("judge", 35_000, 40_000),
                ],
                {"safety_mentioned": "not_observed", "decided_by": "judge", "components": ["fine"]},
            ),
            # H4: P 0-10s, J 10-20s → P>J; components unanswered
            hearing(
                [("prosecutor", 0, 10_000), ("judge", 10_000, 20_000)],
                {"safety_mentioned": "no", "nco": "continued", "decided_by": "judge"},
            ),
        ],
    )
    return version


@pytest.fixture
def observed_twice(db, client_for):
    """Two (or three) volunteers at one sitting; hearings matched by case reference, or order."""
    version = published_protocol(db, name="Agreement", definition=comparison_definition())
    ratings = {  # safety_mentioned per hearing and observer
        "CR-1": ["yes", "yes", "yes"],
        "CR-2": ["no", "yes", "yes"],
        None: ["no", "no", "no"],  # no case reference: matched by order (position 2)
    }
    scripts = {
        "CR-1": [[("judge", 0, 1000), ("prosecutor", 1000, 2000)]] * 3,
        "CR-2": [
            [("judge", 0, 1000), ("prosecutor", 1000, 2000), ("defense", 2000, 3000)],
            [("judge", 0, 1000), ("defense", 1000, 2000)],
            [("judge", 0, 1000), ("defense", 1000, 2000)],
        ],
        None: [[("judge", 0, 1000)]] * 3,
    }
    observers = []
    for i in range(3):
        client, user = client_for("volunteer")
        observers.append(user)
        hearings = [
            hearing(scripts[ref][i], {"safety_mentioned": ratings[ref][i]}, case_reference=ref)
            for ref in ["CR-1", "CR-2", None]
        ]
        send_observation(client, protocol_version_id=version.id, court=COURT_A, hearings=hearings)
    return version, observers
