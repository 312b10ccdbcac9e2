"""The warehouse: the one DuckDB file every answer is read from.

Answers where the warehouse lives, which schema version it has (SQL migrations in `migrations/`,
applied in order on open), how processes share it, what the district configured (settings; secret
values encrypted at rest) and the canonical values every row is stored in.

Public face:
- `db`: `connect`, `memory`, `warehouse_path`, `transaction`, `data_version`, `keep_open`,
  `WarehouseError` / `WarehouseBusyError` / `SchemaTooNewError`.
- `settings`: `get`, `put` (`secret=True` encrypts), `min_group_size`.
- `secrets`: `encrypt`, `decrypt`, `cookie_key` (Fernet keys kept beside the warehouse).
- `private_files`: `private_dir`, `open_private`, `private_file`, `tighten`, `protect` (every
  file beside the warehouse 0600, every folder 0700, whatever the umask).
- `canonical`: subject / season / grade / school year spellings, `normalize_header`, `sql_map`;
  `us_states`: USPS and FIPS codes.

Lowest layer: imports nothing else from core. One exception, by name at run time: migration 11's
data step replays stored files through `core.ingest.attribute_replay` (`db._PYTHON_STEPS`).
"""
