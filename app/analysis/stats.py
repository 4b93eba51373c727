"""Statistics for the comparison pages: hearing scripts ("who speaks, in what order") and
observer agreement.

Pure functions, no database; edit distances by rapidfuzz. A script is a sequence of speaker roles
with consecutive repeats merged. Ratings are any hashable category values; None means the
observer left the question unanswered and is skipped. Kappas are computed exactly with
Fraction and returned as float.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from rapidfuzz.distance import Levenshtein

SCRIPT_SEPARATOR = ">"

# Landis & Koch (1977): upper bound (inclusive) of each band for κ ≥ 0.
KAPPA_BANDS: tuple[tuple[float, str], ...] = (
    (0.20, "slight"),
    (0.40, "fair"),
    (0.60, "moderate"),
    (0.80, "substantial"),
    (1.00, "almost perfect"),
)


# --- scripts ----------------------------------------------------------------------------------


def merge_script(roles: Sequence[str]) -> tuple[str, ...]:
    """Consecutive repeats merged: [j, j, p, d, d, j] → (j, p, d, j)."""
    merged: list[str] = []
    for role in roles:
        if not merged or merged[-1] != role:
            merged.append(role)
    return tuple(merged)


def edit_distance(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Levenshtein distance over role tokens: fewest insertions, deletions, substitutions
    (rapidfuzz, which takes any sequences of hashable items)."""
    return Levenshtein.distance(a, b)


def normalised_edit_distance(a: Sequence[str], b: Sequence[str]) -> float:
    """edit_distance(a, b) / max(len(a), len(b)), in [0, 1]; 0.0 when both are empty."""
    longest = max(len(a), len(b))
    return edit_distance(a, b) / longest if longest else 0.0


def script_key(script: Sequence[str]) -> str:
    """Stable text form of a script, 'judge>prosecutor>defense'; raises ValueError for a role
    that is empty or contains '>', since parse_script_key could not give it back."""
    for role in script:
        if not role or SCRIPT_SEPARATOR in role:
            raise ValueError(f"role {role!r} cannot be part of a script key")
    return SCRIPT_SEPARATOR.join(script)


def parse_script_key(key: str) -> tuple[str, ...]:
    """Inverse of script_key: 'judge>prosecutor' → ('judge', 'prosecutor'); '' → ()."""
    return tuple(role for role in key.split(SCRIPT_SEPARATOR) if role)


def common_scripts(
    scripts: Iterable[Sequence[str]], top: int = 10
) -> list[tuple[tuple[str, ...], int]]:
    """The `top` most common scripts with their counts, most common first, ties by script_key."""
    counts = Counter(tuple(script) for script in scripts)
    ranked = sorted(counts.items(), key=lambda sc: (-sc[1], script_key(sc[0])))
    return ranked[: max(top, 0)]


@dataclass(frozen=True)
class ScriptSimilarity:
    """How alike a set of scripts is, measured against the most common one."""

    modal: tuple[str, ...]
    mean_distance: float | None  # None when there were no scripts
    # (index into the input, normalised distance to the modal script), worst first, then by index
    departures: list[tuple[int, float]] = field(default_factory=list)


def script_similarity(scripts: Sequence[Sequence[str]]) -> ScriptSimilarity:
    """Modal script (ties by script_key), mean normalised edit distance to it, and departures."""
    if not scripts:
        return ScriptSimilarity(modal=(), mean_distance=None, departures=[])
    modal = common_scripts(scripts, top=1)[0][0]
    distances = [(i, normalised_edit_distance(s, modal)) for i, s in enumerate(scripts)]
    mean = sum(d for _, d in distances) / len(distances)
    worst_first = sorted(distances, key=lambda item: (-item[1], item[0]))
    return ScriptSimilarity(modal=modal, mean_distance=mean, departures=worst_first)


# --- observer agreement -----------------------------------------------------------------------


def _rated(ratings: Sequence[Sequence[Hashable | None]]) -> list[list[Hashable]]:
    """Each item's ratings with the missing ones (None) removed; items left with < 2 dropped."""
    present = ([r for r in item if r is not None] for item in ratings)
    return [item for item in present if len(item) >= 2]


def _kappa_from(observed: Fraction, expected: Fraction) -> float | None:
    """κ = (po − pe) / (1 − pe); when pe = 1 it is undefined: 1.0 if po = 1, else None."""
    if expected == 1:
        return 1.0 if observed == 1 else None
    return float((observed - expected) / (1 - expected))


def percent_agreement(ratings: Sequence[Sequence[Hashable | None]]) -> float | None:
    """Share of items with ≥ 2 ratings on which every observer gave the same value; None if none.

    ratings[i] lists the category each observer gave item i; None (missing) is skipped."""
    return percent_agreement_counts(_tally(ratings))


def percent_agreement_counts(items: Mapping[tuple[Hashable, ...], int]) -> float | None:
    """percent_agreement over distinct rating tuples (each with ≥ 2 ratings, none missing) and
    how many items gave each."""
    total = sum(items.values())
    if not total:
        return None
    return sum(w for item, w in items.items() if len(set(item)) == 1) / total


def _tally(ratings: Iterable[Sequence[Hashable | None]]) -> Counter[tuple[Hashable, ...]]:
    return Counter(tuple(item) for item in _rated(list(ratings)))


def cohen_kappa(pairs: Sequence[tuple[Hashable, Hashable]]) -> float | None:
    """Cohen's κ = (po − pe) / (1 − pe), po = share agreeing, pe = Σ_c p_first(c)·p_second(c).

    Pairs with a None are skipped. None when no pairs are left. When pe = 1 (both raters used
    one and the same category for every item) κ is 0/0: we return 1.0 if they agreed on every
    item — which pe = 1 implies — and would return None otherwise."""
    return _cohen_counts(Counter((a, b) for a, b in pairs if a is not None and b is not None))


def _cohen_counts(pairs: Mapping[tuple[Hashable, ...], int]) -> float | None:
    n = sum(pairs.values())
    if n == 0:
        return None
    observed = Fraction(sum(w for (a, b), w in pairs.items() if a == b), n)
    first: Counter[Hashable] = Counter()
    second: Counter[Hashable] = Counter()
    for (a, b), w in pairs.items():
        first[a] += w
        second[b] += w
    expected = Fraction(sum(first[c] * second[c] for c in first), n * n)
    return _kappa_from(observed, expected)


def fleiss_kappa(ratings: Sequence[Sequence[Hashable | None]]) -> float | None:
    """Fleiss' κ = (P̄ − P̄e) / (1 − P̄e), P̄ = mean of (Σ_j n_ij² − n) / (n(n − 1)), P̄e = Σ_j p_j².

    Every item must have the same number n ≥ 2 of ratings: missing ratings (None) are skipped,
    n is the most common count (ties to the larger) and items with another count are dropped.
    None when no item is left; 1.0 when every rating is the same category (P̄e = 1, see
    cohen_kappa)."""
    return _fleiss_counts(_tally(ratings))


def _fleiss_counts(items: Mapping[tuple[Hashable, ...], int]) -> float | None:
    if not items:
        return None
    sizes: Counter[int] = Counter()
    for item, w in items.items():
        sizes[len(item)] += w
    n = max(sizes, key=lambda size: (sizes[size], size))  # the modal count; a tie to the larger
    total = sizes[n] * n
    per_category: Counter[Hashable] = Counter()
    squares = 0  # Σ_i Σ_j n_ij²
    for item, w in items.items():
        if len(item) != n:
            continue
        counts = Counter(item)
        for category, k in counts.items():
            per_category[category] += k * w
        squares += w * sum(k * k for k in counts.values())
    observed = Fraction(squares - total, total * (n - 1))  # = mean over items of P_i
    expected = sum((Fraction(c, total) ** 2 for c in per_category.values()), Fraction(0))
    return _kappa_from(observed, expected)


def kappa(ratings: Sequence[Sequence[Hashable | None]]) -> float | None:
    """Cohen's κ if every item (with ≥ 2 ratings) has exactly 2, else Fleiss' κ (modal count).

    For Cohen's κ the position in each item identifies the rater: item[0] is always the
    same observer, item[1] the other."""
    return kappa_counts(_tally(ratings))


def kappa_counts(items: Mapping[tuple[Hashable, ...], int]) -> float | None:
    """kappa over distinct rating tuples (each with ≥ 2 ratings, none missing) and how many
    items gave each."""
    if not items:
        return None
    if all(len(item) == 2 for item in items):
        return _cohen_counts(items)
    return _fleiss_counts(items)


def interpret_kappa(k: float | None) -> str:
    """Landis & Koch (1977) band: poor < 0 ≤ slight ≤ .2 < fair ≤ .4 < moderate ≤ .6 <
    substantial ≤ .8 < almost perfect; 'n/a' for None."""
    if k is None:
        return "n/a"
    if k < 0:
        return "poor"
    for upper, label in KAPPA_BANDS:
        if k <= upper:
            return label
    return "almost perfect"


# --- many edit distances at once ----------------------------------------------------------------


# Scripts coded one character per role (app.observations.models.SpeakerRole): distances
# between short strings are rapidfuzz's fastest case.


def decode_script(coded: str, roles_by_code: dict[str, str]) -> tuple[str, ...]:
    return tuple(roles_by_code[c] for c in coded)


def coded_distances(pattern: str, coded: Iterable[str]) -> list[float]:
    """Normalised edit distance (as normalised_edit_distance) from the coded script `pattern`
    to each coded script."""
    distance = Levenshtein.normalized_distance
    return [distance(pattern, c) for c in coded]
