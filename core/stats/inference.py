"""Tests and effect sizes from sufficient statistics (n, mean, sd), in the pingouin mould.

Thousands of cohorts are summarised by one grouped SQL query; these functions turn the summary
columns into tests with scipy's distributions, vectorised over numpy arrays. Tests in
tests/core/test_stats.py prove they equal scipy.stats / pingouin run on the raw scores.
Definitions (docs/comparisons.md): sd with ddof = 1; Welch df by Welch–Satterthwaite; Hedges'
g = d × J with d on the pooled sd and J = 1 − 3 / (4(n_a + n_b) − 9).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

MIN_N_DEFAULT = 10
MIN_N_FLOOR = 5


def _arr(x: object) -> np.ndarray:
    return np.asarray(x, dtype="float64")


@dataclass(frozen=True)
class TTest:
    """Vectorised result: every field is an array aligned with the inputs."""

    diff: np.ndarray
    t: np.ndarray
    df: np.ndarray
    p: np.ndarray
    ci_lo: np.ndarray
    ci_hi: np.ndarray

    def columns(self, *, with_diff: bool = False) -> dict[str, np.ndarray]:
        """The result columns every comparison table carries (`t, df, p, ci_lo, ci_hi`, and
        `diff` where the table has no difference column of its own), for DataFrame.assign."""
        out = {"t": self.t, "df": self.df, "p": self.p, "ci_lo": self.ci_lo, "ci_hi": self.ci_hi}
        return {"diff": self.diff, **out} if with_diff else out


def _finish(diff: np.ndarray, se: np.ndarray, df: np.ndarray, alpha: float = 0.05) -> TTest:
    with np.errstate(divide="ignore", invalid="ignore"):
        valid = (se > 0) & np.isfinite(se) & (df > 0)
        t = np.where(valid, diff / np.where(valid, se, 1.0), np.nan)
        p = np.where(valid, 2 * sps.t.sf(np.abs(t), np.where(valid, df, 1.0)), np.nan)
        crit = np.where(valid, sps.t.ppf(1 - alpha / 2, np.where(valid, df, 1.0)), np.nan)
    return TTest(
        diff=diff,
        t=t,
        df=np.where(valid, df, np.nan),
        p=p,
        ci_lo=np.where(valid, diff - crit * se, np.nan),
        ci_hi=np.where(valid, diff + crit * se, np.nan),
    )


def one_sample(n: object, mean: object, sd: object, mu: object) -> TTest:
    """scipy: ttest_1samp(x, mu). Also the paired test when given per-student changes, mu=0."""
    n, mean, sd, mu = _arr(n), _arr(mean), _arr(sd), _arr(mu)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = sd / np.sqrt(n)
    return _finish(mean - mu, se, n - 1)


def welch(
    n_a: object, mean_a: object, sd_a: object, n_b: object, mean_b: object, sd_b: object
) -> TTest:
    """scipy: ttest_ind(a, b, equal_var=False); diff = mean_a − mean_b."""
    n_a, mean_a, sd_a = _arr(n_a), _arr(mean_a), _arr(sd_a)
    n_b, mean_b, sd_b = _arr(n_b), _arr(mean_b), _arr(sd_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        va, vb = sd_a**2 / n_a, sd_b**2 / n_b
        se = np.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
    return _finish(mean_a - mean_b, se, df)


def welch_contrast(diff: object, sds: Sequence[object], ns: Sequence[object]) -> TTest:
    """A t-test of a contrast of independent means (`diff` = Σ ±mean_i, e.g. a gap this year
    minus the gap then: four means) with the Welch–Satterthwaite df:
    se² = Σ v_i with v_i = sd_i² / n_i, df = (Σ v_i)² / Σ v_i² / (n_i − 1).
    With two means it is `welch`; the t (not a normal z) keeps p honest for small groups, and
    as every group grows the df grows and p becomes the normal one."""
    v = [_arr(sd) ** 2 / _arr(n) for sd, n in zip(sds, ns, strict=True)]
    with np.errstate(divide="ignore", invalid="ignore"):
        total = sum(v)
        df = total**2 / sum(vi**2 / (_arr(n) - 1) for vi, n in zip(v, ns, strict=True))
    return _finish(_arr(diff), np.sqrt(total), df)


def hedges_g(
    n_a: object, mean_a: object, sd_a: object, n_b: object, mean_b: object, sd_b: object
) -> np.ndarray:
    """pingouin: compute_effsize(a, b, eftype='hedges') — d on the pooled sd, times J."""
    n_a, mean_a, sd_a = _arr(n_a), _arr(mean_a), _arr(sd_a)
    n_b, mean_b, sd_b = _arr(n_b), _arr(mean_b), _arr(sd_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = np.sqrt(((n_a - 1) * sd_a**2 + (n_b - 1) * sd_b**2) / (n_a + n_b - 2))
        d = np.where(pooled > 0, (mean_a - mean_b) / np.where(pooled > 0, pooled, 1.0), np.nan)
        return d * (1 - 3 / (4 * (n_a + n_b) - 9))


def sd_from_sums(n: object, total: object, total_sq: object) -> np.ndarray:
    """Sample sd (ddof=1) from n, Σx, Σx² — only for callers that cannot use SQL's stddev_samp."""
    n, total, total_sq = _arr(n), _arr(total), _arr(total_sq)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = (total_sq - total**2 / n) / (n - 1)
    return np.sqrt(np.clip(var, 0, None))


def benjamini_hochberg(p: object, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """(adjusted p, reject) like statsmodels multipletests(method='fdr_bh');."""
    p = _arr(p)
    adjusted = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        adjusted[ok] = sps.false_discovery_control(p[ok], method="bh")
    return adjusted, np.where(ok, adjusted <= alpha, False)


def magnitude(effect: float | None) -> str:
    """Plain words for |effect| (Cohen's conventions), used by pages and narratives alike."""
    if effect is None or not np.isfinite(effect):
        return "unknown"
    size = abs(effect)
    if size < 0.2:
        return "negligible"
    if size < 0.5:
        return "small"
    if size < 0.8:
        return "moderate"
    return "large"
