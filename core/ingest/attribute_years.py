"""A file's student attributes per school year, with conflicts inside the file settled by a
stated rule instead of row order.

Every demographic (gender, race/ethnicity, ELL, SPED, FRL) and every extra column ("@name") is
taken for the school year of the row that carried it. When one file gives one student two
different values for the same school year (ELL "Y" on the fall test row, "N" on the spring one),
the value kept is the one on the student's latest test event of that year: the latest test
date, else the latest season (spring > winter > fall); rows still tied (a roster, or several
subjects tested the same day) keep the value most of them carry, then the alphabetically first.
Each such student × year × attribute is reported once as an import warning naming the rows.

All set-based: one grouped pass finds the (rare) conflicting groups; only their rows are ranked.
Extra columns are read a batch at a time and unpivoted into (student, school year, attribute,
value) rows, so a file of 2,000 extra columns costs what its cells cost, not a 2,000-column
query (which once took 13 GB for 50 rows).
"""

from __future__ import annotations

import duckdb

from core.warehouse.db import quote_identifier

SEASON_RANK = "case {0} when 'spring' then 3 when 'winter' then 2 when 'fall' then 1 else 0 end"
LABELS = {
    "gender": "gender",
    "race_ethnicity": "race/ethnicity",
    "ell": "ELL",
    "sped": "SPED",
    "frl": "FRL",
}
BOOLEAN_COLUMNS = ("ell", "sped", "frl")
SHOWN_ROWS = 5  # row numbers listed per value in a warning; the rest are counted
ATTRIBUTE_BATCH = 100  # extra columns read per query: memory follows the batch, not the file


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {row[0] for row in con.execute(f"select * from {table} limit 0").description}


def event_order(con: duckdb.DuckDBPyConnection, table: str, alias: str = "t") -> str:
    """A sortable expression of a row's test event within the file: school year, test date,
    season (what a file without dates or seasons lacks counts as equal)."""
    present = _table_columns(con, table)
    date = f"coalesce({alias}.test_date, date '1900-01-01')" if "test_date" in present else "0"
    season = SEASON_RANK.format(f"{alias}.season") if "season" in present else "0"
    return f"({alias}.school_year, {date}, {season})"


def student_year_values(
    con: duckdb.DuckDBPyConnection,
    table: str,
    yearly: list[str],
    attributes: tuple[str, ...],
    job_id: int,
) -> None:
    """Two temp tables, the file's one value per student × school year (conflicts settled and
    reported, see the module docstring): `_student_year_values`, one row per student × year with
    each demographic column in `yearly`; `_attribute_year_values`, one row per student × year ×
    "@" attribute that has a value (grain: student_id, school_year, attribute, value)."""
    picks = "".join(f", min({n}) as {n}" for n in yearly)
    flags = "".join(f", min({n}) is distinct from max({n}) as {_flag(n)}" for n in yearly)
    con.execute(
        f"""
        create or replace temp table _student_year_values as
        select student_id, school_year{picks}{flags}
        from {table} where school_year is not null
        group by student_id, school_year
        """
    )
    _attribute_year_values(con, table, attributes)
    conflicted = [n for n, f in zip(yearly, _any_flags(con, yearly), strict=True) if f]
    if conflicted or _has_conflicts(con):
        _settle(con, table, conflicted, job_id)
    for name in yearly:
        con.execute(f"alter table _student_year_values drop column {_flag(name)}")


def _batches(names: tuple[str, ...] | list[str]) -> list[list[str]]:
    """Attribute columns a few at a time: a file's width never becomes one query's width."""
    return [list(names[i : i + ATTRIBUTE_BATCH]) for i in range(0, len(names), ATTRIBUTE_BATCH)]


def _attribute_year_values(
    con: duckdb.DuckDBPyConnection, table: str, attributes: tuple[str, ...]
) -> None:
    """`_attribute_year_values` (student_id, school_year, attribute, value, conflicted): each
    batch of attribute columns grouped per student × year (lowest value, and whether the year's
    rows disagree), then unpivoted into rows — work linear in the file's cells, whatever its
    width. UNPIVOT leaves blanks out, so a blank never becomes a value."""
    con.execute(
        f"""
        create or replace temp table _attribute_year_values as
        select student_id, school_year, ''::varchar as attribute, ''::varchar as value,
               false as conflicted
        from {table} limit 0
        """
    )
    for batch in _batches(attributes):
        listed = ", ".join(quote_identifier(a) for a in batch)
        packed = ", ".join(
            f"{{'low': min({q}), 'high': max({q})}} as {q}"
            for q in (quote_identifier(a) for a in batch)
        )
        con.execute(
            f"""
            insert into _attribute_year_values
            select student_id, school_year, attribute, pair.low,
                   pair.low is distinct from pair.high
            from (
                unpivot (
                    select student_id, school_year, {packed} from {table}
                    where school_year is not null group by student_id, school_year
                ) on {listed} into name attribute value pair
            )
            where pair.low is not null
            """
        )


def _has_conflicts(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("select bool_or(conflicted) from _attribute_year_values").fetchone()[0]


def _flag(name: str) -> str:
    return quote_identifier("!" + name.strip('"'))


def _any_flags(con: duckdb.DuckDBPyConnection, names: list[str]) -> list[bool]:
    if not names:
        return []
    row = con.execute(
        f"select {', '.join(f'bool_or({_flag(n)})' for n in names)} from _student_year_values"
    ).fetchone()
    return [bool(v) for v in row]


def _event_columns(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """A row's test date and season rank, for ranking conflicting values."""
    present = _table_columns(con, table)
    date = "t.test_date" if "test_date" in present else "null::date"
    season = SEASON_RANK.format("t.season") if "season" in present else "0"
    return f"{date} as test_date, {season} as season_rank"


def _conflict_rows(con: duckdb.DuckDBPyConnection, table: str, yearly: list[str]) -> None:
    """`_conflict_rows` — grain: one row per file row × conflicting attribute with a value: the
    demographic columns one narrow select each, the "@" attributes unpivoted a batch at a time
    from the rows of the student × years that disagree."""
    event = _event_columns(con, table)
    con.execute(
        f"""
        create or replace temp table _conflict_rows as
        select t.student_id, t.school_year, ''::varchar as attribute, ''::varchar as value,
               t._row_number, {event}
        from {table} t limit 0
        """
    )
    for name in yearly:
        con.execute(
            f"""
            insert into _conflict_rows by name
            select t.student_id, t.school_year, '{name}' as attribute,
                   t.{name}::varchar as value, t._row_number, {event}
            from {table} t
            semi join _student_year_values s on s.student_id = t.student_id
                and s.school_year = t.school_year and s.{_flag(name)}
            where t.{name} is not null
            """
        )
    conflicted = con.execute(
        "select distinct attribute from _attribute_year_values where conflicted order by 1"
    ).fetchall()
    for batch in _batches([row[0] for row in conflicted]):
        listed = ", ".join(quote_identifier(a) for a in batch)
        con.execute(
            f"""
            insert into _conflict_rows by name
            select u.* from (
                unpivot (
                    select t.student_id, t.school_year, t._row_number, {event}, {listed}
                    from {table} t
                    semi join _attribute_year_values a on a.student_id = t.student_id
                        and a.school_year = t.school_year and a.conflicted
                ) on {listed} into name attribute value value
            ) u
            semi join _attribute_year_values a on a.student_id = u.student_id
                and a.school_year = u.school_year and a.attribute = u.attribute and a.conflicted
            """
        )


def _settle(con: duckdb.DuckDBPyConnection, table: str, yearly: list[str], job_id: int) -> None:
    """Rank the conflicting groups' rows, write the winners into _student_year_values (the
    conflicting demographic columns `yearly`) and _attribute_year_values, and one warning per
    student × year × attribute into import_errors."""
    _conflict_rows(con, table, yearly)
    con.execute(
        f"""
        create or replace temp table _attribute_conflicts as
        with counted as (
            select *, count(*) over (partition by student_id, school_year, attribute, value)
                as frequency
            from _conflict_rows
        ),
        ranked as (
            select *, row_number() over (
                partition by student_id, school_year, attribute
                order by test_date desc nulls last, season_rank desc, frequency desc, value
            ) as rank
            from counted
        ),
        per_value as (
            select student_id, school_year, attribute, value, min(rank) as best,
                   list(_row_number order by _row_number) as row_list
            from ranked group by all
        )
        select student_id, school_year, attribute,
               arg_min(value, best) as winner,
               min(row_list[1]) as first_row,
               string_agg(
                   printf('%s on row%s %s%s', {_shown("value")},
                          case when len(row_list) > 1 then 's' else '' end,
                          array_to_string(row_list[1:{SHOWN_ROWS}], ', '),
                          case when len(row_list) > {SHOWN_ROWS}
                               then printf(' and %d more', len(row_list) - {SHOWN_ROWS})
                               else '' end),
                   '; ' order by best) as detail
        from per_value group by all
        """
    )
    for name in yearly:
        con.execute(
            f"update _student_year_values s set {name} = c.winner::"
            f"{'boolean' if name in BOOLEAN_COLUMNS else 'varchar'} "
            "from _attribute_conflicts c where c.student_id = s.student_id "
            "and c.school_year = s.school_year and c.attribute = $attribute",
            {"attribute": name},
        )
    con.execute(
        "update _attribute_year_values a set value = c.winner from _attribute_conflicts c "
        "where c.student_id = a.student_id and c.school_year = a.school_year "
        "and c.attribute = a.attribute"
    )
    _report(con, job_id)
    con.execute("drop table _attribute_conflicts")
    con.execute("drop table _conflict_rows")


def _shown(expr: str) -> str:
    """A value as a person reads it (yes/no for the yes/no attributes)."""
    return (
        f"case when attribute in {BOOLEAN_COLUMNS} then "
        f"case {expr} when 'true' then 'yes' else 'no' end else {expr} end"
    )


def _report(con: duckdb.DuckDBPyConnection, job_id: int) -> None:
    """One warning per student × school year × attribute, at the first row involved."""
    headers = (
        "(select header from ingest_columns where field = c.attribute)"
        if _has_table(con, "ingest_columns")
        else "null"
    )
    label = (
        "case c.attribute "
        + " ".join(f"when '{k}' then '{v}'" for k, v in LABELS.items())
        + " else replace(ltrim(c.attribute, '@'), '_', ' ') end"
    )
    con.execute(
        f"""
        insert into import_errors (job_id, row_number, column_name, message, severity)
        select $job, c.first_row, coalesce({headers}, c.attribute),
               printf('Student %s has different %s values for %s in this file: %s. Kept %s '
                      || '(the value on the student''s latest test that year; ties go to the '
                      || 'most frequent value, then alphabetical). Correct the source file '
                      || 'and import it again if that is wrong.',
                      c.student_id, {label}, c.school_year, c.detail,
                      {_shown("c.winner")}),
               'warning'
        from _attribute_conflicts c
        order by c.first_row, c.attribute
        """,
        {"job": job_id},
    )


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where table_name = $n and temporary",
            {"n": name},
        ).fetchone()[0]
    )
