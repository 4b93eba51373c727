"""Validation errors in plain words for people: "Courtroom: at most 60 characters".

The one translation from pydantic's error kinds (wording meant for developers, such as
"String should have at most 60 characters") to Courtwatch's. The JSON API's error handler,
the sync batch's per-field errors, protocol definitions and the HTML forms all use it.
Its words are in the language being spoken when a message is made (the request's).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.i18n import N_, gettext

# Field names whose label is not just the name in words.
LABELS = {
    "start_ms": N_("Turn start (ms)"),
    "end_ms": N_("Turn end (ms)"),
    "client_edited_at": N_("Edited at"),
    "based_on_revision": N_("Based on revision"),
    "protocol_version_id": N_("Protocol version"),
    "assignment_id": N_("Assignment"),
    "court_id": N_("Court"),
    "judge_id": N_("Judge"),
    "observer_id": N_("Observer"),
    "protocol_id": N_("Protocol"),
    "observation_id": N_("Observation"),
    "session_date": N_("Date"),
    "date_from": N_("From"),
    "date_to": N_("To"),
    "id": N_("Id"),
    "min": N_("Minimum"),
    "max": N_("Maximum"),
}

_EXAMPLES = {
    "datetime": N_("a date and time like 2026-11-24T09:00:00Z"),
    "date": N_("a date like 2026-11-24"),
    "time": N_("a time like 09:00"),
    "uuid": N_("an id like 9b2d5c1e-0f7a-4c43-9d1e-2a6f0c3b8e11"),
}


def label_for(loc: tuple[int | str, ...] | list[Any]) -> str | None:
    """The label of the field at `loc` (its last name; list positions are skipped), if any."""
    names = [str(p) for p in loc if isinstance(p, str) and p not in ("body", "query", "path")]
    if not names:
        return None
    name = names[-1]
    if name in LABELS:
        return gettext(LABELS[name])
    # The name in words; translated when the interface has that word (a form's own label).
    words = name.replace("_", " ").strip().capitalize()
    return gettext(words) if words else None


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def phrase(error: Mapping[str, Any]) -> str:
    """What is wrong, in a few plain words ("at most 60 characters"), without the field."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return gettext("required")
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return gettext("required") if n <= 1 else gettext("at least %(num)s characters", num=n)
    if kind == "string_too_long":
        return gettext("at most %(num)s characters", num=ctx.get("max_length"))
    if kind == "too_long":
        return gettext("at most %(num)s items", num=ctx.get("max_length"))
    if kind == "too_short":
        return gettext("at least %(num)s items", num=ctx.get("min_length"))
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        return (
            gettext("at most %(bound)s", bound=_number(bound))
            if kind == "less_than_equal"
            else gettext("less than %(bound)s", bound=_number(bound))
        )
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        return (
            gettext("at least %(bound)s", bound=_number(bound))
            if kind == "greater_than_equal"
            else gettext("more than %(bound)s", bound=_number(bound))
        )
    if kind in ("int_type", "int_parsing", "int_from_float", "int_parsing_size"):
        return gettext("expected a whole number")
    if kind in ("float_type", "float_parsing", "decimal_type", "decimal_parsing"):
        return gettext("expected a number")
    if kind == "finite_number":
        return gettext("expected a finite number (not NaN or infinity)")
    if kind in ("string_type", "string_unicode"):
        return gettext("expected text")
    if kind in ("bool_type", "bool_parsing"):
        return gettext("expected true or false")
    for family, example in _EXAMPLES.items():
        if kind.startswith(family + "_") or kind.startswith(f"{family}_from"):
            return gettext("expected %(example)s", example=gettext(example))
    if kind in ("timezone_aware", "timezone_naive"):
        return gettext("expected a time with an offset, like 2026-11-24T09:00:00+01:00")
    if kind in ("literal_error", "enum"):
        return gettext("expected one of %(choices)s", choices=ctx.get("expected"))
    if kind == "extra_forbidden":
        return gettext("not a field here")
    if kind in ("list_type", "tuple_type", "set_type"):
        return gettext("expected a list")
    if kind in ("dict_type", "model_type", "model_attributes_type", "dataclass_type"):
        return gettext("expected an object ({…})")
    if kind in ("json_invalid", "json_type"):
        return gettext("expected valid JSON")
    if kind in ("value_error", "assertion_error"):
        text = str(ctx.get("error", error.get("msg", ""))).removeprefix("Value error, ")
        return text.rstrip(".")
    if kind == "string_pattern_mismatch":
        return gettext("not in the expected form")
    if kind == "url_parsing" or kind.startswith("url_"):
        return gettext("expected a web address")
    # Anything else: pydantic's own words, less its developer prefix.
    return (
        str(error.get("msg") or gettext("not valid")).removeprefix("Input should be ").rstrip(".")
    )


def plain_message(error: Mapping[str, Any], *, label: str | None = None) -> str:
    """The whole message: "Courtroom: at most 60 characters." (or without the label)."""
    words = phrase(error)
    if label is None:
        return words[:1].upper() + words[1:] + "."
    return gettext("%(label)s: %(problem)s.", label=label, problem=words)


def labelled_message(error: Mapping[str, Any]) -> str:
    """plain_message with the label taken from the error's location."""
    return plain_message(error, label=label_for(tuple(error.get("loc", ()))))
