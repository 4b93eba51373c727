"""app.analysis.stats: hand-worked examples (working in the comments) and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.analysis import stats
from app.observations.models import role_code
from app.observations.store import code_script

ROLES = ["judge", "prosecutor", "defense", "probation", "advocate"]
role_lists = st.lists(st.sampled_from(ROLES), max_size=8)


def expand(counts: dict[str, int]) -> list[str]:
    """One item's ratings from {category: how many raters chose it}."""
    return [category for category, n in counts.items() for _ in range(n)]


# --- merge_script -----------------------------------------------------------------------------


def test_merge_script_merges_consecutive_repeats_only():
    j, p, d = "judge", "prosecutor", "defense"
    assert stats.merge_script([j, j, p, d, d, j]) == (j, p, d, j)
    assert stats.merge_script([j, j, j]) == (j,)
    assert stats.merge_script([]) == ()


# --- edit distance ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # insertion: add "defense" at the end
        (["judge", "prosecutor"], ["judge", "prosecutor", "defense"], 1),
        # deletion: drop "prosecutor" from the middle
        (["judge", "prosecutor", "defense"], ["judge", "defense"], 1),
        # substitution: "probation" in place of "prosecutor"
        (["judge", "prosecutor", "defense"], ["judge", "probation", "defense"], 1),
        # one substitution plus one insertion
        (["judge", "prosecutor"], ["defense", "prosecutor", "judge"], 2),
        # tokens, not characters: "judge" vs "judges" is one substitution, not one insertion
        (["judge"], ["judges"], 1),
        # empty against n tokens: n insertions
        ([], ["judge", "prosecutor", "defense"], 3),
        ([], [], 0),
    ],
)
def test_edit_distance_cases(a, b, expected):
    assert stats.edit_distance(a, b) == expected
    assert stats.edit_distance(b, a) == expected


def test_normalised_edit_distance():
    # 1 substitution / 3 tokens
    assert stats.normalised_edit_distance(("j", "p", "d"), ("j", "x", "d")) == pytest.approx(1 / 3)
    # 1 insertion / longer length 2
    assert stats.normalised_edit_distance(("j",), ("j", "p")) == 0.5
    assert stats.normalised_edit_distance((), ("j",)) == 1.0
    assert stats.normalised_edit_distance((), ()) == 0.0


@given(role_lists, role_lists)
def test_edit_distance_is_symmetric(a, b):
    assert stats.edit_distance(a, b) == stats.edit_distance(b, a)


@given(role_lists, role_lists)
def test_edit_distance_is_zero_iff_equal(a, b):
    assert (stats.edit_distance(a, b) == 0) == (a == b)
    assert stats.edit_distance(a, a) == 0


@given(role_lists, role_lists, role_lists)
def test_edit_distance_triangle_inequality(a, b, c):
    assert stats.edit_distance(a, c) <= stats.edit_distance(a, b) + stats.edit_distance(b, c)


@given(role_lists, role_lists)
def test_normalised_edit_distance_is_in_unit_interval(a, b):
    assert 0.0 <= stats.normalised_edit_distance(a, b) <= 1.0


# --- script keys ------------------------------------------------------------------------------


def test_script_key_round_trip():
    script = ("judge", "prosecutor", "defense")
    assert stats.script_key(script) == "judge>prosecutor>defense"
    assert stats.parse_script_key("judge>prosecutor>defense") == script
    assert stats.script_key(()) == ""
    assert stats.parse_script_key("") == ()


@given(role_lists)
def test_parse_script_key_inverts_script_key(script):
    assert stats.parse_script_key(stats.script_key(script)) == tuple(script)


@pytest.mark.parametrize("bad", ["", "judge>pro tem"])
def test_script_key_refuses_roles_it_could_not_parse_back(bad):
    with pytest.raises(ValueError):
        stats.script_key(["judge", bad])


# --- common scripts and similarity ------------------------------------------------------------


def test_common_scripts_most_common_first_ties_by_key():
    jpd = ("judge", "prosecutor", "defense")
    jdp = ("judge", "defense", "prosecutor")
    jp = ("judge", "prosecutor")
    scripts = [jpd, jdp, list(jpd), jp, jdp, jpd]
    # jpd ×3 first; jdp ×2; then jp ×1
    assert stats.common_scripts(scripts) == [(jpd, 3), (jdp, 2), (jp, 1)]
    # a tie (×1 each) is broken by key: "defense>judge" < "judge" < "prosecutor"
    tied = [("prosecutor",), ("judge",), ("defense", "judge")]
    assert stats.common_scripts(tied) == [
        (("defense", "judge"), 1),
        (("judge",), 1),
        (("prosecutor",), 1),
    ]
    assert stats.common_scripts(scripts, top=1) == [(jpd, 3)]
    assert stats.common_scripts([]) == []


def test_script_similarity_orders_departures_worst_first():
    modal = ("judge", "prosecutor", "defense")
    scripts = [
        modal,  # 0: distance 0
        ("judge", "defense"),  # 1: one deletion / 3 = 1/3
        modal,  # 2: distance 0
        ("probation", "advocate", "defense", "judge"),  # 3: 2 subs + 1 insertion / 4 = 3/4
        ("judge", "prosecutor", "probation"),  # 4: one substitution / 3 = 1/3
    ]
    result = stats.script_similarity(scripts)
    assert result.modal == modal
    # mean = (0 + 1/3 + 0 + 3/4 + 1/3) / 5 = (17/12) / 5 = 17/60
    assert result.mean_distance == pytest.approx(17 / 60)
    # worst first; equal distances keep input order
    assert [i for i, _ in result.departures] == [3, 1, 4, 0, 2]
    assert result.departures[0][1] == pytest.approx(0.75)


def test_script_similarity_of_nothing():
    result = stats.script_similarity([])
    assert result.modal == ()
    assert result.mean_distance is None
    assert result.departures == []


# --- percent agreement ------------------------------------------------------------------------


def test_percent_agreement_skips_missing_ratings():
    ratings = [
        ["yes", "yes", None],  # 2 ratings, agree
        ["yes", "no", "yes"],  # 3 ratings, disagree
        ["no", None, "no"],  # 2 ratings, agree
        [None, "yes", None],  # 1 rating: not counted
        [None, None],  # none: not counted
    ]
    # 2 agreeing items out of 3 counted
    assert stats.percent_agreement(ratings) == pytest.approx(2 / 3)


def test_percent_agreement_undefined_without_doubly_rated_items():
    assert stats.percent_agreement([]) is None
    assert stats.percent_agreement([["yes", None], [None, "no"]]) is None


# --- Cohen's kappa ----------------------------------------------------------------------------

# The classic 2×2 example, 50 items:
#                 B yes   B no
#        A yes      20      5     | 25
#        A no       10     15     | 25
#                   30     20       50
# po = (20 + 15) / 50 = 0.7
# pe = P(A yes)·P(B yes) + P(A no)·P(B no) = 0.5·0.6 + 0.5·0.4 = 0.3 + 0.2 = 0.5
# κ = (0.7 − 0.5) / (1 − 0.5) = 0.4
CLASSIC_PAIRS = (
    [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
)


def test_cohen_kappa_classic_example():
    assert stats.cohen_kappa(CLASSIC_PAIRS) == pytest.approx(0.4)


def test_kappa_dispatches_two_raters_to_cohen():
    assert stats.kappa([list(pair) for pair in CLASSIC_PAIRS]) == pytest.approx(0.4)
    # a third rating that is missing does not turn it into a Fleiss case
    assert stats.kappa([[a, None, b] for a, b in CLASSIC_PAIRS]) == pytest.approx(0.4)


def test_cohen_kappa_perfect_agreement():
    # po = 1, pe = 0.5·0.5 + 0.5·0.5 = 0.5 → κ = 0.5 / 0.5 = 1
    assert stats.cohen_kappa([("yes", "yes"), ("no", "no")] * 3) == 1.0


def test_cohen_kappa_worse_than_chance():
    # po = 0; pe = 0.5·0.5 + 0.5·0.5 = 0.5 → κ = −0.5 / 0.5 = −1
    assert stats.cohen_kappa([("yes", "no"), ("no", "yes")]) == pytest.approx(-1.0)


def test_cohen_kappa_when_both_raters_use_one_category_is_undefined():
    # po = 1, pe = 1·1 = 1: κ = 0/0 — undefined, never a perfect score
    assert stats.cohen_kappa([("yes", "yes")] * 4) is None
    assert stats.percent_agreement([("yes", "yes")] * 4) == 1.0


def test_cohen_kappa_undefined_without_pairs():
    assert stats.cohen_kappa([]) is None
    assert stats.cohen_kappa([("yes", None), (None, "no")]) is None
    assert stats.kappa([]) is None
    assert stats.kappa([["yes"], ["no", None]]) is None


# --- Fleiss' kappa ----------------------------------------------------------------------------

# Fleiss (1971) as worked on Wikipedia ("Fleiss' kappa"): 10 subjects, 14 raters, 5 categories;
# each row is how many of the 14 raters put the subject in category 1..5.
FLEISS_TABLE = [
    (0, 0, 0, 0, 14),  # Σ n_ij² = 196
    (0, 2, 6, 4, 2),  # 4 + 36 + 16 + 4 = 60
    (0, 0, 3, 5, 6),  # 9 + 25 + 36 = 70
    (0, 3, 9, 2, 0),  # 9 + 81 + 4 = 94
    (2, 2, 8, 1, 1),  # 4 + 4 + 64 + 1 + 1 = 74
    (7, 7, 0, 0, 0),  # 49 + 49 = 98
    (3, 2, 6, 3, 0),  # 9 + 4 + 36 + 9 = 58
    (2, 5, 3, 2, 2),  # 4 + 25 + 9 + 4 + 4 = 46
    (6, 5, 2, 1, 0),  # 36 + 25 + 4 + 1 = 66
    (0, 2, 2, 3, 7),  # 4 + 4 + 9 + 49 = 66
]
# Σ Σ n_ij² = 828; N·n = 140
# P̄ = (828 − 140) / (140 · 13) = 688 / 1820 ≈ 0.378
# column totals 20, 28, 39, 21, 32 → p_j = 0.143, 0.200, 0.279, 0.150, 0.229
# P̄e = (20² + 28² + 39² + 21² + 32²) / 140² = 4170 / 19600 ≈ 0.213
# κ = (0.378 − 0.213) / (1 − 0.213) ≈ 0.210
FLEISS_RATINGS = [expand({f"c{j + 1}": n for j, n in enumerate(row)}) for row in FLEISS_TABLE]


def test_fleiss_kappa_published_example():
    assert all(len(item) == 14 for item in FLEISS_RATINGS)
    assert stats.fleiss_kappa(FLEISS_RATINGS) == pytest.approx(0.210, abs=5e-4)
    # exactly: (688/1820 − 4170/19600) / (1 − 4170/19600)
    exact = (688 / 1820 - 4170 / 19600) / (1 - 4170 / 19600)
    assert stats.fleiss_kappa(FLEISS_RATINGS) == pytest.approx(exact)
    assert stats.kappa(FLEISS_RATINGS) == pytest.approx(exact)


def test_fleiss_kappa_perfect_agreement():
    # every item unanimous: P_i = 1 → P̄ = 1; P̄e = (6/12)² + (3/12)² + (3/12)² = 0.375 < 1 → κ = 1
    ratings = [["a"] * 3, ["a"] * 3, ["b"] * 3, ["c"] * 3]
    assert stats.fleiss_kappa(ratings) == 1.0
    assert stats.kappa(ratings) == 1.0


def test_fleiss_kappa_when_every_rater_uses_one_category_is_undefined():
    # P̄ = 1 and P̄e = 1² = 1: κ = 0/0, undefined like cohen_kappa's
    assert stats.fleiss_kappa([["yes"] * 3] * 5) is None


# Gwet (2014), irrCAC's data set cac.raw4raters: 12 units, 4 raters, some ratings missing
# (unit 12 has one rating only). The package's documentation gives, for fleiss.kappa.raw:
# pa = 0.8181818, pe = 0.2387153, κ = 0.76117.
CAC_RAW4RATERS = [
    ["a", "a", None, "a"],
    ["b", "b", "c", "b"],
    ["c", "c", "c", "c"],
    ["c", "c", "c", "c"],
    ["b", "b", "b", "b"],
    ["a", "b", "c", "d"],
    ["d", "d", "d", "d"],
    ["a", "a", "b", "a"],
    ["b", "b", "b", "b"],
    [None, "e", "e", "e"],
    [None, None, "a", "a"],
    [None, None, "c", None],
]


def test_fleiss_kappa_with_a_varying_number_of_raters_published_example():
    assert stats.fleiss_kappa(CAC_RAW4RATERS) == pytest.approx(0.76117, abs=5e-6)
    assert stats.kappa(CAC_RAW4RATERS) == pytest.approx(0.76117, abs=5e-6)
    # mixed counts (2, 3 and 4 observers): every unit with two or more ratings counts
    assert stats.kappa_method(stats._tally(CAC_RAW4RATERS)) == "Fleiss (2–4 observers)"


def test_fleiss_kappa_with_a_varying_number_of_raters_by_hand():
    # (a a a), (b b b), (a b b), (a b), (a a b b): none is dropped.
    # po = mean of Σ k(k−1) / (r(r−1)) = (1 + 1 + 2/6 + 0 + 4/12) / 5 = (8/3) / 5 = 8/15
    # π_a = (1 + 0 + 1/3 + 1/2 + 1/2) / 5 = (7/3) / 5 = 7/15; π_b = 8/15
    # pe = (49 + 64) / 225 = 113/225; κ = (120/225 − 113/225) / (112/225) = 7/112 = 0.0625
    ratings = [
        ["a", "a", "a"],
        ["b", "b", "b"],
        ["a", "b", "b"],
        ["a", "b"],
        ["a", "a", "b", "b"],
    ]
    assert stats.fleiss_kappa(ratings) == pytest.approx(0.0625)
    assert stats.kappa(ratings) == pytest.approx(0.0625)
    assert stats.kappa_method(stats._tally(ratings[:3])) == "Fleiss (3 observers)"
    assert stats.kappa_method(stats._tally([["a", "b"]])) == "Cohen (2 observers)"


def test_fleiss_kappa_undefined_without_items():
    assert stats.fleiss_kappa([]) is None
    assert stats.fleiss_kappa([["a"], [None, "b"]]) is None


@given(
    st.lists(st.sampled_from(["yes", "no", "not observed"]), min_size=2, max_size=20).filter(
        lambda items: len(set(items)) > 1
    ),
    st.integers(min_value=2, max_value=6),
)
def test_kappa_of_identical_raters_is_one(truths, raters):
    # every observer records the same category for each item, over more than one category
    ratings = [[truth] * raters for truth in truths]
    assert stats.kappa(ratings) == 1.0
    assert stats.percent_agreement(ratings) == 1.0


@given(
    st.lists(
        st.lists(st.sampled_from(["yes", "no", "n/o"]), min_size=2, max_size=4),
        min_size=1,
        max_size=15,
    )
)
def test_kappa_is_at_most_one(ratings):
    k = stats.kappa(ratings)
    assert k is None or k <= 1.0


# --- interpret_kappa --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "band"),
    [
        (None, "n/a"),
        (-0.01, "poor"),
        (-1.0, "poor"),
        (0.0, "slight"),
        (0.2, "slight"),
        (0.21, "fair"),
        (0.4, "fair"),
        (0.41, "moderate"),
        (0.6, "moderate"),
        (0.61, "substantial"),
        (0.8, "substantial"),
        (0.81, "almost perfect"),
        (1.0, "almost perfect"),
    ],
)
def test_interpret_kappa_landis_koch_bands(k, band):
    assert stats.interpret_kappa(k) == band


# --- edit distances (rapidfuzz) agree with the textbook dynamic programme ----------------------


def textbook_edit_distance(a, b) -> int:
    """Wagner–Fischer, the full table: the reference the fast versions must match."""
    table = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            table[i][j] = min(
                table[i - 1][j] + 1,
                table[i][j - 1] + 1,
                table[i - 1][j - 1] + (a[i - 1] != b[j - 1]),
            )
    return table[-1][-1]


long_role_lists = st.lists(st.sampled_from(ROLES), max_size=80)


@given(long_role_lists, long_role_lists)
def test_edit_distance_matches_the_textbook_table(a, b):
    assert stats.edit_distance(a, b) == textbook_edit_distance(a, b)


# role keys that are prefixes and suffixes of one another
TRICKY_ROLES = ["judge", "judge_pro_tem", "def", "defense", "defendant", "pro", "prosecutor"]


@given(
    st.lists(st.sampled_from(TRICKY_ROLES), min_size=1, max_size=40),
    st.lists(st.lists(st.sampled_from(TRICKY_ROLES), min_size=1, max_size=40), max_size=12),
    st.sampled_from([TRICKY_ROLES, TRICKY_ROLES[:3], []]),
)
def test_coded_script_distances_with_known_and_unknown_roles(pattern, scripts, roles):
    codes = {role: role_code(i) for i, role in enumerate(roles, 1)}
    for role in [*pattern, *(r for s in scripts for r in s)]:
        codes.setdefault(role, role_code(len(codes) + 1))
    coded_pattern, *coded = (code_script(stats.script_key(s), codes) for s in [pattern, *scripts])
    by_code = {c: r for r, c in codes.items()}
    assert [stats.decode_script(c, by_code) for c in coded] == [tuple(s) for s in scripts]
    assert [len(c) for c in coded] == [len(s) for s in scripts]
    assert stats.coded_distances(coded_pattern, coded) == pytest.approx(
        [textbook_edit_distance(pattern, s) / max(len(pattern), len(s)) for s in scripts]
    )


def test_distances_between_long_scripts():
    pattern = ["judge", "prosecutor"] * 40  # 80 roles
    scripts = [["judge"] * 3, pattern[:-1], ["defense", *pattern]]
    assert [stats.edit_distance(pattern, s) for s in scripts] == [77, 1, 1]


@given(
    st.lists(st.lists(st.sampled_from(["yes", "no", None]), min_size=2, max_size=4), max_size=20)
)
def test_kappa_over_tallies_equals_kappa_over_items(ratings):
    tally = stats._tally(ratings)
    assert stats.kappa_counts(tally) == stats.kappa(ratings)
    assert stats.percent_agreement_counts(tally) == stats.percent_agreement(ratings)


# --- Wilson intervals, differences, distributions -------------------------------------------


@pytest.mark.parametrize(
    "k, n, low, high",
    [
        # Newcombe (1998), "Two-sided confidence intervals for the single proportion",
        # Table I, method 3 (Wilson score interval without continuity correction)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_published_examples(k, n, low, high):
    found = stats.wilson_interval(k, n)
    assert found == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_without_hearings():
    assert stats.wilson_interval(0, 0) is None


@pytest.mark.parametrize(
    "a, n_a, b, n_b, low, high",
    [
        # Newcombe (1998), "Interval estimation for the difference between independent
        # proportions", Table II, method 10 (hybrid score from Wilson intervals)
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
    ],
)
def test_difference_interval_published_examples(a, n_a, b, n_b, low, high):
    d, lo, hi = stats.difference_interval(a, n_a, b, n_b)
    assert d == pytest.approx(a / n_a - b / n_b)
    assert (lo, hi) == pytest.approx((low, high), abs=5e-5)
    assert stats.difference_interval(1, 2, 0, 0) is None


def test_distribution_by_hand():
    # 7 15 36 39 40 41 (type 7): q1 at 1.25 → 15 + 0.25·21 = 20.25; median (36 + 39) / 2;
    # q3 at 3.75 → 39 + 0.75·1 = 39.75; mean 178 / 6
    d = stats.distribution({7: 1, 15: 1, 36: 1, 39: 1, 40: 1, 41: 1})
    assert (d.n, d.minimum, d.q1, d.median, d.q3, d.maximum) == (6, 7, 20.25, 37.5, 39.75, 41)
    assert d.mean == pytest.approx(178 / 6)
    # counts stand for repeated values: 0 0 0 30 (q1 0, median 0, q3 7.5)
    d = stats.distribution({0: 3, 30: 1})
    assert (d.n, d.q1, d.median, d.q3, d.mean) == (4, 0, 0, 7.5, 7.5)
    assert stats.distribution({}) is None
    assert stats.distribution({5: 1}).median == 5
