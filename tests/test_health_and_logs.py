"""GET /healthz and the one structured log line per request."""

from __future__ import annotations

import json
import logging

from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import make_settings


def test_healthz_answers_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_says_503_when_the_database_does_not(tmp_path):
    # A directory where the SQLite file should be: every connection fails.
    (tmp_path / "not-a-file.db").mkdir()
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'not-a-file.db'}", tmp_path))
    with TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable"}


def _request_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "courtwatch.request"]


def test_one_log_line_per_request_with_route_status_duration_and_user(caplog, organizer):
    client, user = organizer
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="courtwatch.request"):
        client.get("/sets/12345?secret_search=victim-name")
        client.get("/hearings?courtroom=3B")
    lines = _request_lines(caplog)
    assert [(line["route"], line["status"], line["user_id"]) for line in lines] == [
        ("/sets/{set_id}", 404, user.id),
        ("/hearings", 200, user.id),
    ]
    assert all(line["method"] == "GET" and line["duration_ms"] >= 0 for line in lines)
    text = " ".join(r.getMessage() for r in caplog.records if r.name == "courtwatch.request")
    assert "victim-name" not in text and "3B" not in text and "12345" not in text


def test_anonymous_requests_log_no_user(caplog, client):
    with caplog.at_level(logging.INFO, logger="courtwatch.request"):
        client.get("/login")
    assert [(line["route"], line["user_id"]) for line in _request_lines(caplog)] == [
        ("/login", None)
    ]
