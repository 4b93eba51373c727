"""Demo step: the default sentencing protocol, published."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from app.config import Settings
from app.protocols import service as protocol_service


def seed_protocols(*, session: Session, settings: Settings, log: Callable[[str], None]) -> None:
    """The shipped 'Sentencing calendar — CCR observation' protocol, published as version 1."""
    version = protocol_service.ensure_default_protocol(session=session)
    log(
        f"  protocol  {protocol_service.DEFAULT_PROTOCOL_NAME} v{version.version} ({version.status})"
    )
