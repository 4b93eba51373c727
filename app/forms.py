"""Turning pydantic errors into field-level messages for forms."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from app.csrf import SAFE_METHODS
from app.i18n import N_, gettext
from app.messages import labelled_message

M = TypeVar("M", bound=BaseModel)

_FRIENDLY = {
    "missing": N_("This field is required."),
    "string_too_short": N_("This field is required."),
}


def field_errors(exc: ValidationError) -> dict[str, str]:
    """{field name: first message} for a form re-render."""
    errors: dict[str, str] = {}
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "__all__"
        if field in errors:
            continue
        message = labelled_message(err)
        if err["type"] in _FRIENDLY and not (
            err["type"] == "string_too_short" and err.get("ctx", {}).get("min_length", 1) > 1
        ):
            message = gettext(_FRIENDLY[err["type"]])
        elif err["type"] == "value_error":
            message = str(err["msg"]).removeprefix("Value error, ")
        if err.get("input") in ("", None) and err["type"] in (
            "value_error",
            "missing",
            "string_too_short",
        ):
            message = gettext("This field is required.")
        elif field == "email" and err["type"] == "value_error":
            message = gettext("Enter a valid email address, like name@example.org.")
        errors[field] = message
    return errors


def parse_leniently(
    model: type[M], params: Mapping[str, Any], *, plain: Callable[[str, str], str] | None = None
) -> tuple[M, dict[str, str]]:
    """A filter model from query parameters: (model, {field: message}). A bad field is reported
    and left out, the others still apply (a filter page never answers 500 or loses the rest).
    A model-level message "field: text" is reported on that field."""
    values = {k: params.get(k) for k in model.model_fields if k in params}
    errors: dict[str, str] = {}
    for _ in range(len(model.model_fields) + 1):
        try:
            return model.model_validate(values), errors
        except ValidationError as exc:
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else ""
                msg = err["msg"].removeprefix("Value error, ")
                if not field and ":" in msg:
                    field, msg = msg.split(":", 1)
                msg = msg.strip()
                errors.setdefault(field or "__all__", plain(field, msg) if plain else msg)
                values.pop(field, None)
    return model(), errors


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def refuse_nul_text(request: Request) -> None:
    """App-wide dependency: a NUL character in a query or form field is a field error.

    PostgreSQL cannot store or even compare text holding NUL (a server error); SQLite stores
    it. Refusing it here gives the same answer on both backends, before any route runs.
    """
    fields: list[tuple[str, object]] = list(request.query_params.multi_items())
    if request.method not in SAFE_METHODS and request.headers.get("content-type", "").startswith(
        _FORM_TYPES
    ):
        with contextlib.suppress(Exception):  # a malformed body is the route's to report
            fields += list((await request.form()).multi_items())
    bad = [
        name
        for name, value in fields
        if "\x00" in name or (isinstance(value, str) and "\x00" in value)
    ]
    if bad:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("body", name.replace("\x00", "")),
                    "msg": "NUL",
                    "ctx": {
                        "error": gettext("remove the NUL character (\\0); text may not hold one")
                    },
                    "input": "",
                }
                for name in dict.fromkeys(bad)
            ]
        )
