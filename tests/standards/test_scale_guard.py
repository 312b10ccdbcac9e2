"""Issue 15 §2, the plausibility guard beyond the standards table: a file declared MAP Growth
whose scores lie mostly off the norm's range gets no norm number anywhere a norm is used —
growth (core and CLI JSON), the watch list, narratives and the PDF — while a real-looking MAP
file keeps exactly its numbers.

Every warehouse is filled through the real import pipeline from a CSV the test writes (the
fixtures of test_scale.py); every expected number comes from those raw rows with pandas / scipy
and the norms file itself."""

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
from core.alerts.watch_list import watch_list
from core.cohorts.spec import CohortSpec
from core.compare.between_cohorts import all_proficiency_changes, yearly_trend
from core.compare.growth import growth_trajectory, matched_growth, student_growth
from core.compare.subgroups import subgroup_gaps
from core.ingest import import_file
from core.narrate.store import narrative_for
from core.report.data import build_report
from core.report.pdf import render_pdf
from core.standards import norms, standing
from core.standards.detail import score_distribution
from core.warehouse import db
from tests.standards.test_scale import SCHOOL, YEAR, _norm, scores_file

REL = 1e-9
COHORT = {"school_year": YEAR, "schools": [SCHOOL], "grade": "K", "subject": "math"}
NORM_FREE = (
    "expected_growth",
    "pct_meeting",
    "p_vs_expected",
    "mean_z_from",
    "mean_z_to",
    "z_change",
    "p_z",
    "pct_of_mean_from",
    "pct_of_mean_to",
)


def _declared_map(tmp_path, db_path, centre: dict[str, float], sd: float) -> pd.DataFrame:
    raw = scores_file(tmp_path / "scores.csv", centre=centre, sd=sd)
    job = import_file(tmp_path / "scores.csv", db=db_path, origin="cli", platform="nwea_map")
    assert job.status == "completed" and job.inserted == len(raw)
    return raw


@pytest.fixture
def off_scale(tmp_path, db_path):
    """The other-scale file of test_scale.py (K means ~485 / 512), declared MAP Growth."""
    return db_path, _declared_map(tmp_path, db_path, {"fall": 485.0, "spring": 512.0}, 30.0)


@pytest.fixture
def real_map(tmp_path, db_path):
    """A real-looking MAP file: K math around the norm means, with the norm's sd."""
    (fall, _), (spring, sd) = _norm("fall"), _norm("spring")
    return db_path, _declared_map(tmp_path, db_path, {"fall": fall, "spring": spring - 2}, sd)


def _wide(raw: pd.DataFrame, column: str = "score") -> pd.DataFrame:
    return raw.pivot(index="student_id", columns="season", values=column)


def _share_off(scores: pd.Series, season: str) -> float:
    """pandas: the share of scores beyond the K math norm mean ± 3 norm sds of `season`."""
    mean, sd = _norm(season)
    return float(((scores - mean).abs() > 3 * sd).mean())


def _growth(path) -> pd.Series:
    with db.connect(path) as con:
        spec = CohortSpec.from_dict(COHORT)
        return matched_growth(con, spec, DISTRICT, ("fall", YEAR), ("spring", YEAR)).iloc[0]


def test_the_guard_has_one_definition() -> None:
    # the standards table reads the rule where norms are looked up: no second copy
    assert standing.OFF_SCALE_SD is norms.OFF_SCALE_SD
    shares = pd.Series([0.0, 0.5, 0.51, 1.0, np.nan])
    assert norms.off_scale(shares).tolist() == [False, False, True, True, False]


def test_growth_of_an_off_scale_file_has_no_norm_number(off_scale) -> None:
    path, raw = off_scale
    row = _growth(path)
    wide = _wide(raw)
    test = sps.ttest_rel(wide["spring"], wide["fall"])  # scipy: paired t on the raw rows
    assert _share_off(wide["fall"], "fall") == 1.0 and _share_off(wide["spring"], "spring") == 1.0
    assert row["n"] == len(wide)
    assert row["mean_change"] == pytest.approx((wide["spring"] - wide["fall"]).mean(), rel=REL)
    assert row["t"] == pytest.approx(test.statistic, rel=1e-7)
    assert row["p"] == pytest.approx(test.pvalue, rel=1e-6)
    pct = _wide(raw, "percentile")  # the vendor's percentiles stay (no norm needed)
    assert row["mean_pct_to"] == pytest.approx(pct["spring"].mean(), rel=REL)
    for column in NORM_FREE:
        assert np.isnan(row[column]), column
    assert row["expected_source"] is None or pd.isna(row["expected_source"])
    assert row["note"].startswith(
        "not compared with the national norm at the earlier and later tests: "
        "100% (earlier) and 100% (later) of those scores"
    )
    assert "Standards & norms" in row["note"]


def test_cli_growth_json_of_an_off_scale_file(off_scale, capsys) -> None:
    path, raw = off_scale
    code = cli.main(
        [
            "growth",
            "--db",
            str(path),
            "--cohort",
            json.dumps(COHORT),
            "--from",
            "fall",
            "--to",
            "spring",
            "--json",
        ]
    )
    record = json.loads(capsys.readouterr().out)
    wide = _wide(raw)
    assert code == 0 and record["n"] == len(wide)
    assert record["mean_change"] == pytest.approx((wide["spring"] - wide["fall"]).mean(), rel=REL)
    assert record["expected_growth"] is None and record["pct_meeting"] is None
    assert record["expected_source"] is None and record["p_vs_expected"] is None
    assert record["percentile_of_mean"] == {"from": None, "to": None}
    assert record["vs_norm"] == {"z_from": None, "z_to": None, "z_change": None, "p": None}
    assert record["note"].startswith("not compared with the national norm")


def test_one_end_off_scale_keeps_the_other_ends_standing(tmp_path, db_path) -> None:
    fall_mean, fall_sd = _norm("fall")
    raw = _declared_map(tmp_path, db_path, {"fall": fall_mean, "spring": 512.0}, fall_sd)
    row = _growth(db_path)
    wide = _wide(raw)
    assert _share_off(wide["fall"], "fall") < 0.5 and _share_off(wide["spring"], "spring") == 1
    z_from = (wide["fall"] - fall_mean) / fall_sd  # pandas: own-grade z at the earlier test
    assert row["mean_z_from"] == pytest.approx(z_from.mean(), rel=REL)
    assert row["pct_of_mean_from"] == pytest.approx(100 * sps.norm.cdf(z_from.mean()), rel=REL)
    for column in ("mean_z_to", "pct_of_mean_to", "z_change", "expected_growth", "pct_meeting"):
        assert np.isnan(row[column]), column
    assert row["note"].startswith("not compared with the national norm at the later test: 100%")


def test_growth_of_a_real_looking_map_file_keeps_its_numbers(real_map) -> None:
    path, raw = real_map
    row = _growth(path)
    wide = _wide(raw)
    (fall_mean, fall_sd), (spring_mean, spring_sd) = _norm("fall"), _norm("spring")
    change = wide["spring"] - wide["fall"]
    expected = spring_mean - fall_mean  # no growth norm for 2020: the norm means' difference
    z_from = (wide["fall"] - fall_mean) / fall_sd
    z_to = (wide["spring"] - spring_mean) / spring_sd
    assert _share_off(wide["spring"], "spring") < 0.5
    assert row["note"] == ""
    assert row["expected_growth"] == pytest.approx(expected, rel=REL)
    assert row["pct_meeting"] == pytest.approx(100 * (change >= expected).mean(), rel=REL)
    beyond = sps.ttest_1samp(change - expected, 0.0)  # scipy: change against expected growth
    assert row["p_vs_expected"] == pytest.approx(beyond.pvalue, rel=1e-6)
    assert row["mean_z_from"] == pytest.approx(z_from.mean(), rel=REL)
    assert row["mean_z_to"] == pytest.approx(z_to.mean(), rel=REL)
    assert row["pct_of_mean_to"] == pytest.approx(100 * sps.norm.cdf(z_to.mean()), rel=REL)
    assert row["p_z"] == pytest.approx(sps.ttest_rel(z_to, z_from).pvalue, rel=1e-6)
    with db.connect(path) as con:  # each student's expected growth, as the watch list reads it
        students = student_growth(
            con, CohortSpec.from_dict(COHORT), DISTRICT, ("fall", YEAR), ("spring", YEAR)
        )
    assert students["expected"].to_numpy() == pytest.approx(np.full(len(wide), expected))


def _watch(path):
    with db.connect(path) as con:
        return watch_list(con, CohortSpec.from_dict(COHORT), DISTRICT)


def test_the_watch_list_takes_no_reason_from_an_implausible_norm(off_scale) -> None:
    path, raw = off_scale
    found = _watch(path).students.set_index("student_id")
    spring = raw[raw.season == "spring"].set_index("student_id")
    # no norm: "below the 25th" falls back to the vendor's percentile (pandas on the raw rows)
    assert set(found.index[found["below_25th"]]) == set(spring.index[spring["percentile"] < 25])
    assert (found["percentile"] == spring.loc[found.index, "percentile"]).all()
    assert not found["low_growth"].any() and found["expected_growth"].isna().all()
    assert not found["reasons"].str.contains("expected").any()


def test_the_watch_list_of_a_real_looking_map_file_uses_the_norm(real_map) -> None:
    path, raw = real_map
    found = _watch(path).students.set_index("student_id")
    mean, sd = _norm("spring")
    spring = raw[raw.season == "spring"].set_index("student_id")["score"]
    p25 = mean + sd * sps.norm.ppf(0.25)  # scipy: the norm's 25th-percentile score
    assert set(found.index[found["below_25th"]]) == set(spring.index[spring < p25])
    wide = _wide(raw)
    low = (wide["spring"] - wide["fall"]) < 0.5 * (mean - _norm("fall")[0])
    assert set(found.index[found["low_growth"]]) == set(wide.index[low])


def test_narrative_and_pdf_make_no_norm_claim(off_scale) -> None:
    path, _ = off_scale
    spec = CohortSpec.from_dict({"name": "Adams K", **COHORT})
    with db.connect(path) as con:
        story = narrative_for(con, spec, DISTRICT, use_model=False)
        report = build_report(con, [spec], DISTRICT, use_model=False)
    pdf = re.sub(
        r"\s+",
        " ",
        "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(report))).pages),
    )
    text = re.sub(r"\s+", " ", story.text())
    # nothing to celebrate from a norm: only the "no result stands out" line is left
    assert len(story.celebrate) == 1
    assert story.celebrate[0].startswith(("No result stands out", "Nothing is clearly ahead"))
    assert "rose by" in text  # the growth in points is still reported
    for written in (text, pdf):
        for claim in (
            "expected growth over that span",
            "than the expected",
            "than expected",
            "of students met it",
            "above the national norm",
            "below the national norm",
            "in line with the national norm",
            "standard deviations",
        ):
            assert claim not in written, claim
    assert "not compared with the national norm" in pdf


EARLIER = "2023-2024"


def _two_years(tmp_path, db_path, centre: dict[str, float], sd: float) -> pd.DataFrame:
    """The same kind of file over two school years (other students each year), with an ELL
    column every third student, declared MAP Growth; returns the raw rows."""
    parts = []
    for year, seed in ((EARLIER, 5), (YEAR, 3)):
        frame = scores_file(tmp_path / "part.csv", centre=centre, sd=sd, seed=seed)
        number = frame["student_id"].str[1:].astype(int)
        parts.append(
            frame.assign(
                school_year=year,
                student_id=year[:4] + frame["student_id"],
                ell=np.where(number % 3 == 0, "Y", "N"),
            )
        )
    raw = pd.concat(parts, ignore_index=True)
    raw.to_csv(tmp_path / "years.csv", index=False)
    job = import_file(tmp_path / "years.csv", db=db_path, origin="cli", platform="nwea_map")
    assert job.status == "completed" and job.inserted == len(raw)
    return raw


def _proficiency_and_references(path) -> tuple[pd.DataFrame, ...]:
    spec = CohortSpec.from_dict({"schools": [SCHOOL], "grade": "K", "subject": "math"})
    with db.connect(path) as con:
        changes = all_proficiency_changes(con, DISTRICT, school_years=[YEAR])
        changes = changes[changes["school"] == SCHOOL].set_index("season")
        gaps = subgroup_gaps(con, spec.replace(school_year=(YEAR,)), DISTRICT)
        ell = (gaps["attribute"] == "ell") & (gaps["value"] == "yes")
        gaps = gaps[ell & (gaps["school_year"] == YEAR)].set_index("season")
        trend = yearly_trend(con, spec, DISTRICT).set_index(["school_year", "season"])
        path_ = growth_trajectory(
            con, spec.replace(school_year=(YEAR,)), DISTRICT, [("fall", YEAR), ("spring", YEAR)]
        )
    return changes, gaps, trend, path_.set_index("season")


def test_no_proficiency_or_norm_line_from_an_implausible_norm(tmp_path, db_path) -> None:
    raw = _two_years(tmp_path, db_path, {"fall": 485.0, "spring": 512.0}, 30.0)
    changes, gaps, trend, trajectory = _proficiency_and_references(db_path)
    assert _share_off(raw["score"][raw.season == "spring"], "spring") == 1.0
    # % proficient is judged against the norm mean here (no cut scores): not on this scale
    assert changes[["pct_a", "pct_b", "change", "p"]].isna().all().all()
    assert gaps[["pct_prof_sub", "pct_prof_rest", "prof_gap"]].isna().all().all()
    assert trend["norm_mean"].isna().all() and trajectory["norm_mean"].isna().all()
    # the means themselves stay (pandas on the raw rows)
    spring = raw[(raw.school_year == YEAR) & (raw.season == "spring")]["score"]
    assert trend.loc[(YEAR, "spring"), "mean"] == pytest.approx(spring.mean(), rel=REL)


def test_proficiency_and_norm_line_of_a_real_looking_map_file(tmp_path, db_path) -> None:
    (fall, _), (spring, sd) = _norm("fall"), _norm("spring")
    raw = _two_years(tmp_path, db_path, {"fall": fall, "spring": spring - 2}, sd)
    changes, gaps, trend, trajectory = _proficiency_and_references(db_path)
    for season, mean in (("fall", fall), ("spring", spring)):
        rows = raw[raw.season == season]
        now, then = (rows[rows.school_year == y]["score"] for y in (YEAR, EARLIER))
        # pandas: % at or above the norm mean (the threshold without cut scores)
        assert changes.loc[season, "pct_a"] == pytest.approx(100 * (now >= mean).mean(), rel=REL)
        assert changes.loc[season, "pct_b"] == pytest.approx(100 * (then >= mean).mean(), rel=REL)
        ell = rows[(rows.school_year == YEAR) & (rows.ell == "Y")]["score"]
        assert gaps.loc[season, "pct_prof_sub"] == pytest.approx(100 * (ell >= mean).mean())
        assert trend.loc[(YEAR, season), "norm_mean"] == pytest.approx(mean, rel=REL)
        assert trajectory.loc[season, "norm_mean"] == pytest.approx(mean, rel=REL)


@pytest.mark.parametrize("kind", ["off_scale", "real_map"])
def test_no_norm_curve_beside_an_implausible_distribution(kind, request) -> None:
    path, raw = request.getfixturevalue(kind)
    with db.connect(path) as con:
        spec = CohortSpec.from_dict({**COHORT, "season": "spring"})
        shown = score_distribution(con, spec, DISTRICT)
    scores = raw[raw.season == "spring"]["score"]
    if kind == "off_scale":
        assert _share_off(scores, "spring") > 0.5
        # no curve, and the bars are not stretched toward the norm's range
        assert shown.curve.empty
        assert shown.bins["bin_start"].min() == 5 * np.floor(scores.min() / 5)
    else:
        mean, sd = _norm("spring")
        assert shown.curve["score"].min() == pytest.approx(mean - 3 * sd, rel=REL)
