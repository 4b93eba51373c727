"""Trends: for one safety or accountability question, how often the thing was done, month by
month, overall and per judge or courtroom; and before/after a date, with the difference and
its 95 % interval (Court Watch Montgomery's "firearm surrender orders from 30 % to 70 %").

"Done" is the complement of the gap: out of the hearings where the observer could tell, those
not marked absent. The same rules (rules.Rate) and the same counting (gaps.rates_by_many) hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from app.analysis.gaps import gap_questions, rates_by_many
from app.analysis.rules import Difference, Rate, rate
from app.analysis.scope import Scope, SetProtocols, group_labels

TREND_GROUPS = {"judge": "judge_id", "courtroom": "courtroom"}


def done(r: Rate) -> Rate:
    """How often the thing was done: the complement of a gap rate, over the same n."""
    return rate(
        count=r.n - r.count,
        n=r.n,
        not_observed=r.not_observed,
        unanswered=r.unanswered,
        min_n=r.min_n,
    )


@dataclass
class Trend:
    key: str
    label: str
    by: str  # "judge" or "courtroom"
    months: list[str]
    overall: dict[str, Rate]  # month → rate done
    groups: list[dict[str, Any]]  # {group, group_key, months: {month: Rate}}


def default_question(protocols: SetProtocols) -> str | None:
    questions = gap_questions(protocols)
    return next(iter(questions), None)


def trend(
    *, session: Session, scope: Scope, protocols: SetProtocols, key: str, by: str = "judge"
) -> Trend | None:
    """Month by month, how often `key` was done, overall and per `by` group."""
    questions = gap_questions(protocols)
    if key not in questions or by not in TREND_GROUPS:
        return None
    field = "judge_id" if by == "judge" else "courtroom"
    observations = scope.observations
    overall, grouped = rates_by_many(
        session=session,
        scope=scope,
        protocols=protocols,
        group_ofs=[
            lambda oid: observations[oid].month,
            lambda oid: (getattr(observations[oid], field), observations[oid].month),
        ],
        keys=[key],
    )
    months = sorted({m for m, _ in overall})
    labels = group_labels(session, by)
    groups: dict[Any, dict[str, Rate]] = {}
    for (grp, _), r in grouped.items():
        groups.setdefault(grp[0], {})[grp[1]] = done(r)
    return Trend(
        key,
        questions[key][0].label,
        by,
        months,
        {m: done(r) for (m, _), r in overall.items()},
        sorted(
            (
                {"group": labels(grp), "group_key": grp, "months": per_month}
                for grp, per_month in groups.items()
            ),
            key=lambda g: str(g["group"]),
        ),
    )


@dataclass
class BeforeAfter:
    key: str
    label: str
    on: date  # "after" starts on this day
    overall: Difference | None
    groups: list[tuple[str, Any, Difference]]  # group label, group key, difference


def before_after(
    *,
    session: Session,
    scope: Scope,
    protocols: SetProtocols,
    key: str,
    on: date,
    by: str = "judge",
) -> BeforeAfter | None:
    """How often `key` was done before `on` and from `on`, the difference after − before
    with Newcombe's interval; overall and per judge or courtroom."""
    questions = gap_questions(protocols)
    if key not in questions or by not in TREND_GROUPS:
        return None
    field = "judge_id" if by == "judge" else "courtroom"
    observations = scope.observations
    overall, grouped = rates_by_many(
        session=session,
        scope=scope,
        protocols=protocols,
        group_ofs=[
            lambda oid: observations[oid].day >= on,
            lambda oid: (getattr(observations[oid], field), observations[oid].day >= on),
        ],
        keys=[key],
    )
    empty = rate(count=0, n=0, min_n=scope.min_n)

    def difference(before: Rate | None, after: Rate | None) -> Difference:
        return Difference(done(before or empty), done(after or empty))

    labels = group_labels(session, by)
    groups = sorted({grp for (grp, _), _ in grouped.items()}, key=lambda g: str(labels(g[0])))
    seen: set[Any] = set()
    rows = []
    for grp, _ in groups:
        if grp in seen:
            continue
        seen.add(grp)
        rows.append(
            (
                labels(grp),
                grp,
                difference(grouped.get(((grp, False), key)), grouped.get(((grp, True), key))),
            )
        )
    found_overall = (
        difference(overall.get((False, key)), overall.get((True, key))) if overall else None
    )
    return BeforeAfter(key, questions[key][0].label, on, found_overall, rows)
