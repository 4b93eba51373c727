"""Gaps: for the questions tagged safety or accountability, how often the thing was absent,
out of the hearings where the observer could tell — overall, per group (judge, courtroom,
calendar type, month) and as a matrix group × question.

Read from the observation summaries: per question [hearings answering, answer rows marking
the thing absent, answer rows "not observed"]; the hearings a conditional question was shown
in come from the answer tallies of the question it depends on (observation_value).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from app.analysis.rules import Rate, rank_key, rate
from app.analysis.scope import (
    Scope,
    SetProtocols,
    cell_group,
    cells,
    fetch,
    group_labels,
    hearings_per_cell,
    oid_key,
    summaries,
)
from app.observations.models import ObservationValue
from app.protocols.definition import Question

GAP_TAGS = ("safety", "accountability")
GAP_TYPES = ("yes_no", "single_choice", "multi_choice")


@dataclass
class GapRow:
    key: str
    label: str
    tag: str
    group: str  # "All hearings", a judge's name, a courtroom, a month
    group_key: Any  # the judge id, courtroom, calendar type or month (None overall)
    rate: Rate  # absent, out of the hearings where the observer could tell


@dataclass
class GapMatrix:
    """Groups × questions: every group, each cell a Rate (None: the question was not asked)."""

    by: str
    questions: list[tuple[str, str, str]]  # key, label, tag
    rows: list[dict[str, Any]]  # {group, group_key, hearings, cells: {key: Rate | None}}
    sort: str | None  # the question the rows are sorted by (worst first), or None (by name)


def gap_questions(protocols: SetProtocols) -> dict[str, tuple[Question, str]]:
    """The safety and accountability questions whose answers can mark the thing absent (a
    "No", a choice marked absent)."""
    can_be_absent = {
        key for _, definition in protocols.versions.values() for key in definition.absent_values()
    }
    return {
        k: (q, tag)
        for tag in GAP_TAGS
        for k, q in protocols.questions(tag=tag, level="hearing").items()
        if q.type in GAP_TYPES and k in can_be_absent
    }


def _condition_hearings(
    session: Session, scope: Scope, questions: Iterable[Question]
) -> dict[Any, dict[str, int]]:
    """Per observation and conditional question: the hearings its condition held in (the
    answers to the question it depends on with the value it asks for). One level of
    condition: a condition on a conditional question counts where the latter was answered."""
    wanted = {q.key: q.show_if for q in questions if q.show_if is not None}
    cache_key = ("shown", tuple(sorted(wanted)))
    if cache_key in scope.cache:
        return scope.cache[cache_key]
    out: dict[Any, dict[str, int]] = defaultdict(dict)
    if wanted:
        depends = sorted({c.question for c in wanted.values() if c is not None})
        kept = scope.observations
        table = ObservationValue
        for oid, key, value, n in fetch(
            session,
            select(
                oid_key(table.observation_id), table.question_key, table.value_text, table.answers
            ).where(col(table.question_key).in_(depends), *scope.where(table.observation_id)),
        ):
            if oid not in kept:
                continue
            for asked, condition in wanted.items():
                if condition is None or condition.question != key:
                    continue
                allowed = (
                    set(condition.any_of) if condition.any_of else {_as_text(condition.equals)}
                )
                if value in allowed:
                    into = out[oid]
                    into[asked] = into.get(asked, 0) + int(n)
    scope.cache[cache_key] = out
    return out


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def rates_by_many(
    *,
    session: Session,
    scope: Scope,
    protocols: SetProtocols,
    group_ofs: list[Callable[[Any], Any]],
    keys: Collection[str] | None = None,
) -> list[dict[tuple[Any, str], Rate]]:
    """For each grouping in `group_ofs`: (group, question key) → the rate of absence,
    grouping each observation by group_of(observation id); for every gap question (or those
    in `keys`) asked in a group. One pass over the set's summaries serves every grouping
    (an observation's figures are looked up once, then added to its group in each)."""
    questions = gap_questions(protocols)
    if keys is not None:
        questions = {k: v for k, v in questions.items() if k in keys}
    wanted = list(questions)
    hearings: list[dict[Any, dict[int, int]]] = [
        defaultdict(lambda: defaultdict(int)) for _ in group_ofs
    ]
    counted: list[dict[tuple[Any, str], list[int]]] = [
        defaultdict(lambda: [0, 0, 0]) for _ in group_ofs
    ]
    groupings = list(zip(group_ofs, hearings, counted, strict=True))
    for cell, n, _, _, per_key, oid in summaries(session, scope):
        found = [(key, figures) for key in wanted if (figures := per_key.get(key)) is not None]
        for group_of, by_group, into in groupings:
            grp = group_of(oid)
            by_group[grp][cell[0]] += n
            for key, figures in found:
                acc = into[(grp, key)]
                acc[0] += figures[0]
                acc[1] += figures[1]
                acc[2] += figures[2]
    conditions = _condition_hearings(session, scope, [q for q, _ in questions.values()])
    versions = {key: protocols.versions_with(key) for key in questions}
    results = []
    for group_of, by_group, into in groupings:
        shown: dict[tuple[Any, str], int] = defaultdict(int)
        for oid, per_key in conditions.items():
            grp = group_of(oid)
            for key, n in per_key.items():
                shown[(grp, key)] += n
        out: dict[tuple[Any, str], Rate] = {}
        for key, (q, _) in questions.items():
            for grp, by_version in by_group.items():
                asked = sum(n for pv, n in by_version.items() if pv in versions[key])
                if q.show_if is not None:
                    asked = shown.get((grp, key), 0)
                answered, absent, not_observed = into.get((grp, key), (0, 0, 0))
                if not asked and not answered:
                    continue
                out[(grp, key)] = rate(
                    count=absent,
                    n=answered - not_observed,
                    not_observed=not_observed,
                    unanswered=max(0, asked - answered),
                    min_n=scope.min_n,
                )
        results.append(out)
    return results


# The breakdowns a comparison shows gap rates for: read together, in one pass (gap_rates).
GAP_BREAKDOWNS = (None, "judge", "courtroom")


def _grouper(cells_: dict[Any, tuple[Any, ...]], by: str | None) -> Callable[[Any], Any]:
    return lambda oid: cell_group(cells_[oid], by)


def gap_rates(
    *, session: Session, scope: Scope, protocols: SetProtocols, by: str | None
) -> dict[tuple[Any, str], Rate]:
    """(group, question key) → the rate of absence per judge, courtroom, calendar type,
    month or (None) overall. The first call also reads the other GAP_BREAKDOWNS (the page
    shows them all), in the same pass."""
    cache_key = ("gap_rates", by)
    if cache_key not in scope.cache:
        cells_ = cells(scope)
        wanted = [
            by,
            *(b for b in GAP_BREAKDOWNS if b != by and ("gap_rates", b) not in scope.cache),
        ]
        found = rates_by_many(
            session=session,
            scope=scope,
            protocols=protocols,
            group_ofs=[_grouper(cells_, b) for b in wanted],
        )
        for b, rates in zip(wanted, found, strict=True):
            scope.cache[("gap_rates", b)] = rates
    return scope.cache[cache_key]


def gaps(
    *, session: Session, scope: Scope, protocols: SetProtocols, by: str | None = None
) -> list[GapRow]:
    """One row per question (and group, with `by`), worst first; groups with too few
    hearings last, in name order."""
    questions = gap_questions(protocols)
    labels = group_labels(session, by)
    rows = [
        GapRow(key, questions[key][0].label, questions[key][1], labels(grp), grp, r)
        for (grp, key), r in gap_rates(
            session=session, scope=scope, protocols=protocols, by=by
        ).items()
    ]
    rows.sort(key=lambda row: (*rank_key(row.rate), row.group, row.key))
    return rows


def gap_matrix(
    *,
    session: Session,
    scope: Scope,
    protocols: SetProtocols,
    by: str = "judge",
    sort: str | None = None,
) -> GapMatrix:
    """Every group (judge, courtroom…) × every gap question. Sorted by the question `sort`
    (worst first, groups with too few hearings for it last), else by group name."""
    questions = gap_questions(protocols)
    rates = gap_rates(session=session, scope=scope, protocols=protocols, by=by)
    labels = group_labels(session, by)
    hearings: dict[Any, int] = defaultdict(int)
    for cell, (n, _) in hearings_per_cell(session, scope).items():
        hearings[cell_group(cell, by)] += n
    rows = [
        {
            "group": labels(grp),
            "group_key": grp,
            "hearings": n,
            "cells": {key: rates.get((grp, key)) for key in questions},
        }
        for grp, n in hearings.items()
        if n
    ]
    rows.sort(key=lambda r: str(r["group"]))
    if sort in questions:

        def by_question(row: dict[str, Any]) -> tuple[int, float, int]:
            found = row["cells"].get(sort)
            return (2, 0.0, 0) if found is None else rank_key(found)

        rows.sort(key=by_question)
    else:
        sort = None
    return GapMatrix(by, [(k, q.label, tag) for k, (q, tag) in questions.items()], rows, sort=sort)


def mean_gap(rates: Iterable[Rate]) -> float | None:
    """The mean of a group's gap rates, over the questions with enough hearings."""
    values = [r.value for r in rates if not r.too_few and r.value is not None]
    return sum(values) / len(values) if values else None
