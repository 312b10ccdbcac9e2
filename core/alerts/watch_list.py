"""The watch list: the students in a teacher's (or principal's, or district's) view who need help.

One school year and one subject at a time. The students are everyone the scope may see that
year: the enrollments in scope (a test file implies an enrollment, so every tested student has
one), with the cohort spec's grade, school and attribute filters. Scores are the year's scores in
scope on the subject's comparison platform (`core.stats.sufficient`). A student is on the list
for any of these reasons:

* **Low score** — the latest score of the year (the latest test window the student took) is
  below the proficiency cut score for their grade and season when the district loaded one
  (`core.standards.norms` cut scores in use), otherwise below the norm's 25th percentile: the score
  mean + sd × Φ⁻¹(0.25) of the district's norm set in use for their grade and season (where the
  norm covers the platform), else the vendor-reported national percentile below 25.
* **Low growth** — grew less than half the norm's expected growth from fall to the latest
  window, as `core.compare.growth.student_growth` matches and measures it. Half, not any shortfall:
  about half of all students grow a little less than the norm's typical growth, and a list of
  half the class is not a watch list; "less than half of typical growth" is the line vendors'
  growth reports draw too (i-Ready's "progress to typical growth"). Matched as on the Growth
  page: the student at the later test, their own fall score wherever they were then.
  Growth from one test to the next carries both tests' luck: a student with an unusually high
  fall score tends to score nearer their usual level later and look like low growth (regression
  to the mean) — `growth_caveat` says so, in plain words, wherever growth flagged a student.
* **Missed the latest test** — no score in the latest test window of the year (the latest season
  anyone in view was tested in that subject) while students of their school and grade in view
  took it (so grades that are not tested in the subject are never flagged).

`percentile` is the percentile of the latest score in the norm in use (normal distribution,
floored so "below the 25th" and the number agree), else the vendor-reported one. Names and ids
only for roles that see students (Scope.sees_students); the caller audits every view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from scipy import stats as sps

from core.access.scope import Scope
from core.cohorts.spec import STUDENT_YEAR_JOIN, CohortSpec, spec_predicate
from core.compare.growth import grade_rank_sql, student_growth
from core.standards.for_compare import norm_frame, snapshot, threshold_frame
from core.standards.norms import off_scale_sql, sets_by_school_year, share_off_scale_sql
from core.stats.sufficient import PLATFORMS_CTE, registered, scores_cte
from core.warehouse import canonical

LOW_PERCENTILE = 25
GROWTH_SHARE = 0.5  # growth under this share of the expected growth is low (module docstring)
REASONS = {  # flag column → how the summary counts it
    "below_25th": "scored below the 25th percentile",
    "below_cut": "scored below the proficiency cut score",
    "low_growth": "grew less than half the expected growth since fall",
    "missed_test": "missed the {season} test",
}
REASON_LABELS = {
    "below_25th": "Below the 25th percentile",
    "below_cut": "Below the proficiency cut score",
    "low_growth": "Growth under half of expected",
    "missed_test": "Missed the latest test",
}
COLUMNS = [
    "name", "student_id", "school", "grade", "section", "teacher", "latest_season",
    "latest_score", "percentile", "cut_score", "growth", "expected_growth",
    "growth_vs_expected", "reasons", "n_reasons", *REASONS,
]  # fmt: skip
READABLE = {  # the columns a teacher reads (page table and CSV), in order
    "name": "Student", "student_id": "ID", "school": "School", "grade": "Grade",
    "section": "Section", "teacher": "Teacher", "latest_season": "Latest test",
    "latest_score": "Latest score", "percentile": "Percentile", "cut_score": "Cut score",
    "growth": "Growth since fall", "expected_growth": "Expected growth",
    "growth_vs_expected": "Growth vs expected", "reasons": "Why",
}  # fmt: skip
_SEASON_RANK = "case {0} when 'fall' then 1 when 'winter' then 2 when 'spring' then 3 end"


@dataclass(frozen=True)
class WatchList:
    """The students who need help (`students`, most concerning first) out of `total` in view."""

    school_year: str
    subject: str
    total: int
    latest_season: str | None
    growth_window: tuple[str, str] | None  # (from season, to season) within the year
    norm_label: str
    cut_label: str | None
    students: pd.DataFrame = field(compare=False, repr=False)

    @property
    def counts(self) -> dict[str, int]:
        return {flag: int(self.students[flag].sum()) for flag in REASONS}


def _roster_sql(spec: CohortSpec, scope: Scope) -> tuple[str, dict[str, Any]]:
    """grain: one row per student in view (their enrollments of the year, merged); sections and
    teachers shown are only the scope's own sections (a teacher sees their sections)."""
    # each enrollment stands for the student in the subject asked (the spec predicate reads a.*)
    enrolled = "(select e.*, $watch_subject as subject from enrollments e) a"
    where, params = spec_predicate(spec.replace(season=None), scope)
    visible = "true"
    if scope.sections is not None:
        visible = "list_contains($watch_sections, a.section)"
        params["watch_sections"] = list(scope.sections)
    sql = f"""
roster as (
    select a.student_id, sc.name as school, a.grade,
           case when {visible} and a.section <> '' then a.section end as section,
           case when {visible} and a.teacher <> '' then a.teacher end as teacher
    from {enrolled}
    join schools sc on sc.school_id = a.school_id
    {STUDENT_YEAR_JOIN}
    where {where}
)"""
    return sql, params


# The plausibility guard (core.standards.norms) on the students in view of one grade and latest test
# window: where their scores lie mostly off the norm's range, the norm judges none of them.
OFF_SCALE = off_scale_sql(
    share_off_scale_sql(
        "l.latest_score", "n.norm_mean", "n.norm_sd", over="l.tested_grade, l.latest_season"
    )
)
# grain: one row per student in view (`tested`: the school × grade pairs that took the latest test)
WATCH_SQL = f"""
latest as (
    select student_id,
           arg_max(season, {_SEASON_RANK.format("season")}) as latest_season,
           arg_max(grade, {_SEASON_RANK.format("season")}) as tested_grade,
           arg_max(score, {_SEASON_RANK.format("season")}) as latest_score,
           arg_max(percentile, {_SEASON_RANK.format("season")}) as vendor_percentile
    from scores group by student_id
),
tested as (
    select distinct school, grade from scores where season = $watch_season
),
placed as (
    select r.student_id,
           string_agg(distinct r.school, ', ' order by r.school) as school,
           arg_max(r.grade, {grade_rank_sql("r.grade")}) as grade,
           string_agg(distinct r.section, ', ' order by r.section) as section,
           string_agg(distinct r.teacher, ', ' order by r.teacher) as teacher,
           bool_or(t.school is not null) as classmates_tested
    from roster r left join tested t on t.school = r.school and t.grade = r.grade
    group by r.student_id
),
judged as (
    select l.student_id, n.cut_score, {OFF_SCALE} as implausible,
           case when not implausible then n.norm_mean end as norm_mean,
           case when not implausible then n.norm_sd end as norm_sd,
           case when not implausible then n.p25_score end as p25_score
    from latest l
    left join watch_norms n
        on n.subject = $watch_subject and n.grade = l.tested_grade and n.season = l.latest_season
)
select p.student_id,
       nullif(trim(coalesce(st.first_name, '') || ' ' || coalesce(st.last_name, '')), '') as name,
       p.school, p.grade, p.section, p.teacher, l.latest_season, l.latest_score,
       (l.latest_score - n.norm_mean) / n.norm_sd as z, l.vendor_percentile, n.cut_score,
       n.p25_score, g.change as growth, g.expected as expected_growth,
       g.beyond as growth_vs_expected,
       coalesce(l.latest_score < n.cut_score, false) as below_cut,
       n.cut_score is null and coalesce(case when n.norm_mean is not null
           then l.latest_score < n.p25_score else l.vendor_percentile < {LOW_PERCENTILE} end,
           false) as below_25th,
       coalesce(g.expected > 0 and g.change < {GROWTH_SHARE} * g.expected, false) as low_growth,
       p.classmates_tested and l.latest_season is distinct from $watch_season as missed_test
from placed p
left join latest l using (student_id)
left join students st using (student_id)
left join judged n using (student_id)
left join watch_growth g using (student_id)
"""


def _norms(con: duckdb.DuckDBPyConnection, subject: str, year: str) -> pd.DataFrame:
    """Norm, cut score (of the set `year` uses: its own, else the nearest earlier, else a pinned
    one) and the norm's 25th-percentile score for each grade × season."""
    keys = [(subject, g, s) for g in canonical.GRADES for s in canonical.SEASONS]
    frame = norm_frame(con, keys).drop(columns="cut_score")
    cuts = threshold_frame(con)
    cuts = cuts[(cuts["school_year"] == year) & (cuts["threshold_kind"] == "cut score")]
    cuts = cuts[["subject", "grade", "season", "threshold"]].rename(
        columns={"threshold": "cut_score"}
    )
    frame = frame.merge(cuts, on=["subject", "grade", "season"], how="left")
    return frame.assign(p25_score=frame["norm_mean"] + frame["norm_sd"] * sps.norm.ppf(0.25))


def _latest_season(con: duckdb.DuckDBPyConnection, spec: CohortSpec, scope: Scope) -> str | None:
    cte, params = scores_cte(spec.replace(season=None), scope)
    rank = _SEASON_RANK.format("season")
    row = con.execute(
        f"with {PLATFORMS_CTE}, {cte} select arg_max(season, {rank}) from scores", params
    ).fetchone()
    return row[0] if row else None


def _growth(
    con: duckdb.DuckDBPyConnection, spec: CohortSpec, scope: Scope, year: str, to: str | None
) -> pd.DataFrame:
    """Each matched student's fall → latest change and expected growth (core.compare.growth's
    own)."""
    empty = pd.DataFrame(
        {"student_id": pd.Series(dtype="str")}
        | {c: pd.Series(dtype="float64") for c in ("change", "expected", "beyond")}
    )
    if to is None or to == "fall":
        return empty
    rows = student_growth(con, spec.replace(season=None), scope, ("fall", year), (to, year))
    return rows[empty.columns.tolist()] if not rows.empty else empty


def _one(values: tuple[str, ...], name: str) -> str:
    if len(values) != 1:
        raise ValueError(f"The watch list needs exactly one {name}.")
    return values[0]


def watch_list(con: duckdb.DuckDBPyConnection, spec: CohortSpec, scope: Scope) -> WatchList:
    """The students in view who need help in the spec's one school year and one subject (the
    spec's grades, schools and filters narrow the view; its season is ignored)."""
    if not scope.sees_students:
        raise PermissionError("Your role sees groups of students, not individual students.")
    year, subject = _one(spec.school_year, "school year"), _one(spec.subject, "subject")
    season = _latest_season(con, spec, scope)
    roster, params = _roster_sql(spec, scope)
    scores, score_params = scores_cte(spec.replace(season=None), scope, prefix="s_")
    params.update(score_params, watch_subject=subject, watch_season=season)
    with (
        registered(con, "watch_norms", _norms(con, subject, year)),
        registered(con, "watch_growth", _growth(con, spec, scope, year, season)),
    ):
        frame = con.execute(f"with {PLATFORMS_CTE}, {roster}, {scores}, {WATCH_SQL}", params).df()
    cut_set = sets_by_school_year(con, "cut_scores", [year])["set_label"].iloc[0]
    return WatchList(
        school_year=year,
        subject=subject,
        total=len(frame),
        latest_season=season,
        growth_window=("fall", season) if season not in (None, "fall") else None,
        norm_label=snapshot(con).norm_label,
        cut_label=cut_set,
        students=_needing_help(frame, season),
    )


def _needing_help(frame: pd.DataFrame, season: str | None) -> pd.DataFrame:
    """The flagged students with their percentile and reasons, most concerning first: most
    reasons, then the lowest percentile, then the furthest below expected growth."""
    estimated = np.floor(100 * sps.norm.cdf(frame["z"].astype("float64")))
    percentile = pd.Series(np.clip(estimated, 1, 99), index=frame.index)
    frame = frame.assign(percentile=percentile.fillna(frame["vendor_percentile"]))
    flags = list(REASONS)
    frame[flags] = frame[flags].fillna(False).astype(bool)
    frame["n_reasons"] = frame[flags].sum(axis=1)
    flagged = frame[frame["n_reasons"] > 0].copy()
    flagged["reasons"] = _reason_text(flagged, season)
    flagged = flagged.sort_values(
        ["n_reasons", "percentile", "growth_vs_expected", "name", "student_id"],
        ascending=[False, True, True, True, True],
        na_position="last",
    )
    return flagged[COLUMNS].reset_index(drop=True)


def _numbers(values: pd.Series, pattern: str) -> pd.Series:
    return values.map(lambda v: "" if pd.isna(v) else pattern.format(v)).astype("str")


def _reason_text(frame: pd.DataFrame, season: str | None) -> pd.Series:
    """Each student's reasons in plain words, joined with '; '."""
    when = frame["latest_season"].fillna("").astype("str")
    score, cut = _numbers(frame["latest_score"], "{:.0f}"), _numbers(frame["cut_score"], "{:.0f}")
    growth = _numbers(frame["growth"], "{:+.1f}")
    expected = _numbers(frame["expected_growth"], "{:+.1f}")
    parts = {
        "below_25th": "Below the 25th percentile in "
        + when
        + " (percentile "
        + _numbers(frame["percentile"], "{:.0f}")
        + ")",
        "below_cut": "Below the proficiency cut score in "
        + when
        + " ("
        + score
        + " vs "
        + cut
        + ")",
        "low_growth": "Grew less than half the expected growth since fall ("
        + growth
        + " vs "
        + expected
        + " points)",
        "missed_test": pd.Series(f"Missed the {season} test", index=frame.index, dtype="str"),
    }
    text = pd.Series("", index=frame.index, dtype="str")
    for flag, words in parts.items():
        text = text.str.cat(words.where(frame[flag], ""), sep="; ").str.strip("; ")
    return text


def summary_sentence(result: WatchList) -> str:
    """'12 of your 48 students need a look: 7 scored below the 25th percentile, …'."""
    flagged, total = len(result.students), result.total
    where = f"{result.subject}, {result.school_year}"
    if total == 0:
        return f"You have no students enrolled or tested in {where}."
    if flagged == 0:
        return f"None of your {total:,} students needs a look in {where}."
    verb = "needs" if flagged == 1 else "need"
    reasons = [
        f"{count:,} {REASONS[flag].format(season=result.latest_season)}"
        for flag, count in result.counts.items()
        if count
    ]
    noun = "student" if total == 1 else "students"
    return f"{flagged:,} of your {total:,} {noun} {verb} a look in {where}: {', '.join(reasons)}."


LOW_GROWTH_CAVEAT = (
    "About “growth under half of expected”: a single test score is partly a good or a bad day. "
    "A student whose fall score was unusually high for them tends to score nearer their usual "
    "level later, so their growth looks low even when they learned as much as others; a student "
    "picked out for a low fall score tends to look as if they grew a lot (regression to the "
    "mean). Look at the fall score and what you see in class before acting on low growth alone."
)


def growth_caveat(result: WatchList) -> str:
    """The regression-to-the-mean caveat, where it bites: only when growth flagged someone."""
    return LOW_GROWTH_CAVEAT if result.counts.get("low_growth") else ""


def with_reasons(students: pd.DataFrame, flags: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """The students on the list for any of `flags` (keys of REASONS), order kept."""
    unknown = [f for f in flags if f not in REASONS]
    if unknown:
        raise ValueError(f"Unknown reason(s): {', '.join(unknown)}.")
    return students[students[list(flags)].any(axis=1)] if flags else students.iloc[:0]


def readable(students: pd.DataFrame) -> pd.DataFrame:
    """The list with the headers a teacher reads; columns with no value anywhere left out."""
    table = students[list(READABLE)].rename(columns=READABLE)
    return table.dropna(axis="columns", how="all")
