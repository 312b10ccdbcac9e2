"""Cohort vs standard: national norms, state cut scores, local targets, and how a cohort stands
against them.

- `norms`: the standards themselves — shipped national norms (each on its own test's scale),
  district cut scores and targets per school year, and the plausibility guard that refuses a norm
  the scores are not on.
- `standing`: `cohort_vs_norm` — every cohort in view against its standard, from one grouped query.
- `detail`: reading a result — a verdict per row, score distributions, export headers.
- `for_compare`: the norm tables the comparisons area needs (expected growth, thresholds).

Public face: `standing.cohort_vs_norm`, `norms.load_norm_set`, `norms.list_standard_sets`,
`detail.verdicts`, `detail.score_distribution`.
"""
