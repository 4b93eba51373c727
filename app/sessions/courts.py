"""Court and judge names kept consistent: one row per name, spellings folded to a key."""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Any

from sqlmodel import Session, select

from app.sessions.models import Court, Judge
from app.transactions import insert_ignoring_conflicts

_TITLES = re.compile(r"^(the\s+)?(hon(ourable|orable)?\.?\s+|judge\s+|justice\s+)+", re.IGNORECASE)


def name_key(name: str) -> str:
    """Case, accents, punctuation and spacing folded: 'Hennepin  County Dist. Ct.' ~ 'hennepin county dist ct'."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", " ", text.lower())
    return " ".join(text.split())


def judge_key(name: str) -> str:
    """Like name_key, ignoring titles such as 'Judge' or 'Hon.'."""
    return name_key(_TITLES.sub("", name.strip()))


def clean_name(name: str) -> str:
    return " ".join(name.split())


def _get_or_create_named(
    session: Session, model: type[Court] | type[Judge], name: str, key: str
) -> Any:
    """The row of this key, inserted if new; two writers inserting one key at once both get
    the one row (INSERT … ON CONFLICT DO NOTHING, then SELECT)."""
    found = session.exec(select(model).where(model.name_key == key)).first()
    if found is None:
        table = model.__table__  # type: ignore[attr-defined]
        session.execute(
            insert_ignoring_conflicts(session, table), [{"name": clean_name(name), "name_key": key}]
        )
        found = session.exec(select(model).where(model.name_key == key)).one()
    return found


def get_or_create_court(*, session: Session, name: str) -> Court:
    """The court with this name (any spelling that folds to the same key), created if new."""
    return _get_or_create_named(session, Court, name, name_key(name))  # type: ignore[no-any-return]


def get_or_create_judge(*, session: Session, name: str) -> Judge:
    """The judge with this name (titles and spelling folded), created if new."""
    return _get_or_create_named(session, Judge, name, judge_key(name))  # type: ignore[no-any-return]


def similar_names(name: str, candidates: list[str], *, cutoff: float = 0.82) -> list[str]:
    """Existing names that look like another spelling of `name` (for 'did you mean …?')."""
    key = name_key(name)
    keyed = {name_key(c): c for c in candidates}
    if key in keyed:
        return [keyed[key]]
    return [keyed[k] for k in difflib.get_close_matches(key, list(keyed), n=3, cutoff=cutoff)]


def list_courts(*, session: Session) -> list[Court]:
    return list(session.exec(select(Court).order_by(Court.name)))


def list_judges(*, session: Session) -> list[Judge]:
    return list(session.exec(select(Judge).order_by(Judge.name)))


def similar_judge_names(name: str, candidates: list[str], *, cutoff: float = 0.82) -> list[str]:
    """Like similar_names, with titles ('Judge', 'Hon.') folded away on both sides."""
    key = judge_key(name)
    keyed = {judge_key(c): c for c in candidates}
    if key in keyed:
        return [keyed[key]]
    return [keyed[k] for k in difflib.get_close_matches(key, list(keyed), n=3, cutoff=cutoff)]
