"""What is in the warehouse, within a scope: the home page's first answer."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from core.access.scope import Scope
from core.cohorts.spec import MEMBER_FROM, CohortSpec, spec_predicate
from core.ingest.attribute_replay import ATTRIBUTE_NOTICE
from core.warehouse import settings


@dataclass(frozen=True)
class WarehouseSummary:
    students: int
    scores: int
    schools: list[str]
    school_years: list[str]
    subjects: list[str]
    last_import: str | None
    notice: str | None = None  # something about the data the reader should know (see below)


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
    return WarehouseSummary(row[0], row[1], row[2], row[3], row[4], last, attribute_notice(con))


def attribute_notice(con: duckdb.DuckDBPyConnection) -> str | None:
    """Said on Home after migration 011 could not rebuild attributes per school year (the
    kept files were missing), until the next import."""
    flag = settings.get(con, ATTRIBUTE_NOTICE)
    if not isinstance(flag, dict):
        return None
    newer = con.execute(
        "select count(*) from import_jobs where status = 'completed' and job_id > $job",
        {"job": int(flag.get("last_job", 0))},
    ).fetchall()[0][0]
    if newer:
        return None
    return (
        "Student attributes (ELL, SPED, FRL, gender, race/ethnicity, class type, programs …) are "
        "now recorded per school year, but the original files of earlier imports are no longer "
        "kept, so each student's one stored value was copied to every school year they have a "
        "record in. Filters and subgroups of earlier years may show this year's value. To put "
        "each value in its own year, import those files again (Upload)."
    )
