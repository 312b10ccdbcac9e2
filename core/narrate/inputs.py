"""What a narrative is written from: one cohort's computed results, after suppression.

`CohortFindings` is plain data (aggregates only — never a student id or name, never a group under
the minimum size: suppressed results are dropped here and only *counted*). It serialises to JSON
for storage and hashing (`inputs_hash`), and `model_payload` is the explicit allow-list of fields
an external model may see. `core/narrate/gather.py` fills it from the standards and comparisons
modules; the template engine and the PDF read only this.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

GENERATOR_VERSION = 1


def clean_number(value: Any, digits: int = 6) -> float | None:
    """A finite float rounded for stable hashing, else None (NaN, None, inf, text)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return round(number, digits) if math.isfinite(number) else None


def clean_int(value: Any) -> int | None:
    number = clean_number(value)
    return None if number is None else int(round(number))


def interval(lo: Any, hi: Any) -> tuple[float, float] | None:
    low, high = clean_number(lo), clean_number(hi)
    return None if low is None or high is None else (low, high)


@dataclass(frozen=True)
class Standing:
    """The cohort against a standard in one subject × season (a `standards` row, docs/cli.md)."""

    subject: str
    season: str
    n: int
    mean: float | None
    sd: float | None = None
    median: float | None = None
    norm_source: str | None = None
    norm_mean: float | None = None
    norm_sd: float | None = None
    diff: float | None = None
    p: float | None = None
    ci95: tuple[float, float] | None = None
    effect_size: float | None = None
    category: str | None = None  # Above | At | Below | None (no norm / no test)
    pct_at_or_above: float | None = None
    note: str = ""
    p_adj: float | None = None  # Benjamini–Hochberg-adjusted, in the row's fixed family
    family_size: int | None = None  # how many results that family corrects together


@dataclass(frozen=True)
class YearComparison:
    """This year's cohort (a) against the same definition in an earlier year (b)."""

    subject: str
    season: str
    school_year: str
    prior_year: str
    n_a: int
    mean_a: float | None
    n_b: int
    mean_b: float | None
    diff: float | None = None
    p: float | None = None
    ci95: tuple[float, float] | None = None
    hedges_g: float | None = None
    direction: str | None = None  # improvement | decline | no change
    significant_bh: bool | None = None
    note: str = ""
    family_size: int | None = None  # how many results its false-discovery family corrects


@dataclass(frozen=True)
class TrendPoint:
    subject: str
    season: str
    school_year: str
    n: int
    mean: float | None
    norm_mean: float | None = None


@dataclass(frozen=True)
class GrowthResult:
    """Matched students from one test event to a later one (paired change)."""

    subject: str
    from_label: str  # "fall 2024-2025"
    to_label: str
    n: int
    dropped: int | None  # None: 1 … min_n − 1 students, or a count revealing so few
    mean_change: float | None
    sd_change: float | None = None
    p: float | None = None
    ci95: tuple[float, float] | None = None
    expected: float | None = None
    p_vs_expected: float | None = None
    pct_meeting: float | None = None
    note: str = ""
    start_z: float | None = None  # mean standing vs the norm at the earlier test (norm sds)


@dataclass(frozen=True)
class SubgroupGap:
    """A subgroup against the rest of its cohort (gap = subgroup − rest)."""

    subject: str
    season: str
    school_year: str
    group: str  # plain label, e.g. "English learners"
    n_group: int
    n_rest: int
    mean_group: float | None
    mean_rest: float | None
    gap: float | None
    p: float | None = None
    ci95: tuple[float, float] | None = None
    hedges_g: float | None = None
    significant: bool | None = None
    trend: str | None = None  # widening | narrowing | overtook | steady | None
    earlier_gap: float | None = None
    earlier_year: str | None = None


@dataclass(frozen=True)
class AlertItem:
    severity: str  # critical | warning | info
    kind: str  # decline | widening_gap | proficiency_drop | …
    title: str
    detail: str = ""
    subject: str | None = None
    season: str | None = None
    school_year: str | None = None


SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}

_PARTS: dict[str, type] = {
    "standings": Standing,
    "prior": YearComparison,
    "trend": TrendPoint,
    "growth": GrowthResult,
    "gaps": SubgroupGap,
    "alerts": AlertItem,
}


@dataclass(frozen=True)
class CohortFindings:
    """Everything a narrative of one cohort may say, within one scope, after suppression."""

    label: str
    spec: dict[str, Any]
    school_year: str | None
    min_n: int
    n_students: int
    suppressed: bool = False  # the whole cohort is under the minimum size
    schools: tuple[str, ...] = ()
    standings: tuple[Standing, ...] = ()
    prior: tuple[YearComparison, ...] = ()
    trend: tuple[TrendPoint, ...] = ()
    growth: tuple[GrowthResult, ...] = ()
    gaps: tuple[SubgroupGap, ...] = ()
    alerts: tuple[AlertItem, ...] = ()
    suppressed_results: int = 0  # results left out because a group was under min_n
    missing: tuple[str, ...] = field(default=())  # plain notes on data that is not there
    # set (the other cohort's label) when a report withholds this cohort: it nests in another
    # cohort of the report with a difference of 1 … min_n − 1 students (core.stats.suppression)
    withheld_beside: str = ""

    def to_dict(self) -> dict[str, Any]:
        return json.loads(self.to_json())

    def to_json(self) -> str:
        """The findings as canonical JSON, worked out once: they are immutable, and storing,
        hashing and phrasing a narrative asked for it four times (most of a report's
        narrative time)."""
        text = self.__dict__.get("_json")
        if text is None:
            plain = json.loads(json.dumps(dataclasses.asdict(self), sort_keys=True))
            if not plain["withheld_beside"]:  # absent unless set: earlier findings hash alike
                del plain["withheld_beside"]
            text = json.dumps(plain, sort_keys=True, separators=(",", ":"))
            object.__setattr__(self, "_json", text)
        return text

    def inputs_hash(self) -> str:
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CohortFindings:
        values = dict(data)
        for name, part in _PARTS.items():
            values[name] = tuple(_part_from_dict(part, item) for item in data.get(name, ()))
        values["schools"] = tuple(data.get("schools", ()))
        values["missing"] = tuple(data.get("missing", ()))
        return cls(**values)

    def model_payload(self) -> dict[str, Any]:
        """The only fields an external model sees: an explicit allow-list of aggregates."""
        return {
            "cohort": self.label,
            "school_year": self.school_year,
            "students": self.n_students,
            "minimum_group_size": self.min_n,
            "vs_standard": [_pick(s, STANDING_FIELDS) for s in self.standings],
            "vs_prior_years": [_pick(c, PRIOR_FIELDS) for c in self.prior],
            "trend": [_pick(t, TREND_FIELDS) for t in self.trend],
            "growth": [_pick(g, GROWTH_FIELDS) for g in self.growth],
            "subgroup_gaps": [_pick(g, GAP_FIELDS) for g in self.gaps],
            "alerts": [_pick(a, ALERT_FIELDS) for a in self.alerts],
            "results_not_reported_for_privacy": self.suppressed_results,
            "missing_data": list(self.missing),
        }


STANDING_FIELDS = (
    "subject", "season", "n", "mean", "norm_source", "norm_mean", "diff", "p", "ci95",
    "effect_size", "category", "pct_at_or_above",
)  # fmt: skip
PRIOR_FIELDS = (
    "subject", "season", "school_year", "prior_year", "n_a", "mean_a", "n_b", "mean_b", "diff",
    "p", "ci95", "hedges_g", "direction",
)  # fmt: skip
TREND_FIELDS = ("subject", "season", "school_year", "n", "mean", "norm_mean")
GROWTH_FIELDS = (
    "subject", "from_label", "to_label", "n", "dropped", "mean_change", "p", "ci95", "expected",
    "p_vs_expected", "pct_meeting",
)  # fmt: skip
GAP_FIELDS = (
    "subject", "season", "school_year", "group", "n_group", "mean_group", "mean_rest", "gap", "p",
    "hedges_g", "significant", "trend", "earlier_gap", "earlier_year",
)  # fmt: skip
ALERT_FIELDS = ("severity", "kind", "title", "subject", "season", "school_year")


def _pick(item: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    out = {}
    for name in fields:
        value = getattr(item, name)
        out[name] = list(value) if isinstance(value, tuple) else value
    return out


def _part_from_dict(part: type, item: dict[str, Any]) -> Any:
    known = {f.name for f in dataclasses.fields(part)}
    values = {k: v for k, v in item.items() if k in known}
    for name in ("ci95",):
        if values.get(name) is not None:
            values[name] = tuple(values[name])
    return part(**values)
