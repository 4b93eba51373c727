"""The comparison page for organizers and trainers."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import col, select

from app.analysis import report
from app.analysis.agreement import reference_candidates, set_reference
from app.analysis.rules import RULES
from app.analysis.scope import BREAKDOWNS
from app.analysis.service import CompareOptions, Comparison, compare
from app.audit.service import record_audit
from app.auth.models import Role, User
from app.auth.router import client_address
from app.db import SessionDep
from app.deps import StaffUser, TrainerUser
from app.errors import DomainError, NotFound
from app.exports.models import ObservationSet
from app.i18n import gettext, label
from app.observations.filters import HearingFilter
from app.observations.models import Observation
from app.protocols.models import Protocol
from app.sessions import courts
from app.sessions.models import CalendarType, CourtSession, Judge
from app.sessions.schemas import CALENDAR_LABELS
from app.templating import flash, render, templates

router = APIRouter(include_in_schema=False)


def filter_choices(session: SessionDep) -> dict[str, list[tuple[str, str]]]:
    """Options for the filter form, from what exists."""
    courtrooms = sorted(
        {r for r in session.exec(select(CourtSession.courtroom).distinct()).all() if r}
    )
    observers = session.exec(
        select(User.id, User.display_name)
        .where(col(User.id).in_(select(Observation.observer_id).distinct()))
        .order_by(User.display_name)
    ).all()
    return {
        "court_id": [(str(c.id), c.name) for c in courts.list_courts(session=session)],
        "judge_id": [(str(j.id), j.name) for j in courts.list_judges(session=session)],
        "courtroom": [(r, r) for r in courtrooms],
        "calendar_type": [(c.value, label(CALENDAR_LABELS, c.value)) for c in CalendarType],
        "protocol_id": [
            (str(p.id), p.name)
            for p in session.exec(select(Protocol).order_by(Protocol.name)).all()
        ],
        "observer_id": [(str(i), n) for i, n in observers],
        "status": [("submitted", gettext("Submitted")), ("draft", gettext("Draft"))],
    }


def read_compare_query(
    request: Request, session: SessionDep
) -> tuple[HearingFilter, CompareOptions, ObservationSet | None, dict[str, str]]:
    """The filter (a saved set's, with the query's fields over it), the layout options and
    the field-level messages for what was not understood (left out)."""
    params = dict(request.query_params)
    saved: ObservationSet | None = None
    set_error = None
    if params.get("set"):
        try:
            saved = session.get(ObservationSet, int(params["set"]))
        except ValueError:
            saved = None
        if saved is None:
            set_error = "There is no such observation set."
        else:
            params = {**saved.filters, **{k: v for k, v in params.items() if k != "set" and v}}
    f, errors = HearingFilter.parse(params)
    options, option_errors = CompareOptions.parse(params)
    errors.update(option_errors)
    if set_error:
        errors["set"] = set_error
    return f, options, saved, errors


def compare_figures(
    request: Request, session: SessionDep, f: HearingFilter, options: CompareOptions
) -> Comparison:
    return compare(
        session=session, f=f, options=options, min_n=request.app.state.settings.compare_min_n
    )


@router.get("/compare", name="analysis:compare")
def compare_page(request: Request, session: SessionDep, user: StaffUser) -> Response:
    f, options, saved, errors = read_compare_query(request, session)
    result = compare_figures(request, session, f, options)
    sets = session.exec(select(ObservationSet).order_by(ObservationSet.name)).all()
    candidates = []
    if result.agreement and user.role in (Role.trainer, Role.admin):
        candidates = reference_candidates(session=session, agreement=result.agreement)
    query = {**f.to_params(), **options.to_params(), **({"set": str(saved.id)} if saved else {})}
    return render(
        request,
        "analysis/compare.html",
        {
            "c": result,
            "form": {**query, "set": str(saved.id) if saved else ""},
            "query": query,
            "filtered": bool(f.to_params()) or saved is not None,
            "errors": errors,
            "choices": filter_choices(session),
            "sets": sets,
            "set_options": [("", "— none —")] + [(str(s.id), s.name) for s in sets],
            "saved": saved,
            "breakdowns": BREAKDOWNS,
            "rules": RULES,
            "candidates": candidates,
            "back": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        },
        status_code=422 if errors else 200,
    )


@router.post("/compare/reference", name="analysis:reference")
def mark_reference(
    request: Request,
    session: SessionDep,
    user: TrainerUser,
    observation_id: Annotated[str, Form()] = "",
    is_reference: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """A trainer marks an observation as the reference record (e.g. their own notes of a
    training video), or takes the mark off; agreement then compares each observer with it."""
    try:
        oid = uuid.UUID(observation_id.strip())
    except ValueError:
        raise DomainError(
            gettext("Choose an observation."),
            errors=[{"loc": "observation_id", "msg": gettext("Not an observation id.")}],
            status_code=422,
        ) from None
    if is_reference not in ("0", "1"):
        raise DomainError(
            gettext("Say whether it is the reference."),
            errors=[{"loc": "is_reference", "msg": gettext("Use 1 (reference) or 0 (not).")}],
            status_code=422,
        )
    set_reference(session=session, observation_id=oid, is_reference=is_reference == "1")
    record_audit(
        session,
        action="observation.reference_mark"
        if is_reference == "1"
        else "observation.reference_unmark",
        actor_id=user.id,
        target=f"observation:{oid}",
        ip_address=client_address(request),
        commit=True,
    )
    flash(
        request,
        gettext("Marked as the reference.")
        if is_reference == "1"
        else gettext("No longer the reference."),
        "success",
    )
    target = back if back.startswith("/compare") and "//" not in back else None
    return RedirectResponse(target or str(request.url_for("analysis:compare")), status_code=303)


# --- report cards, the report, its tables ------------------------------------------------------


STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
REPORT_CSS = ("css/app.css", "css/analysis.css")


def _report_context(
    request: Request, session: SessionDep, f: HearingFilter, options: CompareOptions
) -> dict[str, Any]:
    result = compare_figures(request, session, f, options)
    hide_observers = request.query_params.get("hide_observers") == "1"
    hide_dockets = request.query_params.get("hide_dockets") == "1"
    query = {**f.to_params(), **options.to_params()}
    return {
        "c": result,
        "method": report.method(
            session=session, f=f, comparison=result, with_names=not hide_observers
        ),
        "rules": RULES,
        "hide_observers": hide_observers,
        "hide_dockets": hide_dockets,
        "tables": report.TABLES,
        "query": query,
        # the report's own options too: for its PDF link
        "report_query": {
            **query,
            **({"hide_observers": "1"} if hide_observers else {}),
            **({"hide_dockets": "1"} if hide_dockets else {}),
        },
        "inline_css": "\n".join(
            (STATIC_DIR / path).read_text(encoding="utf-8") for path in REPORT_CSS
        ),
    }


def _card(
    request: Request,
    session: SessionDep,
    *,
    subject: str,
    kind: str,
    extra: dict[str, Any],
) -> Response:
    f, options, _, errors = read_compare_query(request, session)
    f = f.model_copy(update=extra)
    context = _report_context(request, session, f, options)
    return render(
        request,
        "analysis/card.html",
        {**context, "subject": subject, "kind": kind, "errors": errors},
        status_code=422 if errors else 200,
    )


@router.get("/compare/judges/{judge_id}", name="analysis:judge_card")
def judge_card(request: Request, session: SessionDep, user: StaffUser, judge_id: int) -> Response:
    """A judge's report card: hearings observed, talk shares, who decided, outcomes, gaps with
    their intervals, the trend; print-ready."""
    judge = session.get(Judge, judge_id)
    if judge is None:
        raise NotFound(gettext("There is no such judge."))
    return _card(
        request, session, subject=judge.name, kind=gettext("Judge"), extra={"judge_id": judge_id}
    )


@router.get("/compare/courtrooms/{courtroom}", name="analysis:courtroom_card")
def courtroom_card(
    request: Request, session: SessionDep, user: StaffUser, courtroom: str
) -> Response:
    """A courtroom's report card (as a judge's)."""
    known = session.exec(
        select(CourtSession.courtroom).where(CourtSession.courtroom == courtroom).limit(1)
    ).first()
    if known is None:
        raise NotFound(gettext("There is no such courtroom."))
    return _card(
        request,
        session,
        subject=gettext("Courtroom %(courtroom)s", courtroom=courtroom),
        kind=gettext("Courtroom"),
        extra={"courtroom": courtroom},
    )


@router.get("/compare/report", name="analysis:report")
def report_page(request: Request, session: SessionDep, user: StaffUser) -> Response:
    """The report of a set to publish: figures, per-judge tables and the method section, with
    a print stylesheet; ?hide_observers=1 and ?hide_dockets=1 leave names and dockets out."""
    f, options, _, errors = read_compare_query(request, session)
    context = _report_context(request, session, f, options)
    return render(
        request,
        "analysis/report.html",
        {**context, "errors": errors},
        status_code=422 if errors else 200,
    )


@router.get("/compare/report.pdf", name="analysis:report_pdf")
def report_pdf(request: Request, session: SessionDep, user: StaffUser) -> Response:
    """The report as a PDF (WeasyPrint), laid out by the same HTML and print stylesheet."""
    f, options, _, errors = read_compare_query(request, session)
    if errors:
        raise DomainError(
            gettext("Some filters were not understood."),
            errors=[{"loc": k, "msg": v} for k, v in errors.items()],
            status_code=422,
        )
    context = _report_context(request, session, f, options)
    html = templates.get_template("analysis/report.html").render(
        {**context, "request": request, "errors": {}, "pdf": True}
    )
    pdf = report.html_to_pdf(html, base_url=str(request.base_url))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="courtwatch-report.pdf"'},
    )


@router.get("/compare/tables/{name}.csv", name="analysis:table_csv")
def table_csv(request: Request, session: SessionDep, user: StaffUser, name: str) -> Response:
    """One table of the report as CSV (UTF-8 with a byte-order mark, for Excel)."""
    if name not in report.TABLES:
        raise NotFound(f"There is no table {name!r}; the tables are {', '.join(report.TABLES)}.")
    f, options, _, errors = read_compare_query(request, session)
    if errors:
        raise DomainError(
            gettext("Some filters were not understood."),
            errors=[{"loc": k, "msg": v} for k, v in errors.items()],
            status_code=422,
        )
    result = compare_figures(request, session, f, options)
    return Response(
        report.table_csv(report.table_rows(result, name)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="courtwatch-{name}.csv"'},
    )
