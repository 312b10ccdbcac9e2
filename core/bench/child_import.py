"""Run in a child process by the benchmark: one import through the same function the CLI and the
Upload page call, timed from the call to its return. Prints one JSON document: the job summary
plus `seconds`.

Why not time `python -m core import` from the outside: that adds the interpreter start and the
import of Yardstick's modules (pandas, pyarrow, scipy … about 1-1.5 s here) to a figure that is
compared with read_csv timed inside an already running process. The import's own work — hashing,
keeping the raw file, detection, mapping, validation, dedupe, load, the job record and its
audit entry, every warehouse open — is all inside `import_file` and all timed. The parent still
reads this process's peak memory from the kernel, so memory covers everything the process held,
the loaded modules included.
"""

from __future__ import annotations

import json
import sys
import time

from core.ingest import import_file


def main(csv_path: str, db_path: str) -> dict:
    start = time.perf_counter()
    summary = import_file(csv_path, db=db_path, origin="cli", user="bench")
    seconds = time.perf_counter() - start
    return {**summary.to_dict(), "errors": summary.errors[:20], "seconds": seconds}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2]), default=str))
