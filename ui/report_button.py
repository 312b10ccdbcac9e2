"""`report_download(specs)`: "Download report" buttons (PDF and Excel) any results page can drop in.

The file is built only when the button is clicked (Streamlit calls `data` then, outside the
script run, so the callable gets everything it needs as arguments and opens the warehouse
itself); the download is written to the audit log by `core.report.files.report_file`.

Nothing the callable does reaches the page: an exception only makes Streamlit log it and show
"Failed to generate file for download" under the button for a few seconds. So while an import
holds the warehouse the callable waits for it (the button keeps spinning), and if it is still
busy after that, or cannot be opened, the download is a notice in the same format saying why
there is no report and what to do (`core.report.notices`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path

import streamlit as st

from core.access.scope import Scope
from core.cohorts.spec import CohortSpec
from core.report.files import KINDS, file_name, report_file
from core.report.notices import notice_file
from core.warehouse import db
from ui.session import db_path, scope, username

# An import usually holds the warehouse for seconds; the browser gives a download 180 s.
REPORT_WAIT_SECONDS = 60.0
NOT_BUILT = "This report could not be built just now"
BUSY = (
    "The warehouse was busy with an import, still running after a minute. "
    "Nothing is wrong with your data."
)
AGAIN = "Click the download button again in a moment to get the report."


def build_file(
    path: Path, specs: tuple[CohortSpec, ...], who: Scope, user: str, kind: str
) -> bytes:
    """The report file, or a notice file of the same kind when the warehouse is not to be had."""
    try:
        with db.connect(path, wait_seconds=REPORT_WAIT_SECONDS) as con:
            return report_file(con, specs, who, user, kind)
    except db.WarehouseBusyError:
        return notice_file(kind, NOT_BUILT, [BUSY, AGAIN])
    except db.WarehouseError as exc:
        return notice_file(kind, NOT_BUILT, [f"The warehouse cannot be opened: {exc}", AGAIN])


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
            + " — built when you click (a few seconds per cohort; it waits for a running "
            "import).",
        )
