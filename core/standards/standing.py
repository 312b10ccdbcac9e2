"""Cohort vs standard: how each cohort in view stands against the national norm (and the
district's cut scores and targets), from ONE grouped SQL query of sufficient statistics.

Grain of a result row: cohort × school year × school × grade × subject × season (`by` chooses
which of school year / school / grade split rows; subject and season always do, since scores of
different subjects or seasons are on different footings and never pooled).

Definitions (docs/comparisons.md):
* n, mean, sd (ddof 1), median (interpolated, like numpy) of the members' scores; mean
  percentile = mean of the vendor-reported national percentiles (members without one ignored) —
  the mean of students' percentiles, not the percentile of the mean score. `percentile_of_mean`
  is that: 100·Φ(standardized difference), the national percentile rank of the cohort's mean
  under the norm's normal distribution — 100·Φ((mean − μ)/σ) for a single-grade row; for a row
  pooling grades, the rank of the members' mean own-grade standing (mean of z_i). Blank where
  no norm applies (`norm_mean` null).
* Each member is compared with the norm of **their own grade** (and the row's subject and
  season): d_i = score_i − μ(grade_i), z_i = d_i / σ(grade_i). The one-sample t-test is on d_i
  against 0 (df = n − 1), the 95% CI is the CI of mean(d), and the standardized difference is
  mean(z). For a single-grade row this is exactly scipy's ttest_1samp(scores, μ) and
  (mean − μ)/σ; for a row pooling several grades it is the same test on the per-student
  differences, and `norm_mean` / `norm_sd` are the members' average norm mean and sd.
* % at or above the norm median uses the norm **mean** as the 50th-percentile proxy (RIT
  distributions are near-symmetric; the published 50th-percentile RITs equal the rounded means).
* Proficiency-band shares and % proficient come from the district's cut scores when loaded;
  % at or above target from its local targets.
* Category: Above / Below when |effect size| ≥ 0.2 and the Benjamini–Hochberg-adjusted p < 0.05,
  else At; no test, no category. The BH family of a quick cohort row (one year × school × grade,
  no filters) is fixed — every quick cohort of the district that year — so it has one verdict
  wherever it is asked; other rows are adjusted among the custom rows returned together
  (`core.stats.families`; `bh_family` says which).
* A row pooling school years counts a student once per year tested (each score is one member).
* Members of a grade the norm set has no norm for are left out of that row (named in `note`);
  a row with no norm at all (or scores on another platform's scale) gets descriptive statistics
  only — never a guessed norm. Scores follow the comparisons' platform rule (one platform per
  subject: `core.stats.sufficient.PLATFORMS_CTE`).

Privacy: rows under `min_group_size` are suppressed (`suppressed` true, statistics blank) and
so are rows that would reveal a small group by subtraction (see `complement_reasons`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
from scipy.special import ndtr

from core.access.scope import DISTRICT, Scope
from core.cohorts.spec import (
    CohortSpec,
)
from core.standards.norms import (
    KEY,
    OFF_SCALE_SD,
    NormSet,
    StandardSet,
    active_set,
    assessment_years,
    load_norm_set,
    off_scale,
    sets_by_school_year,
    share_off_scale_sql,
    standards_state,
    values_of_sets,
)
from core.stats import families, inference
from core.stats.member_counts import members_sql
from core.stats.sufficient import PLATFORMS_CTE
from core.stats.suppression import SUPPRESSED_NOTE, complement_reasons, suppress
from core.warehouse import canonical
from core.warehouse.settings import min_group_size

GROUPABLE = ("school_year", "school", "grade")
DEFAULT_BY = GROUPABLE
ALWAYS = ("subject", "season")
EFFECT_THRESHOLD = 0.2
ALPHA = 0.05
CATEGORIES = ("Above", "At", "Below")
NO_NORM_FOR_SCALE = (
    "no national norm for this test's scale: {norms} are for {scales} scores and these are "
    "{platform} scores, so they are not compared with it. Upload district norms or cut scores "
    "for this test on Standards & norms; if the file really is MAP Growth, import it again "
    "choosing MAP Growth on Upload (python -m core import … --platform nwea_map)"
)
OFF_SCALE_NOTE = (
    "not compared with the national norm: {share:.0%} of these scores lie more than "
    f"{OFF_SCALE_SD} norm sds from the norm mean of their grade in {{norms}}, so they are "
    "unlikely to be on its scale. Check the file's test (Upload: which test it holds) and "
    "its scores; district norms or cut scores for this test go on Standards & norms"
)
# Columns that only mean something against the norm: blank where the norm does not apply.
NORM_DEPENDENT = (
    "norm_mean", "norm_sd", "diff_mean", "diff_sd", "effect_size", "pct_at_or_above_norm",
)  # fmt: skip
COMPLEMENT_NOTE = (
    "not reported: with the cohort{detail} it would reveal a group of fewer than {min_n} "
    "students (complementary suppression)"
)
# Aggregates of one row, in SQL over the columns `scored` prepares: *_e columns are NULL for
# members not compared in their row (a grade without a norm), so plain aggregates skip them
# without FILTER clauses (each FILTER or DISTINCT aggregate costs DuckDB another pass).
AGGREGATES = {
    "n": "count(score_e)::double",
    "n_all": "count(*)::double",
    "mean": "avg(score_e)",
    "sd": "stddev_samp(score_e)",
    "median": "median(score_e)",
    "mean_percentile": "avg(percentile_e)",
    "n_percentile": "count(percentile_e)::double",
    "diff_mean": "avg(score_e - norm_mean)",
    "diff_sd": "stddev_samp(score_e - norm_mean)",
    "effect_size": "avg((score_e - norm_mean) / norm_sd)",
    "norm_mean": "avg(norm_mean)",
    "norm_sd": "avg(norm_sd)",
    "pct_at_or_above_norm": "avg((score_e >= norm_mean)::double)",
    "platform": "min(platform)",
    # the plausibility guard (core.standards.norms): the share of scores beyond the norm's range
    "share_off_scale": share_off_scale_sql("score_e", "norm_mean", "norm_sd"),
}
PER_STUDENT = ("diff_mean", "diff_sd", "effect_size")  # needed when a row pools grades
BAND_AGGREGATES = {
    "cut_set_min": "min(cut_set_id)",
    "cut_set_max": "max(cut_set_id)",
    "n_banded": "count(band)::double",
    "band_counts": "histogram(band)",
    "pct_proficient": "avg(proficient::double)",
}
TARGET_AGGREGATES = {
    "target_set_min": "min(target_set_id)",
    "target_set_max": "max(target_set_id)",
    "n_target": "count(target)::double",
    "target": "avg(target)",
    "pct_at_or_above_target": "avg((score_e >= target)::double)",
}
RESULT_COLUMNS = [
    "cohort", "filters", "school_year", "school", "grade", "subject", "season", "n", "mean", "sd",
    "median", "mean_percentile", "pct_at_or_above_norm", "pct_proficient", "pct_at_or_above_target",
    "target", "norm_mean", "norm_sd", "diff", "t", "df", "p", "ci_lo", "ci_hi", "effect_size",
    "category", "p_adj", "significant_bh", "norm_source", "platform", "note", "suppressed",
    "cut_set", "cut_set_year", "target_set", "target_set_year", "percentile_source",
    "bh_family", "bh_family_size",
]  # fmt: skip
RESULT_COLUMNS.insert(RESULT_COLUMNS.index("mean_percentile") + 1, "percentile_of_mean")
KEEP = ("cohort_index",)  # numeric columns that identify a row, never blanked


@dataclass(frozen=True)
class Standards:
    """What a result is compared against (labels go into every row and export header)."""

    norm_set: NormSet
    cut_set: StandardSet | None
    bands: pd.DataFrame
    target_set: StandardSet | None
    targets: pd.DataFrame
    min_n: int
    # which set each school year uses (core.standards.norms.sets_by_school_year); bands / targets
    # hold
    # the values of every set named there, each row with its set_id
    cut_years: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False)
    target_years: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False)

    def labels(self) -> dict[str, str]:
        out = {
            "norms": self.norm_set.label,
            "norms values": self.norm_set.exactness,
            "norms source": self.norm_set.source_note,
        }
        for name, years in (("cut scores", self.cut_years), ("targets", self.target_years)):
            if not years.empty and years["set_id"].notna().any():
                out[name] = sets_in_words(years)
        return out


def sets_in_words(years: pd.DataFrame) -> str:
    """Which set each school year uses, in words ("State test (2025-2026), pinned" or
    "2023-2024: State (2023-2024); 2024-2025: State (2023-2024), the nearest earlier")."""
    if (years["rule"] == "pinned").all():
        return f"{years['set_label'].iloc[0]}, pinned for every school year"
    parts = []
    for row in years.sort_values("school_year").itertuples():
        used = {"none": "none loaded for this year or earlier",
                "nearest earlier": f"{row.set_label}, the nearest earlier set"}  # fmt: skip
        parts.append(f"{row.school_year}: {used.get(row.rule, row.set_label)}")
    return "; ".join(parts)


def standards_in_use(con: duckdb.DuckDBPyConnection, norms_key: str | None = None) -> Standards:
    """The norm set, and the cut-score and target sets of every school year with scores — read
    once per state of the warehouse and its standards (reading the sets costs more than the
    district's whole grouped query of sufficient statistics)."""
    key = ("standards_in_use", norms_key, standards_state(con))
    return families.cached(con, key, lambda: _read_standards(con, norms_key))


def _read_standards(con: duckdb.DuckDBPyConnection, norms_key: str | None) -> Standards:
    years = sorted(assessment_years(con))
    cut_years = sets_by_school_year(con, "cut_scores", years)
    target_years = sets_by_school_year(con, "targets", years)
    bands = values_of_sets(con, "cut_scores", [int(i) for i in cut_years["set_id"].dropna()])
    targets = values_of_sets(con, "targets", [int(i) for i in target_years["set_id"].dropna()])
    return Standards(
        load_norm_set(con, norms_key), active_set(con, "cut_scores"), bands,
        active_set(con, "targets"), targets, min_group_size(con), cut_years, target_years,
    )  # fmt: skip


# ---------------------------------------------------------------- the one query


def scored_cte(standards: Standards) -> str:
    """Each event with its own-grade norm, its band (ASOF: the highest band starting at or below
    the score) and its target. A member is *compared* (its *_e columns set) when it has a norm,
    or when its subject × season has no norm at all on this platform (then the row gets
    descriptive statistics only); a member of a grade without a norm is left out of its row."""
    # std_norms has a row for every grade of a subject × season the set covers (mean NULL where
    # that grade has none): no row = not normable (describe), a NULL mean = leave the member out.
    compared = "(n.mean is not null or n.subject is null)"
    bands, band_join = "null::varchar as band, null::boolean as proficient", ""
    if not standards.bands.empty:  # each school year's own set (std_cut_years), then its band
        bands = f"case when {compared} then b.band end as band, " \
                f"case when {compared} then b.proficient end as proficient, " \
                "cy.set_id as cut_set_id"  # fmt: skip
        band_join = """left join std_cut_years cy on cy.school_year = m.school_year
            asof left join std_bands b
            on b.set_id = cy.set_id and b.subject = m.subject and b.grade = m.grade
            and b.season = m.season and m.score >= b.min_score"""
    targets, target_join = "null::double as target", ""
    if not standards.targets.empty:
        targets = f"case when {compared} then t.target end as target, ty.set_id as target_set_id"
        target_join = """left join std_target_years ty on ty.school_year = m.school_year
            left join std_targets t on t.set_id = ty.set_id
            and t.subject = m.subject and t.grade = m.grade and t.season = m.season"""
    return f"""
    scored as (
        select m.*, n.mean as norm_mean, n.sd as norm_sd, {bands}, {targets},
               case when {compared} then m.score end as score_e,
               case when {compared} then m.percentile end as percentile_e
        from members m
        left join std_norms n
            on n.subject = m.subject and n.grade = m.grade and n.season = m.season
            and n.platform = m.platform
        {band_join}
        {target_join}
    )"""


def _aggregates(standards: Standards, by: Sequence[str]) -> str:
    chosen = dict(AGGREGATES)
    if "grade" in by:  # one grade, one norm per row: the differences follow from mean and sd
        for name in PER_STUDENT:
            chosen.pop(name)
        chosen.update(norm_mean="any_value(norm_mean)", norm_sd="any_value(norm_sd)")
    if not standards.bands.empty:
        chosen.update(BAND_AGGREGATES)
    if not standards.targets.empty:
        chosen.update(TARGET_AGGREGATES)
    return ",\n".join(f"{expr} as {name}" for name, expr in chosen.items())


def _parts_sql(keys: str, pooled: Sequence[str]) -> str:
    """Member counts of each grade / school / year inside a pooled row: they name what the row
    holds ("3, 4"), which grades have no norm, and feed the complementary-suppression check.
    Plain counts, so pooling costs one cheap extra aggregation, not another pass of medians."""
    return " union all ".join(
        f"select {keys}, mask, '{dim}' as part_dim, {dim} as part_value, "
        "count(*)::double as n_all, count(score_e)::double as n "
        f"from scored group by {keys}, mask, {dim}"
        for dim in pooled
    )


def _query(
    specs: Sequence[CohortSpec], scope: Scope, standards: Standards, by: Sequence[str]
) -> tuple[str, dict]:
    members, params = [], {}
    for index, spec in enumerate(specs):
        sql, bound = members_sql(index, spec, scope)
        members.append(sql)
        params.update(bound)
    pooled = [d for d in GROUPABLE if d not in by]
    keys = ", ".join(["cohort_index", *by, *ALWAYS])
    parts = f"union all by name ({_parts_sql(keys, pooled)})" if pooled else ""
    sql = f"""
        with {PLATFORMS_CTE},
        members as ({" union all ".join(members)}),
        {scored_cte(standards)}
        select * from (
            select {keys}, mask, {_aggregates(standards, by)}
            from scored
            group by {keys}, mask
            {parts}
        )
        order by {_ordering(by)}
    """
    params.update(subject_order=list(canonical.SUBJECTS), season_order=list(canonical.SEASONS))
    if "grade" in by:
        params["grade_order"] = list(canonical.GRADES)
    return sql, params


def _ordering(by: Sequence[str]) -> str:
    """Rows in reading order: cohort, newest year first, school, grade K…12, subject, season."""
    terms = ["cohort_index"]
    terms += ["school_year desc"] if "school_year" in by else []
    terms += ["school"] if "school" in by else []
    terms += ["list_position($grade_order, grade)"] if "grade" in by else []
    terms += ["list_position($subject_order, subject)", "list_position($season_order, season)"]
    return ", ".join(terms)


def standard_frames(standards: Standards) -> dict[str, pd.DataFrame]:
    """The small standard tables the query joins (registered on the connection for one query)."""
    bands = standards.bands[["set_id", *KEY, "band", "min_score", "proficient", "band_order"]]
    bands = bands.astype({"set_id": "int64", "min_score": "float64"})
    # The lowest band starts at -inf, so every score of a key with cut scores has a band.
    bands.loc[bands["band_order"] == 1, "min_score"] = -np.inf
    targets = standards.targets[["set_id", *KEY, "target"]]
    targets = targets.astype({"set_id": "int64", "target": "float64"})
    values = standards.norm_set.values[[*KEY, "mean", "sd"]]
    covered = values[["subject", "season"]].drop_duplicates()
    every_grade = covered.merge(pd.DataFrame({"grade": canonical.GRADES}), how="cross")
    # A set declaring no platform gets one NULL platform row: it matches no score.
    platforms = pd.DataFrame({"platform": list(standards.norm_set.platforms or [None])})
    norms = every_grade.merge(values, on=KEY, how="left").merge(platforms, how="cross")
    return {
        "std_norms": norms.astype({"mean": "float64", "sd": "float64"}),
        "std_bands": bands.astype({"proficient": "boolean", "band": "string"}),
        "std_targets": targets,
        "std_cut_years": _year_sets(standards.cut_years),
        "std_target_years": _year_sets(standards.target_years),
    }


def _year_sets(years: pd.DataFrame) -> pd.DataFrame:
    """school_year → set_id of the years that use a set (the others join to nothing)."""
    if years.empty:
        return pd.DataFrame({"school_year": pd.Series(dtype="string"),
                             "set_id": pd.Series(dtype="int64")})  # fmt: skip
    used = years.dropna(subset=["set_id"])
    return pd.DataFrame({"school_year": used["school_year"].astype("string"),
                         "set_id": used["set_id"].astype("int64")})  # fmt: skip


def run_with_standards(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict, frames: dict
) -> pd.DataFrame:
    """Run `sql` with the standard tables registered, on a cursor of its own: DuckDB refuses to
    register on a connection whose last result was not read to the end (a settings fetchone)."""
    cursor = con.cursor()
    try:
        for name, frame in frames.items():
            cursor.register(name, frame)
        return cursor.execute(sql, params).df()
    finally:
        cursor.close()


# ---------------------------------------------------------------- from sums to the table


def _split(
    raw: pd.DataFrame, specs: Sequence[CohortSpec], by: Sequence[str]
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """(cells of the rows asked for, counts per part of each pooled dimension × filter mask)."""
    full = pd.Series([(1 << len(s.filters)) - 1 for s in specs])
    raw = raw.assign(full=raw["cohort_index"].map(full).to_numpy())
    if "part_dim" not in raw:
        return raw, {}
    parts = {
        dim: raw[raw["part_dim"] == dim].rename(columns={"part_value": dim})
        for dim in GROUPABLE
        if dim not in by
    }
    main = raw[raw["part_dim"].isna()].drop(columns=["part_dim", "part_value"])
    return main.reset_index(drop=True), parts


def _tests(rows: pd.DataFrame) -> pd.DataFrame:
    """One-sample t on the per-student differences from own-grade norm means (vs 0)."""
    test = inference.one_sample(rows["n"], rows["diff_mean"], rows["diff_sd"], 0.0)
    return rows.assign(**test.columns(with_diff=True))


def _categories(rows: pd.DataFrame) -> np.ndarray:
    """Above / At / Below on the BH-adjusted p (and |effect size| ≥ 0.2); None without a test."""
    p_adj = rows["p_adj"].to_numpy(dtype="float64")
    effect = rows["effect_size"].to_numpy(dtype="float64")
    significant = np.nan_to_num(p_adj, nan=1.0) < ALPHA
    large = np.abs(np.nan_to_num(effect)) >= EFFECT_THRESHOLD
    return np.where(
        np.isnan(rows["p"].to_numpy(dtype="float64")) | np.isnan(p_adj),
        None,
        np.where(significant & large & (effect > 0), "Above",
                 np.where(significant & large & (effect < 0), "Below", "At")),
    )  # fmt: skip


def percentile_of_mean(rows: pd.DataFrame) -> pd.Series:
    """The national percentile rank of the cohort's mean (0–100): 100·Φ(effect size), the mean
    of the members' own-grade z — for one grade exactly 100·Φ((mean − μ)/σ). Unlike the mean of
    students' percentiles (a mean of ranks, pulled toward 50), it places the average student.
    Null where no norm applies."""
    effect = rows["effect_size"].astype("float64")
    return pd.Series(100 * ndtr(effect), index=rows.index).where(rows["norm_mean"].notna())


def _grades_text(values: object) -> str:
    listed = [str(v) for v in (values if isinstance(values, list | np.ndarray) else [])]
    return ", ".join(sorted(listed, key=canonical.grade_rank))


def _sorted_text(values: object) -> str:
    return ", ".join(
        sorted(str(v) for v in (values if isinstance(values, list | np.ndarray) else []))
    )


def _notes(rows: pd.DataFrame, standards: Standards) -> np.ndarray:
    """Why a row has no test or leaves members out, in words ('' when nothing to say); text is
    built only for the few rows that need it (thousands of rows, usually none)."""
    norm_set = standards.norm_set
    none_compared = rows["norm_mean"].isna().to_numpy()
    wrong_scale = ~rows["platform"].isin(norm_set.platforms).to_numpy()
    implausible = rows["off_scale"].to_numpy(dtype=bool)
    missing = (rows["grades_without_norm"] != "").to_numpy() & ~none_compared
    flat = ((rows["diff_sd"] == 0) & (rows["n"] >= 2)).to_numpy() & ~none_compared
    notes = np.full(len(rows), "", dtype=object)
    for i in np.flatnonzero(missing):
        notes[i] = (f"grade(s) {rows['grades_without_norm'].iat[i]} have no norm in "
                    f"{norm_set.label}: left out of this row")  # fmt: skip
    for i in np.flatnonzero(none_compared):
        notes[i] = (f"no norm in {norm_set.label} for {rows['subject'].iat[i]} grade "
                    f"{rows['grade'].iat[i]}, {rows['season'].iat[i]}: not compared")  # fmt: skip
    scales = " or ".join(canonical.platform_title(p) for p in norm_set.platforms) or "no declared"
    for i in np.flatnonzero(wrong_scale):
        notes[i] = NO_NORM_FOR_SCALE.format(
            norms=norm_set.label, scales=scales,
            platform=canonical.platform_title(rows["platform"].iat[i]),
        )  # fmt: skip
    for i in np.flatnonzero(implausible):
        notes[i] = OFF_SCALE_NOTE.format(share=rows["share_off_scale"].iat[i], norms=norm_set.label)
    notes[flat] = "all scores are equal (sd 0): no t-test is possible"
    return _with_set_notes(notes, rows, standards)


def _with_set_notes(notes: np.ndarray, rows: pd.DataFrame, standards: Standards) -> np.ndarray:
    """Say when a row's cut scores or targets are not its own year's set: the nearest earlier
    set, none at all (other years have one), or a set pinned for every year — on the rows whose
    subject × grade × season some loaded set covers."""
    kinds = (("cut scores", standards.cut_years, standards.bands),
             ("targets", standards.target_years, standards.targets))  # fmt: skip
    for kind, years, values in kinds:
        if years.empty or years["set_id"].isna().all() or "school_year" not in rows:
            continue
        rule = rows["school_year"].map(years.set_index("school_year")["rule"]).to_numpy()
        label = rows["school_year"].map(years.set_index("school_year")["set_label"]).to_numpy()
        covered = pd.MultiIndex.from_frame(rows[KEY]).isin(pd.MultiIndex.from_frame(values[KEY]))
        said_of = np.isin(rule, ("none", "nearest earlier", "pinned")) & covered
        for i in np.flatnonzero(said_of):
            year = rows["school_year"].iat[i]
            said = {
                "none": f"no {kind} set for {year} or an earlier year is loaded: none applied",
                "nearest earlier": f"{kind}: no set for {year}; the nearest earlier one, "
                f"{label[i]}, applied",
                "pinned": f"{kind}: {label[i]}, pinned for every school year",
            }[rule[i]]
            notes[i] = f"{notes[i]}; {said}" if notes[i] else said
    return notes


def _set_names(rows: pd.DataFrame, standards: Standards) -> pd.DataFrame:
    """cut_set / cut_set_year (and target_set / target_set_year): the set each row used, from
    the smallest and largest set id among its members ("A (2023-2024) … B (2025-2026)" when a
    row pooling years used several)."""
    for kind, years in (("cut", standards.cut_years), ("target", standards.target_years)):
        known = years.dropna(subset=["set_id"]) if not years.empty else years
        if known.empty:  # no year uses a set of this kind: nothing to name (the usual case)
            rows[f"{kind}_set"], rows[f"{kind}_set_year"] = None, None
            continue
        low = rows.get(f"{kind}_set_min", pd.Series(np.nan, index=rows.index)).astype("float64")
        high = rows.get(f"{kind}_set_max", pd.Series(np.nan, index=rows.index)).astype("float64")
        several = (low != high) & low.notna()
        for column, source in (("set", "set_label"), ("set_year", "set_year")):
            names = (dict(zip(known["set_id"].astype("float64"), known[source], strict=True))
                     if not known.empty else {})  # fmt: skip
            first, last = low.map(names), high.map(names)
            both = first.astype(object) + " … " + last.astype(object)
            value = first.astype(object).where(~several, both)
            rows[f"{kind}_{column}"] = value.where(value.notna(), None)
    return rows.drop(columns=[c for c in rows if c.endswith(("_set_min", "_set_max"))])


def _off_scale(rows: pd.DataFrame) -> pd.DataFrame:
    """The plausibility guard: a row whose scores lie mostly far outside the norm's range for
    their grades is not compared with the norm (its norm columns blank; the note says why)."""
    off = off_scale(rows["share_off_scale"])
    rows["off_scale"] = off
    if off.any():
        rows.loc[off, list(NORM_DEPENDENT)] = np.nan
    return rows


def _band_shares(rows: pd.DataFrame, standards: Standards) -> pd.DataFrame:
    """One `share <band>` column per band (low to high) from the per-row band histograms."""
    if standards.bands.empty:
        return rows.drop(columns="band_counts")
    order = standards.bands.sort_values("band_order").drop_duplicates("band")["band"]
    counts = rows["band_counts"].map(lambda m: dict(m) if isinstance(m, dict) else {})
    for band in order:
        share = counts.map(lambda c, b=band: c.get(b, 0)) / rows["n_banded"].where(
            rows["n_banded"] > 0
        )
        rows[f"share {band}"] = share.astype("float64")
    return rows.drop(columns="band_counts")


def _small_parts(rows: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """A statistic over a subset of the members (those with a percentile, a band, a target) is
    blank when that subset is under the minimum size."""
    pairs = {
        "n_percentile": ["mean_percentile"],
        "n_banded": ["pct_proficient", *[c for c in rows if c.startswith("share ")]],
        "n_target": ["pct_at_or_above_target", "target"],
    }
    for size, columns in pairs.items():
        small = rows[size].fillna(0).to_numpy() < min_n
        for column in columns:
            if small.any() and rows[column].notna().any():
                rows[column] = rows[column].mask(small)
    few = (rows["n_without_norm"] > 0) & (rows["n_without_norm"] < min_n)
    if few.any():
        rows["n_without_norm"] = rows["n_without_norm"].mask(few)
    return rows


def filters_text(spec: CohortSpec) -> str:
    """A spec's student filters in words ("ell=true; program=gifted"), '' when none."""
    return "; ".join(f"{name}={'/'.join(values)}" for name, values in spec.filters)


def _labels(rows: pd.DataFrame, specs: Sequence[CohortSpec]) -> pd.DataFrame:
    rows["cohort"] = rows["cohort_index"].map(dict(enumerate(s.label() for s in specs)))
    rows["filters"] = rows["cohort_index"].map(dict(enumerate(filters_text(s) for s in specs)))
    return rows


def _suppress(rows: pd.DataFrame, reasons: np.ndarray, min_n: int) -> pd.DataFrame:
    compared = rows["n"].fillna(0).to_numpy()
    small = (compared > 0) & (compared < min_n)
    hidden = (reasons != "") & ~small
    rows["suppressed"] = small | hidden
    if not rows["suppressed"].any():  # counts are doubles already (SQL), as suppress() makes them
        return rows
    rows.loc[small, "note"] = SUPPRESSED_NOTE.format(min_n=min_n)
    rows.loc[hidden, "note"] = [
        COMPLEMENT_NOTE.format(detail=r, min_n=min_n) for r in reasons[hidden]
    ]
    return suppress(rows, min_n, n_cols=(), keep=KEEP)


ABSENT = {  # columns of standards the district has not loaded
    "n_banded": 0.0, "band_counts": None, "pct_proficient": np.nan,
    "n_target": 0.0, "target": np.nan, "pct_at_or_above_target": np.nan,
}  # fmt: skip


def _complete(
    rows: pd.DataFrame, by: Sequence[str], parts: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    """Columns implied rather than queried: what a pooled row holds ("3, 4", in school order),
    which of its grades have no norm, and empty columns for standards not loaded."""
    rows["n_without_norm"] = rows["n_all"] - rows["n"]
    if "diff_mean" not in rows:  # a row of one grade: d_i = x_i − μ, so mean(d) = mean − μ etc.
        rows["diff_mean"] = rows["mean"] - rows["norm_mean"]
        rows["diff_sd"] = rows["sd"].where(rows["norm_mean"].notna())
        rows["effect_size"] = rows["diff_mean"] / rows["norm_sd"]
    keys = ["cohort_index", *by, *ALWAYS]
    for dim, frame in parts.items():
        frame = frame[frame["mask"] == frame["full"]]  # the members of each part
        text = _grades_text if dim == "grade" else _sorted_text
        held = frame[frame["n_all"] > 0].groupby(keys)[dim].agg(list).map(text)
        rows[dim] = _aligned(rows, keys, held)
        if dim == "grade":
            lacking = frame[frame["n_all"] > frame["n"]].groupby(keys)[dim].agg(list).map(text)
            rows["grades_without_norm"] = _aligned(rows, keys, lacking)
    if "grade" in by:
        rows["grades_without_norm"] = rows["grade"].where(rows["n_without_norm"] > 0, "")
    for column, value in ABSENT.items():
        if column not in rows:
            rows[column] = value
    return rows


def _aligned(rows: pd.DataFrame, keys: list[str], values: pd.Series) -> np.ndarray:
    """`values` (indexed by keys) in the order of `rows`, '' where a row has none."""
    index = pd.MultiIndex.from_frame(rows[keys]) if len(keys) > 1 else rows[keys[0]]
    return values.reindex(index).fillna("").to_numpy(dtype=object)


def _finish(
    raw: pd.DataFrame, specs: Sequence[CohortSpec], by: Sequence[str], standards: Standards
) -> pd.DataFrame:
    cells, parts = _split(raw, specs, by)
    keys = ["cohort_index", *by, *ALWAYS]
    rows = _complete(cells[cells["mask"] == cells["full"]].reset_index(drop=True), by, parts)
    rows = rows[rows["n_all"] > 0].reset_index(drop=True)
    reasons = np.full(len(rows), "", dtype=object)
    if parts or any(spec.filters for spec in specs):  # else nothing a reader could subtract
        names = [[name for name, _ in spec.filters] for spec in specs]
        found = complement_reasons(cells, parts, names, keys, standards.min_n)
        reasons = found.reindex(pd.MultiIndex.from_frame(rows[keys])).fillna("").to_numpy()
    # avg() of one repeated norm value carries float noise (139.55999999999997): the norms have
    # two decimals, so nine keep every pooled average exact to far below the tests' tolerance.
    rows[["norm_mean", "norm_sd"]] = rows[["norm_mean", "norm_sd"]].round(9)
    rows = _labels(_tests(_off_scale(rows)), specs)
    rows["percentile_of_mean"] = percentile_of_mean(rows)
    rows["note"] = _notes(rows, standards)
    # the norm is named only where it applies (scores on its scale, the guard passed)
    judged = rows["platform"].isin(standards.norm_set.platforms) & ~rows["off_scale"]
    rows["norm_source"] = np.where(judged, standards.norm_set.label, None)
    rows = _set_names(rows, standards)
    # vendor percentiles are the common footing across tests: say whose they are
    sources = rows["platform"].map(canonical.percentile_source)
    rows["percentile_source"] = sources.where(rows["mean_percentile"].notna(), None)
    rows = _small_parts(_band_shares(rows, standards), standards.min_n)
    rows = _suppress(rows, reasons, standards.min_n)
    rows = families.settle(rows, np.zeros(len(rows), dtype=bool), None, [])
    rows["category"] = _categories(rows)
    shares = [c for c in rows if c.startswith("share ")]
    split = RESULT_COLUMNS.index("pct_at_or_above_target")
    columns = [*RESULT_COLUMNS[:split], *shares, *RESULT_COLUMNS[split:], "n_without_norm"]
    return rows[[*columns, "cohort_index"]]


def _empty(standards: Standards) -> pd.DataFrame:
    return pd.DataFrame(columns=[*RESULT_COLUMNS, "n_without_norm", "cohort_index"])


def cohort_vs_norm(
    con: duckdb.DuckDBPyConnection,
    specs: CohortSpec | Sequence[CohortSpec],
    scope: Scope,
    *,
    by: Sequence[str] = DEFAULT_BY,
    norms_key: str | None = None,
    standards: Standards | None = None,
) -> pd.DataFrame:
    """Every cohort in view against the standards, one row per cohort × `by` × subject × season.

    `specs`: one cohort or several (a saved set); all are answered by one query. `by`: which of
    school_year / school / grade split rows (the rest are pooled, see the module docstring)."""
    specs = [specs] if isinstance(specs, CohortSpec) else list(specs)
    unknown = [d for d in by if d not in GROUPABLE]
    if unknown:
        raise ValueError(f"Cannot group by {', '.join(unknown)}; choose from {GROUPABLE}.")
    by = [d for d in GROUPABLE if d in by]
    standards = standards or standards_in_use(con, norms_key)
    rows = _tested(con, specs, scope, by, standards)
    flags = {i: families.quick_spec(spec, scope, by) for i, spec in enumerate(specs)}
    quick = rows["cohort_index"].map(flags).fillna(False).to_numpy(dtype=bool)
    if not quick.any():
        return rows
    whole = by == list(GROUPABLE) and scope.is_everything
    if whole and len(specs) == 1 and families.covers_years(specs[0]):
        # every quick cohort of the district in its years: the rows are the families
        rows = families.settle(rows, quick & False, None, [], per="school_year",
                               describe=_norm_words)  # fmt: skip
        rows["category"] = _categories(rows)
        return rows
    covering = [i for i, spec in enumerate(specs) if whole and families.covers_years(spec)]
    held = rows[rows["cohort_index"] == covering[0]] if covering else None

    def family(year: str, district: pd.DataFrame | None) -> pd.DataFrame:
        if district is None:
            spec = CohortSpec(school_year=(year,))
            district = _tested(con, [spec], DISTRICT, list(GROUPABLE), standards)
        return _norm_families(district)

    key = ("vs_norm", standards.norm_set.key, standards.min_n)
    fixed = families.by_year(con, key, rows.loc[quick, "school_year"], family, held)
    rows = families.settle(rows, quick, fixed, families.QUICK_KEYS)
    rows["category"] = _categories(rows)
    return rows


def _tested(
    con: duckdb.DuckDBPyConnection,
    specs: list[CohortSpec],
    scope: Scope,
    by: list[str],
    standards: Standards,
) -> pd.DataFrame:
    """The rows with their tests, adjusted among themselves (before fixed families)."""
    if not specs:
        return _empty(standards)
    sql, params = _query(specs, scope, standards, by)
    raw = run_with_standards(con, sql, params, standard_frames(standards))
    if raw.empty:
        return _empty(standards)
    return _finish(raw, specs, by, standards)


def _norm_families(district: pd.DataFrame) -> pd.DataFrame:
    """Every quick cohort of the district (its rows split by year, school and grade), one BH
    family per school year: what each quick cohort row's p_adj is read from."""
    return families.family_table(district, families.QUICK_KEYS, ["school_year"], _norm_words)


def _norm_words(year: tuple, size: int) -> str:
    return families.quick_family_words("school", year[0], size, "vs_norm", None)
