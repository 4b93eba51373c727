"""The columns of the tabular exports (CSV and XLSX) and the codebook that describes them.

A set spanning several protocol versions gets the union of their questions, in the order they
first appear; each column says which versions it belongs to. A multi-choice question (and a
"roles present" list) becomes one 0/1 column per choice, named `<key>__<choice>`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from app.exports.service import ExportOptions, SetVersion
from app.i18n import N_, catalog
from app.protocols.definition import BASE_LANGUAGE, TEXT_TYPES, Question

LIST_TYPES = frozenset({"multi_choice", "roles_present"})
SKIPPED_TYPES = frozenset({"speaker_timeline"})  # its turns are turns.csv
CHOICE_SEPARATOR = "__"
FILES = ("hearings", "observations", "turns")
CODEBOOK_HEADER = [
    "file",
    "column",
    "label",
    "type",
    "question_key",
    "choice",
    "choices",
    "level",
    "tags",
    "protocol_versions",
]

# A text cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection"):
# such cells are written with a leading apostrophe, which spreadsheets show as text.
FORMULA_STARTS = frozenset("=+-@\t\r")
NEUTRALISER = "'"


def plain_text(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula, made plain text (a leading
    apostrophe); any other value as it is."""
    if value.__class__ is str and value[:1] in FORMULA_STARTS:
        return NEUTRALISER + value
    return value


def neutralise_formulas(cells: list[Any]) -> list[Any]:
    """`cells` with every text cell that a spreadsheet would run as a formula made plain text
    (in place; numbers stay numbers: only str cells are looked at)."""
    for i, value in enumerate(cells):
        if value.__class__ is str and value and value[0] in FORMULA_STARTS:
            cells[i] = NEUTRALISER + value
    return cells


FORMULA_NOTE = N_(
    "Text cells that begin with =, +, -, @, a tab or a carriage return are written with a "
    "leading apostrophe (') so that spreadsheets show them as text and never run them as "
    "formulas; in the XLSX every text is a text cell and every number a number, no cell is "
    "a formula. Remove the apostrophe to get the text as it was recorded."
)


@dataclass
class Column:
    file: str
    name: str
    label: str
    type: str
    question_key: str = ""
    choice: str = ""
    choices: str = ""
    level: str = ""
    tags: str = ""
    versions: str = "all"
    # "fixed" (from the row itself), "answer" (a question's value) or "choice" (0/1).
    kind: str = "fixed"
    # The label and choices in other languages (language code → text), where the protocol
    # has them; a language missing here is given in the base words.
    labels: dict[str, str] = field(default_factory=dict)
    choice_texts: dict[str, str] = field(default_factory=dict)

    def codebook_row(self, languages: list[str] = ()) -> list[str]:  # type: ignore[assignment]
        row = [
            f"{self.file}.csv",
            self.name,
            self.label,
            self.type,
            self.question_key,
            self.choice,
            self.choices,
            self.level,
            self.tags,
            self.versions,
        ]
        for code in languages:
            row.append(self.labels.get(code) or self.label)
            row.append(self.choice_texts.get(code) or self.choices)
        return row


def _fixed(file: str, specs: list[tuple[str, str, str]]) -> list[Column]:
    return [Column(file=file, name=n, type=t, label=label) for n, t, label in specs]


WHERE = [
    ("session_date", "date", N_("Date of the court sitting")),
    ("court", "text", N_("Court")),
    ("courtroom", "text", N_("Courtroom")),
    ("judge", "text", N_("Presiding judge (a public official)")),
    ("calendar_type", "code", N_("Calendar type (sentencing, arraignment, …)")),
    ("protocol", "text", N_("Protocol the observation was made with")),
    ("protocol_version", "integer", N_("Version of that protocol")),
    ("observer_ref", "code", N_("The observer, as a reference stable within this deployment")),
]
IDENTITY = [
    ("observer_name", "text", N_("The observer's display name")),
    ("observer_email", "text", N_("The observer's email")),
]


def fixed_columns(file: str, options: ExportOptions) -> list[Column]:
    """The columns every row of a file has, before the question columns."""
    identity = IDENTITY if options.identities else []
    if file == "hearings":
        return _fixed(
            file,
            [
                (
                    "observation_id",
                    "uuid",
                    N_("The observation (one volunteer's record of one sitting)"),
                ),
                ("hearing_id", "uuid", N_("The hearing (one case heard)")),
                ("position", "integer", N_("Order of the hearing within the sitting, from 0")),
                ("case_reference", "text", N_("Docket number, when recorded (public record)")),
                *WHERE,
                *identity,
                ("status", "code", N_("draft or submitted")),
                ("started_at", "datetime", N_("Start, as the phone's clock reported it (UTC)")),
                ("ended_at", "datetime", N_("End, as the phone's clock reported it (UTC)")),
                ("turn_count", "integer", N_("Number of speaker turns logged")),
                ("talk_ms", "integer", N_("Total talk time of closed turns, milliseconds")),
                ("first_role", "code", N_("Role of the first speaker")),
                ("last_role", "code", N_("Role of the last speaker")),
                ("script", "text", N_("Speaking roles in order, repeats merged, joined by '>'")),
            ],
        )
    if file == "observations":
        notes = [("notes", "long_text", N_("General notes of the observation"))]
        return _fixed(
            file,
            [
                (
                    "observation_id",
                    "uuid",
                    N_("The observation (one volunteer's record of one sitting)"),
                ),
                *WHERE,
                *identity,
                ("start_time", "time", N_("Scheduled start of the sitting")),
                ("status", "code", N_("draft or submitted")),
                ("hearing_count", "integer", N_("Number of hearings recorded")),
                (
                    "client_edited_at",
                    "datetime",
                    N_("Last edit, as the phone's clock reported it (UTC)"),
                ),
                ("submitted_at", "datetime", N_("When the server received the submission (UTC)")),
                ("revision", "integer", N_("The server's revision of this record")),
                *(notes if options.free_text else []),
            ],
        )
    return _fixed(
        file,
        [
            ("hearing_id", "uuid", N_("The hearing (see hearings.csv)")),
            ("seq", "integer", N_("Order of the turn within the hearing, from 0")),
            ("role", "code", N_("Who spoke (the protocol's timeline role key)")),
            ("start_ms", "integer", N_("Start, milliseconds from the hearing's start")),
            ("end_ms", "integer", N_("End, milliseconds from the hearing's start (blank if open)")),
        ],
    )


@dataclass
class _Entry:
    question: Question
    versions: list[str]
    choices: dict[str, tuple[str, list[str]]]  # value → (label, versions)
    is_list: bool
    # language → the question's label, and value → the choice's label (the latest version's)
    labels: dict[str, str] = field(default_factory=dict)
    choice_labels: dict[str, dict[str, str]] = field(default_factory=dict)


def set_languages(versions: list[SetVersion]) -> list[str]:
    """The languages, besides English, that the set's protocols give labels in (the codebook's
    extra label and choices columns)."""
    found: list[str] = []
    for v in versions:
        for code in v.definition.languages():
            base = code.split("-")[0]
            if base != BASE_LANGUAGE and base not in found:
                found.append(base)
    return found


def question_columns(
    file: str, level: str, versions: list[SetVersion], options: ExportOptions
) -> list[Column]:
    """One column per question of this level across the versions (0/1 per choice for lists)."""
    languages = set_languages(versions)
    entries: dict[str, _Entry] = {}
    for v in versions:
        # The version in each language (its own words where it has no translation).
        localized = {code: v.definition.localized(code) for code in languages}
        for q in v.definition.questions(level):  # type: ignore[arg-type]
            if q.type in SKIPPED_TYPES or (q.type in TEXT_TYPES and not options.free_text):
                continue
            entry = entries.get(q.key)
            if entry is None:
                entry = entries[q.key] = _Entry(q, [], {}, False)
            entry.question = q  # the latest version's wording
            entry.versions.append(v.label)
            entry.is_list = entry.is_list or q.type in LIST_TYPES
            for c in v.definition.choices_for(q):
                label, seen_in = entry.choices.setdefault(c.value, (c.label, []))
                entry.choices[c.value] = (c.label, seen_in)
                seen_in.append(v.label)
            for code, d in localized.items():
                lq = d.question(q.key) or q
                entry.labels[code] = lq.label
                into = entry.choice_labels.setdefault(code, {})
                for c in d.choices_for(lq):
                    # yes / no / not observed are the interface's own words
                    into[c.value] = interface_text(c.label, code) if q.type == "yes_no" else c.label
    columns: list[Column] = []
    for key, e in entries.items():
        q = e.question
        common = {
            "file": file,
            "question_key": key,
            "level": level,
            "tags": "; ".join(q.tags),
        }
        all_choices = "; ".join(f"{value}={label}" for value, (label, _) in e.choices.items())
        labels = {code: e.labels.get(code) or q.label for code in languages}
        choice_texts = {
            code: "; ".join(
                f"{value}={e.choice_labels.get(code, {}).get(value) or label}"
                for value, (label, _) in e.choices.items()
            )
            for code in languages
        }
        if e.is_list:
            for value, (label, seen_in) in e.choices.items():
                columns.append(
                    Column(
                        name=f"{key}{CHOICE_SEPARATOR}{value}",
                        label=f"{q.label}: {label}",
                        labels={
                            code: f"{labels[code]}: "
                            f"{e.choice_labels.get(code, {}).get(value) or label}"
                            for code in languages
                        },
                        type="0/1",
                        choice=value,
                        choices="1=chosen; 0=not chosen; blank=not answered",
                        versions="; ".join(seen_in),
                        kind="choice",
                        **common,
                    )
                )
        else:
            columns.append(
                Column(
                    name=key,
                    label=q.label,
                    labels=labels,
                    choice_texts=choice_texts,
                    type=q.type,
                    choices=all_choices,
                    versions="; ".join(e.versions),
                    kind="answer",
                    **common,
                )
            )
    return columns


def flatten(value: Any) -> Any:
    """A scalar for one cell: lists joined by "; ", booleans as true/false."""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


class AnswerPlan:
    """Places a row's answers in its question columns in one pass over the answers (not one
    lookup per column: a set can have a hundred columns and a million rows)."""

    def __init__(self, columns: list[Column], offset: int) -> None:
        self.width = len(columns)
        self.scalar: dict[str, int] = {}
        # key → (first index, end index, choice → index); a key's choice columns are adjacent.
        self.choices: dict[str, tuple[int, int, dict[str, int]]] = {}
        for i, c in enumerate(columns, start=offset):
            if c.kind == "answer":
                self.scalar[c.question_key] = i
            elif c.kind == "choice":
                first, _, by_choice = self.choices.get(c.question_key, (i, i, {}))
                by_choice[c.choice] = i
                self.choices[c.question_key] = (first, i + 1, by_choice)

    def fill(self, row: list[Any], answers: dict[str, Any]) -> None:
        """Set the question cells of `row` (already sized, question cells None), text that a
        spreadsheet would run as a formula made plain text (plain_text)."""
        scalar, choices = self.scalar, self.choices
        for key, value in answers.items():
            if value is None:
                continue
            index = scalar.get(key)
            if index is not None:
                kind = value.__class__
                if kind is str:
                    if value[:1] in FORMULA_STARTS:  # plain_text, inline: a cell of most rows
                        value = NEUTRALISER + value
                elif kind is not int and kind is not float:
                    value = plain_text(flatten(value))
                row[index] = value
                continue
            plan = choices.get(key)
            if plan is not None:
                first, end, by_choice = plan
                row[first:end] = _ZEROS[: end - first]
                for item in value if type(value) is list else (value,):
                    i = by_choice.get(item) if type(item) is str else None
                    if i is not None:
                        row[i] = 1


_ZEROS = [0] * 1000


@dataclass
class Layout:
    """Every file's columns, for one set and one choice of options."""

    hearings: list[Column]
    observations: list[Column]
    turns: list[Column]
    # Languages besides English the protocols have labels in: a label and a choices column each.
    languages: list[str] = field(default_factory=list)

    def codebook_header(self) -> list[str]:
        extra = [f"{name}::{code}" for code in self.languages for name in ("label", "choices")]
        return [*CODEBOOK_HEADER, *extra]

    def codebook(self) -> list[list[str]]:
        rows = [
            c.codebook_row(self.languages)
            for c in (*self.hearings, *self.observations, *self.turns)
        ]
        note = ["(all)", "(text cells)", FORMULA_NOTE, "note", "", "", "", "", "", "all"]
        note += [
            interface_text(FORMULA_NOTE, code) if name == "label" else ""
            for code in self.languages
            for name in ("label", "choices")
        ]
        return [neutralise_formulas(row) for row in [*rows, note]]


def interface_text(message: str, code: str) -> str:
    """One of the interface's own messages in language `code`: English when the catalog has
    no translation of it (never blank)."""
    return catalog(code).get(message) or message


def _in_languages(columns: list[Column], languages: list[str]) -> list[Column]:
    """Fixed columns with their labels in each language (the interface's translations)."""
    for column in columns:
        column.labels = {code: interface_text(column.label, code) for code in languages}
    return columns


def layout(versions: list[SetVersion], options: ExportOptions) -> Layout:
    languages = set_languages(versions)

    def fixed(file: str) -> list[Column]:
        return _in_languages(fixed_columns(file, options), languages)

    return Layout(
        languages=languages,
        hearings=fixed("hearings") + question_columns("hearings", "hearing", versions, options),
        observations=fixed("observations")
        + question_columns("observations", "session", versions, options),
        turns=fixed("turns"),
    )
