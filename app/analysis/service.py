"""Every figure of the comparison page (and of /api/v1/compare, the report cards and the
report) for one filter: one Scope, shared by the figure families —

speakers (who speaks, breakdowns), answers (who decides, what happens, numbers), gaps (rates
and the group × question matrix), patterns (scripts), agreement (observers), trends (months,
before/after) — each in its own module, all following rules.RULES.
"""

from __future__ import annotations

import gc
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ValidationError, field_validator
from sqlmodel import Session

from app.analysis import stats
from app.analysis.agreement import Agreement, agreement
from app.analysis.answers import Frequency, NumberFigures, answer_frequencies, numbers
from app.analysis.gaps import GapMatrix, GapRow, gap_matrix, gaps
from app.analysis.patterns import Patterns, patterns
from app.analysis.rules import Rate, rate
from app.analysis.scope import (
    BREAKDOWNS,
    DEFAULT_MIN_N,
    SetProtocols,
    make_scope,
    set_protocols,
)
from app.analysis.speakers import BreakdownRow, WhoSpeaks, breakdown, who_speaks
from app.analysis.trends import BeforeAfter, Trend, before_after, default_question, trend
from app.changes import figures_version
from app.i18n import N_, gettext, language
from app.observations.filters import HearingFilter


class CompareOptions(BaseModel):
    """How the figures are laid out (beside the filter): the breakdown, the matrix's sort,
    the trend's question and groups, the before/after date."""

    by: Literal["judge", "courtroom", "calendar_type", "month"] = "judge"
    sort: str | None = None  # a gap question key: the matrices sorted by it, worst first
    question: str | None = None  # the trend's question (default: the first gap question)
    trend_by: Literal["judge", "courtroom"] = "judge"
    on: date | None = None  # before/after: "after" starts on this day

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @classmethod
    def parse(cls, params: Mapping[str, Any]) -> tuple[CompareOptions, dict[str, str]]:
        """From query parameters: (options, {field: message}); a bad field takes its default."""
        values = {k: params.get(k) for k in cls.model_fields if params.get(k) not in (None, "")}
        errors: dict[str, str] = {}
        try:
            return cls.model_validate(values), errors
        except ValidationError as exc:
            for err in exc.errors():
                name = str(err["loc"][0])
                errors.setdefault(
                    name, gettext(OPTION_MESSAGES[name]) if name in OPTION_MESSAGES else err["msg"]
                )
                values.pop(name, None)
        return cls.model_validate(values), errors

    def to_params(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.model_dump(mode="json").items() if v is not None}


OPTION_MESSAGES = {
    "by": N_("Choose judge, courtroom, calendar type or month."),
    "trend_by": N_("Choose judge or courtroom."),
    "on": N_("Give the date as YYYY-MM-DD."),
}


@dataclass
class Headline:
    """A finding to lead with, in plain words, with the rate it rests on."""

    text: str
    rate: Rate | None = None


@dataclass
class Comparison:
    filter: HearingFilter
    options: CompareOptions
    protocols: SetProtocols
    min_n: int
    hearings: int
    who_speaks: WhoSpeaks
    who_decides: list[Frequency]
    what_happens: list[Frequency]
    numbers: list[NumberFigures]
    gaps_overall: list[GapRow]
    matrix_by_judge: GapMatrix
    matrix_by_courtroom: GapMatrix
    patterns: Patterns
    breakdown_by: str
    breakdown: list[BreakdownRow]
    agreement: Agreement | None
    trend: Trend | None
    before_after: BeforeAfter | None
    headlines: list[Headline] = field(default_factory=list)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """CPython's cyclic garbage collector paused for the duration.

    A comparison makes hundreds of thousands of short-lived tuples, lists and dicts, none of
    them in reference cycles: reference counting frees them all, while the cyclic collector,
    triggered every few hundred allocations, would walk them over and over (measured: a third
    of the page's time on 100,000 hearings). Other threads may run meanwhile without it too;
    it is switched back on by whoever switched it off."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def compare(
    *,
    session: Session,
    f: HearingFilter,
    options: CompareOptions | None = None,
    min_n: int = DEFAULT_MIN_N,
    with_agreement: bool = True,
) -> Comparison:
    """Every figure of the comparison page for one filter.

    The figures are kept (CACHE_SIZE sets of them, in this process) until the data they are
    read from changes (app.changes counts every committed write): the same page, report card
    or API call again, by anyone, is then answered without reading the set again. The result
    is shared: read it, never change it."""
    options = options or CompareOptions()
    version = figures_version(session)
    key = (
        str(session.get_bind().url),
        version,
        f.model_dump_json(),
        options.model_dump_json(),
        min_n,
        with_agreement,
        language(),  # the protocols' labels come in the reader's language
    )
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    with _cyclic_gc_paused():
        result = _compare(
            session=session, f=f, options=options, min_n=min_n, with_agreement=with_agreement
        )
    if version is None:
        return result
    with _CACHE_LOCK:
        _CACHE[key] = result
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


CACHE_SIZE = 16
_CACHE: OrderedDict[tuple[Any, ...], Comparison] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def clear_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


def _compare(
    *,
    session: Session,
    f: HearingFilter,
    options: CompareOptions,
    min_n: int,
    with_agreement: bool,
) -> Comparison:
    scope = make_scope(session=session, f=f, min_n=min_n)
    protocols = set_protocols(session=session, scope=scope)
    common = {"session": session, "scope": scope, "protocols": protocols}
    speakers = who_speaks(**common)
    # with where the sentence terms came from (asked beside who decided)
    who_decides = answer_frequencies(**common, tag="decision", with_section_mates=True)
    overall = gaps(**common)
    question = options.question or default_question(protocols)
    result = Comparison(
        filter=scope.f,
        options=options,
        protocols=protocols,
        min_n=min_n,
        hearings=speakers.hearings,
        who_speaks=speakers,
        who_decides=who_decides,
        what_happens=answer_frequencies(**common, tag="outcome"),
        numbers=numbers(**common, by=options.by),
        gaps_overall=overall,
        matrix_by_judge=gap_matrix(**common, by="judge", sort=options.sort),
        matrix_by_courtroom=gap_matrix(**common, by="courtroom", sort=options.sort),
        patterns=patterns(session=session, scope=scope),
        breakdown_by=options.by,
        breakdown=breakdown(**common, by=options.by),
        agreement=agreement(**common) if with_agreement else None,
        trend=trend(**common, key=question, by=options.trend_by) if question else None,
        before_after=(
            before_after(**common, key=question, on=options.on, by=options.trend_by)
            if question and options.on
            else None
        ),
    )
    result.headlines = headlines(result)
    return result


def headlines(c: Comparison, worst: int = 3) -> list[Headline]:
    """The findings to read first: the worst gaps (with enough hearings), who held the most
    influence, and the widest spread between judges."""
    out = []
    for row in [g for g in c.gaps_overall if not g.rate.too_few][:worst]:
        r = row.rate
        out.append(
            Headline(
                gettext(
                    "“%(label)s”: absent in %(count)s of %(n)s hearings where the observer "
                    "could tell (%(pct)s; 95 %% interval %(low)s–%(high)s).",
                    label=row.label,
                    count=r.count,
                    n=r.n,
                    pct=_pct(r.value),
                    low=_pct(r.low),
                    high=_pct(r.high),
                ),
                r,
            )
        )
    for freq in c.who_decides:
        if not freq.values or freq.answered < c.min_n:
            continue
        _, label, n, _ = freq.values[0]
        r = rate(count=n, n=freq.answered, min_n=c.min_n)
        sentence = (
            N_(
                "%(question)s %(answer)s, in %(count)s of %(n)s sittings "
                "(%(pct)s; 95 %% interval %(low)s–%(high)s)."
            )
            if freq.level == "session"
            else N_(
                "%(question)s %(answer)s, in %(count)s of %(n)s hearings "
                "(%(pct)s; 95 %% interval %(low)s–%(high)s)."
            )
        )
        out.append(
            Headline(
                gettext(
                    sentence,
                    question=freq.label,
                    answer=label,
                    count=n,
                    n=freq.answered,
                    pct=_pct(r.value),
                    low=_pct(r.low),
                    high=_pct(r.high),
                ),
                r,
            )
        )
        break
    if c.gaps_overall:
        key = next((g.key for g in c.gaps_overall if not g.rate.too_few), None)
        judged = [
            (row["group"], row["cells"].get(key))
            for row in c.matrix_by_judge.rows
            if row["cells"].get(key) is not None and not row["cells"][key].too_few
        ]
        if key and len(judged) >= 2:
            judged.sort(key=lambda gr: gr[1].value or 0.0)
            (low_name, low), (high_name, high) = judged[0], judged[-1]
            label = next(g.label for g in c.gaps_overall if g.key == key)
            out.append(
                Headline(
                    gettext(
                        "“%(label)s” differs between judges: absent in %(high)s of "
                        "%(high_judge)s's hearings (95 %% interval %(high_low)s–%(high_high)s), "
                        "%(low)s of %(low_judge)s's (%(low_low)s–%(low_high)s).",
                        label=label,
                        high=_pct(high.value),
                        high_judge=high_name,
                        high_low=_pct(high.low),
                        high_high=_pct(high.high),
                        low=_pct(low.value),
                        low_judge=low_name,
                        low_low=_pct(low.low),
                        low_high=_pct(low.high),
                    ),
                )
            )
    return out


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.0f}\u00a0%"  # no line break before the sign


__all__ = [
    "BREAKDOWNS",
    "CompareOptions",
    "Comparison",
    "compare",
    "headlines",
    "stats",
]
