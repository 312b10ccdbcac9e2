"""A district's benchmarks in a superintendent's words: each figure with its unit, and the
profile's sentences — where the district is notably high or low in its state, and what changed
over three years.

Units follow each metric's kind (core.districts.benchmarks.METRICS): rates and proficiencies
differ in percentage *points*, spending in dollars, the pupil-teacher ratio in pupils; the
3-year trends of the counts and of spending are % changes. "Notably high / low" is the top /
bottom quarter of the state (the `well_above` / `well_below` flags), and whether that is
favourable is said beside it, so the label and the judgement never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from core.districts.benchmarks import METRICS, Metric, school_year_label
from core.words.numbers import signed

_JUDGEMENT = {"good": "favourable", "bad": "unfavourable"}


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def figure(value: Any, metric: Metric) -> str:
    """The metric's value: "$15,200", "18.5%", "16.1"; missing as a dash."""
    if _missing(value):
        return "—"
    if metric.unit.startswith("$"):
        return f"{'-' if value < 0 else ''}${abs(value):,.0f}"
    return f"{value:,.1f}%" if metric.unit.startswith("%") else f"{value:,.1f}"


def difference(value: Any, metric: Metric) -> str:
    """A difference between two of the metric's values: "+3.5 pts", "-$954", "+4.3"."""
    if _missing(value):
        return "—"
    if metric.unit.startswith("$"):
        dollars = signed(value, 0)
        return f"{dollars[0]}${dollars[1:]}"
    if metric.unit.startswith("%"):
        return f"{signed(value, 1)} pts"
    return signed(value, 1)


def trend(value: Any, metric: Metric) -> str:
    """The 3-year trend with its unit: % change for counts and spending, else a difference."""
    if _missing(value):
        return "—"
    if metric.trend == "pct_change":
        return f"{signed(value, 1)}%"
    return difference(value, metric)


def _what(metric: Metric) -> str:
    """The metric named inside a sentence ("chronic absenteeism", "English learners")."""
    return metric.label if metric.label.startswith("English") else metric.label.lower()


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def notable_sentence(district: Mapping[str, Any], state: str) -> str:
    """Which metrics put the district in the top or bottom quarter of its state, judged."""
    sides: dict[str, list[str]] = {"well_above": [], "well_below": []}
    for metric in METRICS:
        flag = district.get(f"{metric.key}_quartile_state")
        if flag in sides:
            reading = _JUDGEMENT.get(district.get(f"{metric.key}_reading"))
            sides[flag].append(_what(metric) + (f" ({reading})" if reading else ""))
    name = district["name"]
    if not any(sides.values()):
        return (
            f"{name} is in neither the top nor the bottom quarter of {state}'s districts on any "
            "of the eight measures."
        )
    parts = []
    if sides["well_above"]:
        parts.append(f"notably high (top quarter) in {_listed(sides['well_above'])}")
    if sides["well_below"]:
        parts.append(f"notably low (bottom quarter) in {_listed(sides['well_below'])}")
    return f"Among {state}'s districts, {name} is " + "; and ".join(parts) + "."


def trend_sentence(district: Mapping[str, Any]) -> str | None:
    """What changed over three years, each metric with its unit; None when nothing can be said.
    Absenteeism names its own years (a biennial collection compares its two latest points)."""
    start, end = (
        district.get("absenteeism_trend_from_year"),
        district.get("absenteeism_trend_to_year"),
    )
    changes = []
    for metric in METRICS:
        value = district.get(metric.trend_key)
        if _missing(value):
            continue
        counted = " (count)" if metric.trend_of != metric.key else ""  # swd_pct's trend is swd's
        text = f"{_what(metric)}{counted} {trend(value, metric)}"
        if metric.trend == "latest_points" and not _missing(start):
            text += f" ({school_year_label(int(start))} → {school_year_label(int(end))})"
        changes.append(text)
    if not changes:
        return None
    year = district.get("year")
    since = f"Since {school_year_label(int(year) - 3)}" if not _missing(year) else "Over 3 years"
    return f"{since}: {_listed(changes)}."
