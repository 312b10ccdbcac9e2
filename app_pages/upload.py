"""Upload (district admin): drop vendor or SIS exports; see how each was read and mapped, fix
the mapping when needed, import, and see what happened to every row."""

import streamlit as st

from core.ingest import JobSummary, bounded_preview, import_in_child, save_preset
from ui.auth import require_admin
from ui.ingest_panels import (
    DONE_TEXT,
    describe_preview,
    mapping_editor,
    progress_reporter,
    show_summary,
    test_choice,
)
from ui.session import db_path, username, warehouse, warehouse_errors

require_admin()
st.title("⬆️ Upload")
st.caption(
    "CSV, TSV, Excel (.xlsx) or JSON exports from NWEA MAP, Renaissance Star, i-Ready, DIBELS 8, "
    "your SIS roster, or any file in the generic long format (say which test it holds: national "
    "norms judge only MAP Growth scores). The same file twice adds nothing."
)
files = st.file_uploader("Drop one or more files", accept_multiple_files=True, key="upload:files")
results: dict[str, dict] = st.session_state.setdefault("upload:results", {})
if not files:
    st.info("Nothing uploaded yet. Sample files of every format are in data/samples/.")
    st.stop()


def read(file) -> object:
    """The file's preview, kept for this upload (reruns do not re-read a big file)."""
    cache = st.session_state.setdefault("upload:previews", {})
    if file.file_id not in cache:
        with warehouse_errors("Wait a moment, then rerun the page (R) to read the file."):
            cache[file.file_id] = bounded_preview(file, db=db_path(), file_name=file.name)
    return cache[file.file_id]


def run_import(file, mapping: dict | None, platform: str | None = None) -> None:
    bar = st.progress(0.0, text="Starting…")
    with warehouse_errors("Nothing was imported; wait a moment, then import again."):
        summary = import_in_child(  # a process of its own: a hostile file stops only it
            file,
            db=db_path(),
            file_name=file.name,
            origin="upload",
            mapping=mapping,
            user=username(),
            progress=progress_reporter(bar),
            platform=platform,
        )
    bar.empty()
    results[file.file_id] = summary.to_dict()


waiting = [f for f in files if f.file_id not in results]
if len(waiting) > 1 and st.button(f"Import all {len(waiting)} files", key="upload:all"):
    for file in waiting:  # with the test each generic file was said to hold, if any
        run_import(file, None, st.session_state.get(f"upload:{file.file_id}:platform"))
    st.rerun()

for file in files:
    key = f"upload:{file.file_id}"
    with st.expander(f"📄 {file.name}", expanded=True):
        if file.file_id in results:
            done = JobSummary(**results[file.file_id])
            if done.status == "completed":  # the bar stays, finished: small files pass quickly
                st.progress(1.0, text=DONE_TEXT)
            show_summary(done, key)
            continue
        seen = read(file)
        if seen.refused:
            st.error(f"This file cannot be imported: {seen.refused}")
            continue
        describe_preview(seen)
        platform = test_choice(seen, key)
        needs_mapping = bool(seen.missing)
        if needs_mapping:
            st.warning(
                "Some required fields have no column: "
                + ", ".join(seen.missing)
                + ". Say which column holds each one below."
            )
        mapping = None
        if needs_mapping or st.toggle("Adjust the column mapping", key=f"{key}:adjust"):
            mapping = mapping_editor(seen, key)
            name = st.text_input("Save this mapping as a preset named", key=f"{key}:name")
            if st.button("Save mapping", key=f"{key}:save", disabled=not name):
                with warehouse() as con:
                    save_preset(con, name, seen.kind, mapping, user=username(), platform=platform)
                st.success(f"Saved “{name}”: files with these headers will use it.")
        if st.button("Import", key=f"{key}:import", type="primary"):
            run_import(file, mapping, platform)
            st.rerun()
