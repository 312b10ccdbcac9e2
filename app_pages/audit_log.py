"""Audit log (district admin): who signed in, imported, exported, viewed students, changed what."""

import datetime as dt

import streamlit as st

from core.access import audit
from ui.auth import require_admin
from ui.session import warehouse

admin = require_admin()
st.title("🧾 Audit log")
st.caption(
    "Every sign-in (and failed one), import, export, report download, view of a student-level "
    "page, settings change and account change. Append-only: nothing in Yardstick edits or "
    "deletes these rows. Times are UTC."
)

with warehouse() as con:
    people = audit.users_seen(con)

today = dt.datetime.now(dt.UTC).date()
left, middle, right = st.columns(3)
period = left.date_input("Period", value=(today - dt.timedelta(days=30), today), max_value=today)
person = middle.selectbox("User", ["Everyone", *people])
action = right.selectbox("Action", ["All actions", *audit.ACTIONS])

since, until = (period[0], period[-1]) if period else (None, None)
filters = {
    "since": since,
    "until": until,
    "username": None if person == "Everyone" else person,
    "action": None if action == "All actions" else action,
}
with warehouse() as con:
    events = audit.events(con, **filters)

if events.empty:
    st.info("No events match these filters.")
    st.stop()

st.dataframe(
    events,
    hide_index=True,
    width="stretch",
    column_config={
        "event_id": st.column_config.NumberColumn("Event", format="plain"),
        "username": "User",
        "action": "Action",
        "logged_at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        "detail": st.column_config.TextColumn("Detail", width="large"),
    },
)
described = {k: v for k, v in filters.items() if v is not None}


def record_download() -> None:
    with warehouse() as con:
        audit.log(con, admin.username, "export", {"table": "audit log", **described})


st.download_button(
    f"Download these {len(events):,} events (CSV)",
    data=audit.events_csv(events, described),
    file_name=f"yardstick-audit-{today:%Y%m%d}.csv",
    mime="text/csv",
    on_click=record_download,
)
