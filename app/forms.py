"""Turning pydantic errors into field-level messages for forms."""

from __future__ import annotations

from pydantic import ValidationError

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
        message = err["msg"]
        if err["type"] in _FRIENDLY and not (
            err["type"] == "string_too_short" and err.get("ctx", {}).get("min_length", 1) > 1
        ):
            message = _FRIENDLY[err["type"]]
        elif err["type"] == "value_error" and message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
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
