"""Turning pydantic errors into field-level messages for forms."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

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
