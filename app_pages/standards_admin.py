"""Standards & norms (district admin): which national norms cohorts are compared with, and the
district's own standards — state cut scores / proficiency bands, local targets, its own norms —
uploaded as CSV, edited in a table and versioned by source year."""

import streamlit as st

from core.access import audit
from core.standards import norms
from core.warehouse.canonical import PLATFORMS
from core.words.markup import literal
from ui.auth import require_admin
from ui.session import warehouse

admin = require_admin()
st.title("📚 Standards & norms")


def change(action, *args, detail: dict, **kwargs) -> None:  # noqa: ANN001 - a core.standards.norms function
    """Run a change, audit it, rerun; a bad table becomes a message, not a traceback."""
    try:
        with warehouse() as con:
            action(con, *args, **kwargs)
            audit.log(con, admin.username, "settings_change", {"area": "standards", **detail})
    except norms.StandardsError as exc:
        st.error(literal(str(exc)))
        return
    st.rerun()


with warehouse() as con:
    choices, chosen, in_use = (
        norms.norm_choices(con),
        norms.chosen_norms_key(con),
        norms.load_norm_set(con),
    )
st.subheader("National norms")
key = st.radio("Compare cohorts with", list(choices), index=list(choices).index(chosen),
               format_func=choices.get, horizontal=True)  # fmt: skip
if key != chosen:
    change(norms.choose_norms, key, user=admin.username, detail={"norms_year": key})
st.caption(
    f"{in_use.source_note} Values: {in_use.exactness}. Sources of every file: norms/README.md."
)
with st.expander("The norm table in use"):
    st.dataframe(in_use.values, hide_index=True, width="stretch")

st.subheader("District standards")
kind = st.segmented_control(
    "Kind", norms.KINDS, format_func=norms.KIND_LABELS.get, default="cut_scores",
    key="standards_admin:kind",
) or "cut_scores"  # fmt: skip
with warehouse() as con:
    sets, active = norms.list_standard_sets(con, kind), norms.active_set(con, kind)
edit_tab, upload_tab = st.tabs(["Edit a set", "Upload a CSV"])

with upload_tab:
    left, right = st.columns(2)
    name = left.text_input("Name", placeholder="e.g. Ohio OST via NWEA linking study")
    year = right.text_input("Source year", placeholder="e.g. 2024-2025")
    note = left.text_input("Source note", placeholder="Where the numbers come from")
    platform = right.selectbox(
        "Test (scale) these values are for", [None, *PLATFORMS],
        format_func=lambda p: "— not stated —" if p is None else f"{PLATFORMS[p]} ({p})",
        help="District norms judge only scores of the test named here (none stated: no score). "
        "Cut scores and targets with a test apply to that test's scores only.",
    )  # fmt: skip
    st.caption("Columns: " + ", ".join(norms.TEMPLATES[kind]) + ". A blank season applies to "
               "every season; proficient is yes/no.")  # fmt: skip
    st.download_button("Download an empty template", norms.template_csv(kind),
                       f"{kind}_template.csv", "text/csv")  # fmt: skip
    upload = st.file_uploader("CSV file", type=["csv"], key=f"standards_admin:upload:{kind}")
    if st.button("Upload", type="primary", disabled=upload is None):
        try:
            table = norms.read_standard_csv(kind, upload.getvalue())
        except norms.StandardsError as exc:
            st.error(literal(str(exc)))
        else:
            detail = {"upload": kind, "name": name, "source_year": year, "rows": len(table)}
            change(norms.save_standard_set, kind, name, year, table, source_note=note,
                   platform=platform or None, user=admin.username, detail=detail)  # fmt: skip

with edit_tab:
    if sets.empty:
        st.info(f"No {norms.KIND_LABELS[kind].lower()} yet: upload a CSV in the next tab.")
        st.stop()
    labels = {int(r.set_id): f"{r.name} ({r.source_year})" for r in sets.itertuples()}
    set_id = st.selectbox("Set", list(labels), format_func=labels.get)
    st.caption(f"Newest / pinned: {literal(active.label) if active else 'none'}. Each school "
               "year uses the set of its own source year (e.g. 2024-2025), else the nearest "
               "earlier one; a pinned set applies to every year.")  # fmt: skip
    with warehouse() as con:
        current = norms.get_standard_set(con, set_id)
        values = norms.standard_values(con, set_id).drop(columns="band_order", errors="ignore")
    edited = st.data_editor(values, num_rows="dynamic", hide_index=True, width="stretch",
                            key=f"standards_admin:edit:{set_id}")  # fmt: skip
    save, pin, newest, delete = st.columns(4)
    if save.button("Save changes", type="primary"):
        change(norms.save_standard_set, kind, current.name, current.source_year, edited,
               source_note=current.source_note, platform=current.platform, user=admin.username,
               detail={"edit": kind, "set": labels[set_id], "rows": len(edited)})  # fmt: skip
    if pin.button("Use this set"):
        change(norms.pin_set, kind, set_id, user=admin.username, detail={"pin": labels[set_id]})
    if newest.button("Use the newest"):
        change(norms.pin_set, kind, None, user=admin.username, detail={"pin": "newest"})
    if delete.button("Delete this set"):
        change(norms.delete_standard_set, set_id, user=admin.username,
               detail={"delete": labels[set_id]})  # fmt: skip
