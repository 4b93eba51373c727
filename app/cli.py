"""The `courtwatch` command line."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import ValidationError
from sqlmodel import Session

from app.auth import service as auth_service
from app.auth.exceptions import DuplicateEmail, WeakPassword
from app.auth.models import Role
from app.auth.schemas import UserCreate
from app.config import SettingsError, get_settings
from app.db import downgrade, make_engine, upgrade

cli = typer.Typer(help="Courtwatch: field notes for court watching.", no_args_is_help=True)
db_cli = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
protocol_cli = typer.Typer(help="Observation protocols (the forms).", no_args_is_help=True)
cli.add_typer(protocol_cli, name="protocol")


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


@protocol_cli.command("export-xlsform")
def protocol_export_xlsform(
    version_id: int = typer.Argument(..., help="The protocol version's id"),
    file: Path = typer.Argument(..., help="The .xlsx file to write"),
) -> None:
    """Write a protocol version as an XLSForm workbook (ODK, KoboToolbox, Enketo)."""
    from app.errors import NotFound
    from app.protocols import service as protocol_service

    engine = make_engine(_settings().database_url)
    try:
        with Session(engine) as session:
            try:
                version = protocol_service.get_version(session=session, version_id=version_id)
            except NotFound as exc:
                typer.secho(f"No protocol version {version_id}.", fg="red", err=True)
                raise typer.Exit(1) from exc
            summary = protocol_service.get_protocol(
                session=session, protocol_id=version.protocol_id
            )
            raw = protocol_service.export_xlsform(protocol=summary.protocol, version=version)
    finally:
        engine.dispose()
    file.write_bytes(raw)
    typer.echo(f"Wrote {summary.protocol.name} v{version.version} to {file}.")


@protocol_cli.command("import-xlsform")
def protocol_import_xlsform(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="An XLSForm .xlsx file"),
) -> None:
    """Read an XLSForm workbook into a new draft protocol (or a new draft of the protocol with
    its title). Rows Courtwatch cannot hold are listed with sheet and row; nothing is stored."""
    from app.protocols import service as protocol_service

    engine = make_engine(_settings().database_url)
    try:
        with Session(engine) as session:
            try:
                version, notes = protocol_service.import_xlsform(
                    session=session, raw=file.read_bytes(), created_by_id=None
                )
            except protocol_service.DefinitionRejected as exc:
                typer.secho(str(exc), fg="red", err=True)
                for problem in exc.errors:
                    typer.secho(f"  {problem['loc']}: {problem['msg']}", fg="red", err=True)
                raise typer.Exit(1) from exc
            for note in notes:
                typer.echo(f"  note: {note}")
            typer.echo(f"Imported as draft version {version.version} (id {version.id}).")
    finally:
        engine.dispose()


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
            user = auth_service.create_user(
                session=session, settings=settings, data=data, via="cli"
            )
        except WeakPassword as exc:
            typer.secho(f"password: {exc}", fg="red", err=True)
            raise typer.Exit(2) from exc
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
) -> None:
    """Serve the app with uvicorn (X-Forwarded-* are trusted from FORWARDED_ALLOW_IPS only)."""
    import uvicorn

    settings = _settings()
    typer.echo(
        f"Courtwatch on http://{host}:{port}; proxies trusted: {settings.forwarded_allow_ips}"
    )
    # The app reads the proxy headers itself (app/proxies.py), from the configured proxies only;
    # uvicorn's own handling stays off so that it cannot trust a different list.
    uvicorn.run("app.asgi:app", host=host, port=port, workers=workers, proxy_headers=False)


if __name__ == "__main__":
    cli()
