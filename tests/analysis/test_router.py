"""The comparison page through the real app: who may see it, filters, saved sets, bad input,
and a trainer marking the reference observation."""

from __future__ import annotations

import re

import pytest
from sqlmodel import col, select

from app.audit.models import AuditEntry
from app.exports.models import ObservationSet
from app.observations.models import Observation
from app.sessions.models import Judge


def _hearing_count(html: str) -> int:
    match = re.search(r'data-testid="hearing-count"><strong>(\d+)</strong>', html)
    assert match, html[:500]
    return int(match.group(1))


@pytest.mark.usefixtures("four_hearings")
def test_staff_see_the_figures_and_volunteers_are_refused(client_for, volunteer):
    organizer, _ = client_for("organizer")
    response = organizer.get("/compare")
    assert response.status_code == 200
    assert _hearing_count(response.text) == 4
    # Who speaks: judge 65 of 130 s.
    assert "50.0%" in response.text
    assert "Victim safety mentioned?" in response.text and "Judge Ben Brooks" in response.text
    trainer, _ = client_for("trainer")
    assert trainer.get("/compare?by=month").status_code == 200
    client, _ = volunteer
    assert client.get("/compare").status_code == 403


@pytest.mark.usefixtures("four_hearings")
def test_filters_and_saved_sets_restrict_the_page(db, client_for):
    organizer, user = client_for("organizer")
    judge = db.exec(select(Judge).where(Judge.name == "Judge Ben Brooks")).one()
    assert _hearing_count(organizer.get(f"/compare?judge_id={judge.id}").text) == 2
    saved = ObservationSet(name="Brooks", filters={"judge_id": judge.id}, owner_id=user.id)
    db.add(saved)
    db.commit()
    response = organizer.get(f"/compare?set={saved.id}")
    assert response.status_code == 200
    assert _hearing_count(response.text) == 2 and "“Brooks”" in response.text


@pytest.mark.usefixtures("four_hearings")
@pytest.mark.parametrize(
    "query, message",
    [
        ("judge_id=abc", "judge_id"),
        ("date_from=2026-12-01&date_to=2026-01-01", "end date is before the start date"),
        ("set=999", "There is no such observation set."),
        ("set=x", "There is no such observation set."),
        ("by=weather", "Choose judge, courtroom, calendar type or month."),
    ],
)
def test_bad_filters_are_named_not_a_500(client_for, query, message):
    organizer, _ = client_for("organizer")
    response = organizer.get(f"/compare?{query}")
    assert response.status_code == 422
    assert message in response.text
    assert 'data-testid="hearing-count"' in response.text  # the page still shows figures


def test_a_trainer_marks_the_reference_and_sees_each_observer_against_it(
    db, observed_twice, client_for
):
    _, observers = observed_twice
    trainer, _ = client_for("trainer")
    page = trainer.get("/compare")
    assert page.status_code == 200 and "Mark as reference" in page.text
    reference = db.exec(select(Observation).where(Observation.observer_id == observers[1].id)).one()
    response = trainer.post(
        "/compare/reference",
        data={
            "observation_id": str(reference.id),
            "is_reference": "1",
            "back": "/compare?by=judge",
        },
    )
    assert response.status_code == 303 and response.headers["location"] == "/compare?by=judge"
    db.refresh(reference)
    assert reference.is_reference is True
    page = trainer.get("/compare").text
    assert "Each observer against the reference" in page
    assert observers[0].display_name in page and "2 / 3" in page

    # Organizers read the page but do not mark; nonsense is a clean 4xx.
    organizer, _ = client_for("organizer")
    assert (
        organizer.post(
            "/compare/reference", data={"observation_id": str(reference.id), "is_reference": "0"}
        ).status_code
        == 403
    )
    assert "Mark as reference" not in organizer.get("/compare").text
    for data, status in (
        ({"observation_id": "nope", "is_reference": "1"}, 422),
        ({"observation_id": str(reference.id), "is_reference": "maybe"}, 422),
        ({"observation_id": "00000000-0000-0000-0000-000000000000", "is_reference": "1"}, 404),
    ):
        assert trainer.post("/compare/reference", data=data).status_code == status
    # Off again; an outside address in `back` is not followed.
    response = trainer.post(
        "/compare/reference",
        data={"observation_id": str(reference.id), "is_reference": "0", "back": "https://x.org/"},
    )
    assert response.headers["location"].endswith("/compare")
    db.refresh(reference)
    assert reference.is_reference is False
    # Both marks are in the audit log (refused attempts are not).
    entries = db.exec(
        select(AuditEntry)
        .where(col(AuditEntry.action).startswith("observation.reference"))
        .order_by(AuditEntry.id)
    ).all()
    assert [e.action for e in entries] == [
        "observation.reference_mark",
        "observation.reference_unmark",
    ]
    assert {e.target for e in entries} == {f"observation:{reference.id}"}
