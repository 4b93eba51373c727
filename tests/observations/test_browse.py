"""Browsing what came back: lists, paging, one hearing with its timeline, one observation."""

from __future__ import annotations

import re
import uuid

from sqlmodel import select

from app.observations import browse
from app.observations.filters import HearingFilter
from app.observations.models import Hearing
from app.sessions.models import Judge
from tests.exports.builders import seed


def test_staff_see_the_hearing_list_volunteers_do_not(db, volunteer, trainer, organizer, admin):
    seed(db, volunteer[0])
    for client, _ in (trainer, organizer, admin):
        response = client.get("/hearings")
        assert response.status_code == 200
        assert "<strong>3</strong> hearings" in response.text
        assert "27-CR-26-0001" in response.text
    for path in ("/hearings", "/observations"):
        assert volunteer[0].get(path).status_code == 403
    hearing_id = db.exec(select(Hearing.id)).first()
    assert volunteer[0].get(f"/hearings/{hearing_id}").status_code == 403


def test_filters_narrow_the_lists(db, volunteer, trainer):
    seed(db, volunteer[0])
    client, _ = trainer
    judge = db.exec(select(Judge).where(Judge.name == "Judge Ben Brooks")).one()
    response = client.get(f"/hearings?judge_id={judge.id}")
    assert "<strong>1</strong> hearing match" in response.text
    assert "27-CR-26-0001" not in response.text
    response = client.get("/observations?courtroom=3b")
    assert "<strong>1</strong> observation match" in response.text
    response = client.get("/hearings?date_from=2026-03-05")
    assert "<strong>1</strong> hearing match" in response.text


def test_a_bad_filter_is_reported_not_a_crash(volunteer, trainer, db):
    seed(db, volunteer[0])
    response = trainer[0].get("/hearings?date_from=yesterday&judge_id=x&after=garbage")
    assert response.status_code == 422
    assert "date_from" in response.text and "judge_id" in response.text
    assert "<strong>3</strong> hearings" in response.text  # the rest of the filter still applies


def test_keyset_pages_visit_every_hearing_once_in_order(db, volunteer):
    seed(db, volunteer[0], two_versions=True)
    f = HearingFilter()
    seen: list[uuid.UUID] = []
    after = None
    pages = 0
    while True:
        page = browse.list_hearings(session=db, f=f, after=after, limit=2)
        assert page.total == 4
        seen.extend(r.id for r in page.rows)
        pages += 1
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert pages == 2
    whole = browse.list_hearings(session=db, f=f, limit=100)
    assert seen == [r.id for r in whole.rows]
    assert len(set(seen)) == 4
    dates = [r.session_date for r in whole.rows]
    assert dates == sorted(dates, reverse=True)


def test_next_page_link_works_through_the_page(db, volunteer, trainer, monkeypatch):
    seed(db, volunteer[0])
    monkeypatch.setattr(browse, "PAGE_SIZE", 2)
    client, _ = trainer
    first = client.get("/hearings")
    link = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert link, "a next-page link"
    second = client.get(link.group(1).replace("&amp;", "&"))
    assert second.status_code == 200
    assert "First page" in second.text
    assert 'rel="next"' not in second.text


def test_hearing_page_draws_the_timeline_in_role_colours(db, volunteer, trainer):
    seed(db, volunteer[0])
    hearing = db.exec(select(Hearing).where(Hearing.case_reference == "27-CR-26-0001")).one()
    response = trainer[0].get(f"/hearings/{hearing.id}")
    assert response.status_code == 200
    svg = re.search(r'<svg class="timeline-bar".*?</svg>', response.text, re.S).group(0)
    turns = re.findall(
        r'<rect x="([\d.]+)" y="0" width="([\d.]+)"[^>]*fill="(#\w+)" data-role="(\w+)"', svg
    )
    assert [(t[2], t[3]) for t in turns] == [
        ("#7cc4ff", "judge"),
        ("#ffb86b", "prosecutor"),
        ("#b59cff", "defense"),
    ]
    # 0–5 s, 5–9 s, 9–12 s of a 12 s hearing on a 1000-wide bar.
    assert [(float(x), float(w)) for x, w, *_ in turns] == [
        (0, 416.67),
        (416.67, 333.33),
        (750, 250),
    ]
    assert "Judge 1 turn, 0:05" in svg  # the accessible label says it in words
    assert "No-contact order" in response.text and "Ordered" in response.text
    assert "Jail, Fine" in response.text
    assert "Hearing 1 of 2" in response.text


def test_observation_page_lists_its_hearings(db, volunteer, organizer):
    world = seed(db, volunteer[0])
    response = organizer[0].get(f"/observations/{world.observation_ids[0]}")
    assert response.status_code == 200
    assert "2 hearings" in response.text
    assert "The judge set the pace." in response.text
    assert "Who held the influence?" in response.text


def test_unknown_ids_are_404(trainer):
    client, _ = trainer
    assert client.get(f"/hearings/{uuid.uuid4()}").status_code == 404
    assert client.get(f"/observations/{uuid.uuid4()}").status_code == 404
    assert client.get("/hearings/not-a-uuid").status_code == 422


def test_an_observation_is_shown_in_the_readers_language_from_the_protocols_translations(
    db, volunteer, organizer
):
    """The default protocol ships with Spanish: a Spanish reader sees its questions and roles in
    Spanish, an English reader in English; the stored answers are the same keys."""
    from tests.analysis.builders import hearing, send_observation
    from tests.capture.factories import published_default_protocol
    from tests.exports.builders import COURT

    version = published_default_protocol(db)
    observation_id = send_observation(
        volunteer[0],
        protocol_version_id=version.id,
        court=COURT,
        hearings=[hearing([("judge", 0, 4000), ("prosecutor", 4000, 6000)], {"continued": "no"})],
        status="draft",
    )
    assert observation_id
    client, _ = organizer
    hearing_id = db.exec(select(Hearing.id)).first()
    english = client.get(f"/hearings/{hearing_id}", headers={"Accept-Language": "en"})
    assert english.status_code == 200
    assert "Was the hearing continued" in english.text
    spanish = client.get(f"/hearings/{hearing_id}", headers={"Accept-Language": "es"})
    assert spanish.status_code == 200
    assert "¿Se aplazó la audiencia (a otro día)?" in spanish.text
    assert "Was the hearing continued" not in spanish.text
    assert "Juez/a" in spanish.text and "Fiscal" in spanish.text
    assert "Juez/a" not in english.text
    # The account's own choice, with no Accept-Language: the route speaks it too.
    user = organizer[1]
    user.language = "es"
    db.add(user)
    db.commit()
    chosen = client.get(f"/hearings/{hearing_id}")
    assert "¿Se aplazó la audiencia (a otro día)?" in chosen.text
