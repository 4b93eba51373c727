"""How a judge is named in running text: "Judge Linda Okafor", never "Judge Judge Linda Okafor".

Courts enter judges' names as they like: "Linda Okafor", "Judge Linda Okafor", "Hon. L. Okafor".
Running text adds the title only when the stored name does not already start with one. The same
rule lives in app/static/js/capture.js (judgeLabel) for the capture page, which runs offline.
"""

from __future__ import annotations

import re

_TITLE = re.compile(
    r"^(judge|hon\.?|honou?rable|justice|magistrate|referee|commissioner)\b", re.IGNORECASE
)


def judge_label(name: str | None) -> str:
    value = (name or "").strip()
    if not value:
        return ""
    return value if _TITLE.match(value) else f"Judge {value}"
