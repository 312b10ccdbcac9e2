"""Cohorts as plain data (CohortSpec) and the one SQL predicate that turns a spec into members.

Every statistic reads members through `member_scores_sql`, which applies the caller's Scope in
the same WHERE clause, so no page, export or CLI call can see outside it. Filter values are always
bound parameters; filter *names* choose between whitelisted SQL shapes and are bound too when they
name an extra attribute, so a crafted spec is data, never SQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.access.scope import Scope
from core.warehouse import canonical

# Filter names with a column of their own; anything else is an extra student attribute.
BOOLEAN_ATTRIBUTES = ("ell", "sped", "frl")
TEXT_ATTRIBUTES = ("gender", "race_ethnicity")
ENROLLMENT_ATTRIBUTES = ("teacher", "section")
# Readings of a yes/no attribute beyond this year's value: "ever" = yes in this or any earlier
# loaded school year (former-EL reporting), "former" = yes in an earlier year, recorded "no" this
# year. Never the default: true/false read the score's own school year.
HISTORY_VALUES = ("ever", "former")
_TRUE = {"true", "1", "y", "yes", "t"}
_FALSE = {"false", "0", "n", "no", "f"}


class SpecError(ValueError):
    """A cohort spec that cannot be read; the message says which key and why."""


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None or value == "" or value == []:
        return ()
    if isinstance(value, list | tuple | set):
        return tuple(str(v) for v in value if v is not None and str(v) != "")
    return (str(value),)


def _canonical_tuple(values: tuple[str, ...], fn: Any, key: str, allowed: tuple[str, ...]) -> tuple:
    out = []
    for value in values:
        mapped = fn(value)
        if mapped is None:
            raise SpecError(f"{key}: {value!r} is not one of {', '.join(allowed)}.")
        out.append(mapped)
    return tuple(dict.fromkeys(out))


def parse_bool(value: Any) -> bool:
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SpecError(f"{value!r} is not yes/no (use true or false).")


def _boolean_value(value: Any) -> str:
    """A yes/no filter value as stored in a spec: "true"/"false", or a history reading."""
    text = str(value).strip().lower()
    if text in HISTORY_VALUES:
        return text
    try:
        return str(parse_bool(value)).lower()
    except SpecError:
        raise SpecError(
            f"{value!r} is not yes/no (use true or false; or ever / former for a student who "
            "had it in this or an earlier school year)."
        ) from None


def _boolean_json(value: str) -> bool | str:
    return value if value in HISTORY_VALUES else value == "true"


@dataclass(frozen=True)
class CohortSpec:
    """A cohort: empty tuples mean "all". Frozen so it can key caches."""

    name: str = ""
    school_year: tuple[str, ...] = ()
    grade: tuple[str, ...] = ()
    subject: tuple[str, ...] = ()
    season: tuple[str, ...] = ()
    schools: tuple[str, ...] = ()
    filters: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CohortSpec:
        if not isinstance(data, dict):
            raise SpecError('A cohort spec is a JSON object, e.g. {"grade": "3"}.')
        years = _canonical_tuple(
            _as_tuple(data.get("school_year")), canonical.school_year, "school_year", ("2024-2025",)
        )
        filters_in = data.get("filters") or {}
        if not isinstance(filters_in, dict):
            raise SpecError("filters must be an object of attribute: value(s).")
        filters = []
        for key, value in sorted(filters_in.items()):
            name = canonical.normalize_header(key)
            values = _as_tuple(value)
            if name in BOOLEAN_ATTRIBUTES:
                values = tuple(_boolean_value(v) for v in values)
            if name and values:
                filters.append((name, values))
        return cls(
            name=str(data.get("name") or ""),
            school_year=years,
            grade=_canonical_tuple(
                _as_tuple(data.get("grade")), canonical.grade, "grade", canonical.GRADES
            ),
            subject=_canonical_tuple(
                _as_tuple(data.get("subject")), canonical.subject, "subject", canonical.SUBJECTS
            ),
            season=_canonical_tuple(
                _as_tuple(data.get("season")), canonical.season, "season", canonical.SEASONS
            ),
            schools=_as_tuple(data.get("schools", data.get("school"))),
            filters=tuple(filters),
        )

    def to_dict(self) -> dict[str, Any]:
        """The design's JSON contract: one value as a scalar, several as a list, "all" omitted."""

        def one_or_many(values: tuple[str, ...]) -> Any:
            return values[0] if len(values) == 1 else list(values)

        out: dict[str, Any] = {"name": self.name} if self.name else {}
        for key in ("school_year", "grade", "subject", "season"):
            if getattr(self, key):
                out[key] = one_or_many(getattr(self, key))
        if self.schools:
            out["schools"] = list(self.schools)
        if self.filters:
            out["filters"] = {
                k: one_or_many(
                    tuple(_boolean_json(v) for v in vals) if k in BOOLEAN_ATTRIBUTES else vals
                )
                for k, vals in self.filters
            }
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=False)

    def replace(self, **changes: Any) -> CohortSpec:
        data = self.to_dict()
        data.update(changes)
        return CohortSpec.from_dict({k: v for k, v in data.items() if v is not None})

    def definition(self) -> CohortSpec:
        """The cohort without a name anyone typed or a link carried: which students it counts.
        A quick cohort (one grade, school and year, nothing else) keeps the name its definition
        gives it, if it has it; any other name is dropped (`label()` then describes it)."""
        one = len(self.grade) == len(self.schools) == len(self.school_year) == 1
        quick = one and not (self.subject or self.season or self.filters)
        given = quick and self.name == quick_name(
            self.grade[0], self.schools[0], self.school_year[0]
        )
        return self if given or not self.name else self.replace(name="")

    @property
    def filter_dict(self) -> dict[str, tuple[str, ...]]:
        return dict(self.filters)

    def label(self) -> str:
        """A human name: the saved name, else built from the spec ("Grade 3 · math · spring")."""
        if self.name:
            return self.name
        parts = []
        if self.grade:
            parts.append("Grade " + ", ".join(self.grade))
        parts += [", ".join(v) for v in (self.subject, self.season, self.school_year) if v]
        if self.schools:
            parts.append(", ".join(self.schools))
        parts += [f"{k}={'/'.join(v)}" for k, v in self.filters]
        return " · ".join(parts) or "All students"


def quick_name(grade: str, school: str, school_year: str) -> str:
    """A quick cohort's name, for the builder and narratives: "Grade 3 · Lincoln · 2024-2025"."""
    return f"Grade {grade} · {school} · {school_year}"


def load_spec(text_or_path: str) -> CohortSpec:
    """The CLI's SPEC: a path to a JSON file or an inline JSON object."""
    text = text_or_path.strip()
    if not text.startswith("{"):
        path = Path(text)
        if not path.exists():
            raise SpecError(
                f"No cohort spec file at {path} (pass a JSON file or an inline object)."
            )
        text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(
            f"The cohort spec is not valid JSON: {exc.msg} at line {exc.lineno}."
        ) from exc
    return CohortSpec.from_dict(data)


def _boolean_sql(key: str, name: str, values: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """This year's value (st = student_years of the score's year), or a history reading read
    from the student's earlier years (set-based: DuckDB decorrelates the EXISTS into a join)."""
    earlier = (
        "exists (select 1 from student_years fy where fy.student_id = a.student_id "
        f"and fy.school_year {{}} a.school_year and fy.{name})"
    )
    clauses, params = [], {}
    plain = [v == "true" for v in values if v not in HISTORY_VALUES]
    if plain:
        clauses.append(f"list_contains(${key}, st.{name})")
        params[key] = plain
    if "ever" in values:
        clauses.append(earlier.format("<="))
    if "former" in values:
        clauses.append(f"(st.{name} = false and {earlier.format('<')})")
    return "(" + " or ".join(clauses) + ")", params


def _filter_sql(index: int, name: str, values: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    key = f"f{index}"
    if name in BOOLEAN_ATTRIBUTES:
        return _boolean_sql(key, name, values)
    lowered = [v.strip().lower() for v in values]
    if name in TEXT_ATTRIBUTES:
        return f"list_contains(${key}, lower(st.{name}))", {key: lowered}
    if name in ENROLLMENT_ATTRIBUTES:
        return (
            f"exists (select 1 from enrollments fe where fe.student_id = a.student_id "
            f"and fe.school_year = a.school_year and list_contains(${key}, lower(fe.{name})))",
            {key: lowered},
        )
    return (
        f"exists (select 1 from student_attributes fx where fx.student_id = a.student_id "
        f"and fx.school_year = a.school_year and fx.attribute = ${key}_name "
        f"and list_contains(${key}, lower(fx.value)))",
        {key: lowered, f"{key}_name": name},
    )


def spec_predicate(
    spec: CohortSpec, scope: Scope, *, skip: tuple[str, ...] = ()
) -> tuple[str, dict[str, Any]]:
    """WHERE clause over `assessments a join schools sc left join student_years st` (the
    student's attributes as of the score's school year; see MEMBER_FROM).

    `skip` leaves out some dimensions (e.g. school_year when a query ranges over all years)."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    columns = {
        "school_year": "a.school_year",
        "grade": "a.grade",
        "subject": "a.subject",
        "season": "a.season",
        "schools": "sc.name",
    }
    for key, column in columns.items():
        values = getattr(spec, key)
        if values and key not in skip:
            clauses.append(f"list_contains($spec_{key}, {column})")
            params[f"spec_{key}"] = list(values)
    for index, (name, values) in enumerate(spec.filters):
        if name in skip:
            continue
        clause, bound = _filter_sql(index, name, values)
        clauses.append(clause)
        params.update(bound)
    scope_sql, scope_params = scope.sql_predicate("a.student_id", "sc.name", "a.school_year")
    clauses.append(scope_sql)
    params.update(scope_params)
    return " and ".join(clauses), params


MEMBER_COLUMNS = """
    a.student_id, a.platform, a.subject, a.school_year, a.season, a.grade, sc.name as school,
    a.score, a.percentile, a.growth_percentile, a.proficiency_level, a.test_date
"""

# A student's attributes as of the school year of the row `a` (a score, an enrollment).
STUDENT_YEAR_JOIN = (
    "left join student_years st on st.student_id = a.student_id and st.school_year = a.school_year"
)
MEMBER_FROM = f"""
    assessments a
    join schools sc on sc.school_id = a.school_id
    {STUDENT_YEAR_JOIN}
"""
SCORES_FROM = "assessments a join schools sc on sc.school_id = a.school_id"


def member_from(spec: CohortSpec, *, student_years: bool = False) -> str:
    """MEMBER_FROM when the spec's filters (or the caller's columns: `student_years`) read `st`,
    else the scores without that join (it costs a good part of a scan over every score)."""
    reads = any(name in (*BOOLEAN_ATTRIBUTES, *TEXT_ATTRIBUTES) for name, _ in spec.filters)
    return MEMBER_FROM if reads or student_years else SCORES_FROM


def member_scores_sql(
    spec: CohortSpec, scope: Scope, *, skip: tuple[str, ...] = ()
) -> tuple[str, dict[str, Any]]:
    """SELECT of the cohort's test events (one row per student × subject × year × season)."""
    where, params = spec_predicate(spec, scope, skip=skip)
    return f"select {MEMBER_COLUMNS} from {MEMBER_FROM} where {where}", params


def cohort_size(con: Any, spec: CohortSpec, scope: Scope) -> int:
    """Distinct students in the cohort (the live member count on the builder page)."""
    sql, params = member_scores_sql(spec, scope)
    return con.execute(f"select count(distinct student_id) from ({sql})", params).fetchone()[0]
