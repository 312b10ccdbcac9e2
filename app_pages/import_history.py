"""Import history (district admin): every import job — from uploads, SFTP pulls, the CLI and
the demo — with its status, counts, timing and problems (all of them as CSV)."""

import streamlit as st

from core.backup.record import last_backup_sentence
from core.ingest import list_jobs
from ui.auth import require_admin
from ui.ingest_panels import show_errors
from ui.session import warehouse

HEADERS = {  # the job's fields in an administrator's words (CSV and CLI keep the field names)
    "job_id": "Job", "status": "Status", "file_name": "File", "source": "From",
    "remote_path": "Remote path", "preset": "Read as", "kind": "Holds", "rows_read": "Rows read",
    "inserted": "New", "updated": "Updated", "duplicates": "Already there",
    "rejected": "Rejected", "errors": "Errors", "warnings": "Warnings", "created_by": "By",
    "message": "Message",
}  # fmt: skip
COUNTS = ("rows_read", "inserted", "updated", "duplicates", "rejected", "errors", "warnings")

require_admin()
st.title("🗂️ Import history")
st.caption(
    "Newest first. A job left running by a process that stopped is marked failed here: an "
    "import lands whole or not at all, so nothing from it is in the warehouse."
)

with warehouse() as con:
    jobs = list_jobs(con)
    backup = last_backup_sentence(con)
st.caption(backup)

if jobs.empty:
    st.info("No imports yet. Add files on the Upload page or load the demo district.")
    st.stop()

statuses = st.multiselect(
    "Status", ["completed", "failed", "running", "pending"], key="history:status"
)
shown = jobs[jobs["status"].isin(statuses)] if statuses else jobs
st.dataframe(
    shown.drop(columns=["file_id"]),
    hide_index=True,
    width="stretch",
    placeholder="",  # a job with no remote path or no finish time: a blank cell, not "None"
    column_config={
        **HEADERS,
        **{
            column: st.column_config.NumberColumn(HEADERS[column], format="localized")
            for column in COUNTS
        },
        "started_at": st.column_config.DatetimeColumn("Started (UTC)"),
        "finished_at": st.column_config.DatetimeColumn("Finished (UTC)"),
        "seconds": st.column_config.NumberColumn("Seconds", format="%.1f"),
    },
)

with_problems = shown[(shown["errors"] + shown["warnings"]) > 0]
if with_problems.empty:
    st.caption("No job in this list reported a problem.")
    st.stop()
labels = {
    f"Job {row.job_id} — {row.file_name} ({row.status})": row
    for row in with_problems.itertuples(index=False)
}
choice = st.selectbox("Problems of", list(labels), key="history:job")
job = labels[choice]
if job.message:
    st.caption(job.message)
show_errors(int(job.job_id), int(job.errors + job.warnings), f"history:{job.job_id}")
