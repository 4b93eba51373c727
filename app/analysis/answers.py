"""What was answered: how often each value was given to the questions of a tag (who decides,
what happens), and the numbers (jail days, probation months) as distributions per group.

Hearing-level values are counted in SQL over observation_value (value_text for choices,
value_number for counts and numbers); session-level ones (asked once per sitting) over their
few answer rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.analysis import stats
from app.analysis.scope import (
    Scope,
    SetProtocols,
    cell_group,
    cells,
    fetch,
    group_labels,
    level_of,
    oid_key,
    value_counts,
)
from app.observations.models import Answer, ObservationValue

NUMERIC = ("number", "count")


@dataclass
class Frequency:
    key: str
    label: str
    level: str
    answered: int  # hearings (or sittings) with an answer
    values: list[tuple[str, str, int, float]]  # (value, label, count, share of answered)


def answer_frequencies(
    *,
    session: Session,
    scope: Scope,
    protocols: SetProtocols,
    tag: str,
    with_section_mates: bool = False,
) -> list[Frequency]:
    """For each question with `tag` answered with a choice (and, with_section_mates, the
    untagged choice questions of their sections): how often each value was given (list
    answers count each item), out of the hearings (or sittings) that answered."""
    questions = {
        k: q
        for k, q in protocols.questions(tag=tag).items()
        if q.type not in NUMERIC and q.type != "speaker_timeline"
    }
    if with_section_mates:
        questions.update(protocols.section_mates(tag=tag))
    if not questions:
        return []
    counts: dict[str, dict[str | None, int]] = defaultdict(dict)
    answered: dict[str, int] = defaultdict(int)
    keys = set(questions)
    hearing_keys = {k for k in keys if level_of(protocols, k) == "hearing"}
    if hearing_keys:
        got_counts, got_answered = value_counts(
            session, scope, {k: questions[k] for k in hearing_keys}
        )
        counts.update(got_counts)
        answered.update(got_answered)
    session_keys = sorted(keys - hearing_keys)
    if session_keys:
        # Asked once per sitting: few rows.
        where = (
            col(Answer.question_key).in_(session_keys),
            col(Answer.hearing_id).is_(None),
            *scope.where(Answer.observation_id),
        )
        for key, value, n in session.exec(
            select(Answer.question_key, Answer.value_text, sa.func.count())
            .where(*where)
            .group_by(Answer.question_key, Answer.value_text)
        ).all():
            counts[key][value] = int(n)
        for key, n in session.exec(
            select(Answer.question_key, sa.func.count(sa.distinct(Answer.observation_id)))
            .where(*where)
            .group_by(Answer.question_key)
        ).all():
            answered[key] = int(n)
    out = []
    for key, q in questions.items():
        if key not in counts:
            continue
        total = answered.get(key, 0)
        values_ = sorted(
            (
                (value, protocols.choice_label(key, value), n, n / total if total else 0.0)
                for value, n in counts[key].items()
                if value is not None
            ),
            key=lambda v: -v[2],
        )
        out.append(Frequency(key, q.label, level_of(protocols, key), total, values_))
    return out


@dataclass
class NumberFigures:
    """A number question's answers: overall and per group."""

    key: str
    label: str
    overall: stats.Distribution | None
    groups: list[tuple[str, stats.Distribution]] = field(default_factory=list)  # label, figures

    @property
    def scale(self) -> tuple[float, float]:
        """The range every group's chart is drawn on."""
        found = [d for _, d in self.groups] + ([self.overall] if self.overall else [])
        low = min((d.minimum for d in found), default=0.0)
        high = max((d.maximum for d in found), default=1.0)
        return (min(low, 0.0), high if high > min(low, 0.0) else min(low, 0.0) + 1)


def numbers(
    *, session: Session, scope: Scope, protocols: SetProtocols, by: str | None = "judge"
) -> list[NumberFigures]:
    """Every hearing-level count or number question: n, median, quartiles, mean, min–max,
    overall and per group `by` (from the value_number tallies of observation_value)."""
    questions = {k: q for k, q in protocols.questions(level="hearing").items() if q.type in NUMERIC}
    if not questions:
        return []
    cache_key = ("numbers", by)
    if cache_key in scope.cache:
        return scope.cache[cache_key]
    cells_ = cells(scope)
    overall: dict[str, dict[float, int]] = defaultdict(lambda: defaultdict(int))
    grouped: dict[tuple[str, Any], dict[float, int]] = defaultdict(lambda: defaultdict(int))
    table = ObservationValue
    for oid, key, number, n in fetch(
        session,
        select(
            oid_key(table.observation_id), table.question_key, table.value_number, table.answers
        ).where(
            col(table.question_key).in_(sorted(questions)),
            col(table.value_number).is_not(None),
            *scope.where(table.observation_id),
        ),
    ):
        cell = cells_.get(oid)
        if cell is None:
            continue
        overall[key][float(number)] += int(n)
        if by is not None:
            grouped[(key, cell_group(cell, by))][float(number)] += int(n)
    labels = group_labels(session, by) if by is not None else None
    out = []
    for key, q in questions.items():
        if key not in overall:
            continue
        groups = []
        if labels is not None:
            groups = sorted(
                (
                    (labels(grp), d)
                    for (k, grp), counts in grouped.items()
                    if k == key and (d := stats.distribution(counts)) is not None
                ),
                key=lambda gd: gd[0],
            )
        out.append(NumberFigures(key, q.label, stats.distribution(overall[key]), groups))
    scope.cache[cache_key] = out
    return out
