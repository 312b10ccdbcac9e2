"""Cohort vs cohort: the same students or the same definition over time, and groups within a cohort.

- `between_cohorts`: prior cohorts (this year's third graders vs last year's), any two cohorts,
  yearly trends, changes in % proficient.
- `growth`: matched growth — the same students from an earlier test event to a later one, against
  expected growth.
- `subgroups`: each subgroup against the rest of its cohort, every year, and whether a gap widens.

Public face: `between_cohorts.prior_year_comparison`, `between_cohorts.compare_cohorts`,
`between_cohorts.yearly_trend`, `growth.matched_growth`, `subgroups.subgroup_gaps`,
`subgroups.gap_change`.
"""
