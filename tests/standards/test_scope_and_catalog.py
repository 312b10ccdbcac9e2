"""Scope is applied in core (another school's cohort is empty, a teacher sees their sections);
SQL in a filter is data; the builder's options and attributes come from the scoped data."""

from __future__ import annotations

from core.access.scope import DISTRICT, Scope
from core.catalog.cohort_options import cohort_attributes, cohort_options, quick_cohorts
from core.cohorts.spec import CohortSpec, cohort_size
from core.standards.standing import cohort_vs_norm

WASHINGTON_ADMIN = Scope("pat", "school_admin", schools=("Washington Elementary",))
LINCOLN_3_TEACHER = Scope("tam", "teacher", sections=("Lincoln Elementary-3",))


def test_school_admin_naming_another_school_gets_nothing(seeded) -> None:
    con, _ = seeded
    spec = CohortSpec.from_dict({"schools": ["Lincoln Elementary"], "grade": "3"})
    assert cohort_vs_norm(con, spec, WASHINGTON_ADMIN).empty
    assert cohort_size(con, spec, WASHINGTON_ADMIN) == 0
    own = cohort_vs_norm(con, CohortSpec(), WASHINGTON_ADMIN)
    assert set(own.school) == {"Washington Elementary"}


def test_teacher_sees_only_their_section(seeded) -> None:
    con, _ = seeded
    result = cohort_vs_norm(con, CohortSpec(), LINCOLN_3_TEACHER)
    assert set(zip(result.school, result.grade, strict=True)) == {("Lincoln Elementary", "3")}
    assert cohort_attributes(con, LINCOLN_3_TEACHER)["section"] == ["Lincoln Elementary-3"]


def test_sql_in_a_filter_is_data(seeded) -> None:
    con, _ = seeded
    hostile = CohortSpec.from_dict(
        {
            "filters": {"program": "none' or 1=1 --", "x; drop table assessments; --": "1"},
            "schools": ["Lincoln Elementary' or '1'='1"],
        }
    )
    assert cohort_vs_norm(con, hostile, DISTRICT).empty
    assert con.execute("select count(*) from assessments").fetchone()[0] > 0


def test_options_and_attributes_are_discovered(seeded) -> None:
    con, _ = seeded
    options = cohort_options(con, DISTRICT)
    assert options.grades == ("K", "2", "3", "4", "5")
    assert options.subjects == ("math", "reading", "science")
    assert options.seasons == ("fall", "spring")
    attributes = cohort_attributes(con, DISTRICT)
    assert attributes["ell"] == ["false", "true"]
    assert attributes["gender"] == ["F", "M"]
    assert attributes["teacher"] == ["Mr. Chen", "Ms. Rivera"]
    assert attributes["program"] == ["none", "reading-recovery"]  # an extra attribute
    assert "race_ethnicity" not in attributes  # no values loaded: no empty widget
    assert cohort_options(con, WASHINGTON_ADMIN).schools == ("Washington Elementary",)


def test_quick_cohorts_are_grade_year_school(seeded) -> None:
    con, _ = seeded
    quick = quick_cohorts(con, DISTRICT)
    assert len(quick) == 6
    assert quick[0].name == "Grade K · Lincoln Elementary · 2024-2025"
    assert quick[0].to_dict()["grade"] == "K"
    assert all(len(q.schools) == 1 for q in quick)
    assert len(quick_cohorts(con, WASHINGTON_ADMIN)) == 3


def test_a_filter_named_like_a_dimension_does_not_drop_the_dimension(fresh) -> None:
    con, _ = fresh
    con.execute(
        "insert into student_attributes "
        "select distinct student_id, school_year, 'grade', 'x' from assessments"
    )
    spec = CohortSpec.from_dict({"grade": "4", "filters": {"grade": "x"}})
    result = cohort_vs_norm(con, spec, DISTRICT)
    assert set(result.grade) == {"4"}
