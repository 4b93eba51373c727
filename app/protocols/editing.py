"""Edits a trainer makes to a draft definition, as plain changes on the definition dict.

Each builder returns a function for service.update_definition, which validates the result as
a whole and stores nothing when there is a problem.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from app.i18n import gettext
from app.protocols.definition import FieldError

Change = Callable[[dict[str, Any]], None]
SLUG = re.compile(r"[^a-z0-9]+")
TAGS = ("safety", "accountability", "decision", "outcome")
QUESTION_TYPES = (
    ("yes_no", "Yes / No / Not observed"),
    ("single_choice", "One choice"),
    ("multi_choice", "Several choices"),
    ("count", "Count"),
    ("number", "Number"),
    ("short_text", "Short text"),
    ("long_text", "Long text"),
    ("time", "Time of day"),
    ("roles_present", "Roles present"),
    ("speaker_timeline", "Speaker timeline"),
)
CHOICE_TYPES = {"single_choice", "multi_choice"}


class FormProblems(Exception):
    """Problems with what was typed in a form, before the definition is even built."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def slugify(text: str) -> str:
    slug = SLUG.sub("_", text.strip().lower()).strip("_")
    if slug and not slug[0].isalpha():
        slug = "q_" + slug
    return slug[:64]


def _find_section(data: dict[str, Any], key: str) -> dict[str, Any]:
    for section in data.get("sections", []):
        if section.get("key") == key:
            return section
    raise FormProblems(
        {"__all__": gettext("There is no section “%(key)s” in this draft.", key=key)}
    )


def _find_question(data: dict[str, Any], key: str) -> tuple[dict[str, Any], int]:
    for section in data.get("sections", []):
        for i, question in enumerate(section.get("questions", [])):
            if question.get("key") == key:
                return section, i
    raise FormProblems(
        {"__all__": gettext("There is no question “%(key)s” in this draft.", key=key)}
    )


def _move(items: list[Any], index: int, delta: int) -> None:
    target = index + delta
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]


# --- sections ----------------------------------------------------------------------------


def section_fields(form: dict[str, str]) -> dict[str, Any]:
    title = " ".join(form.get("title", "").split())
    level = form.get("level", "")
    errors = {}
    if not title:
        errors["title"] = gettext("Give the section a title.")
    if level not in ("session", "hearing"):
        errors["level"] = gettext("Choose once per sitting or once per hearing.")
    if errors:
        raise FormProblems(errors)
    return {"title": title, "level": level, "help": form.get("help", "").strip()}


def add_section(form: dict[str, str]) -> Change:
    fields = section_fields(form)
    key = slugify(form.get("key") or fields["title"]) or "section"

    def change(data: dict[str, Any]) -> None:
        taken = {s["key"] for s in data.get("sections", [])}
        unique, n = key, 2
        while unique in taken:
            unique, n = f"{key}_{n}", n + 1
        # A new section starts with one note question so the definition stays valid.
        note_key = slugify(f"{unique}_notes")
        data.setdefault("sections", []).append(
            {
                "key": unique,
                **fields,
                "questions": [
                    {
                        "key": note_key,
                        "type": "long_text",
                        "label": "Notes",
                        "help": "Do not write the names of victims, witnesses or anyone other than public officials.",
                        "required": False,
                    }
                ],
            }
        )

    return change


def update_section(section_key: str, form: dict[str, str]) -> Change:
    fields = section_fields(form)

    def change(data: dict[str, Any]) -> None:
        _find_section(data, section_key).update(fields)

    return change


def remove_section(section_key: str) -> Change:
    def change(data: dict[str, Any]) -> None:
        section = _find_section(data, section_key)
        data["sections"].remove(section)

    return change


def move_section(section_key: str, delta: int) -> Change:
    def change(data: dict[str, Any]) -> None:
        sections = data["sections"]
        _move(sections, sections.index(_find_section(data, section_key)), delta)

    return change


# --- questions ---------------------------------------------------------------------------


def _parse_lines(text: str) -> list[list[str]]:
    return [
        [part.strip() for part in line.split("|")] for line in text.splitlines() if line.strip()
    ]


def parse_choices(text: str) -> list[dict[str, Any]]:
    """One choice per line: `Label`, or `value | Label`, with `| absent` to mark a gap answer."""
    choices = []
    for parts in _parse_lines(text):
        absent = len(parts) > 1 and parts[-1].lower() == "absent"
        if absent:
            parts = parts[:-1]
        value, label = (parts[0], parts[1]) if len(parts) >= 2 else (slugify(parts[0]), parts[0])
        choices.append({"value": slugify(value) or value, "label": label, "absent": absent})
    return choices


def format_choices(choices: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{c['value']} | {c['label']}" + (" | absent" if c.get("absent") else "") for c in choices
    )


def parse_roles(text: str) -> list[dict[str, str]]:
    """One role per line: `key | Label | #rrggbb`."""
    roles = []
    for parts in _parse_lines(text):
        key = slugify(parts[0])
        label = parts[1] if len(parts) > 1 else parts[0]
        colour = parts[2] if len(parts) > 2 else "#9aa5b1"
        roles.append({"key": key, "label": label, "colour": colour})
    return roles


def format_roles(roles: list[dict[str, Any]]) -> str:
    return "\n".join(f"{r['key']} | {r['label']} | {r['colour']}" for r in roles)


def _number(form: dict[str, str], name: str, errors: dict[str, str]) -> float | None:
    raw = form.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        errors[name] = gettext("Enter a number.")
        return None
    if not math.isfinite(value):  # "nan", "inf", "1e400"
        errors[name] = gettext("Enter a finite number.")
        return None
    return int(value) if value.is_integer() else value


def question_fields(
    form: dict[str, str], tags: list[str], targets: dict[str, str] | None = None
) -> dict[str, Any]:
    """A question dict from the question form; FormProblems for what cannot even be read.

    `targets` maps question keys to their types, so a condition on a number or count question
    compares numbers."""
    errors: dict[str, str] = {}
    qtype = form.get("type", "")
    if qtype not in dict(QUESTION_TYPES):
        errors["type"] = gettext("Choose a question type.")
    label = " ".join(form.get("label", "").split())
    if not label:
        errors["label"] = gettext("Write the question as the volunteer will read it.")
    key = slugify(form.get("key") or label)
    if not key:
        errors["key"] = gettext("Give the question a key (letters, digits, underscores).")
    bad_tags = [t for t in tags if t not in TAGS]
    if bad_tags:
        errors["tags"] = gettext("Unknown tag: %(tags)s.", tags=", ".join(bad_tags))
    question: dict[str, Any] = {
        "key": key,
        "type": qtype,
        "label": label,
        "help": form.get("help", "").strip(),
        "required": form.get("required") in ("on", "true", "1"),
        "tags": [t for t in TAGS if t in tags],
    }
    if qtype in CHOICE_TYPES:
        question["choices"] = parse_choices(form.get("choices", ""))
    if qtype == "speaker_timeline":
        question["roles"] = parse_roles(form.get("roles", ""))
    if qtype in ("number", "count"):
        for bound in ("min", "max"):
            value = _number(form, bound, errors)
            if value is not None:
                question[bound] = value
    if qtype in ("short_text", "long_text"):
        value = _number(form, "max_length", errors)
        if value is not None:
            question["max_length"] = int(value)
    target = form.get("show_if_question", "").strip()
    if target:
        raw_values: list[Any] = [
            v.strip() for v in form.get("show_if_values", "").split(",") if v.strip()
        ]
        numeric = (targets or {}).get(target) in ("number", "count")
        if numeric and raw_values:
            parsed = _number({"v": raw_values[0]}, "v", errors)
            if "v" in errors:
                errors["show_if_values"] = errors.pop("v")
            elif len(raw_values) > 1:
                errors["show_if_values"] = gettext(
                    "A number question can show this one for a single value."
                )
            raw_values = [parsed]
        if not raw_values:
            errors["show_if_values"] = gettext("Say which answer shows this question.")
        elif len(raw_values) == 1 or numeric:
            question["show_if"] = {"question": target, "equals": raw_values[0]}
        else:
            question["show_if"] = {"question": target, "any_of": raw_values}
    if errors:
        raise FormProblems(errors)
    return question


def question_form_values(question: dict[str, Any]) -> dict[str, Any]:
    """The form's fields for an existing question."""
    show_if = question.get("show_if") or {}
    values = show_if.get("any_of") or ([show_if["equals"]] if "equals" in show_if else [])
    return {
        "key": question.get("key", ""),
        "type": question.get("type", ""),
        "label": question.get("label", ""),
        "help": question.get("help", ""),
        "required": bool(question.get("required")),
        "tags": question.get("tags", []),
        "choices": format_choices(question.get("choices", [])),
        "roles": format_roles(question.get("roles", [])),
        "min": "" if question.get("min") is None else str(question["min"]),
        "max": "" if question.get("max") is None else str(question["max"]),
        "max_length": "" if question.get("max_length") is None else str(question["max_length"]),
        "show_if_question": show_if.get("question", ""),
        "show_if_values": ", ".join(str(v) for v in values),
    }


def add_question(section_key: str, question: dict[str, Any]) -> Change:
    def change(data: dict[str, Any]) -> None:
        _find_section(data, section_key).setdefault("questions", []).append(question)

    return change


def update_question(question_key: str, question: dict[str, Any]) -> Change:
    def change(data: dict[str, Any]) -> None:
        section, index = _find_question(data, question_key)
        section["questions"][index] = question
        if question["key"] != question_key:  # follow a renamed key in every show_if
            for s in data["sections"]:
                for q in s["questions"]:
                    if (q.get("show_if") or {}).get("question") == question_key:
                        q["show_if"]["question"] = question["key"]

    return change


def remove_question(question_key: str) -> Change:
    def change(data: dict[str, Any]) -> None:
        section, index = _find_question(data, question_key)
        del section["questions"][index]

    return change


def move_question(question_key: str, delta: int) -> Change:
    def change(data: dict[str, Any]) -> None:
        section, index = _find_question(data, question_key)
        _move(section["questions"], index, delta)

    return change


def errors_for_question(
    errors: list[dict[str, str]], data: dict[str, Any], question_key: str
) -> dict[str, str]:
    """Definition errors about one question, keyed by form field; others under __all__."""
    location = None
    for s_index, section in enumerate(data.get("sections", [])):
        for q_index, question in enumerate(section.get("questions", [])):
            if question.get("key") == question_key:
                location = f"sections[{s_index}].questions[{q_index}]"
    out: dict[str, str] = {}
    for err in errors:
        loc = err["loc"]
        field = "__all__"
        if location and loc.startswith(location):
            rest = loc[len(location) :].lstrip(".")
            head = re.split(r"[.\[]", rest, maxsplit=1)[0] if rest else "__all__"
            field = {
                "show_if": "show_if_values",
                "equals": "show_if_values",
                "any_of": "show_if_values",
            }.get(head, head)
        message = err["msg"] if field != "__all__" or not loc else f"{loc}: {err['msg']}"
        if field in out:
            out[field] += " " + message
        else:
            out[field] = message
    return out


__all__ = ["FieldError"]
