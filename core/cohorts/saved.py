"""Named cohorts: save, rename, duplicate, delete, list (table saved_cohorts, migration 001).

A saved cohort is only its spec (the design's JSON contract), never its members: membership is
computed live under the reader's own scope, so sharing a cohort never shares data. Everyone sees
their own cohorts and those district administrators saved (the district's shared set); only the
owner or a district administrator may change or delete one.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import duckdb

from core.access.scope import Scope
from core.cohorts.spec import CohortSpec
from core.warehouse.db import transaction

MAX_NAME = 120


class SavedCohortError(ValueError):
    """A save/rename/delete that cannot happen; the message says why."""


@dataclass(frozen=True)
class SavedCohort:
    cohort_id: int
    name: str
    spec: CohortSpec
    owner: str | None
    updated_at: dt.datetime


def _clean_name(name: str) -> str:
    text = " ".join(str(name).split())
    if not text:
        raise SavedCohortError("Give the cohort a name.")
    if len(text) > MAX_NAME:
        raise SavedCohortError(f"A cohort name has at most {MAX_NAME} characters.")
    return text


def _visible_sql() -> str:
    return """
        ($is_admin or c.owner = $me
         or c.owner in (select username from users where role = 'district_admin'))
    """


def list_cohorts(con: duckdb.DuckDBPyConnection, scope: Scope) -> list[SavedCohort]:
    rows = con.execute(
        f"select cohort_id, name, spec, owner, updated_at from saved_cohorts c "
        f"where {_visible_sql()} order by lower(name)",
        {"is_admin": scope.is_admin, "me": scope.username},
    ).fetchall()
    return [_row(r) for r in rows]


def _row(row: tuple) -> SavedCohort:
    spec = CohortSpec.from_dict({**json.loads(row[2]), "name": row[1]})
    return SavedCohort(int(row[0]), row[1], spec, row[3], row[4])


def get_cohort(con: duckdb.DuckDBPyConnection, scope: Scope, cohort: int | str) -> SavedCohort:
    """By id or by (case-insensitive) name; raises when absent or not visible to the caller."""
    key = "cohort_id = $key" if isinstance(cohort, int) else "lower(name) = lower($key)"
    row = con.execute(
        f"select cohort_id, name, spec, owner, updated_at from saved_cohorts c "
        f"where {key} and {_visible_sql()}",
        {"key": cohort, "is_admin": scope.is_admin, "me": scope.username},
    ).fetchone()
    if row is None:
        raise SavedCohortError(f"No saved cohort {cohort!r}.")
    return _row(row)


def _name_taken(con: duckdb.DuckDBPyConnection, name: str, except_id: int | None = None) -> bool:
    return (
        con.execute(
            "select count(*) from saved_cohorts where lower(name) = lower(?) and cohort_id <> ?",
            [name, -1 if except_id is None else except_id],
        ).fetchone()[0]
        > 0
    )


def save_cohort(
    con: duckdb.DuckDBPyConnection, scope: Scope, name: str, spec: CohortSpec
) -> SavedCohort:
    """Save a new named cohort owned by the caller."""
    name = _clean_name(name)
    if _name_taken(con, name):
        raise SavedCohortError(f"A cohort named {name!r} already exists; pick another name.")
    stored = spec.replace(name=name)
    with transaction(con):
        row = con.execute(
            "insert into saved_cohorts (name, spec, owner) values (?, ?, ?) returning cohort_id",
            [name, stored.to_json(), scope.username],
        ).fetchone()
    return get_cohort(con, scope, int(row[0]))


def _editable(con: duckdb.DuckDBPyConnection, scope: Scope, cohort_id: int) -> SavedCohort:
    found = get_cohort(con, scope, int(cohort_id))
    if not (scope.is_admin or found.owner == scope.username):
        raise SavedCohortError(
            f"{found.name!r} belongs to {found.owner}; duplicate it to make your own copy."
        )
    return found


def update_cohort(
    con: duckdb.DuckDBPyConnection, scope: Scope, cohort_id: int, spec: CohortSpec
) -> SavedCohort:
    """Replace a saved cohort's definition (its name stays)."""
    found = _editable(con, scope, cohort_id)
    with transaction(con):
        con.execute(
            "update saved_cohorts set spec = ?, updated_at = current_timestamp where cohort_id = ?",
            [spec.replace(name=found.name).to_json(), found.cohort_id],
        )
    return get_cohort(con, scope, found.cohort_id)


def rename_cohort(
    con: duckdb.DuckDBPyConnection, scope: Scope, cohort_id: int, new_name: str
) -> SavedCohort:
    found = _editable(con, scope, cohort_id)
    name = _clean_name(new_name)
    if _name_taken(con, name, except_id=found.cohort_id):
        raise SavedCohortError(f"A cohort named {name!r} already exists; pick another name.")
    with transaction(con):
        con.execute(
            "update saved_cohorts set name = ?, spec = ?, updated_at = current_timestamp "
            "where cohort_id = ?",
            [name, found.spec.replace(name=name).to_json(), found.cohort_id],
        )
    return get_cohort(con, scope, found.cohort_id)


def duplicate_cohort(
    con: duckdb.DuckDBPyConnection, scope: Scope, cohort_id: int, new_name: str | None = None
) -> SavedCohort:
    """A copy owned by the caller: "<name> (copy)", "(copy 2)", … unless a name is given."""
    found = get_cohort(con, scope, int(cohort_id))
    name = new_name or f"{found.name} (copy)"
    number = 2
    while new_name is None and _name_taken(con, name):
        name = f"{found.name} (copy {number})"
        number += 1
    return save_cohort(con, scope, name, found.spec)


def delete_cohort(con: duckdb.DuckDBPyConnection, scope: Scope, cohort_id: int) -> None:
    found = _editable(con, scope, cohort_id)
    with transaction(con):
        con.execute("delete from saved_cohorts where cohort_id = ?", [found.cohort_id])
