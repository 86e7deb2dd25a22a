"""Uncertainty across seeds and a paired test between two models, for multi-seed tables.

summary = summarize([0.7669, 0.7712, 0.7627])  # one value per seed
summary.format()  # "76.69 ± 0.42 (95% CI 75.65-77.73, n=3)"
test = paired_test(custom_accs, alexnet_accs)  # same seeds, same order
test.describe("custom", "alexnet")  # "custom beats alexnet by 2.31 points (...)"

:func:`summarize` gives the mean, the sample standard deviation and a Student-t confidence
interval for the mean. :func:`paired_test` compares two models run on the same seeds with an
exact sign-flip permutation test (no distributional assumption) and, for reference, the paired
t-test. With few seeds the exact test cannot reach small p values at all: the smallest exact
two-sided p is ``2 / 2**n`` (see :func:`paired_test`), and :meth:`PairedTest.describe` says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as _scipy_stats

from cnnbench.checks import check_fraction, check_int, check_real
from cnnbench.errors import ConfigError

__all__ = [
    "ALPHA",
    "MAX_EXACT_SEEDS",
    "PairedTest",
    "SeedSummary",
    "interaction_test",
    "paired_test",
    "summarize",
]

#: The significance level every comparison in the study's text is judged at (exact test).
ALPHA = 0.05

#: The exact test enumerates ``2**n`` sign assignments; 2**20 (about a million) is quick.
MAX_EXACT_SEEDS = 20

#: Means closer than this (times the size of the differences when it exceeds 1) count as ties.
TIE_TOLERANCE = 1e-12

ALTERNATIVES = ("two-sided", "greater", "less")


def format_p(p, prefix: str = "") -> str:
    """A p value as tables and sentences show it: three significant digits, ``< 0.001`` below
    that (``0.000`` would read as impossible), a dash when there is none (one seed)."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return "< 0.001" if p < 0.001 else f"{prefix}{p:.3g}"


def _as_values(name: str, values) -> np.ndarray:
    """``values`` as a 1-D float array of at least one finite number, else ``ConfigError``."""
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError) as exc:  # ragged nested sequences
        raise ConfigError(f"{name} must be a 1-D sequence of numbers, got {values!r}") from exc
    if arr.dtype.kind not in "iuf":  # rejects bools, strings, objects, complex
        raise ConfigError(f"{name} must be a 1-D sequence of numbers, got {values!r}")
    if arr.ndim != 1:
        raise ConfigError(
            f"{name} must be a 1-D sequence of numbers (one per seed), got shape {arr.shape}"
        )
    if arr.size == 0:
        raise ConfigError(f"{name} must hold at least one value (one per seed), got none")
    arr = arr.astype(float)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ConfigError(
            f"{name} must hold finite numbers, got {arr[bad][0]!r} at index {int(np.argmax(bad))}"
        )
    return arr


def _percent(fraction: float) -> str:
    """``"95%"`` for 0.95, ``"99.9%"`` for 0.999."""
    return f"{round(fraction * 100, 10):g}%"


@dataclass(frozen=True)
class SeedSummary:
    """Mean and spread of one metric over ``n`` seeds.

    ``std`` is the sample standard deviation (``ddof=1``; 0.0 for one seed). ``low`` and
    ``high`` bound the two-sided Student-t confidence interval for the mean at ``confidence``:
    ``mean ± t((1 + confidence) / 2, n - 1) * std / sqrt(n)``; both equal ``mean`` for one seed.
    """

    n: int
    mean: float
    std: float
    low: float
    high: float
    confidence: float

    def format(self, scale: float = 100, digits: int = 2) -> str:
        """``"76.69 ± 0.42 (95% CI 75.65-77.73, n=3)"``; ``"76.69 (n=1)"`` for one seed.

        Values are multiplied by ``scale`` (100: fractions to percent) and shown with ``digits``
        decimals; the number after ``±`` is the standard deviation. When a bound is negative
        the interval reads ``"-1.20 to 0.40"`` so the signs stay legible.
        """
        scale = check_real("scale", scale)
        digits = check_int("digits", digits, min_value=0)

        def fmt(value: float) -> str:
            return f"{value * scale:.{digits}f}"

        if self.n == 1:
            return f"{fmt(self.mean)} (n=1)"
        sep = " to " if min(self.low, self.high) < 0 else "-"
        return (
            f"{fmt(self.mean)} ± {fmt(self.std)} "
            f"({_percent(self.confidence)} CI {fmt(self.low)}{sep}{fmt(self.high)}, n={self.n})"
        )


def summarize(values, confidence: float = 0.95) -> SeedSummary:
    """Mean, sample std and Student-t confidence interval of ``values`` (one per seed).

    ``confidence`` is in (0, 1). Raises :class:`ConfigError` for empty, non-1-D, non-numeric
    or non-finite (NaN, inf) input.
    """
    confidence = check_fraction("confidence", confidence, high_closed=False)
    arr = _as_values("values", values)
    n = int(arr.size)
    mean = float(arr.mean())
    if n == 1:
        return SeedSummary(n=1, mean=mean, std=0.0, low=mean, high=mean, confidence=confidence)
    std = float(arr.std(ddof=1))
    t = float(_scipy_stats.t.ppf((1 + confidence) / 2, n - 1))
    half = t * std / math.sqrt(n)
    return SeedSummary(
        n=n, mean=mean, std=std, low=mean - half, high=mean + half, confidence=confidence
    )


def _min_exact_p(n: int, alternative: str) -> float:
    """The smallest p the exact sign-flip test can give with ``n`` seeds."""
    return (2.0 if alternative == "two-sided" else 1.0) / 2**n


def _seeds_needed(alpha: float, alternative: str) -> int:
    """The fewest seeds whose smallest exact p is <= ``alpha``."""
    n = 1
    while _min_exact_p(n, alternative) > alpha:
        n += 1
    return n


@dataclass(frozen=True)
class PairedTest:
    """Paired comparison of two models over the same seeds (``a - b``).

    ``p_exact`` is the exact sign-flip permutation p value, ``p_t`` the paired t-test's (NaN
    when it is undefined: fewer than 2 seeds or all differences equal). ``method`` names both.
    """

    n: int
    mean_difference: float
    differences: tuple[float, ...]
    p_exact: float
    p_t: float
    method: str
    alternative: str = "two-sided"

    def significant(self, alpha: float = 0.05) -> bool:
        """Whether the exact test rejects "no difference" at level ``alpha`` (``p_exact <= alpha``).

        Always False for one seed: there is nothing to test.
        """
        alpha = check_fraction("alpha", alpha, high_closed=False)
        return self.n >= 2 and self.p_exact <= alpha

    def describe(
        self,
        name_a: str,
        name_b: str,
        alpha: float = 0.05,
        scale: float = 100,
        *,
        floor_note: bool = True,
    ) -> str:
        """One sentence for the generated discussion, e.g.

        "custom is 2.31 points above alexnet (paired over 3 seeds, exact sign-flip p = 0.25:
        not significant; with 3 seeds the smallest exact two-sided p is 0.25, so 5% needs >= 6
        seeds; paired t-test p = 0.0131)". The verdict is the exact test's (no assumption on the
        differences' distribution); the t-test's p, which assumes normal differences, follows
        when defined. The higher model is named first, and only a significant difference is
        called a win ("custom beats alexnet by ..."); the difference is multiplied by ``scale``
        (100: accuracy fractions to percentage points). With one seed: "(one seed: no test)".
        ``floor_note=False`` leaves out the note on the smallest p the seeds allow (for a text
        that says it once).
        """
        for arg, value in (("name_a", name_a), ("name_b", name_b)):
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{arg} must be a non-empty string, got {value!r}")
        alpha = check_fraction("alpha", alpha, high_closed=False)
        scale = check_real("scale", scale)

        points = f"{abs(self.mean_difference) * scale:.2f}"
        high, low = (name_a, name_b) if self.mean_difference > 0 else (name_b, name_a)
        if float(points) == 0:
            head = f"{name_a} and {name_b} are level ({points} points apart)"
        elif self.significant(alpha):
            head = f"{high} beats {low} by {points} points"
        else:
            head = f"{high} is {points} points above {low}"
        if self.n < 2:
            return f"{head} (one seed: no test)"

        sided = "" if self.alternative == "two-sided" else f"one-sided ({self.alternative}) "
        p = format_p(self.p_exact, prefix="= ")
        level = _percent(alpha)
        verdict = f"significant at {level}" if self.significant(alpha) else "not significant"
        detail = f"paired over {self.n} seeds, exact {sided}sign-flip p {p}: {verdict}"
        floor = _min_exact_p(self.n, self.alternative)
        if floor > alpha and floor_note:
            kind = "two-sided" if self.alternative == "two-sided" else "one-sided"
            detail += (
                f"; with {self.n} seeds the smallest exact {kind} p is {floor:.3g}, so {level} "
                f"needs >= {_seeds_needed(alpha, self.alternative)} seeds"
            )
        if not math.isnan(self.p_t):  # the parametric view, assuming normal differences
            detail += f"; paired t-test p {format_p(self.p_t, prefix='= ')}"
        return f"{head} ({detail})"


def _sign_flip_means(differences: np.ndarray) -> np.ndarray:
    """The mean of ``differences`` under each of the ``2**n`` sign assignments (index 0: all +)."""
    sums = np.zeros(1)
    for d in differences:
        sums = np.concatenate([sums + d, sums - d])
    return sums / differences.size


def paired_test(a, b, alternative: str = "two-sided") -> PairedTest:
    """Compare per-seed results ``a`` and ``b`` (same seeds, same order) on ``a - b``.

    ``p_exact`` is the exact sign-flip permutation test: under "no difference" each per-seed
    difference is as likely positive as negative, so all ``2**n`` sign assignments of the
    differences are enumerated and ``p_exact`` is the share whose mean is at least as extreme
    as the observed one: ``|mean| >= |observed|`` for ``"two-sided"``, ``mean >= observed``
    for ``"greater"`` (a > b), ``mean <= observed`` for ``"less"``; ties within 1e-12 count.
    ``n`` is limited to 20 (about a million assignments).

    The test is exact but coarse: the observed assignment and (two-sided) its mirror always
    count, so with ``n`` seeds the smallest two-sided p is ``2 / 2**n`` (0.25 for 3 seeds,
    0.125 for 4, 0.0625 for 5, 0.03125 for 6) and the smallest one-sided p is ``1 / 2**n``.
    "Significant at 5%" therefore needs at least 6 seeds for a two-sided exact test (5 for a
    one-sided one), however large the difference.

    ``p_t`` is ``scipy.stats.ttest_rel(a, b, alternative=alternative)``'s p value, NaN when
    ``n < 2`` or all differences are equal.
    """
    if alternative not in ALTERNATIVES:
        raise ConfigError(f"alternative must be one of {list(ALTERNATIVES)}, got {alternative!r}")
    a_arr = _as_values("a", a)
    b_arr = _as_values("b", b)
    if a_arr.size != b_arr.size:
        raise ConfigError(
            f"a and b must have one value per seed for the same seeds in the same order, got "
            f"{a_arr.size} and {b_arr.size} values"
        )
    n = int(a_arr.size)
    if n > MAX_EXACT_SEEDS:
        raise ConfigError(
            f"the exact sign-flip test enumerates 2**n sign assignments and takes at most "
            f"{MAX_EXACT_SEEDS} seeds, got {n}; use fewer seeds, or the paired t-test "
            f"(scipy.stats.ttest_rel) for this many"
        )

    diffs = a_arr - b_arr
    means = _sign_flip_means(diffs)
    observed = float(means[0])  # the all-plus assignment: the observed mean difference
    scale = max(1.0, float(np.abs(diffs).max()))
    tol = TIE_TOLERANCE * scale
    if alternative == "two-sided":
        hits = np.abs(means) >= abs(observed) - tol
    elif alternative == "greater":
        hits = means >= observed - tol
    else:
        hits = means <= observed + tol
    p_exact = float(np.count_nonzero(hits)) / means.size

    # With one seed there is no variance, and with all differences equal (within the tie
    # tolerance) the differences have zero variance: the t statistic divides by it, so it is
    # undefined (scipy would give NaN or +-inf and p = 0), and we report NaN.
    if n < 2 or float(np.ptp(diffs)) <= tol:
        p_t = math.nan
    else:
        p_t = float(_scipy_stats.ttest_rel(a_arr, b_arr, alternative=alternative).pvalue)

    return PairedTest(
        n=n,
        mean_difference=float(diffs.mean()),
        differences=tuple(float(d) for d in diffs),
        p_exact=p_exact,
        p_t=p_t,
        method=(
            f"exact sign-flip permutation test over all 2**{n} sign assignments "
            f"({alternative}); p_t: paired t-test (scipy.stats.ttest_rel)"
        ),
        alternative=alternative,
    )


def interaction_test(a_with, a_without, b_with, b_without, alternative="two-sided") -> PairedTest:
    """Does a factor (augmentation, say) help model ``a`` more than model ``b``?

    All four are per-seed results on the same seeds, in the same order. Per seed, the factor's
    gain for each model is ``with - without``; the interaction is the difference of the two
    gains, ``(a_with - a_without) - (b_with - b_without)``, tested exactly as
    :func:`paired_test` tests a difference (``mean_difference`` is the mean interaction; a
    positive one means the factor helped ``a`` more).
    """
    values = {
        name: _as_values(name, v)
        for name, v in (
            ("a_with", a_with),
            ("a_without", a_without),
            ("b_with", b_with),
            ("b_without", b_without),
        )
    }
    sizes = {name: v.size for name, v in values.items()}
    if len(set(sizes.values())) != 1:
        raise ConfigError(
            f"the four results must have one value per seed for the same seeds, got {sizes}"
        )
    gain_a = values["a_with"] - values["a_without"]
    gain_b = values["b_with"] - values["b_without"]
    return paired_test(gain_a, gain_b, alternative=alternative)
