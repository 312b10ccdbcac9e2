"""Standards: how cohorts stand against the national norm (and the district's cut scores and
targets) — one cohort, a saved set, or every quick cohort (grade × year × school)."""

import streamlit as st

from core.cohorts.spec import CohortSpec
from core.words.markup import literal
from ui import standards_cache as cache
from ui.cohort_widgets import cohort_picker, picker_choices
from ui.compare_panels import follow_evidence_link
from ui.narrative_panel import narrative_panel
from ui.report_button import report_download
from ui.session import scope, username, warehouse
from ui.standards_panels import bh_summary, charts, downloads, result_table, verdict_list

SOURCES = ("One cohort", "Saved cohorts", "All quick cohorts")
SPLITS = {"school_year": "School year", "school": "School", "grade": "Grade"}

st.title("📏 Standards")
current = scope()
follow_evidence_link("standards", also={"standards:source": SOURCES[0]})
st.session_state.setdefault("standards:source", SOURCES[0])  # no default=: links set it
source = st.segmented_control("Cohorts", SOURCES, key="standards:source")
source = source or SOURCES[0]

with warehouse() as con:
    if source == "One cohort":
        specs = [cohort_picker(con, current, "standards")]
    elif source == "Saved cohorts":
        saved = cache.saved(con, current)
        names = st.multiselect(
            "Saved cohorts",
            [c.name for c in saved],
            key="standards:saved",
            placeholder="Pick one or more (save them on the Cohort builder)",
        )
        specs = [c.spec for c in saved if c.name in names]
        reported = [c.spec.replace(name=c.name) for c in saved if c.name in names]
    else:
        options, _ = picker_choices(con, current)
        years = st.multiselect(
            "School year(s)",
            options.school_years,
            default=list(options.school_years[-1:]),
            key="standards:quick_years",
        )
        specs = [CohortSpec.from_dict({"school_year": years, "name": "Quick cohorts"})]
        chosen = set(years or options.school_years)
        reported = [q for q in cache.quick(con, current) if set(q.school_year) <= chosen]
    split = st.pills(
        "Split rows by",
        list(SPLITS),
        selection_mode="multi",
        default=list(SPLITS),
        format_func=SPLITS.get,
        key="standards:by",
        help="Leave a dimension out to pool it: each student is still compared with the norm "
        "of their own grade.",
    )
    by = tuple(d for d in SPLITS if d in (split or []))
    if not specs:
        st.info("Pick at least one saved cohort.")
        st.stop()
    result = cache.results(con, current, specs, by)
    distribution = cache.distribution(con, current, specs[0]) if source == "One cohort" else None
    header = cache.header(con, current, specs, by)

st.caption(
    f"Compared with **{literal(header['norms'])}** (values: {literal(header['norms values'])}; "
    "sources on the "
    "Standards & norms page). "
    + (f"Cut scores: {literal(header['cut scores'])}. " if "cut scores" in header else "")
    + (f"Targets: {literal(header['targets'])}. " if "targets" in header else "")
    + "Above / Below: a standardized difference of at least 0.2 with a Benjamini–Hochberg-"
    "adjusted p < 0.05 (a quick cohort's family is fixed: every quick cohort of the district "
    "that year, so its verdict is the same on every page and for every role); "
    "“% at/above norm median” uses the norm mean as the 50th percentile. “Mean of students' "
    "percentiles” averages each student's national percentile; “Percentile of the mean” is "
    "where the cohort's average standing falls among the nation's students (the first is "
    "pulled toward 50)."
)
if result.empty:
    st.info("No scores match these cohorts within your scope. Widen the choices above.")
    st.stop()

if source == "One cohort":
    narrative_panel(specs[0], current, key="standards:narrative")
bh_summary(result)
verdict_list(result)
charts(result, distribution)
result_table(result)
downloads(result, header, username(), "cohort_vs_standard")
if source != "One cohort":
    st.subheader("Report")
    st.caption(f"The narrative, tables and charts of each of these {len(reported)} cohorts.")
    report_download(reported, key="standards:report")
