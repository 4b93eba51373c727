"""Who speaks: turns, talk time and its share per role, who opens and closes a hearing; and
the key figures side by side per judge, courtroom, calendar type or month (a breakdown).

Added up from the observation summaries' speaker figures, cell by cell (scope.per_cell).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from app.analysis.gaps import gap_rates, mean_gap
from app.analysis.scope import (
    Scope,
    SetProtocols,
    cell_group,
    group_labels,
    hearings_per_cell,
    speakers_per_cell,
)


@dataclass
class RoleFigures:
    role: str
    label: str
    colour: str
    turns: int
    talk_ms: int
    hearings: int  # hearings in which the role spoke
    share: float  # of all talk time
    first: int  # hearings this role opened
    last: int


@dataclass
class WhoSpeaks:
    hearings: int
    total_talk_ms: int
    roles: list[RoleFigures]


def count_hearings(*, session: Session, scope: Scope) -> int:
    return sum(n for n, _ in hearings_per_cell(session, scope).values())


def who_speaks(*, session: Session, scope: Scope, protocols: SetProtocols) -> WhoSpeaks:
    """Turns, talk time and its share per role; how often each role spoke first and last."""
    per_role: dict[str, list[int]] = {}
    for (_, role), figures in speakers_per_cell(session, scope).items():
        acc = per_role.setdefault(role, [0, 0, 0, 0, 0])
        for i, n in enumerate(figures):
            acc[i] += n
    total = sum(talk for _, talk, *_ in per_role.values())
    figures = [
        RoleFigures(
            role=role,
            label=protocols.role_label(role),
            colour=protocols.role_colour(role),
            turns=turns,
            talk_ms=talk,
            hearings=n,
            share=(talk / total) if total else 0.0,
            first=opened,
            last=closed,
        )
        for role, (turns, talk, n, opened, closed) in per_role.items()
    ]
    order = list(protocols.roles)
    figures.sort(key=lambda r: (-r.talk_ms, order.index(r.role) if r.role in order else 99))
    return WhoSpeaks(count_hearings(session=session, scope=scope), total, figures)


# --- breakdowns ------------------------------------------------------------------------------


@dataclass
class BreakdownRow:
    group: str
    group_key: Any
    hearings: int
    mean_talk_ms: float
    shares: dict[str, float]  # role → share of talk time
    gap_rate: float | None  # mean over the gap questions with enough hearings
    too_few: bool  # fewer hearings than the minimum n: greyed, not compared
    gap_rates: dict[str, Any] = field(default_factory=dict)  # question key → Rate


def breakdown(
    *, session: Session, scope: Scope, protocols: SetProtocols, by: str
) -> list[BreakdownRow]:
    """Key figures side by side per judge, courtroom, calendar type or month: hearings, talk
    time and its shares, and the mean gap (every breakdown alike)."""
    labels = group_labels(session, by)
    totals: dict[Any, list[int]] = {}
    for cell, (n, talk_ms) in hearings_per_cell(session, scope).items():
        acc = totals.setdefault(cell_group(cell, by), [0, 0])
        acc[0] += n
        acc[1] += talk_ms
    talk: dict[Any, dict[str, int]] = defaultdict(dict)
    for (cell, role), (_, ms, *_) in speakers_per_cell(session, scope).items():
        per_role = talk[cell_group(cell, by)]
        per_role[role] = per_role.get(role, 0) + ms
    rates: dict[Any, dict[str, Any]] = defaultdict(dict)
    for (grp, key), r in gap_rates(
        session=session, scope=scope, protocols=protocols, by=by
    ).items():
        rates[grp][key] = r
    rows = []
    for grp, (n, talk_ms) in totals.items():
        if not n:
            continue
        total_talk = sum(talk[grp].values())
        shares = {role: ms / total_talk for role, ms in talk[grp].items()} if total_talk else {}
        rows.append(
            BreakdownRow(
                labels(grp),
                grp,
                n,
                talk_ms / n,
                shares,
                mean_gap(rates[grp].values()),
                n < scope.min_n,
                rates[grp],
            )
        )
    rows.sort(key=lambda r: r.group)
    return rows
