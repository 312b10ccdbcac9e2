"""Student attributes are recorded per school year and counted as of the score's year.

The class-size-shaped file (tests/attributes/classsize.py) changes class type, ELL and FRL
between years; every number is checked against pandas / scipy on the file's raw rows, and the
file is imported in three row orders that must give identical warehouses and results.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from core.access.scope import DISTRICT
from core.cohorts.spec import CohortSpec, SpecError, cohort_size
from core.compare.between_cohorts import compare_cohorts
from core.compare.growth import matched_growth
from core.compare.subgroups import subgroup_gaps
from core.ingest import import_file
from core.ingest.kinds import current_school_year
from core.warehouse import db
from tests.attributes.classsize import EFFECT, YEARS, class_size_rows, write

ORDERS = ("natural", "later_first", "shuffled")


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return class_size_rows()


@pytest.fixture(scope="module")
def warehouses(raw: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One warehouse per row order of the same file."""
    out = {}
    for order in ORDERS:
        folder = tmp_path_factory.mktemp(order)
        summary = import_file(write(raw, folder / "star.csv", order), db=folder / "w.duckdb",
                              origin="cli")  # fmt: skip
        assert summary.status == "completed", summary.message
        out[order] = folder / "w.duckdb"
    return out


def _spec(year: str, **filters: object) -> CohortSpec:
    return CohortSpec.from_dict({"school_year": year, "subject": "math", "filters": filters})


def _welch_rows(path: Path) -> pd.DataFrame:
    """Small vs regular class, math, every year (one compare_cohorts row each)."""
    with db.connect(path) as con:
        rows = [
            compare_cohorts(
                con, _spec(y, class_type="small"), _spec(y, class_type="regular"), DISTRICT
            ).assign(school_year=y)
            for y in YEARS
        ]
    return pd.concat(rows, ignore_index=True)


def test_row_order_never_changes_the_warehouse_or_a_result(warehouses: dict[str, Path]) -> None:
    tables = {}
    for order, path in warehouses.items():
        with db.connect(path) as con:
            tables[order] = (
                con.sql("select * from student_years order by all").df(),
                con.sql("select * from student_attributes order by all").df(),
                con.sql("select * from students order by student_id")
                .df()
                .drop(columns="updated_at"),
            )
    for order in ORDERS[1:]:
        for mine, natural in zip(tables[order], tables["natural"], strict=True):
            pd.testing.assert_frame_equal(mine, natural)
    results = {order: _welch_rows(path) for order, path in warehouses.items()}
    for order in ORDERS[1:]:
        pd.testing.assert_frame_equal(results[order], results["natural"])


@pytest.mark.parametrize("order", ORDERS)
def test_each_year_compares_the_class_types_it_recorded(
    raw: pd.DataFrame, warehouses: dict[str, Path], order: str
) -> None:
    """n, mean, sd and Welch's test per year equal scipy on the raw rows of that year."""
    result = _welch_rows(warehouses[order]).set_index("school_year")
    math = raw[raw["subject"] == "math"]
    for year in YEARS:
        rows = math[math["school_year"] == year]
        small = rows.loc[rows["class_type"] == "small", "score"]
        regular = rows.loc[rows["class_type"] == "regular", "score"]
        got = result.loc[year]
        assert (got["n_a"], got["n_b"]) == (len(small), len(regular))
        assert got["mean_a"] == pytest.approx(small.mean(), abs=1e-9)
        assert got["mean_b"] == pytest.approx(regular.mean(), abs=1e-9)
        assert got["sd_a"] == pytest.approx(small.std(ddof=1), abs=1e-9)
        assert got["sd_b"] == pytest.approx(regular.std(ddof=1), abs=1e-9)
        # scipy: ttest_ind(a, b, equal_var=False) — Welch
        welch = sps.ttest_ind(small, regular, equal_var=False)
        assert got["t"] == pytest.approx(welch.statistic, rel=1e-9)
        assert got["p"] == pytest.approx(welch.pvalue, rel=1e-6)
        assert got["df"] == pytest.approx(welch.df, rel=1e-9)


def test_the_kindergarten_effect_is_the_true_one_not_a_later_years(
    raw: pd.DataFrame, warehouses: dict[str, Path]
) -> None:
    """The K small-class difference is K's own; reading each student's last class type (the old
    one-value rule) gives another number."""
    k = raw[(raw["school_year"] == YEARS[0]) & (raw["subject"] == "math")]
    true_diff = (
        k.loc[k["class_type"] == "small", "score"].mean()
        - k.loc[k["class_type"] == "regular", "score"].mean()
    )
    last = raw.sort_values("school_year").groupby("student_id")["class_type"].last()
    contaminated = k.assign(class_type=k["student_id"].map(last))
    old_diff = (
        contaminated.loc[contaminated["class_type"] == "small", "score"].mean()
        - contaminated.loc[contaminated["class_type"] == "regular", "score"].mean()
    )
    got = _welch_rows(warehouses["shuffled"]).set_index("school_year").loc[YEARS[0], "diff"]
    assert got == pytest.approx(true_diff, abs=1e-9)
    assert abs(old_diff - true_diff) > 1.0  # the file is one where the old rule would be wrong
    assert abs(got - EFFECT["K"]) < 4.0  # and the true difference is near the built-in effect


def test_a_filter_counts_per_year_what_the_file_says(
    raw: pd.DataFrame, warehouses: dict[str, Path]
) -> None:
    with db.connect(warehouses["later_first"]) as con:
        for year in YEARS:
            rows = raw[raw["school_year"] == year]
            for column, value, spec_value in (
                ("ell", "Y", True), ("ell", "N", False), ("frl", "Y", True),
                ("class_type", "aide", "aide"),
            ):  # fmt: skip
                expected = rows.loc[rows[column] == value, "student_id"].nunique()
                spec = CohortSpec.from_dict({"school_year": year, "filters": {column: spec_value}})
                assert cohort_size(con, spec, DISTRICT) == expected, (year, column, value)
        latest = raw[(raw["school_year"] == YEARS[-1]) & (raw["program"] == "tutoring")]
        spec = CohortSpec.from_dict({"school_year": YEARS[-1], "filters": {"program": "tutoring"}})
        assert cohort_size(con, spec, DISTRICT) == latest["student_id"].nunique() > 0


def test_subgroups_are_the_values_of_each_score_year(
    raw: pd.DataFrame, warehouses: dict[str, Path]
) -> None:
    with db.connect(warehouses["shuffled"]) as con:
        gaps = subgroup_gaps(
            con, CohortSpec.from_dict({"subject": "math"}), DISTRICT, attributes=["class_type"]
        )
    math = raw[raw["subject"] == "math"]
    expected = math.groupby(["school_year", "class_type"])["score"].agg(["count", "mean"])
    got = gaps.set_index(["school_year", "value"])[["n_sub", "mean_sub"]]
    for (year, value), row in expected.iterrows():
        assert got.loc[(year, value), "n_sub"] == row["count"]
        assert got.loc[(year, value), "mean_sub"] == pytest.approx(row["mean"], abs=1e-9)


def test_ever_and_former_read_earlier_years(raw: pd.DataFrame, warehouses: dict[str, Path]) -> None:
    """ever = ELL this year or any earlier year of the file; former = earlier, not this year."""
    ell_years = raw.loc[raw["ell"] == "Y", ["student_id", "school_year"]].drop_duplicates()
    with db.connect(warehouses["natural"]) as con:
        for year in YEARS[1:]:
            tested = set(raw.loc[raw["school_year"] == year, "student_id"])
            now = set(ell_years.loc[ell_years["school_year"] == year, "student_id"])
            before = set(ell_years.loc[ell_years["school_year"] < year, "student_id"])
            for value, expected in (
                ("ever", tested & (now | before)), ("former", (tested & before) - now),
            ):  # fmt: skip
                spec = CohortSpec.from_dict({"school_year": year, "filters": {"ell": value}})
                assert cohort_size(con, spec, DISTRICT) == len(expected), (year, value)
            assert len((tested & before) - now) > 0


def test_ever_is_a_spec_value_and_true_false_keep_their_meaning() -> None:
    spec = CohortSpec.from_dict({"filters": {"ell": "ever", "sped": "Y", "frl": ["former", 0]}})
    assert spec.filter_dict == {"ell": ("ever",), "sped": ("true",), "frl": ("former", "false")}
    assert spec.to_dict() == {"filters": {"ell": "ever", "frl": ["former", False], "sped": True}}
    assert CohortSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(SpecError, match="ever / former"):
        CohortSpec.from_dict({"filters": {"ell": "sometimes"}})


def test_matched_growth_counts_the_later_years_class_type(
    raw: pd.DataFrame, warehouses: dict[str, Path]
) -> None:
    later, earlier = YEARS[1], YEARS[0]
    math = raw[raw["subject"] == "math"]
    members = math[(math["school_year"] == later) & (math["class_type"] == "small")]
    before = math[math["school_year"] == earlier].set_index("student_id")["score"]
    matched = members[members["student_id"].isin(before.index)]
    change = matched["score"].to_numpy() - before.loc[matched["student_id"]].to_numpy()
    with db.connect(warehouses["shuffled"]) as con:
        result = matched_growth(
            con, _spec(later, class_type="small").replace(school_year=None), DISTRICT,
            ("spring", earlier), ("spring", later),
        )  # fmt: skip
    row = result.iloc[0]
    assert row["n"] == len(matched)
    # The member count is shown unless a school's students left out (1-9) could be worked out
    # from it (core.stats.suppression: the pooled row minus the other school asked alone).
    assert np.isnan(row["members"]) or row["members"] == len(members)
    assert row["mean_change"] == pytest.approx(np.mean(change), abs=1e-9)


# ------------------------------------------------------------------ rosters without a year


def _roster(path: Path, rows: list[list[str]], headers: list[str]) -> Path:
    pd.DataFrame(rows, columns=headers).to_csv(path, index=False)
    return path


def test_a_roster_without_a_year_lands_in_the_year_of_its_date(
    db_path: Path, tmp_path: Path
) -> None:
    headers = ["student_id", "school", "grade", "ELL", "Program"]
    named = _roster(tmp_path / "roster_2025-03-01.csv", [["1", "Elm", "3", "Y", "band"]], headers)
    summary = import_file(named, db=db_path, origin="cli")
    assert summary.kind == "roster", summary.message
    assert summary.added["attributes_school_year"] == "2024-2025"
    assert summary.added["attributes_year_from"] == "file_name"
    compact = _roster(tmp_path / "sis_20230915.csv", [["2", "Elm", "1", "N", "choir"]], headers)
    assert import_file(compact, db=db_path, origin="cli").added["attributes_school_year"] == (
        "2023-2024"
    )
    dated = _roster(tmp_path / "kids.csv", [["3", "Elm", "2", "Y", "art", "10/01/2022"]],
                    [*headers, "As Of Date"])  # fmt: skip
    summary = import_file(dated, db=db_path, origin="cli")
    assert summary.added["attributes_year_from"] == "date_column"
    plain = _roster(tmp_path / "kids_plain.csv", [["4", "Elm", "K", "N", "none"]], headers)
    summary = import_file(plain, db=db_path, origin="cli")
    assert summary.added["attributes_school_year"] == current_school_year(dt.date.today())
    assert summary.added["attributes_year_from"] == "import_date"
    with db.connect(db_path) as con:
        years = con.sql("select student_id, school_year, ell from student_years order by 1").df()
        programs = con.sql(
            "select student_id, school_year, value from student_attributes order by 1"
        ).fetchall()
    assert years.values.tolist() == [
        ["1", "2024-2025", True],
        ["2", "2023-2024", False],
        ["3", "2022-2023", True],
        ["4", current_school_year(dt.date.today()), False],
    ]
    assert [p[:2] for p in programs] == [tuple(r[:2]) for r in years.values.tolist()]


def test_the_cli_import_json_says_which_year_and_why(db_path: Path, tmp_path: Path) -> None:
    from core.commands.import_cmd import document

    path = _roster(tmp_path / "roster_2025-03-01.csv", [["1", "Elm", "3", "Y"]],
                   ["student_id", "school", "grade", "ELL"])  # fmt: skip
    out = document(import_file(path, db=db_path, origin="cli"))
    assert (out["attributes_school_year"], out["attributes_year_from"]) == (
        "2024-2025",
        "file_name",
    )


# ------------------------------------------------------------------ conflicts inside a file

CONFLICT_HEADERS = ["student_id", "school", "grade", "school_year", "season", "test_date",
                    "subject", "score", "ell", "class_type"]  # fmt: skip
CONFLICT_ROWS = [
    # student 1: fall says ELL, spring (the latest test of the year) says not — spring wins
    ["1", "Elm", "3", "2024-2025", "fall", "2024-09-10", "math", "200", "Y", "small"],
    ["1", "Elm", "3", "2024-2025", "spring", "2025-04-02", "math", "210", "N", "small"],
    ["1", "Elm", "3", "2024-2025", "winter", "", "math", "205", "Y", "small"],
    # student 2: two subjects the same day disagree — the most frequent value, then A→Z
    ["2", "Elm", "3", "2024-2025", "spring", "2025-04-02", "math", "190", "N", "regular"],
    ["2", "Elm", "3", "2024-2025", "spring", "2025-04-02", "reading", "191", "N", "aide"],
    ["2", "Elm", "3", "2024-2025", "spring", "2025-04-02", "science", "192", "N", "regular"],
    ["2", "Elm", "3", "2024-2025", "spring", "2025-04-02", "language", "193", "N", "aide"],
    # student 3: a different year each — no conflict
    ["3", "Elm", "2", "2023-2024", "spring", "2024-04-02", "math", "180", "Y", "small"],
    ["3", "Elm", "3", "2024-2025", "spring", "2025-04-02", "math", "185", "N", "regular"],
]


@pytest.mark.parametrize("reverse", [False, True])
def test_conflicts_in_a_file_are_settled_by_the_stated_rule_and_reported(
    db_path: Path, tmp_path: Path, reverse: bool
) -> None:
    rows = CONFLICT_ROWS[::-1] if reverse else CONFLICT_ROWS
    path = _roster(tmp_path / "scores.csv", rows, CONFLICT_HEADERS)
    summary = import_file(path, db=db_path, origin="cli")
    assert summary.status == "completed", summary.message
    with db.connect(db_path) as con:
        ell = con.sql("select student_id, school_year, ell from student_years order by 1, 2")
        classes = con.sql(
            "select student_id, school_year, value from student_attributes order by 1, 2"
        )
        assert ell.fetchall() == [
            ("1", "2024-2025", False), ("2", "2024-2025", False),
            ("3", "2023-2024", True), ("3", "2024-2025", False),
        ]  # fmt: skip
        assert classes.fetchall() == [
            ("1", "2024-2025", "small"), ("2", "2024-2025", "aide"),
            ("3", "2023-2024", "small"), ("3", "2024-2025", "regular"),
        ]  # fmt: skip
    warnings = [e for e in summary.errors if e["severity"] == "warning"]
    assert len(warnings) == 2  # one per student × year × attribute
    row_of = {tuple(r[:5]): index + 2 for index, r in enumerate(rows)}  # header = row 1
    fall, spring, winter = (row_of[("1", "Elm", "3", "2024-2025", s)] for s in
                            ("fall", "spring", "winter"))  # fmt: skip
    ell_warning = next(w for w in warnings if w["column"] == "ell")
    assert ell_warning["row"] == min(fall, spring, winter)
    assert "Student 1" in ell_warning["message"] and "Kept no" in ell_warning["message"]
    assert f"no on row {spring}" in ell_warning["message"]
    assert f"yes on rows {', '.join(map(str, sorted([fall, winter])))}" in ell_warning["message"]
    class_warning = next(w for w in warnings if w["column"] == "class_type")
    assert "Student 2" in class_warning["message"] and "Kept aide" in class_warning["message"]


# ------------------------------------------------------------------ migration 011


def _downgrade(path: Path, raw: pd.DataFrame) -> None:
    """Turn a warehouse into what Yardstick wrote before 011: one value per student (the file's
    last row with one), no student_years, schema 010."""
    import duckdb

    last = raw.replace("", np.nan).groupby("student_id")[["ell", "frl", "class_type"]].last()
    last = last.reset_index()
    con = duckdb.connect(str(path))
    con.register("old_values", last)
    con.execute("drop table student_years")
    con.execute("drop table student_attributes")
    con.execute(
        "create table student_attributes (student_id varchar not null, attribute varchar not "
        "null, value varchar not null)"
    )
    con.execute(
        "insert into student_attributes select student_id, 'class_type', class_type from old_values"
    )
    con.execute(
        "update students s set ell = o.ell = 'Y', frl = o.frl = 'Y' from old_values o "
        "where o.student_id = s.student_id"
    )
    con.execute("delete from schema_version where version = 11")
    con.close()


def _copy(source: Path, target: Path, with_raw: bool) -> Path:
    import shutil

    target.mkdir()
    shutil.copy(source, target / source.name)
    if with_raw:
        shutil.copytree(source.parent / "raw", target / "raw")
    return target / source.name


def test_the_migration_replays_kept_files_into_their_years(
    raw: pd.DataFrame, warehouses: dict[str, Path], tmp_path: Path
) -> None:
    fresh = warehouses["shuffled"]
    old = _copy(fresh, tmp_path / "old", with_raw=True)
    _downgrade(old, raw)
    with db.connect(old) as migrated, db.connect(fresh) as expected:
        for table in ("student_years", "student_attributes"):
            query = f"select * from {table} order by all"
            pd.testing.assert_frame_equal(migrated.sql(query).df(), expected.sql(query).df())
        assert migrated.sql("select value from settings where key like 'attributes%'").fetchall() \
            == []  # fmt: skip
    with db.connect(old) as con:
        got = compare_cohorts(
            con, _spec(YEARS[0], class_type="small"), _spec(YEARS[0], class_type="regular"),
            DISTRICT,
        )  # fmt: skip
    truth = _welch_rows(fresh).set_index("school_year").loc[YEARS[0]]
    assert got.iloc[0]["diff"] == pytest.approx(truth["diff"], abs=1e-12)


def test_without_kept_files_the_old_value_stands_for_every_year_and_home_says_so(
    raw: pd.DataFrame, warehouses: dict[str, Path], tmp_path: Path
) -> None:
    from core.catalog.overview import warehouse_summary

    old = _copy(warehouses["natural"], tmp_path / "old", with_raw=False)
    _downgrade(old, raw)
    last = raw.groupby("student_id")["class_type"].last()
    record_years = raw[["student_id", "school_year"]].drop_duplicates()
    with db.connect(old) as con:
        stored = con.sql(
            "select student_id, school_year, value from student_attributes order by 1, 2"
        ).df()
        notice = warehouse_summary(con, DISTRICT).notice
    expected = record_years.assign(value=record_years["student_id"].map(last))
    expected = expected.sort_values(["student_id", "school_year"], ignore_index=True)
    assert stored.values.tolist() == expected.values.tolist()
    assert notice is not None and "import those files again" in notice
    roster = _roster(tmp_path / "roster_2025-03-01.csv", [["S0001", "Elm School", "3", "N"]],
                     ["student_id", "school", "grade", "ELL"])  # fmt: skip
    assert import_file(roster, db=old, origin="cli").status == "completed"
    with db.connect(old) as con:
        assert warehouse_summary(con, DISTRICT).notice is None  # said until the next import


def test_the_upload_page_says_which_year_a_roster_went_to(db_path: Path) -> None:
    from core.access.scope import Scope
    from tests.conftest import run_page

    app = run_page("app_pages/upload.py", Scope(username="ada", role="district_admin"))
    roster = b"student_id,school,grade,ELL\n1,Elm,3,Y\n"
    app.file_uploader(key="upload:files").set_value(
        ("roster_20250301.csv", roster, "text/csv")
    ).run()
    app.button[-1].click().run()  # Import
    assert not app.exception
    shown = " ".join(str(c.value) for c in app.caption)
    assert "recorded for school year 2024-2025" in shown
    assert "the date in the file name (2025-03-01)" in shown


def test_a_roster_row_without_its_date_takes_the_files_year(db_path: Path, tmp_path: Path) -> None:
    path = _roster(tmp_path / "roster_2025-03-01.csv",
                   [["1", "Elm", "3", "Y", "2023-10-01"], ["2", "Elm", "3", "N", ""]],
                   ["student_id", "school", "grade", "ELL", "As Of Date"])  # fmt: skip
    summary = import_file(path, db=db_path, origin="cli")
    assert (summary.inserted, summary.rejected) == (2, 0), summary.message
    assert summary.added["attributes_year_from"] == "date_column"
    assert (
        "rows without one: the school year of the date in the file name (2025-03-01)"
        in (summary.added["attributes_year_reason"])
    )
    with db.connect(db_path) as con:
        years = con.sql("select student_id, school_year from student_years order by 1").fetchall()
    assert years == [("1", "2023-2024"), ("2", "2024-2025")]
