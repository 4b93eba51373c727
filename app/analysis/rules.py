"""The rules every rate in the findings follows (the page's explanations and the report's
method section quote RULES):

- the denominator is the hearings where the observer could tell (yes or no; or one of the
  question's choices); "not observed" and "unanswered" are counted beside it, never in it;
- every rate has its n and a 95 % Wilson interval;
- a group with fewer hearings than the minimum n is "too few hearings to compare": shown
  greyed, never coloured or ranked.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.analysis import stats

RULES = (
    "A rate counts only the hearings where the observer could tell (yes or no, or one of the "
    "question's choices). “Not observed” (the observer could not see or hear it) and "
    "“unanswered” (left blank) are counted beside the rate, never folded into it.",
    "Every rate shows its n (the hearings it is out of) and a 95 % Wilson score interval: the "
    "range the true rate is likely to lie in, given how few or many hearings were seen.",
    "A group with fewer hearings than the minimum n is shown greyed as “too few hearings to "
    "compare”: never coloured, never ranked.",
    "Only submitted observations count, unless the filter asks for drafts.",
    "A question shown only under a condition (for example “Was the no-contact order explained?”"
    " only when one was ordered) counts over the hearings where the condition held; the same "
    "rule holds in every agreement table: a question is compared only where both observers "
    "answered it.",
    "Numbers (jail days, probation months) are given as n, median, quartiles, mean and "
    "minimum–maximum.",
    "Agreement between observers: Cohen's κ where every shared hearing had two observers, "
    "Fleiss' κ for a varying number of observers (Gwet 2014) otherwise. κ is shown as “—” "
    "when it is undefined (everyone gave one and the same answer), never as a perfect score.",
)


@dataclass(frozen=True)
class Rate:
    """How often something was so, out of the hearings where the observer could tell."""

    count: int  # hearings where it was so (for a gap: where the thing was absent)
    n: int  # hearings where the observer could tell
    not_observed: int  # answered "not observed"
    unanswered: int | None  # left blank (None: cannot be known)
    min_n: int

    @property
    def value(self) -> float | None:
        return self.count / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return stats.wilson_interval(self.count, self.n)

    @property
    def low(self) -> float | None:
        found = self.interval
        return found[0] if found else None

    @property
    def high(self) -> float | None:
        found = self.interval
        return found[1] if found else None

    @property
    def too_few(self) -> bool:
        """Below the minimum n: greyed, never coloured or ranked."""
        return self.n < self.min_n

    def as_dict(self) -> dict[str, object]:
        return {
            "count": self.count,
            "n": self.n,
            "rate": self.value,
            "ci95": list(self.interval) if self.interval else None,
            "not_observed": self.not_observed,
            "unanswered": self.unanswered,
            "too_few": self.too_few,
        }


def rate(
    *, count: int, n: int, not_observed: int = 0, unanswered: int | None = 0, min_n: int
) -> Rate:
    return Rate(
        count=max(0, min(count, n)),
        n=max(0, n),
        not_observed=not_observed,
        unanswered=unanswered if unanswered is None else max(0, unanswered),
        min_n=min_n,
    )


def rank_key(r: Rate) -> tuple[int, float, int]:
    """Sort order for rates, worst (highest) first: groups with too few hearings last, unranked."""
    return (1, 0.0, 0) if r.too_few or r.value is None else (0, -r.value, -r.n)


@dataclass(frozen=True)
class Difference:
    """Before/after: p_after − p_before with Newcombe's 95 % interval."""

    before: Rate
    after: Rate

    @property
    def figures(self) -> tuple[float, float, float] | None:
        return stats.difference_interval(
            self.after.count, self.after.n, self.before.count, self.before.n
        )

    @property
    def too_few(self) -> bool:
        return self.before.too_few or self.after.too_few
