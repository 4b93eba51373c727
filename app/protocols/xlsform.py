"""Protocols as XLSForm workbooks (the form format of ODK, KoboToolbox, Enketo, SurveyCTO).

`to_xlsform` writes a protocol version as a workbook with survey, choices and settings sheets
that pyxform converts to an XForm. `from_xlsform` reads a workbook back into a definition,
mapping what Courtwatch can hold and listing, with sheet and row number, every row it cannot
(repeats, calculations, choice filters, expressions other than a comparison with an earlier
answer...), so that nothing half-understood is stored.

How Courtwatch's ideas travel in XLSForm:
- a section is a `begin group` / `end group`; its level (once per sitting or per hearing) is in
  the `courtwatch_level` column (hearing when absent);
- question types: single/multi choice are `select_one` / `select_multiple` of a list named
  after the question; number is `decimal`, count `integer`, short text `text`, long text `text`
  with the `multiline` appearance, time `time`. Types XLSForm lacks (yes/no with "not
  observed", roles present, the speaker timeline) are written as the nearest XLSForm type with
  their own name in `courtwatch_type`; timeline roles are a choice list (`courtwatch_roles`)
  with their colours in `courtwatch_colour`;
- `show_if` is `relevant` (`${q} = 'v'`, several joined by `or`, `selected(${q}, 'v')` for a
  multiple choice); min/max are a `constraint` (`. >= 0 and . <= 365`), a text limit
  `string-length(.) <= 200`; tags are `courtwatch_tags`; a choice marking absence has
  `courtwatch_absent` = yes;
- labels in several languages follow XLSForm's `label::Español (es)` convention, for labels,
  hints, choices and the form title; the protocol's own language is `default_language`.
- an imported `note` row becomes part of its section's help text.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from app.i18n import N_, gettext
from app.protocols.definition import (
    BASE_LANGUAGE,
    SLUG_PATTERN,
    YES_NO_VALUES,
    DefinitionInvalid,
    FieldError,
    ProtocolDefinition,
    Question,
    ShowIf,
    parse_definition,
)

LANGUAGE_NAMES = {
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "pt": "Português",
    "so": "Soomaali",
    "vi": "Tiếng Việt",
    "zh": "中文",
    "hmn": "Hmoob",
}
NAME_LANGUAGES = {
    "english": "en",
    "spanish": "es",
    "español": "es",
    "espanol": "es",
    "french": "fr",
    "français": "fr",
    "portuguese": "pt",
    "português": "pt",
}

SURVEY_TYPES = {
    "single_choice": "select_one",
    "multi_choice": "select_multiple",
    "yes_no": "select_one",
    "roles_present": "select_multiple",
    "number": "decimal",
    "count": "integer",
    "short_text": "text",
    "long_text": "text",
    "time": "time",
    "speaker_timeline": "note",
}
YES_NO_LIST = "courtwatch_yes_no"
YES_NO_XLS_LABELS = {
    "en": {"yes": "Yes", "no": "No", "not_observed": "Not observed"},
    "es": {"yes": "Sí", "no": "No", "not_observed": "No observado"},
}
# Rows that describe the device or the submission, not a question: skipped, with a note.
METADATA_TYPES = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "phonenumber",
        "simserial",
        "subscriberid",
        "username",
        "email",
        "audit",
        "start-geopoint",
    }
)
REFUSED_TYPES = {
    "begin repeat": N_(
        "Repeats cannot be held: Courtwatch repeats hearings itself; make the "
        "questions of one hearing a group instead."
    ),
    "end repeat": N_("Repeats cannot be held (see the begin repeat row)."),
    "calculate": N_("Calculations cannot be held: Courtwatch stores what the observer recorded."),
    "hidden": N_("Hidden fields cannot be held."),
    "date": N_("Dates cannot be held: the sitting's date is known from the assignment."),
    "datetime": N_("Date-times cannot be held: use a time question."),
    "geopoint": N_("Locations cannot be held."),
    "geotrace": N_("Locations cannot be held."),
    "geoshape": N_("Locations cannot be held."),
    "image": N_("Photos cannot be held (and must not be taken in court)."),
    "audio": N_("Recordings cannot be held (and must not be made in court)."),
    "background-audio": N_("Recordings cannot be held (and must not be made in court)."),
    "video": N_("Recordings cannot be held (and must not be made in court)."),
    "file": N_("Files cannot be held."),
    "barcode": N_("Barcodes cannot be held."),
    "acknowledge": N_("Acknowledgements cannot be held: use a yes/no question."),
    "range": N_("Ranges cannot be held: use an integer or decimal question."),
    "rank": N_("Rankings cannot be held."),
    "trigger": N_("Triggers cannot be held."),
    "xml-external": N_("External data cannot be held."),
    "csv-external": N_("External data cannot be held."),
    "select_one_from_file": N_(
        "Choice lists from a file cannot be held: put the choices in the choices sheet."
    ),
    "select_multiple_from_file": N_(
        "Choice lists from a file cannot be held: put the choices in the choices sheet."
    ),
}
# Columns whose content Courtwatch cannot hold when a row fills them in.
REFUSED_COLUMNS = {
    "choice_filter": N_("Choice filters cannot be held."),
    "calculation": N_("Calculations cannot be held."),
    "repeat_count": N_("Repeats cannot be held."),
    "default": N_("Default answers cannot be held: the observer records every answer."),
    "read_only": N_("Read-only questions cannot be held."),
    "trigger": N_("Triggers cannot be held."),
    "choice_filter::": N_("Choice filters cannot be held."),
}
SKIPPED_COLUMNS = frozenset({"constraint_message", "required_message", "media::image"})

_NAME = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
_ATOM = re.compile(
    r"""^\(?\s*(?:
        \$\{(?P<q>[A-Za-z_][A-Za-z0-9_.-]*)\}\s*=\s*
            (?:'(?P<s1>[^']*)'|"(?P<s2>[^"]*)"|(?P<n>-?\d+(?:\.\d+)?)|(?P<b>true|false)\(\))
      | selected\(\s*\$\{(?P<sq>[A-Za-z_][A-Za-z0-9_.-]*)\}\s*,\s*
            (?:'(?P<sv1>[^']*)'|"(?P<sv2>[^"]*)")\s*\)
    )\s*\)?$""",
    re.VERBOSE,
)
_BOUND = re.compile(r"^\(?\s*\.\s*(?P<op>>=|<=)\s*(?P<n>-?\d+(?:\.\d+)?)\s*\)?$")
_LENGTH = re.compile(r"^\(?\s*string-length\(\s*\.\s*\)\s*<=\s*(?P<n>\d+)\s*\)?$")
_LANG_HEADER = re.compile(r"^(?P<base>[a-z_:]+?)::(?P<lang>.+)$")


class XLSFormRejected(Exception):
    """A workbook Courtwatch cannot hold: every problem with its sheet and row."""

    def __init__(self, problems: list[FieldError]) -> None:
        super().__init__("; ".join(f"{p.loc}: {p.msg}" for p in problems))
        self.problems = problems


@dataclass
class XLSFormImport:
    """What a workbook gave: the name, description and definition, and what was skipped."""

    name: str
    description: str
    definition: dict[str, Any]
    notes: list[str] = field(default_factory=list)


# --- writing --------------------------------------------------------------------------------


def language_header(code: str) -> str:
    return f"{LANGUAGE_NAMES.get(code.split('-')[0], code)} ({code})"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true()" if value else "false()"
    if isinstance(value, int | float):
        return _number(value)
    return "'" + str(value) + "'"


def relevant_expression(show_if: ShowIf, target: Question | None) -> str:
    """A show_if condition as an XLSForm relevant expression."""
    ref = "${" + show_if.question + "}"
    many = target is not None and target.type in ("multi_choice", "roles_present")
    values = list(show_if.any_of) if show_if.any_of is not None else [show_if.equals]
    atoms = [
        f"selected({ref}, {_literal(v)})"
        if many and isinstance(v, str)
        else f"{ref} = {_literal(v)}"
        for v in values
    ]
    return " or ".join(atoms)


def _constraint(question: Question) -> str:
    parts = []
    if question.min is not None:
        parts.append(f". >= {_number(question.min)}")
    if question.max is not None:
        parts.append(f". <= {_number(question.max)}")
    if question.max_length is not None:
        parts.append(f"string-length(.) <= {question.max_length}")
    return " and ".join(parts)


def to_xlsform(definition: ProtocolDefinition, *, form_id: str, version: str) -> bytes:
    """The protocol as an XLSForm workbook (bytes of an .xlsx file)."""
    languages = definition.languages()
    base = definition.language

    def texts(part: Any, attr: str) -> list[str]:
        out = []
        for code in languages:
            if code == base:
                out.append(getattr(part, attr) or "")
            else:
                other = part.translations.get(code)
                out.append((getattr(other, attr, None) or "") if other is not None else "")
        return out

    label_cols = [f"label::{language_header(c)}" for c in languages]
    hint_cols = [f"hint::{language_header(c)}" for c in languages]
    survey_head = [
        "type",
        "name",
        *label_cols,
        *hint_cols,
        "required",
        "relevant",
        "constraint",
        "appearance",
        "courtwatch_type",
        "courtwatch_level",
        "courtwatch_tags",
        "courtwatch_roles",
    ]
    choice_head = ["list_name", "name", *label_cols, "courtwatch_absent", "courtwatch_colour"]
    survey: list[list[Any]] = []
    choices: list[list[Any]] = []
    yes_no_used = False

    def row(**values: Any) -> list[Any]:
        labels, hints = values.pop("labels", []), values.pop("hints", [])
        line = {
            **dict(zip(label_cols, labels, strict=False)),
            **dict(zip(hint_cols, hints, strict=False)),
        }
        line.update(values)
        return [line.get(col, "") for col in survey_head]

    for section in definition.sections:
        survey.append(
            row(
                type="begin group",
                name=section.key,
                labels=texts(section, "title"),
                hints=texts(section, "help"),
                courtwatch_level=section.level,
            )
        )
        for q in section.questions:
            kind = SURVEY_TYPES[q.type]
            list_name = roles_list = ""
            if q.type == "yes_no":
                list_name, yes_no_used = YES_NO_LIST, True
            elif q.type in ("single_choice", "multi_choice", "roles_present"):
                list_name = q.key
                # roles_present without choices of its own offers the timeline's roles.
                offered = q.choices or (q.roles or definition.timeline_roles())
                for choice in offered if q.type == "roles_present" else q.choices:
                    value = getattr(choice, "value", None) or getattr(choice, "key", "")
                    choices.append(
                        [
                            list_name,
                            value,
                            *texts(choice, "label"),
                            "yes" if getattr(choice, "absent", False) else "",
                            "",
                        ]
                    )
            elif q.type == "speaker_timeline":
                roles_list = f"{q.key}_roles"
                for role in q.roles:
                    choices.append([roles_list, role.key, *texts(role, "label"), "", role.colour])
            target = definition.question(q.show_if.question) if q.show_if else None
            survey.append(
                row(
                    type=f"{kind} {list_name}" if list_name else kind,
                    name=q.key,
                    labels=texts(q, "label"),
                    hints=texts(q, "help"),
                    required="yes" if q.required else "",
                    relevant=relevant_expression(q.show_if, target) if q.show_if else "",
                    constraint=_constraint(q),
                    appearance="multiline" if q.type == "long_text" else "",
                    courtwatch_type=q.type,
                    courtwatch_tags=" ".join(q.tags),
                    courtwatch_roles=roles_list,
                )
            )
        survey.append(row(type="end group"))
    if yes_no_used:
        for value in YES_NO_VALUES:
            labels = [YES_NO_XLS_LABELS.get(c, YES_NO_XLS_LABELS["en"])[value] for c in languages]
            choices.append([YES_NO_LIST, value, *labels, "yes" if value == "no" else "", ""])

    # pyxform reads every "::" column of the settings sheet as a translated title, so the
    # title and description in other languages go in courtwatch_title_<code> columns.
    title_cols = ["form_title"] + [f"courtwatch_title_{c}" for c in languages if c != base]
    description_cols = ["courtwatch_description"] + [
        f"courtwatch_description_{c}" for c in languages if c != base
    ]
    others = [c for c in languages if c != base]
    settings_head = [*title_cols, "form_id", "version", "default_language", *description_cols]
    settings_row = [
        definition.title,
        *[
            (definition.translations[c].title or "") if c in definition.translations else ""
            for c in others
        ],
        form_id,
        version,
        language_header(base),
        definition.description,
        *[
            (definition.translations[c].description or "") if c in definition.translations else ""
            for c in others
        ],
    ]
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "survey"
    for line in [survey_head, *survey]:
        _append(sheet, line)
    choice_sheet = book.create_sheet("choices")
    for line in [choice_head, *choices]:
        _append(choice_sheet, line)
    settings_sheet = book.create_sheet("settings")
    _append(settings_sheet, settings_head)
    _append(settings_sheet, settings_row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _append(sheet: Any, values: list[Any]) -> None:
    """One row; text is always written as text: a label beginning with "=" is not a formula."""
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and cell.data_type == "f":
            cell.data_type = "s"


# --- reading --------------------------------------------------------------------------------


@dataclass
class _Sheet:
    name: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (row number in the sheet, column -> text)


def _read_sheet(book: Any, name: str) -> _Sheet | None:
    found = next((ws for ws in book.worksheets if ws.title.strip().lower() == name), None)
    if found is None:
        return None
    lines = found.iter_rows(values_only=True)
    header: list[str] = []
    rows: list[tuple[int, dict[str, str]]] = []
    for number, values in enumerate(lines, start=1):
        cells = ["" if v is None else str(v).strip() for v in values]
        if not header:
            if any(cells):
                header = [c.strip() for c in cells]
            continue
        if not any(cells):
            continue
        rows.append((number, {h: c for h, c in zip(header, cells, strict=False) if h and c}))
    return _Sheet(found.title, header, rows)


def _language_of(header: str) -> str:
    """'English (en)' → en; 'Spanish' → es; anything else → its own lowercase name."""
    match = re.search(r"\(([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})?)\)\s*$", header)
    if match:
        code = match.group(1)
        head, _, tail = code.partition("-")
        return head.lower() + ("-" + tail if tail else "")
    return NAME_LANGUAGES.get(header.strip().lower(), header.strip().lower())


def _columns(header: list[str], base: str) -> dict[str, str]:
    """Language code per column of one kind (`label`, `hint`, `form_title`…): header → code;
    the plain column (no ::language) is the default language's."""
    return {h: _language_of(h.split("::", 1)[1]) if "::" in h else "" for h in header if h}


def _texts(row: dict[str, str], kind: str, header: list[str]) -> dict[str, str]:
    """The row's texts of one kind by language code ('' for the plain column)."""
    out: dict[str, str] = {}
    for h in header:
        if h == kind:
            if row.get(h):
                out[""] = row[h]
        elif h.startswith(kind + "::") and row.get(h):
            out[_language_of(h.split("::", 1)[1])] = row[h]
    return out


def _key(name: str) -> str:
    key = re.sub(r"[^a-z0-9_]", "_", name.strip().lower())
    if key and not key[0].isalpha():
        key = "c_" + key
    return key


def from_xlsform(raw: bytes) -> XLSFormImport:
    """A workbook → a protocol definition, or XLSFormRejected listing every row it cannot
    hold (sheet, row number and reason)."""
    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise XLSFormRejected(
            [
                FieldError(
                    "file",
                    gettext(
                        "Not an XLSForm workbook (.xlsx): %(error)s.", error=exc.__class__.__name__
                    ),
                )
            ]
        ) from None
    except Exception:  # zipfile.BadZipFile and friends: not a workbook at all
        raise XLSFormRejected(
            [FieldError("file", gettext("Not an XLSForm workbook (.xlsx)."))]
        ) from None
    try:
        return _from_book(book)
    finally:
        book.close()


def _from_book(book: Any) -> XLSFormImport:
    problems: list[FieldError] = []
    notes: list[str] = []
    survey = _read_sheet(book, "survey")
    if survey is None or not survey.rows:
        raise XLSFormRejected(
            [FieldError("survey", gettext("The workbook has no survey sheet with rows."))]
        )
    choice_sheet = _read_sheet(book, "choices")
    settings_sheet = _read_sheet(book, "settings")
    settings = settings_sheet.rows[0][1] if settings_sheet and settings_sheet.rows else {}

    default_header = settings.get("default_language", "")
    plain_label = "label" in survey.header
    if default_header:
        base = _language_of(default_header)
    elif plain_label:
        base = BASE_LANGUAGE
    else:
        labelled = [h for h in survey.header if h.startswith("label::")]
        base = _language_of(labelled[0].split("::", 1)[1]) if labelled else BASE_LANGUAGE

    def split(texts: dict[str, str]) -> tuple[str, dict[str, str]]:
        """The default language's text, and the others by code."""
        own = texts.get("", texts.get(base, ""))
        others = {c: t for c, t in texts.items() if c not in ("", base)}
        return own, others

    # Choice lists.
    lists: dict[str, list[dict[str, Any]]] = {}
    choice_rows: dict[str, int] = {}
    for number, line in choice_sheet.rows if choice_sheet else []:
        list_name = line.get("list_name") or line.get("list name") or ""
        name = line.get("name", "")
        where = _row("choices", number)
        if not list_name or not name:
            problems.append(FieldError(where, gettext("A choice needs a list_name and a name.")))
            continue
        for column in line:
            if column.startswith("image") or column.startswith("media::"):
                notes.append(gettext("%(place)s: the choice's picture is not kept.", place=where))
        label, others = split(_texts(line, "label", choice_sheet.header if choice_sheet else []))
        choice: dict[str, Any] = {"value": _key(name), "label": label or name}
        if others:
            choice["translations"] = {c: {"label": t} for c, t in others.items()}
        if line.get("courtwatch_absent", "").lower() in ("yes", "true", "1"):
            choice["absent"] = True
        if line.get("courtwatch_colour"):
            choice["colour"] = line["courtwatch_colour"]
        lists.setdefault(list_name, []).append(choice)
        choice_rows.setdefault(list_name, number)

    sections: list[dict[str, Any]] = []
    stack: list[dict[str, Any]] = []
    loose: dict[str, Any] | None = None  # the section for questions outside any group
    names: dict[str, str] = {}  # XLSForm name → Courtwatch key, for relevant expressions
    kinds: dict[str, str] = {}  # key → Courtwatch type
    title = settings.get("form_title") or settings.get("form_id") or gettext("Imported protocol")

    def current_section() -> dict[str, Any]:
        nonlocal loose
        if stack:
            return stack[-1]
        if loose is None:
            loose = {"key": "questions", "title": title, "level": "hearing", "questions": []}
            sections.append(loose)
        return loose

    for number, line in survey.rows:
        where = _row("survey", number)
        raw_type = re.sub(r"\s+", " ", line.get("type", "")).strip()
        lowered = raw_type.lower()
        name = line.get("name", "")
        if not raw_type:
            if name:
                problems.append(FieldError(where, gettext("“%(name)s” has no type.", name=name)))
            continue
        head, _, rest = lowered.partition(" ")
        if lowered in ("begin group", "begin_group"):
            label, others = split(_texts(line, "label", survey.header))
            hint, hint_others = split(_texts(line, "hint", survey.header))
            key = _key(name) or f"group_{number}"
            level = line.get("courtwatch_level", "hearing").lower()
            if level not in ("hearing", "session"):
                problems.append(
                    FieldError(
                        where,
                        gettext(
                            "courtwatch_level “%(level)s”: write hearing or session.", level=level
                        ),
                    )
                )
                level = "hearing"
            section: dict[str, Any] = {
                "key": key,
                "title": label or name or key,
                "level": stack[-1]["level"] if stack and "courtwatch_level" not in line else level,
                "questions": [],
            }
            if hint:
                section["help"] = hint
            translations = _merge({c: {"title": t} for c, t in others.items()}, hint_others, "help")
            if translations:
                section["translations"] = translations
            sections.append(section)
            stack.append(section)
            continue
        if lowered in ("end group", "end_group"):
            if not stack:
                problems.append(FieldError(where, gettext("An end group without a begin group.")))
            else:
                stack.pop()
            continue
        if lowered in REFUSED_TYPES or head in REFUSED_TYPES:
            problems.append(
                FieldError(where, gettext(REFUSED_TYPES.get(lowered, REFUSED_TYPES.get(head, ""))))
            )
            continue
        if lowered in METADATA_TYPES:
            notes.append(
                gettext(
                    "%(place)s: “%(name)s” (%(type)s) is device metadata, not kept.",
                    place=where,
                    name=name or lowered,
                    type=lowered,
                )
            )
            continue
        for column, reason in REFUSED_COLUMNS.items():
            if line.get(column):
                problems.append(FieldError(_column(where, column), gettext(reason)))
        if line.get("constraint_message") or line.get("required_message"):
            notes.append(
                gettext("%(place)s: the constraint or required message is not kept.", place=where)
            )
        label, label_others = split(_texts(line, "label", survey.header))
        hint, hint_others = split(_texts(line, "hint", survey.header))
        if lowered == "note" and line.get("courtwatch_type") != "speaker_timeline":
            section = current_section()
            text = "\n\n".join(t for t in (label, hint) if t)
            section["help"] = "\n\n".join(t for t in (section.get("help", ""), text) if t)
            continue
        key = _key(name)
        if not key:
            problems.append(FieldError(where, gettext("A question needs a name.")))
            continue
        if not re.match(SLUG_PATTERN, key) or len(key) > 64:
            problems.append(
                FieldError(
                    where, gettext("The name “%(name)s” cannot be made a question key.", name=name)
                )
            )
            continue
        if key in kinds:
            problems.append(
                FieldError(where, gettext("The name “%(name)s” is used twice.", name=name))
            )
            continue
        question: dict[str, Any] = {"key": key, "label": label or name}
        if hint:
            question["help"] = hint
        translations = _merge(
            {c: {"label": t} for c, t in label_others.items()}, hint_others, "help"
        )
        if translations:
            question["translations"] = translations
        declared = line.get("courtwatch_type", "")
        kind, problem = _question_type(head, rest, line, declared, lists, question)
        if problem:
            problems.append(FieldError(_column(where, "type"), problem))
            continue
        question["type"] = kind
        required = line.get("required", "").strip().lower()
        if required in ("yes", "true", "true()", "1"):
            question["required"] = True
        elif required not in ("", "no", "false", "false()", "0"):
            problems.append(
                FieldError(
                    _column(where, "required"),
                    gettext(
                        "“%(value)s”: only yes or no can be held, not a condition.",
                        value=line["required"],
                    ),
                )
            )
        if line.get("courtwatch_tags"):
            question["tags"] = line["courtwatch_tags"].split()
        if line.get("constraint"):
            problem = _read_constraint(line["constraint"], kind, question)
            if problem:
                problems.append(FieldError(_column(where, "constraint"), problem))
        if line.get("relevant"):
            show_if, problem = _read_relevant(line["relevant"], names, kinds)
            if problem:
                problems.append(FieldError(_column(where, "relevant"), problem))
            else:
                question["show_if"] = show_if
        names[name] = key
        kinds[key] = kind
        current_section()["questions"].append(question)
    timeline = next(
        (q for s in sections for q in s["questions"] if q["type"] == "speaker_timeline"), None
    )
    if timeline is not None:
        offered = [(r["key"], r["label"]) for r in timeline["roles"]]
        for s in sections:
            for q in s["questions"]:
                if (
                    q["type"] == "roles_present"
                    and [(c["value"], c["label"]) for c in q.get("choices", [])] == offered
                ):
                    del q["choices"]  # the timeline's own roles, as Courtwatch offers them
    if stack:
        problems.append(
            FieldError(
                "survey", gettext("The group “%(key)s” is never ended.", key=stack[-1]["key"])
            )
        )
    for section in sections:
        if not section["questions"]:
            section["questions"] = []
    sections = [s for s in sections if s["questions"]]
    if not sections:
        problems.append(
            FieldError("survey", gettext("The form has no question Courtwatch can hold."))
        )

    name_text = title
    definition: dict[str, Any] = {"title": title, "sections": sections}
    description = settings.get("courtwatch_description", "")
    if description:
        definition["description"] = description
    if base != BASE_LANGUAGE:
        definition["language"] = base
    doc_translations: dict[str, dict[str, str]] = {}
    settings_header = settings_sheet.header if settings_sheet else []
    for column in settings_header:
        match = re.match(r"^courtwatch_(title|description)_([a-z]{2,3}(?:-[A-Za-z0-9]+)?)$", column)
        if match and settings.get(column) and match.group(2) != base:
            doc_translations.setdefault(match.group(2), {})[match.group(1)] = settings[column]
    if doc_translations:
        definition["translations"] = doc_translations
    if problems:
        raise XLSFormRejected(problems)
    try:
        parse_definition(definition)
    except DefinitionInvalid as exc:
        raise XLSFormRejected(
            [FieldError(_place(e.loc, definition), e.msg) for e in exc.errors]
        ) from None
    return XLSFormImport(
        name=name_text, description=description, definition=definition, notes=notes
    )


def _merge(
    translations: dict[str, dict[str, str]], extra: dict[str, str], attr: str
) -> dict[str, dict[str, str]]:
    for code, text in extra.items():
        translations.setdefault(code, {})[attr] = text
    return translations


def _question_type(
    head: str,
    rest: str,
    line: dict[str, str],
    declared: str,
    lists: dict[str, list[dict[str, Any]]],
    question: dict[str, Any],
) -> tuple[str, str | None]:
    """The Courtwatch type of a survey row (choices and roles put on `question`), or why not."""
    if head in ("select_one", "select_multiple"):
        parts = rest.split()
        if not parts:
            return "", gettext("%(type)s needs the name of a choice list.", type=head)
        if len(parts) > 1:
            if parts[1:] == ["or_other"]:
                return "", gettext(
                    "“or_other” cannot be held: add an “other” choice and a text question."
                )
            return "", gettext(
                "“%(type)s %(rest)s”: write %(type)s and one list name.", type=head, rest=rest
            )
        list_name = parts[0]
        found = lists.get(list_name)
        if not found:
            return "", gettext(
                "The choice list “%(list)s” is not in the choices sheet.", list=list_name
            )
        if declared == "yes_no":
            return "yes_no", None
        if declared == "roles_present":
            question["choices"] = [_plain_choice(c) for c in found]
            return "roles_present", None
        question["choices"] = [_plain_choice(c) for c in found]
        return ("single_choice" if head == "select_one" else "multi_choice"), None
    if head == "integer":
        return (declared if declared in ("count", "number") else "count"), None
    if head == "decimal":
        return "number", None
    if head == "text":
        if declared in ("short_text", "long_text"):
            return declared, None
        return ("long_text" if "multiline" in line.get("appearance", "") else "short_text"), None
    if head == "time":
        return "time", None
    if head == "note" and declared == "speaker_timeline":
        roles = lists.get(line.get("courtwatch_roles", ""), [])
        if not roles:
            return "", gettext(
                "A speaker timeline needs its roles (the courtwatch_roles choice list)."
            )
        question["roles"] = [
            {
                "key": r["value"],
                "label": r["label"],
                "colour": r.get("colour", "#7cc4ff"),
                **({"translations": r["translations"]} if r.get("translations") else {}),
            }
            for r in roles
        ]
        return "speaker_timeline", None
    return "", gettext("The type “%(type)s” cannot be held.", type=head)


def _plain_choice(choice: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in choice.items() if k != "colour"}


def _read_constraint(expression: str, kind: str, question: dict[str, Any]) -> str | None:
    parts = [p.strip() for p in re.split(r"\s+and\s+", expression.strip())]
    for part in parts:
        bound = _BOUND.match(part)
        length = _LENGTH.match(part)
        if bound and kind in ("number", "count"):
            value = float(bound.group("n"))
            number: float | int = int(value) if value.is_integer() else value
            question["min" if bound.group("op") == ">=" else "max"] = number
        elif length and kind in ("short_text", "long_text"):
            question["max_length"] = int(length.group("n"))
        else:
            return gettext(
                "“%(expression)s”: only bounds (. >= 0 and . <= 365) or a text limit "
                "(string-length(.) <= 200) can be held.",
                expression=expression,
            )
    return None


def _read_relevant(
    expression: str, names: dict[str, str], kinds: dict[str, str]
) -> tuple[dict[str, Any], str | None]:
    """A relevant expression as show_if: a comparison (or several joined by `or`) with ONE
    earlier answer."""
    atoms = [a.strip() for a in re.split(r"\s+or\s+", expression.strip())]
    question: str | None = None
    values: list[Any] = []
    plain = gettext(
        "“%(expression)s”: only a comparison with an earlier answer can be held "
        "(${question} = 'value', several joined by or, or selected(${question}, 'value')).",
        expression=expression,
    )
    for atom in atoms:
        match = _ATOM.match(atom)
        if not match:
            return {}, plain
        ref = match.group("q") or match.group("sq")
        if ref not in names:
            refs = _NAME.findall(atom)
            where = refs[0] if refs else ref
            return {}, gettext(
                "“%(expression)s”: “%(name)s” is not an earlier question.",
                expression=expression,
                name=where,
            )
        if question is not None and names[ref] != question:
            return {}, plain
        question = names[ref]
        if match.group("sq"):
            values.append(_key(match.group("sv1") or match.group("sv2") or ""))
        elif match.group("b"):
            values.append(match.group("b") == "true")
        elif match.group("n") is not None:
            text = match.group("n")
            number = float(text)
            values.append(int(number) if number.is_integer() and "." not in text else number)
        else:
            text = match.group("s1") if match.group("s1") is not None else match.group("s2")
            choice_kinds = ("single_choice", "multi_choice", "yes_no", "roles_present")
            values.append(_key(text) if kinds.get(question) in choice_kinds else text)
    assert question is not None
    if len(values) == 1:
        return {"question": question, "equals": values[0]}, None
    if not all(isinstance(v, str) for v in values):
        return {}, plain
    return {"question": question, "any_of": values}, None


def _place(loc: str, definition: dict[str, Any]) -> str:
    """A definition error's location told as the question's key, for the workbook's author."""
    match = re.match(r"sections\[(\d+)\](?:\.questions\[(\d+)\])?(.*)", loc)
    if not match:
        return loc or "survey"
    section = definition["sections"][int(match.group(1))]
    if match.group(2) is None:
        return gettext("group %(key)s", key=section["key"]) + match.group(3)
    question = section["questions"][int(match.group(2))]
    return gettext("question %(key)s", key=question["key"]) + match.group(3)


def _row(sheet: str, number: int) -> str:
    """Where a problem is: the sheet (by its XLSForm name) and the row number."""
    return gettext("%(sheet)s row %(row)s", sheet=sheet, row=number)


def _column(where: str, column: str) -> str:
    return gettext("%(place)s, column %(column)s", place=where, column=column)
