"""Issue 15 §2: a norm applies only to the scale it was made for.

Every warehouse here is filled through the real import pipeline from a CSV written by the test
(generic long format), and every expected number is computed from those raw rows with pandas /
scipy. A file on another scale (kindergarten mean ~485) must get no norm verdict anywhere; the
same file declared MAP Growth fails the plausibility guard; a real-looking MAP file is compared
exactly as before."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pandas as pd
import pytest
import scipy.stats as sps
from pypdf import PdfReader

from core import cli
from core.access.scope import DISTRICT
from core.cohorts.spec import CohortSpec
from core.compare.growth import matched_growth
from core.ingest import import_file, preview
from core.narrate.store import narrative_for
from core.report.data import build_report
from core.report.pdf import render_pdf
from core.standards.for_compare import NO_SCALE_NOTE
from core.standards.norms import NORMS_DIR, read_norms_file
from core.standards.standing import OFF_SCALE_SD, cohort_vs_norm
from core.warehouse import db

YEAR = "2024-2025"
SCHOOL = "Adams Elementary"
SPRING = {"school_year": YEAR, "schools": [SCHOOL], "grade": "K", "subject": "math",
          "season": "spring"}  # fmt: skip
REL = 1e-9


def _norm(season: str) -> tuple[float, float]:
    _, frame = read_norms_file(NORMS_DIR / "nwea_2020_student.csv")
    row = frame[(frame.subject == "math") & (frame.grade == "K") & (frame.season == season)]
    return float(row["mean"].iloc[0]), float(row["sd"].iloc[0])


def scores_file(path, *, centre: dict[str, float], sd: float, n: int = 40, seed: int = 3):
    """A generic long-format CSV (no platform column): n kindergartners, math, fall and spring,
    with a vendor percentile; returns the raw rows."""
    rng = np.random.default_rng(seed)
    rows = [
        {"student_id": f"A{i:03d}", "school": SCHOOL, "grade": "K", "school_year": YEAR,
         "season": season, "subject": "math", "score": round(centre[season] + sd * rng.normal(), 1),
         "percentile": int(rng.integers(1, 100))}
        for i in range(n) for season in ("fall", "spring")
    ]  # fmt: skip
    frame = pd.DataFrame(rows)
    frame.to_csv(path, index=False)
    return frame


@pytest.fixture
def other_scale(tmp_path, db_path):
    """A file on another test's scale (mean ~485 in K), imported without saying which test."""
    raw = scores_file(tmp_path / "other.csv", centre={"fall": 485.0, "spring": 512.0}, sd=30.0)
    job = import_file(tmp_path / "other.csv", db=db_path, origin="cli")
    assert job.status == "completed" and job.inserted == len(raw)
    return db_path, raw, tmp_path / "other.csv"


def _spring(raw: pd.DataFrame) -> pd.Series:
    return raw[raw.season == "spring"]["score"]


def test_an_undeclared_file_is_stored_as_unknown_and_gets_no_norm(other_scale) -> None:
    path, raw, _ = other_scale
    with db.connect(path) as con:
        assert con.execute("select distinct platform from assessments").fetchall() == [("generic",)]
        row = cohort_vs_norm(con, CohortSpec.from_dict(SPRING), DISTRICT).iloc[0]
    x = _spring(raw)
    # pandas on the raw rows: the cohort's own statistics stay
    assert row["n"] == len(x)
    assert row["mean"] == pytest.approx(x.mean(), rel=REL)
    assert row["sd"] == pytest.approx(x.std(ddof=1), rel=REL)
    assert row["median"] == pytest.approx(x.median(), rel=REL)
    assert row["mean_percentile"] == pytest.approx(raw[raw.season == "spring"].percentile.mean())
    # …and nothing that needs the norm
    for column in ("norm_mean", "diff", "t", "p", "effect_size", "pct_at_or_above_norm",
                   "percentile_of_mean"):  # fmt: skip
        assert np.isnan(row[column]), column
    assert row["category"] is None and row["norm_source"] is None
    assert row["note"].startswith("no national norm for this test's scale")
    assert "Standards & norms" in row["note"] and "--platform nwea_map" in row["note"]
    # an undeclared test's percentiles are not called national (issue 15 wording review)
    assert row["percentile_source"] == "percentile (test not declared)"


def test_cli_standards_exits_0_with_own_statistics_and_null_verdict(other_scale, capsys):
    path, raw, _ = other_scale
    code = cli.main(["standards", "--db", str(path), "--cohort", json.dumps(SPRING), "--json"])
    record = json.loads(capsys.readouterr().out)
    x = _spring(raw)
    assert code == 0
    assert record["n"] == len(x) and record["mean"] == pytest.approx(x.mean(), rel=REL)
    assert record["sd"] == pytest.approx(x.std(ddof=1), rel=REL)
    assert record["median"] == pytest.approx(x.median(), rel=REL)
    assert record["category"] is None
    assert record["norm"] == {"source": None, "mean": None, "sd": None}
    assert record["diff"] is None and record["t"] is None and record["p"] is None
    assert record["percentile_of_mean"] is None  # a norm percentile needs the norm
    assert record["note"].startswith("no national norm for this test's scale")


def test_growth_has_no_expected_growth_but_tests_the_change(other_scale) -> None:
    path, raw, _ = other_scale
    spec = CohortSpec.from_dict({k: v for k, v in SPRING.items() if k != "season"})
    with db.connect(path) as con:
        row = matched_growth(con, spec, DISTRICT, ("fall", YEAR), ("spring", YEAR)).iloc[0]
    wide = raw.pivot(index="student_id", columns="season", values="score")
    change = wide["spring"] - wide["fall"]
    test = sps.ttest_rel(wide["spring"], wide["fall"])  # scipy: paired t on the raw rows
    assert row["n"] == len(change)
    assert row["mean_change"] == pytest.approx(change.mean(), rel=REL)
    assert row["t"] == pytest.approx(test.statistic, rel=1e-7)
    assert np.isnan(row["expected_growth"]) and np.isnan(row["pct_meeting"])
    assert row["note"] == NO_SCALE_NOTE


def test_narrative_and_pdf_give_no_norm_verdict(other_scale) -> None:
    path, _, _ = other_scale
    spec = CohortSpec.from_dict({"name": "Adams K", "school_year": YEAR, "schools": [SCHOOL],
                                 "grade": "K"})  # fmt: skip
    with db.connect(path) as con:
        text = narrative_for(con, spec, DISTRICT, use_model=False).text()
        report = build_report(con, [spec], DISTRICT, use_model=False)
    pdf = re.sub(r"\s+", " ", "\n".join(
        p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(report))).pages
    ))  # fmt: skip
    for written in (text, pdf):
        flat = re.sub(r"\s+", " ", written)
        assert "no national norm for this test's scale" in flat
        for verdict in ("above the national norm", "below the national norm",
                        "in line with the national norm", "standard deviations"):  # fmt: skip
            assert verdict not in flat
    assert "Compared against: none applied" in pdf


def _guard_share(raw: pd.DataFrame) -> float:
    """pandas: the share of spring scores beyond the K math spring norm mean ± 3 sd."""
    mean, sd = _norm("spring")
    return float(((_spring(raw) - mean).abs() > OFF_SCALE_SD * sd).mean())


def test_declared_map_but_implausible_scores_are_not_compared(tmp_path, db_path, capsys):
    raw = scores_file(tmp_path / "other.csv", centre={"fall": 485.0, "spring": 512.0}, sd=30.0)
    code = cli.main(["import", "--db", str(db_path), str(tmp_path / "other.csv"),
                     "--platform", "nwea_map", "--json"])  # fmt: skip
    assert code == 0 and json.loads(capsys.readouterr().out)["inserted"] == len(raw)
    with db.connect(db_path) as con:
        assert con.execute("select distinct platform from assessments").fetchall() == [
            ("nwea_map",)
        ]
        row = cohort_vs_norm(con, CohortSpec.from_dict(SPRING), DISTRICT).iloc[0]
    assert _guard_share(raw) == 1.0
    assert row["n"] == 40 and row["mean"] == pytest.approx(_spring(raw).mean(), rel=REL)
    assert row["category"] is None and np.isnan(row["t"]) and np.isnan(row["norm_mean"])
    assert row["note"].startswith("not compared with the national norm: 100% of these scores")


def test_importing_the_same_file_again_as_map_redeclares_it(other_scale, capsys) -> None:
    path, raw, csv = other_scale
    code = cli.main(["import", "--db", str(path), str(csv), "--platform", "nwea_map", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["inserted"] == 0
    assert f"Its {len(raw)} scores are now declared MAP Growth" in doc["message"]
    with db.connect(path) as con:
        platforms = con.execute("select platform, count(*) from assessments group by 1").fetchall()
        row = cohort_vs_norm(con, CohortSpec.from_dict(SPRING), DISTRICT).iloc[0]
    assert platforms == [("nwea_map", len(raw))]
    assert row["note"].startswith("not compared with the national norm")  # the guard still holds


def test_a_real_looking_map_file_is_compared_exactly_as_before(tmp_path, db_path) -> None:
    (fall_mean, _), (mean, sd) = _norm("fall"), _norm("spring")
    raw = scores_file(tmp_path / "map.csv", centre={"fall": fall_mean, "spring": mean + 4},
                      sd=sd)  # fmt: skip
    job = import_file(tmp_path / "map.csv", db=db_path, origin="cli", platform="nwea_map")
    assert job.status == "completed"
    with db.connect(db_path) as con:
        row = cohort_vs_norm(con, CohortSpec.from_dict(SPRING), DISTRICT).iloc[0]
    x = _spring(raw)
    test = sps.ttest_1samp(x, mean)  # scipy on the raw spring scores against the norm mean
    assert _guard_share(raw) < 0.5
    assert row["t"] == pytest.approx(test.statistic, rel=REL)
    assert row["p"] == pytest.approx(test.pvalue, rel=1e-7)
    assert row["effect_size"] == pytest.approx((x.mean() - mean) / sd, rel=REL)
    assert row["pct_at_or_above_norm"] == pytest.approx((x >= mean).mean(), rel=REL)
    assert row["norm_source"] == "NWEA MAP Growth 2020 student achievement norms"
    assert row["category"] in ("Above", "At") and row["note"] == ""
    assert row["percentile_source"] == "national percentile (MAP Growth)"


def test_the_upload_preview_offers_the_choice_and_vendor_files_refuse_it(tmp_path) -> None:
    scores_file(tmp_path / "g.csv", centre={"fall": 480.0, "spring": 500.0}, sd=20.0, n=3)
    seen = preview(tmp_path / "g.csv")
    assert seen.declarable and seen.platform == "generic"
    nwea = tmp_path / "cdf.csv"
    nwea.write_text(
        "StudentID,SchoolName,Grade,TermName,Discipline,TestRITScore\n"
        "s1,Adams Elementary,K,Spring 2024-2025,Mathematics,160\n"
    )
    assert not preview(nwea).declarable
    job = import_file(nwea, db=tmp_path / "w" / "y.duckdb", origin="cli", platform="star")
    assert job.status == "failed" and "a declared test applies to generic" in job.message
