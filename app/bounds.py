"""What fits the columns, the same on SQLite and PostgreSQL.

PostgreSQL's INTEGER is 32-bit (ids, offsets, positions); SQLite takes 64 bits and Python any
size, so without these bounds the same input is stored on one backend and a server error on
the other. Route parameters, filters and API fields that end up in those columns use them.
"""

from __future__ import annotations

from typing import Annotated

import annotated_types
from pydantic import StringConstraints

INT32_MAX = 2**31 - 1

# A row id in a path or a query: larger ids cannot exist, so they are refused before the query.
RowId = Annotated[int, annotated_types.Interval(ge=0, le=INT32_MAX)]

# Text in a query parameter: what a person could type, never a NUL (PostgreSQL cannot hold one).
QueryText = Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00]*$")]

# A day in a query parameter, as YYYY-MM-DD (the route reads it; no "0" read as 1970-01-01).
QueryDay = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
