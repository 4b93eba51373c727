"""The OpenAPI document, as the app really answers: its error shapes, its sign-in scheme.

FastAPI's generated document describes a 422 the app never sends (its own
`HTTPValidationError`), no 401/403/404/409/413/415, no security scheme, and the batch body's
schema (published by hand, see app/sync/router.py) refers to models it does not include. This
completes it; `/openapi.json` and `/api/v1/openapi.json` both come from here.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.sync.schemas import FieldErrorOut

SESSION_COOKIE = "courtwatch_session"
CSRF_HEADER = "X-CSRF-Token"

_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}

ERROR_SCHEMAS: dict[str, Any] = {
    "ErrorOut": {
        "title": "ErrorOut",
        "type": "object",
        "description": "Every 4xx answer: a sentence for a person, and field-level errors "
        "when the problem is in particular fields.",
        "required": ["detail"],
        "properties": {
            "detail": {"type": "string", "description": "What went wrong, in plain words."},
            "errors": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/ErrorFieldOut"},
            },
        },
    },
    "ErrorFieldOut": {
        "title": "ErrorFieldOut",
        "type": "object",
        "required": ["loc", "msg"],
        "properties": {
            "loc": {
                "type": "string",
                "description": 'Where: a dotted path such as "limit" or "hearings[2].position".',
            },
            "msg": {"type": "string", "description": 'e.g. "Courtroom: at most 60 characters."'},
            "type": {"type": "string", "description": "The kind of problem (machine-readable)."},
        },
    },
}

# What each status means on this API; added to the operations that can answer it.
_MEANINGS = {
    "401": "Not signed in (no valid session cookie).",
    "403": "Signed in without the role this needs, or (for POST) a missing or wrong "
    f"{CSRF_HEADER} header.",
    "404": "No such observation of yours (or, for /compare, no such saved set).",
    "409": "The server was busy with the same observations; send the batch again.",
    "413": "The body or the number of observations is over the configured limit.",
    "415": "The body is not sent as application/json.",
    "422": "Not valid: `errors` lists each field with a message.",
}
_EXTRA_STATUSES = {
    ("post", "/api/v1/observations/batch"): ["409", "413", "415", "422"],
    ("get", "/api/v1/observations/{observation_id}"): ["404", "422"],
    ("get", "/api/v1/observations"): ["422"],
    ("get", "/api/v1/compare"): ["404", "422"],
}


def build_openapi(app: FastAPI, *, api_only: bool) -> dict[str, Any]:
    """The document for every route in the schema (api_only: those under /api/)."""
    from app.sync.router import BATCH_DEFS, batch_request_schema

    document = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    paths: dict[str, Any] = document.get("paths", {})
    if api_only:
        paths = {p: item for p, item in paths.items() if p.startswith("/api/")}
    document["paths"] = paths
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update(BATCH_DEFS)
    schemas.setdefault("FieldErrorOut", FieldErrorOut.model_json_schema())
    schemas.update(ERROR_SCHEMAS)
    components["securitySchemes"] = {
        "sessionCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": SESSION_COOKIE,
            "description": "The session cookie set by signing in at /login.",
        },
        "csrfToken": {
            "type": "apiKey",
            "in": "header",
            "name": CSRF_HEADER,
            "description": "The session's CSRF token (csrf_token in GET /api/v1/offline-pack, "
            "or the csrf-token meta tag of any page); needed on every POST.",
        },
    }
    settings = app.state.settings
    for path, item in paths.items():
        for method, operation in item.items():
            unsafe = method.lower() not in ("get", "head", "options")
            operation["security"] = [
                {"sessionCookie": [], "csrfToken": []} if unsafe else {"sessionCookie": []}
            ]
            responses = operation.setdefault("responses", {})
            # Any route with parameters may answer 422: in the app's shape, not FastAPI's.
            extra = _EXTRA_STATUSES.get((method, path), ["422"] if "422" in responses else [])
            for status in ["401", "403", *extra]:
                responses[status] = {
                    "description": _MEANINGS[status],
                    "content": {"application/json": {"schema": _ERROR_REF}},
                }
            if (method, path) == ("post", "/api/v1/observations/batch"):
                operation["requestBody"] = {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": batch_request_schema(max_items=settings.sync_max_items)
                        }
                    },
                }
    return document
