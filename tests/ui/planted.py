"""A district whose names are Markdown and HTML: the narrative seed (tests/reports/seed.py) with
a link for a school, an image for a teacher, HTML for a student, a link for an attribute's name
and value, and a link for a cohort's name (carried by a `?spec=` link or saved).

Every planted string points at evil.example: a test asserts that nothing on a page links or loads
from there, and that each string reads literally (`reads`).
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import duckdb

from core.words.markup import JOINER
from tests.reports.seed import seed

SCHOOL = "[Session expired - sign in again](http://evil.example/login)"
TEACHER = "![Teacher](http://evil.example/teacher.png)"
STUDENT = "<img src=http://evil.example/student.png>"
ATTRIBUTE = "[program](http://evil.example/attribute)"
VALUE = "**[Gifted](http://evil.example/value)**"
COHORT = (
    "[Session expired - cohort](http://evil.example/cohort) <a href=http://evil.example/a>x</a>"
)
EVERY = (SCHOOL, TEACHER, STUDENT, ATTRIBUTE, VALUE, COHORT)
REPLACED = "Lincoln Elementary"  # the seed's school with the planted decline (an alert names it)
YEAR = "2024-2025"
LINKED = {
    "name": COHORT,
    "school_year": YEAR,
    "schools": [SCHOOL],
    "grade": "3",
    "subject": "math",
    "season": "spring",
}


def plant(con: duckdb.DuckDBPyConnection) -> None:
    """Seed the district, then give it the planted names."""
    seed(con)
    con.execute(
        "update schools set name = $name where name = $old", {"name": SCHOOL, "old": REPLACED}
    )
    con.execute("update enrollments set teacher = $teacher", {"teacher": TEACHER})
    con.execute(
        "update students set first_name = $name where student_id in "
        "(select student_id from students order by student_id limit 40)",
        {"name": STUDENT},
    )
    con.execute(
        "insert into student_attributes (student_id, school_year, attribute, value) "
        "select student_id, school_year, $attribute, if(ell, $value, 'Other') from student_years",
        {"attribute": ATTRIBUTE, "value": VALUE},  # the English learners: a gap in reading
    )


def link(page: str, spec: dict | None = None) -> str:
    """The page's address with a `?spec=` carrying the planted cohort name."""
    return f"/{page}?spec=" + quote(json.dumps(spec or LINKED))


def reads(markdown: str) -> str:
    """What a Markdown source reads as once its backslash escapes are resolved, without the
    invisible word joiners that keep a bare address from being linked."""
    return re.sub(r"\\(.)", r"\1", markdown).replace(JOINER, "")


def live_markup(markdown: str) -> list[str]:
    """The constructs in a Markdown source that would render as a link, an image, HTML or an
    address GitHub Markdown links by itself (escaped characters removed first)."""
    bare = re.sub(r"\\.", "", markdown)
    return re.findall(r"\]\(|\]\[|<[A-Za-z/!?]|https?://|www\.|\w@\w", bare)
