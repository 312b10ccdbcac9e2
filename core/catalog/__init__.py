"""What a reader can look at: the warehouse's contents and the cohorts on offer, within their scope.

- `overview`: the Home page's first answer — students, schools, years and tests in the reader's
  scope, and whether attributes are known per school year.
- `cohort_options`: what a cohort can be built from (schools, grades, subjects, attributes found
  in the data), the quick cohorts every page offers, and a cohort's headcount (suppressed under
  the minimum group size).

Public face: `overview.warehouse_summary`, `cohort_options.cohort_options`,
`cohort_options.quick_cohorts`, `cohort_options.headcount`.
"""
