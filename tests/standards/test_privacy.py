"""Suppression and complementary suppression reach every output: the result table, the charts,
the CSV / XLSX exports and the CLI (the brief's example: Grade 3 Lincoln n = 50 and Grade 3
Lincoln ELL = false n = 45 would reveal the 5 ELL students)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from openpyxl import load_workbook

from core import cli
from core.access.scope import DISTRICT
from core.cohorts.spec import CohortSpec
from core.exports.tables import csv_bytes, xlsx_bytes
from core.report.charts.standards import norm_comparison_chart
from core.standards.detail import proficiency_long, score_distribution, verdicts
from core.standards.standing import cohort_vs_norm
from core.warehouse import db, settings
from tests.standards.seed import seed
from tests.standards.test_charts import chart_rows

LINCOLN_3 = {"grade": "3", "schools": ["Lincoln Elementary"], "subject": "math", "season": "spring"}
NOT_ELL = {**LINCOLN_3, "filters": {"ell": False}}


def _specs(*dicts: dict) -> list[CohortSpec]:
    return [CohortSpec.from_dict(d) for d in dicts]


def test_filter_complement_under_minimum_is_suppressed(seeded) -> None:
    con, _ = seeded
    result = cohort_vs_norm(con, _specs(LINCOLN_3, NOT_ELL), DISTRICT)
    whole, not_ell = result.iloc[0], result.iloc[1]
    assert whole["n"] == 50 and not whole["suppressed"]
    assert not_ell["suppressed"] and np.isnan(not_ell["n"]) and np.isnan(not_ell["mean"])
    assert "complementary suppression" in not_ell["note"] and "ell" in not_ell["note"]


def test_complement_at_minimum_is_reported(fresh) -> None:
    con, _ = fresh
    settings.put(con, "min_group_size", 5)
    row = cohort_vs_norm(con, CohortSpec.from_dict(NOT_ELL), DISTRICT).iloc[0]
    assert row["n"] == 45 and not row["suppressed"]  # the 5 ELL students are a reportable group


def test_every_filter_subset_is_checked(seeded) -> None:
    con, raw = seeded
    # FRL = true alone is 25 (complement 25); FRL and not ELL leaves out 3 ELL-FRL students.
    both = {**LINCOLN_3, "filters": {"frl": True, "ell": False}}
    result = cohort_vs_norm(con, _specs({**LINCOLN_3, "filters": {"frl": True}}, both), DISTRICT)
    assert not result.iloc[0]["suppressed"] and result.iloc[0]["n"] == 25
    assert result.iloc[1]["suppressed"]


def test_pooled_row_hiding_a_small_part_is_suppressed(seeded) -> None:
    con, _ = seeded
    spec = CohortSpec.from_dict({"grade": ["2", "3"], "subject": "math", "season": "spring"})
    pooled = cohort_vs_norm(con, spec, DISTRICT, by=("school",))
    washington = pooled[pooled.school == "Washington Elementary"].iloc[0]
    assert washington["suppressed"] and "split by grade" in washington["note"]
    lincoln = pooled[pooled.school == "Lincoln Elementary"].iloc[0]
    assert not lincoln["suppressed"]  # Lincoln has no grade 2: nothing small inside


def test_charts_never_draw_suppressed_rows(seeded) -> None:
    con, _ = seeded
    grade_2 = {"grade": "2", "subject": "math", "season": "spring"}
    result = cohort_vs_norm(con, _specs(LINCOLN_3, NOT_ELL, grade_2), DISTRICT)
    assert result.suppressed.sum() == 2
    drawn = chart_rows(norm_comparison_chart(result))
    assert len(drawn) == 1 and drawn[0]["n"] == 50
    assert proficiency_long(result).empty


def test_distribution_of_a_suppressed_cohort_has_no_bars(seeded) -> None:
    con, _ = seeded
    dist = score_distribution(con, CohortSpec.from_dict(NOT_ELL), DISTRICT)
    assert dist.bins.empty and dist.curve.empty
    assert dist.summary["suppressed"].all() and dist.summary["n"].isna().all()


def test_exports_carry_no_statistic_of_a_suppressed_row(seeded) -> None:
    con, _ = seeded
    result = cohort_vs_norm(con, _specs(LINCOLN_3, NOT_ELL), DISTRICT)
    text = csv_bytes(result, {"cohort": "test"}).decode()
    suppressed_line = [line for line in text.splitlines() if "ell=false" in line][0]
    cells = next(iter(__import__("csv").reader(io.StringIO(suppressed_line))))
    assert "206" not in suppressed_line and not any(
        c.replace(".", "").isdigit() for c in cells[7:20]
    )
    book = load_workbook(io.BytesIO(xlsx_bytes(result, {"cohort": "test"})))
    rows = list(book.active.iter_rows(values_only=True))
    header = rows[2]
    hidden = [r for r in rows[3:] if r[header.index("filters")] == "ell=false"][0]
    assert hidden[header.index("n")] is None and hidden[header.index("mean")] is None
    assert hidden[header.index("suppressed")] is True
    assert "Not reported" not in " ".join(verdicts(result))  # verdicts say why, not numbers
    assert "complementary suppression" in verdicts(result)[1]


def test_cli_prints_no_statistics_for_a_suppressed_cohort(db_path, capsys) -> None:
    with db.connect(db_path) as con:
        seed(con)
    code = cli.main(
        ["standards", "--cohort", json.dumps({**NOT_ELL, "school_year": "2024-2025"}), "--json"]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["suppressed"] is True
    assert not {"n", "mean", "sd", "t", "p", "ci95", "effect_size"} & set(out)
    assert "mean" not in out["norm"]


@pytest.mark.parametrize("min_n", [5, 10, 12])
def test_minimum_size_setting_is_respected(fresh, min_n: int) -> None:
    con, _ = fresh
    settings.put(con, "min_group_size", min_n)
    result = cohort_vs_norm(
        con, CohortSpec.from_dict({"subject": "math", "season": "fall"}), DISTRICT
    )
    reported = result[~result.suppressed]
    assert (reported.n >= min_n).all()
    assert not reported.empty
