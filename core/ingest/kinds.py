"""Kinds of file and their fields: what a mapped, validated row looks like and who loads it.

A Kind is data plus one loader function. The pipeline maps a file's columns onto the kind's
fields, casts and checks every field in SQL by its `type`, and hands the loader a table of good
rows (typed columns named after the fields, `_row_number`, and `"@name"` columns for extra student
attributes when `attributes` is on). The loader writes them inside the import's one transaction
and returns counts. See core/ingest/__init__.py for how to add a kind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import duckdb

from core.ingest import loaders

# Field types the validator knows how to cast and check (core/ingest/validate.py).
FIELD_TYPES = (
    "id",  # trimmed text, required to be non-blank when the field is required
    "text",  # trimmed text, blank -> NULL
    "number",  # "1,234.5", "1.234,5" (decimal-comma files), "45 %", " 215 " -> DOUBLE
    "grade",  # PK, K, 1..12 via core.warehouse.canonical.GRADE_ALIASES
    "season",  # fall | winter | spring via SEASON_ALIASES (BOY/MOY/EOY too)
    "subject",  # math | reading | language | science via SUBJECT_ALIASES + preset values
    "school_year",  # "2024-2025", "2024-25", "2024/2025" -> 2024-2025
    "date",  # ISO, US m/d/Y, d.m.Y, with or without a time -> DATE
    "bool",  # Y/N, yes/no, true/false, 1/0 -> BOOLEAN
    "term",  # "Fall 2024-2025" -> feeds season and school_year
)
SQL_TYPES = {"number": "double", "date": "date", "bool": "boolean"}


@dataclass(frozen=True)
class Field:
    """One target field of a kind.

    required: a row whose value is blank (after derivation) is rejected.
    structural: a file with no column for this field (and no derivation or constant) is refused.
    derived_from: fields this one is computed from when its own column is missing or blank
        (season and school_year from "term" or "test_date").
    on_invalid: "reject" rejects the row; "blank" reports a warning and loads the row without
        this value (for rows that carry several measures).
    low/high: valid range for numbers (a preset's "ranges" override them per platform).
    """

    name: str
    type: str = "text"
    label: str = ""
    required: bool = False
    structural: bool = False
    derived_from: tuple[str, ...] = ()
    on_invalid: str = "reject"
    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise ValueError(f"Field {self.name}: unknown type {self.type!r}")
        if self.on_invalid not in ("reject", "blank"):
            raise ValueError(f"Field {self.name}: on_invalid must be 'reject' or 'blank'")

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ")

    @property
    def sql_type(self) -> str:
        return SQL_TYPES.get(self.type, "varchar")


@dataclass
class LoadCounts:
    """What a loader did: rows new to the warehouse, rows that changed stored values, rows that
    were already there unchanged, rows it could not use (`rejected`: it wrote their errors, with
    severity "error", and the job counts them with the validator's), and what the import added
    (shown on the Upload page)."""

    inserted: int = 0
    updated: int = 0
    duplicates: int = 0
    added: dict = field(default_factory=dict)
    rejected: int = 0


# loader(con, table, job_id): `table` is a qualified name (e.g. stg.clean) readable on `con`,
# which is the warehouse inside the import's transaction. Never commit or roll back in a loader.
# Temp table `ingest_columns(field, header)` names the file's own column for each field, so a
# loader's own errors (table import_errors) can name the column a person sees.
Loader = Callable[[duckdb.DuckDBPyConnection, str, int], LoadCounts]


def current_school_year(today: dt.date | None = None) -> str:
    """The school year a date falls in (July starts a new one)."""
    today = today or dt.date.today()
    start = today.year if today.month >= 7 else today.year - 1
    return f"{start}-{start + 1}"


@dataclass(frozen=True)
class Kind:
    """A kind of file: its fields, the grain of one row (key), and the loader that writes it.

    key: fields that identify one row; repeats inside one file are reported, and only the
        newest (by `newest_by`, then the later row) is loaded.
    defaults: values for fields the file does not carry (callables, evaluated per import).
    attributes: unmapped columns become student attributes ("@" columns) when True.
    year_from_file: a file with no school year (and no date to derive it from) is filed under
        the school year of the date in its name, else of the import date (core/ingest/file_year).
    """

    name: str
    title: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    loader: Loader
    defaults: Mapping[str, Callable[[], str]] = field(default_factory=lambda: MappingProxyType({}))
    attributes: bool = True
    newest_by: str | None = None
    year_from_file: bool = False

    def get_field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


KINDS: dict[str, Kind] = {}


def register_kind(kind: Kind) -> Kind:
    """Add (or replace, for reloads) a kind in the registry."""
    unknown = [name for name in kind.key if name not in kind.field_names]
    if unknown:
        raise ValueError(f"Kind {kind.name}: key names unknown fields {unknown}")
    KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> Kind:
    loaders.discover()
    try:
        return KINDS[name]
    except KeyError:
        known = ", ".join(sorted(KINDS)) or "none"
        raise ValueError(f"Unknown kind {name!r}; known kinds: {known}.") from None


def all_kinds() -> dict[str, Kind]:
    loaders.discover()
    return dict(KINDS)
