"""core.stats.inference from sufficient statistics equals scipy / pingouin on the raw scores."""

from __future__ import annotations

import numpy as np
import pingouin as pg
import pytest
from scipy import stats as sps

from core.stats import inference

RNG = np.random.default_rng(7)
A = RNG.normal(200, 15, 37)
B = RNG.normal(195, 11, 52)


def _summary(x: np.ndarray) -> tuple[int, float, float]:
    return len(x), float(np.mean(x)), float(np.std(x, ddof=1))


def test_one_sample_matches_scipy() -> None:
    ref = sps.ttest_1samp(A, 198.0)  # scipy: ttest_1samp(a, mu)
    ci = ref.confidence_interval()
    got = inference.one_sample(*_summary(A), 198.0)
    assert got.t == pytest.approx(ref.statistic, rel=1e-9)
    assert got.p == pytest.approx(ref.pvalue, rel=1e-9)
    assert got.df == pytest.approx(ref.df, rel=1e-9)
    assert got.ci_lo + 198.0 == pytest.approx(ci.low, rel=1e-9)
    assert got.ci_hi + 198.0 == pytest.approx(ci.high, rel=1e-9)


def test_welch_matches_scipy() -> None:
    ref = sps.ttest_ind(A, B, equal_var=False)  # scipy: ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval()
    got = inference.welch(*_summary(A), *_summary(B))
    assert got.t == pytest.approx(ref.statistic, rel=1e-9)
    assert got.p == pytest.approx(ref.pvalue, rel=1e-9)
    assert got.df == pytest.approx(ref.df, rel=1e-9)
    assert (got.ci_lo, got.ci_hi) == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_hedges_matches_pingouin() -> None:
    ref = pg.compute_effsize(A, B, eftype="hedges")  # pingouin: compute_effsize(hedges)
    assert inference.hedges_g(*_summary(A), *_summary(B)) == pytest.approx(ref, rel=1e-9)


def test_paired_is_one_sample_on_changes() -> None:
    before, after = A[:30], A[:30] + RNG.normal(3, 4, 30)
    ref = sps.ttest_rel(after, before)  # scipy: ttest_rel(after, before)
    got = inference.one_sample(*_summary(after - before), 0.0)
    assert got.t == pytest.approx(ref.statistic, rel=1e-9)
    assert got.p == pytest.approx(ref.pvalue, rel=1e-9)


def test_zero_variance_gives_no_test() -> None:
    got = inference.one_sample(12, 200.0, 0.0, 190.0)
    assert np.isnan(got.t) and np.isnan(got.p) and got.diff == 10.0


def test_benjamini_hochberg_matches_scipy() -> None:
    p = np.array([0.001, 0.04, 0.03, np.nan, 0.5, 0.012])
    adjusted, reject = inference.benjamini_hochberg(p)
    ref = sps.false_discovery_control(p[np.isfinite(p)], method="bh")
    assert adjusted[np.isfinite(p)] == pytest.approx(ref, rel=1e-12)
    assert np.isnan(adjusted[3]) and not reject[3]
    assert list(reject[np.isfinite(p)]) == list(ref <= 0.05)


def test_vectorised_over_many_groups() -> None:
    groups = [RNG.normal(200, 10, n) for n in (10, 25, 60)]
    n, mean, sd = map(np.array, zip(*(_summary(g) for g in groups), strict=True))
    got = inference.one_sample(n, mean, sd, np.array([199.0, 201.0, 200.0]))
    for i, g in enumerate(groups):
        ref = sps.ttest_1samp(g, [199.0, 201.0, 200.0][i])
        assert got.p[i] == pytest.approx(ref.pvalue, rel=1e-9)
