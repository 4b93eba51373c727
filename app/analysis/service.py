"""Comparison over a filtered set of hearings: who speaks, who decides, what happens, gaps,
patterns, breakdowns and observer agreement.

SQL does the counting (GROUP BY over hearing, hearing_speaker and answer rows, restricted to
the filter's hearing ids); Python only combines the small grouped results and computes the
statistics in app.analysis.stats over distinct scripts and over multiply-observed hearings.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.analysis import stats
from app.auth.models import User
from app.observations.filters import HearingFilter, hearing_ids, observation_ids
from app.observations.models import Answer, Hearing, HearingSpeaker, Observation
from app.protocols.definition import ProtocolDefinition, Question, parse_definition
from app.protocols.models import Protocol, ProtocolVersion
from app.sessions.models import Court, CourtSession, Judge

GAP_TAGS = ("safety", "accountability")
CATEGORICAL = {"single_choice", "yes_no"}
ABSENT_YES_NO = {"no"}
NOT_OBSERVED = "not_observed"
BREAKDOWNS = {
    "judge": "Judge",
    "courtroom": "Courtroom",
    "calendar_type": "Calendar type",
    "month": "Month",
}


# --- what the set's protocols say ------------------------------------------------------------


@dataclass
class SetProtocols:
    """The protocol versions in a set, and the questions and roles they define."""

    versions: dict[int, tuple[str, ProtocolDefinition]]  # version id → (protocol name, definition)
    roles: dict[str, dict[str, str]]  # role key → {label, colour}

    def questions(self, *, tag: str | None = None, level: str | None = None) -> dict[str, Question]:
        """Questions by key over every version (the newest version's wording wins)."""
        found: dict[str, Question] = {}
        for version_id in sorted(self.versions):
            for q in self.versions[version_id][1].questions(level):  # type: ignore[arg-type]
                if tag is None or tag in q.tags:
                    found[q.key] = q
        return found

    def versions_with(self, key: str) -> set[int]:
        return {vid for vid, (_, d) in self.versions.items() if d.question(key) is not None}

    def role_label(self, key: str | None) -> str:
        if key is None:
            return "—"
        return self.roles.get(key, {}).get("label", key.replace("_", " ").capitalize())

    def role_colour(self, key: str) -> str:
        return self.roles.get(key, {}).get("colour", "#9aa5b1")

    def choice_label(self, key: str, value: str) -> str:
        q = self.questions().get(key)
        if q is not None:
            for c in q.choices:
                if c.value == value:
                    return c.label
            if q.type == "yes_no":
                return {"yes": "Yes", "no": "No", "not_observed": "Not observed"}.get(value, value)
        return self.role_label(value) if value in self.roles else value


def set_protocols(*, session: Session, f: HearingFilter) -> SetProtocols:
    """Definitions of every protocol version used by the set's observations."""
    ids = (
        select(Observation.protocol_version_id)
        .where(col(Observation.id).in_(observation_ids(f)))
        .distinct()
    )
    rows = session.exec(
        select(ProtocolVersion, Protocol.name)
        .join(Protocol, Protocol.id == ProtocolVersion.protocol_id)  # type: ignore[arg-type]
        .where(col(ProtocolVersion.id).in_(ids))
        .order_by(ProtocolVersion.id)
    ).all()
    versions: dict[int, tuple[str, ProtocolDefinition]] = {}
    roles: dict[str, dict[str, str]] = {}
    for version, name in rows:
        definition = parse_definition(version.definition)
        versions[version.id] = (name, definition)  # type: ignore[index]
        for r in definition.timeline_roles():
            roles[r.key] = {"label": r.label, "colour": r.colour}
    return SetProtocols(versions, roles)


# --- who speaks ------------------------------------------------------------------------------


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


def count_hearings(*, session: Session, f: HearingFilter) -> int:
    return int(session.exec(select(sa.func.count()).select_from(hearing_ids(f).subquery())).one())


def who_speaks(*, session: Session, f: HearingFilter, protocols: SetProtocols) -> WhoSpeaks:
    """Turns, talk time and its share per role; how often each role spoke first and last."""
    hids = hearing_ids(f)
    rows = session.exec(
        select(
            HearingSpeaker.role,
            sa.func.sum(HearingSpeaker.turn_count),
            sa.func.sum(HearingSpeaker.talk_ms),
            sa.func.count(),
        )
        .where(col(HearingSpeaker.hearing_id).in_(hids))
        .group_by(HearingSpeaker.role)
    ).all()
    firsts = dict(
        session.exec(
            select(Hearing.first_role, sa.func.count())
            .where(col(Hearing.id).in_(hids), col(Hearing.first_role).is_not(None))
            .group_by(Hearing.first_role)
        ).all()
    )
    lasts = dict(
        session.exec(
            select(Hearing.last_role, sa.func.count())
            .where(col(Hearing.id).in_(hids), col(Hearing.last_role).is_not(None))
            .group_by(Hearing.last_role)
        ).all()
    )
    total = sum(int(r[2] or 0) for r in rows)
    figures = [
        RoleFigures(
            role=role,
            label=protocols.role_label(role),
            colour=protocols.role_colour(role),
            turns=int(turns or 0),
            talk_ms=int(talk or 0),
            hearings=int(n),
            share=(int(talk or 0) / total) if total else 0.0,
            first=int(firsts.get(role, 0)),
            last=int(lasts.get(role, 0)),
        )
        for role, turns, talk, n in rows
    ]
    order = list(protocols.roles)
    figures.sort(key=lambda r: (-r.talk_ms, order.index(r.role) if r.role in order else 99))
    return WhoSpeaks(count_hearings(session=session, f=f), total, figures)


# --- answer frequencies (who decides, what happens) -----------------------------------------


@dataclass
class Frequency:
    key: str
    label: str
    level: str
    answered: int  # hearings (or sittings) with an answer
    values: list[tuple[str, str, int, float]]  # (value, label, count, share of answered)


def answer_frequencies(
    *, session: Session, f: HearingFilter, protocols: SetProtocols, tag: str
) -> list[Frequency]:
    """For each question with `tag`: how often each value was given (list answers count each item)."""
    questions = protocols.questions(tag=tag)
    if not questions:
        return []
    hearing_keys = [k for k, q in questions.items() if q.type != "speaker_timeline"]
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    answered: dict[str, int] = {}
    by_level = {
        "hearing": (col(Answer.hearing_id).in_(hearing_ids(f)), Answer.hearing_id),
        "session": (
            sa.and_(
                col(Answer.hearing_id).is_(None), col(Answer.observation_id).in_(observation_ids(f))
            ),
            Answer.observation_id,
        ),
    }
    for level, (where, unit) in by_level.items():
        keys = [k for k in hearing_keys if _level_of(protocols, k) == level]
        if not keys:
            continue
        for key, value, n in session.exec(
            select(Answer.question_key, Answer.value_text, sa.func.count())
            .where(where, col(Answer.question_key).in_(keys))
            .group_by(Answer.question_key, Answer.value_text)
        ).all():
            counts[key][value] = int(n)
        for key, n in session.exec(
            select(Answer.question_key, sa.func.count(sa.distinct(unit)))
            .where(where, col(Answer.question_key).in_(keys))
            .group_by(Answer.question_key)
        ).all():
            answered[key] = int(n)
    out = []
    for key, q in questions.items():
        if key not in counts:
            continue
        total = answered.get(key, 0)
        values = sorted(
            (
                (value, protocols.choice_label(key, value), n, n / total if total else 0.0)
                for value, n in counts[key].items()
                if value is not None
            ),
            key=lambda v: -v[2],
        )
        out.append(Frequency(key, q.label, _level_of(protocols, key), total, values))
    return out


def _level_of(protocols: SetProtocols, key: str) -> str:
    for _, definition in protocols.versions.values():
        for section in definition.sections:
            if any(q.key == key for q in section.questions):
                return section.level
    return "hearing"


# --- gaps ------------------------------------------------------------------------------------


@dataclass
class GapRow:
    key: str
    label: str
    tag: str
    group: str  # "All hearings", a judge's name, a courtroom
    hearings: int  # hearings where the question applied
    absent: int  # answered with an "absent" value (No, or a choice marked absent)
    not_observed: int  # "Not observed", or left unanswered
    rate: float  # (absent + not_observed) / hearings


def _absent_values(q: Question) -> set[str]:
    if q.type == "yes_no":
        return set(ABSENT_YES_NO)
    return {c.value for c in q.choices if c.absent}


def gaps(
    *, session: Session, f: HearingFilter, protocols: SetProtocols, by: str | None = None
) -> list[GapRow]:
    """For every safety/accountability question: how often the thing was absent or not observed,
    overall (by=None), per judge (by="judge") or per courtroom (by="courtroom"); worst first.

    A question shown only under a condition counts only the hearings where it was answered;
    an unconditional question left unanswered counts as not observed."""
    questions = {
        k: (q, tag)
        for tag in GAP_TAGS
        for k, q in protocols.questions(tag=tag, level="hearing").items()
        if q.type in ("yes_no", "single_choice", "multi_choice")
    }
    if not questions:
        return []
    group_col, labels = _group_column(session, by)
    hids = hearing_ids(f).subquery()
    base = (
        select(
            Hearing.id.label("hid"),
            Observation.protocol_version_id.label("pv"),
            group_col.label("grp"),
        )  # type: ignore[attr-defined]
        .join(Observation, Observation.id == Hearing.observation_id)  # type: ignore[arg-type]
        .join(CourtSession, CourtSession.id == Observation.court_session_id)  # type: ignore[arg-type]
        .where(col(Hearing.id).in_(select(hids.c.id)))
    ).subquery()
    # Hearings per group and protocol version: the denominators.
    per_version: dict[Any, dict[int, int]] = defaultdict(dict)
    for grp, pv, n in session.execute(
        select(base.c.grp, base.c.pv, sa.func.count()).group_by(base.c.grp, base.c.pv)
    ).all():
        per_version[grp][pv] = int(n)
    # Answers per group, question and value.
    answers: dict[tuple[Any, str], dict[str, int]] = defaultdict(dict)
    answered: dict[tuple[Any, str], int] = {}
    answer_rows = (
        select(base.c.grp, Answer.question_key, Answer.value_text, sa.func.count())
        .join(base, base.c.hid == Answer.hearing_id)
        .where(col(Answer.question_key).in_(list(questions)))
        .group_by(base.c.grp, Answer.question_key, Answer.value_text)
    )
    for grp, key, value, n in session.execute(answer_rows).all():
        answers[(grp, key)][value] = int(n)
    for grp, key, n in session.execute(
        select(base.c.grp, Answer.question_key, sa.func.count(sa.distinct(Answer.hearing_id)))
        .join(base, base.c.hid == Answer.hearing_id)
        .where(col(Answer.question_key).in_(list(questions)))
        .group_by(base.c.grp, Answer.question_key)
    ).all():
        answered[(grp, key)] = int(n)

    rows = []
    for key, (q, tag) in questions.items():
        versions = protocols.versions_with(key)
        absent_values = _absent_values(q)
        for grp, by_version in per_version.items():
            applicable = sum(n for pv, n in by_version.items() if pv in versions)
            got = answered.get((grp, key), 0)
            values = answers.get((grp, key), {})
            if q.show_if is not None:
                applicable = got
            if not applicable:
                continue
            absent = sum(n for v, n in values.items() if v in absent_values)
            not_observed = values.get(NOT_OBSERVED, 0) + max(0, applicable - got)
            rows.append(
                GapRow(
                    key,
                    q.label,
                    tag,
                    labels(grp),
                    applicable,
                    absent,
                    not_observed,
                    (absent + not_observed) / applicable,
                )
            )
    rows.sort(key=lambda r: (-r.rate, -r.hearings, r.key, r.group))
    return rows


def _group_column(session: Session, by: str | None) -> tuple[sa.ColumnElement[Any], Any]:
    if by is None:
        return sa.literal("all"), lambda _g: "All hearings"
    if by == "judge":
        names = dict(session.exec(select(Judge.id, Judge.name)).all())
        return CourtSession.judge_id, lambda g: names.get(g, "No judge recorded")  # type: ignore[return-value]
    if by == "courtroom":
        return CourtSession.courtroom, lambda g: g or "—"  # type: ignore[return-value]
    if by == "court":
        names = dict(session.exec(select(Court.id, Court.name)).all())
        return CourtSession.court_id, lambda g: names.get(g, "—")  # type: ignore[return-value]
    if by == "calendar_type":
        return CourtSession.calendar_type, lambda g: (g or "—").replace("_", " ").capitalize()  # type: ignore[return-value]
    if by == "month":
        return _month_expr(session), lambda g: g or "—"  # type: ignore[return-value]
    raise ValueError(f"unknown breakdown {by!r}")


def _month_expr(session: Session) -> sa.ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.to_char(CourtSession.session_date, "YYYY-MM")
    return sa.func.strftime("%Y-%m", CourtSession.session_date)


# --- patterns --------------------------------------------------------------------------------


@dataclass
class Patterns:
    hearings: int
    common: list[tuple[tuple[str, ...], int, float]]  # script, count, share
    modal: tuple[str, ...]
    mean_distance: float | None
    departures: list[dict[str, Any]]  # hearings that depart most from the modal script


def parse_script(script: str | None) -> tuple[str, ...]:
    return tuple(s for s in (script or "").split(">") if s)


def patterns(
    *, session: Session, f: HearingFilter, top: int = 10, departures: int = 10
) -> Patterns:
    """The most common scripts, how alike the hearings are, and which depart most.

    Distances are computed once per distinct script, weighted by how many hearings have it."""
    hids = hearing_ids(f)
    distinct = session.exec(
        select(Hearing.script, sa.func.count())
        .where(col(Hearing.id).in_(hids))
        .group_by(Hearing.script)
    ).all()
    scripts = [(parse_script(s), int(n)) for s, n in distinct if s]
    total = sum(n for _, n in scripts)
    if not scripts:
        return Patterns(0, [], (), None, [])
    ranked = sorted(scripts, key=lambda sn: (-sn[1], stats.script_key(sn[0])))
    modal = ranked[0][0]
    distances = {s: stats.normalised_edit_distance(s, modal) for s, _ in scripts}
    mean = sum(distances[s] * n for s, n in scripts) / total
    worst_scripts = sorted(scripts, key=lambda sn: (-distances[sn[0]], -sn[1]))[:departures]
    worst_keys = [">".join(s) for s, _ in worst_scripts if distances[s] > 0]
    rows = []
    if worst_keys:
        found = session.exec(
            select(Hearing.id, Hearing.script, Hearing.case_reference, CourtSession.session_date)
            .join(Observation, Observation.id == Hearing.observation_id)  # type: ignore[arg-type]
            .join(CourtSession, CourtSession.id == Observation.court_session_id)  # type: ignore[arg-type]
            .where(col(Hearing.id).in_(hids), col(Hearing.script).in_(worst_keys))
            .order_by(col(CourtSession.session_date).desc())
        ).all()
        seen: dict[str, int] = defaultdict(int)
        for hid, script, case_reference, session_date in found:
            if seen[script] >= 2:  # a couple of examples per unusual script
                continue
            seen[script] += 1
            s = parse_script(script)
            rows.append(
                {
                    "hearing_id": hid,
                    "script": s,
                    "distance": distances[s],
                    "case_reference": case_reference,
                    "session_date": session_date,
                }
            )
        rows.sort(key=lambda r: -r["distance"])
        rows = rows[:departures]
    common = [(s, n, n / total) for s, n in ranked[:top]]
    return Patterns(total, common, modal, mean, rows)


# --- breakdowns ------------------------------------------------------------------------------


@dataclass
class BreakdownRow:
    group: str
    hearings: int
    mean_talk_ms: float
    shares: dict[str, float]  # role → share of talk time
    gap_rate: float | None  # mean over safety/accountability questions


def breakdown(
    *, session: Session, f: HearingFilter, protocols: SetProtocols, by: str
) -> list[BreakdownRow]:
    """Key figures side by side per judge, courtroom, calendar type or month."""
    group_col, labels = _group_column(session, by)
    hids = hearing_ids(f)
    base = (
        select(Hearing.id.label("hid"), Hearing.talk_ms.label("talk"), group_col.label("grp"))  # type: ignore[attr-defined]
        .join(Observation, Observation.id == Hearing.observation_id)  # type: ignore[arg-type]
        .join(CourtSession, CourtSession.id == Observation.court_session_id)  # type: ignore[arg-type]
        .where(col(Hearing.id).in_(hids))
    ).subquery()
    totals = {
        grp: (int(n), float(mean or 0))
        for grp, n, mean in session.execute(
            select(base.c.grp, sa.func.count(), sa.func.avg(base.c.talk)).group_by(base.c.grp)
        ).all()
    }
    talk: dict[Any, dict[str, int]] = defaultdict(dict)
    for grp, role, ms in session.execute(
        select(base.c.grp, HearingSpeaker.role, sa.func.sum(HearingSpeaker.talk_ms))
        .join(base, base.c.hid == HearingSpeaker.hearing_id)
        .group_by(base.c.grp, HearingSpeaker.role)
    ).all():
        talk[grp][role] = int(ms or 0)
    gap_rates: dict[str, list[float]] = defaultdict(list)
    if by in ("judge", "courtroom"):
        for row in gaps(session=session, f=f, protocols=protocols, by=by):
            gap_rates[row.group].append(row.rate)
    rows = []
    for grp, (n, mean) in totals.items():
        total_talk = sum(talk[grp].values())
        shares = {role: ms / total_talk for role, ms in talk[grp].items()} if total_talk else {}
        label = labels(grp)
        rates = gap_rates.get(label)
        rows.append(
            BreakdownRow(label, n, mean, shares, sum(rates) / len(rates) if rates else None)
        )
    rows.sort(key=lambda r: r.group)
    return rows


# --- agreement -------------------------------------------------------------------------------


@dataclass
class MatchedHearing:
    key: tuple[Any, ...]  # (court session id, "case", reference) or (court session id, "pos", n)
    label: str
    hearings: dict[
        int, dict[str, Any]
    ]  # observer id → {hearing_id, observation_id, script, answers, is_reference}


@dataclass
class QuestionAgreement:
    key: str
    label: str
    items: int  # matched hearings rated by two or more observers
    percent: float | None
    kappa: float | None
    interpretation: str
    method: str  # "Cohen" or "Fleiss"


@dataclass
class ObserverVsReference:
    observer: str
    hearings: int
    per_question: list[tuple[str, str, int, int]]  # key, label, agreed, compared
    script_distance: float | None


@dataclass
class Agreement:
    matched: list[MatchedHearing]
    questions: list[QuestionAgreement]
    script_distance: (
        float | None
    )  # mean pairwise normalised edit distance between observers' scripts
    reference: list[ObserverVsReference] = field(default_factory=list)


def matched_hearings(*, session: Session, f: HearingFilter) -> list[MatchedHearing]:
    """Hearings observed by two or more volunteers: same court session and case reference, or
    same court session and order when the case reference is missing."""
    hids = hearing_ids(f)
    shared_sessions = (
        select(Observation.court_session_id)
        .where(col(Observation.id).in_(observation_ids(f)))
        .group_by(Observation.court_session_id)
        .having(sa.func.count(sa.distinct(Observation.observer_id)) >= 2)
    )
    rows = session.exec(
        select(
            Hearing.id,
            Hearing.observation_id,
            Hearing.case_reference,
            Hearing.position,
            Hearing.script,
            Observation.observer_id,
            Observation.court_session_id,
            Observation.is_reference,
        )
        .join(Observation, Observation.id == Hearing.observation_id)  # type: ignore[arg-type]
        .where(col(Hearing.id).in_(hids), col(Observation.court_session_id).in_(shared_sessions))
    ).all()
    groups: dict[tuple[Any, ...], dict[int, dict[str, Any]]] = defaultdict(dict)
    for hid, oid, ref, pos, script, observer, cs_id, is_ref in rows:
        reference = (ref or "").strip().upper()
        key = (cs_id, "case", reference) if reference else (cs_id, "pos", pos)
        groups[key][observer] = {
            "hearing_id": hid,
            "observation_id": oid,
            "script": parse_script(script),
            "is_reference": bool(is_ref),
            "answers": {},
        }
    groups = {k: v for k, v in groups.items() if len(v) >= 2}
    if not groups:
        return []
    by_hearing = {h["hearing_id"]: h for g in groups.values() for h in g.values()}
    ids = list(by_hearing)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for hid, key, value in session.exec(
            select(Answer.hearing_id, Answer.question_key, Answer.value_text).where(
                col(Answer.hearing_id).in_(chunk)
            )
        ).all():
            by_hearing[hid]["answers"].setdefault(key, []).append(value)
    out = []
    for key, observers in sorted(groups.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][2]))):
        label = f"case {key[2]}" if key[1] == "case" else f"hearing #{int(key[2]) + 1}"
        out.append(MatchedHearing(key, label, observers))
    return out


def _single(values: list[Any] | None) -> Any:
    if not values:
        return None
    return values[0] if len(values) == 1 else tuple(sorted(map(str, values)))


def agreement(*, session: Session, f: HearingFilter, protocols: SetProtocols) -> Agreement:
    """Per categorical question: percent agreement and kappa; per hearing: script distance;
    and, where a trainer marked a reference observation, each observer against it."""
    matched = matched_hearings(session=session, f=f)
    questions = {
        k: q for k, q in protocols.questions(level="hearing").items() if q.type in CATEGORICAL
    }
    results = []
    for key, q in questions.items():
        ratings = []
        for m in matched:
            # Ordered by observer so Cohen's κ sees the same rater in the same place.
            values = [_single(h["answers"].get(key)) for _, h in sorted(m.hearings.items())]
            values = [v for v in values if v is not None]
            if len(values) >= 2:
                ratings.append(values)
        if not ratings:
            continue
        counts = {len(r) for r in ratings}
        k = stats.kappa(ratings)
        results.append(
            QuestionAgreement(
                key,
                q.label,
                len(ratings),
                stats.percent_agreement(ratings),
                k,
                stats.interpret_kappa(k),
                "Cohen" if counts == {2} else "Fleiss",
            )
        )
    distances = []
    for m in matched:
        scripts = [h["script"] for h in m.hearings.values() if h["script"]]
        for i in range(len(scripts)):
            for j in range(i + 1, len(scripts)):
                distances.append(stats.normalised_edit_distance(scripts[i], scripts[j]))
    result = Agreement(matched, results, sum(distances) / len(distances) if distances else None)
    result.reference = _against_reference(session, matched, questions)
    return result


def _against_reference(
    session: Session, matched: list[MatchedHearing], questions: dict[str, Question]
) -> list[ObserverVsReference]:
    per_observer: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    hearings_seen: dict[int, int] = defaultdict(int)
    distances: dict[int, list[float]] = defaultdict(list)
    for m in matched:
        reference = next((h for h in m.hearings.values() if h["is_reference"]), None)
        if reference is None:
            continue
        for observer, h in m.hearings.items():
            if h is reference:
                continue
            hearings_seen[observer] += 1
            if reference["script"] or h["script"]:
                distances[observer].append(
                    stats.normalised_edit_distance(reference["script"], h["script"])
                )
            for key in questions:
                ref_value = _single(reference["answers"].get(key))
                if ref_value is None:
                    continue
                counts = per_observer[observer][key]
                counts[1] += 1
                if _single(h["answers"].get(key)) == ref_value:
                    counts[0] += 1
    if not hearings_seen:
        return []
    names = dict(
        session.exec(
            select(User.id, User.display_name).where(col(User.id).in_(list(hearings_seen)))
        ).all()
    )
    out = []
    for observer, n in sorted(hearings_seen.items(), key=lambda kv: names.get(kv[0], "")):
        rows = [
            (key, questions[key].label, agreed, compared)
            for key, (agreed, compared) in per_observer[observer].items()
            if compared
        ]
        d = distances[observer]
        out.append(
            ObserverVsReference(
                names.get(observer, f"Observer {observer}"), n, rows, sum(d) / len(d) if d else None
            )
        )
    return out


# --- the whole page ----------------------------------------------------------------------------


@dataclass
class Comparison:
    filter: HearingFilter
    protocols: SetProtocols
    who_speaks: WhoSpeaks
    who_decides: list[Frequency]
    what_happens: list[Frequency]
    gaps_overall: list[GapRow]
    gaps_by_judge: list[GapRow]
    gaps_by_courtroom: list[GapRow]
    patterns: Patterns
    breakdown_by: str
    breakdown: list[BreakdownRow]
    agreement: Agreement | None


def compare(
    *, session: Session, f: HearingFilter, breakdown_by: str = "judge", with_agreement: bool = True
) -> Comparison:
    """Every figure of the comparison page for one filter."""
    if breakdown_by not in BREAKDOWNS:
        breakdown_by = "judge"
    protocols = set_protocols(session=session, f=f)
    return Comparison(
        filter=f,
        protocols=protocols,
        who_speaks=who_speaks(session=session, f=f, protocols=protocols),
        who_decides=answer_frequencies(session=session, f=f, protocols=protocols, tag="decision"),
        what_happens=answer_frequencies(session=session, f=f, protocols=protocols, tag="outcome"),
        gaps_overall=gaps(session=session, f=f, protocols=protocols),
        gaps_by_judge=gaps(session=session, f=f, protocols=protocols, by="judge"),
        gaps_by_courtroom=gaps(session=session, f=f, protocols=protocols, by="courtroom"),
        patterns=patterns(session=session, f=f),
        breakdown_by=breakdown_by,
        breakdown=breakdown(session=session, f=f, protocols=protocols, by=breakdown_by),
        agreement=agreement(session=session, f=f, protocols=protocols) if with_agreement else None,
    )


def month_label(d: date) -> str:
    return d.strftime("%Y-%m")
