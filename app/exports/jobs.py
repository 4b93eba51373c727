"""Exports as background jobs: queued in the database, made by a worker thread in whichever
app process claims them first, kept as files for EXPORT_KEEP_HOURS, downloaded by the requester
(or an admin) from any process.

Claiming: PostgreSQL locks the oldest claimable row with SELECT … FOR UPDATE SKIP LOCKED, so
two processes never wait on or take the same job; on SQLite (one writer at a time anyway) the
claim is an UPDATE guarded by the state and heartbeat just read, so of two claimers only one
changes the row. Both backends go through that guarded UPDATE.

Restarts: a running job reports progress (and so a heartbeat) at least every few seconds. One
whose heartbeat is older than EXPORT_JOB_LEASE_SECONDS was interrupted (its process stopped):
the next worker runs it again from the start, up to EXPORT_JOB_MAX_ATTEMPTS attempts, after
which it is marked failed with a message saying so. A job is never left "running" for good.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.auth.models import Role, User
from app.config import Settings
from app.db import utcnow
from app.errors import DomainError, NotFound
from app.exports.csv_export import export_zip
from app.exports.json_export import export_json
from app.exports.models import ExportJob, ExportJobState, ObservationSet
from app.exports.progress import reporting
from app.exports.service import ExportOptions, count_set
from app.exports.tabular import export_context
from app.exports.xlsx_export import export_xlsx
from app.i18n import N_, format_number, gettext
from app.observations.filters import HearingFilter, hearing_ids
from app.observations.models import Turn

log = logging.getLogger("courtwatch.exports")

HEARTBEAT_SECONDS = 2.0  # how often a running job writes its progress


@dataclass(frozen=True)
class ExportFormat:
    key: str
    label: str
    extension: str
    media_type: str


FORMATS = {
    f.key: f
    for f in (
        ExportFormat("csv", "CSV (zip)", "zip", "application/zip"),
        ExportFormat(
            "xlsx",
            "XLSX",
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ExportFormat("json", "JSON", "json", "application/json"),
    )
}


class JobInvalid(DomainError):
    status_code = 422


class JobNotReady(DomainError):
    status_code = 409


class JobGone(DomainError):
    status_code = 410


class ExportTooLarge(DomainError):
    status_code = 409


def check_streamable(*, session: Session, f: HearingFilter, settings: Settings) -> None:
    """ExportTooLarge when the set is too large to stream in one request."""
    hearings = count_set(session=session, f=f).hearings
    if hearings > settings.export_stream_max_hearings:
        raise ExportTooLarge(
            gettext(
                "This set has %(count)s hearings: exports of more than %(num)s are made in the "
                "background. Prepare the export from the set's page and download it there when "
                "it is ready.",
                count=format_number(hearings),
                num=format_number(settings.export_stream_max_hearings),
            )
        )


# A failed job's message is kept in English (the worker serves no reader); shown_error gives
# it in the reader's language.
INTERRUPTED = N_(
    "The export was interrupted %(count)s times (the server stopped while making it) and was "
    "given up. Prepare it again."
)
NOT_MADE = N_(
    "The export could not be made (%(error)s). Prepare it again; if it fails again, tell your "
    "administrator."
)


def _stored_pattern(message: str) -> re.Pattern[str]:
    parts = re.split(r"%\((\w+)\)s", message)  # text, name, text, name, …, text
    return re.compile(
        "^"
        + "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
        + "$"
    )


_STORED_ERRORS = [(message, _stored_pattern(message)) for message in (INTERRUPTED, NOT_MADE)]


def shown_error(error: str) -> str:
    """A failed job's stored (English) message in the reader's language."""
    for message, pattern in _STORED_ERRORS:
        match = pattern.match(error)
        if match:
            return gettext(message, **match.groupdict())
    return gettext(error)


class JobLost(Exception):
    """Another worker took the job over (this one was taken for stopped): stop making it."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def export_dir(settings: Settings) -> Path:
    assert settings.export_dir is not None  # filled in by Settings
    return settings.export_dir


# --- requesting, reading, downloading --------------------------------------------------------


def request_export(
    *,
    session: Session,
    observation_set: ObservationSet,
    format: str,
    options: ExportOptions,
    requested_by: User,
) -> ExportJob:
    """Queue an export of the set as it is filtered now; JobInvalid for an unknown format."""
    if format not in FORMATS:
        raise JobInvalid(
            gettext("Choose an export format."),
            errors=[{"loc": "format", "msg": gettext("Choose CSV, XLSX or JSON.")}],
        )
    job = ExportJob(
        set_id=observation_set.id,
        set_name=observation_set.name,
        format=format,
        options=options.to_params(),
        filters=dict(observation_set.filters or {}),
        requested_by_id=requested_by.id,  # type: ignore[arg-type]
    )
    session.add(job)
    session.flush()
    return job


def may_see(job: ExportJob, user: User) -> bool:
    return job.requested_by_id == user.id or user.role == Role.admin


def get_job(*, session: Session, job_id: int, user: User) -> ExportJob:
    """The job, for its requester or an admin (NotFound for anyone else: not even that it
    exists)."""
    job = session.get(ExportJob, job_id)
    if job is None or not may_see(job, user):
        raise NotFound(gettext("There is no export with this id that you may see."))
    return job


def list_jobs(*, session: Session, user: User, set_id: int | None = None) -> list[ExportJob]:
    """The newest exports the user may see (of one set), newest first."""
    query = select(ExportJob).order_by(col(ExportJob.created_at).desc(), col(ExportJob.id).desc())
    if user.role != Role.admin:
        query = query.where(ExportJob.requested_by_id == user.id)
    if set_id is not None:
        query = query.where(ExportJob.set_id == set_id)
    return list(session.exec(query.limit(20)).all())


def download_path(*, job: ExportJob) -> Path:
    """The finished file; JobNotReady while it is being made, JobGone once deleted or failed."""
    if job.state in (ExportJobState.queued, ExportJobState.running):
        raise JobNotReady(gettext("This export is not ready yet."))
    if job.state == ExportJobState.failed:
        raise JobGone(shown_error(job.error) if job.error else gettext("This export failed."))
    path = Path(job.file_path or "")
    if job.state == ExportJobState.expired or not job.file_path or not path.is_file():
        raise JobGone(gettext("This export's file has been deleted; prepare the export again."))
    return path


# --- the worker ------------------------------------------------------------------------------


def claim_next_job(*, engine: Engine, settings: Settings, worker: str) -> int | None:
    """Take the oldest queued (or interrupted) job for `worker`; its id, or None."""
    now = utcnow()
    stale = now - timedelta(seconds=settings.export_job_lease_seconds)
    with Session(engine) as session:
        while True:
            job = session.exec(
                select(ExportJob)
                .where(
                    sa.or_(
                        ExportJob.state == ExportJobState.queued,
                        sa.and_(
                            ExportJob.state == ExportJobState.running,
                            col(ExportJob.heartbeat_at) < stale,
                        ),
                    )
                )
                .order_by(col(ExportJob.created_at), col(ExportJob.id))
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if job is None:
                session.rollback()
                return None
            guard = [
                ExportJob.id == job.id,
                ExportJob.state == job.state,
                col(ExportJob.heartbeat_at).is_(None)
                if job.heartbeat_at is None
                else ExportJob.heartbeat_at == job.heartbeat_at,
            ]
            if (
                job.state == ExportJobState.running
                and job.attempts >= settings.export_job_max_attempts
            ):
                session.execute(
                    sa.update(ExportJob)
                    .where(*guard)
                    .values(
                        state=ExportJobState.failed,
                        finished_at=now,
                        error=INTERRUPTED % {"count": job.attempts},
                    )
                )
                session.commit()
                continue
            claimed = session.execute(
                sa.update(ExportJob)
                .where(*guard)
                .values(
                    state=ExportJobState.running,
                    worker=worker,
                    attempts=ExportJob.attempts + 1,
                    started_at=now,
                    heartbeat_at=now,
                    progress_done=0,
                )
            )
            session.commit()
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                return job.id
            # someone else changed it between the read and the update: look again


def _total_units(session: Session, f: HearingFilter, fmt: str) -> int:
    """What the row generators will report for this export (see app.exports.progress)."""
    counts = count_set(session=session, f=f)
    if fmt == "json":
        return counts.observations
    if fmt == "csv":  # hearings, observations, then turns grouped one line-set per hearing
        return 2 * counts.hearings + counts.observations
    turns = session.exec(
        select(sa.func.count()).select_from(Turn).where(col(Turn.hearing_id).in_(hearing_ids(f)))
    ).one()
    return counts.hearings + counts.observations + int(turns)


def export_bytes(
    *,
    engine: Engine,
    session: Session,
    fmt: str,
    f: HearingFilter,
    options: ExportOptions,
    secret: str,
    set_name: str,
    tmp_dir: Path | None = None,
) -> Iterator[bytes]:
    """An export's bytes, by the same writers the download routes stream."""
    ctx = export_context(session=session, f=f, options=options, secret=secret)
    if fmt == "csv":
        yield from export_zip(engine.connect, ctx)
    elif fmt == "xlsx":
        yield from export_xlsx(engine.connect, ctx, tmp_dir=tmp_dir)
    else:
        with Session(engine, expire_on_commit=False) as read:
            yield from export_json(
                read,
                f=ctx.f,
                options=ctx.options,
                versions=list(ctx.versions.values()),
                observers=ctx.observers,
                set_name=set_name,
            )


class _Progress:
    """Counts the rows reported and writes them (a heartbeat) every HEARTBEAT_SECONDS, only
    while the job is still this worker's."""

    def __init__(self, engine: Engine, job_id: int, worker: str) -> None:
        self.engine, self.job_id, self.worker = engine, job_id, worker
        self.done = 0
        self.written_at = time.monotonic()

    def __call__(self, n: int) -> None:
        self.done += n
        if time.monotonic() - self.written_at >= HEARTBEAT_SECONDS:
            self.write()

    def write(self, **values: Any) -> None:
        with self.engine.begin() as conn:
            changed = conn.execute(
                sa.update(ExportJob)
                .where(
                    col(ExportJob.id) == self.job_id,
                    col(ExportJob.worker) == self.worker,
                    col(ExportJob.state) == ExportJobState.running,
                )
                .values(progress_done=self.done, heartbeat_at=utcnow(), **values)
            )
        self.written_at = time.monotonic()
        if changed.rowcount != 1:
            raise JobLost(self.job_id)


def run_job(*, engine: Engine, settings: Settings, job_id: int, worker: str) -> None:
    """Make a claimed job's file; mark it done, or failed with a message."""
    directory = export_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    with Session(engine, expire_on_commit=False) as session:
        job = session.get(ExportJob, job_id)
        assert job is not None
        fmt = FORMATS[job.format]
        f = HearingFilter.parse(job.filters or {})[0]
        options = ExportOptions.from_params(job.options or {})
        progress = _Progress(engine, job_id, worker)
        part = directory / f"export-{job_id}-{job.attempts}.{fmt.extension}.part"
        try:
            total = _total_units(session, f, job.format)
            progress.write(progress_total=total)
            size = 0
            with reporting(progress), part.open("wb") as out:
                for chunk in export_bytes(
                    engine=engine,
                    session=session,
                    fmt=job.format,
                    f=f,
                    options=options,
                    secret=settings.secret_key,
                    set_name=job.set_name,
                    tmp_dir=directory,
                ):
                    out.write(chunk)
                    size += len(chunk)
            final = directory / f"export-{job_id}.{fmt.extension}"
            part.replace(final)
            now = utcnow()
            progress.done = max(progress.done, total)
            progress.write(
                state=ExportJobState.done,
                file_path=str(final),
                file_name=export_file_name(job.set_name, fmt, now),
                file_bytes=size,
                finished_at=now,
                expires_at=now + timedelta(hours=settings.export_keep_hours),
            )
            log.info("export job %s done: %s bytes", job_id, size)
        except JobLost:
            part.unlink(missing_ok=True)
            log.warning("export job %s was taken over by another worker", job_id)
        except Exception as exc:
            part.unlink(missing_ok=True)
            log.exception("export job %s failed", job_id)
            with contextlib.suppress(JobLost):
                progress.write(
                    state=ExportJobState.failed,
                    finished_at=utcnow(),
                    error=NOT_MADE % {"error": type(exc).__name__},
                )


def export_file_name(set_name: str, fmt: ExportFormat, when: datetime) -> str:
    from app.exports.router import _slug  # the direct downloads' naming

    return f"{_slug(set_name, ascii_only=False)}-{when.date().isoformat()}.{fmt.extension}"


def delete_expired(*, engine: Engine, settings: Settings) -> int:
    """Delete the files of finished exports past their time (and leftovers of failed ones);
    how many jobs expired."""
    now = utcnow()
    expired = 0
    with Session(engine) as session:
        jobs = session.exec(
            select(ExportJob).where(
                ExportJob.state == ExportJobState.done, col(ExportJob.expires_at) <= now
            )
        ).all()
        for job in jobs:
            if job.file_path:
                Path(job.file_path).unlink(missing_ok=True)
            job.state = ExportJobState.expired
            job.file_path = None
            session.add(job)
            expired += 1
        session.commit()
    return expired


def run_pending_jobs(*, engine: Engine, settings: Settings, worker: str | None = None) -> int:
    """Expire old files, then run every claimable job; how many ran (the worker's one pass)."""
    worker = worker or worker_name()
    delete_expired(engine=engine, settings=settings)
    ran = 0
    while (job_id := claim_next_job(engine=engine, settings=settings, worker=worker)) is not None:
        run_job(engine=engine, settings=settings, job_id=job_id, worker=worker)
        ran += 1
    return ran


class ExportWorker:
    """A daemon thread that runs pending jobs every EXPORT_WORKER_POLL_SECONDS."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine, self.settings = engine, settings
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="export-worker", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        self.thread.join(timeout)

    def _loop(self) -> None:
        worker = worker_name()
        while not self.stopping.is_set():
            try:
                run_pending_jobs(engine=self.engine, settings=self.settings, worker=worker)
            except Exception:  # the database away for a moment: try again at the next poll
                log.exception("export worker pass failed")
            self.stopping.wait(self.settings.export_worker_poll_seconds)
