"""Growth: the same students followed fall → winter → spring within a school year, or spring →
spring across years, with expected growth, the students left out, and a growth quadrant."""

import pandas as pd
import streamlit as st

from core.access import audit
from core.compare.growth import student_growth
from core.report.charts.compare import growth_quadrant_chart, trend_chart
from core.warehouse import canonical
from core.words.comparisons import GROWTH_VS_ACHIEVEMENT_CAVEAT, growth_sentence, panel_sentence
from core.words.markup import literal
from ui import compare_cache as cache
from ui import figures
from ui.cohort_widgets import cohort_picker
from ui.compare_panels import download, follow_evidence_link, sentences, table
from ui.narrative_panel import narrative_panel
from ui.session import scope, username, warehouse

WITHIN, ACROSS = "Within the school year", "Year to year (spring → spring)"
COLUMNS = ["subject", "from_season", "from_year", "to_season", "to_year", "members", "n",
           "dropped", "mean_from", "mean_to", "mean_change", "sd_change", "ci_lo", "ci_hi", "p",
           "expected_growth", "pct_meeting", "p_vs_expected", "z_change", "expected_source",
           "note"]  # fmt: skip

st.title("🌱 Growth")
st.caption(
    "Matched students only: the cohort as defined at the later test, each student matched to "
    "their own earlier score wherever they were then. Students missing either test are left "
    "out and counted. The test is a paired t-test on each student's change."
)
current = scope()
follow_evidence_link("growth")
with warehouse() as con:
    spec = cohort_picker(con, current, "growth")
if not spec.school_year:
    st.info("Pick a school year above.")
    st.stop()
year = max(spec.school_year)
span = st.segmented_control("Span", (WITHIN, ACROSS), default=WITHIN, key="growth:span") or WITHIN
if span == WITHIN:
    path = [(season, year) for season in canonical.SEASONS]
    pairs = [(path[0], path[1]), (path[1], path[2]), (path[0], path[2])]
else:
    path = [("spring", canonical.previous_year(year, back)) for back in (2, 1, 0)]
    pairs = [(path[1], path[2])]
main_pair = pairs[-1]
cohort = spec.replace(season=None, school_year=None)

with warehouse() as con:
    rows = pd.concat([cache.matched(con, current, cohort, a, b) for a, b in pairs])
    trajectory = cache.trajectory(con, current, cohort, path)
    grid = cache.matched_grid(con, current, cohort, *main_pair)
if rows.empty:
    st.info("No scores match this cohort within your scope.")
    st.stop()

narrative_panel(cohort.replace(school_year=year), current, key="growth:narrative")
sentences(rows, growth_sentence)
table(rows, COLUMNS)
download(
    rows, "Download (CSV)", "matched growth", {"cohort": spec.label(), "span": span}, username()
)

st.subheader("Following the cohort")
drawn = trajectory[~trajectory["suppressed"]] if not trajectory.empty else trajectory
if drawn.empty:
    st.info("Too few students were tested at every point to draw the path.")
elif drawn["mean"].isna().all():  # withheld: the path would reveal the few who missed a test
    note = str(drawn["note"].iloc[0])
    st.info(literal(f"{panel_sentence(drawn.iloc[0])} {note[:1].upper()}{note[1:]}."))
else:
    drawn = drawn[drawn["mean"].notna()].assign(when=drawn["season"] + " " + drawn["school_year"])
    figures.chart(trend_chart, drawn, x="when", x_title="Test")
    st.caption(f"{literal(panel_sentence(drawn.iloc[0]))} Dashed line: the norm mean.")

st.subheader("Growth against achievement")
by_student = current.sees_students and st.toggle("Show individual students", key="growth:students")
if by_student:
    with warehouse() as con:
        points = student_growth(con, cohort, current, *main_pair)
        audit.log(con, username(), "view_students", {"page": "growth", "cohort": spec.to_dict()})
    points = points.rename(columns={"pct_to": "x_pct", "z_to": "x_z", "beyond": "y_beyond",
                                    "change": "y_change", "name": "who"})  # fmt: skip
else:
    points = grid.assign(who=grid["school"] + " · grade " + grid["grade"] + " · " + grid["subject"])
    renamed = {"mean_pct_to": "x_pct", "mean_z_to": "x_z", "mean_beyond": "y_beyond",
               "mean_change": "y_change"}  # fmt: skip
    points = points.rename(columns=renamed)
    points = points[~points["suppressed"]]
use_pct = points["x_pct"].notna().any()
use_beyond = points["y_beyond"].notna().any()
# a group whose standing is withheld (it would reveal the few who missed a test) has no point
points = points[points["x_pct" if use_pct else "x_z"].notna()]
x_title = "National percentile (latest test)"
if not by_student:  # a group's point is the mean of its students' percentiles
    x_title = "Mean of students' national percentiles (latest test)"
figures.chart(
    growth_quadrant_chart,
    points,
    x="x_pct" if use_pct else "x_z",
    y="y_beyond" if use_beyond else "y_change",
    label="who",
    x_mid=50.0 if use_pct else 0.0,
    x_title=x_title if use_pct else "Std. difference from norm",
    y_title="Growth beyond expected (points)" if use_beyond else "Growth (points)",
)
st.caption(
    "Right of the dashed line: above the norm's middle; above it: grew more than expected. "
    + literal(f"{main_pair[0][0].title()} {main_pair[0][1]} → {main_pair[1][0]} {main_pair[1][1]}.")
)
st.info(GROWTH_VS_ACHIEVEMENT_CAVEAT)
