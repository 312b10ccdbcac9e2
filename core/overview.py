"""What is in the warehouse, within a scope: the home page's first answer."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from core.cohorts import MEMBER_FROM, CohortSpec, spec_predicate
from core.scope import Scope


@dataclass(frozen=True)
class WarehouseSummary:
    students: int
    scores: int
    schools: list[str]
    school_years: list[str]
    subjects: list[str]
    last_import: str | None


def warehouse_summary(con: duckdb.DuckDBPyConnection, scope: Scope) -> WarehouseSummary:
    where, params = spec_predicate(CohortSpec(), scope)
    row = con.execute(
        f"""
        with scoped as (select a.student_id, a.school_year, a.subject, sc.name as school
                        from {MEMBER_FROM} where {where})
        select count(distinct student_id), count(*),
               coalesce(list(distinct school order by school), []),
               coalesce(list(distinct school_year order by school_year), []),
               coalesce(list(distinct subject order by subject), [])
        from scoped
        """,
        params,
    ).fetchone()
    last = con.execute(  # for reading ("7 Dec 2026, 07:58 UTC"), not a raw timestamp
        "select strftime(max(finished_at), '%-d %b %Y, %H:%M') || ' UTC' from import_jobs"
        " where status = 'completed'"
    ).fetchone()[0]
    return WarehouseSummary(row[0], row[1], row[2], row[3], row[4], last)
