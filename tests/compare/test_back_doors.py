"""No back door to a small group (issue 15, section 3): every number a reader can obtain — from
compare (both orders, and against the prior year), the trend, growth, subgroups, standards and
a report of several cohorts — is collected with the students it describes (computed here, in
pandas, from the raw rows), and no combination of two shown numbers may describe 1 … 9 students.

The district, imported through the pipeline (math; fall and spring):

| who | 2024-2025 | 2023-2024 |
|---|---|---|
| Lincoln grade 3 | 56: 6 ELL (the back door); 40 White, 5 Asian, 11 Hispanic; 4 no fall | 50 |
| Lincoln grade 4 | 60: 20 ELL (complement 20: shown); 12 without fall (shown) | — |

The last test runs the issue's own case on the demo district.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.access.scope import DISTRICT
from core.cli import main
from core.cohorts.spec import CohortSpec
from core.compare.between_cohorts import (
    all_prior_year_comparisons,
    compare_cohorts,
    prior_year_comparison,
    yearly_trend,
)
from core.compare.growth import growth_trajectory, matched_growth
from core.compare.subgroups import subgroup_gaps
from core.demo.district import load_demo
from core.demo.samples import FULL_FILE
from core.ingest.pipeline import import_file
from core.report.data import build_report
from core.standards.standing import cohort_vs_norm
from core.stats.suppression import with_siblings
from core.warehouse import db
from core.words.comparisons import panel_sentence

MIN_N = 10
LINCOLN_ = "Lincoln"
NOW, BEFORE = "2024-2025", "2023-2024"
FALL, SPRING = ("fall", NOW), ("spring", NOW)
G3 = {"grade": "3", "subject": "math", "schools": ["Lincoln"], "school_year": NOW}
G3_NOT_ELL = {**G3, "filters": {"ell": False}}
G4 = {**G3, "grade": "4"}
G4_NOT_ELL = {**G4, "filters": {"ell": False}}
WHITE = {**G3, "filters": {"race_ethnicity": "White"}}
WHITE_ASIAN = {**G3, "filters": {"race_ethnicity": ["White", "Asian"]}}


def _students(
    year: str, grade: str, count: int, ell: int, missing_fall: Iterable[int], school: str = LINCOLN_
) -> list:
    rng = np.random.default_rng(int(grade) * 100 + int(year[:4]) + (school != LINCOLN_) * 7)
    rows, skip = [], set(missing_fall)
    for i in range(count):
        sid = f"{year[:4]}-{grade}-{i:02d}" + ("" if school == LINCOLN_ else f"-{school}")
        race = "White" if i % 56 < 40 else ("Asian" if i % 56 < 45 else "Hispanic")
        is_ell = i >= count - ell  # the last `ell` students (all tested in fall)
        for season in ("fall", "spring"):
            if season == "fall" and i in skip:
                continue
            score = 190 + (8 if season == "spring" else 0) - 12 * is_ell + rng.normal(0, 9)
            rows.append((sid, school, grade, year, season, "math", round(score, 1),
                         str(is_ell).lower(), race))  # fmt: skip
    return rows


def raw_rows() -> pd.DataFrame:
    rows = _students(NOW, "3", 56, 6, range(40, 44))
    rows += _students(NOW, "4", 60, 20, range(12))
    rows += _students(BEFORE, "3", 50, 15, ())
    return _frame(rows)


def _frame(rows: list) -> pd.DataFrame:
    columns = ["student_id", "school", "grade", "school_year", "season", "subject", "score",
               "ell", "race_ethnicity"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    return _imported(tmp_path_factory.mktemp("back_doors"), raw_rows())


def _imported(folder: Path, raw: pd.DataFrame) -> tuple[Path, pd.DataFrame]:
    """The rows imported through the pipeline; the reference frame with ELL as booleans."""
    path = folder / "yardstick.duckdb"
    raw.to_csv(folder / "scores.csv", index=False)
    with db.connect(path):
        pass
    assert import_file(folder / "scores.csv", db=path).status == "completed"
    raw["ell"] = raw["ell"] == "true"
    return path, raw


# ------------------------------------------------------------------ the reader's view


@dataclass(frozen=True)
class Shown:
    """One number a reader sees, with the students it describes (from the raw rows)."""

    where: str
    members: frozenset
    n: float
    mean: float


def members(raw: pd.DataFrame, spec: dict, **row: str) -> pd.DataFrame:
    """Reference membership in pandas: the spec's rows (row keys override the spec's)."""
    keys = {"grade": spec.get("grade"), "subject": spec.get("subject"),
            "school_year": spec.get("school_year"), **row}  # fmt: skip
    rows = raw[raw["school"].isin(spec.get("schools", raw["school"].unique()))]
    for column, value in keys.items():
        if value is not None:
            rows = rows[rows[column].isin(value if isinstance(value, list) else [value])]
    for name, value in spec.get("filters", {}).items():
        rows = rows[rows[name].isin(value if isinstance(value, list) else [value])]
    return rows


def events(rows: pd.DataFrame) -> frozenset:
    return frozenset(map(tuple, rows[["student_id", "season", "school_year"]].to_numpy()))


def matched(raw: pd.DataFrame, spec: dict) -> frozenset:
    """Growth's students: the spring members with a fall score (marked: changes, not scores)."""
    later = members(raw, spec, season="spring")
    fall = members(raw, {k: v for k, v in spec.items() if k != "filters"}, season="fall")
    both = later[later["student_id"].isin(fall["student_id"])]
    return frozenset(("change", s) for s in both["student_id"])


def shown(where: str, group: frozenset, n: object, mean: object, suppressed: object) -> list:
    if bool(suppressed) or n != n or mean != mean:
        return []
    assert n == len(group), f"{where}: n {n} but {len(group)} students in the reference"
    return [Shown(where, group, float(n), float(mean))]


def small_groups(items: list[Shown]) -> list[str]:
    """Every group of 1 … 9 students that two shown numbers (or one and two disjoint others)
    reveal: nested groups whose sizes differ by 1 … 9, with the revealed group's mean; and
    two disjoint groups holding a third (Lincoln + Roosevelt not ELL ⊂ Lincoln ∪ Roosevelt not
    ELL: the sum minus the pool is Lincoln's English learners)."""
    found = []
    for x, y in itertools.permutations(items, 2):
        if x.members < y.members and 0 < y.n - x.n < MIN_N:
            mean = (y.n * y.mean - x.n * x.mean) / (y.n - x.n)
            found.append(f"{y.where} − {x.where}: {y.n - x.n:.0f} students, mean {mean:.2f}")
    for x, y, z in itertools.permutations(items, 3):
        if x.members & y.members:
            continue
        union = x.members | y.members
        if union < z.members and 0 < z.n - x.n - y.n < MIN_N:
            found.append(f"{z.where} − {x.where} − {y.where}: {z.n - x.n - y.n:.0f} students")
        if z.members < union and 0 < x.n + y.n - z.n < MIN_N:  # a pool minus one part, say
            found.append(f"{x.where} + {y.where} − {z.where}: {x.n + y.n - z.n:.0f} students")
    return found


def answers(con, raw: pd.DataFrame, specs: list[dict]) -> list[Shown]:
    """Every (n, mean) the reader gets from compare (each pair, both orders), the prior years,
    the trend, growth and standards for these cohorts."""
    out: list[Shown] = []
    cohort = {id(s): CohortSpec.from_dict(s) for s in specs}
    for a, b in itertools.permutations(specs, 2):
        for r in compare_cohorts(con, cohort[id(a)], cohort[id(b)], DISTRICT).to_dict("records"):
            key = {"season": r["season"]}
            out += shown(f"compare a={a}", events(members(raw, a, **key)), r["n_a"], r["mean_a"],
                         r["suppressed"])  # fmt: skip
            out += shown(f"compare b={b}", events(members(raw, b, **key)), r["n_b"], r["mean_b"],
                         r["suppressed"])  # fmt: skip
    for spec in specs:
        out += _prior_and_trend(con, raw, spec, cohort[id(spec)])
        for r in matched_growth(con, cohort[id(spec)], DISTRICT, FALL, SPRING).to_dict("records"):
            out += shown(f"growth {spec}", matched(raw, spec), r["n"], r["mean_change"],
                         r["suppressed"])  # fmt: skip
            out += _growth_levels(raw, spec, r)
        path = growth_trajectory(con, cohort[id(spec)], DISTRICT, [FALL, SPRING])
        for r in path.to_dict("records"):
            out += shown(f"path {r['season']} {spec}", _at(raw, spec, r["season"]), r["n"],
                         r["mean"], r["suppressed"])  # fmt: skip
        for r in cohort_vs_norm(con, cohort[id(spec)], DISTRICT, by=()).to_dict("records"):
            out += shown(f"standards {spec}", events(members(raw, spec, season=r["season"])),
                         r["n"], r["mean"], r["suppressed"])  # fmt: skip
    return out


def _at(raw: pd.DataFrame, spec: dict, season: str) -> frozenset:
    """The test events at `season` of growth's matched students (where they stood then)."""
    return frozenset((student, season, NOW) for _, student in matched(raw, spec))


def _growth_levels(raw: pd.DataFrame, spec: dict, row: dict) -> list[Shown]:
    """Growth's means at each end: the matched students' own test events at that end."""
    out = []
    for season, column in (("spring", "mean_to"), ("fall", "mean_from")):
        out += shown(f"growth {column} {spec}", _at(raw, spec, season), row["n"], row[column],
                     row["suppressed"])  # fmt: skip
    return out


def _prior_and_trend(con, raw: pd.DataFrame, spec: dict, cohort: CohortSpec) -> list[Shown]:
    out = []
    for r in prior_year_comparison(con, cohort, DISTRICT).to_dict("records"):
        for side, year in (("a", r["school_year"]), ("b", r["prior_year"])):
            group = events(members(raw, spec, season=r["season"], school_year=year))
            out += shown(f"prior {side} {spec}", group, r[f"n_{side}"], r[f"mean_{side}"],
                         r["suppressed"])  # fmt: skip
    for r in yearly_trend(con, cohort.replace(school_year=None), DISTRICT).to_dict("records"):
        group = events(members(raw, spec, season=r["season"], school_year=r["school_year"]))
        out += shown(f"trend {spec}", group, r["n"], r["mean"], r["suppressed"])
    return out


# ------------------------------------------------------------------ the back doors


def test_cohort_and_its_filtered_sub_cohort_reveal_nothing(district) -> None:
    path, raw = district
    with db.connect(path) as con:
        items = answers(con, raw, [G3, G3_NOT_ELL, G4, G4_NOT_ELL])
    assert small_groups(items) == []
    places = {item.where for item in items}
    # no over-suppression: the unfiltered cohort, and a filtered one whose complement is 20
    assert f"compare a={G3}" in places and f"growth {G3}" in places
    assert f"compare a={G4_NOT_ELL}" in places and f"growth {G4_NOT_ELL}" in places
    assert f"prior b={G3_NOT_ELL}" not in places  # shown with this year's side only: hidden
    # the back door was real: without the privacy layer these two give the 6 ELL students
    g3 = events(members(raw, G3, season="spring"))
    assert len(g3 - events(members(raw, G3_NOT_ELL, season="spring"))) == 6


def test_filtered_compare_is_suppressed_with_a_reason_in_either_order(district) -> None:
    path, _ = district
    with db.connect(path) as con:
        a, b = CohortSpec.from_dict(G3_NOT_ELL), CohortSpec.from_dict(G3)
        for first, second in ((a, b), (b, a)):
            rows = compare_cohorts(con, first, second, DISTRICT)
            assert rows["suppressed"].all()
            assert rows["note"].str.contains("without the filter\\(s\\) ell").all()
            assert rows[["n_a", "mean_a", "n_b", "mean_b", "diff", "p"]].isna().all().all()
        prior = prior_year_comparison(con, a, DISTRICT)
        assert prior["suppressed"].all() and prior["mean_b"].isna().all()
        shown_now = prior_year_comparison(con, b, DISTRICT)  # the unfiltered cohort is shown
        assert not shown_now["suppressed"].any()


def test_two_cohorts_that_differ_by_a_few_students_are_not_shown_together(district) -> None:
    path, raw = district
    white, both = CohortSpec.from_dict(WHITE), CohortSpec.from_dict(WHITE_ASIAN)
    with db.connect(path) as con:
        rows = compare_cohorts(con, white, both, DISTRICT)
        assert rows["suppressed"].all() and rows["note"].str.contains("differ by fewer").all()
        # each alone is fine: neither filter leaves out 1 … 9 of the unfiltered cohort
        alone = cohort_vs_norm(con, [white, both], DISTRICT, by=())
        assert not alone["suppressed"].any()
        disjoint = compare_cohorts(con, white, CohortSpec.from_dict(G4), DISTRICT)
        assert not disjoint["suppressed"].any()  # no shared students: nothing to subtract
    spring = members(raw, WHITE_ASIAN, season="spring")
    assert (spring["race_ethnicity"] == "Asian").sum() == 5


def _subgroups(con, raw: pd.DataFrame, cohort: dict) -> tuple[pd.DataFrame, list[Shown]]:
    gaps = subgroup_gaps(con, CohortSpec.from_dict(cohort), DISTRICT)
    gaps, items = gaps[gaps["school_year"] == NOW], []
    for r in gaps.to_dict("records"):
        spec = {
            **cohort,
            "filters": {**cohort.get("filters", {}), r["attribute"]: _value(r["value"])},
        }
        group = members(raw, spec, season=r["season"])
        rest = members(raw, cohort, season=r["season"])
        rest = rest[~rest["student_id"].isin(group["student_id"])]
        items += shown(f"subgroup {spec}", events(group), r["n_sub"], r["mean_sub"],
                       r["suppressed"])  # fmt: skip
        items += shown(f"rest of {spec}", events(rest), r["n_rest"], r["mean_rest"],
                       r["suppressed"])  # fmt: skip
    return gaps, items


def test_subgroup_rest_and_total_reveal_nothing(district) -> None:
    path, raw = district
    with db.connect(path) as con:
        gaps, items = _subgroups(con, raw, G3)
        filtered, more = _subgroups(con, raw, G3_NOT_ELL)  # its Hispanic 5 vs G3's 11
        fine, _ = _subgroups(con, raw, G4)
        items += more + answers(con, raw, [G3, G3_NOT_ELL])
    assert small_groups(items) == []
    assert filtered["suppressed"].all()
    assert filtered["note"].str.contains("filter(s) ell", regex=False).any()
    assert not fine.loc[fine["attribute"] == "ell", "suppressed"].any()  # 20 of 60: shown
    ell = gaps[gaps["attribute"] == "ell"]
    assert ell["suppressed"].all()  # 6 English learners: not shown, nor their rest
    race = gaps[gaps["attribute"] == "race_ethnicity"].set_index(["season", "value"])
    # 5 Asian students hidden, so Hispanic (11) is hidden with them; White (40 vs 16) shown
    assert race["suppressed"].to_dict() == {
        (season, value): value != "White"
        for season in ("fall", "spring")
        for value in ("Asian", "Hispanic", "White")
    }


def _value(value: object) -> object:
    return {"yes": True, "no": False}.get(str(value).lower(), value)


def test_growth_with_and_without_a_filter_and_the_counts_left_out(district) -> None:
    path, raw = district
    with db.connect(path) as con:
        g3 = matched_growth(con, CohortSpec.from_dict(G3), DISTRICT, FALL, SPRING).iloc[0]
        g3_not_ell = matched_growth(con, CohortSpec.from_dict(G3_NOT_ELL), DISTRICT, FALL, SPRING)
        g4 = matched_growth(con, CohortSpec.from_dict(G4), DISTRICT, FALL, SPRING).iloc[0]
    assert g3_not_ell["suppressed"].all() and "without the filter" in g3_not_ell["note"].iloc[0]
    # 4 of grade 3 missed the fall test: the count is not shown, nor members (56 − 52 = 4)
    assert len(matched(raw, G3)) == 52 and g3["n"] == 52
    assert np.isnan(g3["dropped"]) and np.isnan(g3["members"]) and "earlier test" in g3["note"]
    # 12 of grade 4 missed it: shown (reference: the raw rows)
    assert (g4["members"], g4["n"], g4["dropped"]) == (60, 48, 12)


def test_a_report_of_nested_cohorts_reveals_nothing(district) -> None:
    path, raw = district
    specs = [WHITE, WHITE_ASIAN, G4]
    with db.connect(path) as con:
        report = build_report(con, [CohortSpec.from_dict(s) for s in specs], DISTRICT,
                              use_model=False, charts=False)  # fmt: skip
    items = []
    for spec, section in zip(specs, report.sections, strict=True):
        for s in section.findings.standings:
            group = events(members(raw, spec, season=s.season))
            items += shown(f"report {spec}", group, s.n, s.mean, section.findings.suppressed)
        for r in section.standards.to_dict("records"):
            group = events(members(raw, spec, season=r["season"]))
            items += shown(f"report table {spec}", group, r["n"], r["mean"], r["suppressed"])
    assert small_groups(items) == []
    white, both, grade4 = report.sections
    assert white.findings.suppressed and white.findings.withheld_beside == both.spec.label()
    assert not both.findings.suppressed and not grade4.findings.suppressed  # no over-suppression
    assert {s.season for s in both.findings.standings} == {"fall", "spring"}


def test_cli_json_says_why_and_carries_no_statistics(district, capsys) -> None:
    path, _ = district
    args = ["--db", str(path), "compare", "--a", json.dumps(G3_NOT_ELL), "--b", json.dumps(G3)]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for record in out:
        assert record["suppressed"] is True and "without the filter(s) ell" in record["note"]
        assert "n" not in record["a"] and "mean" not in record["b"] and "diff" not in record
    growth = ["--db", str(path), "growth", "--cohort", json.dumps(G3), "--from", "fall", "--to",
              "spring", "--json"]  # fmt: skip
    assert main(growth) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["suppressed"] is False and record["n"] == 52
    assert record["dropped"] is None and record["members"] is None
    assert f"fewer than {MIN_N}" in record["note"]
    assert main(growth[:-1]) == 0  # the human text says so instead of printing a number
    assert "is not shown" in capsys.readouterr().out


def test_the_demo_districts_back_door_is_closed(tmp_path: Path, capsys) -> None:
    """The issue's case: grade 3 math at Lincoln Elementary, spring 2024-2025, not ELL (85)
    beside all of them (91) gave the 6 English learners' mean."""
    load_demo(tmp_path / "demo.duckdb", samples_dir=tmp_path / "samples")
    # reference: the demo's own file, as imported (one row per test event, ELL as of that row)
    raw = pd.read_csv(tmp_path / "samples" / FULL_FILE, dtype=str)
    rows = raw[(raw["school"] == "Lincoln Elementary") & (raw["grade"] == "3")
               & (raw["subject"] == "math") & (raw["season"] == "spring")
               & (raw["school_year"] == NOW)]  # fmt: skip
    assert 0 < (rows["ell"] == "Y").sum() < MIN_N  # the back door exists in the data
    both = {"grade": "3", "subject": "math", "season": "spring", "school_year": NOW,
            "schools": ["Lincoln Elementary"]}  # fmt: skip
    not_ell = {**both, "filters": {"ell": False}}
    base = ["--db", str(tmp_path / "demo.duckdb")]
    for a, b in ((not_ell, both), (both, not_ell)):
        assert main([*base, "compare", "--a", json.dumps(a), "--b", json.dumps(b), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["suppressed"] is True and "mean" not in out["a"] and "mean" not in out["b"]
    assert main([*base, "compare", "--a", json.dumps(both), "--b", "prior", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["suppressed"] is False and out["a"]["n"] == len(rows)  # the whole grade: shown
    growth = ["growth", "--from", "fall", "--to", "spring", "--json", "--cohort"]
    assert main([*base, *growth, json.dumps(not_ell)]) == 0
    assert json.loads(capsys.readouterr().out)["suppressed"] is True
    assert main([*base, *growth, json.dumps(both)]) == 0
    assert json.loads(capsys.readouterr().out)["suppressed"] is False
    _the_demos_two_other_back_doors(base, capsys)


def _the_demos_two_other_back_doors(base: list[str], capsys) -> None:
    """(1) Lincoln + Roosevelt not ELL (139) − Roosevelt not ELL (54) = Lincoln not ELL, whose 6
    English learners Lincoln's 91 would give; (2) growth's 88 matched of Lincoln's 91 with their
    spring mean gave the 3 without a fall score."""
    window = {"grade": "3", "subject": "math", "season": "spring", "school_year": NOW}
    pooled = {**window, "schools": ["Lincoln Elementary", "Roosevelt Elementary"],
              "filters": {"ell": False}}  # fmt: skip
    roosevelt = {**pooled, "schools": ["Roosevelt Elementary"]}
    for spec, hidden in ((pooled, True), (roosevelt, False)):
        assert main([*base, "standards", "--cohort", json.dumps(spec), "--by", "none",
                     "--json"]) == 0  # fmt: skip
        out = json.loads(capsys.readouterr().out)
        record = out[0] if isinstance(out, list) else out
        assert record["suppressed"] is hidden and ("mean" in record) is not hidden
    lincoln = {"grade": "3", "subject": "math", "school": "Lincoln Elementary", "school_year": NOW}
    growth = ["growth", "--from", "fall", "--to", "spring", "--json", "--cohort"]
    assert main([*base, *growth, json.dumps(lincoln)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["suppressed"] is False and out["mean_change"] is not None  # the change: shown
    assert out["mean_to"] is None and out["mean_from"] is None  # where they stood: withheld
    assert out["percentile_of_mean"] == {"from": None, "to": None}


def test_the_growth_path_does_not_count_a_few_students_left_out(district) -> None:
    path, raw = district
    with db.connect(path) as con:
        g3 = growth_trajectory(con, CohortSpec.from_dict(G3), DISTRICT, [FALL, SPRING])
        g4 = growth_trajectory(con, CohortSpec.from_dict(G4), DISTRICT, [FALL, SPRING])
    assert (g3["n"] == len(matched(raw, G3))).all()  # 52 tested both times (reference)
    assert g3["dropped"].isna().all() and g3["members"].isna().all()  # 4 left out: not said
    # nor their means: the path at spring beside the cohort's spring mean would give them
    assert g3["mean"].isna().all() and g3["note"].str.contains("not drawn").all()
    spring = members(raw, G4, season="spring").merge(
        members(raw, G4, season="fall")[["student_id"]], on="student_id"
    )  # reference: grade 4's students tested both times, their spring scores
    assert g4.loc[g4["season"] == "spring", "mean"].iloc[0] == pytest.approx(spring["score"].mean())
    assert "is not shown" in panel_sentence(g3.iloc[0]) and "4" not in panel_sentence(g3.iloc[0])
    assert (g4["dropped"] == 12).all() and "48 of 60 (12 missed" in panel_sentence(g4.iloc[0])


def test_the_grid_of_a_filtered_cohort_hides_the_cells_its_filter_would_give_away(district) -> None:
    path, raw = district
    not_ell = CohortSpec.from_dict({"subject": "math", "filters": {"ell": False}})
    with db.connect(path) as con:
        grid = all_prior_year_comparisons(con, DISTRICT, school_years=[NOW], spec=not_ell)
        whole = all_prior_year_comparisons(con, DISTRICT, school_years=[NOW])
    # grade 3 this year leaves out 6 English learners: hidden; the whole grade is shown
    assert grid.loc[grid["grade"] == "3", "suppressed"].all()
    assert not whole.loc[whole["grade"] == "3", "suppressed"].any()
    assert grid.loc[grid["grade"] == "3", ["n_a", "mean_a", "n_b", "mean_b"]].isna().all().all()


def test_a_hidden_school_cell_takes_its_siblings_with_it() -> None:
    """Total minus the other schools would give a hidden school's filtered numbers back."""
    cells = pd.DataFrame({"grade": ["3", "3", "3", "4", "4"], "school": list("ABCAB")})
    hidden = with_siblings(cells, [True, False, False, False, False], ["grade"])
    assert hidden.tolist() == [True, True, True, False, False]


# ------------------------------------------------------------------ pooled schools, filtered

SCHOOL_3 = {"grade": "3", "subject": "math", "school_year": NOW}
LR_NOT_ELL = {**SCHOOL_3, "schools": ["Lincoln", "Roosevelt"], "filters": {"ell": False}}
R_NOT_ELL = {**SCHOOL_3, "schools": ["Roosevelt"], "filters": {"ell": False}}
RM_NOT_ELL = {**SCHOOL_3, "schools": ["Roosevelt", "Maple"], "filters": {"ell": False}}
ALL_NOT_ELL = {**SCHOOL_3, "filters": {"ell": False}}
LINCOLN, MAPLE = {**SCHOOL_3, "schools": ["Lincoln"]}, {**SCHOOL_3, "schools": ["Maple"]}


@pytest.fixture(scope="module")
def three_schools(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """Grade 3 this year: Lincoln 56 (6 ELL: hidden filtered), Roosevelt 40 (10 ELL), Maple 30
    (12 ELL) — every school's own complement is 0 or at least 10 except Lincoln's."""
    rows = _students(NOW, "3", 56, 6, range(40, 44))
    rows += _students(NOW, "3", 40, 10, (), school="Roosevelt")
    rows += _students(NOW, "3", 30, 12, range(5), school="Maple")
    return _imported(tmp_path_factory.mktemp("three_schools"), _frame(rows))


def test_pooled_schools_with_a_filter_minus_one_school_reveal_nothing(three_schools) -> None:
    """Lincoln + Roosevelt not ELL − Roosevelt not ELL = Lincoln not ELL; Lincoln − that = its
    6 English learners. Every pool holding Lincoln is hidden; pools without it are shown."""
    path, raw = three_schools
    specs = [LR_NOT_ELL, R_NOT_ELL, LINCOLN, RM_NOT_ELL, ALL_NOT_ELL, MAPLE]
    with db.connect(path) as con:
        items = answers(con, raw, specs)
        standards = cohort_vs_norm(con, [CohortSpec.from_dict(s) for s in specs], DISTRICT, by=())
    assert small_groups(items) == []
    hidden = standards.groupby("cohort_index")["suppressed"].all().tolist()
    assert hidden == [True, False, False, False, True, False]  # no over-suppression
    note = standards.loc[standards["cohort_index"] == 0, "note"].iloc[0]
    assert "school by school without the filter(s) ell" in note
    # the back door was real (reference: the raw rows): the pool minus Roosevelt is Lincoln's
    # not-ELL students, 6 fewer than Lincoln's own
    pooled = members(raw, LR_NOT_ELL, season="spring")
    lincoln = pooled[pooled["school"] == "Lincoln"]
    assert len(members(raw, LINCOLN, season="spring")) - len(lincoln) == 6
    places = {item.where for item in items}
    assert f"standards {RM_NOT_ELL}" in places and f"compare a={RM_NOT_ELL}" in places


def test_one_answer_of_a_pool_and_the_others_reveals_nothing(three_schools) -> None:
    """compare(all schools not ELL, Roosevelt + Maple not ELL): A − B is Lincoln not ELL."""
    path, raw = three_schools
    a, b = CohortSpec.from_dict(ALL_NOT_ELL), CohortSpec.from_dict(RM_NOT_ELL)
    with db.connect(path) as con:
        rows = compare_cohorts(con, a, b, DISTRICT)
        growth = matched_growth(con, a, DISTRICT, FALL, SPRING)
        safe = matched_growth(con, b, DISTRICT, FALL, SPRING).iloc[0]
    assert rows["suppressed"].all() and rows[["mean_a", "mean_b"]].isna().all().all()
    assert rows["note"].str.contains("school by school").all()
    assert growth["suppressed"].all() and "school by school" in growth["note"].iloc[0]
    # Roosevelt + Maple not ELL: 48, of whom 5 (Maple) without fall — the change is shown, the
    # levels are not (48 − 43 = 5 beside standards); reference: the raw rows
    assert len(members(raw, RM_NOT_ELL, season="spring")) == 48
    assert not safe["suppressed"] and safe["n"] == len(matched(raw, RM_NOT_ELL)) == 43
    assert np.isnan(safe["mean_to"]) and np.isnan(safe["mean_from"])
    change = members(raw, RM_NOT_ELL).pivot_table("score", "student_id", "season").dropna()
    assert safe["mean_change"] == pytest.approx((change["spring"] - change["fall"]).mean())
