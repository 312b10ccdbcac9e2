"""The standards the comparisons area needs, read from `core.standards.norms` (the standards area
owns them).

Comparisons need, per subject × grade × season: the achievement norm (mean, sd) of the norm set
the district chose, the proficiency threshold, and expected growth between two test events.
They need them for every key at once (a district-wide query joins them as a small relation), so
this module asks core.standards.norms for whole tables — `load_norm_set` and `active_cut_scores` —
once per
state of the standards, and `growth_norm_for` once per grade pair, instead of once per key.

Rules (say them wherever a number is shown):
* A norm applies only to scores on a platform its set declares (`NormSet.platforms`): a Star
  scaled score is never compared with a RIT norm. Likewise a cut-score set with a platform.
* Proficient = at or above the cut score (lowest score of the first proficient band of the set
  in use) when the district loaded one for that key, else at or above the norm mean — the 50th
  percentile of a symmetric norm distribution.
* Expected growth = the published growth norm when core.standards.norms has one; otherwise the
difference
  of the two achievement-norm means (the growth that keeps a student level with the norm mean),
  labelled as such; otherwise none. Nothing is estimated where the standards are silent.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from core.access.scope import Scope
from core.cohorts.spec import CohortSpec
from core.standards import norms
from core.standards.norms import beyond_norm_sql, off_scale, share_off_scale_sql
from core.stats.sufficient import PLATFORMS_CTE, comparison_platforms, registered, scores_cte
from core.warehouse import canonical

NORM_COLUMNS = ["subject", "grade", "season", "norm_mean", "norm_sd", "cut_score", "norm_source"]
KEY = ["subject", "grade", "season"]
_CACHE: dict[tuple, Snapshot] = {}
_CACHE_LOCK = threading.Lock()


@dataclass
class Snapshot:
    """The standards in force for one state of the warehouse's settings and standard sets."""

    norm_key: str
    norm_label: str
    norm_platforms: tuple[str, ...]
    cut_platform: str | None
    table: pd.DataFrame  # every key with a norm or a cut score: NORM_COLUMNS
    growth: dict[tuple, tuple[float | None, str | None]] = field(default_factory=dict)
    # computed once per state of the standards (and of the comparison platforms), not per
    # query: a 30-cohort report asked for the same frames some 200 times
    frames: dict[tuple, pd.DataFrame] = field(default_factory=dict)


def _cut_thresholds(bands: pd.DataFrame, keys: list[str] = KEY) -> pd.DataFrame:
    proficient = bands[bands["proficient"].astype(bool)].sort_values([*keys, "band_order"])
    first = proficient.groupby(keys, as_index=False).first()
    return first[[*keys, "min_score"]].rename(columns={"min_score": "cut_score"})


def _load(con: duckdb.DuckDBPyConnection) -> Snapshot:
    norm_set = norms.load_norm_set(con)
    values = norm_set.values.rename(columns={"mean": "norm_mean", "sd": "norm_sd"})
    cut_set, bands = norms.active_cut_scores(con)
    table = values.merge(_cut_thresholds(bands), on=KEY, how="outer")
    table["norm_source"] = np.where(table["norm_mean"].notna(), norm_set.label, None)
    for column in ("norm_mean", "norm_sd", "cut_score"):
        table[column] = table[column].astype("float64")
    return Snapshot(
        norm_key=norm_set.key,
        norm_label=norm_set.label,
        norm_platforms=norm_set.platforms,
        cut_platform=cut_set.platform if cut_set else None,
        table=table[NORM_COLUMNS],
    )


def snapshot(con: duckdb.DuckDBPyConnection) -> Snapshot:
    """The standards in force now (cached until a setting or a standard set changes)."""
    state = norms.standards_state(con)
    with _CACHE_LOCK:
        found = _CACHE.get(state)
    if found is None:
        found = _load(con)
        with _CACHE_LOCK:
            if len(_CACHE) > 16:
                _CACHE.clear()
            _CACHE[state] = found
    return found


def _allowed(platforms: tuple[str, ...], platform: str | None) -> bool:
    """A norm judges only scores of a platform its set declares (never `generic` / unknown)."""
    return platform in platforms


def norm_frame(
    con: duckdb.DuckDBPyConnection, keys: Iterable[tuple[str, str, str]] | None = None
) -> pd.DataFrame:
    """Norm mean/sd, cut score and norm label per (subject, grade, season) key — default every
    canonical key — blank where the standards have none or do not cover the subject's platform."""
    current = snapshot(con)
    platforms = comparison_platforms(con)
    memo = ("norms", tuple(sorted(platforms.items())))
    every = current.frames.get(memo)
    if every is None:
        every = current.frames[memo] = _norms_for(current, platforms)
    if keys is None:
        return every.iloc[:CANONICAL_KEYS].copy()
    wanted = pd.DataFrame(list(dict.fromkeys(tuple(k) for k in keys)), columns=KEY)
    return wanted.merge(every, on=KEY, how="left")[NORM_COLUMNS]


def _canonical_keys() -> list[tuple[str, str, str]]:
    return list(itertools.product(canonical.SUBJECTS, canonical.GRADES, canonical.SEASONS))


CANONICAL_KEYS = len(_canonical_keys())


def _norms_for(current: Snapshot, platforms: dict[str, str]) -> pd.DataFrame:
    """norm_frame of every canonical key (first, in order) and every key the standards hold."""
    held = current.table[KEY].itertuples(index=False, name=None)
    keys = dict.fromkeys([*_canonical_keys(), *held])
    wanted = pd.DataFrame(list(keys), columns=KEY)
    frame = wanted.merge(current.table, on=KEY, how="left")
    platform = frame["subject"].map(platforms)
    norm_ok = platform.map(lambda p: _allowed(current.norm_platforms, p))
    cut_ok = platform.map(lambda p: current.cut_platform is None or p == current.cut_platform)
    frame.loc[~norm_ok.astype(bool), ["norm_mean", "norm_sd", "norm_source"]] = None
    frame.loc[~cut_ok.astype(bool), "cut_score"] = np.nan
    for column in ("norm_mean", "norm_sd", "cut_score"):
        frame[column] = frame[column].astype("float64")
    return frame[NORM_COLUMNS]


NO_SCALE_NOTE = (
    "no national norm for this test's scale, so no expected growth (the change in points is "
    "still tested). Upload district norms for this test on Standards & norms; if the file "
    "really is MAP Growth, import it again choosing MAP Growth on Upload (--platform nwea_map)"
)


OFF_SCALE_GROWTH_NOTE = (
    "not compared with the national norm at the {ends}: {shares} of those scores lie more than "
    "{sd} norm sds from the norm mean of their grade in {norms}, so they are unlikely to be on "
    "its scale — no expected growth, % meeting it or national standing is given (the change in "
    "points is still tested). Check the file's test (Upload: which test it holds) and its "
    "scores; district norms or cut scores for this test go on Standards & norms"
)


def off_scale_growth_note(shares: dict[str, float], norm_label: str) -> str:
    """Why a growth row has no norm numbers: the plausibility guard (core.standards.norms) failed
    at the
    ends named in `shares` ("earlier" / "later" → the share of scores off the norm's range)."""
    ends = " and ".join(shares)
    return OFF_SCALE_GROWTH_NOTE.format(
        ends=f"{ends} test{'s' if len(shares) > 1 else ''}",
        shares=" and ".join(
            f"{share:.0%}" + (f" ({end})" if len(shares) > 1 else "")
            for end, share in shares.items()
        ),
        sd=norms.OFF_SCALE_SD,
        norms=norm_label,
    )


def unnormed_subjects(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Subjects whose comparison platform the norm set in use does not cover (another test's
    scale, or an undeclared one): no norm mean, norm percentile or expected growth for them."""
    current = snapshot(con)
    return {
        s for s, p in comparison_platforms(con).items() if not _allowed(current.norm_platforms, p)
    }


def threshold_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Proficiency threshold per school year × key that has one — the cut score of the set that
    school year uses (its own source year, else the nearest earlier, else a pinned set:
    core.standards.norms.sets_by_school_year), else the norm mean — with the set's name (`cut_set`,
    None
    for the norm mean). Queries join it as `cmp_thresholds` on school year, subject, grade and
    season, so last year's % proficient uses last year's cuts. A threshold that is the norm
    mean carries `norm_mean` / `norm_sd` for the plausibility guard (`norm_threshold_off_sql`)."""
    current = snapshot(con)
    years = tuple(sorted(norms.assessment_years(con)))
    memo = ("thresholds", years, tuple(sorted(comparison_platforms(con).items())))
    if memo not in current.frames:
        current.frames[memo] = _thresholds(con, norm_frame(con), list(years))
    return current.frames[memo].copy()


def _thresholds(
    con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, school_years: list[str]
) -> pd.DataFrame:
    years = norms.sets_by_school_year(con, "cut_scores", school_years)
    used = [int(i) for i in years["set_id"].dropna()]
    cuts = _cut_thresholds(norms.values_of_sets(con, "cut_scores", used), ["set_id", *KEY])
    platforms = comparison_platforms(con)
    # read as a whole frame: a fetchone() would leave a result open, and DuckDB then refuses
    # to register the frame this returns
    listed = norms.list_standard_sets(con, "cut_scores").set_index("set_id")["platform"]
    cut_platforms = {s: listed.get(s) if pd.notna(listed.get(s)) else None for s in used}
    per_year = years[["school_year", "set_id", "set_label"]].merge(
        frame[KEY].drop_duplicates(), how="cross"
    )
    per_year = per_year.merge(cuts.astype({"set_id": "Int64"}), on=["set_id", *KEY], how="left")
    allowed = [
        cut_platforms.get(i) in (None, platforms.get(subject)) if pd.notna(i) else False
        for i, subject in zip(per_year["set_id"], per_year["subject"], strict=True)
    ]
    per_year["cut_score"] = per_year["cut_score"].where(allowed).astype("float64")
    per_year = per_year.merge(frame[[*KEY, "norm_mean", "norm_sd"]], on=KEY, how="left")
    threshold = per_year["cut_score"].fillna(per_year["norm_mean"])
    kind = np.where(per_year["cut_score"].notna(), "cut score", "norm mean")
    cut_set = per_year["set_label"].where(per_year["cut_score"].notna(), None)
    # norm_mean / norm_sd: for the plausibility guard of a threshold that is the norm mean
    out = per_year[["school_year", *KEY, "norm_mean", "norm_sd"]].assign(
        threshold=threshold, threshold_kind=kind, cut_set=cut_set
    )
    return out[out["threshold"].notna()].reset_index(drop=True)


def off_scale_rows(
    con: duckdb.DuckDBPyConnection,
    spec: CohortSpec,
    scope: Scope,
    keys: list[str],
    skip: tuple[str, ...] = (),
) -> pd.DataFrame:
    """The plausibility guard (core.standards.norms) on each row of `keys` of a cohort's scores,
    for a
    result built from per-grade sums (a reference norm line): `keys` and `off_scale` (bool), from
    one grouped query against each score's own-grade norm."""
    cte, params = scores_cte(spec, scope, skip=skip)
    share = share_off_scale_sql("s.score", "n.norm_mean", "n.norm_sd")
    sql = f"""
        with {PLATFORMS_CTE}, {cte}
        select {", ".join(f"s.{k}" for k in keys)}, {share} as share
        from scores s left join cmp_guard_norms n using (subject, grade, season)
        group by all
    """
    with registered(con, "cmp_guard_norms", norm_frame(con)):
        shares = con.execute(sql, params).df()
    return shares[keys].assign(off_scale=off_scale(shares["share"]))


def norm_threshold_off_sql(score: str, thresholds: str = "t") -> str:
    """SQL: the plausibility guard's per-score term (core.standards.norms) where the proficiency
    threshold
    is the norm mean (NULL where it is a cut score: a district set judges its own test); avg()
    of it over a row is the row's share of scores off the norm's range."""
    return beyond_norm_sql(
        f"case when {thresholds}.threshold_kind = 'norm mean' then {score} end",
        f"{thresholds}.norm_mean",
        f"{thresholds}.norm_sd",
    )


def grade_pairs(from_year: str, to_year: str) -> list[tuple[str, str]]:
    """(grade then, grade now) pairs a student can make between two test events: the same
    grade within a year; k years apart, k grades up or fewer (repeaters) — a skipped grade or a
    demotion gets no expectation."""
    years = int(to_year[:4]) - int(from_year[:4])
    pairs = []
    for a, b in itertools.product(canonical.GRADES, repeat=2):
        step = canonical.grade_rank(b) - canonical.grade_rank(a)
        if (years == 0 and step == 0) or (years > 0 and 0 <= step <= years):
            pairs.append((a, b))
    return pairs


def expected_growth_frame(
    con: duckdb.DuckDBPyConnection,
    subjects: Iterable[str],
    from_: tuple[str, str],
    to: tuple[str, str],
) -> pd.DataFrame:
    """Expected growth per subject × (grade then → grade now) between two (season, year) test
    events, with where each number comes from (module docstring)."""
    current = snapshot(con)
    memo = (
        "expected",
        tuple(dict.fromkeys(subjects)),
        from_,
        to,
        tuple(sorted(comparison_platforms(con).items())),
    )
    if memo not in current.frames:
        current.frames[memo] = _expected_frame(con, current, memo[1], from_, to)
    return current.frames[memo].copy()


def _expected_frame(
    con: duckdb.DuckDBPyConnection,
    current: Snapshot,
    subjects: Iterable[str],
    from_: tuple[str, str],
    to: tuple[str, str],
) -> pd.DataFrame:
    norms_now = norm_frame(con).set_index(KEY)
    platforms = comparison_platforms(con)
    rows = []
    for subject in dict.fromkeys(subjects):
        for grade_from, grade_to in grade_pairs(from_[1], to[1]):
            key = (subject, grade_from, from_[0], grade_to, to[0])
            cached = (*key, platforms.get(subject))  # no expectation off the norm's scale
            if cached not in current.growth:
                current.growth[cached] = _expectation(con, current, norms_now, key)
            rows.append((subject, grade_from, grade_to, *current.growth[cached]))
    frame = pd.DataFrame(
        rows, columns=["subject", "grade_from", "grade_to", "expected", "expected_source"]
    )
    frame["expected"] = frame["expected"].astype("float64")
    return frame


def _expectation(
    con: duckdb.DuckDBPyConnection, current: Snapshot, table: pd.DataFrame, key: tuple
) -> tuple[float | None, str | None]:
    subject, grade_from, season_from, grade_to, season_to = key
    first = table.loc[(subject, grade_from, season_from)]
    last = table.loc[(subject, grade_to, season_to)]
    if pd.isna(first["norm_mean"]) or pd.isna(last["norm_mean"]):
        return None, None  # no norm for this platform/grade: no growth norm applies either
    published = norms.growth_norm_for(con, *key, key=current.norm_key)
    if published is not None:
        return published.mean, f"{published.label} ({published.exactness})"
    return (
        float(last["norm_mean"] - first["norm_mean"]),
        f"difference of achievement-norm means ({current.norm_label}); not a growth norm",
    )
