"""The school year a file's student attributes are recorded for, when its rows carry none.

A roster or SIS snapshot without a school year column describes students on some day; its
attributes belong to the school year containing that day (July 1 – June 30). The day is, in
this order: the file's own date column (each row's date, as-of / snapshot date), else a date
in the file name ("roster_2025-03-01.csv", "sis_20250301.xlsx"), else the day it was imported
(the last two also fill the rows of a dated file whose date is blank).
What was chosen and why is part of the import's summary (`attributes_school_year`,
`attributes_year_from`), shown on the Upload page and in `import --json`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from core.ingest.kinds import current_school_year
from core.ingest.presets import Mapping

YEAR_FIELD = "school_year"
_NAME_DATE = re.compile(r"(?<!\d)(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})(?!\d)")
WHY = {
    "school_year_column": "each row's school year",
    "date_column": "the school year of each row's date",
    "file_name": "the school year of the date in the file name ({day})",
    "import_date": "the school year of the import date ({day}): the file has no school year, "
    "no date column and no date in its name",
}


def date_in_name(file_name: str) -> dt.date | None:
    """The first valid calendar date written as YYYY-MM-DD, YYYY_MM_DD or YYYYMMDD in a name."""
    for match in _NAME_DATE.finditer(file_name):
        try:
            day = dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            continue
        if 1990 <= day.year <= 2100:
            return day
    return None


def with_file_year(
    mapping: Mapping, file_name: str, filed_on: dt.date | None = None
) -> tuple[Mapping, dict]:
    """The mapping to validate with (a file-level school year added as a constant where the
    kind files rows by a date and the file carries neither year nor date), and the summary
    fields saying which school year the attributes go to and why."""
    kind = mapping.kind
    if not kind.attributes or YEAR_FIELD not in kind.field_names:
        return mapping, {}
    if mapping.column_for(YEAR_FIELD) is not None or YEAR_FIELD in mapping.constants:
        return mapping, _note(None, "school_year_column")
    spec = kind.get_field(YEAR_FIELD)
    dated = any(mapping.column_for(origin) is not None for origin in spec.derived_from)
    if not kind.year_from_file:
        return mapping, _note(None, "date_column") if dated else {}
    day, why = date_in_name(file_name), "file_name"
    if day is None:
        day, why = filed_on or dt.date.today(), "import_date"
    year = current_school_year(day)
    # the file's year is a constant; with a date column it only fills rows without a date
    constants = {**mapping.preset.constants, YEAR_FIELD: year}
    preset = dataclasses.replace(mapping.preset, constants=constants)
    note = _note(year, why, day)
    if dated:
        note = _note(None, "date_column")
        fallback = WHY[why].split(":")[0].format(day=day.isoformat())
        note["attributes_year_reason"] += f" (rows without one: {fallback}, {year})"
    return dataclasses.replace(mapping, preset=preset), note


def _note(year: str | None, why: str, day: dt.date | None = None) -> dict:
    return {
        "attributes_school_year": year,
        "attributes_year_from": why,
        "attributes_year_reason": WHY[why].format(day=day.isoformat() if day else ""),
    }
