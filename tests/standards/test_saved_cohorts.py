"""Saved cohorts: save, rename, duplicate, delete, list — and who may see or change them."""

from __future__ import annotations

import pytest

from core.access.scope import Scope
from core.cohorts import saved as saved
from core.cohorts.spec import CohortSpec

ADMIN = Scope("ada", "district_admin")
PRINCIPAL = Scope("pat", "school_admin", schools=("Washington Elementary",))
SPEC = CohortSpec.from_dict({"grade": "3", "subject": "reading", "filters": {"ell": True}})


def test_save_rename_duplicate_delete(con) -> None:
    first = saved.save_cohort(con, PRINCIPAL, "  Grade 3   ELL ", SPEC)
    assert first.name == "Grade 3 ELL" and first.spec.replace(name="") == SPEC
    assert first.spec.name == "Grade 3 ELL" and first.owner == "pat"
    with pytest.raises(saved.SavedCohortError, match="already exists"):
        saved.save_cohort(con, PRINCIPAL, "grade 3 ell", SPEC)
    renamed = saved.rename_cohort(con, PRINCIPAL, first.cohort_id, "G3 English learners")
    assert saved.get_cohort(con, PRINCIPAL, "g3 english learners").cohort_id == first.cohort_id
    copy = saved.duplicate_cohort(con, PRINCIPAL, renamed.cohort_id)
    again = saved.duplicate_cohort(con, PRINCIPAL, renamed.cohort_id)
    assert (copy.name, again.name) == ("G3 English learners (copy)", "G3 English learners (copy 2)")
    updated = saved.update_cohort(con, PRINCIPAL, copy.cohort_id, SPEC.replace(grade="4"))
    assert updated.spec.grade == ("4",) and updated.name == copy.name
    saved.delete_cohort(con, PRINCIPAL, again.cohort_id)
    names = [c.name for c in saved.list_cohorts(con, PRINCIPAL)]
    assert names == ["G3 English learners", "G3 English learners (copy)"]


def test_visibility_and_ownership(con) -> None:
    con.execute(
        "insert into users (username, role, password_hash) values ('ada', 'district_admin', 'x')"
    )
    shared = saved.save_cohort(con, ADMIN, "District grade 3", SPEC)
    mine = saved.save_cohort(con, PRINCIPAL, "Mine", SPEC)
    other = Scope("sam", "school_admin", schools=("Lincoln Elementary",))
    assert [c.name for c in saved.list_cohorts(con, other)] == ["District grade 3"]
    assert {c.name for c in saved.list_cohorts(con, ADMIN)} == {"District grade 3", "Mine"}
    with pytest.raises(saved.SavedCohortError, match="belongs to ada"):
        saved.rename_cohort(con, PRINCIPAL, shared.cohort_id, "Taken over")
    with pytest.raises(saved.SavedCohortError, match="No saved cohort"):
        saved.delete_cohort(con, other, mine.cohort_id)
    copy = saved.duplicate_cohort(con, PRINCIPAL, shared.cohort_id)
    assert copy.owner == "pat"
    saved.delete_cohort(con, ADMIN, mine.cohort_id)  # an admin may tidy up anyone's


def test_names_are_checked(con) -> None:
    with pytest.raises(saved.SavedCohortError, match="Give the cohort a name"):
        saved.save_cohort(con, ADMIN, "   ", SPEC)
    with pytest.raises(saved.SavedCohortError, match="at most"):
        saved.save_cohort(con, ADMIN, "x" * 200, SPEC)
