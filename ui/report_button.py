"""`report_download(specs)`: "Download report" buttons (PDF and Excel) any results page can drop in.

The file is built only when the button is clicked (Streamlit calls `data` then, outside the
script run, so the callable gets everything it needs as arguments and opens the warehouse
itself); the download is written to the audit log by `core.report_files.report_file`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path

import streamlit as st

from core import db
from core.cohorts import CohortSpec
from core.report_files import KINDS, file_name, report_file
from core.scope import Scope
from ui.session import db_path, scope, username


def build_file(
    path: Path, specs: tuple[CohortSpec, ...], who: Scope, user: str, kind: str
) -> bytes:
    with db.connect(path) as con:
        return report_file(con, specs, who, user, kind)


def report_download(specs: CohortSpec | Sequence[CohortSpec], *, key: str = "report") -> None:
    """Two buttons: the PDF report and the Excel workbook of the cohorts the page shows."""
    chosen = (specs,) if isinstance(specs, CohortSpec) else tuple(specs)
    if not chosen:
        return
    current, user, path = scope(), username(), db_path()
    labels = {"pdf": "📄 Download report (PDF)", "xlsx": "📊 Download report (Excel)"}
    for column, kind in zip(st.columns(2), KINDS, strict=True):
        column.download_button(
            labels[kind],
            data=partial(build_file, path, chosen, current, user, kind),
            file_name=file_name(chosen, kind),
            mime=KINDS[kind],
            key=f"{key}:{kind}",
            on_click="ignore",
            help="The narrative, tables and charts of "
            + ("this cohort" if len(chosen) == 1 else f"these {len(chosen)} cohorts")
            + " — built when you click (a few seconds per cohort).",
        )
