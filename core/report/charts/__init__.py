"""Pure Altair builders (no Streamlit): each takes the DataFrame a table shows and returns a chart.
Suppressed rows never reach a chart. `standards` (cohort vs norm), `compare` (prior cohorts,
growth, gaps), `benchmarks` (district vs state vs nation); `look` holds what they share (palette
scales, the empty-chart message, tooltip rows).
"""
