"""Issue 15 §4 on the demo district: Lincoln K reading (spring 2024-25) was "Below" with p = 0.022
asked alone and had p_adj = 0.054 among its year's quick cohorts. Now it has one adjusted p and
one category — from the CLI alone, in the Standards page's table of all quick cohorts and in the
report's data, for the district admin and for Lincoln's principal — equal to Benjamini–Hochberg
(scipy) over every quick cohort of the year computed here from the warehouse's raw scores. And
Home's alerts and the Insights feed read the same fixed families as the CLI's `compare`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats as sps

from core import cli
from core.access.scope import DISTRICT
from core.access.users import add_user, scope_for_username
from core.alerts.detect import current_alerts
from core.cohorts.spec import CohortSpec
from core.demo.district import load_demo
from core.narrate.insights import insight_feed
from core.report.data import build_report
from core.standards.norms import load_norm_set
from core.standards.standing import GROUPABLE, cohort_vs_norm
from core.warehouse import db

YEAR = "2024-2025"
LINCOLN = "Lincoln Elementary"
CELL = {"school_year": YEAR, "schools": [LINCOLN], "grade": "K", "subject": "reading",
        "season": "spring"}  # fmt: skip
KEYS = ["school", "grade", "subject", "season"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo_families") / "yardstick.duckdb"
    load_demo(path)
    with db.connect(path) as con:
        add_user(con, "principal", "school_admin", "Maple-Syrup-Walk-2025", schools=[LINCOLN])
    return path


def _reference(con) -> pd.DataFrame:
    """scipy ttest_1samp(scores, norm mean) of every quick cohort of YEAR (the comparison
    platform of each subject = its most common one; cells under 10 students untested), BH over
    all of them (scipy false_discovery_control)."""
    raw = con.execute(
        "select sc.name as school, a.grade, a.subject, a.season, a.platform, a.score, "
        "a.school_year from assessments a join schools sc using (school_id)"
    ).df()
    counts = raw.groupby(["subject", "platform"]).size().reset_index(name="rows")
    top = counts.sort_values(["subject", "rows", "platform"], ascending=[True, False, True])
    chosen = top.drop_duplicates("subject")[["subject", "platform"]]
    scores = raw[raw["school_year"] == YEAR].merge(chosen, on=["subject", "platform"])
    norms = load_norm_set(con).values.set_index(["subject", "grade", "season"])
    rows = []
    for key, group in scores.groupby(KEYS):
        school, grade, subject, season = key
        if len(group) < 10 or (subject, grade, season) not in norms.index:
            continue
        mu, sigma = norms.loc[(subject, grade, season), ["mean", "sd"]]
        rows.append((*key, sps.ttest_1samp(group["score"], mu).pvalue,
                     (group["score"].mean() - mu) / sigma))  # fmt: skip
    ref = pd.DataFrame(rows, columns=[*KEYS, "p", "effect"])
    ref["p_adj"] = sps.false_discovery_control(ref["p"], method="bh")
    return ref.set_index(KEYS)


def _cli(capsys: pytest.CaptureFixture, *args: str) -> object:
    assert cli.main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def test_lincoln_k_reading_has_one_verdict_everywhere(demo, capsys) -> None:
    with db.connect(demo) as con:
        expected = _reference(con).loc[(LINCOLN, "K", "reading", "spring")]
        principal = scope_for_username(con, "principal")
        quick = CohortSpec.from_dict({k: v for k, v in CELL.items() if k in
                                      ("school_year", "schools", "grade")})  # fmt: skip
        answers = []
        for scope in (DISTRICT, principal):
            page = cohort_vs_norm(con, [CohortSpec(school_year=(YEAR,), name="Quick cohorts")],
                                  scope, by=GROUPABLE)  # fmt: skip
            answers.append(page.set_index(KEYS).loc[(LINCOLN, "K", "reading", "spring")])
            report = build_report(con, [quick], scope, use_model=False, charts=False)
            rows = report.sections[0].standards
            answers.append(rows[(rows.subject == "reading") & (rows.season == "spring")].iloc[0])
    for who in ((), ("--as-user", "principal")):
        alone = _cli(capsys, "standards", "--cohort", json.dumps(CELL), "--json", "--db",
                     str(demo), *who)  # fmt: skip
        answers.append(alone)
    assert expected["p"] == pytest.approx(0.022, abs=5e-4)  # the numbers
    assert expected["p_adj"] == pytest.approx(0.054, abs=5e-4)
    assert expected["effect"] < -0.2
    for answer in answers:
        assert answer["p"] == pytest.approx(expected["p"], rel=1e-9)
        assert answer["p_adj"] == pytest.approx(expected["p_adj"], rel=1e-9)
        assert answer["category"] == "At"  # adjusted p ≥ 0.05: not a finding
        assert answer["bh_family_size"] == 180


def test_alerts_and_insights_read_the_fixed_families(demo, capsys) -> None:
    with db.connect(demo) as con:
        principal = scope_for_username(con, "principal")
        everyone = current_alerts(con, DISTRICT)
        mine = current_alerts(con, principal)
        feed = insight_feed(con, principal)
    at_lincoln = everyone[everyone["spec"].str.contains(LINCOLN)]
    cohort_kinds = ["decline", "improvement", "proficiency drop"]
    theirs = at_lincoln[at_lincoln["kind"].isin(cohort_kinds)]
    ours = mine[mine["kind"].isin(cohort_kinds)]
    assert len(ours) >= 3  # the demo's planted Lincoln decline, every season
    columns = ["kind", "severity", "title", "detail", "spec"]
    pd.testing.assert_frame_equal(
        theirs[columns].sort_values("title").reset_index(drop=True),
        ours[columns].sort_values("title").reset_index(drop=True),
    )
    assert set(ours["title"]) <= set(feed["title"])  # Insights lists them as Home does
    for alert in ours[ours["kind"] != "proficiency drop"].itertuples():
        found = _cli(capsys, "compare", "--a", alert.spec, "--b", "prior", "--json", "--db",
                     str(demo), "--as-user", "principal")  # fmt: skip
        record = found[0] if isinstance(found, list) else found
        assert f"BH-adjusted p {record['p_adj']:.3g}" in alert.detail
        assert record["direction"] == ("decline" if alert.kind == "decline" else "improvement")
        assert "quick cohorts" in record["bh_family"]
