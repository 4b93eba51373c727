"""Validation errors in plain words for people: "Courtroom: at most 60 characters".

The one translation from pydantic's error kinds (wording meant for developers, such as
"String should have at most 60 characters") to Courtwatch's. The JSON API's error handler,
the sync batch's per-field errors, protocol definitions and the HTML forms all use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Field names whose label is not just the name in words.
LABELS = {
    "start_ms": "Turn start (ms)",
    "end_ms": "Turn end (ms)",
    "client_edited_at": "Edited at",
    "based_on_revision": "Based on revision",
    "protocol_version_id": "Protocol version",
    "assignment_id": "Assignment",
    "court_id": "Court",
    "judge_id": "Judge",
    "observer_id": "Observer",
    "protocol_id": "Protocol",
    "observation_id": "Observation",
    "session_date": "Date",
    "date_from": "From",
    "date_to": "To",
    "id": "Id",
    "min": "Minimum",
    "max": "Maximum",
}

_EXAMPLES = {
    "datetime": "a date and time like 2026-11-24T09:00:00Z",
    "date": "a date like 2026-11-24",
    "time": "a time like 09:00",
    "uuid": "an id like 9b2d5c1e-0f7a-4c43-9d1e-2a6f0c3b8e11",
}


def label_for(loc: tuple[int | str, ...] | list[Any]) -> str | None:
    """The label of the field at `loc` (its last name; list positions are skipped), if any."""
    names = [str(p) for p in loc if isinstance(p, str) and p not in ("body", "query", "path")]
    if not names:
        return None
    name = names[-1]
    return LABELS.get(name) or name.replace("_", " ").strip().capitalize() or None


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def phrase(error: Mapping[str, Any]) -> str:
    """What is wrong, in a few plain words ("at most 60 characters"), without the field."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "required"
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return "required" if n <= 1 else f"at least {n} characters"
    if kind == "string_too_long":
        return f"at most {ctx.get('max_length')} characters"
    if kind == "too_long":
        return f"at most {ctx.get('max_length')} items"
    if kind == "too_short":
        return f"at least {ctx.get('min_length')} items"
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        return (
            f"at most {_number(bound)}"
            if kind == "less_than_equal"
            else f"less than {_number(bound)}"
        )
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        return (
            f"at least {_number(bound)}"
            if kind == "greater_than_equal"
            else f"more than {_number(bound)}"
        )
    if kind in ("int_type", "int_parsing", "int_from_float", "int_parsing_size"):
        return "expected a whole number"
    if kind in ("float_type", "float_parsing", "decimal_type", "decimal_parsing"):
        return "expected a number"
    if kind == "finite_number":
        return "expected a finite number (not NaN or infinity)"
    if kind in ("string_type", "string_unicode"):
        return "expected text"
    if kind in ("bool_type", "bool_parsing"):
        return "expected true or false"
    for family, example in _EXAMPLES.items():
        if kind.startswith(family + "_") or kind.startswith(f"{family}_from"):
            return "expected " + example
    if kind in ("timezone_aware", "timezone_naive"):
        return "expected a time with an offset, like 2026-11-24T09:00:00+01:00"
    if kind in ("literal_error", "enum"):
        return f"expected one of {ctx.get('expected')}"
    if kind == "extra_forbidden":
        return "not a field here"
    if kind in ("list_type", "tuple_type", "set_type"):
        return "expected a list"
    if kind in ("dict_type", "model_type", "model_attributes_type", "dataclass_type"):
        return "expected an object ({…})"
    if kind in ("json_invalid", "json_type"):
        return "expected valid JSON"
    if kind in ("value_error", "assertion_error"):
        text = str(ctx.get("error", error.get("msg", ""))).removeprefix("Value error, ")
        return text.rstrip(".")
    if kind == "string_pattern_mismatch":
        return "not in the expected form"
    if kind == "url_parsing" or kind.startswith("url_"):
        return "expected a web address"
    # Anything else: pydantic's own words, less its developer prefix.
    return str(error.get("msg", "not valid")).removeprefix("Input should be ").rstrip(".")


def plain_message(error: Mapping[str, Any], *, label: str | None = None) -> str:
    """The whole message: "Courtroom: at most 60 characters." (or without the label)."""
    words = phrase(error)
    if label is None:
        return words[:1].upper() + words[1:] + "."
    return f"{label}: {words}."


def labelled_message(error: Mapping[str, Any]) -> str:
    """plain_message with the label taken from the error's location."""
    return plain_message(error, label=label_for(tuple(error.get("loc", ()))))
