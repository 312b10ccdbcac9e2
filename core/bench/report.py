"""The benchmark as a table a person reads (the JSON carries every figure)."""

from __future__ import annotations

from core.bench.district import district_lines
from core.bench.report_speed import report_lines


def _fmt(value: object, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _import_lines(imp: dict) -> list[str]:
    return [
        f"Import of {imp['rows']:,} rows",
        f"  Yardstick (full pipeline)   {_fmt(imp['seconds'])} s   {imp['rows_per_s']:,.0f} rows/s"
        f"   peak {_fmt(imp['peak_rss_mb'], 0)} MB",
        f"  DuckDB read_csv (floor)     {_fmt(imp['read_csv_seconds'])} s   "
        f"ratio {_fmt(imp['ratio_vs_read_csv'])}×",
        f"  row-at-a-time insert        {imp['rowwise_rows_per_s']:,.0f} rows/s → "
        f"{_fmt(imp['rowwise_extrapolated_seconds'], 0)} s extrapolated "
        f"({_fmt(imp['speedup_vs_rowwise'], 0)}× slower than Yardstick)",
        f"  re-import of the same file  inserted {imp['reimport_inserted']}",
        f"  overlapping file            {imp['overlap']}",
    ]


def _stats_lines(stats: dict) -> list[str]:
    return [
        f"Live statistics ({stats['cohorts']:,} cohorts vs norms)",
        f"  Yardstick                   {_fmt(stats['seconds'], 3)} s   "
        f"per-cohort loop {_fmt(stats['loop_seconds'])} s   "
        f"speed-up {_fmt(stats['speedup_vs_loop'], 0)}×",
        f"  prior-year comparisons      {stats['comparisons']:,} in "
        f"{_fmt(stats['comparisons_seconds'], 3)} s",
        f"  district matched growth     {_fmt(stats['growth_seconds'], 3)} s   "
        f"peak {_fmt(stats['peak_rss_mb'], 0)} MB",
    ]


def _concurrency_lines(rows: list[dict]) -> list[str]:
    lines = ["", "Concurrent sessions (Standards page, real streamlit run)"] if rows else []
    for row in rows:
        if "skipped" in row:
            lines.append(f"  {row['sessions']:>3} sessions  skipped: {row['skipped']}")
            continue
        lines.append(
            f"  {row['sessions']:>3} sessions  median {_fmt(row['median_s'])} s  "
            f"worst {_fmt(row['worst_s'])} s  failures {row['failures']}"
        )
        lines += [f"      {error}" for error in row.get("errors", [])]
    return lines


def human_report(result: dict) -> str:
    m = result["machine"]
    lines = [
        f"Yardstick benchmark — {result['students']:,} students × {result['years']} years, "
        f"{m['cores']} cores, {m['memory_gb']} GB, commit {m['commit']}",
        "",
        *_import_lines(result["import"]),
    ]
    if "stats" in result:
        lines += ["", *_stats_lines(result["stats"])]
    if "pages" in result:
        lines += ["", "Pages (AppTest)      cold s   warm s"]
        for name, page in result["pages"].items():
            if isinstance(page, dict) and "cold_s" in page:
                lines.append(f"  {name:<18} {page['cold_s']:7.2f}  {page['warm_s']:7.2f}")
    lines += _concurrency_lines(result.get("concurrency", []))
    for row in result.get("scaling", []):
        lines.append(
            f"Scaling ×{row['factor']}: {row['rows']:,} rows, import {_fmt(row['import_s'])} s "
            f"({_fmt(row['import_us_per_row'])} µs/row), stats {_fmt(row['stats_s'])} s"
        )
    if "scaling_slope" in result:
        lines.append(f"Scaling slope (1.0 = linear): {result['scaling_slope']}")
    lines += district_lines(result.get("district", {}))
    lines += report_lines(result.get("report", {}))
    lines += ["", "Goals:"]
    lines += [
        f"  {'✔' if ok else ('✘' if ok is False else '—')} {k}" for k, ok in result["goals"].items()
    ]
    return "\n".join(lines) + "\n"
