"""Hand-computed checks of :mod:`cnnbench.stats` (seed summaries and the paired tests)."""

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from cnnbench.errors import ConfigError
from cnnbench.stats import (
    PairedTest,
    SeedSummary,
    format_p,
    interaction_test,
    paired_test,
    summarize,
)

T_975_2 = 4.302652729911275  # scipy.stats.t.ppf(0.975, 2), from a t table


def test_summarize_three_seeds_by_hand():
    s = summarize([0.70, 0.72, 0.74])
    assert isinstance(s, SeedSummary)
    assert s.n == 3 and s.confidence == 0.95
    assert s.mean == pytest.approx(0.72)
    # deviations -0.02, 0, 0.02: sum of squares 0.0008 / (3 - 1) = 0.0004, sqrt 0.02
    assert s.std == pytest.approx(0.02)
    half = T_975_2 * 0.02 / math.sqrt(3)  # 0.04968...
    assert s.low == pytest.approx(0.72 - half) and s.high == pytest.approx(0.72 + half)
    assert s.format() == "72.00 ± 2.00 (95% CI 67.03-76.97, n=3)"
    assert s.format(scale=1, digits=3) == "0.720 ± 0.020 (95% CI 0.670-0.770, n=3)"


def test_summarize_confidence_and_negative_bounds():
    s = summarize(np.array([0.70, 0.72, 0.74]), confidence=0.5)
    assert s.high - s.mean == pytest.approx(scipy_stats.t.ppf(0.75, 2) * 0.02 / math.sqrt(3))
    assert s.format().startswith("72.00 ± 2.00 (50% CI ")
    assert " to " in summarize([-0.01, 0.0, 0.01]).format()


def test_summarize_one_seed():
    s = summarize([0.7669])
    assert (s.n, s.mean, s.std, s.low, s.high) == (1, 0.7669, 0.0, 0.7669, 0.7669)
    assert s.format() == "76.69 (n=1)"


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ([], "at least one value"),
        ([0.7, math.nan], "finite"),
        ([0.7, math.inf], "finite"),
        ([[0.7, 0.8]], "1-D"),
        (0.7, "1-D"),
        (["a", "b"], "sequence of numbers"),
        ([True, False], "sequence of numbers"),
    ],
)
def test_summarize_rejects_bad_values(values, match):
    with pytest.raises(ConfigError, match=f"values must .*{match}"):
        summarize(values)


@pytest.mark.parametrize("confidence", [0, 1, 1.5, math.nan, True])
def test_summarize_rejects_bad_confidence(confidence):
    with pytest.raises(ConfigError, match="confidence"):
        summarize([0.7, 0.8], confidence=confidence)


def test_format_rejects_bad_scale_and_digits():
    s = summarize([0.7, 0.8])
    with pytest.raises(ConfigError, match="scale"):
        s.format(scale=0)
    with pytest.raises(ConfigError, match="digits"):
        s.format(digits=-1)


def test_exact_p_differences_1_2_3():
    # The 8 sign assignments of [1, 2, 3] and their sums (mean = sum / 3):
    #   +1 +2 +3 =  6   |   -1 +2 +3 =  4
    #   +1 +2 -3 =  0   |   -1 +2 -3 = -2
    #   +1 -2 +3 =  2   |   -1 -2 +3 =  0
    #   +1 -2 -3 = -4   |   -1 -2 -3 = -6
    # observed sum 6: |sum| >= 6 for 2 of 8 (two-sided p = 0.25); sum >= 6 for 1 (p = 0.125);
    # sum <= 6 for all 8 (p = 1 for "less").
    a, b = [1.0, 2.0, 3.0], [0.0, 0.0, 0.0]
    t = paired_test(a, b)
    assert isinstance(t, PairedTest)
    assert t.n == 3 and t.mean_difference == 2.0 and t.differences == (1.0, 2.0, 3.0)
    assert t.p_exact == 0.25
    assert paired_test(a, b, alternative="greater").p_exact == 0.125
    assert paired_test(a, b, alternative="less").p_exact == 1.0
    assert paired_test(b, a, alternative="less").p_exact == 0.125  # mirror image
    assert not t.significant() and t.significant(alpha=0.25)


def test_exact_p_six_differences_with_ties():
    d = [1, -1, 2, 0.5, 3, 1]
    # observed mean = (1 - 1 + 2 + 0.5 + 3 + 1) / 6 = 6.5 / 6 = 1.0833...
    # Any assignment has sum 8.5 - 2 * m, where 8.5 = sum |d| and m = sum of the |d| given a
    # minus sign. |sum| >= 6.5 iff m <= 1 or m >= 7.5. Subsets of |d| = {1, 1, 2, 0.5, 3, 1}
    # with m <= 1: {}, {0.5}, and each of the three 1s: 5 subsets (three are exact ties at
    # |sum| = 6.5); their complements give the 5 with m >= 7.5. Count 10 of 2**6 = 64.
    b = np.full(6, 0.5)
    a = b + np.array(d)
    t = paired_test(a, b)
    assert t.mean_difference == pytest.approx(6.5 / 6)
    assert t.p_exact == 10 / 64
    assert t.significant(alpha=0.16) and not t.significant()  # 0.15625
    # p_t is scipy's paired t-test, unchanged
    assert t.p_t == pytest.approx(scipy_stats.ttest_rel(a, b).pvalue)
    greater = paired_test(a, b, alternative="greater")
    assert greater.p_t == pytest.approx(scipy_stats.ttest_rel(a, b, alternative="greater").pvalue)
    assert greater.p_exact == 5 / 64  # only the m <= 1 side


def test_exact_p_counts_ties_despite_rounding():
    # d = [0.1, 0.2, -0.3, 0.05]: observed sum 0.05. With m the sum of the |d| given a minus
    # sign, a sum is 0.65 - 2 * m, and |sum| >= 0.05 iff m <= 0.3 or m >= 0.35. Every subset of
    # {0.1, 0.2, 0.3, 0.05} sums to a multiple of 0.05, none strictly between 0.3 and 0.35, so
    # all 16 count (p = 1). In floating point 0.1 + 0.2 != 0.3, so 2 of the exact ties come out
    # a hair below the observed |mean|: only the 1e-12 tolerance counts them.
    t = paired_test([0.1, 0.2, -0.3, 0.05], [0.0, 0.0, 0.0, 0.0])
    assert t.p_exact == 1.0


def test_p_t_is_nan_when_undefined():
    one = paired_test([0.8], [0.7])
    assert one.n == 1 and math.isnan(one.p_t) and one.p_exact == 1.0 and not one.significant()
    constant = paired_test([0.8, 0.9, 1.0], [0.7, 0.8, 0.9])  # differences all ~0.1
    assert math.isnan(constant.p_t)
    assert constant.p_exact == 0.25
    zero = paired_test([0.8, 0.9], [0.8, 0.9])
    assert math.isnan(zero.p_t) and zero.p_exact == 1.0


def test_describe_three_seeds_names_the_limit():
    t = paired_test([0.77, 0.78, 0.79], [0.75, 0.755, 0.76])
    assert t.describe("custom", "alexnet") == (
        "custom is 2.50 points above alexnet (paired over 3 seeds, exact sign-flip p = 0.25: "
        "not significant; with 3 seeds the smallest exact two-sided p is 0.25, so 5% needs "
        ">= 6 seeds; paired t-test p = 0.0131)"  # scipy.stats.ttest_rel: 0.013072
    )
    # the winner comes first whichever order the models are given in
    assert (
        paired_test([0.75, 0.755, 0.76], [0.77, 0.78, 0.79])
        .describe("alexnet", "custom")
        .startswith("custom is 2.50 points above alexnet")
    )


def test_describe_significant_with_six_seeds():
    a = [0.80, 0.81, 0.82, 0.83, 0.84, 0.85]
    b = [0.78, 0.78, 0.79, 0.80, 0.80, 0.83]
    t = paired_test(a, b)
    assert t.p_exact == 2 / 64  # all six differences positive: only +...+ and -...- reach it
    text = t.describe("custom", "alexnet")
    assert text.startswith("custom beats alexnet by 2.83 points")  # significant: a win
    assert text.endswith("exact sign-flip p = 0.0312: significant at 5%; paired t-test p < 0.001)")
    assert "smallest" not in text
    assert t.describe("custom", "alexnet", alpha=0.01).endswith(
        "not significant; with 6 seeds the smallest exact two-sided p is 0.0312, so 1% needs "
        ">= 8 seeds; paired t-test p < 0.001)"
    )
    one_sided = paired_test(a[:5], b[:5], alternative="greater")
    assert one_sided.p_exact == 1 / 32
    assert "exact one-sided (greater) sign-flip p = 0.0312: significant at 5%" in (
        one_sided.describe("custom", "alexnet")
    )


def test_describe_one_seed_and_level():
    assert paired_test([0.80], [0.7769]).describe("custom", "alexnet") == (
        "custom is 2.31 points above alexnet (one seed: no test)"
    )
    assert (
        paired_test([0.8, 0.9], [0.8, 0.9])
        .describe("a", "b")
        .startswith("a and b are level (0.00 points apart)")
    )


def test_paired_test_validation():
    with pytest.raises(ConfigError, match="a must hold at least one value"):
        paired_test([], [])
    with pytest.raises(ConfigError, match="same seeds in the same order, got 3 and 2"):
        paired_test([0.1, 0.2, 0.3], [0.1, 0.2])
    with pytest.raises(ConfigError, match="b must hold finite numbers"):
        paired_test([0.1, 0.2], [0.1, math.nan])
    with pytest.raises(ConfigError, match="alternative must be one of"):
        paired_test([0.1], [0.2], alternative="two_sided")
    with pytest.raises(ConfigError, match="at most 20 seeds, got 21; use fewer seeds, or the"):
        paired_test(np.zeros(21), np.ones(21))
    t = paired_test([0.8, 0.9], [0.7, 0.8])
    with pytest.raises(ConfigError, match="alpha"):
        t.significant(alpha=0)
    with pytest.raises(ConfigError, match="name_b"):
        t.describe("custom", "")


def test_twenty_seeds_is_allowed():
    t = paired_test(np.arange(1, 21, dtype=float), np.zeros(20))
    assert t.n == 20 and t.p_exact == 2 / 2**20


def test_describe_can_leave_the_floor_note_to_the_text():
    t = paired_test([0.77, 0.78, 0.79], [0.75, 0.755, 0.76])
    assert t.describe("custom", "alexnet", floor_note=False) == (
        "custom is 2.50 points above alexnet (paired over 3 seeds, exact sign-flip p = 0.25: "
        "not significant; paired t-test p = 0.0131)"
    )


def test_interaction_is_the_paired_test_of_the_gains_computed_by_hand():
    # augmentation's gain per seed: a +3, +1, +2 points; b +1, +1, -1 -> interaction +2, 0, +3
    a_with, a_without = [0.73, 0.71, 0.72], [0.70, 0.70, 0.70]
    b_with, b_without = [0.61, 0.61, 0.59], [0.60, 0.60, 0.60]
    test = interaction_test(a_with, a_without, b_with, b_without)
    assert test.differences == pytest.approx((0.02, 0.0, 0.03))
    assert test.mean_difference == pytest.approx(0.05 / 3)
    # exact sign flips of (2, 0, 3): means >= 5/3 in absolute value: (+,+,+), (+,-,+) and their
    # mirrors: 4 of 8
    assert test.p_exact == pytest.approx(0.5)
    t = scipy_stats.ttest_1samp([0.02, 0.0, 0.03], 0.0).pvalue
    assert test.p_t == pytest.approx(t)


def test_interaction_needs_the_same_seeds_everywhere():
    with pytest.raises(ConfigError, match="one value per seed"):
        interaction_test([1, 2], [1, 2], [1, 2, 3], [1, 2, 3])


def test_format_p_never_shows_a_p_of_zero():
    assert format_p(0.25) == "0.25" and format_p(0.0123456) == "0.0123"
    assert format_p(3e-7) == "< 0.001" and format_p(0.0) == "< 0.001"
    assert format_p(None) == "–" and format_p(float("nan")) == "–"
    assert format_p(0.5, prefix="= ") == "= 0.5"
