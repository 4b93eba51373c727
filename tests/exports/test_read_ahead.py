"""read_ahead: an export's rows read in a thread of their own, one step ahead of the file."""

from __future__ import annotations

import threading

import pytest

from app.exports.progress import reporting
from app.exports.read_ahead import read_ahead


def test_rows_come_in_order_and_whole():
    assert list(read_ahead(iter(range(1234)), at_once=100, depth=2)) == list(range(1234))
    assert list(read_ahead(iter([]))) == []


def test_an_error_while_reading_is_raised_to_the_reader_after_the_rows_before_it():
    def rows():
        yield from range(5)
        raise ValueError("the database went away")

    got = []
    with pytest.raises(ValueError, match="went away"):
        for row in read_ahead(rows(), at_once=2):
            got.append(row)
    assert got == [0, 1, 2, 3]  # the last, incomplete list never came


def test_a_reader_that_stops_early_stops_the_thread_and_closes_the_rows():
    closed = threading.Event()
    produced = []

    def rows():
        try:
            for i in range(1_000_000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    before = threading.active_count()
    reader = read_ahead(rows(), at_once=10, depth=2)
    assert [next(reader) for _ in range(3)] == [0, 1, 2]
    reader.close()
    assert closed.is_set()
    assert threading.active_count() == before
    assert len(produced) < 100  # read at most a few lists ahead, not the whole set


def test_progress_is_reported_from_the_reading_thread():
    seen = []

    def rows():
        from app.exports.progress import report_rows

        for i in range(3):
            report_rows(1)
            yield i

    with reporting(seen.append):
        assert list(read_ahead(rows())) == [0, 1, 2]
    assert seen == [1, 1, 1]
