"""`python -m core compare --a SPEC --b SPEC|prior [--json|--csv]`: cohort vs cohort.

`--b prior` compares the cohort with the same definition one school year earlier (different
students). Output shape (a contract): one JSON object when the result is one subject × season,
else a list of them. Every object has {a: {cohort, n, mean, sd}, b: {…}, diff, t, df, p,
ci95: [lo, hi], hedges_g, direction, suppressed} plus subject, season, p_adj, significant_bh and
note; a suppressed comparison carries `suppressed: true`, its labels and note, and no statistics.
"""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from core.access import audit
from core.cli import add_outputs, clean_for_json, print_csv, print_json, print_results, scope_of
from core.cohorts.spec import CohortSpec, load_spec
from core.commands.growth import count
from core.compare.between_cohorts import compare_cohorts, no_earlier_year, prior_year_comparison
from core.warehouse.db import connect

STATISTICS = (
    "diff", "t", "df", "p", "hedges_g", "direction", "p_adj", "significant_bh", "bh_family",
    "bh_family_size",
)  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("compare", help="cohort vs cohort (or vs last year: --b prior)")
    parser.add_argument("--a", required=True, help="cohort spec: JSON file or inline JSON")
    parser.add_argument("--b", required=True, help="second cohort spec, or 'prior'")
    add_outputs(parser)
    parser.set_defaults(func=run)


def _side(row: dict[str, Any], side: str, label: str, year: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"cohort": label}
    if year:
        out["school_year"] = year
    if not row["suppressed"]:
        out.update(n=count(row[f"n_{side}"]), mean=row[f"mean_{side}"], sd=row[f"sd_{side}"])
    return out


def contract_record(row: dict[str, Any], label_a: str, label_b: str) -> dict[str, Any]:
    """One comparison in the contract's shape (statistics left out when suppressed)."""
    record: dict[str, Any] = {
        "a": _side(row, "a", label_a, row.get("school_year")),
        "b": _side(row, "b", label_b, row.get("prior_year")),
        "subject": row.get("subject"),
        "season": row.get("season"),
    }
    if not row["suppressed"]:
        record.update({k: row.get(k) for k in STATISTICS})
        record["ci95"] = [row.get("ci_lo"), row.get("ci_hi")]
        record["bh_family_size"] = count(row.get("bh_family_size"))
        if row.get("overlap"):
            record["overlap"] = count(row["overlap"])
    record["note"] = row.get("note") or ""
    record["suppressed"] = bool(row["suppressed"])
    return clean_for_json(record)


def compare_result(con: Any, spec_a: CohortSpec, b_text: str, scope: Any) -> tuple:
    """(result rows, label of a, label of b) for `--b SPEC` or `--b prior`."""
    if b_text.strip().lower() == "prior":
        rows = prior_year_comparison(con, spec_a, scope, years_back=1)
        prior = rows["prior_year"].iloc[0] if not rows.empty else "the year before"
        label_b = spec_a.replace(school_year=None, name="").label() + f" · {prior}"
        return rows, spec_a.label(), label_b
    spec_b = load_spec(b_text)
    return compare_cohorts(con, spec_a, spec_b, scope), spec_a.label(), spec_b.label()


def run(args: argparse.Namespace) -> int:
    spec_a = load_spec(args.a)
    with connect(args.db) as con:
        scope = scope_of(args, con)
        rows, label_a, label_b = compare_result(con, spec_a, args.b, scope)
        detail = {"command": "compare", "a": spec_a.to_dict(), "b": args.b, "rows": len(rows)}
        audit.log(con, f"cli:{scope.username}", "export", detail)
    records = [contract_record(r, label_a, label_b) for r in rows.to_dict("records")]
    if args.csv:
        print_csv(records)
    elif args.json:
        print_json(_shape(records, label_a))
    else:
        _print_human(rows, records)
    return 0


def _shape(records: list[dict], label: str) -> Any:
    if len(records) == 1:
        return records[0]
    if records:
        return records
    return {"a": {"cohort": label}, "suppressed": False, "note": "no scores match within scope"}


def _print_human(rows: pd.DataFrame, records: list[dict]) -> None:
    if not records:
        print("No scores match these cohorts within your scope.")
        return
    if no_earlier_year(rows):  # one line, not one "not reported" per subject × season
        print(f"{records[0]['a']['cohort']}: {records[0]['note']}.")
        return
    print_results(records, _head, _result)


def _head(record: dict) -> str:
    a, b = record["a"]["cohort"], record["b"]["cohort"]
    return f"{a} vs {b} ({record['subject']}, {record['season']})"


def _result(record: dict) -> str:
    return (
        f"{record['a']['mean']:.1f} vs {record['b']['mean']:.1f}, "
        f"difference {record['diff']:+.1f} (95% CI {record['ci95'][0]:+.1f} to "
        f"{record['ci95'][1]:+.1f}), p = {record['p']:.3g}, Hedges' g = "
        f"{record['hedges_g']:+.2f}: {record['direction']}"
    )
