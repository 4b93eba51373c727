"""Cases: docket numbers normalised per court, the list of cases seen more than once, the
search, one case's hearings in date order, links from hearings; staff only."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from app.cases.service import normalise_docket
from app.observations.models import Hearing
from tests.program.builders import hearing, submit
from tests.protocols.factories import default_published


@pytest.fixture
def version(db: Session):
    return default_published(db)


def test_normalise_docket_ignores_case_spaces_and_punctuation():
    assert normalise_docket("27-CR-24-1234") == "27cr241234"
    assert normalise_docket(" 27 cr 24/1234. ") == "27cr241234"
    assert normalise_docket("27CR241234") == "27cr241234"
    assert normalise_docket("--") == "" and normalise_docket(None) == ""


def test_a_case_followed_across_sittings_and_observers(db, version, client_for, trainer):
    staff, _ = trainer
    (alice, a), (bob, b) = client_for("volunteer"), client_for("volunteer")
    submit(alice, version.id, day=date(2026, 3, 2), hearings=[
        hearing(0, case="27-CR-24-1234", safety_mentioned="no"), hearing(1, case="27-CR-24-9")])  # fmt: skip
    submit(bob, version.id, day=date(2026, 4, 6), courtroom="5C", hearings=[
        hearing(0, case="27 cr 24 1234", sentence_components=["jail", "probation"])])  # fmt: skip
    # The same docket in another court is another case.
    submit(bob, version.id, day=date(2026, 4, 7), court="Ramsey County District Court",
           hearings=[hearing(0, case="27CR241234")])  # fmt: skip

    listing = staff.get("/cases")
    assert listing.status_code == 200
    assert listing.text.count('data-case="27cr241234"') == 1  # Hennepin only: seen twice
    assert 'data-case="27cr249"' not in listing.text

    found = staff.get("/cases?docket=27CR24-1234")
    assert found.text.count('data-case="27cr241234"') == 2  # both courts match the search

    hid = db.exec(select(Hearing.id).where(Hearing.case_reference == "27 cr 24 1234")).one()
    hearing_page = staff.get(f"/hearings/{hid}").text
    link = hearing_page.split("data-case-link")[0].rsplit('href="', 1)[1].split('"')[0]
    case = staff.get(link)
    assert case.status_code == 200
    text = case.text
    assert text.index("02 Mar 2026") < text.index("06 Apr 2026")
    assert a.display_name in text and b.display_name in text
    assert "35 days after the previous hearing" in text
    assert "Victim safety or input addressed" in text or "gaps" in text.lower()
    assert "Jail" in text  # the outcome of the second hearing
    assert "Ramsey" not in text


def test_cases_are_staff_only_and_bad_searches_say_why(volunteer, organizer):
    phone, _ = volunteer
    staff, _ = organizer
    assert phone.get("/cases").status_code == 403
    assert phone.get("/cases/1/abc").status_code == 403
    bad = staff.get("/cases?docket=--//")
    assert bad.status_code == 422 and "Letters or digits" in bad.text
    assert staff.get("/cases?docket=" + "9" * 81).status_code == 422
    assert staff.get("/cases/999/abc").status_code == 404
