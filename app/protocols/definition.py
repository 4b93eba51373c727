"""Protocol definitions: the observation form as data (sections → questions), and the checks on it.

`parse_definition` turns stored JSON into a `ProtocolDefinition` or raises `DefinitionInvalid`
listing every problem at once. `validate_answers` and `validate_turns` check what a volunteer
recorded against a definition. Pure Python: no database, so the same rules serve the editor,
the sync API, the demo data and the tests.

Error locations (`FieldError.loc`) read like paths: `sections[1].questions[3].key`,
`answers.victim_present`, `turns[4].end_ms`; an empty loc means the whole document.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
)

from app.i18n import N_, gettext
from app.messages import labelled_message

QuestionType = Literal[
    "single_choice",
    "multi_choice",
    "yes_no",
    "number",
    "count",
    "short_text",
    "long_text",
    "time",
    "roles_present",
    "speaker_timeline",
]
Tag = Literal["safety", "accountability", "decision", "outcome"]
Level = Literal["session", "hearing"]

YES_NO_VALUES = ("yes", "no", "not_observed")
YES_NO_LABELS = {"yes": "Yes", "no": "No", "not_observed": "Not observed"}
# Values a `decision` question may offer besides the timeline's role keys.
DECISION_EXTRA_VALUES = ("other", "unknown")
DEFAULT_MAX_LENGTH = {"short_text": 200, "long_text": 5000}
NAMES_WARNING = (
    "Do not write the names of victims, witnesses or anyone other than public officials."
)
DEFAULT_PROTOCOL_PATH = Path(__file__).with_name("default_sentencing.json")

CHOICE_TYPES = frozenset({"single_choice", "multi_choice"})
CATEGORICAL_TYPES = frozenset({"single_choice", "yes_no"})
TEXT_TYPES = frozenset({"short_text", "long_text"})
NUMERIC_TYPES = frozenset({"number", "count"})
MAX_EXACT_NUMBER = 2**53 - 1  # the largest whole number a double (the answer column) holds exactly
LEVEL_WORDS = {"session": N_("once per sitting"), "hearing": N_("once per hearing")}

SLUG_PATTERN = r"^[a-z][a-z0-9_]*$"
COLOUR_PATTERN = r"^#[0-9a-fA-F]{6}$"
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
QuestionKey = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Colour = Annotated[str, StringConstraints(pattern=COLOUR_PATTERN)]
# NaN, Infinity and 1e400 (read as infinity) cannot bound an answer, nor be stored as JSON.
FiniteNumber = Annotated[
    float, Field(allow_inf_nan=False, ge=-MAX_EXACT_NUMBER, le=MAX_EXACT_NUMBER)
]


def _scalar(value: Any) -> Any:
    # One clear error instead of one per member of the union below.
    if value is not None and not isinstance(value, str | int | float | bool):
        raise ValueError(gettext("give equals one value: text, a number, true or false"))
    return value


ShowIfValue = Annotated[str | int | float | bool | None, BeforeValidator(_scalar)]


class _Model(BaseModel):
    # Strict: a definition is JSON written by the editor or a trainer; "3" is not a number
    # and a misspelt field ("requried") is a mistake to report, not to ignore.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


# A language tag as protocols use it: "es", "en", "pt-BR".
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
BASE_LANGUAGE = "en"


class LabelText(_Model):
    """What a choice or a timeline role says in another language."""

    label: Text


class QuestionText(_Model):
    """What a question says in another language (a missing part falls back to the base)."""

    label: Text | None = None
    help: str | None = None


class SectionText(_Model):
    title: Text | None = None
    help: str | None = None


class DocumentText(_Model):
    title: Text | None = None
    description: str | None = None


class Choice(_Model):
    value: Slug
    label: Text
    translations: dict[LanguageCode, LabelText] = Field(default_factory=dict)
    # True for the choice meaning "the thing did not happen / was not mentioned" (gap analysis).
    absent: bool = False


class ShowIf(_Model):
    question: str
    equals: ShowIfValue = None
    any_of: list[str] | None = None


class TimelineRole(_Model):
    key: Slug
    label: Text
    colour: Colour
    translations: dict[LanguageCode, LabelText] = Field(default_factory=dict)


class Question(_Model):
    key: QuestionKey
    type: QuestionType
    label: Text
    help: str = ""
    required: bool = False
    show_if: ShowIf | None = None
    choices: list[Choice] = Field(default_factory=list)
    tags: list[Tag] = Field(default_factory=list)
    roles: list[TimelineRole] = Field(default_factory=list)
    min: FiniteNumber | None = None
    max: FiniteNumber | None = None
    max_length: Annotated[int, Field(ge=1)] | None = None
    translations: dict[LanguageCode, QuestionText] = Field(default_factory=dict)

    @property
    def text_limit(self) -> int | None:
        """Longest answer allowed for a text question (its own max_length or the default)."""
        if self.type not in TEXT_TYPES:
            return None
        return self.max_length if self.max_length is not None else DEFAULT_MAX_LENGTH[self.type]


class Section(_Model):
    key: Slug
    title: Text
    level: Level
    help: str = ""
    questions: list[Question]
    translations: dict[LanguageCode, SectionText] = Field(default_factory=dict)


class ProtocolDefinition(_Model):
    title: Text
    description: str = ""
    sections: list[Section]
    # The language of the labels above; `translations` give them in others.
    language: LanguageCode = BASE_LANGUAGE
    translations: dict[LanguageCode, DocumentText] = Field(default_factory=dict)

    _index: dict[str, tuple[Level, Question]] = PrivateAttr(default_factory=dict)
    _allowed: dict[str, list[str]] = PrivateAttr(default_factory=dict)
    _absent: dict[str, frozenset[str]] | None = PrivateAttr(default=None)

    def model_post_init(self, __context: Any) -> None:
        for section in self.sections:
            for question in section.questions:
                self._index.setdefault(question.key, (section.level, question))

    def languages(self) -> list[str]:
        """Every language the protocol's labels are written in, its own first."""
        found = [self.language]
        parts: list[Any] = [self, *self.sections]
        for section in self.sections:
            for question in section.questions:
                parts += [question, *question.choices, *question.roles]
        for part in parts:
            found += [code for code in part.translations if code not in found]
        return found

    def localized(self, code: str) -> ProtocolDefinition:
        """This definition with its titles, labels, help and choices in language `code` where
        it has them ("es" also finds "es-MX"); untranslated parts keep their own words, and
        keys and values are unchanged. For showing to people, never for storing."""
        code = code.split("-")[0].lower()
        if self.language.split("-")[0] == code or code not in self.languages_base():
            return self
        document = self.model_dump(mode="json")
        _relabel(document, code, ("title", "description"))
        for section in document["sections"]:
            _relabel(section, code, ("title", "help"))
            for question in section["questions"]:
                _relabel(question, code, ("label", "help"))
                for part in (*question["choices"], *question["roles"]):
                    _relabel(part, code, ("label",))
        return ProtocolDefinition.model_validate(document)

    def languages_base(self) -> set[str]:
        """The languages of the labels, without regions ("es-MX" → "es")."""
        return {code.split("-")[0].lower() for code in self.languages()}

    def questions(self, level: Level | None = None) -> list[Question]:
        """Every question in document order, or those of one level."""
        return [q for s in self.sections if level is None or s.level == level for q in s.questions]

    def question(self, key: str) -> Question | None:
        found = self._index.get(key)
        return found[1] if found else None

    def level_of(self, key: str) -> Level | None:
        """Whether a question is asked once per sitting ("session") or per hearing."""
        found = self._index.get(key)
        return found[0] if found else None

    def timeline_roles(self) -> list[TimelineRole]:
        """Roles of the (first) speaker timeline question; [] if there is none."""
        timeline = next((q for q in self.questions() if q.type == "speaker_timeline"), None)
        return list(timeline.roles) if timeline else []

    def choices_for(self, question: Question) -> list[Choice]:
        """The answer values a question offers, as choices, for every enumerated type.

        yes_no gives yes / no (absent) / not observed; roles_present gives its own choices or
        the timeline roles; other types give their choices ([] for free-form types).
        """
        if question.type == "yes_no":
            return [
                Choice(value=v, label=YES_NO_LABELS[v], absent=v == "no") for v in YES_NO_VALUES
            ]
        if question.type == "roles_present" and not question.choices:
            return [Choice(value=r.key, label=r.label) for r in self.timeline_roles()]
        return list(question.choices)

    def allowed_values(self, question: Question) -> list[str]:
        """The values of choices_for(question), computed once per question (validation is hot)."""
        found = self._allowed.get(question.key)
        if found is None:
            found = [c.value for c in self.choices_for(question)]
            self._allowed[question.key] = found
        return found

    def absent_values(self) -> dict[str, frozenset[str]]:
        """Hearing-level questions whose answer can mark the thing absent (a "No", a choice
        marked absent): question key → those values. Computed once."""
        if self._absent is None:
            self._absent = {}
            for question in self.questions("hearing"):
                values = frozenset(c.value for c in self.choices_for(question) if c.absent)
                if values:
                    self._absent[question.key] = values
        return self._absent

    def categorical_keys(self, level: Level = "hearing") -> list[str]:
        """Questions answered with one category (single choice, yes/no): those observers'
        agreement is measured on."""
        return [q.key for q in self.questions(level) if q.type in CATEGORICAL_TYPES]

    def is_visible(
        self, question: Question, answers: dict[str, Any], context: dict[str, Any] | None = None
    ) -> bool:
        """Whether `question` is shown, given the answers (and, for a hearing, the session's).

        A question whose condition depends on a hidden question is hidden too.
        """
        seen: set[str] = set()
        current: Question | None = question
        while current is not None and current.show_if is not None:
            if current.key in seen:  # a cycle cannot pass parse_definition; stay safe anyway
                return False
            seen.add(current.key)
            condition = current.show_if
            if not _condition_met(condition, _lookup(condition.question, answers, context)):
                return False
            current = self.question(condition.question)
        return True


@dataclass(frozen=True)
class FieldError:
    loc: str
    msg: str


class DefinitionInvalid(Exception):
    """A definition with problems; `errors` lists every one."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.loc}: {e.msg}" if e.loc else e.msg for e in errors))
        self.errors = errors


@dataclass
class DefinitionDiff:
    added: list[Question] = field(default_factory=list)
    removed: list[Question] = field(default_factory=list)
    changed: list[tuple[Question, Question, list[str]]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


# --- parsing -------------------------------------------------------------------------------


def _relabel(part: dict[str, Any], code: str, fields: tuple[str, ...]) -> None:
    translations = part.get("translations") or {}
    text = translations.get(code) or next(
        (t for c, t in translations.items() if c.split("-")[0].lower() == code), None
    )
    for name in fields:
        if text and text.get(name):
            part[name] = text[name]


def parse_definition(data: Any) -> ProtocolDefinition:
    """A validated definition, or DefinitionInvalid listing every problem found."""
    try:
        definition = ProtocolDefinition.model_validate(data)
    except ValidationError as exc:
        errors = [_from_pydantic(e) for e in exc.errors()]
        # Check the rules on whatever parts did parse, so the trainer sees everything at once.
        errors.extend(_check_rules(_outline_raw(data)))
        raise DefinitionInvalid(errors) from None
    errors = _check_rules(_outline_model(definition))
    if errors:
        raise DefinitionInvalid(errors)
    return definition


def load_default_protocol() -> dict[str, Any]:
    """The shipped default sentencing protocol, as a fresh dict the caller may change, with
    its labels in every language shipped beside it (default_sentencing.<code>.json)."""
    document = json.loads(DEFAULT_PROTOCOL_PATH.read_text(encoding="utf-8"))
    for path in sorted(DEFAULT_PROTOCOL_PATH.parent.glob(DEFAULT_PROTOCOL_PATH.stem + ".*.json")):
        code = path.name.split(".")[-2]
        add_translation(document, json.loads(path.read_text(encoding="utf-8")), code)
    return document


def add_translation(document: dict[str, Any], texts: dict[str, Any], code: str) -> None:
    """Put one language's texts (keyed by section, question, choice and role) into a
    definition's `translations`. A help text carrying the names warning carries it in that
    language too."""

    def put(part: dict[str, Any], values: dict[str, str]) -> None:
        values = {k: v for k, v in values.items() if v}
        if values:
            part.setdefault("translations", {})[code] = values

    warning = texts.get("names_warning", "")
    put(document, {"title": texts.get("title", ""), "description": texts.get("description", "")})
    roles = texts.get("roles", {})
    for section in document["sections"]:
        put(section, texts.get("sections", {}).get(section["key"], {}))
        for question in section["questions"]:
            own = dict(texts.get("questions", {}).get(question["key"], {}))
            if warning and NAMES_WARNING in question.get("help", ""):
                own["help"] = " ".join(t for t in (own.get("help", ""), warning) if t)
            put(question, own)
            labels = {**roles, **texts.get("choices", {}).get(question["key"], {})}
            for choice in question.get("choices", []):
                put(choice, {"label": labels.get(choice["value"], "")})
            for role in question.get("roles", []):
                put(role, {"label": roles.get(role["key"], "")})


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def from_pydantic_error(error: Any) -> FieldError:
    """A pydantic error as a FieldError with a plain-language message and a dotted location."""
    return _from_pydantic(error)


def _from_pydantic(error: Any) -> FieldError:
    parts = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        if parts and parts[-1] == "colour":
            msg = gettext("Write the colour as #rrggbb, e.g. #7cc4ff.")
        elif "[key]" in parts or parts[-1:] == ("language",):
            msg = gettext("Write the language as a code such as en, es or pt-BR.")
        else:
            msg = gettext(
                "Use lowercase letters, digits and underscores, starting with a letter (e.g. victim_present)."
            )
    elif kind == "extra_forbidden":
        msg = gettext("Unknown field '%(parts)s'.", parts=parts[-1])
    elif kind == "value_error":
        msg = str(ctx.get("error", error["msg"])).rstrip(".") + "."
        msg = msg[0].upper() + msg[1:]
    else:
        msg = labelled_message(error)
    return FieldError(_loc(parts), msg)


# The rules below run on an outline: the parsed questions with their places, so that they can
# run both on a parsed definition and, best effort, on a document that failed to parse.


@dataclass
class _QuestionPlace:
    loc: str
    order: int
    level: Level | None
    key: str | None  # from the raw data when the question itself did not parse
    question: Question | None
    raw_type: str | None


@dataclass
class _SectionPlace:
    loc: str
    key: str | None
    question_count: int | None  # None when "questions" was not even a list


@dataclass
class _Outline:
    section_count: int | None
    sections: list[_SectionPlace]
    questions: list[_QuestionPlace]


def _outline_model(definition: ProtocolDefinition) -> _Outline:
    sections, questions = [], []
    for s_index, section in enumerate(definition.sections):
        s_loc = f"sections[{s_index}]"
        sections.append(_SectionPlace(s_loc, section.key, len(section.questions)))
        for q_index, q in enumerate(section.questions):
            loc = f"{s_loc}.questions[{q_index}]"
            questions.append(_QuestionPlace(loc, len(questions), section.level, q.key, q, q.type))
    return _Outline(len(definition.sections), sections, questions)


def _outline_raw(data: Any) -> _Outline:
    outline = _Outline(None, [], [])
    raw_sections = data.get("sections") if isinstance(data, dict) else None
    if not isinstance(raw_sections, list):
        return outline
    outline.section_count = len(raw_sections)
    for s_index, raw in enumerate(raw_sections):
        if not isinstance(raw, dict):
            continue
        s_loc = f"sections[{s_index}]"
        key = raw.get("key") if isinstance(raw.get("key"), str) else None
        level = raw.get("level") if raw.get("level") in LEVEL_WORDS else None
        raw_questions = raw.get("questions")
        count = len(raw_questions) if isinstance(raw_questions, list) else None
        outline.sections.append(_SectionPlace(s_loc, key, count))
        for q_index, raw_q in enumerate(raw_questions if isinstance(raw_questions, list) else []):
            if not isinstance(raw_q, dict):
                continue
            try:
                q: Question | None = Question.model_validate(raw_q)
            except ValidationError:
                q = None
            q_key = raw_q.get("key") if isinstance(raw_q.get("key"), str) else None
            q_type = raw_q.get("type") if isinstance(raw_q.get("type"), str) else None
            loc = f"{s_loc}.questions[{q_index}]"
            outline.questions.append(
                _QuestionPlace(loc, len(outline.questions), level, q_key, q, q_type)  # type: ignore[arg-type]
            )
    return outline


def _check_rules(outline: _Outline) -> list[FieldError]:
    errors: list[FieldError] = []
    if outline.section_count == 0:
        errors.append(FieldError("sections", gettext("A protocol needs at least one section.")))

    section_seen: dict[str, str] = {}
    for section in outline.sections:
        if section.key is not None:
            if section.key in section_seen:
                errors.append(
                    FieldError(
                        f"{section.loc}.key",
                        gettext(
                            "Section key '%(key)s' is used twice (also at %(loc)s).",
                            key=section.key,
                            loc=section_seen[section.key],
                        ),
                    )
                )
            else:
                section_seen[section.key] = section.loc
        if section.question_count == 0:
            errors.append(
                FieldError(
                    f"{section.loc}.questions",
                    gettext("This section has no questions: add one or remove the section."),
                )
            )

    places: dict[str, _QuestionPlace] = {}
    for place in outline.questions:
        if place.key is None:
            continue
        if place.key in places:
            errors.append(
                FieldError(
                    f"{place.loc}.key",
                    gettext(
                        "Question key '%(key)s' is used twice (also at %(loc)s).",
                        key=place.key,
                        loc=places[place.key].loc,
                    ),
                )
            )
        else:
            places[place.key] = place

    timelines = [p for p in outline.questions if p.raw_type == "speaker_timeline"]
    for extra in timelines[1:]:
        errors.append(
            FieldError(
                f"{extra.loc}.type",
                gettext(
                    "A protocol has only one speaker timeline (the first is at %(loc)s).",
                    loc=timelines[0].loc,
                ),
            )
        )
    # None: there is a timeline but it did not parse, so its roles are unknown.
    role_keys: set[str] | None = set()
    if timelines:
        first = timelines[0].question
        role_keys = {r.key for r in first.roles} if first is not None else None

    for place in outline.questions:
        if place.question is not None:
            errors.extend(_check_question(place, places, role_keys))
    return errors


def _check_question(
    place: _QuestionPlace, places: dict[str, _QuestionPlace], role_keys: set[str] | None
) -> list[FieldError]:
    q = place.question
    assert q is not None
    loc = place.loc
    errors: list[FieldError] = []

    if q.type in CHOICE_TYPES and not q.choices:
        errors.append(
            FieldError(f"{loc}.choices", gettext("Give this question at least one choice."))
        )
    elif q.choices and q.type not in CHOICE_TYPES | {"roles_present"}:
        errors.append(
            FieldError(
                f"{loc}.choices", gettext("A %(type)s question takes no choices.", type=q.type)
            )
        )
    seen_values: set[str] = set()
    for i, choice in enumerate(q.choices):
        if choice.value in seen_values:
            errors.append(
                FieldError(
                    f"{loc}.choices[{i}].value",
                    gettext("Choice value '%(value)s' is used twice.", value=choice.value),
                )
            )
        seen_values.add(choice.value)
    if q.type == "roles_present" and not q.choices and role_keys is not None and not role_keys:
        errors.append(
            FieldError(
                f"{loc}.choices",
                gettext(
                    "A roles-present question needs its own choices or a speaker timeline whose roles it lists."
                ),
            )
        )

    if q.type == "speaker_timeline":
        if not q.roles:
            errors.append(
                FieldError(f"{loc}.roles", gettext("A speaker timeline needs at least one role."))
            )
        if place.level == "session":
            errors.append(
                FieldError(
                    f"{loc}.type",
                    gettext("The speaker timeline must be in a once-per-hearing section."),
                )
            )
    elif q.roles:
        errors.append(
            FieldError(f"{loc}.roles", gettext("Only a speaker timeline question takes roles."))
        )
    seen_roles: set[str] = set()
    for i, role in enumerate(q.roles):
        if role.key in seen_roles:
            errors.append(
                FieldError(
                    f"{loc}.roles[{i}].key",
                    gettext("Role key '%(key)s' is used twice.", key=role.key),
                )
            )
        seen_roles.add(role.key)

    if q.type not in NUMERIC_TYPES:
        for bound in ("min", "max"):
            if getattr(q, bound) is not None:
                errors.append(
                    FieldError(
                        f"{loc}.{bound}",
                        gettext("Only number and count questions take %(bound)s.", bound=bound),
                    )
                )
    elif q.min is not None and q.max is not None and q.min > q.max:
        errors.append(
            FieldError(
                f"{loc}.min",
                gettext(
                    "min (%(min)s) is larger than max (%(max)s).", min=_num(q.min), max=_num(q.max)
                ),
            )
        )
    if q.max_length is not None and q.type not in TEXT_TYPES:
        errors.append(
            FieldError(f"{loc}.max_length", gettext("Only text questions take max_length."))
        )

    seen_tags: set[str] = set()
    for i, tag in enumerate(q.tags):
        if tag in seen_tags:
            errors.append(
                FieldError(f"{loc}.tags[{i}]", gettext("Tag '%(tag)s' is listed twice.", tag=tag))
            )
        seen_tags.add(tag)

    if "decision" in q.tags and q.type in CHOICE_TYPES and role_keys is not None:
        allowed = role_keys | set(DECISION_EXTRA_VALUES)
        for i, choice in enumerate(q.choices):
            if choice.value not in allowed:
                errors.append(
                    FieldError(
                        f"{loc}.choices[{i}].value",
                        gettext(
                            "'%(value)s' is not a speaker-timeline role: a question tagged "
                            "decision chooses among the roles (%(roles)s) or 'other' / 'unknown'.",
                            value=choice.value,
                            roles=_listing(sorted(role_keys)),
                        ),
                    )
                )

    if q.show_if is not None:
        errors.extend(_check_show_if(place, places, role_keys))
    return errors


def _check_show_if(
    place: _QuestionPlace, places: dict[str, _QuestionPlace], role_keys: set[str] | None
) -> list[FieldError]:
    q = place.question
    assert q is not None and q.show_if is not None
    cond = q.show_if
    loc = f"{place.loc}.show_if"
    errors: list[FieldError] = []

    if cond.equals is None and cond.any_of is None:
        errors.append(
            FieldError(loc, gettext("Say which answer shows this question: give equals or any_of."))
        )
    elif cond.equals is not None and cond.any_of is not None:
        errors.append(FieldError(loc, gettext("Give either equals or any_of, not both.")))
    elif cond.any_of is not None and not cond.any_of:
        errors.append(FieldError(f"{loc}.any_of", gettext("List at least one answer.")))

    target = places.get(cond.question)
    if cond.question == q.key:
        errors.append(FieldError(f"{loc}.question", gettext("A question cannot depend on itself.")))
        return errors
    if target is None:
        errors.append(
            FieldError(
                f"{loc}.question",
                gettext(
                    "There is no question '%(question)s' in this protocol.", question=cond.question
                ),
            )
        )
        return errors
    if target.order > place.order:
        errors.append(
            FieldError(
                f"{loc}.question",
                gettext(
                    "'%(question)s' comes after this question: a question can only depend on an "
                    "earlier one.",
                    question=cond.question,
                ),
            )
        )
    if place.level == "session" and target.level == "hearing":
        errors.append(
            FieldError(
                f"{loc}.question",
                gettext(
                    "A once-per-sitting question cannot depend on '%(question)s', which is asked once per hearing.",
                    question=cond.question,
                ),
            )
        )
    if target.question is not None:
        errors.extend(_check_show_if_values(loc, cond, target.question, role_keys))
    return errors


def _check_show_if_values(
    loc: str, cond: ShowIf, target: Question, role_keys: set[str] | None
) -> list[FieldError]:
    name = f"'{target.key}'"
    if target.type == "speaker_timeline":
        return [
            FieldError(
                f"{loc}.question",
                gettext(
                    "A question cannot depend on the speaker timeline (turns are not answers)."
                ),
            )
        ]
    allowed: list[str] | None = None
    if target.type in CHOICE_TYPES or (target.type == "roles_present" and target.choices):
        allowed = [c.value for c in target.choices]
    elif target.type == "roles_present":
        if role_keys is None:
            return []
        allowed = sorted(role_keys)
    elif target.type == "yes_no":
        allowed = list(YES_NO_VALUES)
    if allowed == []:  # the target's own missing choices are reported already
        return []

    def problem(value: Any) -> str | None:
        if allowed is not None:
            if value not in allowed or not isinstance(value, str):
                return gettext(
                    "%(value)s is not an answer to %(name)s: use one of %(allowed)s.",
                    value=repr(value),
                    name=name,
                    allowed=_listing(allowed),
                )
        elif target.type in NUMERIC_TYPES:
            if _answer_problem(target, value, allowed_values=None) is not None:
                return gettext(
                    "%(value)s is not an answer to %(name)s, a %(type)s question.",
                    value=repr(value),
                    name=name,
                    type=target.type,
                )
        elif target.type == "time":
            if not isinstance(value, str) or not TIME_RE.match(value):
                return gettext(
                    "%(value)s is not a time: write it as HH:MM (24-hour).", value=repr(value)
                )
        elif not isinstance(value, str):
            return gettext(
                "%(value)s is not an answer to %(name)s, a text question: use text.",
                value=repr(value),
                name=name,
            )
        return None

    errors = []
    if cond.equals is not None and (msg := problem(cond.equals)):
        errors.append(FieldError(f"{loc}.equals", msg))
    if cond.any_of:
        if target.type in NUMERIC_TYPES:
            errors.append(
                FieldError(
                    f"{loc}.any_of",
                    gettext("%(name)s takes a number: use equals, not any_of.", name=name),
                )
            )
        else:
            for i, value in enumerate(cond.any_of):
                if msg := problem(value):
                    errors.append(FieldError(f"{loc}.any_of[{i}]", msg))
    return errors


# --- answers -------------------------------------------------------------------------------


def validate_answers(
    definition: ProtocolDefinition,
    answers: dict[str, Any],
    *,
    level: Level,
    strict: bool,
    context: dict[str, Any] | None = None,
) -> list[FieldError]:
    """Problems with one set of answers (a session's or a hearing's), each at `answers.<key>`.

    `strict` (on submit) also reports required questions left unanswered and answers to
    questions that are hidden; a lenient draft keeps both. `context` holds the session's
    answers when hearing questions depend on session questions.
    """
    if not isinstance(answers, dict):
        return [FieldError("answers", gettext("Answers must be an object keyed by question key."))]
    errors: list[FieldError] = []
    index = definition._index  # read once: private attributes are slow to reach on a model
    for key, value in answers.items():
        loc = f"answers.{key}"
        question, question_level = None, None
        if key in index:
            question_level, question = index[key]
        if question is None:
            errors.append(
                FieldError(
                    loc, gettext("There is no question '%(key)s' in this protocol.", key=key)
                )
            )
            continue
        if question_level != level:
            errors.append(
                FieldError(
                    loc,
                    gettext(
                        "'%(key)s' is asked %(level)s, not here.",
                        key=key,
                        level=gettext(LEVEL_WORDS[question_level or "session"]),
                    ),
                )
            )
            continue
        if is_unanswered(value):
            continue
        if question.type == "speaker_timeline":
            errors.append(
                FieldError(
                    loc, gettext("The speaker timeline is recorded as turns, not as an answer.")
                )
            )
            continue
        allowed = definition.allowed_values(question)
        problem = _answer_problem(question, value, allowed_values=allowed)
        if problem:
            errors.append(FieldError(loc, problem))
        elif strict and not definition.is_visible(question, answers, context):
            errors.append(
                FieldError(
                    loc,
                    gettext(
                        "This question is hidden by an earlier answer: clear this answer or change that one."
                    ),
                )
            )
    if strict:
        for question in definition.questions(level):
            if (
                question.required
                and question.type != "speaker_timeline"
                and is_unanswered(answers.get(question.key))
                and definition.is_visible(question, answers, context)
            ):
                errors.append(
                    FieldError(f"answers.{question.key}", gettext("This question is required."))
                )
    return errors


def is_unanswered(value: Any) -> bool:
    """None, a missing key or blank text. An empty list is an answer ("none of these")."""
    return value is None or (isinstance(value, str) and not value.strip())


def _lookup(key: str, answers: dict[str, Any], context: dict[str, Any] | None) -> Any:
    value = answers.get(key)
    if is_unanswered(value) and context:
        value = context.get(key)
    return value


def _condition_met(cond: ShowIf, value: Any) -> bool:
    if is_unanswered(value):
        return False
    if cond.any_of is not None:
        pool = value if isinstance(value, list) else [value]
        return any(isinstance(v, str) and v in cond.any_of for v in pool)
    if cond.equals is None:
        return False
    if isinstance(value, list):
        return any(_same(v, cond.equals) for v in value)
    return _same(value, cond.equals)


def _same(a: Any, b: Any) -> bool:
    # True == 1 in Python; an answer "yes" must never match a number or a flag.
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _answer_problem(
    question: Question, value: Any, *, allowed_values: list[str] | None
) -> str | None:
    """Why `value` is not a valid answer to `question`, or None if it is."""
    qtype = question.type
    allowed = allowed_values or []
    if qtype in ("single_choice", "yes_no"):
        if not isinstance(value, str) or value not in allowed:
            return gettext(
                "Expected one of %(allowed)s; got %(value)s.",
                allowed=_listing(allowed),
                value=repr(value),
            )
        return None
    if qtype in ("multi_choice", "roles_present"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return gettext("Expected a list of values from %(allowed)s.", allowed=_listing(allowed))
        unknown = [v for v in value if v not in allowed]
        if unknown:
            return gettext(
                "Not a choice here: %(unknown)s; expected values from %(allowed)s.",
                unknown=_listing(unknown),
                allowed=_listing(allowed),
            )
        repeated = sorted({v for v in value if value.count(v) > 1})
        if repeated:
            return gettext("Listed more than once: %(repeated)s.", repeated=_listing(repeated))
        return None
    if qtype in NUMERIC_TYPES:
        if qtype == "count":
            if not _is_int(value) or value < 0:
                return gettext(
                    "Expected a whole number, 0 or more; got %(value)s.", value=repr(value)
                )
        elif not (_is_int(value) or isinstance(value, float)) or (
            isinstance(value, float) and not math.isfinite(value)
        ):
            return gettext("Expected a number; got %(value)s.", value=repr(value))
        if abs(value) > MAX_EXACT_NUMBER:  # stored as a double: beyond this it is not kept exactly
            return gettext(
                "Too large: at most %(limit)s either side of 0.",
                limit=format(MAX_EXACT_NUMBER, ","),
            )
        if question.min is not None and value < question.min:
            return gettext("Must be at least %(min)s.", min=_num(question.min))
        if question.max is not None and value > question.max:
            return gettext("Must be at most %(max)s.", max=_num(question.max))
        return None
    if qtype in TEXT_TYPES:
        if not isinstance(value, str):
            return gettext("Expected text.")
        limit = question.text_limit or 0
        if len(value) > limit:
            return gettext(
                "Too long: at most %(limit)s characters (this is %(length)s).",
                limit=limit,
                length=len(value),
            )
        return None
    if qtype == "time":
        if not isinstance(value, str) or not TIME_RE.match(value):
            return gettext(
                "Expected a time as HH:MM (24-hour), e.g. 09:30; got %(value)s.", value=repr(value)
            )
        return None
    return gettext("The speaker timeline is recorded as turns, not as an answer.")


# --- turns ---------------------------------------------------------------------------------


def validate_turns(definition: ProtocolDefinition, turns: list[dict[str, Any]]) -> list[FieldError]:
    """Problems with a hearing's speaker turns, each at `turns[i].<field>`.

    A turn is {"role", "start_ms", "end_ms"} (other keys, such as a sequence number, are
    ignored). Offsets count from the hearing's start; turns come in time order and do not
    overlap; only the last turn may still be open (end_ms None).
    """
    if not isinstance(turns, list):
        return [FieldError("turns", gettext("Turns must be a list."))]
    role_list = [r.key for r in definition.timeline_roles()]
    role_keys = set(role_list)
    errors: list[FieldError] = []
    previous: tuple[int, int | None] | None = None  # (start, end) of the last well-formed turn
    for i, turn in enumerate(turns):
        loc = f"turns[{i}]"
        if not isinstance(turn, dict):
            errors.append(
                FieldError(loc, gettext("Each turn is an object with role, start_ms and end_ms."))
            )
            previous = None
            continue
        role = turn.get("role")
        if not isinstance(role, str):
            errors.append(FieldError(f"{loc}.role", gettext("Expected a role key.")))
        elif role not in role_keys:
            errors.append(
                FieldError(
                    f"{loc}.role",
                    f"'{role}' is not a role of this protocol's speaker timeline ({_listing(role_list)}).",
                )
            )
        start, end = turn.get("start_ms"), turn.get("end_ms")
        start_ok = _is_int(start) and start >= 0
        if not _is_int(start):
            errors.append(
                FieldError(f"{loc}.start_ms", gettext("Expected a whole number of milliseconds."))
            )
        elif start < 0:
            errors.append(
                FieldError(
                    f"{loc}.start_ms",
                    gettext("Cannot be negative: offsets count from the hearing's start."),
                )
            )
        end_ok = end is None or _is_int(end)
        if not end_ok:
            errors.append(
                FieldError(f"{loc}.end_ms", "Expected a whole number of milliseconds, or null.")
            )
        elif end is None and i < len(turns) - 1:
            errors.append(
                FieldError(f"{loc}.end_ms", "Only the last turn may be left open (no end_ms).")
            )
        elif end is not None and start_ok and end < start:
            errors.append(
                FieldError(f"{loc}.end_ms", f"Ends ({end} ms) before it starts ({start} ms).")
            )
        if start_ok and previous is not None:
            prev_start, prev_end = previous
            if start < prev_start:
                errors.append(
                    FieldError(
                        f"{loc}.start_ms",
                        "Starts before the previous turn: turns must be in time order.",
                    )
                )
            elif prev_end is not None and start < prev_end:
                errors.append(
                    FieldError(
                        f"{loc}.start_ms",
                        f"Overlaps the previous turn, which ends at {prev_end} ms.",
                    )
                )
        previous = (start, end if end_ok else None) if start_ok else None
    return errors


# --- differences ---------------------------------------------------------------------------

_SIMPLE_ATTRIBUTES = ("label", "help", "required", "show_if", "min", "max", "max_length")


def diff_definitions(old: ProtocolDefinition, new: ProtocolDefinition) -> DefinitionDiff:
    """Questions added, removed and changed (matched by key) from `old` to `new`."""
    old_places = _places(old)
    new_places = _places(new)
    result = DefinitionDiff()
    for key, (new_section, new_q) in new_places.items():
        if key not in old_places:
            result.added.append(new_q)
            continue
        old_section, old_q = old_places[key]
        changes = _question_changes(old_q, new_q)
        if old_section.key != new_section.key:
            changes.append(f"section: '{old_section.key}' → '{new_section.key}'")
        if old_section.level != new_section.level:
            changes.append(f"level: {old_section.level} → {new_section.level}")
        if changes:
            result.changed.append((old_q, new_q, changes))
    result.removed = [q for key, (_, q) in old_places.items() if key not in new_places]
    return result


def _places(definition: ProtocolDefinition) -> dict[str, tuple[Section, Question]]:
    places: dict[str, tuple[Section, Question]] = {}
    for section in definition.sections:
        for question in section.questions:
            places.setdefault(question.key, (section, question))
    return places


def _question_changes(old: Question, new: Question) -> list[str]:
    changes = []
    if old.type != new.type:
        changes.append(f"type: {old.type} → {new.type}")
    changes += [name for name in _SIMPLE_ATTRIBUTES if getattr(old, name) != getattr(new, name)]
    changes += _list_changes("tags", list(old.tags), list(new.tags), {}, {})
    changes += _list_changes(
        "choices",
        [c.value for c in old.choices],
        [c.value for c in new.choices],
        {c.value: c for c in old.choices},
        {c.value: c for c in new.choices},
    )
    changes += _list_changes(
        "roles",
        [r.key for r in old.roles],
        [r.key for r in new.roles],
        {r.key: r for r in old.roles},
        {r.key: r for r in new.roles},
    )
    return changes


def _list_changes(
    name: str, old: list[str], new: list[str], old_items: dict[str, Any], new_items: dict[str, Any]
) -> list[str]:
    changes = [f"{name}: added '{v}'" for v in new if v not in old]
    changes += [f"{name}: removed '{v}'" for v in old if v not in new]
    for v in new:
        before, after = old_items.get(v), new_items.get(v)
        if before is None or after is None:
            continue
        if before.label != after.label:
            changes.append(f"{name}: relabelled '{v}'")
        if getattr(before, "absent", None) != getattr(after, "absent", None):
            changes.append(f"{name}: '{v}' {'now' if after.absent else 'no longer'} marks absence")
        if getattr(before, "colour", None) != getattr(after, "colour", None):
            changes.append(f"{name}: recoloured '{v}'")
    kept_old = [v for v in old if v in new]
    kept_new = [v for v in new if v in old]
    if kept_old != kept_new:
        changes.append(f"{name}: reordered")
    return changes


# --- small helpers -------------------------------------------------------------------------


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _listing(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values) if values else "(none)"
