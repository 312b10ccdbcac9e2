"""import_file / replay / preview: the orchestration of detect → parse → validate → load.

Two processes, one warehouse: the warehouse is opened three short times per import — to start
the job (status "pending"; or answer "already imported"), to merge in ONE transaction (status
"running" while it loads, "completed" in the same commit), and on failure to record why
("failed"). Detection, staging and validation run on a private staging connection, so pages keep
reading while a big file is parsed.

Where the rows go (a big import costs about what writing its rows twice costs, not more):
- the bytes are kept as <warehouse folder>/raw/<sha256> (a file copy);
- they are parsed once into `raw_rows` of the staging file (<warehouse folder>/staging/…/
  staging.duckdb, attached as `stg`; compressed, so validation's scans are cheap); validation
  types and checks every row in one scan and writes `stg.typed` once;
- at merge time the warehouse attaches the staging file read-only and the loader writes the
  clean typed rows into the facts and dimensions.
- `staged_<file_id>`, the rows as received with `_row_number`, `_source_file`, `_ingested_at`:
  for UTF-8 delimited text (nearly every export) a view that reads the kept raw file with the
  very read_csv call staging made — the raw file is the copy, so no second copy of every row is
  written; for Excel, JSON and re-encoded text a table copied from raw_rows. Replay re-reads the
  kept raw file, so it works the same for both.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import duckdb
import pandas as pd

from core.access import audit
from core.ingest import jobs
from core.ingest.detect import FileRefused, Layout, detect
from core.ingest.file_year import with_file_year
from core.ingest.kinds import get_kind
from core.ingest.presets import (
    ATTRIBUTE,
    IGNORE,
    Mapping,
    Preset,
    builtin_presets,
    check_targets,
    declarable,
    declare_platform,
    detect_preset,
    header_key,
    plan_columns,
    preset_from_mapping,
    saved_presets,
)
from core.ingest.read import (
    RAW_TABLE,
    CsvRead,
    csv_rows_sql,
    head_frame,
    refuse_too_wide,
    stage_file,
)
from core.ingest.validate import Validation, column_label, validate
from core.warehouse import canonical, private_files
from core.warehouse.db import connect, transaction, warehouse_path

Progress = Callable[[str, float], None]
Source = str | os.PathLike | BinaryIO
MERGE_WAIT_SECONDS = float(os.environ.get("YARDSTICK_IMPORT_WAIT", "300"))
ORIGINS = ("upload", "sftp", "demo", "cli")
STAGING_MEMORY = os.environ.get("YARDSTICK_STAGING_MEMORY", "1GB")


@dataclass
class Prepared:
    """A file parsed, mapped and validated in its staging file, ready to merge."""

    layout: Layout
    mapping: Mapping
    validation: Validation
    staging: Path
    direct: CsvRead | None = None  # how UTF-8 text was read straight from its bytes
    year_note: dict = field(default_factory=dict)  # which school year attributes go to, why


def _quiet(stage: str, fraction: float) -> None:
    return None


def _name_of(source: Source) -> str:
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    return Path(getattr(source, "name", "") or "upload").name


def spool(source: Source, work: Path) -> tuple[Path, str]:
    """The file on disk (a stream is written to the work folder) and its sha256."""
    digest = hashlib.sha256()
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"No such file: {path}")
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        return path, digest.hexdigest()
    if hasattr(source, "seek"):
        source.seek(0)
    path = work / "upload.bin"
    with path.open("wb") as out:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    return path, digest.hexdigest()


def _staging_connection(work: Path) -> duckdb.DuckDBPyConnection:
    """The staging file work/staging.duckdb, attached as `stg` and used by default; memory
    bounded by STAGING_MEMORY (beyond it, work/spill). Insertion order is kept while the rows
    are staged (a staged row's rowid is its place in the file)."""
    con = duckdb.connect(
        ":memory:",
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False,
                "memory_limit": STAGING_MEMORY},
    )  # fmt: skip
    con.execute("set temp_directory = $d", {"d": str(work / "spill")})
    con.execute("set enable_progress_bar = false")
    con.execute("set preserve_insertion_order = true")
    con.execute("attach $p as stg", {"p": str(work / "staging.duckdb")})
    con.execute("use stg")
    return con


def _choose_preset(
    headers: list[str], file_name: str, preset: str, mapping: Any, saved: dict[str, Preset]
) -> tuple[Preset, dict[str, str] | None]:
    """The preset to map with, and per-column overrides from --mapping / the page's editor."""
    overrides = None
    if isinstance(mapping, Preset):
        return mapping, None
    if isinstance(mapping, str | os.PathLike):
        mapping = json.loads(Path(mapping).read_text(encoding="utf-8"))
    if isinstance(mapping, dict) and "columns" in mapping:
        base = None if preset == "auto" else _named(preset, saved)
        kind = mapping.get("kind") or (base.kind if base else "assessment")
        return preset_from_mapping(mapping, name=mapping.get("name", "custom"), kind=kind), None
    if isinstance(mapping, dict):
        overrides = {str(k): str(v or "ignore") for k, v in mapping.items()}
    if preset and preset != "auto":
        return _named(preset, saved), overrides
    candidates = {**builtin_presets(), **saved}
    return detect_preset(_as_mapped(headers, overrides), file_name, candidates).preset, overrides


def _as_mapped(headers: list[str], overrides: dict[str, str] | None) -> list[str]:
    """Headers as the person mapped them (a column mapped to "score" reads as "score"), so
    auto-detection picks the kind their mapping describes (a roster, an assessment file)."""
    if not overrides:
        return headers
    keyed = {header_key(k): v for k, v in overrides.items()}
    renamed = []
    for header in headers:
        target = overrides.get(header, keyed.get(header_key(header)))
        renamed.append(target if target and target not in (IGNORE, ATTRIBUTE) else header)
    return renamed


def _named(name: str, saved: dict[str, Preset]) -> Preset:
    found = {**builtin_presets(), **saved}.get(name)
    if found is None:
        known = ", ".join(sorted({*builtin_presets(), *saved}))
        raise FileRefused(f"There is no preset called {name!r}; known presets: {known}.")
    return found


def _refuse_if_unusable(layout: Layout, mapping: Mapping, rows: int) -> None:
    if not [h for h in layout.headers if h.strip()]:
        raise FileRefused("The file has no header row.")
    if rows == 0:
        raise FileRefused("The file has a header row but no data rows.")
    missing = mapping.missing()
    if missing:
        aliases = sorted(
            {h for h, v in mapping.preset.columns.items() if v == missing[0]}
            | {
                h
                for h, v in builtin_presets()
                .get(mapping.preset.base or "", mapping.preset)
                .columns.items()
                if v == missing[0]
            }
        )[:6]
        spec = mapping.kind.get_field(missing[0])
        looked = f" (looked for {', '.join(aliases)})" if aliases else ""
        others = f"; also missing: {', '.join(missing[1:])}" if missing[1:] else ""
        single = (
            " The file has only one column: is its delimiter unusual?"
            if (len(layout.headers) == 1)
            else ""
        )
        variants = sorted(
            p.name
            for p in builtin_presets().values()
            if p.platform == mapping.preset.platform and missing[0] in p.constants
        )
        hint = f" (e.g. {' or '.join(variants)})" if variants else ""
        raise FileRefused(
            f"No {spec.title} column found{looked}{others}.{single} Choose the matching "
            f"preset{hint} or map the columns (Upload page, or --mapping FILE.json)."
        )


def prepare(
    path: Path,
    file_name: str,
    work: Path,
    *,
    preset: str = "auto",
    mapping: Any = None,
    saved: dict[str, Preset] | None = None,
    progress: Progress = _quiet,
    platform: str | None = None,
    filed_on: dt.date | None = None,
) -> Prepared:
    """Detect, stage, map and validate into work/staging.duckdb (no warehouse involved);
    `platform` declares the test of a generic file (presets.declare_platform); `filed_on`: the
    import date a file without school year or date is filed under (today)."""
    progress("reading", 0.0)
    layout = detect(path)
    con = _staging_connection(work)
    try:
        rows, direct = stage_file(con, path, layout, work)
        progress("reading", 1.0)
        planned, year_note = with_file_year(
            _plan(layout, file_name, preset, mapping, saved, platform), file_name, filed_on
        )
        prepared = _map_and_validate(con, work, layout, rows, planned, progress)
        prepared.year_note = year_note
        prepared.direct = direct
        return prepared
    finally:
        con.close()


def _map_and_validate(
    con: duckdb.DuckDBPyConnection,
    work: Path,
    layout: Layout,
    rows: int,
    planned: Mapping,
    progress: Progress,
) -> Prepared:
    """The staged rows mapped with the chosen preset and checked (raw_rows already staged)."""
    _refuse_if_unusable(layout, planned, rows)
    progress("validating", 0.0)
    con.execute("set preserve_insertion_order = false")  # typed rows carry their row number
    checked = validate(con, planned, layout.header_row + 1, layout.delimiter == ";")
    progress("validating", 1.0)
    return Prepared(layout, planned, checked, work / "staging.duckdb")


def _store_raw(path: Path, sha: str, warehouse: Path) -> tuple[Path, bool]:
    """Keep the bytes as <warehouse folder>/raw/<sha256>; True when this call created it."""
    target = warehouse.parent / "raw" / sha
    if target.exists():
        return target, False
    private_files.private_dir(target.parent)
    partial = target.with_suffix(f".{os.getpid()}.part")
    shutil.copyfile(path, partial)
    os.chmod(partial, private_files.FILE_MODE)  # inside a 0700 folder: never readable meanwhile
    os.replace(partial, target)
    return target, True


def _insert_raw_file(
    con: duckdb.DuckDBPyConnection, prepared: Prepared, meta: dict[str, Any], raw_path: Path
) -> int:
    """The raw_files row and staged_<file_id> (a view over the kept bytes, or a table)."""
    layout = prepared.layout
    file_id = con.execute(
        """
        insert into raw_files (sha256, file_name, size_bytes, source, remote_path, received_by,
            received_at, stored_path, format, encoding, delimiter, title_rows, headers, row_count)
        values ($sha, $name, $size, $source, $remote, $user, $now, $stored, $format, $encoding,
            $delimiter, $title_rows, $headers, $rows)
        returning file_id
        """,
        {
            "sha": meta["sha"],
            "name": meta["file_name"],
            "size": meta["size"],
            "source": meta["origin"],
            "remote": meta["remote_path"],
            "user": meta["user"],
            "now": jobs.now(),
            "stored": f"raw/{meta['sha']}",
            "format": layout.format.value,
            "encoding": layout.encoding,
            "delimiter": layout.delimiter,
            "title_rows": layout.title_rows,
            "headers": json.dumps(layout.headers),
            "rows": prepared.validation.rows_read,
        },
    ).fetchone()[0]
    table = f"staged_{file_id}"
    if prepared.direct is not None:
        rows = csv_rows_sql(raw_path, layout, prepared.direct.ragged)
        numbered = f"select row_number() over () + {int(layout.header_row)} as _row_number, * "
        con.execute(
            f"""
            create view {table} as
            select r._row_number, f.file_name as _source_file, f.received_at as _ingested_at,
                   r.* exclude (_row_number)
            from ({numbered} from ({rows})) r,
                 (select file_name, received_at from raw_files where file_id = {int(file_id)}) f
            """
        )
    else:
        con.execute(
            f"""
            create table {table} as
            select r.rowid + $first_row as _row_number, $name as _source_file,
                   $now::timestamp as _ingested_at, r.*
            from stg.{RAW_TABLE} r
            """,
            {"first_row": layout.header_row + 1, "name": meta["file_name"], "now": jobs.now()},
        )
    con.execute(
        "update raw_files set staged_table = $t where file_id = $f", {"t": table, "f": file_id}
    )
    return file_id


def _message(validation: Validation, counts: Any, notes: list[str]) -> str:
    parts = [
        f"{validation.rows_read:,} rows read: {counts.inserted:,} new, {counts.updated:,} updated, "
        f"{counts.duplicates + validation.duplicates_in_file:,} already there or repeated, "
        f"{validation.rejected + counts.rejected:,} rejected."
    ]
    if validation.rows_read and validation.good - counts.rejected <= 0:
        parts.append("No row could be loaded; see the errors.")
    return " ".join(parts + notes)


def merge(
    warehouse: Path, prepared: Prepared, job_id: int, meta: dict[str, Any], *, replay_of=None
) -> jobs.JobSummary:
    """ONE transaction: raw file + staged rows (new files), the kind's loader, the errors, the
    finished job, the audit entry. Any failure rolls all of it back."""
    mapping, validation = prepared.mapping, prepared.validation
    with connect(warehouse, wait_seconds=MERGE_WAIT_SECONDS) as con:
        con.execute("set enable_progress_bar = false")  # stdout may carry --json
        if replay_of is None and (done := _if_already_imported(con, job_id, meta)) is not None:
            return done  # the same file, started at the same moment, loaded first
        jobs.set_status(con, job_id, "running")  # pending while read and checked; now loading
        con.execute("attach $p as stg (read_only)", {"p": str(prepared.staging)})
        con.execute(f"create or replace temp view ingest_clean as {validation.clean_sql}")
        try:
            with transaction(con):
                file_id = replay_of
                if replay_of is None:
                    raw_path = (warehouse.parent / "raw" / meta["sha"]).resolve()
                    file_id = _insert_raw_file(con, prepared, meta, raw_path)
                _column_headers(con, mapping)
                counts = mapping.kind.loader(con, "ingest_clean", job_id)
                counts.added.update(prepared.year_note)
                con.execute(
                    "insert into import_errors (job_id, row_number, column_name, message, "
                    "severity) select $job, row_number, column_name, message, severity "
                    "from stg.errors order by row_number, column_name",
                    {"job": job_id},
                )
                _complete_job(con, job_id, file_id, prepared, counts)
                detail = _attempt(meta, job_id, "completed", "")
                detail.update(file_id=file_id, inserted=counts.inserted, updated=counts.updated)
                audit.log(con, meta["user"], "import", detail)
        except duckdb.ConstraintException:
            # the same file loaded by another thread of this process since the check above
            if replay_of is None and (done := _if_already_imported(con, job_id, meta)):
                return done
            raise
        finally:
            con.execute("drop view if exists ingest_clean")
            con.execute("drop table if exists ingest_columns")
            con.execute("detach stg")
        return jobs.job_summary(con, job_id)


def _column_headers(con: duckdb.DuckDBPyConnection, mapping: Mapping) -> None:
    """Temp table ingest_columns(field, header): the file's column behind each field (and each
    "@attribute"), for the loader's own messages (see core/ingest/kinds.py)."""
    fields = [(spec.name, column_label(mapping, spec)) for spec in mapping.kind.fields]
    extras = [("@" + plan.attribute, plan.header) for plan in mapping.columns if plan.attribute]
    headers = pd.DataFrame([*fields, *extras], columns=["field", "header"])
    con.register("_ingest_columns", headers)
    con.execute("create or replace temp table ingest_columns as select * from _ingest_columns")
    con.unregister("_ingest_columns")


def _complete_job(con, job_id: int, file_id: int, prepared: Prepared, counts: Any) -> None:
    validation = prepared.validation
    con.execute(
        """
        update import_jobs set status = 'completed', file_id = $file_id, preset = $preset,
            kind = $kind, rows_read = $rows_read, inserted = $inserted, updated = $updated,
            duplicates = $duplicates, rejected = $rejected, message = $message,
            mapping = $mapping, added = $added, finished_at = $now
        where job_id = $job_id
        """,
        {
            "file_id": file_id,
            "preset": prepared.mapping.preset.name,
            "kind": prepared.mapping.kind.name,
            "rows_read": validation.rows_read,
            "inserted": counts.inserted,
            "updated": counts.updated,
            "duplicates": counts.duplicates + validation.duplicates_in_file,
            "rejected": validation.rejected + counts.rejected,
            "message": _message(validation, counts, prepared.layout.notes),
            "mapping": json.dumps(prepared.mapping.as_dict()),
            "added": json.dumps(counts.added, default=str),
            "now": jobs.now(),
            "job_id": job_id,
        },
    )


def _start(
    warehouse: Path, sha: str, meta: dict[str, Any]
) -> tuple[int, jobs.JobSummary | None, dict[str, Preset]]:
    """Open the warehouse briefly: reap dead jobs, create this job, answer "already imported"."""
    with connect(warehouse) as con:
        jobs.reap_dead_jobs(con)
        saved = saved_presets(con)
        job_id = jobs.create_job(
            con,
            file_name=meta["file_name"],
            source=meta["origin"],
            remote_path=meta["remote_path"],
            user=meta["user"],
            status="pending",
        )
        return job_id, _if_already_imported(con, job_id, meta), saved


def _if_already_imported(
    con: duckdb.DuckDBPyConnection, job_id: int, meta: dict[str, Any]
) -> jobs.JobSummary | None:
    """When a file with these bytes is in the warehouse, the job completes adding nothing and
    names the job that brought it. Asked when the job starts, and again in the load's own
    connection (the warehouse held), where an import of the same file started at the same
    moment finds the one that loaded first instead of failing on raw_files' unique sha256."""
    known = con.execute(
        "select f.file_id, f.received_at, max(j.job_id) from raw_files f "
        "left join import_jobs j on j.file_id = f.file_id and j.status = 'completed' "
        "where f.sha256 = $sha group by all",
        {"sha": meta["sha"]},
    ).fetchone()
    if known is None:
        return None
    file_id, received, first_job = known
    message = (
        f"Already imported: the same file (by content) was imported on "
        f"{received:%Y-%m-%d %H:%M} (job {first_job}); nothing was added."
    )
    if meta.get("platform"):
        message += _redeclare(con, file_id, meta["platform"])
    con.execute(
        "update import_jobs set status = 'completed', file_id = $f, message = $m, "
        "finished_at = $now where job_id = $j",
        {"f": file_id, "m": message, "now": jobs.now(), "j": job_id},
    )
    audit.log(con, meta["user"], "import", _attempt(meta, job_id, "completed", message))
    return jobs.job_summary(con, job_id, already_imported=True)


def _redeclare(con: duckdb.DuckDBPyConnection, file_id: int, platform: str) -> str:
    """The same file imported again with a declared test: its scores of no declared scale
    (`generic`, or a hand-made mapping's own name) take that platform — so "import it again
    choosing MAP Growth" fixes a file first imported as other / unknown. Scores a vendor preset
    or the file's platform column declared stay; a score whose key already exists on the new
    platform stays too (never two scores for one test event). Returns the sentence to add."""
    vendor = [p for p in canonical.PLATFORMS if p != canonical.UNKNOWN_PLATFORM]
    changed = con.execute(
        """
        update assessments a set platform = $p
        where a.job_id in (select job_id from import_jobs where file_id = $f)
          and a.platform <> $p and not list_contains($vendor, a.platform)
          and not exists (
              select 1 from assessments b
              where b.student_id = a.student_id and b.platform = $p and b.subject = a.subject
                and b.school_year = a.school_year and b.season = a.season)
        """,
        {"p": platform, "f": int(file_id), "vendor": vendor},
    ).fetchone()[0]
    if not changed:
        return ""
    return (f" Its {changed:,} scores are now declared {canonical.platform_title(platform)} "
            f"scores ({platform}).")  # fmt: skip


def _record_failure(warehouse: Path, job_id: int, message: str, meta: dict[str, Any]) -> None:
    """The job says why it failed; the attempt is audited like every import."""
    with connect(warehouse, wait_seconds=MERGE_WAIT_SECONDS) as con, transaction(con):
        jobs.fail_job(con, job_id, message)
        audit.log(con, meta.get("user"), "import", _attempt(meta, job_id, "failed", message))


def _attempt(meta: dict[str, Any], job_id: int, status: str, message: str) -> dict:
    return {
        "file": meta.get("file_name"),
        "source": meta.get("origin"),
        "remote_path": meta.get("remote_path"),
        "job_id": job_id,
        "status": status,
        "message": message,
    }


def import_file(
    path_or_stream: Source,
    *,
    db: str | os.PathLike | None = None,
    file_name: str | None = None,
    origin: str = "upload",
    preset: str = "auto",
    mapping: Any = None,
    user: str | None = None,
    remote_path: str | None = None,
    progress: Progress | None = None,
    platform: str | None = None,
) -> jobs.JobSummary:
    """Import one file (path or binary stream) into the warehouse `db` (None: the default).
    `platform` declares which test a generic file holds (`nwea_map`, `star`, …; default: the
    file's own platform column, else `generic`, "other / unknown")."""
    if origin not in ORIGINS:
        raise ValueError(f"origin must be one of {', '.join(ORIGINS)}")
    if platform is not None and platform not in canonical.PLATFORMS:
        raise ValueError(f"platform must be one of {', '.join(canonical.PLATFORMS)}")
    report = progress or _quiet
    warehouse = warehouse_path(db)
    name = file_name or _name_of(path_or_stream)
    staging_root = warehouse.parent / "staging"
    private_files.private_dir(staging_root)
    work = Path(tempfile.mkdtemp(prefix=jobs.staging_folder_name("import"), dir=staging_root))
    try:
        path, sha = spool(path_or_stream, work)
        meta = {
            "file_name": name,
            "origin": origin,
            "remote_path": remote_path,
            "user": user,
            "sha": sha,
            "size": path.stat().st_size,
            "platform": platform,
        }
        job_id, done, saved = _start(warehouse, sha, meta)
        if done is not None:
            report("loading", 1.0)
            return done
        return _run(warehouse, path, work, job_id, meta, preset, mapping, saved, report)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(warehouse, path, work, job_id, meta, preset, mapping, saved, report) -> jobs.JobSummary:
    kept = _KeptRaw(path, meta["sha"], warehouse)  # copies while the file is parsed
    try:
        prepared = prepare(
            path,
            meta["file_name"],
            work,
            preset=preset,
            mapping=mapping,
            saved=saved,
            progress=report,
            platform=meta.get("platform"),
        )
        report("loading", 0.0)
        kept.wait()
        summary = merge(warehouse, prepared, job_id, meta)
        report("loading", 1.0)
        return summary
    except (FileRefused, ValueError, json.JSONDecodeError) as exc:
        kept.discard()
        _record_failure(warehouse, job_id, str(exc), meta)
        return _failed_summary(warehouse, job_id)
    except BaseException as exc:
        kept.discard()
        _record_failure(warehouse, job_id, f"The import failed: {exc}", meta)
        raise


class _KeptRaw:
    """The bytes kept as raw/<sha256> (_store_raw), copied in a background thread: the copy
    waits on the disk while parsing keeps the cores busy, so the two overlap."""

    def __init__(self, path: Path, sha: str, warehouse: Path) -> None:
        self.target: Path | None = None
        self.created = False
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._copy, args=(path, sha, warehouse), name="keep-raw", daemon=True
        )
        self._thread.start()

    def _copy(self, path: Path, sha: str, warehouse: Path) -> None:
        try:
            self.target, self.created = _store_raw(path, sha, warehouse)
        except BaseException as exc:  # handed to the import's thread by wait()
            self.error = exc

    def wait(self) -> Path:
        self._thread.join()
        if self.error is not None:
            raise self.error
        return self.target

    def discard(self) -> None:
        """Remove the copy if this import made it (after it finished)."""
        self._thread.join()
        if self.created and self.target is not None:
            self.target.unlink(missing_ok=True)


def _failed_summary(warehouse: Path, job_id: int) -> jobs.JobSummary:
    with connect(warehouse, wait_seconds=MERGE_WAIT_SECONDS) as con:
        return jobs.job_summary(con, job_id)


def _stored_file(warehouse: Path, file_id: int) -> tuple[Path, dict[str, Any]]:
    """Where a stored file's kept bytes are, and who/what it came from (short warehouse read)."""
    with connect(warehouse) as con:
        found = con.execute(
            "select stored_path, file_name, source, remote_path, received_at from raw_files "
            "where file_id = $f",
            {"f": int(file_id)},
        ).fetchall()
    if not found:
        raise FileRefused(f"There is no stored file {file_id} to replay.")
    stored, name, source, remote, received = found[0]
    path = warehouse.parent / stored
    if not path.is_file():
        raise FileRefused(f"The kept copy of stored file {file_id} ({stored}) is missing.")
    return path, {"file_name": name, "origin": source, "remote_path": remote, "received": received}


def replay(
    file_id: int,
    mapping: Any = None,
    *,
    db: str | os.PathLike | None = None,
    preset: str = "auto",
    user: str | None = None,
    progress: Progress | None = None,
    platform: str | None = None,
) -> jobs.JobSummary:
    """Map and load a stored file again (e.g. after fixing its mapping), without re-upload: the
    kept raw bytes are read again. Rows already loaded count as duplicates or updates; nothing
    is doubled."""
    report = progress or _quiet
    warehouse = warehouse_path(db)
    staging_root = warehouse.parent / "staging"
    private_files.private_dir(staging_root)
    work = Path(tempfile.mkdtemp(prefix=jobs.staging_folder_name("replay"), dir=staging_root))
    try:
        path, meta = _stored_file(warehouse, file_id)
        meta.update(user=user)
        with connect(warehouse) as con:
            jobs.reap_dead_jobs(con)
            saved = saved_presets(con)
            job_id = jobs.create_job(
                con,
                file_name=meta["file_name"],
                source=meta["origin"],
                remote_path=meta["remote_path"],
                user=user,
                status="pending",
                replay_of=int(file_id),
            )
        try:
            prepared = prepare(path, meta["file_name"], work, preset=preset, mapping=mapping,
                               saved=saved, progress=report, platform=platform,
                               filed_on=meta["received"].date())  # fmt: skip
            report("loading", 0.0)
            summary = merge(warehouse, prepared, job_id, meta, replay_of=int(file_id))
            report("loading", 1.0)
            return summary
        except (FileRefused, ValueError) as exc:
            _record_failure(warehouse, job_id, str(exc), meta)
            return _failed_summary(warehouse, job_id)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _plan(
    layout: Layout, file_name: str, preset: str, mapping: Any, saved, platform: str | None = None
) -> Mapping:
    chosen, overrides = _choose_preset(layout.headers, file_name, preset, mapping, saved or {})
    chosen = declare_platform(chosen, platform)
    kind = get_kind(chosen.kind)
    if overrides:
        check_targets(preset_from_mapping(overrides, kind=kind.name))
    return plan_columns(layout.headers, chosen, kind, overrides)


@dataclass
class Preview:
    """What the Upload page shows before importing: the file as read, and the mapping."""

    file_name: str
    format: str = ""
    encoding: str = ""
    delimiter: str | None = None
    header_row: int = 1
    headers: list[str] | None = None
    rows: pd.DataFrame | None = None
    preset: str = ""
    preset_title: str = ""
    kind: str = ""
    mapping: dict[str, str] | None = None
    missing: list[str] | None = None
    fields: list[str] | None = None
    notes: list[str] | None = None
    refused: str | None = None
    platform: str | None = None  # the test the preset says the scores are from
    declarable: bool = False  # a person may say which test it holds (generic / own mapping)


def preview(
    path_or_stream: Source,
    *,
    preset: str = "auto",
    mapping: Any = None,
    rows: int = 10,
    db: str | os.PathLike | None = None,
    file_name: str | None = None,
) -> Preview:
    """Detect and map a file without importing it (saved presets come from `db` if given)."""
    name = file_name or _name_of(path_or_stream)
    work = Path(tempfile.mkdtemp(prefix="preview_"))
    try:
        path, _ = spool(path_or_stream, work)
        saved: dict[str, Preset] = {}
        if db is not None and warehouse_path(db).exists():
            with connect(db) as con:
                saved = saved_presets(con)
        try:
            layout = detect(path)
            refuse_too_wide(layout)
            planned = with_file_year(_plan(layout, name, preset, mapping, saved), name)[0]
            frame = head_frame(path, layout, rows)
        except (FileRefused, ValueError) as exc:
            return Preview(file_name=name, refused=str(exc))
        return Preview(
            file_name=name,
            format=layout.format.value,
            encoding=layout.encoding,
            delimiter=layout.delimiter,
            header_row=layout.header_row,
            headers=list(layout.headers),
            rows=frame,
            preset=planned.preset.name,
            preset_title=planned.preset.title,
            kind=planned.kind.name,
            mapping=planned.as_dict(),
            missing=planned.missing(),
            fields=list(planned.kind.field_names),
            notes=list(layout.notes),
            platform=planned.preset.platform,
            declarable=declarable(planned.preset),
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
