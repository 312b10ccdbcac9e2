"""The import pipeline: detect → parse → validate → load, one path for every source.

    from core.ingest import import_file, preview, JobSummary
    summary = import_file("scores.csv", db="data/yardstick.duckdb", origin="cli")

1. detect (core/ingest/detect.py): sniff the bytes — xlsx, json or delimited text whatever the
   file is called; encoding (UTF-8 ± BOM, UTF-16, cp1252/Latin-1, mixed); delimiter; the header
   row below any vendor title lines.
2. parse (core/ingest/read.py): stage every row as received, all VARCHAR, into a private staging
   DuckDB file next to the warehouse (<warehouse folder>/staging/import_p<pid>_…/) — big CSVs
   stream through DuckDB's read_csv; the warehouse is not held while this runs.
3. validate (core/ingest/validate.py): map headers to a kind's fields with a preset
   (core/presets/*.json, saved mappings, or --mapping), then cast and check every field in ONE
   SQL scan that writes the typed rows and each row's problems (stg.typed); row-numbered errors;
   rejected rows never block good ones.
4. load (core/ingest/pipeline.py): open the warehouse once, attach the staging file read-only,
   and in ONE transaction store the raw file's row (bytes kept as raw/<sha256>) and
   staged_<file_id> (its rows as received: a view reading the kept bytes for UTF-8 text, a
   table for Excel/JSON/re-encoded text), run the kind's loader over the view `ingest_clean`
   (the typed rows not rejected), store every error, finish the job and audit it. Same bytes
   again → "already imported"; overlapping rows → duplicates or updates; a blank cell never
   overwrites a stored value.

In a child process (core/ingest/child.py): `import_in_child`, the same import under an
address-space limit ($YARDSTICK_IMPORT_MEMORY, 4 GB) — what the Upload page calls, so a hostile
file stops its own process, not the app; its job is then failed with a message saying so.
`bounded_preview`: the preview, in such a child for Excel and JSON (parsed whole), in this
process for delimited text (only its first 256 KB are read).

Jobs (core/ingest/jobs.py): list_jobs, job_errors, errors_csv; a job left running by a dead
process is marked failed (and its leftovers swept) whenever jobs are listed or an import starts.
`replay(file_id, mapping)` maps a stored file again without the upload (from its kept bytes).

Adding a kind (e.g. "district")
-------------------------------
1. Write core/ingest/loaders/<kind>.py (auto-discovered) that calls
   `register_kind(Kind(name, title, fields=(Field(...), ...), key=(...), loader=fn,
   attributes=False))`. Field types: id, text, number, grade, season, subject, school_year,
   date, bool, term. `required=True` rejects rows where the value is blank; `structural=True`
   refuses a file that has no such column; `on_invalid="blank"` reports an impossible value as a
   warning and loads the row without it (rows that carry several measures); `low`/`high` bound
   numbers (a preset's "ranges" override them).
2. `fn(con, table, job_id) -> LoadCounts` reads `table` (typed columns named after your fields,
   plus `_row_number`) and writes your own tables (your migration) with set-based SQL inside the
   caller's transaction — never commit there. `core.ingest.merge.merge_facts` counts
   inserted/updated/duplicates and coalesces blanks for you.
3. Add core/presets/<name>.json with "kind": "<kind>" (format in core/ingest/presets.py); mark
   one preset of the kind `"source": {"generic": true}` so its aliases back the others.
"""

from __future__ import annotations

from core.ingest.child import bounded_preview, import_in_child
from core.ingest.detect import FileRefused
from core.ingest.jobs import JobSummary, errors_csv, job_errors, list_jobs
from core.ingest.kinds import Field, Kind, LoadCounts, all_kinds, get_kind, register_kind
from core.ingest.pipeline import Preview, import_file, preview, replay
from core.ingest.presets import Preset, builtin_presets, detect_preset, save_preset

__all__ = [
    "bounded_preview",
    "Field",
    "FileRefused",
    "JobSummary",
    "Kind",
    "LoadCounts",
    "Preset",
    "Preview",
    "all_kinds",
    "builtin_presets",
    "detect_preset",
    "errors_csv",
    "get_kind",
    "import_file",
    "import_in_child",
    "job_errors",
    "list_jobs",
    "preview",
    "register_kind",
    "replay",
    "save_preset",
]
