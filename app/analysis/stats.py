"""Statistics for the comparison pages: hearing scripts ("who speaks, in what order") and
observer agreement.

Pure functions, no database; edit distances by rapidfuzz. A script is a sequence of speaker roles
with consecutive repeats merged. Ratings are any hashable category values; None means the
observer left the question unanswered and is skipped. Kappas are computed exactly with
Fraction and returned as float.
"""

from __future__ import annotations

import math
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
    """Each item's ratings with the missing ones (None) removed; items left empty dropped."""
    present = ([r for r in item if r is not None] for item in ratings)
    return [item for item in present if item]


def _kappa_from(observed: Fraction, expected: Fraction) -> float | None:
    """κ = (po − pe) / (1 − pe); None when pe = 1 (every rating one and the same category:
    0/0, undefined — never shown as a perfect score; see KAPPA_UNDEFINED)."""
    if expected == 1:
        return None
    return float((observed - expected) / (1 - expected))


KAPPA_UNDEFINED = (
    "every observer gave the same single answer, so agreement by chance is already 100 % "
    "and κ is undefined"
)


def percent_agreement(ratings: Sequence[Sequence[Hashable | None]]) -> float | None:
    """Share of items with ≥ 2 ratings on which every observer gave the same value; None if none.

    ratings[i] lists the category each observer gave item i; None (missing) is skipped."""
    return percent_agreement_counts(_tally(ratings))


def percent_agreement_counts(items: Mapping[tuple[Hashable, ...], int]) -> float | None:
    """percent_agreement over distinct rating tuples (each with ≥ 2 ratings, none missing) and
    how many items gave each."""
    total = sum(w for item, w in items.items() if len(item) >= 2)
    if not total:
        return None
    return sum(w for item, w in items.items() if len(item) >= 2 and len(set(item)) == 1) / total


def _tally(ratings: Iterable[Sequence[Hashable | None]]) -> Counter[tuple[Hashable, ...]]:
    return Counter(tuple(item) for item in _rated(list(ratings)))


def cohen_kappa(pairs: Sequence[tuple[Hashable, Hashable]]) -> float | None:
    """Cohen's κ = (po − pe) / (1 − pe), po = share agreeing, pe = Σ_c p_first(c)·p_second(c).

    Pairs with a None are skipped. None when no pairs are left, and when pe = 1 (both raters
    used one and the same category for every item: κ is 0/0)."""
    return _cohen_counts(Counter((a, b) for a, b in pairs if a is not None and b is not None))


def _cohen_counts(pairs: Mapping[tuple[Hashable, ...], int]) -> float | None:
    pairs = {item: w for item, w in pairs.items() if len(item) == 2}
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
    """Fleiss' κ for any number of ratings per item (Fleiss 1971, generalised to a varying
    number of raters as in Gwet 2014, irrCAC's fleiss.kappa.raw):

    po = mean over items of Σ_k r_ik (r_ik − 1) / (r_i (r_i − 1)),
    pe = Σ_k π_k², π_k = mean over items of r_ik / r_i,

    po over the items with ≥ 2 ratings, π over every item with a rating (missing ratings,
    None, skipped). With the same number of raters everywhere this is Fleiss' own formula.
    None when no item has two ratings, or when pe = 1."""
    return _fleiss_counts(_tally(ratings))


def _fleiss_counts(items: Mapping[tuple[Hashable, ...], int]) -> float | None:
    total = sum(items.values())
    rated_twice = sum(w for item, w in items.items() if len(item) >= 2)
    if not rated_twice:
        return None
    observed = Fraction(0)
    shares: Counter[Hashable] = Counter()
    for item, w in items.items():
        r = len(item)
        counts = Counter(item)
        if r >= 2:
            observed += w * Fraction(sum(k * (k - 1) for k in counts.values()), r * (r - 1))
        for category, k in counts.items():
            shares[category] += w * Fraction(k, r)
    observed /= rated_twice
    expected = sum(((share / total) ** 2 for share in shares.values()), Fraction(0))
    return _kappa_from(observed, expected)


def kappa(ratings: Sequence[Sequence[Hashable | None]]) -> float | None:
    """Cohen's κ if every item (with ≥ 2 ratings) has exactly 2, else Fleiss' κ (for any mix
    of rater counts: no item is dropped).

    For Cohen's κ the position in each item identifies the rater: item[0] is always the
    same observer, item[1] the other."""
    return kappa_counts(_tally(ratings))


def kappa_counts(items: Mapping[tuple[Hashable, ...], int]) -> float | None:
    """kappa over distinct rating tuples (each with ≥ 2 ratings, none missing) and how many
    items gave each."""
    if all(len(item) <= 2 for item in items):
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


def kappa_method(items: Mapping[tuple[Hashable, ...], int]) -> str:
    """Which κ kappa_counts computes, in words, with the observer counts it covers."""
    sizes = sorted({len(item) for item in items if len(item) >= 2})
    if not sizes:
        return "—"
    if sizes == [2]:
        return "Cohen (2 observers)"
    counts = "–".join(str(s) for s in (sizes[0], sizes[-1])) if len(sizes) > 1 else str(sizes[0])
    return f"Fleiss ({counts} observers)"


# --- rates, intervals, numbers ------------------------------------------------------------------

Z95 = 1.959963984540054  # the normal quantile for a two-sided 95 % interval


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson's score interval for a proportion successes / n (Wilson 1927; Newcombe 1998
    method 3, no continuity correction); None when n = 0."""
    if n <= 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def difference_interval(
    successes_a: int, n_a: int, successes_b: int, n_b: int, z: float = Z95
) -> tuple[float, float, float] | None:
    """p_a − p_b with Newcombe's hybrid score interval (Newcombe 1998b, method 10), built
    from each proportion's Wilson interval; None when either n is 0."""
    a = wilson_interval(successes_a, n_a, z)
    b = wilson_interval(successes_b, n_b, z)
    if a is None or b is None:
        return None
    p_a, p_b = successes_a / n_a, successes_b / n_b
    (l1, u1), (l2, u2) = a, b
    d = p_a - p_b
    low = d - math.sqrt((p_a - l1) ** 2 + (u2 - p_b) ** 2)
    high = d + math.sqrt((u1 - p_a) ** 2 + (p_b - l2) ** 2)
    return d, max(-1.0, low), min(1.0, high)


@dataclass(frozen=True)
class Distribution:
    """n, mean, min, quartiles and max of numbers (quartiles by linear interpolation between
    order statistics, Hyndman & Fan type 7 — numpy's and R's default)."""

    n: int
    mean: float
    minimum: float
    q1: float
    median: float
    q3: float
    maximum: float


def distribution(counts: Mapping[float, int]) -> Distribution | None:
    """The Distribution of numbers given as value → how many times it occurs; None if none."""
    values = sorted((v, k) for v, k in counts.items() if k > 0)
    n = sum(k for _, k in values)
    if not n:
        return None

    def at(position: int) -> float:  # the position-th smallest (0-based)
        seen = 0
        for value, k in values:
            seen += k
            if position < seen:
                return value
        return values[-1][0]

    def quantile(q: float) -> float:
        h = (n - 1) * q
        low = math.floor(h)
        return at(low) + (h - low) * (at(min(low + 1, n - 1)) - at(low))

    return Distribution(
        n=n,
        mean=sum(v * k for v, k in values) / n,
        minimum=values[0][0],
        q1=quantile(0.25),
        median=quantile(0.5),
        q3=quantile(0.75),
        maximum=values[-1][0],
    )


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
