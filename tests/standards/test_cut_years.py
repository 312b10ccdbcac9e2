"""Issue 15 §2b: cut scores and targets apply by school year.

Two cut-score sets — 2023-2024 (proficient from 195) and 2025-2026 (from 205) — and grade 3
math spring scores in four school years, imported from a generic CSV whose platform column says
nwea_map. Each year's % proficient must use its own year's set (else the nearest earlier, else
none), as pandas computes it on the raw rows; a pinned set applies to every year and says so;
the prior-year comparison of % proficient says when the two years used different sets."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core import cli
from core.access.scope import DISTRICT
from core.cohorts.spec import CohortSpec
from core.compare.between_cohorts import all_proficiency_changes
from core.standards import norms
from core.standards.standing import cohort_vs_norm
from core.warehouse import db

YEARS = ("2022-2023", "2023-2024", "2024-2025", "2025-2026")
CUTS = {"2023-2024": 195.0, "2025-2026": 205.0}
SCHOOL = "Baker Elementary"
SPEC = {"schools": [SCHOOL], "grade": "3", "subject": "math", "season": "spring"}


def _bands(cut: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "subject": "math",
            "grade": "3",
            "season": "spring",
            "band": ["Below", "Proficient"],
            "min_score": [0, cut],
            "proficient": ["no", "yes"],
        }
    )


@pytest.fixture
def warehouse(tmp_path, db_path):
    """(db path, raw rows): 40 third graders a year, scores around 200 (sd 8)."""
    rng = np.random.default_rng(7)
    raw = pd.DataFrame(
        [
            {
                "student_id": f"{year[:4]}-{i:02d}",
                "school": SCHOOL,
                "grade": "3",
                "school_year": year,
                "season": "spring",
                "subject": "math",
                "score": round(200 + 8 * rng.normal(), 1),
                "platform": "nwea_map",
            }
            for year in YEARS
            for i in range(40)
        ]
    )
    raw.to_csv(tmp_path / "scores.csv", index=False)
    assert import_ok(tmp_path / "scores.csv", db_path)
    with db.connect(db_path) as con:
        for year, cut in CUTS.items():
            norms.save_standard_set(con, "cut_scores", "State test", year, _bands(cut))
        norms.save_standard_set(
            con,
            "targets",
            "District goal",
            "2024-2025",
            pd.DataFrame(
                {"subject": ["math"], "grade": ["3"], "season": ["spring"], "target": [203]}
            ),
        )
    return db_path, raw


def import_ok(path, db_path) -> bool:
    from core.ingest import import_file

    return import_file(path, db=db_path, origin="cli").status == "completed"


def _by_year(path) -> pd.DataFrame:
    with db.connect(path) as con:
        rows = cohort_vs_norm(con, CohortSpec.from_dict(SPEC), DISTRICT, by=("school_year",))
    return rows.set_index("school_year")


def _pct(raw: pd.DataFrame, year: str, cut: float) -> float:
    """pandas: the share of the year's raw scores at or above `cut`."""
    return float((raw[raw.school_year == year]["score"] >= cut).mean())


def test_each_year_uses_its_own_set_else_the_nearest_earlier_else_none(warehouse) -> None:
    path, raw = warehouse
    rows = _by_year(path)
    used = {"2023-2024": 195.0, "2024-2025": 195.0, "2025-2026": 205.0}
    for year, cut in used.items():
        assert rows.loc[year, "pct_proficient"] == pytest.approx(_pct(raw, year, cut), rel=1e-12)
    assert _pct(raw, "2024-2025", 195.0) != _pct(raw, "2024-2025", 205.0)  # the cut matters
    assert rows.loc["2023-2024", "cut_set_year"] == "2023-2024"
    assert rows.loc["2024-2025", "cut_set"] == "State test (2023-2024)"
    assert rows.loc["2025-2026", "cut_set"] == "State test (2025-2026)"
    assert (
        "cut scores: no set for 2024-2025; the nearest earlier one, State test (2023-2024), "
        "applied" in rows.loc["2024-2025", "note"]
    )
    assert np.isnan(rows.loc["2022-2023", "pct_proficient"])
    assert pd.isna(rows.loc["2022-2023", "cut_set"])
    assert "no cut scores set for 2022-2023 or an earlier year" in rows.loc["2022-2023", "note"]
    # targets: one set from 2024-2025, so the earlier years have none
    year = raw[raw.school_year == "2025-2026"]["score"]
    assert rows.loc["2025-2026", "pct_at_or_above_target"] == pytest.approx((year >= 203).mean())
    assert rows.loc["2025-2026", "target_set"] == "District goal (2024-2025)"
    assert np.isnan(rows.loc["2023-2024", "pct_at_or_above_target"])


def test_a_pinned_set_applies_to_every_year_and_says_so(warehouse) -> None:
    path, raw = warehouse
    with db.connect(path) as con:
        newest = norms.list_standard_sets(con, "cut_scores").iloc[0]
        assert newest["source_year"] == "2025-2026"
        norms.pin_set(con, "cut_scores", int(newest["set_id"]))
    rows = _by_year(path)
    for year in YEARS:
        assert rows.loc[year, "pct_proficient"] == pytest.approx(_pct(raw, year, 205.0))
        assert rows.loc[year, "cut_set_year"] == "2025-2026"
        assert (
            "cut scores: State test (2025-2026), pinned for every school year"
            in (rows.loc[year, "note"])
        )


def test_cli_json_names_the_set_and_its_year(warehouse, capsys) -> None:
    path, raw = warehouse
    spec = {**SPEC, "school_year": "2024-2025"}
    code = cli.main(["standards", "--db", str(path), "--cohort", json.dumps(spec), "--json"])
    record = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (record["cut_set"], record["cut_set_year"]) == ("State test (2023-2024)", "2023-2024")
    assert (record["target_set"], record["target_set_year"]) == (
        "District goal (2024-2025)",
        "2024-2025",
    )
    assert record["pct_proficient"] == pytest.approx(_pct(raw, "2024-2025", 195.0))


def test_prior_comparison_of_proficiency_says_when_the_sets_differ(warehouse) -> None:
    path, raw = warehouse
    spec = CohortSpec.from_dict({"schools": [SCHOOL], "grade": "3"})
    with db.connect(path) as con:
        rows = all_proficiency_changes(con, DISTRICT, school_years=list(YEARS[2:]), spec=spec)
    rows = rows[rows["school"] == SCHOOL].set_index("school_year")
    # 2025-26 (cut 205) against 2024-25 (the 2023-24 set, cut 195): different standards
    changed = rows.loc["2025-2026"]
    assert changed["pct_a"] == pytest.approx(100 * _pct(raw, "2025-2026", 205.0))
    assert changed["pct_b"] == pytest.approx(100 * _pct(raw, "2024-2025", 195.0))
    assert changed["sets_note"] == (
        "the two years used different proficiency standards: State test (2025-2026) in "
        "2025-2026, State test (2023-2024) in 2024-2025; part of the change may be the change "
        "of standard"
    )
    # 2024-25 against 2023-24: both judged by the 2023-24 set
    same = rows.loc["2024-2025"]
    assert same["pct_b"] == pytest.approx(100 * _pct(raw, "2023-2024", 195.0))
    assert same["sets_note"] == ""


def test_a_row_pooling_years_uses_each_years_set_and_names_both(warehouse) -> None:
    path, raw = warehouse
    years = list(YEARS[1:])
    with db.connect(path) as con:
        spec = CohortSpec.from_dict({**SPEC, "school_year": years})
        row = cohort_vs_norm(con, spec, DISTRICT, by=()).iloc[0]
    cut = raw["school_year"].map({"2023-2024": 195.0, "2024-2025": 195.0, "2025-2026": 205.0})
    pooled = raw[raw.school_year.isin(years)]
    # pandas: each raw score against its own year's cut, pooled
    assert row["pct_proficient"] == pytest.approx((pooled.score >= cut[pooled.index]).mean())
    assert row["cut_set"] == "State test (2023-2024) … State test (2025-2026)"
    assert row["cut_set_year"] == "2023-2024 … 2025-2026"
