"""Turning pydantic errors into field-level messages for forms."""

from __future__ import annotations

import contextlib

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from app.csrf import SAFE_METHODS
from app.messages import labelled_message

_FRIENDLY = {
    "missing": "This field is required.",
    "string_too_short": "This field is required.",
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
            message = _FRIENDLY[err["type"]]
        elif err["type"] == "value_error":
            message = str(err["msg"]).removeprefix("Value error, ")
        if err.get("input") in ("", None) and err["type"] in (
            "value_error",
            "missing",
            "string_too_short",
        ):
            message = "This field is required."
        elif field == "email" and err["type"] == "value_error":
            message = "Enter a valid email address, like name@example.org."
        errors[field] = message
    return errors


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
                    "ctx": {"error": "remove the NUL character (\\0); text may not hold one"},
                    "input": "",
                }
                for name in dict.fromkeys(bad)
            ]
        )
