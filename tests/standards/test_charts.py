"""Chart builders: checked through chart.to_dict() (the Vega-Lite spec the browser receives)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import pytest

from core.access.scope import DISTRICT
from core.cohorts.spec import CohortSpec
from core.report.charts.standards import (
    CATEGORY_COLORS,
    distribution_chart,
    norm_comparison_chart,
    proficiency_chart,
)
from core.standards import norms
from core.standards.detail import proficiency_long, score_distribution
from core.standards.standing import cohort_vs_norm
from tests.standards.seed import state_cut_scores


def chart_rows(chart: alt.TopLevelMixin) -> list[dict]:
    """The rows a chart draws (Altair puts inline data in `datasets`)."""
    spec = chart.to_dict()
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def _walk(spec: object):
    if isinstance(spec, dict):
        yield spec
        for value in spec.values():
            yield from _walk(value)
    elif isinstance(spec, list):
        for value in spec:
            yield from _walk(value)


def _encodings(chart: alt.TopLevelMixin) -> list[dict]:
    return [node["encoding"] for node in _walk(chart.to_dict()) if "encoding" in node]


def test_norm_chart_reads_the_table_rows_with_tooltips_and_legend_selection(seeded) -> None:
    con, _ = seeded
    result = cohort_vs_norm(con, CohortSpec.from_dict({"subject": "math"}), DISTRICT)
    chart = norm_comparison_chart(result)
    spec = chart.to_dict()
    drawn = pd.DataFrame(chart_rows(chart))
    shown = result[~result.suppressed]
    assert len(drawn) == len(shown)
    assert sorted(drawn["mean"]) == pytest.approx(sorted(shown["mean"]), rel=1e-12)
    lows = (drawn["mean_lo"] - drawn["norm_mean"]).dropna().sort_values().to_numpy()
    assert lows == pytest.approx(shown["ci_lo"].dropna().sort_values().to_numpy(), rel=1e-9)
    params = [p for node in _walk(spec) for p in node.get("params", [])]
    assert any(p.get("bind") == "legend" and p["select"]["fields"] == ["category"] for p in params)
    tips = {t["field"] for enc in _encodings(chart) for t in enc.get("tooltip", [])}
    assert {"n", "mean_lo", "mean_hi", "p", "effect_size", "norm_source"} <= tips
    scales = [enc["color"]["scale"] for enc in _encodings(chart) if "color" in enc]
    assert all(s["range"] == list(CATEGORY_COLORS.values()) for s in scales)
    assert spec["facet"]["field"] == "panel"


def test_grades_are_in_school_order(seeded) -> None:
    con, _ = seeded
    result = cohort_vs_norm(con, CohortSpec.from_dict({"subject": "reading"}), DISTRICT)
    x = [enc["x"] for enc in _encodings(norm_comparison_chart(result)) if "x" in enc][0]
    assert x["sort"] == ["K", "3", "4", "5"]


def test_distribution_chart_bars_and_norm_curve(seeded) -> None:
    con, raw = seeded
    spec = CohortSpec.from_dict({"grade": "3", "subject": "math", "season": "fall"})
    dist = score_distribution(con, spec, DISTRICT)
    members = raw[(raw.grade == "3") & (raw.subject == "math") & (raw.season == "fall")]
    assert dist.bins["n"].sum() == len(members) == 60
    assert (dist.bins["n"] >= 10).all()
    assert dist.bins["share"].sum() == pytest.approx(1.0)
    for row in dist.bins.itertuples():  # each bar's count equals the raw scores in its range
        inside = (members.score >= row.bin_start) & (members.score < row.bin_end)
        assert row.n == inside.sum()
    step = dist.curve["score"].diff().iloc[1]
    assert (dist.curve["share"].sum() * step / 5.0) == pytest.approx(0.997, abs=0.003)
    rows = pd.DataFrame(chart_rows(distribution_chart(dist)))
    assert set(rows["kind"]) == {"Cohort", "National norm"}


def test_proficiency_chart_stacks_band_shares(fresh) -> None:
    con, _ = fresh
    cuts = state_cut_scores()
    norms.save_standard_set(con, "cut_scores", "State", "2024", cuts)
    spec = CohortSpec.from_dict({"grade": "3", "subject": "math", "season": "spring"})
    long = proficiency_long(cohort_vs_norm(con, spec, DISTRICT))
    chart = proficiency_chart(long)
    rows = pd.DataFrame(chart_rows(chart))
    assert rows.groupby("row")["share"].sum().to_numpy() == pytest.approx([1.0, 1.0])
    x = [enc["x"] for enc in _encodings(chart) if "x" in enc][0]
    assert x["stack"] == "normalize"
    assert [enc["color"]["sort"] for enc in _encodings(chart)][0] == [
        "Limited",
        "Basic",
        "Proficient",
        "Advanced",
    ]
