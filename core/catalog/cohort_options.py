"""What a cohort can be built from, discovered from the data within the caller's scope.

The builder's widgets offer exactly what the warehouse holds: school years, schools, grades,
subjects, seasons, and every filterable attribute (student columns, enrollment teacher/section,
and each extra attribute an import brought) with its distinct values. Nothing is hard-coded.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from core.access.scope import Scope
from core.cohorts.spec import (
    BOOLEAN_ATTRIBUTES,
    ENROLLMENT_ATTRIBUTES,
    HISTORY_VALUES,
    MEMBER_FROM,
    TEXT_ATTRIBUTES,
    CohortSpec,
    quick_name,
    spec_predicate,
)
from core.stats.member_counts import members_sql
from core.stats.sufficient import PLATFORMS_CTE
from core.stats.suppression import filter_subsets
from core.warehouse import canonical

MAX_VALUES = 200  # an extra attribute with more distinct values is an identifier, not a filter
ATTRIBUTE_LABELS = {
    "ell": "English learner (ELL)",
    "sped": "Special education (SPED)",
    "frl": "Free/reduced lunch (FRL)",
    "gender": "Gender",
    "race_ethnicity": "Race/ethnicity",
    "teacher": "Teacher",
    "section": "Section",
}


@dataclass(frozen=True)
class CohortOptions:
    """The values each spec dimension takes in the scoped warehouse (sorted for widgets)."""

    school_years: tuple[str, ...]
    schools: tuple[str, ...]
    grades: tuple[str, ...]
    subjects: tuple[str, ...]
    seasons: tuple[str, ...]


def cohort_options(con: duckdb.DuckDBPyConnection, scope: Scope) -> CohortOptions:
    where, params = spec_predicate(CohortSpec(), scope)
    row = con.execute(
        f"""
        select coalesce(list(distinct a.school_year), []), coalesce(list(distinct sc.name), []),
               coalesce(list(distinct a.grade), []), coalesce(list(distinct a.subject), []),
               coalesce(list(distinct a.season), [])
        from {MEMBER_FROM} where {where}
        """,
        params,
    ).fetchone()
    return CohortOptions(
        school_years=tuple(sorted(row[0])),
        schools=tuple(sorted(row[1])),
        grades=tuple(sorted(row[2], key=canonical.grade_rank)),
        subjects=tuple(sorted(row[3], key=_order(canonical.SUBJECTS))),
        seasons=tuple(sorted(row[4], key=_order(canonical.SEASONS))),
    )


def _order(known: tuple[str, ...]):  # noqa: ANN202 - a sort key
    return lambda value: (known.index(value) if value in known else len(known), value)


def cohort_attributes(con: duckdb.DuckDBPyConnection, scope: Scope) -> dict[str, list[str]]:
    """Filterable attribute → its distinct values among students the caller may see.

    Values are those recorded in the school years of the visible scores. Yes/no attributes list
    "true"/"false", then "ever"/"former" when some student has "true" and more than one school
    year is in view; text values keep one spelling per case-insensitive value (filters match
    case-insensitively); extra attributes with more than MAX_VALUES values are left out.
    Teacher and section come from enrollments inside the scope."""
    where, params = spec_predicate(CohortSpec(), scope)
    student_parts = [
        f"select '{name}' as attribute, lower(st.{name}::varchar) as value_key, "
        f"st.{name}::varchar as value from visible v "
        "join student_years st using (student_id, school_year)"
        for name in (*BOOLEAN_ATTRIBUTES, *TEXT_ATTRIBUTES)
    ]
    enrollment_parts = [
        f"select '{name}', lower(e.{name}), e.{name} from visible v join enrollments e "
        f"using (student_id, school_year) join schools esc on esc.school_id = e.school_id "
        f"where {_enrollment_scope(scope)}"
        for name in ENROLLMENT_ATTRIBUTES
    ]
    extra = (
        "select x.attribute, lower(x.value), x.value "
        "from visible v join student_attributes x using (student_id, school_year)"
    )
    rows = con.execute(
        f"""
        with visible as (
            select distinct a.student_id, a.school_year from {MEMBER_FROM} where {where}
        ),
        found as ({" union all ".join([*student_parts, *enrollment_parts, extra])})
        select attribute, min(value) as value
        from found
        where value is not null and trim(value) <> ''
        group by attribute, value_key
        """,
        {**params, **_enrollment_params(scope)},
    ).fetchall()
    values: dict[str, list[str]] = {}
    for attribute, value in rows:
        values.setdefault(attribute, []).append(value)
    known = (*BOOLEAN_ATTRIBUTES, *TEXT_ATTRIBUTES, *ENROLLMENT_ATTRIBUTES)
    ordered = {k: sorted(values[k]) for k in known if k in values}
    if _several_years(con, where, params):  # history readings, after yes/no, never default
        for name in BOOLEAN_ATTRIBUTES:
            if "true" in ordered.get(name, []):
                ordered[name] = [*ordered[name], *HISTORY_VALUES]
    for name in sorted(set(values) - set(known)):
        if len(values[name]) <= MAX_VALUES:
            ordered[name] = sorted(values[name])
    return ordered


def _several_years(con: duckdb.DuckDBPyConnection, where: str, params: dict) -> bool:
    """More than one school year in view: only then can "ever" differ from "this year"."""
    return bool(
        con.execute(
            f"select count(distinct a.school_year) > 1 from {MEMBER_FROM} where {where}", params
        ).fetchone()[0]
    )


def _enrollment_scope(scope: Scope) -> str:
    clauses = ["true"]
    if scope.schools is not None:
        clauses.append("list_contains($enrol_schools, esc.name)")
    if scope.sections is not None:
        clauses.append("list_contains($enrol_sections, e.section)")
    return " and ".join(clauses)


def _enrollment_params(scope: Scope) -> dict[str, list[str]]:
    params = {}
    if scope.schools is not None:
        params["enrol_schools"] = list(scope.schools)
    if scope.sections is not None:
        params["enrol_sections"] = list(scope.sections)
    return params


def attribute_label(name: str) -> str:
    """Widget label for an attribute ("class_type" → "Class type")."""
    return ATTRIBUTE_LABELS.get(name, name.replace("_", " ").capitalize())


def quick_cohorts(con: duckdb.DuckDBPyConnection, scope: Scope) -> list[CohortSpec]:
    """The default set: one cohort per grade × school year × school present in the scope,
    newest year first, each named for the builder ("Grade 3 · Lincoln Elementary · 2024-2025")."""
    where, params = spec_predicate(CohortSpec(), scope)
    rows = con.execute(
        f"select distinct a.school_year, sc.name, a.grade from {MEMBER_FROM} where {where}",
        params,
    ).fetchall()
    rows.sort(key=lambda r: (_neg_year(r[0]), r[1], canonical.grade_rank(r[2])))
    return [
        CohortSpec(
            name=quick_name(grade, school, year),
            school_year=(year,),
            schools=(school,),
            grade=(grade,),
        )
        for year, school, grade in rows
    ]


def _neg_year(year: str) -> int:
    return -int(year[:4]) if year[:4].isdigit() else 0


@dataclass(frozen=True)
class Headcount:
    """The builder's live member count. `students` is None when the exact number may not be
    shown: under the minimum size, or when it would give away a small complement."""

    students: int | None
    reportable: bool
    reason: str


def headcount(
    con: duckdb.DuckDBPyConnection, spec: CohortSpec, scope: Scope, min_n: int
) -> Headcount:
    """Distinct students in the cohort, checked like every reported number: the cohort without any
    subset of its filters must add 0 or at least `min_n` students (complementary suppression)."""
    members, params = members_sql(0, spec, scope)
    full = (1 << len(spec.filters)) - 1
    subsets = filter_subsets(len(spec.filters))
    counts = "".join(
        f", count(distinct student_id) filter (where mask & {r} = {r})" for r in subsets
    )
    row = con.execute(
        f"with {PLATFORMS_CTE}, members as ({members}) "
        f"select count(distinct student_id) filter (where mask = {full}){counts} from members",
        params,
    ).fetchone()
    students = int(row[0])
    if students == 0:
        return Headcount(0, False, "No students match this cohort within your scope.")
    if students < min_n:
        return Headcount(
            None,
            False,
            f"Fewer than {min_n} students: this cohort cannot be "
            "reported (groups this small could identify students).",
        )
    for required, total in zip(subsets, row[1:], strict=True):
        if 0 < total - students < min_n:
            dropped = [n for bit, (n, _) in enumerate(spec.filters) if not (required >> bit) & 1]
            return Headcount(
                None,
                False,
                f"At least {min_n} students, but without the filter(s) {', '.join(dropped)} "
                f"the cohort gains fewer than {min_n}: its numbers would reveal that small "
                "group, so they are not reported (complementary suppression).",
            )
    return Headcount(students, True, "")
