"""The sync API (/api/v1): the offline pack, the batch of observations, reading them back.

The batch body is read and parsed here rather than by FastAPI's body validation: one invalid
observation must come back as an `invalid` result beside the others, not fail the whole
request. Its schema is still published in the OpenAPI document (`openapi_extra`).
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import or_
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from app.auth.models import Role, User
from app.csrf import csrf_token
from app.db import SessionDep, utcnow
from app.deps import AnyUser, VolunteerUser
from app.errors import DomainError, NotFound
from app.i18n import gettext
from app.json_input import JsonRefused, load_json
from app.observations import service as observations_service
from app.observations.models import ObservationStatus
from app.protocols.definition import ProtocolDefinition, parse_definition
from app.protocols.models import Protocol, ProtocolVersion, VersionStatus
from app.sessions import service as sessions_service
from app.sync import service as sync_service
from app.sync.schemas import BatchOut, ItemResult, ObservationIn
from app.templating import request_language
from app.transactions import commit_with_replay

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["sync"])

STAFF_ROLES = {Role.trainer, Role.organizer, Role.admin}


BATCH_DEFS: dict[str, Any] = ObservationIn.model_json_schema(
    ref_template="#/components/schemas/{model}"
).pop("$defs", {})
BATCH_DEFS["ObservationIn"] = {
    k: v
    for k, v in ObservationIn.model_json_schema(ref_template="#/components/schemas/{model}").items()
    if k != "$defs"
}


def batch_request_schema(*, max_items: int) -> dict[str, Any]:
    """The batch body as the server takes it. An item that does not match ObservationIn is not
    refused with the batch: it comes back as an `invalid` result with field-level errors, so
    the items are documented as ObservationIn or any other value."""
    return {
        "title": "BatchIn",
        "type": "object",
        "required": ["observations"],
        "properties": {
            "observations": {
                "type": "array",
                "maxItems": max_items,
                "description": "Whole observations (ObservationIn); each gets its own result.",
                "items": {"anyOf": [{"$ref": "#/components/schemas/ObservationIn"}, {}]},
            }
        },
    }


class PayloadTooLarge(DomainError):
    status_code = 413


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is larger than the limit of {limit:,} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The request body is larger than the limit of {limit:,} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def _require_json(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise DomainError(
            "Send the batch as JSON, with the header Content-Type: application/json.",
            errors=[{"loc": "content-type", "msg": "Expected application/json."}],
            status_code=415,
        )


def _parse_batch(body: bytes, max_items: int) -> list[Any]:
    try:
        data = load_json(body)
    except JsonRefused as exc:
        raise DomainError(
            f"The body is {exc.reason}.",
            errors=[{"loc": "body", "msg": exc.message}],
            status_code=422,
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("observations"), list):
        raise DomainError(
            'Send an object with a list of observations: {"observations": [...]}.',
            errors=[{"loc": "observations", "msg": "Expected a list of observations."}],
            status_code=422,
        )
    items = data["observations"]
    if len(items) > max_items:
        raise PayloadTooLarge(
            f"A batch holds at most {max_items} observations; this one has {len(items)}. "
            "Send them in smaller batches."
        )
    return items


@router.post(
    "/observations/batch",
    name="sync:batch",
    response_model=BatchOut,
    summary="Send whole observations; one result per observation",
    # The request body and the error answers are described in app/openapi.py.
)
async def send_batch(request: Request, user: VolunteerUser, session: SessionDep) -> BatchOut:
    settings = request.app.state.settings
    _require_json(request)
    body = await _read_body(request, settings.sync_max_body_bytes)
    items = _parse_batch(body, settings.sync_max_items)
    # The database work runs in a worker thread: the event loop keeps serving other phones.
    results = await run_in_threadpool(_ingest_and_commit, session, user, items, b"\\u0000" in body)
    kinds: dict[str, int] = {}
    for r in results:
        kinds[r.result] = kinds.get(r.result, 0) + 1
    log.info("sync batch from user %s: %s", user.id, kinds)
    return BatchOut(results=results, server_time=utcnow())


def _ingest_and_commit(
    session: Session, user: User, items: list[Any], may_hold_nul: bool
) -> list[ItemResult]:
    # Every item is idempotent, so a batch that met another writer (a deadlock, a key taken
    # first) is simply played again.
    return commit_with_replay(
        session,
        lambda: sync_service.ingest_batch(
            session=session, user=user, items=items, may_hold_nul=may_hold_nul
        ),
    )


def _protocol_entry(protocol_name: str, version: ProtocolVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "protocol_id": version.protocol_id,
        "protocol_name": protocol_name,
        "version": version.version,
        "status": version.status,
        "definition": version.definition,
    }


@router.get("/offline-pack", name="sync:offline_pack", summary="Everything the phone needs offline")
def offline_pack(
    request: Request, response: Response, user: VolunteerUser, session: SessionDep
) -> dict[str, Any]:
    """The volunteer's open assignments, every protocol version they (or a new ad hoc
    observation) need, the speaker roles, their unsubmitted drafts and a CSRF token."""
    assignments = sessions_service.open_assignments_for_pack(
        session=session,
        volunteer_id=user.id,  # type: ignore[arg-type]
    )
    drafts = observations_service.drafts_for_pack(session=session, observer_id=user.id)  # type: ignore[arg-type]
    wanted = {a.protocol_version_id for a in assignments} | {
        d["protocol_version_id"] for d in drafts
    }
    version_ids = sorted(
        session.exec(
            select(ProtocolVersion.id).where(
                or_(
                    ProtocolVersion.status == VersionStatus.published,
                    col(ProtocolVersion.id).in_(wanted),
                )
            )
        ).all()
    )
    versions: list[dict[str, Any]] = []
    roles: list[dict[str, Any]] = []
    role_keys: set[str] = set()
    for version_id in version_ids:
        version = session.get(ProtocolVersion, version_id)
        if version is None:
            continue
        protocol = session.get(Protocol, version.protocol_id)
        versions.append(_protocol_entry(protocol.name if protocol else "Protocol", version))
        definition: ProtocolDefinition = parse_definition(version.definition)
        for role in definition.timeline_roles():
            if role.key not in role_keys:
                role_keys.add(role.key)
                roles.append(role.model_dump())
    settings = request.app.state.settings
    response.headers["Cache-Control"] = "no-store"
    return {
        "user": {
            "id": user.id,
            "display_name": user.display_name,
            "role": user.role,
            # The capture speaks it offline too (app/static/js/i18n.js).
            "language": request_language(request),
        },
        "csrf_token": csrf_token(request),
        "server_time": utcnow().isoformat(),
        "assignments": [a.model_dump(mode="json") for a in assignments],
        "protocol_versions": versions,
        "roles": roles,
        "drafts": drafts,
        "limits": {
            "max_items": settings.sync_max_items,
            "max_body_bytes": settings.sync_max_body_bytes,
        },
    }


@router.get("/observations", name="sync:observations", summary="Observations, newest edits first")
def list_observations(
    user: AnyUser,
    session: SessionDep,
    status: ObservationStatus | None = None,
    limit: Annotated[int, Query(description="At most this many (1 to 500).")] = 100,
) -> dict[str, Any]:
    """A volunteer's own observations; staff see everyone's."""
    limit = max(1, min(limit, 500))
    observer = None if user.role in STAFF_ROLES else user.id
    found = observations_service.list_observations_for(
        session=session, observer_id=observer, status=status, limit=limit
    )
    return {
        "observations": [
            {
                "id": str(o.id),
                "observer_id": o.observer_id,
                "status": o.status,
                "revision": o.current_revision,
                "assignment_id": o.assignment_id,
                "court_session_id": o.court_session_id,
                "protocol_version_id": o.protocol_version_id,
                "client_edited_at": o.client_edited_at.isoformat(),
            }
            for o in found
        ]
    }


@router.get(
    "/observations/{observation_id:uuid}",
    name="sync:observation",
    summary="One observation, whole",
)
def get_observation(
    observation_id: uuid.UUID, user: AnyUser, session: SessionDep
) -> dict[str, Any]:
    found = observations_service.get_observation(session=session, observation_id=observation_id)
    if found is None or (user.role not in STAFF_ROLES and found.observer_id != user.id):
        raise NotFound(gettext("There is no observation of yours with this id."))
    return observations_service.observation_document(
        session=session, observation_ids=[observation_id]
    )[0]


@router.get("/openapi.json", name="sync:openapi", include_in_schema=False)
def openapi_document(request: Request, user: AnyUser) -> dict[str, Any]:
    """The API's OpenAPI document (the JSON routes only)."""
    from app.openapi import build_openapi

    return build_openapi(request.app, api_only=True)
