"""Fixed false-discovery families (issue 15 §4): a quick cohort's adjusted p and verdict are the
same asked alone, in the table of every quick cohort, in the grids behind alerts, and for a
principal who sees one school — and equal Benjamini–Hochberg (scipy's false_discovery_control)
over every quick cohort of the district that year, computed here from the raw scores."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from core.access.scope import DISTRICT, Scope
from core.alerts.detect import current_alerts
from core.cohorts.spec import CohortSpec
from core.compare.between_cohorts import (
    all_prior_year_comparisons,
    all_proficiency_changes,
    compare_cohorts,
    prior_year_comparison,
)
from core.compare.subgroups import distinct_gaps, gap_change, subgroup_gaps, widening_tests
from core.standards.norms import load_norm_set
from core.standards.standing import cohort_vs_norm
from core.stats.sufficient import ALL_SCHOOLS
from core.warehouse import db, settings
from tests.compare.district import Plan, build

YEAR, BEFORE = "2024-2025", "2023-2024"
MIN_N = 10
REL = 1e-9
PRINCIPAL = Scope(username="p", role="school_admin", schools=("Washington",))
KEYS = ["school", "grade", "subject", "season"]


def _bh(p: pd.Series) -> np.ndarray:
    return sps.false_discovery_control(p.to_numpy(dtype="float64"), method="bh")


def _norm_reference(district, con) -> pd.DataFrame:
    """scipy ttest_1samp(scores, own-grade norm mean) of every quick cohort of YEAR with at
    least MIN_N members, then BH across all of them (the fixed family)."""
    norms = load_norm_set(con).values.set_index(["subject", "grade", "season"])
    rows = []
    for key, group in district.scores(school_year=YEAR).groupby(KEYS):
        school, grade, subject, season = key
        if len(group) < MIN_N:
            continue
        mu, sigma = norms.loc[(subject, grade, season), ["mean", "sd"]]
        p = sps.ttest_1samp(group["score"], mu).pvalue
        rows.append((*key, p, (group["score"].mean() - mu) / sigma))
    ref = pd.DataFrame(rows, columns=[*KEYS, "p", "effect"])
    return ref.assign(p_adj=_bh(ref["p"]))


def _category(p_adj: float, effect: float) -> str:
    if p_adj < 0.05 and abs(effect) >= 0.2:
        return "Above" if effect > 0 else "Below"
    return "At"


def test_quick_cohort_vs_norm_has_one_verdict_however_asked(district) -> None:
    con = district.con
    ref = _norm_reference(district, con).set_index(KEYS)
    table = cohort_vs_norm(con, CohortSpec(school_year=(YEAR,)), DISTRICT)
    assert len(table[table["p"].notna()]) == len(ref)  # the whole family is on this table
    for school in ("Lincoln", "Washington"):
        spec = CohortSpec(school_year=(YEAR,), schools=(school,), grade=("4",))
        principal = Scope(username="p", role="school_admin", schools=(school,))
        for scope in (DISTRICT, principal):
            for by in ((), ("school_year", "school", "grade")):
                alone = cohort_vs_norm(con, spec, scope, by=by)
                assert len(alone) == 6
                for row in alone.itertuples():
                    expected = ref.loc[(school, "4", row.subject, row.season)]
                    assert row.p == pytest.approx(expected["p"], rel=1e-7)
                    assert row.p_adj == pytest.approx(expected["p_adj"], rel=1e-7)
                    assert row.category == _category(expected["p_adj"], expected["effect"])
                    assert row.bh_family_size == len(ref)
                    assert "quick cohorts" in row.bh_family and YEAR in row.bh_family


def test_custom_cohort_is_adjusted_among_the_rows_shown_and_says_so(district) -> None:
    con = district.con
    spec = CohortSpec(school_year=(YEAR,), grade=("4",), filters=(("gender", ("F",)),))
    rows = cohort_vs_norm(con, spec, DISTRICT, by=("school_year", "grade"))
    tested = rows[rows["p"].notna()]
    assert len(tested) > 1
    assert tested["p_adj"].to_numpy() == pytest.approx(_bh(tested["p"]), rel=REL)
    words = f"adjusted among the {len(tested)} comparison(s) shown together"
    assert (tested["bh_family"] == words).all()
    for row in tested.itertuples():
        assert row.category == _category(row.p_adj, row.effect_size)


def test_a_teachers_view_of_a_school_grade_is_not_the_quick_cohort(district) -> None:
    """A teacher sees their sections only: other students, so another (custom) cohort."""
    con = district.con
    section = con.execute("select min(section) from enrollments").fetchone()[0]
    teacher = Scope(username="t", role="teacher", sections=(section,))
    school, grade = section.split("-")[:2]
    names = ("Lincoln", "Washington", "Jefferson")
    spec = CohortSpec(school_year=(YEAR,), schools=(names[int(school)],), grade=(grade,))
    rows = cohort_vs_norm(con, spec, teacher)
    assert not rows["bh_family"].str.contains("quick cohorts").any()


def _prior_reference(district, level: str) -> pd.DataFrame:
    """scipy ttest_ind(equal_var=False) of YEAR vs BEFORE per quick cohort (level "school") or
    per district grade cohort ("district"), both sides at least MIN_N."""
    keys = KEYS if level == "school" else KEYS[1:]
    now = district.scores(school_year=YEAR).groupby(keys)["score"]
    then = dict(list(district.scores(school_year=BEFORE).groupby(keys)["score"]))
    rows = []
    for key, a in now:
        b = then.get(key)
        if b is None or len(a) < MIN_N or len(b) < MIN_N:
            continue
        rows.append((*key, sps.ttest_ind(a, b, equal_var=False).pvalue, a.mean() - b.mean()))
    ref = pd.DataFrame(rows, columns=[*keys, "p", "diff"])
    if level == "district":
        ref.insert(0, "school", ALL_SCHOOLS)
    return ref


def _direction(p_adj: float, diff: float) -> str:
    if p_adj < 0.05:
        return "improvement" if diff > 0 else "decline"
    return "no change"


def test_prior_year_verdict_is_the_same_alone_in_the_grid_and_for_a_principal(district) -> None:
    con = district.con
    # the family: every quick cohort and every district grade cohort of the year, together
    ref = pd.concat([_prior_reference(district, "school"), _prior_reference(district, "district")])
    ref = ref.assign(p_adj=_bh(ref["p"])).set_index(KEYS).sort_index()
    grid = all_prior_year_comparisons(con, DISTRICT, school_years=[YEAR]).set_index(KEYS)
    shown = grid[grid["p"].notna()]
    assert shown["p_adj"].to_numpy() == pytest.approx(
        ref.loc[shown.index, "p_adj"].to_numpy(), rel=1e-7
    )
    assert (
        shown["direction"]
        == [_direction(*v) for v in ref.loc[shown.index, ["p_adj", "diff"]].itertuples(index=False)]
    ).all()
    planted = ref.loc[("Lincoln", "4", "math")]
    assert (planted["p_adj"] < 0.05).all()  # the planted decline holds in its family
    principal = all_prior_year_comparisons(con, PRINCIPAL, school_years=[YEAR]).set_index(KEYS)
    assert (principal.index.get_level_values("school") == "Washington").all()
    both = principal.join(grid, how="left", suffixes=("", "_district"))
    assert both["p_adj"].to_numpy() == pytest.approx(both["p_adj_district"].to_numpy(), rel=REL)
    for scope in (DISTRICT, PRINCIPAL):
        spec = CohortSpec(school_year=(YEAR,), schools=("Washington",), grade=("4",))
        alone = prior_year_comparison(con, spec, scope, years_back=1)
        for row in alone.itertuples():
            expected = ref.loc[("Washington", "4", row.subject, row.season)]
            assert row.p_adj == pytest.approx(expected["p_adj"], rel=1e-7)
            assert row.direction == _direction(expected["p_adj"], expected["diff"])
            assert "quick cohorts" in row.bh_family


def test_district_grade_rows_are_custom_in_a_school_subset(district) -> None:
    """ "All schools" of two schools is not the district's grade cohort: adjusted among the
    custom rows of the grid, and named so."""
    con = district.con
    two = Scope(username="p", role="school_admin", schools=("Lincoln", "Washington"))
    grid = all_prior_year_comparisons(con, two, school_years=[YEAR])
    totals = grid[(grid["school"] == ALL_SCHOOLS) & grid["p"].notna()]
    assert len(totals) > 0
    assert totals["p_adj"].to_numpy() == pytest.approx(_bh(totals["p"]), rel=REL)
    assert totals["bh_family"].str.startswith("adjusted among").all()


def test_two_cohorts_direction_reads_the_adjusted_p(district) -> None:
    con = district.con
    a = CohortSpec(school_year=(YEAR,), schools=("Lincoln",), grade=("4",))
    b = CohortSpec(school_year=(YEAR,), schools=("Washington",), grade=("4",))
    rows = compare_cohorts(con, a, b, DISTRICT)
    assert rows["p_adj"].to_numpy() == pytest.approx(_bh(rows["p"]), rel=REL)
    for row in rows.itertuples():
        assert row.direction == _direction(row.p_adj, row.diff)


def test_proficiency_changes_use_the_fixed_family_for_every_scope(district) -> None:
    con = district.con
    everyone = all_proficiency_changes(con, DISTRICT, school_years=[YEAR]).set_index(KEYS)
    mine = all_proficiency_changes(con, PRINCIPAL, school_years=[YEAR]).set_index(KEYS)
    both = mine.join(everyone, how="left", suffixes=("", "_district"))
    shown = both[both["p"].notna()]
    assert len(shown) > 0
    assert shown["p_adj"].to_numpy() == pytest.approx(shown["p_adj_district"].to_numpy(), rel=REL)
    tested = everyone[everyone["p"].notna()]
    # every cell of this district has both sides over the minimum: the family is them all
    assert len(tested) == len(everyone)
    assert tested["p_adj"].to_numpy() == pytest.approx(_bh(tested["p"]), rel=REL)


def test_subgroup_gaps_of_a_quick_cohort_share_one_family(district) -> None:
    """Each year's family: every reported subgroup gap (one of each F / M pair) of every quick
    cohort in the district; the same p_adj for the principal and the district admin."""
    con = district.con
    grid = subgroup_gaps(con, CohortSpec(), DISTRICT, by=("school", "grade", "subject", "season"))
    year = distinct_gaps(grid[grid["school_year"] == YEAR])
    year = year[year["p"].notna()]
    family = year.assign(ref=_bh(year["p"])).set_index([*KEYS, "attribute", "value"])["ref"]
    spec = CohortSpec(schools=("Washington",), grade=("4",))
    for scope in (DISTRICT, PRINCIPAL):
        gaps = subgroup_gaps(con, spec, scope)
        now = gaps[(gaps["school_year"] == YEAR) & gaps["p"].notna()]
        assert len(now) > 5
        for row in now.itertuples():
            key = ("Washington", "4", row.subject, row.season, row.attribute, row.value)
            if key not in family.index:  # the other value of a two-valued attribute
                same = (now.subject == row.subject) & (now.season == row.season)
                pair = now[same & (now.attribute == row.attribute) & (now.value != row.value)]
                key = (*key[:5], pair["value"].iloc[0])
            assert row.p_adj == pytest.approx(family.loc[key], rel=REL)
            assert row.bh_family_size == len(year)
    # the p itself against scipy on the raw scores: FRL yes vs no, Washington grade 4 reading
    frl = dict(con.execute("select student_id, frl from students").fetchall())
    raw = district.scores(
        school_year=YEAR, school="Washington", grade="4", subject="reading", season="spring"
    )
    flag = raw["student_id"].map(frl)
    yes, no = raw.score[flag.eq(True)], raw.score[flag.eq(False)]
    expected = sps.ttest_ind(yes, no, equal_var=False).pvalue  # scipy: Welch
    row = now[(now.subject == "reading") & (now.season == "spring") & (now.attribute == "frl")]
    assert row["p"].iloc[0] == pytest.approx(expected, rel=1e-9)


def test_gap_change_and_widening_of_a_quick_cohort_are_fixed(district) -> None:
    con = district.con
    spec = CohortSpec(schools=("Washington",), grade=("4",))
    span = ["2022-2023", "2023-2024", YEAR]
    grid = subgroup_gaps(con, CohortSpec(), DISTRICT, by=("school", "grade", "subject", "season"))
    every_change = gap_change(grid, YEAR, "2022-2023")  # one family: every quick cohort
    every_trend = widening_tests(grid[grid["school_year"].isin(span)], span, "2022-2023")
    for scope in (DISTRICT, PRINCIPAL):
        gaps = subgroup_gaps(con, spec, scope)
        change = gap_change(gaps, YEAR, "2022-2023", con=con)
        mine = every_change[(every_change.school == "Washington") & (every_change.grade == "4")]
        both = change.merge(mine, on=["subject", "season", "attribute", "value"])
        assert len(both) == len(change) > 0
        assert both["p_adj_x"].to_numpy() == pytest.approx(both["p_adj_y"].to_numpy(), rel=REL)
        assert (both["verdict_x"] == both["verdict_y"]).all()
        trend = widening_tests(gaps[gaps["school_year"].isin(span)], span, "2022-2023", con=con)
        theirs = every_trend[(every_trend.school == "Washington") & (every_trend.grade == "4")]
        both = trend.merge(theirs, on=["subject", "season", "attribute", "value"])
        assert len(both) == len(trend) > 0
        assert both["p_adj_x"].to_numpy() == pytest.approx(both["p_adj_y"].to_numpy(), rel=REL)
    # the principal's widening-gap alerts are exactly the fixed family's verdicts for the school
    # (a lax alpha and no size threshold, so that there are some to compare)
    span = [f"{y}-{y + 1}" for y in range(2021, 2025)]
    every_trend = widening_tests(grid[grid["school_year"].isin(span)], span, "2022-2023")
    settings.put(con, "alerts.alpha", 0.999)
    settings.put(con, "alerts.gap_min_change_g", -99)
    try:
        alerts = current_alerts(con, PRINCIPAL)
    finally:
        con.execute("delete from settings where key in ('alerts.alpha', 'alerts.gap_min_change_g')")
    # every gap alert (widening or narrowing: the severity rules choose which to raise) cites
    # the adjusted p of its test in the fixed family of every quick cohort's tests
    fixed = every_trend[every_trend.school == "Washington"].set_index(
        ["grade", "subject", "season", "attribute", "value"]
    )
    gap_alerts = alerts[alerts["kind"].str.endswith("gap")]
    assert len(gap_alerts) > 3
    for alert in gap_alerts.itertuples():
        spec = json.loads(alert.spec)
        attribute, value = alert.focus.split("=", 1)
        row = fixed.loc[(spec["grade"], spec["subject"], spec["season"], attribute, value)]
        assert f"BH-adjusted p {row['p_adj']:.3g}" in alert.detail
        assert row["p_adj"] < 0.999


def test_a_new_import_refreshes_the_cached_families() -> None:
    """Families are cached per warehouse state: scores that arrive (or leave) change the family
    (its size and every adjusted p) at once."""
    con = db.memory()
    try:
        build(con, Plan(per_cohort=15, seed=5))
        spec = CohortSpec(school_year=(YEAR,), schools=("Lincoln",), grade=("4",))
        before = cohort_vs_norm(con, spec, DISTRICT)
        con.execute("delete from assessments where grade = '5' and school_year = ?", [YEAR])
        after = cohort_vs_norm(con, spec, DISTRICT)
        table = cohort_vs_norm(con, CohortSpec(school_year=(YEAR,)), DISTRICT)
        tested = table[table["p"].notna()]
        assert (after["bh_family_size"] == len(tested)).all()
        assert (after["bh_family_size"] < before["bh_family_size"]).all()
        mine = tested.set_index(KEYS).loc[
            [("Lincoln", "4", r.subject, r.season) for r in after.itertuples()]
        ]
        assert after["p_adj"].to_numpy() == pytest.approx(mine["p_adj"].to_numpy(), rel=REL)
    finally:
        con.close()
