"""Watch list: the students in your view who need help in one school year and subject — a low
latest score, growth below expected since fall, a missed test — most concerning first."""

import streamlit as st

from core.access import audit
from core.alerts.watch_list import (
    REASON_LABELS,
    growth_caveat,
    readable,
    summary_sentence,
    with_reasons,
)
from core.cohorts.spec import CohortSpec
from core.words.markup import literal
from ui import compare_cache as cache
from ui.cohort_widgets import picker_choices
from ui.compare_panels import download
from ui.session import scope, username, warehouse

DECIMALS = (
    "Latest score",
    "Cut score",
    "Growth since fall",
    "Expected growth",
    "Growth vs expected",
)
FORMATS = {c: st.column_config.NumberColumn(format="%.1f") for c in DECIMALS} | {
    "Percentile": st.column_config.NumberColumn(format="%d")
}

st.title("🚩 Watch list")
current = scope()
if not current.sees_students:
    st.info("Your role sees groups of students, not individual students: no watch list.")
    st.stop()
with warehouse() as con:
    options, _ = picker_choices(con, current)
if not options.school_years or not options.subjects:
    st.info("No scores within your scope yet.")
    st.stop()

year_col, subject_col, school_col, grade_col = st.columns(4)
year = year_col.selectbox("School year", options.school_years[::-1], key="watch:year")
subject = subject_col.selectbox("Subject", options.subjects, key="watch:subject")
schools = school_col.multiselect("School(s)", options.schools, key="watch:schools")
grades = grade_col.multiselect("Grade(s)", options.grades, key="watch:grade")
spec = CohortSpec.from_dict(
    {"school_year": year, "subject": subject, "schools": schools, "grade": grades}
)
with warehouse() as con:
    result = cache.watch(con, current, spec)
    audit.log(
        con,
        username(),
        "view_students",
        {"page": "watch_list", "cohort": spec.to_dict(), "students": len(result.students)},
    )

st.markdown(literal(summary_sentence(result)))
if result.students.empty:
    st.stop()

present = [flag for flag, count in result.counts.items() if count]
reasons = st.multiselect(
    "Reasons", present, default=present, format_func=REASON_LABELS.get, key="watch:reasons"
)
shown = readable(with_reasons(result.students, reasons))
st.dataframe(shown, hide_index=True, width="stretch", column_config=FORMATS)
window = literal(" → ".join(result.growth_window)) if result.growth_window else "none this year"
cut = f"the cut scores in use ({result.cut_label})" if result.cut_label else "no cut scores"
norms, season = literal(result.norm_label), literal(result.latest_season)
st.caption(
    f"Showing {len(shown)} of {len(result.students)} students on the list. Percentile: the latest "
    f"score against {norms} (the vendor's percentile where those norms do not cover "
    f"the test). Low score: below the proficiency cut score where the district loaded one for "
    f"the grade and season ({literal(cut)}), else below the 25th percentile. Growth ({window}): "
    "the student's change against the norms' expected growth, as on the Growth page. Missed: no "
    f"{season} score while others of the same school and grade took the test."
)
caveat = growth_caveat(result) if "low_growth" in reasons else ""
if caveat:
    st.info(literal(caveat))
described = {
    "school_year": year,
    "subject": subject,
    "schools": schools or "all",
    "grades": grades or "all",
    "reasons": [REASON_LABELS[r] for r in reasons],
}
described |= {"about growth": caveat} if caveat else {}
download(shown, "Download (CSV)", "watch list", described, username())
