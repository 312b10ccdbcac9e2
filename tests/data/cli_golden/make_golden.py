"""Golden outputs of the headless CLI (docs/cli.md): the contract, byte for byte, on a fixed demo.

Builds the demo district (default seed) in a fresh temporary folder, then runs every command of
the contract through `python -m core …` in a subprocess (never by importing core, so the same
script holds whatever module layout core/ has) and records stdout, exit code and, for a failing
command, stderr. `--write` stores them here as the golden files; without it the script compares
and prints a short diff per difference (exit 1). Regenerating the goldens is therefore an
explicit act: `python tests/data/cli_golden/make_golden.py --write`, after a reviewed change.

The cases run in order on one warehouse (imports and accounts first, reads after), so each read
also covers what the earlier commands added. Only what truly varies between runs is normalised
(see `normalise`).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

GOLDEN_DIR = Path(__file__).resolve().parent
REPO = GOLDEN_DIR.parents[2]
INDEX = GOLDEN_DIR / "index.json"
PASSWORD = "Golden-pass-2024\n"
TMP = "{tmp}"  # placeholder in argv, replaced by the temporary folder of the run

LINCOLN_G3_MATH = {
    "school_year": "2024-2025",
    "grade": "3",
    "subject": "math",
    "season": "spring",
    "schools": ["Lincoln Elementary"],
}
G3_MATH_SPRING = {"school_year": "2024-2025", "grade": "3", "subject": "math", "season": "spring"}
ELL_READING = {
    "name": "ELL grade 2 reading",
    "school_year": "2024-2025",
    "grade": "2",
    "subject": "reading",
    "season": "spring",
    "filters": {"ell": True},
}
NON_ELL_READING = {**ELL_READING, "name": "non-ELL grade 2 reading", "filters": {"ell": False}}
TINY = {**LINCOLN_G3_MATH, "filters": {"sped": True, "gender": "F"}}  # fewer than 10 students
EMPTY = {**LINCOLN_G3_MATH, "filters": {"program": "no-such-program"}}  # no student at all
WASHINGTON_G4_MATH = {
    "school_year": "2024-2025",
    "grade": "4",
    "subject": "math",
    "schools": ["Washington Elementary"],
}
BAD_FILE = (
    "student_id,school,grade,school_year,season,subject,score,platform\n"
    "900001,Lincoln Elementary,3,2024-2025,spring,math,190,nwea_map\n"
    "900002,Lincoln Elementary,3,2024-2025,spring,math,not-a-score,nwea_map\n"
    "900003,Lincoln Elementary,3,2024-2025,autumn,math,195,nwea_map\n"
    "900004,Lincoln Elementary,,2024-2025,spring,math,200,nwea_map\n"
)


def _spec(spec: dict) -> str:
    return json.dumps(spec, sort_keys=True)


@dataclass(frozen=True)
class Case:
    """One command line; `name` names its golden file, `suffix` its format."""

    name: str
    argv: tuple[str, ...]
    suffix: str = "json"
    stdin: str | None = None


CASES: tuple[Case, ...] = (
    # set-up commands: their own output is part of the contract too
    Case("init_demo", ("init", "--demo", "--json")),
    Case("init_again", ("init", "--json")),
    Case("init_text", ("init",), "txt"),
    Case("import_star", ("import", f"{TMP}/samples/renaissance_star.csv", "--json")),
    Case("import_star_again", ("import", f"{TMP}/samples/renaissance_star.csv", "--json")),
    Case("import_two_files", ("import", f"{TMP}/samples/dibels8_benchmark.csv",
                              f"{TMP}/samples/iready_diagnostic_results_math.csv", "--json")),
    Case("import_generic_platform",
         ("import", f"{TMP}/bad_rows.csv", "--platform", "nwea_map", "--json")),
    Case("users_demo", ("users", "demo", "--password-stdin"), "txt", PASSWORD),
    Case("users_add", ("users", "add", "golden-analyst", "--role", "viewer", "--schools",
                       "Roosevelt Elementary", "--name", "Golden Analyst", "--password-stdin"),
         "txt", PASSWORD),
    Case("users_deactivate", ("users", "deactivate", "golden-analyst"), "txt"),
    Case("users_list", ("users", "list", "--json")),
    Case("sftp_add", ("sftp", "add", "district-sis", "--host", "127.0.0.1", "--port", "1",
                      "--user", "yardstick", "--password-stdin", "--remote-dir", "/exports",
                      "--pattern", "scores_*.csv"), "txt", "sftp-secret\n"),
    Case("sftp_list", ("sftp", "list", "--json")),
    # reads: standards
    Case("standards_g3_math", ("standards", "--cohort", _spec(G3_MATH_SPRING), "--json")),
    Case("standards_lincoln_by_year_grade",
         ("standards", "--cohort", _spec({**LINCOLN_G3_MATH, "school_year": None}),
          "--by", "school_year,grade", "--json")),
    Case("standards_ell_reading", ("standards", "--cohort", _spec(ELL_READING), "--json")),
    Case("standards_norms_2025",
         ("standards", "--cohort", _spec(LINCOLN_G3_MATH), "--norms", "2025", "--json")),
    Case("standards_star", ("standards", "--cohort", _spec(
        {"school_year": "2024-2025", "grade": "3", "subject": "math", "season": "winter",
         "schools": ["Roosevelt Elementary"]}), "--json")),
    Case("standards_suppressed", ("standards", "--cohort", _spec(TINY), "--json")),
    Case("standards_empty", ("standards", "--cohort", _spec(EMPTY), "--json")),
    Case("standards_csv", ("standards", "--cohort", _spec(G3_MATH_SPRING), "--csv"), "csv"),
    Case("standards_as_principal", ("--as-user", "demo-principal", "standards", "--cohort",
                                    _spec(G3_MATH_SPRING), "--json")),
    Case("standards_spec_file_by_none",
         ("standards", "--cohort", f"{TMP}/spec.json", "--by", "none", "--json")),
    Case("standards_text", ("standards", "--cohort", _spec(LINCOLN_G3_MATH)), "txt"),
    # compare
    Case("compare_prior", ("compare", "--a", _spec(LINCOLN_G3_MATH), "--b", "prior", "--json")),
    Case("compare_ell", ("compare", "--a", _spec(ELL_READING), "--b", _spec(NON_ELL_READING),
                         "--json")),
    Case("compare_suppressed", ("compare", "--a", _spec(TINY), "--b", "prior", "--json")),
    Case("compare_csv", ("compare", "--a", _spec(ELL_READING), "--b", _spec(NON_ELL_READING),
                         "--csv"), "csv"),
    Case("compare_text", ("compare", "--a", _spec(LINCOLN_G3_MATH), "--b", "prior"), "txt"),
    # growth
    Case("growth_washington", ("growth", "--cohort", _spec(WASHINGTON_G4_MATH), "--from", "fall",
                               "--to", "spring", "--json")),
    Case("growth_across_years", ("growth", "--cohort", _spec(
        {"grade": "3", "subject": "reading", "schools": ["Roosevelt Elementary"],
         "school_year": "2023-2024"}), "--from", "spring:2023-2024", "--to", "spring:2024-2025",
        "--json")),
    Case("growth_csv", ("growth", "--cohort", _spec(WASHINGTON_G4_MATH), "--from", "fall",
                        "--to", "winter", "--csv"), "csv"),
    # benchmarks
    Case("benchmarks_district", ("benchmarks", "--district", "3900191", "--json")),
    Case("benchmarks_district_year",
         ("benchmarks", "--district", "3900191", "--year", "2020", "--json")),
    Case("benchmarks_where", ("benchmarks", "--state", "TX", "--where",
                              "absenteeism well_above and graduation below", "--json")),
    Case("benchmarks_csv", ("benchmarks", "--district", "3900191", "--csv"), "csv"),
    # report (PDF + Excel written to the temporary folder; the summary is the contract)
    Case("report_lincoln", ("report", "--cohort", _spec(LINCOLN_G3_MATH), "--out",
                            f"{TMP}/lincoln.pdf", "--xlsx", f"{TMP}/lincoln.xlsx",
                            "--template-only", "--json")),
    # failures: exit code and the one-line reason
    Case("error_bad_subject", ("standards", "--cohort", _spec({**G3_MATH_SPRING,
                                                               "subject": "art"}), "--json")),
    Case("error_bad_spec", ("compare", "--a", "{not json", "--b", "prior", "--json")),
    Case("error_unknown_user", ("--as-user", "nobody", "standards", "--cohort",
                                _spec(G3_MATH_SPRING), "--json")),
    Case("error_missing_file", ("import", f"{TMP}/absent.csv", "--json"))
)

# What varies between two runs of the same commands, and nothing else:
# - the temporary folder of the run appears in paths (init's `db`, `samples_dir`, `files`,
#   report's output paths): replaced by <TMP>;
# - wall-clock timestamps (users' `created_at`, sftp's `updated_at`, the time of the earlier
#   import quoted in "Already imported: … on 2026-12-07 22:20") are the time of the run: replaced
#   by <TIMESTAMP> (a date alone, as school data carries, is left as it is);
# - report's `seconds` and `cpu_seconds` measure the machine, not the report; its `bytes` (the
#   PDF's size) differs by a byte or two between two identical runs (91,972 vs 91,973 observed:
#   the PDF embeds its creation time, compressed), so it is not a stable value either;
# - the last digits of a full-precision float: DuckDB aggregates in parallel threads, so the
#   order of a sum (and the 16th-17th digit of an sd, t, p or g) depends on scheduling
#   (13.291829342597174 vs …177 observed in two runs). Floats printed with more than 10
#   significant digits are rounded to 10 (a real change of a statistic still shows).
TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:?\d{2}|Z)?"
)
FLOAT = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")
DURATION = re.compile(r'("(?:seconds|cpu_seconds|bytes)": )[0-9.e-]+')


def normalise(text: str, tmp: str) -> str:
    """The output with the run-dependent parts above replaced by fixed placeholders."""
    text = text.replace(tmp, "<TMP>")
    text = TIMESTAMP.sub("<TIMESTAMP>", text)
    text = DURATION.sub(r"\1<VARIES>", text)
    return FLOAT.sub(_round, text)


def _round(match: re.Match[str]) -> str:
    """A float with more than 10 significant digits, rounded to 10; a shorter one as it is."""
    number = match.group()
    digits = len(number.split("e")[0].replace("-", "").replace(".", "").lstrip("0"))
    return number if digits <= 10 else f"{float(number):.10g}"


def _prepare(tmp: Path) -> None:
    (tmp / "bad_rows.csv").write_text(BAD_FILE, encoding="utf-8")
    (tmp / "spec.json").write_text(json.dumps(LINCOLN_G3_MATH), encoding="utf-8")


def _environment(tmp: Path) -> dict[str, str]:
    """A run that reads nothing of this machine: its own secrets, no model, no mail."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YARDSTICK_", "OPENAI_"))}
    env.update(
        YARDSTICK_DB=str(tmp / "warehouse.duckdb"),
        YARDSTICK_SECRETS=str(tmp / "secrets.toml"),
        # a fixed Fernet key: without one the first secret would generate it (and warn)
        YARDSTICK_FERNET_KEY="MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=",
        YARDSTICK_COOKIE_KEY="golden-cookie-key",
        PYTHONHASHSEED="0",
        TZ="UTC",
        USER="golden",
    )
    return env


def record(case: Case, tmp: Path, env: dict[str, str]) -> tuple[str, int, str]:
    """The normalised outcome of one case: stdout, and for a failure the exit code and stderr."""
    argv = [arg.replace(TMP, str(tmp)) for arg in case.argv]
    done = subprocess.run(
        [sys.executable, "-m", "core", *argv],
        input=case.stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
    )
    return normalise(done.stdout, str(tmp)), done.returncode, normalise(done.stderr, str(tmp))


def run_all() -> dict[str, tuple[str, int, str]]:
    """Every case, in order, on a fresh demo warehouse: {name: (stdout, exit code, stderr)}."""
    with tempfile.TemporaryDirectory(prefix="yardstick-golden-") as folder:
        tmp = Path(folder).resolve()
        _prepare(tmp)
        env = _environment(tmp)
        return {case.name: record(case, tmp, env) for case in CASES}


def golden_path(case: Case) -> Path:
    return GOLDEN_DIR / f"{case.name}.{case.suffix}"


def expected_index(results: dict[str, tuple[str, int, str]]) -> str:
    """index.json: per case its command line, exit code and (only when it fails) stderr."""
    index = {}
    for case in CASES:
        _, code, stderr = results[case.name]
        entry: dict = {"argv": list(case.argv), "exit": code}
        if code != 0:
            entry["stderr"] = stderr
        index[case.name] = entry
    return json.dumps(index, indent=2, ensure_ascii=False) + "\n"


def differences(results: dict[str, tuple[str, int, str]]) -> list[str]:
    """One message per golden file that differs: the command and a short unified diff."""
    found = []
    pairs = [(golden_path(c), results[c.name][0], "python -m core " + " ".join(c.argv))
             for c in CASES]
    pairs.append((INDEX, expected_index(results), "exit codes and stderr (index.json)"))
    for path, actual, command in pairs:
        golden = path.read_text(encoding="utf-8") if path.exists() else ""
        if golden != actual:
            diff = difflib.unified_diff(
                golden.splitlines(), actual.splitlines(), "golden", "now", lineterm="", n=2
            )
            found.append(f"{path.name}: {command}\n" + "\n".join(list(diff)[:40]))
    return found


def write(results: dict[str, tuple[str, int, str]]) -> None:
    for case in CASES:
        golden_path(case).write_text(results[case.name][0], encoding="utf-8")
    INDEX.write_text(expected_index(results), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="(re)write the golden files")
    args = parser.parse_args()
    started = time.perf_counter()
    results = run_all()
    if args.write:
        write(results)
        print(f"wrote {len(CASES)} golden outputs in {time.perf_counter() - started:.1f} s")
        return 0
    found = differences(results)
    for message in found:
        print(message, end="\n\n")
    print(f"{len(CASES)} cases, {len(found)} differ ({time.perf_counter() - started:.1f} s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
