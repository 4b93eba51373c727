"""What fits the columns, the same on SQLite and PostgreSQL.

PostgreSQL's INTEGER is 32-bit (ids, offsets, positions); SQLite takes 64 bits and Python any
size, so without these bounds the same input is stored on one backend and a server error on
the other. Route parameters, filters and API fields that end up in those columns use them.
"""

from __future__ import annotations

from typing import Annotated

import annotated_types

INT32_MAX = 2**31 - 1

# A row id in a path or a query: larger ids cannot exist, so they are refused before the query.
RowId = Annotated[int, annotated_types.Interval(ge=0, le=INT32_MAX)]
