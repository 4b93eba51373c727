"""What gets published, through the real app: /api/v1/compare gives the page's figures, the
report (HTML and PDF) holds them with its method section, tables download as CSV, and each
judge and courtroom has a report card."""

from __future__ import annotations

import csv
import io
import re

import pytest
from markupsafe import escape
from pypdf import PdfReader
from sqlmodel import select

from app.sessions.models import Judge


@pytest.fixture
def few_needed(app):
    """A minimum n of 1, so the four hand-made hearings are compared and ranked."""
    before = app.state.settings.compare_min_n
    app.state.settings.compare_min_n = 1
    yield
    app.state.settings.compare_min_n = before


def _pct(x):
    return f"{round(x * 100)}\u00a0%"  # as the page prints it: no break before the sign


@pytest.mark.usefixtures("four_hearings", "few_needed")
def test_the_json_figures_are_the_pages(client_for):
    organizer, _ = client_for("organizer")
    query = "by=month&sort=safety_mentioned&question=safety_mentioned&on=2026-11-01"
    figures = organizer.get(f"/api/v1/compare?{query}")
    assert figures.status_code == 200, figures.text
    data = figures.json()
    page = organizer.get(f"/compare?{query}").text
    count = re.search(r'data-testid="hearing-count"><strong>(\d+)</strong>', page)
    assert int(count.group(1)) == data["hearings"] == 4
    # Every gap's rate, n and interval as the page prints them.
    for gap in data["gaps"]:
        low, high = gap["ci95"]
        title = f"{gap['count']} of {gap['n']}; 95 % interval {_pct(low)}–{_pct(high)}"
        assert title in page, title
    assert [g["key"] for g in data["gaps"]] == ["safety_mentioned", "nco"]  # worst first
    assert data["gaps"][0]["rate"] == pytest.approx(2 / 3)
    for role in data["who_speaks"]["roles"]:
        assert _pct(role["share"]) in page
    assert data["headlines"]
    for headline in data["headlines"]:
        assert str(escape(headline)) in page
    matrix = data["gap_matrix"]["judge"]
    assert [row["group"] for row in matrix["rows"]] == ["Judge Ben Brooks", "Judge Ada Alvarez"]
    assert data["before_after"]["overall"]["before"]["n"] == 2
    assert data["trend"]["months"] == ["2026-10", "2026-11"]
    assert data["breakdown"]["by"] == "month"


def test_the_api_is_described_and_answers_bad_parameters_by_field(client_for):
    organizer, _ = client_for("organizer")
    document = organizer.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/compare"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"judge_id", "date_from", "status", "by", "question", "on"} <= names
    response = organizer.get("/api/v1/compare?judge_id=abc")
    assert response.status_code == 422 and "judge_id" in response.text
    response = organizer.get("/api/v1/compare?date_from=2026-12-01&date_to=2026-01-01")
    assert response.status_code == 422 and "date_to" in response.text
    volunteer, _ = client_for("volunteer")
    assert volunteer.get("/api/v1/compare").status_code == 403


@pytest.mark.usefixtures("observed_twice", "few_needed")
def test_the_report_leaves_names_and_dockets_out_on_request(client_for):
    organizer, _ = client_for("organizer")
    report = organizer.get("/compare/report")
    assert report.status_code == 200
    text = report.text
    assert "Method" in text and "Rules" in text and "Wilson" in text
    assert "CR-2" in text  # a departure's docket number
    names = re.findall(r"Recorded by 3 volunteers \(([^)]*)\)", text)
    assert names and names[0].count(",") == 2
    hidden = organizer.get("/compare/report?hide_observers=1&hide_dockets=1").text
    assert "CR-2" not in hidden and "Recorded by 3 volunteers with" in hidden


@pytest.mark.usefixtures("four_hearings", "few_needed")
def test_the_pdf_holds_the_pages_figures(client_for):
    organizer, _ = client_for("organizer")
    data = organizer.get("/api/v1/compare").json()
    response = organizer.get("/compare/report.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = re.sub(r"\s+", " ", text)
    assert "Court-watch findings" in text and "Method" in text
    assert f"{data['hearings']} hearings" in text
    for gap in data["gaps"]:
        assert gap["label"] in text
        assert _pct(gap["rate"]).replace("\u00a0", " ") in text
    assert "Judge Ada Alvarez" in text and "Judge Ben Brooks" in text


@pytest.mark.usefixtures("four_hearings", "few_needed")
def test_each_table_downloads_as_csv(client_for):
    organizer, _ = client_for("organizer")
    response = organizer.get("/compare/tables/gaps.csv")
    assert response.status_code == 200 and response.text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    safety = next(r for r in rows if r["question_key"] == "safety_mentioned")
    assert (safety["absent"], safety["could_tell"], safety["not_observed"]) == ("2", "3", "1")
    assert float(safety["ci95_low"]) == pytest.approx(0.2077, abs=1e-4)
    by_judge = organizer.get("/compare/tables/gaps-by-judge.csv").text
    assert "Judge Ben Brooks" in by_judge
    for name in ("speakers", "numbers", "agreement", "trend", "gaps-by-courtroom"):
        assert organizer.get(f"/compare/tables/{name}.csv").status_code == 200
    assert organizer.get("/compare/tables/nope.csv").status_code == 404
    assert organizer.get("/compare/tables/gaps.csv?judge_id=x").status_code == 422


@pytest.mark.usefixtures("four_hearings", "few_needed")
def test_report_cards_per_judge_and_courtroom(db, client_for):
    organizer, _ = client_for("organizer")
    ben = db.exec(select(Judge).where(Judge.name == "Judge Ben Brooks")).one()
    card = organizer.get(f"/compare/judges/{ben.id}")
    assert card.status_code == 200
    text = card.text
    assert "Judge Ben Brooks" in text and "report card" in text
    facts = re.search(r"Hearings observed</dt><dd>(\d+)", text)
    assert facts and facts.group(1) == "2"
    assert "Judge Ada Alvarez" not in text  # only his hearings
    room = organizer.get("/compare/courtrooms/3B")
    assert room.status_code == 200 and "Courtroom 3B" in room.text
    assert organizer.get("/compare/judges/999999").status_code == 404
    assert organizer.get("/compare/courtrooms/none-such").status_code == 404
    assert organizer.get("/compare").text.count(f"/compare/judges/{ben.id}") >= 1


@pytest.mark.usefixtures("four_hearings", "few_needed")
def test_the_headlines_speak_the_readers_language(client_for):
    organizer, _ = client_for("organizer")
    spanish = {"Accept-Language": "es"}
    english = organizer.get("/api/v1/compare").json()["headlines"]
    found = organizer.get("/api/v1/compare", headers=spanish).json()["headlines"]
    assert len(found) == len(english) and found != english
    assert any(" hearings where the observer could tell (" in h for h in english)
    absent = next(h for h in found if "en las que el observador pudo determinarlo" in h)
    assert re.search(r"ausente en \d+ de \d+ audiencias .*intervalo del 95 % \d+", absent)
    assert "%%" not in absent and "95 % interval" not in absent
    page = organizer.get("/compare?by=month", headers=spanish).text
    assert str(escape(absent)) in page
    assert "Side by side per month" not in page and "Mes" in page


def test_the_comparison_shows_the_protocols_words_in_the_readers_language(db, client_for):
    """The default protocol ships with Spanish: the comparison of its hearings names the roles
    and questions in Spanish for a Spanish reader, in English for an English one."""
    from tests.analysis.builders import hearing, send_observation
    from tests.capture.factories import published_default_protocol
    from tests.exports.builders import COURT

    version = published_default_protocol(db)
    volunteer, _ = client_for("volunteer")
    send_observation(
        volunteer,
        protocol_version_id=version.id,
        court={**COURT, "judge": ""},
        hearings=[hearing([("judge", 0, 4000), ("prosecutor", 4000, 9000)], {"continued": "no"})],
        status="draft",
    )
    organizer, _ = client_for("organizer")
    english = organizer.get("/compare?status=draft", headers={"Accept-Language": "en"}).text
    spanish = organizer.get("/compare?status=draft", headers={"Accept-Language": "es"}).text
    assert "Prosecutor" in english and "Fiscal" not in english
    assert "Fiscal" in spanish and "Juez/a" in spanish
    assert ">Prosecutor<" not in spanish
    assert "Sin juez registrado" in spanish and "No judge recorded" not in spanish
    assert ">seguridad</span>" in spanish and ">safety</span>" not in spanish
    assert ">safety</span>" in english
