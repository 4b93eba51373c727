"""Protocol definitions: parsing rules, answer and turn validation, diffs, the default protocol."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.protocols.definition import (
    NAMES_WARNING,
    YES_NO_VALUES,
    DefinitionInvalid,
    FieldError,
    ProtocolDefinition,
    Question,
    diff_definitions,
    load_default_protocol,
    parse_definition,
    validate_answers,
    validate_turns,
)

WARNING = "Do not write the names of victims, witnesses or anyone other than public officials."


def role(key: str, colour: str = "#7cc4ff") -> dict[str, str]:
    return {"key": key, "label": key.title(), "colour": colour}


def choice(value: str) -> dict[str, str]:
    return {"value": value, "label": value.replace("_", " ").title()}


def small() -> dict[str, Any]:
    """A valid definition touching every rule; tests break one thing at a time."""
    return {
        "title": "Test protocol",
        "sections": [
            {
                "key": "sitting",
                "title": "Sitting",
                "level": "session",
                "questions": [
                    {
                        "key": "could_hear",
                        "type": "single_choice",
                        "label": "Could you hear?",
                        "required": True,
                        "choices": [choice("well"), choice("badly")],
                    },
                    {"key": "start", "type": "time", "label": "Start"},
                ],
            },
            {
                "key": "hearing",
                "title": "Hearing",
                "level": "hearing",
                "questions": [
                    {
                        "key": "speakers",
                        "type": "speaker_timeline",
                        "label": "Who speaks",
                        "roles": [
                            role("judge"),
                            role("prosecutor", "#ffb86b"),
                            role("other", "#b0b8c4"),
                        ],
                    },
                    {"key": "continued", "type": "yes_no", "label": "Continued?", "required": True},
                    {
                        "key": "reason",
                        "type": "short_text",
                        "label": "Why?",
                        "required": True,
                        "show_if": {"question": "continued", "equals": "yes"},
                    },
                    {"key": "present", "type": "roles_present", "label": "Who is here?"},
                    {
                        "key": "decider",
                        "type": "single_choice",
                        "label": "Who decided?",
                        "tags": ["decision"],
                        "choices": [choice("judge"), choice("prosecutor"), choice("unknown")],
                    },
                    {
                        "key": "components",
                        "type": "multi_choice",
                        "label": "Sentence",
                        "tags": ["outcome"],
                        "choices": [choice("jail"), choice("fine")],
                    },
                    {
                        "key": "jail_days",
                        "type": "count",
                        "label": "Jail days",
                        "max": 365,
                        "show_if": {"question": "components", "equals": "jail"},
                    },
                    {
                        "key": "fine_amount",
                        "type": "number",
                        "label": "Fine",
                        "min": 0,
                        "max": 10000,
                        "show_if": {"question": "components", "any_of": ["fine"]},
                    },
                    {"key": "notes", "type": "long_text", "label": "Notes", "max_length": 50},
                    {
                        "key": "late_note",
                        "type": "short_text",
                        "label": "Why could you not hear?",
                        "show_if": {"question": "could_hear", "equals": "badly"},
                    },
                ],
            },
        ],
    }


HEARING = "sections[1].questions"
SMALL = parse_definition(small())


def errors_of(data: Any) -> list[FieldError]:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_definition(data)
    return caught.value.errors


def q(data: dict[str, Any], key: str) -> dict[str, Any]:
    return next(q for s in data["sections"] for q in s["questions"] if q["key"] == key)


# --- definition rules ----------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(question_key: str, /, **fields: Any) -> Mutation:
    return lambda d: q(d, question_key).update(fields)


def _add_session_section_depending_on_hearing(d: dict[str, Any]) -> None:
    d["sections"].append(
        {
            "key": "debrief",
            "title": "Debrief",
            "level": "session",
            "questions": [
                {
                    "key": "why",
                    "type": "long_text",
                    "label": "Why?",
                    "show_if": {"question": "continued", "equals": "yes"},
                }
            ],
        }
    )


def _move_timeline_to_session(d: dict[str, Any]) -> None:
    timeline = d["sections"][1]["questions"].pop(0)
    d["sections"][0]["questions"].append(timeline)


RULES: list[tuple[str, Mutation, str, str, int]] = [
    # (id, mutation, exact loc, words the message must contain, how many errors in all)
    (
        "duplicate question key",
        _set("notes", key="start"),
        f"{HEARING}[8].key",
        "'start' is used twice",
        1,
    ),
    (
        "duplicate section key",
        lambda d: d["sections"][1].update(key="sitting"),
        "sections[1].key",
        "'sitting' is used twice",
        1,
    ),
    (
        "show_if unknown question",
        _set("late_note", show_if={"question": "nope", "equals": "x"}),
        f"{HEARING}[9].show_if.question",
        "no question 'nope'",
        1,
    ),
    (
        "show_if itself",
        _set("reason", show_if={"question": "reason", "equals": "x"}),
        f"{HEARING}[2].show_if.question",
        "itself",
        1,
    ),
    (
        "show_if later question",
        _set("continued", show_if={"question": "notes", "equals": "x"}),
        f"{HEARING}[1].show_if.question",
        "'notes' comes after",
        1,
    ),
    (
        "session depends on hearing",
        _add_session_section_depending_on_hearing,
        "sections[2].questions[0].show_if.question",
        "once per hearing",
        1,
    ),
    (
        "show_if value not a choice",
        _set("late_note", show_if={"question": "could_hear", "equals": "loud"}),
        f"{HEARING}[9].show_if.equals",
        "'loud' is not an answer to 'could_hear'",
        1,
    ),
    (
        "show_if value not yes/no",
        _set("reason", show_if={"question": "continued", "equals": "maybe"}),
        f"{HEARING}[2].show_if.equals",
        "'maybe' is not an answer to 'continued'",
        1,
    ),
    (
        "show_if any_of item unknown",
        _set("fine_amount", show_if={"question": "components", "any_of": ["fine", "cash"]}),
        f"{HEARING}[7].show_if.any_of[1]",
        "'cash' is not an answer",
        1,
    ),
    (
        "show_if number for a count",
        _set("notes", show_if={"question": "jail_days", "equals": "many"}),
        f"{HEARING}[8].show_if.equals",
        "count question",
        1,
    ),
    (
        "show_if both equals and any_of",
        _set("reason", show_if={"question": "continued", "equals": "yes", "any_of": ["yes"]}),
        f"{HEARING}[2].show_if",
        "not both",
        1,
    ),
    (
        "show_if neither equals nor any_of",
        _set("reason", show_if={"question": "continued"}),
        f"{HEARING}[2].show_if",
        "give equals or any_of",
        1,
    ),
    (
        "show_if on the timeline",
        _set("notes", show_if={"question": "speakers", "equals": "judge"}),
        f"{HEARING}[8].show_if.question",
        "speaker timeline",
        1,
    ),
    (
        "empty choices",
        _set("could_hear", choices=[]),
        "sections[0].questions[0].choices",
        "at least one choice",
        1,
    ),
    (
        "duplicate choice value",
        _set("components", choices=[choice("jail"), choice("fine"), choice("jail")]),
        f"{HEARING}[5].choices[2].value",
        "'jail' is used twice",
        1,
    ),
    (
        "choices on a type without",
        _set("continued", choices=[choice("yes")]),
        f"{HEARING}[1].choices",
        "yes_no question takes no choices",
        1,
    ),
    (
        "timeline without roles",
        _set("speakers", roles=[]),
        f"{HEARING}[0].roles",
        "at least one role",
        4,
    ),
    (
        "duplicate role key",
        _set("speakers", roles=[role("judge"), role("other"), role("judge")]),
        f"{HEARING}[0].roles[2].key",
        "'judge' is used twice",
        2,
    ),
    (
        "bad colour",
        _set("speakers", roles=[role("judge", "blue"), role("prosecutor"), role("other")]),
        f"{HEARING}[0].roles[0].colour",
        "#rrggbb",
        1,
    ),
    (
        "roles on another type",
        _set("present", roles=[role("judge")]),
        f"{HEARING}[3].roles",
        "Only a speaker timeline",
        1,
    ),
    (
        "two timelines",
        lambda d: d["sections"][1]["questions"].append(
            {**q(d, "speakers"), "key": "speakers_again"}
        ),
        f"{HEARING}[10].type",
        "only one speaker timeline",
        1,
    ),
    (
        "timeline at session level",
        _move_timeline_to_session,
        "sections[0].questions[2].type",
        "once-per-hearing",
        1,
    ),
    (
        "min greater than max",
        _set("fine_amount", min=500, max=100),
        f"{HEARING}[7].min",
        "min (500) is larger than max (100)",
        1,
    ),
    (
        "min on a non-number",
        _set("continued", min=1),
        f"{HEARING}[1].min",
        "Only number and count",
        1,
    ),
    (
        "max_length on a non-text",
        _set("jail_days", max_length=10),
        f"{HEARING}[6].max_length",
        "Only text questions",
        1,
    ),
    (
        "section without questions",
        lambda d: d["sections"].append(
            {"key": "empty", "title": "Empty", "level": "hearing", "questions": []}
        ),
        "sections[2].questions",
        "no questions",
        1,
    ),
    (
        "protocol without sections",
        lambda d: d.update(sections=[]),
        "sections",
        "at least one section",
        1,
    ),
    (
        "decision choice not a role",
        _set("decider", choices=[choice("judge"), choice("fine")]),
        f"{HEARING}[4].choices[1].value",
        "'fine' is not a speaker-timeline role",
        1,
    ),
    (
        "duplicate tag",
        _set("components", tags=["outcome", "outcome"]),
        f"{HEARING}[5].tags[1]",
        "'outcome' is listed twice",
        1,
    ),
    (
        "roles_present with nothing to list",
        lambda d: d["sections"][1]["questions"].pop(0),
        f"{HEARING}[2].choices",
        "speaker timeline",
        3,
    ),
]


def test_the_small_definition_is_valid() -> None:
    definition = parse_definition(small())
    assert [q.key for q in definition.questions("session")] == ["could_hear", "start"]
    assert (
        definition.question("notes") is not None and definition.question("notes").text_limit == 50
    )
    assert definition.question("reason").text_limit == 200  # the short_text default
    assert definition.level_of("late_note") == "hearing"


@pytest.mark.parametrize(
    ("mutate", "loc", "words", "count"), [r[1:] for r in RULES], ids=[r[0] for r in RULES]
)
def test_each_definition_rule(mutate: Mutation, loc: str, words: str, count: int) -> None:
    data = small()
    mutate(data)
    errors = errors_of(data)
    at_loc = [e for e in errors if e.loc == loc]
    assert at_loc, f"no error at {loc}: {errors}"
    assert any(words in e.msg for e in at_loc), at_loc
    assert len(errors) == count, errors


def test_roles_present_and_decision_at_session_level_are_fine() -> None:
    data = small()
    data["sections"][0]["questions"].append(
        {"key": "who", "type": "roles_present", "label": "Who?"}
    )
    data["sections"][0]["questions"].append(
        {
            "key": "influence",
            "type": "single_choice",
            "label": "Influence",
            "tags": ["decision"],
            "choices": [choice("judge"), choice("other")],
        }
    )
    parse_definition(data)


def test_a_hearing_question_may_depend_on_an_earlier_session_question() -> None:
    assert SMALL.question("late_note").show_if.question == "could_hear"  # parsed without error


def test_every_problem_is_reported_at_once_with_readable_locs() -> None:
    data = small()
    q(data, "continued")["key"] = "Continued"
    q(data, "notes")["lable"] = "typo"
    q(data, "components")["choices"] = []
    del q(data, "start")["label"]
    errors = {e.loc: e.msg for e in errors_of(data)}
    assert "lowercase letters" in errors[f"{HEARING}[1].key"]
    assert errors[f"{HEARING}[8].lable"] == "Unknown field 'lable'."
    assert errors["sections[0].questions[1].label"] == "Label: required."
    assert "at least one choice" in errors[f"{HEARING}[5].choices"]  # a rule, checked on the rest
    assert "no question 'continued'" in errors[f"{HEARING}[2].show_if.question"]


@pytest.mark.parametrize("data", [None, [], "text", 3])
def test_a_definition_must_be_an_object(data: Any) -> None:
    assert errors_of(data) == [FieldError("", "Expected an object ({…}).")]


def test_strict_types_in_definitions() -> None:
    data = small()
    q(data, "fine_amount")["max"] = "100"
    q(data, "continued")["required"] = "yes"
    q(data, "notes")["max_length"] = 0
    errors = {e.loc: e.msg for e in errors_of(data)}
    assert errors == {
        f"{HEARING}[7].max": "Maximum: expected a number.",
        f"{HEARING}[1].required": "Required: expected true or false.",
        f"{HEARING}[8].max_length": "Max length: at least 1.",
    }


# --- the default protocol ------------------------------------------------------------------


def test_default_protocol_parses_and_has_what_the_app_relies_on() -> None:
    definition = parse_definition(load_default_protocol())
    assert definition.title == "Sentencing calendar — CCR observation"
    assert [(r.key, r.label) for r in definition.timeline_roles()] == [
        ("judge", "Judge"),
        ("prosecutor", "Prosecutor"),
        ("defense", "Defense attorney"),
        ("probation", "Probation officer"),
        ("defendant", "Defendant"),
        ("victim", "Victim"),
        ("advocate", "Victim advocate"),
        ("interpreter", "Interpreter"),
        ("clerk", "Clerk / bailiff"),
        ("other", "Other"),
    ]
    assert len({r.colour.lower() for r in definition.timeline_roles()}) == 10
    expected = {
        "scheduled_start_time": ("session", "time", []),
        "actual_start_time": ("session", "time", []),
        "departure_time": ("session", "time", []),
        "could_hear": ("session", "single_choice", []),
        "influence_overall": ("session", "single_choice", ["decision"]),
        "continued": ("hearing", "yes_no", []),
        "continuance_requested_by": ("hearing", "single_choice", []),
        "sidebar": ("hearing", "yes_no", []),
        "roles_present": ("hearing", "roles_present", []),
        "victim_present": ("hearing", "single_choice", []),
        "interpreter_used": ("hearing", "yes_no", []),
        "speakers": ("hearing", "speaker_timeline", []),
        "most_influence": ("hearing", "single_choice", ["decision"]),
        "sentence_decided_by": ("hearing", "single_choice", ["decision"]),
        "sentence_terms_source": ("hearing", "single_choice", []),
        "safety_mentioned": ("hearing", "yes_no", ["safety"]),
        "safety_mentioned_by": ("hearing", "multi_choice", ["safety"]),
        "no_contact_order": ("hearing", "single_choice", ["safety"]),
        "nco_explained": ("hearing", "yes_no", ["safety"]),
        "firearm_surrender": ("hearing", "yes_no", ["safety"]),
        "staggered_exit": ("hearing", "yes_no", ["safety"]),
        "prior_history_referenced": ("hearing", "yes_no", ["accountability"]),
        "review_hearing_set": ("hearing", "yes_no", ["accountability"]),
        "sentence_components": ("hearing", "multi_choice", ["outcome"]),
        "jail_days_executed": ("hearing", "count", ["outcome"]),
        "jail_days_stayed": ("hearing", "count", ["outcome"]),
        "probation_months": ("hearing", "count", ["outcome"]),
        "defendant_spoke": ("hearing", "yes_no", []),
        "respect_shown": ("hearing", "single_choice", []),
        "inappropriate_humour": ("hearing", "yes_no", []),
        "observer_notes": ("hearing", "long_text", []),
        "flag_for_review": ("hearing", "yes_no", []),
    }
    for key, (level, qtype, tags) in expected.items():
        question = definition.question(key)
        assert question is not None, key
        assert (definition.level_of(key), question.type, list(question.tags)) == (
            level,
            qtype,
            tags,
        ), key
    nco = definition.question("no_contact_order")
    assert [c.value for c in nco.choices if c.absent] == ["not_mentioned"]
    assert {c.value for c in definition.question("sentence_components").choices} == {
        "jail",
        "probation",
        "no_contact_order",
        "batterer_intervention",
        "chemical_dependency_eval",
        "mental_health_eval",
        "fine",
        "restitution",
        "community_service",
        "firearm_surrender",
        "other",
    }
    assert definition.question("continuance_requested_by").show_if.equals == "yes"
    assert definition.question("safety_mentioned_by").show_if.equals == "yes"
    assert definition.question("jail_days_executed").show_if.equals == "jail"


def test_default_protocol_never_asks_for_names_and_warns_in_free_text() -> None:
    definition = parse_definition(load_default_protocol())
    assert NAMES_WARNING == WARNING
    for question in definition.questions():
        assert "name" not in question.key and "name" not in question.label.lower(), question.key
        if question.type in ("short_text", "long_text"):
            assert WARNING in question.help, question.key


def test_load_default_protocol_returns_a_fresh_copy() -> None:
    first = load_default_protocol()
    first["title"] = "Changed"
    assert load_default_protocol()["title"] == "Sentencing calendar — CCR observation"


# --- answers -------------------------------------------------------------------------------

VALUES: list[tuple[str, list[Any], list[Any]]] = [
    # (question key, valid values, invalid values)
    ("continued", list(YES_NO_VALUES), ["maybe", True, 1, ["yes"]]),
    ("decider", ["judge", "unknown"], ["bailiff", ["judge"], 3]),
    ("components", [["jail", "fine"], ["fine"], []], ["jail", ["jail", "jail"], ["cash"], [1]]),
    ("fine_amount", [0, 12.5, 10000], [-1, 10000.5, True, "12", math.nan, math.inf]),
    ("jail_days", [0, 30, 365], [-1, 2.5, True, "3", 366]),
    ("reason", ["x" * 200, "Defense not ready"], ["x" * 201, 5, ["a"]]),
    ("notes", ["x" * 50], ["x" * 51]),
    ("present", [["judge", "other"], []], [["bailiff"], ["judge", "judge"], "judge"]),
    ("start", ["09:30", "00:00", "23:59"], ["9:30", "24:00", "09:60", 930, "09:30:00"]),
]


def _level(key: str) -> Any:
    return SMALL.level_of(key)


@pytest.mark.parametrize(("key", "valid", "invalid"), VALUES, ids=[v[0] for v in VALUES])
def test_answer_formats(key: str, valid: list[Any], invalid: list[Any]) -> None:
    for value in valid:
        assert validate_answers(SMALL, {key: value}, level=_level(key), strict=False) == [], value
    for value in invalid:
        errors = validate_answers(SMALL, {key: value}, level=_level(key), strict=False)
        assert [e.loc for e in errors] == [f"answers.{key}"], value
        assert errors[0].msg.startswith(
            ("Expected", "Must be", "Too long", "Not a choice", "Listed more")
        ), errors


def test_answer_messages_name_the_expected_form() -> None:
    def message(key: str, value: Any) -> str:
        return validate_answers(SMALL, {key: value}, level=_level(key), strict=False)[0].msg

    assert (
        message("continued", "maybe") == "Expected one of 'yes', 'no', 'not_observed'; got 'maybe'."
    )
    assert message("start", "9:30") == "Expected a time as HH:MM (24-hour), e.g. 09:30; got '9:30'."
    assert message("jail_days", 400) == "Must be at most 365."
    assert message("notes", "x" * 51) == "Too long: at most 50 characters (this is 51)."
    assert "'cash'" in message("components", ["cash"])


def test_roles_present_with_its_own_choices_uses_those() -> None:
    data = small()
    q(data, "present")["choices"] = [choice("judge"), choice("bailiff")]
    definition = parse_definition(data)
    assert (
        validate_answers(definition, {"present": ["bailiff"]}, level="hearing", strict=False) == []
    )
    assert validate_answers(definition, {"present": ["other"]}, level="hearing", strict=False) != []


def test_speaker_timeline_is_never_an_answer() -> None:
    errors = validate_answers(
        SMALL, {"speakers": [{"role": "judge"}]}, level="hearing", strict=False
    )
    assert errors == [
        FieldError(
            "answers.speakers", "The speaker timeline is recorded as turns, not as an answer."
        )
    ]


def test_none_and_blank_text_are_unanswered() -> None:
    assert validate_answers(
        SMALL, {"continued": None, "start": "", "reason": "  "}, level="hearing", strict=False
    ) == [FieldError("answers.start", "'start' is asked once per sitting, not here.")]


def test_required_only_when_strict_and_visible() -> None:
    assert validate_answers(SMALL, {}, level="hearing", strict=False) == []
    # `reason` is required too, but hidden while `continued` is unanswered.
    assert validate_answers(SMALL, {}, level="hearing", strict=True) == [
        FieldError("answers.continued", "This question is required.")
    ]
    assert validate_answers(SMALL, {"continued": "yes"}, level="hearing", strict=True) == [
        FieldError("answers.reason", "This question is required.")
    ]
    assert (
        validate_answers(SMALL, {"continued": "yes", "reason": "Ill"}, level="hearing", strict=True)
        == []
    )
    assert [
        e.loc for e in validate_answers(SMALL, {"start": "09:00"}, level="session", strict=True)
    ] == ["answers.could_hear"]


def test_answers_to_hidden_questions_are_kept_in_drafts_and_refused_on_submit() -> None:
    answers = {"continued": "no", "reason": "Leftover", "components": ["fine"], "jail_days": 10}
    assert validate_answers(SMALL, answers, level="hearing", strict=False) == []
    errors = validate_answers(SMALL, answers, level="hearing", strict=True)
    assert [e.loc for e in errors] == ["answers.reason", "answers.jail_days"]
    assert all("hidden" in e.msg for e in errors)


def test_unknown_keys_and_keys_of_the_other_level() -> None:
    errors = validate_answers(
        SMALL, {"bogus": 1, "could_hear": "well", "continued": "yes"}, level="hearing", strict=False
    )
    assert errors == [
        FieldError("answers.bogus", "There is no question 'bogus' in this protocol."),
        FieldError("answers.could_hear", "'could_hear' is asked once per sitting, not here."),
    ]
    assert validate_answers(SMALL, ["yes"], level="hearing", strict=False) == [  # type: ignore[arg-type]
        FieldError("answers", "Answers must be an object keyed by question key.")
    ]


def test_show_if_on_lists_and_any_of() -> None:
    jail_days, fine_amount = SMALL.question("jail_days"), SMALL.question("fine_amount")
    assert SMALL.is_visible(jail_days, {"components": ["fine", "jail"]})
    assert not SMALL.is_visible(jail_days, {"components": ["fine"]})
    assert not SMALL.is_visible(jail_days, {})
    assert SMALL.is_visible(fine_amount, {"components": ["fine"]})
    assert not SMALL.is_visible(fine_amount, {"components": []})


def test_show_if_on_a_session_answer_through_context() -> None:
    answers = {"continued": "no", "late_note": "Fan noise"}
    assert (
        validate_answers(
            SMALL, answers, level="hearing", strict=True, context={"could_hear": "badly"}
        )
        == []
    )
    for context in ({"could_hear": "well"}, {}, None):
        errors = validate_answers(SMALL, answers, level="hearing", strict=True, context=context)
        assert [e.loc for e in errors] == ["answers.late_note"], context


def test_a_question_hidden_behind_a_hidden_question_is_hidden() -> None:
    data = small()
    q(data, "notes")["show_if"] = {"question": "reason", "equals": "Ill"}
    definition = parse_definition(data)
    notes = definition.question("notes")
    assert definition.is_visible(notes, {"continued": "yes", "reason": "Ill"})
    assert not definition.is_visible(notes, {"continued": "no", "reason": "Ill"})


def test_show_if_never_matches_a_flag_against_a_number() -> None:
    data = small()
    q(data, "notes")["show_if"] = {"question": "jail_days", "equals": 1}
    definition = parse_definition(data)
    notes = definition.question("notes")
    assert definition.is_visible(notes, {"components": ["jail"], "jail_days": 1})
    assert not definition.is_visible(
        notes, {"components": ["jail"], "jail_days": True}
    )  # True == 1


def test_a_required_timeline_is_not_asked_for_in_answers() -> None:
    data = small()
    q(data, "speakers")["required"] = True
    definition = parse_definition(data)
    answers = {"continued": "no"}
    assert validate_answers(definition, answers, level="hearing", strict=True) == []


def test_yes_no_choices_mark_no_as_absent() -> None:
    choices = SMALL.choices_for(SMALL.question("continued"))
    assert [(c.value, c.absent) for c in choices] == [
        ("yes", False),
        ("no", True),
        ("not_observed", False),
    ]
    assert [c.value for c in SMALL.choices_for(SMALL.question("present"))] == [
        "judge",
        "prosecutor",
        "other",
    ]


# --- turns ---------------------------------------------------------------------------------


def turn(role: str, start: Any, end: Any) -> dict[str, Any]:
    return {"role": role, "start_ms": start, "end_ms": end}


def test_valid_turns() -> None:
    turns = [turn("judge", 0, 1000), turn("prosecutor", 1000, 5000), turn("judge", 7000, None)]
    assert validate_turns(SMALL, turns) == []
    assert validate_turns(SMALL, []) == []


@pytest.mark.parametrize(
    ("turns", "loc", "words"),
    [
        (
            [turn("judge", 0, 2000), turn("prosecutor", 1500, 3000)],
            "turns[1].start_ms",
            "Overlaps the previous turn, which ends at 2000 ms",
        ),
        ([turn("judge", -5, 100)], "turns[0].start_ms", "negative"),
        ([turn("bailiff", 0, 100)], "turns[0].role", "'bailiff' is not a role"),
        ([turn("judge", 500, 100)], "turns[0].end_ms", "Ends (100 ms) before it starts (500 ms)"),
        ([turn("judge", 500, 600), turn("other", 100, 200)], "turns[1].start_ms", "in time order"),
        (
            [turn("judge", 0, None), turn("other", 100, 200)],
            "turns[0].end_ms",
            "Only the last turn",
        ),
        ([turn("judge", "0", 100)], "turns[0].start_ms", "whole number"),
        ([turn("judge", 0, True)], "turns[0].end_ms", "whole number"),
        (["judge"], "turns[0]", "object"),
    ],
)
def test_bad_turns(turns: list[Any], loc: str, words: str) -> None:
    errors = validate_turns(SMALL, turns)
    assert [e.loc for e in errors] == [loc], errors
    assert words in errors[0].msg


def test_turns_must_be_a_list() -> None:
    assert validate_turns(SMALL, {"role": "judge"}) == [
        FieldError("turns", "Turns must be a list.")
    ]  # type: ignore[arg-type]


# --- diffs ---------------------------------------------------------------------------------


def test_diff_reports_added_removed_and_changed() -> None:
    new = small()
    q(new, "decider")["label"] = "Who really decided?"
    q(new, "components")["choices"].append(choice("restitution"))
    q(new, "components")["choices"] = [
        c for c in q(new, "components")["choices"] if c["value"] != "fine"
    ]
    q(new, "fine_amount")["show_if"] = {"question": "components", "equals": "restitution"}
    q(new, "notes")["required"] = True
    new["sections"][1]["questions"] = [
        x for x in new["sections"][1]["questions"] if x["key"] != "late_note"
    ]
    new["sections"][1]["questions"].append(
        {"key": "sidebar", "type": "yes_no", "label": "Sidebar?"}
    )
    diff = diff_definitions(SMALL, parse_definition(new))
    assert [q.key for q in diff.added] == ["sidebar"]
    assert [q.key for q in diff.removed] == ["late_note"]
    changed = {new_q.key: what for _, new_q, what in diff.changed}
    assert changed == {
        "decider": ["label"],
        "components": ["choices: added 'restitution'", "choices: removed 'fine'"],
        "fine_amount": ["show_if"],
        "notes": ["required"],
    }
    assert not diff.empty


def test_diff_of_the_same_definition_is_empty_and_choice_labels_count() -> None:
    assert diff_definitions(SMALL, parse_definition(small())).empty
    new = small()
    q(new, "components")["choices"][0]["label"] = "Jail time"
    q(new, "components")["choices"].reverse()
    new["sections"][1]["questions"].insert(
        1, new["sections"][1]["questions"].pop(8)
    )  # moving is no change
    diff = diff_definitions(SMALL, parse_definition(new))
    assert [(n.key, what) for _, n, what in diff.changed] == [
        ("components", ["choices: relabelled 'jail'", "choices: reordered"])
    ]


# --- property: any well-formed answers validate clean in a draft ---------------------------


def _value_strategy(definition: ProtocolDefinition, question: Question) -> st.SearchStrategy[Any]:
    allowed = [c.value for c in definition.choices_for(question)]
    qtype = question.type
    if qtype in ("single_choice", "yes_no"):
        return st.sampled_from(allowed)
    if qtype in ("multi_choice", "roles_present"):
        return st.lists(st.sampled_from(allowed), unique=True)
    if qtype == "count":
        top = int(question.max) if question.max is not None else 10_000
        return st.integers(min_value=int(question.min or 0), max_value=top)
    if qtype == "number":
        low = question.min if question.min is not None else -1e9
        high = question.max if question.max is not None else 1e9
        return st.floats(min_value=low, max_value=high, allow_nan=False) | st.integers(
            min_value=math.ceil(low), max_value=math.floor(high)
        )
    if qtype in ("short_text", "long_text"):
        return st.text(max_size=question.text_limit or 0)
    if qtype == "time":
        return st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
    raise AssertionError(qtype)


def _answers_strategy(
    definition: ProtocolDefinition, level: Any
) -> st.SearchStrategy[dict[str, Any]]:
    optional = {
        question.key: st.none() | _value_strategy(definition, question)
        for question in definition.questions(level)
        if question.type != "speaker_timeline"
    }
    return st.fixed_dictionaries({}, optional=optional)


DEFAULT = parse_definition(load_default_protocol())


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(
        [(SMALL, "session"), (SMALL, "hearing"), (DEFAULT, "session"), (DEFAULT, "hearing")]
    ).flatmap(lambda pair: st.tuples(st.just(pair[0]), st.just(pair[1]), _answers_strategy(*pair)))
)
def test_well_formed_answers_validate_clean_in_drafts(
    case: tuple[ProtocolDefinition, Any, dict[str, Any]],
) -> None:
    definition, level, answers = case
    assert validate_answers(definition, answers, level=level, strict=False) == []


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["judge", "prosecutor", "other"]),
            st.integers(0, 5000),
            st.integers(0, 5000),
        ),
        max_size=12,
    ),
    st.booleans(),
)
def test_well_formed_turns_validate_clean(
    steps: list[tuple[str, int, int]], open_last: bool
) -> None:
    turns, clock = [], 0
    for role_key, gap, length in steps:
        start = clock + gap
        clock = start + length
        turns.append(turn(role_key, start, clock))
    if turns and open_last:
        turns[-1]["end_ms"] = None
    assert validate_turns(SMALL, copy.deepcopy(turns)) == []
