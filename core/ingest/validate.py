"""Validate: map, cast and check every staged row in SQL, in one pass over the file's rows.

Runs on the staging connection: the rows as received are table `raw_rows` of its in-memory
database; the results go to the staging file attached as `stg` (which the warehouse attaches
read-only at merge time, so the loaders read them without another copy):

- table `stg.typed`: one row per data row — `_row_number`, the typed value of every field the
  file provides (derivations applied), "@attribute" columns, and `_errors`: the list of that
  row's problems (NULL for a clean row). Casting, checking and writing happen in ONE scan;
- table `stg.errors`: one row per problem — row_number, column_name (the file's header),
  message, severity ("error" rejects the row; "warning" keeps it, maybe without that value);
- table `stg.dropped`: rows not to load (errors, and repeats of a key superseded by a newer row);
- `clean_sql`: the rows to load — what a kind's loader reads (as the temp view ingest_clean).

Low-cardinality columns (grade, season, subject, school year, term, date, yes/no) are parsed
once per distinct value into map_<field> tables, not once per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from core.ingest.kinds import Field
from core.ingest.presets import Mapping
from core.ingest.read import RAW_TABLE, literal
from core.warehouse import canonical
from core.warehouse.db import quote_identifier as quote

MACROS = Path(__file__).parent / "sql" / "macros.sql"
STAGING = "stg"  # the staging file's alias, on the staging and on the warehouse connection
# beyond this many extra columns the typed rows are written without DuckDB's common-
# subexpression pass: it takes 23 s to plan 2,000 cleaned columns (quadratic in the width)
WIDE_ATTRIBUTES = 100
MAX_DISTINCT = 200_000
LOOKUP_TYPES = ("grade", "season", "subject")
DISTINCT_TYPES = ("grade", "season", "subject", "school_year", "date", "bool", "term")
SQL_PARSERS = {
    "school_year": "yd_school_year(raw)",
    "date": "yd_date(raw)",
    "bool": "yd_bool(raw)",
}
SEASON_WORDS = {
    "fall": "fall",
    "autumn": "fall",
    "boy": "fall",
    "winter": "winter",
    "moy": "winter",
    "spring": "spring",
    "eoy": "spring",
}
SUBJECT_WORDS = {
    "math": "math",
    "maths": "math",
    "mathematics": "math",
    "reading": "reading",
    "literacy": "reading",
    "ela": "reading",
    "language": "language",
    "science": "science",
}
INVALID_MESSAGES = {
    "id": "'%s' is not a valid id",
    "number": "'%s' is not a number",
    "grade": "'%s' is not a grade (PK, K, 1-12)",
    "season": "'%s' is not a season (fall, winter, spring)",
    "subject": "'%s' is not a subject Yardstick knows (math, reading, language, science)",
    "school_year": "'%s' is not a school year like 2024-2025",
    "date": "'%s' is not a date (use 2024-09-15 or 9/15/2024)",
    "bool": "'%s' is not yes/no",
    "term": "'%s' is not a term like 'Fall 2024-2025'",
}


@dataclass(frozen=True)
class Validation:
    rows_read: int
    rejected: int  # rows with at least one error (not loaded)
    duplicates_in_file: int  # rows superseded by another row with the same key
    good: int  # rows in `clean`
    clean_sql: str = ""  # the rows to load, over stg.typed / stg.dropped


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(MACROS.read_text(encoding="utf-8"))


def _source_sql(mapping: Mapping, spec: Field) -> str | None:
    """The SQL text of a field's cell: its column, else a constant or default."""
    plan = mapping.column_for(spec.name)
    fallback = None
    if spec.name in mapping.constants:
        fallback = literal(mapping.constants[spec.name])
    elif spec.name in mapping.kind.defaults:
        fallback = literal(mapping.kind.defaults[spec.name]())
    if plan is not None:
        cell = f"yd_clean(r.{quote(plan.staged)})"
        return f"coalesce({cell}, {fallback})" if fallback else cell
    return fallback


def _lookup(spec: Field, mapping: Mapping, raw: str) -> str | None:
    """Canonical value of one distinct cell text (preset spellings first)."""
    extra = {canonical._key(k): v for k, v in mapping.preset.values.get(spec.name, {}).items()}
    if canonical._key(raw) in extra:
        return extra[canonical._key(raw)]
    if spec.type == "grade":
        return canonical.grade(raw)
    exact = canonical.season(raw) if spec.type == "season" else canonical.subject(raw)
    return exact or _by_word(raw, SEASON_WORDS if spec.type == "season" else SUBJECT_WORDS)


def _by_word(raw: str, words: dict[str, str]) -> str | None:
    """A vendor label naming exactly one canonical value ("Star Math Enterprise Tests" -> math,
    "Fall Screening" -> fall); None when it names none or several."""
    found = {words[w] for w in canonical._key(raw).split() if w in words}
    return found.pop() if len(found) == 1 else None


def _distinct_map(
    con: duckdb.DuckDBPyConnection, spec: Field, mapping: Mapping, source: str
) -> None:
    """Table map_<field>(raw, v[, season, school_year]) over the column's distinct values."""
    table = f"map_{spec.name}"
    con.execute(
        f"create or replace table {table} as "
        f"select distinct {source} as raw from {RAW_TABLE} r where {source} is not null"
    )
    count = con.execute(f"select count(*) from {table}").fetchone()[0]
    if count > MAX_DISTINCT and spec.type in (*LOOKUP_TYPES, "term"):
        raise ValueError(
            f"The {spec.title} column has {count:,} different values; is it mapped right?"
        )
    if spec.type in LOOKUP_TYPES or spec.type == "term":
        raws = [row[0] for row in con.execute(f"select raw from {table}").fetchall()]
        con.register("_lookup_frame", _lookup_frame(spec, mapping, raws))
        con.execute(f"create or replace table {table} as select * from _lookup_frame")
        con.unregister("_lookup_frame")
    else:
        parser = SQL_PARSERS[spec.type]
        con.execute(f"create or replace table {table} as select raw, {parser} as v from {table}")


def _lookup_frame(spec: Field, mapping: Mapping, raws: list[str]) -> pd.DataFrame:
    if spec.type != "term":
        return pd.DataFrame(
            {"raw": raws, "v": [_lookup(spec, mapping, r) for r in raws]}, dtype=object
        )
    season_field = Field("season", "season")
    seasons = []
    for raw in raws:
        words = raw.split()
        head = " ".join(w for w in words if not any(ch.isdigit() for ch in w))
        seasons.append(_lookup(season_field, mapping, head) if head else None)
    years = [canonical.school_year(r) for r in raws]
    return pd.DataFrame(
        {"raw": raws, "v": raws, "season": seasons, "school_year": years}, dtype=object
    )


def _typed_value(spec: Field, source: str, decimal_comma: bool) -> str:
    if spec.type == "term":
        return "case when m_term.season is not null then m_term.v end"
    if spec.type in DISTINCT_TYPES:
        return f"m_{spec.name}.v"
    if spec.type == "number":
        return f"yd_number_{'eu' if decimal_comma else 'us'}({source})"
    return source


def _with_derivations(
    spec: Field, value: str | None, sources: dict[str, str], *, value_last: bool = False
) -> str | None:
    """The field's own value, else what its derived_from fields say (term, test date). With
    `value_last` the value is a file-level fallback that yields to each row's own date."""
    parts = [value] if value and not value_last else []
    for origin in spec.derived_from:
        if origin not in sources:
            continue
        if origin == "term":
            parts.append(f"m_term.{spec.name}")
        elif origin.endswith("_date"):  # a test date, a roster's as-of date
            parts.append(f"yd_date_{'season' if spec.name == 'season' else 'year'}(m_{origin}.v)")
    if value and value_last:
        parts.append(value)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


@dataclass(frozen=True)
class Typed:
    """How each field is read: {field: source SQL} for fields the file provides, the SQL of
    the per-row typed values (over raw_rows and the map tables), and the stored fields."""

    sources: dict[str, str]
    sql: str
    stored: tuple[str, ...]  # fields with a value (the others are NULL for every row)


def build_typed(
    con: duckdb.DuckDBPyConnection, mapping: Mapping, first_row: int, decimal_comma: bool
) -> Typed:
    """The map tables of the low-cardinality fields, and the SQL that types every row: the
    trimmed source text of each field ("~name"), its own typed value ("#name", for fields that
    can also be derived), the typed value, and the "@attribute" columns."""
    sources = {}
    for spec in mapping.kind.fields:
        source = _source_sql(mapping, spec)
        if source is not None:
            sources[spec.name] = source
    joins, selects, stored = [], [f"r.rowid + {int(first_row)} as _row_number"], []
    for spec in mapping.kind.fields:
        source = sources.get(spec.name)
        value = None
        if source is not None:
            if spec.type in DISTINCT_TYPES:
                _distinct_map(con, spec, mapping, source)
                joins.append(
                    f"left join map_{spec.name} m_{spec.name} on m_{spec.name}.raw = {source}"
                )
            selects.append(f"{source} as {quote('~' + spec.name)}")
            value = _typed_value(spec, source, decimal_comma)
            if spec.derived_from:
                selects.append(f"{value} as {quote('#' + spec.name)}")
        # a roster's file-level school year (file_year) yields to each row's as-of date
        filed = mapping.kind.year_from_file and mapping.column_for(spec.name) is None
        value = _with_derivations(spec, value, sources, value_last=filed)
        if value is not None:
            stored.append(spec.name)
        selects.append(f"{value or f'null::{spec.sql_type}'} as {spec.name}")
    for plan in mapping.columns:
        if plan.attribute:
            selects.append(f"yd_clean(r.{quote(plan.staged)}) as {quote('@' + plan.attribute)}")
    sql = f"select {', '.join(selects)} from {RAW_TABLE} r {' '.join(joins)}"
    return Typed(sources, sql, tuple(stored))


def _range(spec: Field, mapping: Mapping) -> tuple[float | None, float | None]:
    low, high = mapping.preset.ranges.get(spec.name, (spec.low, spec.high))
    return low, high


def _bounds_sql(name: str, low: float | None, high: float | None, *, inside: bool) -> str:
    """`name` within (inside=True) or outside [low, high]; bounds are numbers from presets."""
    parts = []
    if low is not None:
        parts.append(f"{name} {'>=' if inside else '<'} {float(low)!r}")
    if high is not None:
        parts.append(f"{name} {'<=' if inside else '>'} {float(high)!r}")
    return (" and " if inside else " or ").join(parts)


def _range_owner(spec: Field, mapping: Mapping) -> str:
    """ "for NWEA MAP Growth scores " when the preset set the range, else nothing."""
    preset = mapping.preset
    if spec.name not in preset.ranges:
        return ""
    owner = preset.platform_title or preset.title
    return f"for {owner} {spec.title}s ".replace("%", "%%")


def _range_text(low: float | None, high: float | None) -> str:
    def show(x: float) -> str:
        return f"{x:g}"

    if low is not None and high is not None:
        return f"{show(low)}-{show(high)}"
    return f"at least {show(low)}" if low is not None else f"at most {show(high)}"


def column_label(mapping: Mapping, spec: Field) -> str:
    """The header errors about a field name: its column, else the columns it derives from."""
    plan = mapping.column_for(spec.name)
    if plan is not None:
        return plan.header
    derived = [mapping.column_for(o) for o in spec.derived_from]
    headers = [p.header for p in derived if p is not None]
    return " / ".join(headers) or spec.title


def _checks(spec: Field, mapping: Mapping, sources: dict[str, str]) -> list[tuple[str, str, str]]:
    """(condition over typed, printf template with one %s for the raw text, severity)."""
    raw = quote("~" + spec.name)
    own = quote("#" + spec.name) if spec.derived_from else spec.name
    severity = "error" if spec.on_invalid == "reject" else "warning"
    checks = []
    if spec.name in sources and spec.type in INVALID_MESSAGES:
        checks.append(
            (f"{raw} is not null and {own} is null", INVALID_MESSAGES[spec.type], severity)
        )
    low, high = _range(spec, mapping)
    if spec.type == "number" and (low is not None or high is not None):
        outside = _bounds_sql(spec.name, low, high, inside=False)
        checks.append(
            (
                f"{spec.name} is not null and ({outside})",
                f"%s is outside the valid range {_range_owner(spec, mapping)}"
                f"({_range_text(low, high)})",
                severity,
            )
        )
    if spec.required:
        blank = f"{spec.name} is null" + (f" and {raw} is null" if spec.name in sources else "")
        message = f"blank: {spec.title} is required"
        if spec.derived_from:
            message += " (and cannot be read from " + " or ".join(spec.derived_from) + ")"
        checks.append((blank, message.replace("%", "%%") + "%.0s", "error"))
    return checks


def _error_list(mapping: Mapping, sources: dict[str, str]) -> tuple[str, dict[str, str]]:
    """SQL of a row's problems (a list of structs; NULL when it has none) and its parameters."""
    items, conditions, params = [], [], {}
    for spec in mapping.kind.fields:
        raw = quote("~" + spec.name) if spec.name in sources else "''"
        for number, (condition, template, severity) in enumerate(_checks(spec, mapping, sources)):
            tag = f"{spec.name}_{number}"
            params[f"col_{tag}"] = column_label(mapping, spec)
            params[f"msg_{tag}"] = template
            params[f"sev_{tag}"] = severity
            conditions.append(f"({condition})")
            items.append(
                f"case when {condition} then struct_pack(column_name := $col_{tag}, "
                f"message := printf($msg_{tag}, coalesce({raw}, '')), severity := $sev_{tag}) end"
            )
    if not items:
        return f"null::{ERROR_TYPE}[]", params
    found = f"list_filter([{', '.join(items)}], lambda x: x is not null)"
    return f"case when {' or '.join(conditions)} then {found} end", params


ERROR_TYPE = "struct(column_name varchar, message varchar, severity varchar)"


def write_typed(con: duckdb.DuckDBPyConnection, mapping: Mapping, typed: Typed) -> None:
    """ONE scan of the rows: cast, check and write stg.typed (typed values and each row's list
    of problems); the source text is read here and nowhere after."""
    errors, params = _error_list(mapping, typed.sources)
    attributes = [quote("@" + p.attribute) for p in mapping.columns if p.attribute]
    columns = ", ".join(["_row_number", *typed.stored, *attributes])
    wide = len(attributes) > WIDE_ATTRIBUTES
    if wide:  # DuckDB's common-subexpression pass costs time quadratic in a query's width
        con.execute("set disabled_optimizers = 'common_subexpressions'")
    try:
        con.execute(
            f"create or replace table {STAGING}.typed as "
            f"select {columns}, {errors} as _errors from ({typed.sql}) t",
            params,
        )
    finally:
        if wide:
            con.execute("reset disabled_optimizers")


def build_errors(con: duckdb.DuckDBPyConnection) -> None:
    """stg.errors: the problems listed in stg.typed, one row each."""
    con.execute(
        f"""
        create or replace table {STAGING}.errors as
        select row_number, e.column_name, e.message, e.severity
        from (
            select _row_number as row_number, unnest(_errors) as e
            from {STAGING}.typed where _errors is not null
        )
        """
    )


def typed_rows_sql(mapping: Mapping, stored: tuple[str, ...]) -> str:
    """stg.typed with every field of the kind (those the file does not provide are NULL)."""
    missing = [
        f"null::{spec.sql_type} as {spec.name}"
        for spec in mapping.kind.fields
        if spec.name not in stored
    ]
    return f"select {', '.join(['t.*', *missing])} from {STAGING}.typed t"


def mark_duplicates(
    con: duckdb.DuckDBPyConnection, mapping: Mapping, stored: tuple[str, ...]
) -> int:
    """Rows sharing a key with a newer row (by the kind's newest_by, then the later row) are
    reported and left out; returns how many. Keys are compared by hash first, so only the
    few candidate groups are ranked on their full key.

    Leaves table `stg.dropped`: every row not to load (errors and superseded repeats)."""
    kind = mapping.kind
    key = ", ".join(kind.key)
    con.execute(
        f"create or replace table {STAGING}.dropped as "
        f"select distinct row_number from {STAGING}.errors where severity = 'error'"
    )
    con.execute(
        f"create or replace temp view _ok as select t.* from ({typed_rows_sql(mapping, stored)}) t "
        f"anti join {STAGING}.dropped d on t._row_number = d.row_number"
    )
    con.execute(
        f"create or replace temp table _repeats as select distinct {key} from _ok "
        f"semi join (select hash({key}) as h from _ok group by h having count(*) > 1) c "
        f"on hash({key}) = c.h"
    )
    if not con.execute("select count(*) from _repeats").fetchone()[0]:
        return 0
    newest = f"{kind.newest_by} desc nulls last, " if kind.newest_by else ""
    values = ", ".join(kind.field_names)
    labels = ", ".join(kind.get_field(k).title for k in kind.key)
    con.execute(
        f"""
        create or replace temp table _ranked as
        select o._row_number,
               row_number() over w as rank,
               first_value(o._row_number) over w as kept_row,
               hash({values}) = first_value(hash({values})) over w as identical
        from _ok o semi join _repeats g using ({key})
        window w as (partition by {key} order by {newest}o._row_number desc)
        """
    )
    con.execute(
        f"""
        insert into {STAGING}.errors
        select _row_number, null, case when identical
            then printf('duplicate of row %d (same %s, same values); loaded once',
                        kept_row, $labels)
            else printf('same %s as row %d, which is loaded instead (the later test)', $labels,
                        kept_row) end,
            'warning'
        from _ranked where rank > 1
        """,
        {"labels": labels},
    )
    con.execute(f"insert into {STAGING}.dropped select _row_number from _ranked where rank > 1")
    return con.execute("select count(*) from _ranked where rank > 1").fetchone()[0]


def clean_sql(mapping: Mapping, stored: tuple[str, ...]) -> str:
    """The rows to load: no errors, no superseded repeats, out-of-range "blank" values
    emptied. Reads stg.typed and stg.dropped (the staging file, on either connection)."""
    selects = ["_row_number"]
    for spec in mapping.kind.fields:
        low, high = _range(spec, mapping)
        bounded = spec.type == "number" and (low is not None or high is not None)
        if spec.name not in stored:
            selects.append(f"null::{spec.sql_type} as {spec.name}")
        elif spec.on_invalid == "blank" and bounded:
            inside = _bounds_sql(spec.name, low, high, inside=True)
            selects.append(f"case when {inside} then {spec.name} end as {spec.name}")
        else:
            selects.append(spec.name)
    selects += [quote("@" + p.attribute) for p in mapping.columns if p.attribute]
    return (
        f"select {', '.join(selects)} from {STAGING}.typed t "
        f"anti join {STAGING}.dropped d on t._row_number = d.row_number"
    )


def validate(
    con: duckdb.DuckDBPyConnection, mapping: Mapping, first_row: int, decimal_comma: bool
) -> Validation:
    """raw_rows → stg.typed (one scan) → stg.errors → stg.dropped on the staging connection,
    and the SQL of the clean rows that the loader reads at merge time."""
    install_macros(con)
    typed = build_typed(con, mapping, first_row, decimal_comma)
    write_typed(con, mapping, typed)
    build_errors(con)
    duplicates = mark_duplicates(con, mapping, typed.stored)
    rows_read, rejected, dropped = con.execute(
        f"""
        select (select count(*) from {STAGING}.typed),
               (select count(distinct row_number) from {STAGING}.errors
                where severity = 'error'),
               (select count(*) from {STAGING}.dropped)
        """
    ).fetchone()
    return Validation(
        rows_read, rejected, duplicates, rows_read - dropped, clean_sql(mapping, typed.stored)
    )
