"""Who may see what. Every read in core takes a Scope and applies it in SQL.

A Scope is built from the signed-in user (or from the CLI's --as-user, default: the district
view for a shell user who can already read the file). Pages never widen it: they only pass it on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("district_admin", "school_admin", "teacher", "viewer")


@dataclass(frozen=True)
class Scope:
    """The slice of the warehouse a caller may read.

    schools / sections: None means "all"; an empty tuple means "none".
    """

    username: str = "system"
    role: str = "district_admin"
    schools: tuple[str, ...] | None = None
    sections: tuple[str, ...] | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"Unknown role {self.role!r}; expected one of {', '.join(ROLES)}.")

    @property
    def sees_students(self) -> bool:
        """Student-level rows (names, ids) only for roles responsible for those students."""
        return self.role in ("district_admin", "school_admin", "teacher")

    @property
    def is_admin(self) -> bool:
        return self.role == "district_admin"

    @property
    def is_everything(self) -> bool:
        return self.schools is None and self.sections is None

    def sql_predicate(self, student: str, school_name: str, school_year: str) -> tuple[str, dict]:
        """A WHERE fragment limiting rows to this scope; the column expressions come from core code,
        never from user input, and the allowed values are bound as parameters."""
        clauses: list[str] = []
        params: dict[str, list[str]] = {}
        if self.schools is not None:
            clauses.append(f"list_contains($scope_schools, {school_name})")
            params["scope_schools"] = list(self.schools)
        if self.sections is not None:
            clauses.append(
                "exists (select 1 from enrollments scope_e where scope_e.student_id = "
                f"{student} and scope_e.school_year = {school_year} "
                "and list_contains($scope_sections, scope_e.section))"
            )
            params["scope_sections"] = list(self.sections)
        return (" and ".join(clauses) or "true"), params


DISTRICT = Scope()


def scope_for_user(
    username: str, role: str, schools: list[str] | None, sections: list[str] | None
) -> Scope:
    """The scope a user's role grants: admins everything, others their assigned slice."""
    if role == "district_admin":
        return Scope(username=username, role=role)
    if role == "teacher":
        return Scope(
            username=username,
            role=role,
            schools=tuple(schools) if schools else None,
            sections=tuple(sections or ()),
        )
    return Scope(username=username, role=role, schools=tuple(schools or ()))
