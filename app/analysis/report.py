"""What gets published: report cards per judge and courtroom, the report of a set (its method
section, tables as CSV, the PDF) and the comparison's figures as JSON (/api/v1/compare).

Everything here is read from a Comparison (service.compare), so the page, the cards, the
report, the CSV tables and the JSON give the same figures.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app.analysis.rules import Rate
from app.analysis.scope import make_scope
from app.analysis.service import Comparison
from app.auth.models import User
from app.i18n import gettext
from app.observations.filters import HearingFilter
from app.protocols.models import Protocol, ProtocolVersion
from app.sessions.models import Court, CourtSession

TABLES = {
    "gaps": "Gaps, all hearings",
    "gaps-by-judge": "Gaps per judge",
    "gaps-by-courtroom": "Gaps per courtroom",
    "speakers": "Who speaks",
    "numbers": "Numbers",
    "agreement": "Agreement between observers",
    "trend": "Trend per month",
}


@dataclass
class Method:
    """The facts behind a report: what was observed, by whom, with which protocol."""

    first_day: date | None
    last_day: date | None
    courts: list[str]
    courtrooms: int
    judges: int
    sittings: int
    observations: int
    hearings: int
    volunteers: int
    volunteer_names: list[str]  # empty when the report leaves observer names out
    protocol_versions: list[str]
    status: str


def method(
    *, session: Session, f: HearingFilter, comparison: Comparison, with_names: bool
) -> Method:
    scope = make_scope(session=session, f=f, min_n=comparison.min_n)
    sittings = list(scope.observations.values())
    days = [s.day for s in sittings]
    sitting_ids = {s.court_session_id for s in sittings}
    court_names = (
        sorted(
            set(
                session.exec(
                    select(Court.name)
                    .join(CourtSession, CourtSession.court_id == Court.id)  # type: ignore[arg-type]
                    .where(col(CourtSession.id).in_(sitting_ids))
                ).all()
            )
        )
        if sitting_ids
        else []
    )
    observers = {s.observer_id for s in sittings}
    names = (
        sorted(session.exec(select(User.display_name).where(col(User.id).in_(observers))).all())
        if with_names and observers
        else []
    )
    versions = [
        f"{name} v{version.version}"
        for version, name in session.exec(
            select(ProtocolVersion, Protocol.name)
            .join(Protocol, Protocol.id == ProtocolVersion.protocol_id)  # type: ignore[arg-type]
            .where(col(ProtocolVersion.id).in_(sorted(comparison.protocols.versions)))
            .order_by(Protocol.name, ProtocolVersion.version)
        ).all()
    ]
    return Method(
        first_day=min(days) if days else None,
        last_day=max(days) if days else None,
        courts=court_names,
        courtrooms=len({s.courtroom for s in sittings if s.courtroom}),
        judges=len({s.judge_id for s in sittings if s.judge_id is not None}),
        sittings=len(sitting_ids),
        observations=len(sittings),
        hearings=comparison.hearings,
        volunteers=len(observers),
        volunteer_names=names,
        protocol_versions=versions,
        status=scope.f.status or "submitted",
    )


# --- tables as rows (CSV) ----------------------------------------------------------------------


def _rate_columns(r: Rate | None) -> list[Any]:
    if r is None:
        return ["", "", "", "", "", "", "", ""]
    return [
        r.count,
        r.n,
        _round(r.value),
        _round(r.low),
        _round(r.high),
        r.not_observed,
        "" if r.unanswered is None else r.unanswered,
        "yes" if r.too_few else "no",
    ]


RATE_HEADER = [
    "absent",
    "could_tell",
    "rate",
    "ci95_low",
    "ci95_high",
    "not_observed",
    "unanswered",
    "too_few_to_compare",
]


def _round(x: float | None) -> Any:
    return "" if x is None else round(x, 4)


def table_rows(c: Comparison, name: str) -> Iterator[list[Any]]:
    """A table of the report as rows, header first."""
    if name == "gaps":
        yield ["question_key", "question", "tag", *RATE_HEADER]
        for g in c.gaps_overall:
            yield [g.key, g.label, g.tag, *_rate_columns(g.rate)]
    elif name in ("gaps-by-judge", "gaps-by-courtroom"):
        m = c.matrix_by_judge if name == "gaps-by-judge" else c.matrix_by_courtroom
        yield [m.by, "hearings", "question_key", "question", *RATE_HEADER]
        for row in m.rows:
            for key, label, _ in m.questions:
                r = row["cells"].get(key)
                if r is not None:
                    yield [row["group"], row["hearings"], key, label, *_rate_columns(r)]
    elif name == "speakers":
        yield ["role", "turns", "talk_seconds", "share", "hearings_spoken_in", "first", "last"]
        for r in c.who_speaks.roles:
            yield [
                r.label,
                r.turns,
                round(r.talk_ms / 1000),
                _round(r.share),
                r.hearings,
                r.first,
                r.last,
            ]
    elif name == "numbers":
        yield ["question_key", "question", "group", "n", "median", "q1", "q3", "mean", "min", "max"]
        for nf in c.numbers:
            for label, d in [(gettext("All hearings"), nf.overall), *nf.groups]:
                if d is not None:
                    yield [
                        nf.key,
                        nf.label,
                        label,
                        d.n,
                        d.median,
                        d.q1,
                        d.q3,
                        _round(d.mean),
                        d.minimum,
                        d.maximum,
                    ]
    elif name == "agreement":
        yield ["question_key", "question", "hearings", "same_answer", "kappa", "method", "note"]
        for q in c.agreement.questions if c.agreement else []:
            yield [q.key, q.label, q.items, _round(q.percent), _round(q.kappa), q.method, q.note]
    elif name == "trend":
        t = c.trend
        yield [
            "question_key",
            "group",
            "month",
            "done",
            "could_tell",
            "rate",
            "ci95_low",
            "ci95_high",
        ]
        if t is not None:
            for label, months in [(gettext("All hearings"), t.overall)] + [
                (g["group"], g["months"]) for g in t.groups
            ]:
                for month in t.months:
                    r = months.get(month)
                    if r is not None:
                        yield [
                            t.key,
                            label,
                            month,
                            r.count,
                            r.n,
                            *map(_round, (r.value, r.low, r.high)),
                        ]
    else:
        raise KeyError(name)


def _safe(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def table_csv(rows: Iterable[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([_safe(v) for v in row])
    return "\ufeff" + out.getvalue()


# --- JSON ----------------------------------------------------------------------------------------


def comparison_json(c: Comparison) -> dict[str, Any]:
    """Every figure of the page as plain JSON (the same numbers the page prints)."""
    return {
        "filter": c.filter.to_params(),
        "options": c.options.to_params(),
        "min_n": c.min_n,
        "hearings": c.hearings,
        "headlines": [h.text for h in c.headlines],
        "who_speaks": {
            "hearings": c.who_speaks.hearings,
            "talk_ms": c.who_speaks.total_talk_ms,
            "roles": [
                {
                    "role": r.role,
                    "label": r.label,
                    "turns": r.turns,
                    "talk_ms": r.talk_ms,
                    "share": r.share,
                    "hearings": r.hearings,
                    "first": r.first,
                    "last": r.last,
                }
                for r in c.who_speaks.roles
            ],
        },
        "who_decides": [_frequency(q) for q in c.who_decides],
        "what_happens": [_frequency(q) for q in c.what_happens],
        "numbers": [
            {
                "key": nf.key,
                "label": nf.label,
                "overall": _distribution(nf.overall),
                "groups": [{"group": g, **_distribution(d)} for g, d in nf.groups],
            }
            for nf in c.numbers
        ],
        "gaps": [
            {"key": g.key, "label": g.label, "tag": g.tag, **g.rate.as_dict()}
            for g in c.gaps_overall
        ],
        "gap_matrix": {
            m.by: {
                "questions": [{"key": k, "label": label, "tag": t} for k, label, t in m.questions],
                "rows": [
                    {
                        "group": row["group"],
                        "group_key": row["group_key"],
                        "hearings": row["hearings"],
                        "cells": {k: r.as_dict() for k, r in row["cells"].items() if r is not None},
                    }
                    for row in m.rows
                ],
            }
            for m in (c.matrix_by_judge, c.matrix_by_courtroom)
        },
        "patterns": {
            "hearings": c.patterns.hearings,
            "usual_script": list(c.patterns.modal),
            "mean_distance": c.patterns.mean_distance,
            "common": [
                {"script": list(s), "hearings": n, "share": share}
                for s, n, share in c.patterns.common
            ],
        },
        "breakdown": {
            "by": c.breakdown_by,
            "rows": [
                {
                    "group": b.group,
                    "hearings": b.hearings,
                    "mean_talk_ms": b.mean_talk_ms,
                    "shares": b.shares,
                    "mean_gap": b.gap_rate,
                    "too_few": b.too_few,
                }
                for b in c.breakdown
            ],
        },
        "agreement": _agreement(c),
        "trend": _trend(c),
        "before_after": _before_after(c),
    }


def _frequency(q: Any) -> dict[str, Any]:
    return {
        "key": q.key,
        "label": q.label,
        "level": q.level,
        "answered": q.answered,
        "values": [
            {"value": v, "label": label, "count": n, "share": share}
            for v, label, n, share in q.values
        ],
    }


def _distribution(d: Any) -> dict[str, Any]:
    if d is None:
        return {"n": 0}
    return {
        "n": d.n,
        "median": d.median,
        "q1": d.q1,
        "q3": d.q3,
        "mean": d.mean,
        "min": d.minimum,
        "max": d.maximum,
    }


def _agreement(c: Comparison) -> dict[str, Any] | None:
    a = c.agreement
    if a is None:
        return None
    return {
        "matched_hearings": a.matched_count,
        "script_distance": a.script_distance,
        "questions": [
            {
                "key": q.key,
                "label": q.label,
                "hearings": q.items,
                "same_answer": q.percent,
                "kappa": q.kappa,
                "reading": q.interpretation,
                "method": q.method,
                "note": q.note,
            }
            for q in a.questions
        ],
    }


def _trend(c: Comparison) -> dict[str, Any] | None:
    t = c.trend
    if t is None:
        return None
    return {
        "key": t.key,
        "label": t.label,
        "by": t.by,
        "months": t.months,
        "overall": {m: r.as_dict() for m, r in t.overall.items()},
        "groups": [
            {
                "group": g["group"],
                "group_key": g["group_key"],
                "months": {m: r.as_dict() for m, r in g["months"].items()},
            }
            for g in t.groups
        ],
    }


def _before_after(c: Comparison) -> dict[str, Any] | None:
    ba = c.before_after
    if ba is None:
        return None

    def difference(d: Any) -> dict[str, Any]:
        fig = d.figures
        return {
            "before": d.before.as_dict(),
            "after": d.after.as_dict(),
            "difference": fig[0] if fig else None,
            "ci95": [fig[1], fig[2]] if fig else None,
            "too_few": d.too_few,
        }

    return {
        "key": ba.key,
        "label": ba.label,
        "on": ba.on.isoformat(),
        "overall": difference(ba.overall) if ba.overall else None,
        "groups": [{"group": g, **difference(d)} for g, _, d in ba.groups],
    }


# --- PDF -----------------------------------------------------------------------------------------


def html_to_pdf(html: str, *, base_url: str) -> bytes:
    """The report's HTML as a PDF (WeasyPrint; its print stylesheet lays the pages out)."""
    from weasyprint import HTML  # imported here: loading Pango takes a moment

    # It would log every screen-only CSS rule it skips (media queries, sticky, SVG fills).
    logging.getLogger("weasyprint").setLevel(logging.ERROR)

    return HTML(string=html, base_url=base_url).write_pdf()
