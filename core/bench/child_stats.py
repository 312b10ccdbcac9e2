"""Run in a child process by the benchmark: the live statistics of the whole district, timed
best of N, so the parent can read this process's own peak memory. Prints one JSON document."""

from __future__ import annotations

import json
import sys

from core.access.scope import DISTRICT
from core.bench.measure import best_of
from core.cohorts.spec import CohortSpec
from core.compare.between_cohorts import all_prior_year_comparisons
from core.compare.growth import all_matched_growth
from core.standards.standing import cohort_vs_norm
from core.warehouse import db

BY = ("grade", "school", "school_year")


def measure(path: str, repeats: int) -> dict:
    with db.connect(path) as con:
        years = [
            r[0]
            for r in con.execute(
                "select distinct school_year from assessments order by 1"
            ).fetchall()
        ]
        latest, previous = years[-1], years[-2]
        cohorts_s, standards = best_of(
            repeats, lambda: cohort_vs_norm(con, CohortSpec(), DISTRICT, by=BY)
        )
        prior_s, prior = best_of(repeats, lambda: all_prior_year_comparisons(con, DISTRICT))
        spring_to_spring = (("spring", previous), ("spring", latest))
        growth_s, growth = best_of(
            repeats, lambda: all_matched_growth(con, DISTRICT, *spring_to_spring)
        )
    return {
        "cohorts": len(standards),
        "seconds": cohorts_s,
        "comparisons": len(prior),
        "comparisons_seconds": prior_s,
        "growth_rows": len(growth),
        "growth_seconds": growth_s,
        "suppressed_cohorts": int(standards["suppressed"].sum()),
    }


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], int(sys.argv[2]))))
