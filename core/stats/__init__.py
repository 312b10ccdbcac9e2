"""Statistics from sufficient statistics, and which of them may be shown.

- `inference`: t-tests (one-sample, Welch, Welch contrast), Hedges' g, Benjamini–Hochberg —
  vectorised over (n, mean, sd) columns, checked against scipy / pingouin on the raw scores.
- `sufficient`: n, mean, sd, median … of cohort scores in ONE grouped SQL query, and the
  two-sample columns built from them.
- `families`: which comparisons are adjusted together for false discoveries, so a quick cohort has
  one verdict on every page, report and CLI answer.
- `suppression`: small-cell suppression (FERPA), the one place that decides which numbers may not
  be shown — a group under the minimum, partitions, a filtered cohort beside the same cohort
  without its filters, two cohorts that differ by a few students, counts of students left out.
- `member_counts`: the grouped SQL that counts the members those rules need, and each cohort's
  members with its filter mask (`members_sql`).

Every result leaves core through `suppression`; docs/comparisons.md says its rules in words.

Public face: `inference.TTest`, `inference.one_sample`, `inference.welch`,
`inference.benjamini_hochberg`, `sufficient.group_stats`, `sufficient.two_sample_columns`,
`families.family_table`, `families.family_caption`, `suppression.suppress`,
`suppression.complementary_suppress`, `suppression.complement_reasons`, `member_counts.members_sql`.
"""
