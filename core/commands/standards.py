"""`python -m core standards --cohort SPEC [--by …] [--norms …] [--json|--csv]`: cohort vs standard.

Output shape (a contract): one JSON object when the spec pins one row — a single school year,
school, grade, subject and season for each dimension rows are split by (`--by`, default
school_year,school,grade) — otherwise a list with one object per row (an empty list when nothing
matches). Every object has {cohort, n, mean, sd, median, norm: {source, mean, sd}, diff, t, df, p,
ci95: [lo, hi], effect_size, category, suppressed} plus the row's keys and extras (`note`;
`cut_set`, `cut_set_year`, `target_set`, `target_set_year`: the district sets the row's school
year used); a suppressed row carries `suppressed: true`, its keys and a note, and no statistics.
Scores on a scale no norm set covers (or failing the plausibility guard) keep their own n, mean,
sd, median…, with `norm` values and `category` null and the reason in `note`.
"""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from core.access import audit
from core.cli import CommandError, add_outputs, clean_for_json, print_csv, print_json, scope_of
from core.cohorts.spec import CohortSpec, load_spec
from core.standards.detail import export_frame, verdicts
from core.standards.standing import DEFAULT_BY, GROUPABLE, cohort_vs_norm, standards_in_use
from core.warehouse.db import connect

IDENTITY = ("cohort", "filters", "school_year", "school", "grade", "subject", "season")
STATISTICS = (
    "n", "mean", "sd", "median", "mean_percentile", "pct_at_or_above_norm", "pct_proficient",
    "pct_at_or_above_target", "target", "diff", "t", "df", "p", "effect_size", "category", "p_adj",
    "significant_bh", "platform", "n_without_norm", "percentile_source", "bh_family",
    "bh_family_size",
    "percentile_of_mean",  # beside mean_percentile: the percentile rank of the mean score
)  # fmt: skip


COUNTS = ("n", "df", "n_without_norm", "bh_family_size")
SET_FIELDS = ("cut_set", "cut_set_year", "target_set", "target_set_year")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("standards", help="cohort vs national norms / cut scores")
    parser.add_argument("--cohort", required=True, help="cohort spec: JSON file or inline JSON")
    parser.add_argument(
        "--by",
        default=",".join(DEFAULT_BY),
        help="split rows by these (comma list of school_year, school, grade; 'none' pools all)",
    )
    parser.add_argument("--norms", help="norm set: 2020, 2025 or district:<id> (default: setting)")
    add_outputs(parser, "CSV rows (nested values flattened)")
    parser.set_defaults(func=run)


def parse_by(text: str) -> tuple[str, ...]:
    if text.strip().lower() in ("", "none"):
        return ()
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [c for c in chosen if c not in GROUPABLE]
    if unknown:
        raise CommandError(f"--by: {', '.join(unknown)} is not one of {', '.join(GROUPABLE)}.")
    return chosen


def pins_one_row(spec: CohortSpec, by: tuple[str, ...]) -> bool:
    """True when the spec names one value for subject, season and every split dimension."""
    dims = {"school_year": spec.school_year, "school": spec.schools, "grade": spec.grade}
    return len(spec.subject) == 1 and len(spec.season) == 1 and all(len(dims[d]) == 1 for d in by)


def contract_record(row: dict[str, Any]) -> dict[str, Any]:
    """One result row in the contract's shape (statistics left out when suppressed)."""
    record: dict[str, Any] = {k: row.get(k) for k in IDENTITY}
    record["norm"] = {"source": row.get("norm_source")}
    if not row["suppressed"]:
        record.update({k: row.get(k) for k in STATISTICS})
        record["norm"].update(mean=row.get("norm_mean"), sd=row.get("norm_sd"))
        record["ci95"] = [row.get("ci_lo"), row.get("ci_hi")]
        shares = {k.removeprefix("share "): v for k, v in row.items() if k.startswith("share ")}
        if shares:
            record["bands"] = shares
    record["note"] = row.get("note") or ""
    # the district sets this row's year used (core.standards.norms.sets_by_school_year), null when
    # none
    record.update({k: row.get(k) for k in SET_FIELDS})
    record["suppressed"] = bool(row["suppressed"])
    for key in COUNTS:
        if isinstance(record.get(key), float) and record[key].is_integer():
            record[key] = int(record[key])
    return clean_for_json(record)


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.cohort)
    by = parse_by(args.by)
    with connect(args.db) as con:
        scope = scope_of(args, con)
        standards = standards_in_use(con, args.norms)
        result = cohort_vs_norm(con, spec, scope, by=by, standards=standards)
        detail = {"command": "standards", "cohort": spec.to_dict(), "rows": len(result)}
        audit.log(con, f"cli:{scope.username}", "export", detail)
    if args.csv:
        table = export_frame(result)
        print_csv(table.astype(object).where(table.notna(), None).to_dict("records"))
        return 0
    records = [contract_record(row) for row in result.to_dict("records")]
    if args.json:
        print_json(_shape(records, spec, by))
        return 0
    _print_human(result, standards.labels()["norms"])
    return 0


def _shape(records: list[dict], spec: CohortSpec, by: tuple[str, ...]) -> Any:
    if not pins_one_row(spec, by):
        return records
    if len(records) == 1:
        return records[0]
    return {
        "cohort": spec.label(), "n": 0, "suppressed": False,
        "note": "no scores match this cohort within your scope",
    }  # fmt: skip


def _print_human(result: pd.DataFrame, norms_label: str) -> None:
    if result.empty:
        print("No scores match this cohort within your scope.")
        return
    print(f"Compared with {norms_label}.")
    for line in verdicts(result):
        print("- " + line)
