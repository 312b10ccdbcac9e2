"""Alerts: what changed for the worse in the latest school year, computed live within a scope.

Three kinds, each with its evidence (a page and the cohort spec that page opens with):

* **decline** — a grade × school (or all schools) × subject × season cohort scored lower than the
  same definition a year earlier: Welch p < alpha after Benjamini–Hochberg in its fixed family
  (core.stats.families: every quick and district grade cohort of the year), and |Hedges' g| ≥
  `alerts.decline_min_g`. Critical from `alerts.decline_critical_g`.
* **widening gap** / **narrowing gap** — a subgroup's gap to the rest of its grade × subject ×
  season cohort (all schools in scope together) moved: its linear trend across the latest three
  to five years — or, for a subgroup reported in fewer years, its change from
  `alerts.gap_years_back` years earlier — has p < alpha after BH, one test per subgroup in one
  family (core.compare.subgroups.widening_tests; for a one-school reader its grades are quick
  cohorts,
  adjusted among every quick cohort's test in the district). Severity follows who is harmed
  (`gap_severity`): a group left further behind is a concern (critical when the gap widened at
  every step), a group behind that caught up is good news (info), and a subgroup pulling
  further ahead of a mixed rest harms no one named (no alert).
* **proficiency drop** — % proficient fell by at least `alerts.proficiency_drop_points` points
  from the year before, with a two-proportion test p < alpha after BH; critical at twice that.

A significant improvement (BH, |g| ≥ the decline threshold) is listed as *info*: good news the
home page can show too. A gap alert also needs the distance behind of the group it names to
have moved by `alerts.gap_min_change_g` pooled sd (first to latest year): in a big district a
trivial drift is "significant" too.
With `grouped=True`, one alert per cohort across seasons (and per subgroup × subject across
grades and seasons): the evidence is the strongest cell, the others are named.
Noise produces no alert: every kind needs a BH-surviving test.
Each alert says what happened twice: `summary` in plain words for educators (core.alerts.words:
"a real drop, not chance", "small / moderate / large") and `detail` with the statistics.
Nothing is stored: alerts are recomputed from the warehouse whenever they are asked for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from core.access.scope import Scope
from core.alerts.words import (
    change_summary,
    gap_headline,
    gap_summary,
    proficiency_bar,
    proficiency_summary,
)
from core.cohorts.spec import BOOLEAN_ATTRIBUTES, CohortSpec
from core.compare.between_cohorts import (
    all_prior_year_comparisons,
    all_proficiency_changes,
    available_years,
)
from core.compare.subgroups import subgroup_gaps, widening_tests
from core.stats.sufficient import ALL_SCHOOLS
from core.warehouse import canonical, settings
from core.words.comparisons import group_label
from core.words.numbers import signed

SEVERITIES = ("critical", "warning", "info")
SETTING_DEFAULTS: dict[str, float] = {
    "alerts.alpha": 0.05,
    "alerts.decline_min_g": 0.3,
    "alerts.decline_critical_g": 0.5,
    "alerts.gap_years_back": 2,
    "alerts.gap_min_change_g": 0.2,
    "alerts.proficiency_drop_points": 10.0,
}
COLUMNS = ["severity", "kind", "title", "summary", "detail", "school_year", "page", "spec", "focus"]
TREND_YEARS = 5  # a gap's trend is fitted over up to this many latest years (at least three)
PRIOR_PAGE = "prior_cohorts"  # a page named by its key; ui.navigation.page_path finds its file
SUBGROUP_PAGE = "subgroups"


@dataclass(frozen=True)
class Thresholds:
    alpha: float
    decline_min_g: float
    decline_critical_g: float
    gap_years_back: int
    gap_min_change_g: float
    proficiency_drop_points: float


def thresholds(con: duckdb.DuckDBPyConnection) -> Thresholds:
    """The alert thresholds: the district's settings, else the defaults above."""
    value = {k: float(settings.get(con, k, v)) for k, v in SETTING_DEFAULTS.items()}
    return Thresholds(
        alpha=value["alerts.alpha"],
        decline_min_g=value["alerts.decline_min_g"],
        decline_critical_g=value["alerts.decline_critical_g"],
        gap_years_back=max(1, int(value["alerts.gap_years_back"])),
        gap_min_change_g=value["alerts.gap_min_change_g"],
        proficiency_drop_points=value["alerts.proficiency_drop_points"],
    )


def _spec_json(row: Any, year: str) -> str:
    data: dict[str, Any] = {
        "school_year": year,
        "grade": row.grade,
        "subject": row.subject,
        "season": row.season,
    }
    if getattr(row, "school", ALL_SCHOOLS) != ALL_SCHOOLS:
        data["schools"] = [row.school]
    return CohortSpec.from_dict(data).to_json()


def _where(row: Any, season: bool = True) -> str:
    place = "" if getattr(row, "school", ALL_SCHOOLS) == ALL_SCHOOLS else f" at {row.school}"
    when = f" ({row.season})" if season else ""
    return f"Grade {row.grade} {row.subject}{when}{place}"


def _public(alert: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in alert.items() if not k.startswith("_")}


def collapse(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One alert per group (a cohort across seasons; a subgroup's gap across grades and
    seasons): the most severe, most significant cell's evidence, the other cells named."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for alert in raw:
        groups.setdefault(alert["_group"], []).append(alert)
    out = []
    for items in groups.values():
        items.sort(key=lambda a: (rank[a["severity"]], a["_p"]))
        top = _public(items[0])
        if len(items) > 1:
            cells = [a["_cell"] for a in items]
            where = ", ".join(cells) if len(cells) <= 4 else f"{len(cells)} cohorts"
            top["title"] = f"{items[0]['_group_title']} ({where})"
            top["detail"] = f"Strongest in {cells[0]}: {top['detail']}"
            top["summary"] = f"Strongest in {cells[0]}. {top['summary']}"
        out.append(top)
    return out


def _cohort_alert(
    row: Any, year: str, *, group: tuple, group_title: str, focus: str = "", **fields: str
) -> dict[str, Any]:
    """An alert about one grade × school × subject × season cohort (evidence: Prior cohorts);
    grouped with the same cohort's other seasons."""
    return {
        **fields,
        "school_year": year,
        "page": PRIOR_PAGE,
        "spec": _spec_json(row, year),
        "focus": focus,
        "_group": (*group, row.school, row.grade, row.subject),
        "_group_title": group_title,
        "_cell": row.season,
        "_p": row.p_adj,
    }


def cohort_changes(
    con: duckdb.DuckDBPyConnection, scope: Scope, limits: Thresholds, year: str
) -> list[dict[str, Any]]:
    """Significant declines (warning/critical) and improvements (info), latest vs a year earlier."""
    rows = all_prior_year_comparisons(con, scope, school_years=[year])
    hit = (rows["p_adj"] < limits.alpha) & (np.abs(rows["hedges_g"]) >= limits.decline_min_g)
    alerts = []
    for row in rows[hit.fillna(False)].itertuples(index=False):
        decline = row.diff < 0
        severity = "info"
        if decline:
            critical = abs(row.hedges_g) >= limits.decline_critical_g
            severity = "critical" if critical else "warning"
        verb = "declined" if decline else "improved"
        alerts.append(
            _cohort_alert(
                row,
                year,
                severity=severity,
                kind="decline" if decline else "improvement",
                title=f"{_where(row)} {verb} from {row.prior_year}",
                summary=change_summary(row),
                detail=f"mean {row.mean_b:.1f} → {row.mean_a:.1f} ({signed(row.diff)}; Hedges' g "
                f"{signed(row.hedges_g, 2)}; BH-adjusted p {row.p_adj:.3g}; n {row.n_b:.0f} → "
                f"{row.n_a:.0f})",
                group_title=f"{_where(row, season=False)} {verb} from {row.prior_year}",
                group=("change", decline),
            )
        )
    return alerts


def _share_label(row: Any) -> str:
    bar = proficiency_bar(row)
    return "% proficient" if bar == "proficient" else "% at or above the national median"


def proficiency_drops(
    con: duckdb.DuckDBPyConnection, scope: Scope, limits: Thresholds, year: str
) -> list[dict[str, Any]]:
    rows = all_proficiency_changes(con, scope, school_years=[year])
    drop = -rows["change"]
    hit = (rows["p_adj"] < limits.alpha) & (drop >= limits.proficiency_drop_points)
    alerts = []
    for row in rows[hit.fillna(False)].itertuples(index=False):
        critical = -row.change >= 2 * limits.proficiency_drop_points
        alerts.append(
            _cohort_alert(
                row,
                year,
                severity="critical" if critical else "warning",
                kind="proficiency drop",
                title=f"{_where(row)}: {_share_label(row)} fell {-row.change:.0f} points",
                summary=proficiency_summary(row),
                detail=f"{row.pct_b:.0f}% → {row.pct_a:.0f}% {_share_label(row)[2:]} from "
                f"{row.prior_year}"
                f" (BH-adjusted p {row.p_adj:.3g}; n {row.n_b:.0f} → {row.n_a:.0f})"
                + (f"; {row.sets_note}" if row.sets_note else ""),
                group_title=f"{_where(row, season=False)}: {_share_label(row)} fell",
                group=("proficiency",),
                focus="proficiency",
            )
        )
    return alerts


def gap_severity(
    first_gap: float,
    latest_gap: float,
    pooled_sd: float,
    every_year: bool,
    rest_named: bool,
    min_g: float,
) -> tuple[str | None, str]:
    """(severity, who) of a significant gap movement, by who is harmed: (None, "") when it is
    neutral. Gap = subgroup − rest. A side's *distance behind* is how far below the other side
    it is (0 when level or ahead), in pooled sd; the rest counts as a side only when it is one
    group (`rest_named`: a yes/no attribute, or one with two values), since a mix of groups has
    each of its groups' own rows. A side whose distance behind grew by `min_g` is harmed: a
    concern ("warning"; "critical" when the gap pointed the same way throughout and widened at
    every step). Else a side whose distance behind shrank by `min_g` caught up: good news
    ("info"). A subgroup from 13 points behind to 2.3 ahead is good news for it, and only 2.3
    points of harm to a named rest — under the size bar, so not a concern."""
    sides = {"subgroup": (-first_gap, -latest_gap)}
    if rest_named:
        sides["rest"] = (first_gap, latest_gap)
    moved = {
        who: (max(0.0, now) - max(0.0, then)) / pooled_sd for who, (then, now) in sides.items()
    }
    harmed = max(moved, key=lambda who: moved[who])
    if moved[harmed] >= min_g:
        steady = every_year and first_gap * latest_gap > 0
        return ("critical" if steady else "warning"), harmed
    helped = min(moved, key=lambda who: moved[who])
    if -moved[helped] >= min_g:
        return "info", helped
    return None, ""


def _rest_labels(gaps: pd.DataFrame) -> pd.DataFrame:
    """The rest of each subgroup in words when it is one group (ELL: "not English learners";
    an attribute with two values: the other one), else None."""
    keys = ["grade", "subject", "season", "attribute"]
    values = gaps.groupby(keys)["value"].agg(lambda v: sorted(set(map(str, v))))
    rows = []
    for key, known in values.items():
        attribute = key[-1]
        for value in known:
            other = [v for v in known if v != value]
            label = None
            if attribute in BOOLEAN_ATTRIBUTES:
                label = group_label(attribute, "no")
            elif len(known) == 2:
                label = group_label(attribute, other[0])
            rows.append((*key, value, label))
    return pd.DataFrame(rows, columns=[*keys, "value", "rest_label"])


def widening_gaps(
    con: duckdb.DuckDBPyConnection, scope: Scope, limits: Thresholds, year: str
) -> list[dict[str, Any]]:
    """Gaps that moved, by trend (≥ 3 years) or, with fewer years, latest vs `gap_years_back`:
    concerns where a group fell further behind, good news where one caught up."""
    span = [canonical.previous_year(year, k) for k in range(TREND_YEARS - 1, 0, -1)] + [year]
    earlier = canonical.previous_year(year, limits.gap_years_back)
    spec = CohortSpec(school_year=tuple(span))
    if scope.schools is not None and len(scope.schools) == 1:  # its grades are quick cohorts
        spec = spec.replace(schools=list(scope.schools))
    gaps = subgroup_gaps(con, spec, scope, by=("grade", "subject", "season"))
    if gaps.empty:
        return []
    tests = widening_tests(gaps, span, earlier, con=con)
    tests = tests.merge(_rest_labels(gaps), how="left")
    alerts = []
    for row in tests[tests["p_adj"] < limits.alpha].itertuples(index=False):
        severity, who = gap_severity(
            row.first_gap,
            row.latest_gap,
            row.pooled_sd,
            bool(row.every_year),
            isinstance(row.rest_label, str),
            limits.gap_min_change_g,
        )
        if severity is not None:
            alerts.append(_gap_alert(row, year, severity, who))
    return alerts


def _gap_alert(row: Any, year: str, severity: str, who: str) -> dict[str, Any]:
    kind = "narrowing gap" if severity == "info" else "widening gap"
    headline = gap_headline(row, who, caught_up=severity == "info")
    return {
        "severity": severity,
        "kind": kind,
        "title": f"{_where(row)}: {headline}",
        "summary": gap_summary(row),
        "detail": _gap_detail(row),
        "school_year": year,
        "page": SUBGROUP_PAGE,
        "spec": _spec_json(row, year),
        "focus": f"{row.attribute}={row.value}",
        "_group": ("gap", kind, row.attribute, row.value, row.subject),
        "_group_title": f"{row.subject.title()}: {headline}",
        "_cell": f"grade {row.grade} {row.season}",
        "_p": row.p_adj,
    }


def _gap_detail(row: Any) -> str:
    first, latest = signed(row.first_gap), signed(row.latest_gap)
    text = f"gap {first} in {row.first_year} → {latest} in {row.latest_year}"
    if row.test == "trend":
        text += f", {signed(row.slope)} points a year over {row.years:.0f} years"
        text += " (wider every year)" if row.every_year else ""
    return text + f" (BH-adjusted p {row.p_adj:.3g})"


def current_alerts(
    con: duckdb.DuckDBPyConnection, scope: Scope, *, grouped: bool = False
) -> pd.DataFrame:
    """Every alert for the latest school year in scope, most severe first (columns: COLUMNS).

    `grouped`: one alert per cohort across seasons and per subgroup × subject across grades and
    seasons (`collapse`) — what a home page should list in a big district."""
    years = available_years(con, CohortSpec(), scope)
    if len(years) < 2:
        return pd.DataFrame(columns=COLUMNS)
    limits = thresholds(con)
    latest = years[-1]
    found = cohort_changes(con, scope, limits, latest)
    found += proficiency_drops(con, scope, limits, latest)
    found += widening_gaps(con, scope, limits, latest)
    if grouped:
        found = collapse(found)
    frame = pd.DataFrame([_public(a) for a in found], columns=COLUMNS)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return frame.sort_values("severity", key=lambda s: s.map(order), kind="stable").reset_index(
        drop=True
    )


def evidence_query(alert: pd.Series) -> dict[str, str]:
    """Query parameters that open the alert's evidence page on its cohort."""
    params = {"spec": alert["spec"]}
    if alert.get("focus"):
        params["focus"] = alert["focus"]
    return params


def spec_from_query(value: str | None) -> CohortSpec | None:
    """The cohort an evidence link carries (None when absent or unreadable)."""
    if not value:
        return None
    try:
        return CohortSpec.from_dict(json.loads(value))
    except (ValueError, TypeError):
        return None
