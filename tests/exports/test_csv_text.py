"""The CSV export's fast paths give the same text as the plain ones: csv_text against
csv.writer, and the zip's files against csv.writer writing the rows the XLSX export uses."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import date
from types import SimpleNamespace

import pytest

from app.exports.csv_export import BOM, _Parts, csv_text, export_zip
from app.exports.service import ExportOptions
from app.exports.tabular import (
    _with_answers,
    export_context,
    hearing_rows,
    observation_rows,
    turn_rows,
)
from app.observations.filters import HearingFilter
from tests.analysis.builders import hearing, send_observation
from tests.conftest import SECRET
from tests.exports.builders import COURT, read_zip, seed


def _writer_text(rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _csv_text(rows: list[list[object]]) -> str:
    written = _Parts()
    return csv_text(rows, csv.writer(written, lineterminator="\r\n"), written)


CELLS = [
    "",
    None,
    "None",
    "plain",
    "Sentencing calendar — CCR",
    "a, b",
    'say "no"',
    "two\nlines",
    "carriage\rreturn",
    "crlf\r\n",
    ",",
    '"',
    0,
    1,
    -42,
    3.5,
    1e-7,
    True,
    date(2026, 3, 2),
    "ends with space ",
]


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [["a", "b"], ["c", "d"]],
        [[None, None], ["", ""]],
        [[""]],  # csv.writer quotes a lone empty cell
        [[None]],
        [["x"], [1]],
        [["a", "b", "c"], ["d", "e"]],  # rows of different widths
        [["note, with a comma", 1, None], ["fine", 2, ""]],
        [["None", None, "None"]],
    ],
)
def test_csv_text_is_what_csv_writer_writes(rows):
    assert _csv_text(rows) == _writer_text(rows)


def test_csv_text_is_what_csv_writer_writes_for_random_rows():
    rng = random.Random(7)
    for _ in range(300):
        width = rng.choice([2, 5, 12])
        rows = [
            [
                rng.choice(CELLS) if rng.random() < 0.3 else rng.choice(CELLS[3:5])
                for _ in range(width)
            ]
            for _ in range(rng.randint(1, 40))
        ]
        assert _csv_text(rows) == _writer_text(rows), rows


def _tricky_world(db, volunteer_client) -> None:
    """The usual seed plus text that needs quoting and an open (unfinished) turn."""
    world = seed(db, volunteer_client)
    send_observation(
        volunteer_client,
        protocol_version_id=world.v1.id,  # type: ignore[arg-type]
        court={**COURT, "courtroom": "7, east wing"},
        session_answers={"influence": "judge", "debrief_notes": 'He said "no",\nthen left.'},
        hearings=[
            hearing(
                [("judge", 0, 4000), ("defense", 4000, None)],  # type: ignore[list-item]
                {"remarks": "A, B and C\r\nagreed", "components": ["jail"]},
                case_reference="27-CR-26-0009",
            )
        ],
    )


def test_csv_files_are_what_csv_writer_writes_from_the_xlsx_rows(db, volunteer, app):
    _tricky_world(db, volunteer[0])
    ctx = export_context(session=db, f=HearingFilter(), options=ExportOptions(), secret=SECRET)
    files = read_zip(b"".join(export_zip(app.state.engine.connect, ctx)))
    layout = ctx.layout
    with app.state.engine.connect() as conn:
        hearings = list(hearing_rows(conn, ctx))
        observations = list(observation_rows(conn, ctx))
        turns = list(turn_rows(conn, ctx))
        assert list(hearing_rows(conn, ctx, blank="")) == [
            ["" if cell is None else cell for cell in row] for row in hearings
        ]
    expected = {
        "hearings.csv": [[c.name for c in layout.hearings], *hearings],
        "observations.csv": [[c.name for c in layout.observations], *observations],
        "turns.csv": [[c.name for c in layout.turns], *turns],
    }
    for name, rows in expected.items():
        assert files[name] == BOM + _writer_text(rows), name
    assert '"A, B and C\r\nagreed"' in files["hearings.csv"]
    assert '"He said ""no"",\nthen left."' in files["observations.csv"]
    open_turn = [line for line in files["turns.csv"].splitlines() if line.endswith(",4000,")]
    assert len(open_turn) == 1 and ",1,defense,4000," in open_turn[0]


def test_answers_are_read_as_json_reads_them_a_hundred_at_a_time():
    texts = [
        json.dumps({"a": "x", "n": i, "f": 2.5, "l": ["p", "q"], "b": True, "z": None})
        for i in range(250)
    ]
    texts[7] = '{"big": 123456789012345678901234567890, "nan": 1}'
    rows = [SimpleNamespace(answers=text) for text in texts]
    parsed = list(_with_answers(rows, "answers"))
    assert [row for row, _ in parsed] == rows
    assert [answers for _, answers in parsed] == [json.loads(text) for text in texts]
    # PostgreSQL's driver hands over dicts (and None for no answers).
    mixed = [SimpleNamespace(answers={"a": 1}), SimpleNamespace(answers=None)]
    assert [answers for _, answers in _with_answers(mixed, "answers")] == [{"a": 1}, {}]
