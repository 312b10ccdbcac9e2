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

from core import cli, db, norms, standards
from core.cohorts import CohortSpec
from core.growth import matched_growth, student_growth
from core.ingest import import_file
from core.narrative import narrative_for
from core.report_data import build_report
from core.report_pdf import render_pdf
from core.scope import DISTRICT
from core.watch_list import watch_list
from tests.standards.test_scale import SCHOOL, YEAR, _norm, scores_file

REL = 1e-9
COHORT = {"school_year": YEAR, "schools": [SCHOOL], "grade": "K", "subject": "math"}
NORM_FREE = ("expected_growth", "pct_meeting", "p_vs_expected", "mean_z_from", "mean_z_to",
             "z_change", "p_z", "pct_of_mean_from", "pct_of_mean_to")  # fmt: skip


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
    assert standards.OFF_SCALE_SD is norms.OFF_SCALE_SD
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
    code = cli.main(["growth", "--db", str(path), "--cohort", json.dumps(COHORT),
                     "--from", "fall", "--to", "spring", "--json"])  # fmt: skip
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
        students = student_growth(con, CohortSpec.from_dict(COHORT), DISTRICT,
                                  ("fall", YEAR), ("spring", YEAR))  # fmt: skip
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
    pdf = re.sub(r"\s+", " ", "\n".join(
        p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(report))).pages
    ))  # fmt: skip
    text = re.sub(r"\s+", " ", story.text())
    # nothing to celebrate from a norm: only the "no result stands out" line is left
    assert len(story.celebrate) == 1
    assert story.celebrate[0].startswith(("No result stands out", "Nothing is clearly ahead"))
    assert "rose by" in text  # the growth in points is still reported
    for written in (text, pdf):
        for claim in ("expected growth over that span", "than the expected",
                      "than expected", "of students met it", "above the national norm",
                      "below the national norm", "in line with the national norm",
                      "standard deviations"):  # fmt: skip
            assert claim not in written, claim
    assert "not compared with the national norm" in pdf
