"""Two devices editing one observation from the same revision: merged by hearing UUID.

A phone sends its whole observation with the revision it was based on. When that is the
server's current revision, the edit becomes current whatever the phone's clock says. When it
is an older one and another device's edit came in since, the two are merged against their
common base, hearing by hearing (and answer by answer for the sitting's questions):

- changed on one side only: that side's version;
- changed on both, differently: the later received (this one), and the observation is flagged
  for staff (both sides stay stored as revisions);
- added on either side: kept; removed on one side and unchanged on the other: removed.

Hearings are compared without their position; the merged calendar is in the current copy's
order with this device's new hearings after, renumbered from 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_MISSING = object()


@dataclass
class Merged:
    payload: dict[str, Any]
    conflict: bool


def _hearing_content(hearing: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in hearing.items() if k != "position"}


def _pick(base: Any, theirs: Any, mine: Any) -> tuple[Any, bool]:
    """One value of three-way merge: (value, whether both sides changed it differently)."""
    if mine == theirs:
        return mine, False
    if mine == base:
        return theirs, False
    if theirs == base:
        return mine, False
    return mine, True


def merge(base: dict[str, Any], theirs: dict[str, Any], mine: dict[str, Any]) -> Merged:
    """`mine` (this device, received last) merged with `theirs` (the current copy) against
    `base` (the revision `mine` was based on). All three are observation payloads."""
    conflict = False
    by_id = {
        name: {h["id"]: _hearing_content(h) for h in payload.get("hearings", [])}
        for name, payload in (("base", base), ("theirs", theirs), ("mine", mine))
    }
    order = [h["id"] for h in theirs.get("hearings", [])]
    order += [h["id"] for h in mine.get("hearings", []) if h["id"] not in by_id["theirs"]]
    hearings = []
    for hearing_id in order:
        value, both = _pick(
            by_id["base"].get(hearing_id, _MISSING),
            by_id["theirs"].get(hearing_id, _MISSING),
            by_id["mine"].get(hearing_id, _MISSING),
        )
        conflict = conflict or both
        if value is not _MISSING:
            hearings.append({**value, "position": len(hearings)})
    answers = {}
    keys = [*theirs.get("session_answers", {}), *mine.get("session_answers", {})]
    for key in dict.fromkeys(keys):
        value, both = _pick(
            base.get("session_answers", {}).get(key, _MISSING),
            theirs.get("session_answers", {}).get(key, _MISSING),
            mine.get("session_answers", {}).get(key, _MISSING),
        )
        conflict = conflict or both
        if value is not _MISSING:
            answers[key] = value
    payload = dict(mine)
    payload["hearings"] = hearings
    payload["session_answers"] = answers
    for field in ("notes", "court"):
        value, both = _pick(base.get(field), theirs.get(field), mine.get(field))
        conflict = conflict or both
        if value is not None or field in mine:
            payload[field] = value
    return Merged(payload=payload, conflict=conflict)
