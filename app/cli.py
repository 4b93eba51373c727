"""The `courtwatch` command line."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import ValidationError
from sqlmodel import Session

from app.auth import service as auth_service
from app.auth.exceptions import DuplicateEmail
from app.auth.models import Role
from app.auth.schemas import UserCreate
from app.config import SettingsError, get_settings
from app.db import downgrade, make_engine, upgrade

cli = typer.Typer(help="Courtwatch: field notes for court watching.", no_args_is_help=True)
db_cli = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
cli.add_typer(db_cli, name="db")


def _settings():  # type: ignore[no-untyped-def]
    try:
        return get_settings()
    except (SettingsError, ValidationError) as exc:
        typer.secho(f"Configuration error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc


@db_cli.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    settings = _settings()
    upgrade(settings.database_url, revision)
    typer.echo(f"Database at {revision}.")


@db_cli.command("downgrade")
def db_downgrade(
    revision: str = typer.Argument(..., help="Target revision, e.g. -1 or base"),
) -> None:
    """Undo migrations down to REVISION."""
    settings = _settings()
    downgrade(settings.database_url, revision)
    typer.echo(f"Database at {revision}.")


@db_cli.command("backup")
def db_backup(file: Path = typer.Argument(..., help="Where to write the backup")) -> None:
    """Back the database up into FILE (SQLite: online backup; PostgreSQL: pg_dump)."""
    from app.backup import BackupError, backup_database

    settings = _settings()
    try:
        backup_database(url=settings.database_url, target=file)
    except BackupError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Backed up to {file}.")


@db_cli.command("restore")
def db_restore(file: Path = typer.Argument(..., help="A backup made by `db backup`")) -> None:
    """Replace the database's contents by the backup in FILE."""
    from app.backup import BackupError, restore_database

    settings = _settings()
    try:
        restore_database(url=settings.database_url, source=file)
    except BackupError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Restored from {file}.")


@db_cli.command("rebuild-summaries")
def db_rebuild_summaries() -> None:
    """Work every observation's comparison summaries and agreement pairs out again from its
    stored rows (after an upgrade from before they existed; safe to run any time)."""
    from app.observations.store import rebuild_summaries

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        with engine.begin() as connection:
            rebuild_summaries(connection)
    finally:
        engine.dispose()
    typer.echo("Summaries rebuilt.")


@cli.command("create-user")
def create_user(
    email: str = typer.Option(..., help="Sign-in email"),
    name: str = typer.Option(..., help="Display name"),
    role: Role = typer.Option(..., help="volunteer, trainer, organizer or admin"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Create an account."""
    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        data = UserCreate(email=email, display_name=name, role=role, password=password)
    except ValidationError as exc:
        for err in exc.errors():
            typer.secho(f"{'.'.join(map(str, err['loc']))}: {err['msg']}", fg="red", err=True)
        raise typer.Exit(2) from exc
    with Session(engine) as session:
        try:
            user = auth_service.create_user(session=session, settings=settings, data=data)
        except DuplicateEmail as exc:
            typer.secho(str(exc), fg="red", err=True)
            raise typer.Exit(1) from exc
    typer.echo(f"Created {user.role} {user.email}.")


@cli.command("seed-demo")
def seed_demo() -> None:
    """Load demo data (idempotent) and print the demo accounts."""
    from app.demo import seed_demo as run_seed

    settings = _settings()
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        run_seed(session=session, settings=settings, log=typer.echo)


@cli.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
    workers: int = typer.Option(1, help="Processes (use PostgreSQL for more than one)"),
    proxy_headers: bool = typer.Option(True, help="Trust X-Forwarded-Proto from the proxy"),
) -> None:
    """Serve the app with uvicorn."""
    import uvicorn

    _settings()
    typer.echo(f"Courtwatch on http://{host}:{port}")
    uvicorn.run(
        "app.asgi:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=proxy_headers,
        forwarded_allow_ips="*" if proxy_headers else None,
    )


if __name__ == "__main__":
    cli()
