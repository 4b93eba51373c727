"""Exports as background jobs, through the real app, database and worker code."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.audit.service import list_audit
from app.auth.models import Role
from app.db import utcnow
from app.exports import jobs
from app.exports.models import ExportJob, ExportJobState
from app.main import create_app
from tests.conftest import login, make_settings
from tests.exports.builders import make_set, read_zip, seed
from tests.factories import create_user


@pytest.fixture
def settings(database_url, tmp_path):
    # Two hearings at most are streamed: the builders' world (four) is a "large" set here.
    return make_settings(database_url, tmp_path, export_stream_max_hearings=2)


def _run(app) -> int:
    return jobs.run_pending_jobs(engine=app.state.engine, settings=app.state.settings)


def _request(client: TestClient, set_id: int, fmt: str, **options: str) -> int:
    response = client.post(f"/sets/{set_id}/exports", data={"format": fmt, **options})
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rstrip("/").split("/")[-1])


def _job(db: Session, job_id: int) -> ExportJob:
    db.expire_all()
    job = db.get(ExportJob, job_id)
    assert job is not None
    return job


def test_a_large_set_is_exported_in_the_background_and_downloaded(app, db, volunteer, organizer):
    seed(db, volunteer[0], two_versions=True)
    client, user = organizer
    set_id = make_set(client)
    assert client.get(f"/sets/{set_id}/export.zip").status_code == 409  # too large to stream
    page = client.get(f"/sets/{set_id}")
    assert 'data-testid="export-in-background"' in page.text

    job_id = _request(client, set_id, "csv", without_identities="1")
    waiting = client.get(f"/exports/{job_id}")
    assert waiting.status_code == 200 and 'data-state="queued"' in waiting.text
    assert 'hx-trigger="every 1s"' in waiting.text  # the page polls while it waits
    assert client.get(f"/exports/{job_id}/download").status_code == 303  # not ready yet

    assert _run(app) == 1
    job = _job(db, job_id)
    assert job.state == ExportJobState.done and job.attempts == 1
    assert job.progress_total > 0 and job.progress_done == job.progress_total
    fragment = client.get(f"/exports/{job_id}", headers={"HX-Request": "true"})
    assert 'data-state="done"' in fragment.text and "hx-trigger" not in fragment.text
    assert "<html" not in fragment.text  # only the fragment, for the swap

    download = client.get(f"/exports/{job_id}/download")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert ".zip" in download.headers["content-disposition"]
    files = read_zip(download.content)
    assert set(files) == {"hearings.csv", "observations.csv", "turns.csv", "codebook.csv"}
    assert len(files["hearings.csv"].strip().splitlines()) == 1 + 4
    assert "@example.org" not in files["hearings.csv"]  # the option was kept
    entries = list_audit(db, action="export.download")
    assert [(e.actor_id, e.target, e.detail["format"]) for e in entries] == [
        (user.id, f"observation_set:{set_id}", "csv")
    ]
    assert list_audit(db, action="export.request")[0].detail["without_identities"] == "1"
    assert f"/exports/{job_id}/download" in client.get(f"/sets/{set_id}").text  # listed


@pytest.mark.parametrize("fmt", ["xlsx", "json"])
def test_every_format_runs_as_a_job(app, db, volunteer, organizer, fmt):
    seed(db, volunteer[0])
    client, _ = organizer
    job_id = _request(client, make_set(client), fmt)
    _run(app)
    download = client.get(f"/exports/{job_id}/download")
    assert download.status_code == 200
    assert download.headers["content-type"] == jobs.FORMATS[fmt].media_type
    if fmt == "json":
        assert len(download.json()["observations"]) == 2
    else:
        assert download.content[:2] == b"PK"


def test_only_the_requester_and_admins_may_see_or_download(
    app, db, volunteer, organizer, admin, client_for
):
    seed(db, volunteer[0])
    client, _ = organizer
    job_id = _request(client, make_set(client), "json")
    _run(app)
    other, _ = client_for("organizer")
    assert other.get(f"/exports/{job_id}").status_code == 404
    assert other.get(f"/exports/{job_id}/download").status_code == 404
    assert volunteer[0].get(f"/exports/{job_id}/download").status_code == 403
    admin_client, admin_user = admin
    assert admin_client.get(f"/exports/{job_id}/download").status_code == 200
    assert [e.actor_id for e in list_audit(db, action="export.download")] == [admin_user.id]


def test_an_unknown_format_is_a_field_error(db, volunteer, organizer):
    seed(db, volunteer[0])
    client, _ = organizer
    response = client.post(f"/sets/{make_set(client)}/exports", data={"format": "pdf"})
    assert response.status_code == 422
    assert "Choose CSV, XLSX or JSON" in response.text
    assert db.exec(sa.select(sa.func.count()).select_from(ExportJob)).one()[0] == 0


def _interrupt(db: Session, job_id: int, *, attempts: int) -> None:
    """As a worker that claimed the job and then stopped (a restart) leaves it."""
    job = _job(db, job_id)
    job.state = ExportJobState.running
    job.worker = "stopped-host:1"
    job.attempts = attempts
    job.heartbeat_at = utcnow() - timedelta(hours=1)
    db.add(job)
    db.commit()


def test_an_interrupted_job_is_run_again(app, db, volunteer, organizer):
    seed(db, volunteer[0])
    client, _ = organizer
    job_id = _request(client, make_set(client), "csv")
    _interrupt(db, job_id, attempts=1)
    assert _run(app) == 1
    job = _job(db, job_id)
    assert job.state == ExportJobState.done and job.attempts == 2
    assert client.get(f"/exports/{job_id}/download").status_code == 200


def test_a_job_interrupted_too_often_fails_with_a_clear_message(app, db, volunteer, organizer):
    seed(db, volunteer[0])
    client, _ = organizer
    job_id = _request(client, make_set(client), "csv")
    _interrupt(db, job_id, attempts=app.state.settings.export_job_max_attempts)
    assert _run(app) == 0
    job = _job(db, job_id)
    assert job.state == ExportJobState.failed
    assert "interrupted" in (job.error or "") and "Prepare it again" in (job.error or "")
    page = client.get(f"/exports/{job_id}")
    assert 'data-state="failed"' in page.text and "interrupted" in page.text
    assert client.get(f"/exports/{job_id}/download").status_code == 410


def test_a_running_job_with_a_fresh_heartbeat_is_left_to_its_worker(app, db, volunteer, organizer):
    seed(db, volunteer[0])
    client, _ = organizer
    job_id = _request(client, make_set(client), "csv")
    _interrupt(db, job_id, attempts=1)
    job = _job(db, job_id)
    job.heartbeat_at = utcnow()
    db.add(job)
    db.commit()
    assert _run(app) == 0
    assert _job(db, job_id).state == ExportJobState.running


def test_files_are_deleted_after_their_time(app, db, volunteer, organizer):
    seed(db, volunteer[0])
    client, _ = organizer
    job_id = _request(client, make_set(client), "xlsx")
    _run(app)
    job = _job(db, job_id)
    path = Path(job.file_path or "")
    assert path.is_file() and path.parent == app.state.settings.export_dir
    job.expires_at = utcnow() - timedelta(minutes=1)
    db.add(job)
    db.commit()
    assert jobs.delete_expired(engine=app.state.engine, settings=app.state.settings) == 1
    assert not path.exists()
    assert _job(db, job_id).state == ExportJobState.expired
    assert client.get(f"/exports/{job_id}/download").status_code == 410


def test_the_worker_thread_runs_a_job_while_the_page_polls(database_url, tmp_path):
    settings = make_settings(
        database_url, tmp_path, export_worker=True, export_worker_poll_seconds=0.2
    )
    app = create_app(settings)
    try:
        with Session(app.state.engine, expire_on_commit=False) as db:
            volunteer_user = create_user(db, role=Role.volunteer)
            organizer_user = create_user(db, role=Role.organizer)
            with (
                TestClient(app, follow_redirects=False) as volunteer,
                TestClient(app, follow_redirects=False) as client,
            ):
                login(volunteer, volunteer_user.email)
                login(client, organizer_user.email)
                seed(db, volunteer)
                job_id = _request(client, make_set(client), "csv")
                deadline = time.monotonic() + 60
                while (
                    'data-state="done"'
                    not in (
                        page := client.get(f"/exports/{job_id}", headers={"HX-Request": "true"})
                    ).text
                ):
                    assert time.monotonic() < deadline, page.text
                    time.sleep(0.2)
                assert client.get(f"/exports/{job_id}/download").status_code == 200
    finally:
        app.state.engine.dispose()
