"""The insight feed: current alerts and stored narratives of the reader's cohorts, one list,
most severe first, filterable by school year, school and subject (the Insights page)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import duckdb
import pandas as pd

from core.access.scope import Scope
from core.catalog.cohort_options import quick_cohorts
from core.cohorts.spec import CohortSpec
from core.narrate.gather import gather_many, scope_alerts
from core.narrate.store import narrative_for, stored_narratives

SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2, "none": 3}
FEED_COLUMNS = [
    "kind", "severity", "title", "text", "detail", "school_year", "spec", "page", "focus",
    "written_by", "created_at",
]  # fmt: skip
STANDARDS_PAGE = "standards"  # a page named by its key (ui.navigation.page_path)


def _matches(
    spec: dict[str, Any],
    year: str | None,
    school: str | None,
    subject: str | None,
    school_year: str | None,
) -> bool:
    def holds(key: str, value: str | None) -> bool:
        listed = spec.get(key)
        listed = [listed] if isinstance(listed, str) else (listed or [])
        return value is None or value in listed

    if year is not None and school_year != year:
        return False
    if school is not None and not holds("schools", school):
        return False
    return subject is None or not spec.get("subject") or holds("subject", subject)


def _alert_rows(alerts: pd.DataFrame | None) -> list[dict[str, Any]]:
    rows = []
    for alert in [] if alerts is None else alerts.to_dict("records"):
        rows.append(
            {
                "kind": "alert",
                "severity": alert["severity"],
                "title": alert["title"],
                "text": alert.get("summary") or alert.get("detail", ""),
                "detail": alert.get("detail", ""),
                "school_year": alert.get("school_year"),
                "spec": alert["spec"],
                "page": alert["page"],
                "focus": alert.get("focus", ""),
                "written_by": "",
                "created_at": None,
            }
        )
    return rows


def _narrative_rows(stored: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for item in stored.to_dict("records"):
        inputs = json.loads(item["inputs"])
        rows.append(
            {
                "kind": "narrative",
                "severity": item["headline_severity"],
                "title": item["cohort_label"],
                "text": item["summary"],
                "detail": "",
                "school_year": inputs.get("school_year"),
                "spec": item["spec"],
                "page": STANDARDS_PAGE,
                "focus": "",
                "written_by": item["generator"],
                "created_at": item["created_at"],
                "content": item["content"],
            }
        )
    return rows


def insight_feed(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    *,
    alerts: pd.DataFrame | None = None,
    year: str | None = None,
    school: str | None = None,
    subject: str | None = None,
) -> pd.DataFrame:
    """Alerts (computed live unless given) and the latest stored narrative of every cohort
    narrated within this scope, filtered, most severe first (alerts before narratives)."""
    alerts = scope_alerts(con, scope) if alerts is None else alerts
    rows = _alert_rows(alerts) + _narrative_rows(stored_narratives(con, scope))
    kept = [
        r
        for r in rows
        if _matches(json.loads(r["spec"] or "{}"), year, school, subject, r["school_year"])
    ]
    frame = pd.DataFrame(kept, columns=[*FEED_COLUMNS, "content"])
    if frame.empty:
        return frame
    frame["_rank"] = frame["severity"].map(SEVERITY_RANK).fillna(9)
    frame["_kind"] = (frame["kind"] == "narrative").astype(int)
    frame = frame.sort_values(["_rank", "_kind", "title"], kind="stable")
    return frame.drop(columns=["_rank", "_kind"]).reset_index(drop=True)


def narrate_cohorts(
    con: duckdb.DuckDBPyConnection,
    specs: Sequence[CohortSpec],
    scope: Scope,
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write (or confirm) the narrative of each cohort; returns how many there were."""
    found = gather_many(con, list(specs), scope)
    for done, (spec, findings) in enumerate(zip(specs, found, strict=True), start=1):
        narrative_for(con, spec, scope, findings=findings)
        if on_progress is not None:
            on_progress(done, len(specs))
    return len(specs)


def quick_cohorts_of(con: duckdb.DuckDBPyConnection, scope: Scope, year: str) -> list[CohortSpec]:
    """Every grade × school cohort of one school year within the scope."""
    return [spec for spec in quick_cohorts(con, scope) if spec.school_year == (year,)]
