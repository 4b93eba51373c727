"""Reading JSON a client sent (sync batch, backup file, protocol upload, JSON import) safely.

`json.loads` recurses once per nesting level and then raises RecursionError (a server error);
NaN and Infinity are not JSON but Python accepts them, and PostgreSQL's JSON type then refuses
them at write time. So the nesting depth is measured before parsing, on the brackets outside
strings, at C speed (a regular expression, bytes.translate and bytes.replace), and those constants are refused.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Deep enough for every document Courtwatch writes (an export with protocol definitions nests
# about 10 levels); far below the interpreter's recursion limit.
MAX_JSON_DEPTH = 32

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_BRACKETS_AS_SQUARE = bytes.maketrans(b"{}", b"[]")


class JsonRefused(ValueError):
    """The text is not JSON we read. `reason` completes "The file is …" ("not valid JSON: …");
    `message` is the reason as a sentence of its own."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = reason[0].upper() + reason[1:] + "."


def nesting_depth_exceeds(raw: bytes, limit: int) -> bool:
    """Whether arrays and objects nest deeper than `limit` in `raw` (strings ignored).

    Each pass removes every innermost pair of brackets, so a document `limit` deep is empty
    after `limit` passes. Unbalanced brackets are left for the parser to report.
    """
    brackets = _STRING.sub(b"", raw).translate(_BRACKETS_AS_SQUARE, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return False
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):  # unbalanced: nothing more to remove
            return False
        brackets = shorter
    return b"[]" in brackets


def _refuse_constant(name: str) -> Any:
    raise JsonRefused(f"not JSON: {name} is not a number (send a finite number or null)")


def load_json(raw: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The parsed document, or JsonRefused: not UTF-8, not JSON, nested deeper than
    `max_depth`, NaN/Infinity, or an integer with thousands of digits."""
    if isinstance(raw, str):
        data = raw.encode("utf-8", "surrogatepass")
    else:
        data = raw.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark from a Windows editor
    if nesting_depth_exceeds(data, max_depth):
        raise JsonRefused(
            f"JSON nested more than {max_depth} levels deep (no Courtwatch document is)"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonRefused("text that is not UTF-8") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise JsonRefused(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except JsonRefused:
        raise
    except (ValueError, RecursionError) as exc:  # e.g. an integer past Python's digit limit
        raise JsonRefused(f"not JSON we can read ({exc})") from None
