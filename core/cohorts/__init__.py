"""Cohorts: which students a question is about.

Answers what a cohort is (`spec.CohortSpec`, plain data that round-trips through JSON and the CLI's
`--spec`), which rows belong to it (`spec.spec_predicate`, `spec.member_from` — attributes as of
each school year) and the district's named cohorts (`saved`). What a reader can pick from is
`core.catalog`.

Public face: `spec.CohortSpec`, `spec.load_spec`, `spec.spec_predicate`, `spec.MEMBER_FROM`,
`saved.save_cohort` / `rename_cohort` / `duplicate_cohort` / `delete_cohort` / `list_cohorts`.
"""
