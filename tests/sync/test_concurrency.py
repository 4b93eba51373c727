"""Many phones syncing one calendar at once through real app processes (uvicorn): two on
PostgreSQL, one on SQLite. Nothing may fail, deadlock, split a sitting, or be lost or doubled."""

from __future__ import annotations

from pathlib import Path

from bench.phones import app_processes, check_store, latency_summary, prepare_store, run_phones

PROCESSES = {"sqlite": 1, "postgresql": 2}


def test_phones_syncing_one_calendar_at_once_hold_the_store(database_url: str, tmp_path: Path):
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    # Two sittings of ten phones: one scheduled (half the phones assigned, half ad hoc in other
    # spellings), one created by the phones themselves at once in a court never seen before.
    calendar = prepare_store(database_url, sittings=2, phones_per_sitting=10)
    with app_processes(database_url, PROCESSES[backend], tmp_path) as bases:
        run_phones(calendar, bases, ticks=6, interval=0.5, together=True)
    batches, statuses, _, _ = latency_summary(calendar)
    results = sum((p.results for p in calendar.phones), start=type(calendar.phones[0].results)())
    assert batches == 20 * 6
    assert dict(statuses) == {"200": batches}, statuses
    assert set(results) <= {"created", "updated", "unchanged"}, results
    assert results["created"] == 20 and results["unchanged"] == 20, results

    held = check_store(database_url, calendar)
    assert held.sittings_per_place == {place: 1 for place in calendar.sittings}
    assert (held.observations_missing, held.observations_extra) == (0, 0)
    assert (held.hearings_lost, held.hearings_doubled, held.revisions_wrong) == (0, 0, 0)
    assert held.pairs_expected == 2 * 45
    assert (held.pairs_found, held.pairs_wrong) == (held.pairs_expected, 0)
    assert held.holds
