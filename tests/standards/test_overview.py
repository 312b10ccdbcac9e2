"""The Home page's summary (core.catalog.overview): counts within the reader's scope (against
pandas on
the seeded scores), and the last completed import in words."""

from __future__ import annotations

import datetime as dt

from core.access.scope import DISTRICT, Scope
from core.catalog.overview import warehouse_summary
from core.ingest import jobs


def test_summary_counts_what_the_scope_may_see(seeded) -> None:
    con, raw = seeded
    whole = warehouse_summary(con, DISTRICT)
    assert whole.students == raw["student_id"].nunique() and whole.scores == len(raw)
    assert whole.schools == sorted(raw["school"].unique())
    assert whole.subjects == sorted(raw["subject"].unique()) and whole.school_years == ["2024-2025"]
    assert whole.last_import is None  # seeded directly: no import has completed

    lincoln = Scope(username="pat", role="school_admin", schools=("Lincoln Elementary",))
    part = warehouse_summary(con, lincoln)
    mine = raw[raw["school"] == "Lincoln Elementary"]
    assert (part.students, part.scores) == (mine["student_id"].nunique(), len(mine))
    assert part.schools == ["Lincoln Elementary"]


def test_last_import_reads_as_a_date_and_time(fresh) -> None:
    con, _ = fresh
    for status, finished in (
        ("completed", dt.datetime(2026, 3, 7, 14, 5, 9, 123456)),
        ("failed", dt.datetime(2026, 4, 1, 8, 0)),
    ):
        job = jobs.create_job(
            con, file_name="f.csv", source="upload", remote_path=None, user="sam", status=status
        )
        con.execute("update import_jobs set finished_at = ? where job_id = ?", [finished, job])
    assert warehouse_summary(con, DISTRICT).last_import == "7 Mar 2026, 14:05 UTC"
