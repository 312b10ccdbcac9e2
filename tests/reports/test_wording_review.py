"""Issue 15 wording review: what a principal reads in the PDF, the workbook, the narrative and
the Standards page, on rows the norm does not judge and on rows the correction overturns.

Two warehouses: a generic long file on another scale (kindergarten mean ~485, imported without
saying which test: every row "not compared"), and the seeded district, whose 2024-2025 grade 4
reading fall at Lincoln has p < 0.05 on its own but not after the Benjamini–Hochberg correction
over its family. Expected numbers come from pandas / scipy on the raw rows."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import scipy.stats as sps
from pypdf import PdfReader

from core.access.scope import DISTRICT, Scope
from core.cohorts.spec import CohortSpec
from core.ingest import import_file
from core.narrate.inputs import YearComparison
from core.narrate.store import narrative_for
from core.narrate.text import Phrasing, num
from core.narrate.text import prior_sentence as narrative_prior_sentence
from core.report.data import build_report, prior_table, standards_table
from core.report.pdf import cell_text, render_pdf
from core.report.xlsx import render_xlsx
from core.standards.detail import verdict
from core.standards.standing import cohort_vs_norm
from core.warehouse import db
from core.words.comparisons import prior_sentence as compare_prior_sentence
from core.words.numbers import fixed, signed
from tests.conftest import run_page, serve_warehouse
from tests.standards.test_scale import SCHOOL, YEAR, scores_file

NOTE = "no national norm for this test's scale"
OTHER = {"name": "Adams K", "school_year": YEAR, "schools": [SCHOOL], "grade": "K"}
LONE = {
    "school_year": "2024-2025",
    "schools": ["Lincoln Elementary"],
    "grade": "4",
    "subject": "reading",
}


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _pdf_text(report) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(report))).pages)


@pytest.fixture
def other_scale(tmp_path, db_path):
    """The generic file of tests/standards/test_scale.py, imported without --platform."""
    raw = scores_file(tmp_path / "other.csv", centre={"fall": 485.0, "spring": 512.0}, sd=30.0)
    job = import_file(tmp_path / "other.csv", db=db_path, origin="cli")
    assert job.status == "completed" and job.inserted == len(raw)
    return db_path, raw


@pytest.fixture
def other_report(other_scale):
    path, raw = other_scale
    with db.connect(path) as con:
        report = build_report(con, [CohortSpec.from_dict(OTHER)], DISTRICT, use_model=False)
    return report, raw


def test_untested_rows_never_read_not_holding_in_pdf_or_workbook(other_report) -> None:
    report, raw = other_report
    lines = _pdf_text(report).splitlines()
    rows = [line for line in lines if re.match(r"math (fall|spring) 40 ", line)]
    assert len(rows) == 2
    for line in rows:
        season = line.split()[1]
        x = raw[raw.season == season]["score"]  # pandas on the raw rows
        # Subject Season Students Mean SD Median, then six norm columns and the verdict: all "–"
        assert line.split()[3:6] == [fixed(x.mean()), fixed(x.std(ddof=1)), fixed(x.median())]
        assert line.split()[6:] == ["–"] * 6, line  # never "no" in "Holds after correction"
    sheet = pd.read_excel(io.BytesIO(render_xlsx(report)), sheet_name="Against the norm")
    assert sheet["Holds after correction"].isna().all()  # blank cells, not "no" / FALSE


def test_the_no_norm_note_is_said_once_and_findings_stay_short(other_report) -> None:
    report, raw = other_report
    story = report.sections[0].narrative
    assert _flat(story.text()).count(NOTE) == 1
    assert not any(NOTE in item for item in story.key_findings)
    assert sum(NOTE in item for item in story.caveats) == 1
    means = {s: raw[raw.season == s]["score"].mean() for s in ("fall", "spring")}
    short = [item for item in story.key_findings if "not compared with a national norm" in item]
    assert short == [
        f"Math: the average score was {num(means['fall'])} in fall (40 students) and "
        f"{num(means['spring'])} in spring (40 students) — not compared with a national norm; "
        "why, and what to do, is under “About these numbers”."
    ]
    pdf = _flat(_pdf_text(report))
    assert pdf.count(NOTE) == 2  # the narrative's caveat, and the table's note: not per season


def test_an_undeclared_tests_percentiles_are_not_called_national(other_scale, monkeypatch):
    path, raw = other_scale
    with db.connect(path) as con:
        rows = cohort_vs_norm(con, CohortSpec.from_dict(OTHER), DISTRICT)
    assert set(rows["percentile_source"]) == {"percentile (test not declared)"}
    serve_warehouse(path, monkeypatch)
    app = run_page("app_pages/standards.py", Scope(username="ada", role="district_admin"))
    assert not app.exception
    table = app.dataframe[0].value
    assert len(table) == 2 and table["category"].isna().all()
    # the page's table: blank where no test was made, never False ("does not hold")
    assert table["significant_bh"].isna().all()
    expected = raw.groupby("season")["percentile"].mean()  # pandas on the raw rows
    for row in table.to_dict("records"):
        assert row["mean_percentile"] == pytest.approx(expected[row["season"]])
    verdicts = [m.value for m in app.markdown if m.value.startswith("- Grade")]
    assert len(verdicts) == 2 and all(NOTE in v for v in verdicts)


def test_one_rounding_for_the_same_mean_on_every_path() -> None:
    # the two sums of one mean seen in a report (narrative path vs table path)
    low, high = 484.64999999999, 484.65000002
    assert fixed(low) == fixed(high) == "484.7"
    assert num(low) == num(high) == cell_text(low, "Mean") == cell_text(high, "Mean") == "484.7"
    assert fixed(-2.25) == "-2.3" and fixed(-0.04) == "0.0" and signed(-0.04) == "+0.0"
    assert fixed(1234.55, commas=True) == "1,234.6" and fixed(0.125, 2) == "0.13"


def test_a_difference_the_correction_overturns_is_explained(warehouse) -> None:
    spec = CohortSpec.from_dict(LONE)
    rows = cohort_vs_norm(warehouse, spec, DISTRICT)
    fall = rows[rows.season == "fall"].iloc[0]
    scores = warehouse.execute(
        "select a.score from assessments a join schools s using (school_id) where "
        "a.school_year = '2024-2025' and s.name = 'Lincoln Elementary' and a.grade = '4' "
        "and a.subject = 'reading' and a.season = 'fall'"
    ).df()["score"]
    test = sps.ttest_1samp(scores, fall["norm_mean"])  # scipy on the raw rows
    assert fall["p"] == pytest.approx(test.pvalue, rel=1e-9) and test.pvalue < 0.05
    family = cohort_vs_norm(warehouse, CohortSpec.from_dict({"school_year": "2024-2025"}), DISTRICT)
    tested = family.dropna(subset=["p"])
    assert len(tested) == fall["bh_family_size"] == 16
    bh = sps.false_discovery_control(tested["p"].to_numpy())  # scipy's Benjamini–Hochberg
    keys = ["school", "grade", "subject", "season"]
    at = np.flatnonzero((tested[keys] == fall[keys]).all(axis=1).to_numpy())[0]
    assert fall["p_adj"] == pytest.approx(bh[at]) and bh[at] > 0.05
    assert fall["category"] == "At" and not fall["significant_bh"]
    low, high = sps.t.interval(0.95, len(scores) - 1, scores.mean(), sps.sem(scores))
    ci = f"{fixed(low - fall['norm_mean'])} to {fixed(high - fall['norm_mean'])}"

    said = verdict(fall)  # the Standards page's verdict line
    assert f"p = {fall['p']:.3f} before the correction for many comparisons" in said
    assert "after checking 16 results at once, a difference this size could be chance " in said
    assert f"(p = {fall['p_adj']:.3f} after the correction)" in said

    report = build_report(warehouse, [spec], DISTRICT, use_model=False)
    table = standards_table(report.sections[0])
    assert "95% CI low (before correction)" in table
    assert "95% CI low (before correction)" in prior_table(report.sections[0])
    assert table.loc[table.Season == "fall", "Holds after correction"].iat[0] == "no"
    pdf = _flat(_pdf_text(report))
    assert (
        f"reading fall: its 95% CI ({ci}) is before the correction for many comparisons; after "
        "checking 16 results at once, a difference this size could be chance" in pdf
    )
    story = narrative_for(warehouse, spec, DISTRICT, use_model=False).text()
    assert "after checking 16 results at once" in _flat(story).lower()


def test_a_change_from_last_year_the_correction_overturns_is_explained() -> None:
    # a prior-cohort row as core.compare.between_cohorts returns it: its own p under 0.05, not
    # after BH
    row = {
        "subject": "reading",
        "season": "spring",
        "suppressed": False,
        "prior_year": "2023-2024",
        "mean_a": 148.04,
        "mean_b": 153.0,
        "diff": -4.96,
        "ci_lo": -9.24,
        "ci_hi": -0.68,
        "p": 0.0219,
        "p_adj": 0.366,
        "significant_bh": False,
        "bh_family_size": 234,
        "direction": "no change",
        "hedges_g": -0.37,
        "note": "",
    }
    said = compare_prior_sentence(row)
    assert "(-5.0 points, 95% CI -9.2 to -0.7); no clear difference — after checking 234 " in said
    assert "the 95% CI and p = 0.0219 are before the correction for many comparisons" in said
    assert "adjusted p = 0.366 after it" in said
    plain = compare_prior_sentence({**row, "p": 0.21, "ci_hi": 2.1})
    assert "after checking" not in plain and "no clear difference (p = 0.21" in plain
    c = YearComparison(
        subject="reading",
        season="spring",
        school_year="2024-2025",
        prior_year="2023-2024",
        n_a=90,
        mean_a=148.04,
        n_b=88,
        mean_b=153.0,
        diff=-4.96,
        p=0.0219,
        ci95=(-9.24, -0.68),
        hedges_g=-0.37,
        direction="no change",
        significant_bh=False,
        family_size=234,
    )
    story = narrative_prior_sentence(c, Phrasing("seed"))
    assert "after checking 234 results at once, " in story and "could be chance" in story
    assert "after checking" not in narrative_prior_sentence(replace(c, p=0.2), Phrasing("seed"))
