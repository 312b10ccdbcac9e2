"""Private files: what Yardstick keeps on disk holds student records, so only the account that
runs Yardstick may read it, whatever the umask of the shell that started the process.

Files are 0600 and folders 0700: the warehouse and DuckDB's own `.wal` and spill folder, `raw/`
copies of uploads, `staging/` import work, `incoming/` SFTP downloads, backups, the secrets file.
Yardstick's own writes go through `private_dir` / `open_private`. DuckDB creates the `.wal`
and spill files itself, later, whenever it writes, and only the process umask reaches those:
so the first open of a warehouse file in a process makes the process umask private
(`private_umask`) and tightens what an older version or a loose umask left readable (`protect`),
with one log line per path it changed. A folder the warehouse merely lives in (a home folder,
/srv) is created 0700 when Yardstick creates it, and otherwise left as the administrator set it.

Public names: `private_umask`, `make_dirs`, `private_dir`, `private_file`, `open_private`,
`tighten`, `protect`, `FILE_MODE`, `DIR_MODE`.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
DIR_MODE = 0o700
PRIVATE_UMASK = 0o077
# Folders beside the warehouse that hold student data: kept copies of uploads, import work, SFTP
# downloads, backups, the demo's sample files.
DATA_FOLDERS = ("raw", "staging", "incoming", "backups", "samples")
# Beside the warehouse file itself: DuckDB's write-ahead log and its default spill folder.
WAREHOUSE_SUFFIXES = (".wal", ".tmp")

log = logging.getLogger("yardstick.files")
_lock = threading.Lock()
_protected: set[str] = set()
_reported: set[str] = set()


def private_umask() -> None:
    """From now on this process creates files and folders no other account can open (the umask
    gains 077; it is never loosened). Process-wide and never restored, so no thread races."""
    with _lock:
        current = os.umask(PRIVATE_UMASK)
        os.umask(current | PRIVATE_UMASK)


def make_dirs(folder: str | os.PathLike[str]) -> Path:
    """`folder` and its missing parents, each one created here 0700; folders that exist are
    left alone (a warehouse may live in a folder shared for other reasons)."""
    target = Path(folder)
    if target.is_dir():
        return target
    missing = [p for p in (target, *target.parents) if not p.exists()]
    target.mkdir(parents=True, exist_ok=True)
    for created in missing:
        _set_mode(created, DIR_MODE)
    return target


def private_dir(folder: str | os.PathLike[str]) -> Path:
    """A folder Yardstick owns (raw/, staging/, a backups folder): created 0700 with its missing
    parents, or tightened to 0700 when it exists looser (with a log line)."""
    target = make_dirs(folder)
    _restrict(target, DIR_MODE)
    return target


def private_file(path: str | os.PathLike[str]) -> Path:
    """An existing file made readable by this account only (0600), with a log line when that
    changed it; a missing file is fine (nothing to protect yet)."""
    target = Path(path)
    if target.is_file():
        _restrict(target, FILE_MODE)
    return target


def open_private(path: str | os.PathLike[str], mode: str = "wb") -> IO:
    """Create (or truncate, or append to, with mode "a"/"ab") a 0600 file and open it: a backup
    archive, a kept copy, the secrets file. An existing file is set to 0600 as well, since
    opening keeps the mode it had."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    descriptor = os.open(path, flags, FILE_MODE)
    try:
        if hasattr(os, "fchmod"):  # not on Windows, where modes mean little
            os.fchmod(descriptor, FILE_MODE)
    except OSError:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, mode, **({} if "b" in mode else {"encoding": "utf-8"}))


def tighten(path: str | os.PathLike[str]) -> list[Path]:
    """`path` and, for a folder, everything inside it: files 0600, folders 0700. Returns the
    paths it changed, each logged once per process. Symbolic links inside are not followed."""
    top = Path(path)
    if not top.exists():
        return []
    if not top.is_dir():
        return [top] if _restrict(top, FILE_MODE) else []
    changed = [top] if _restrict(top, DIR_MODE) else []
    for root, folders, files in os.walk(top):
        for name, mode in [(f, DIR_MODE) for f in folders] + [(f, FILE_MODE) for f in files]:
            entry = Path(root, name)
            if not entry.is_symlink() and _restrict(entry, mode):
                changed.append(entry)
    return changed


def protect(warehouse: str | os.PathLike[str]) -> list[Path]:
    """Once per warehouse file per process: the private umask, then the warehouse, its `.wal`
    and spill folder and the data folders beside it tightened (see the module docstring)."""
    path = Path(warehouse).resolve()
    with _lock:
        if str(path) in _protected:
            return []
        _protected.add(str(path))
    private_umask()
    changed = tighten(path)
    for suffix in WAREHOUSE_SUFFIXES:
        changed += tighten(path.with_name(path.name + suffix))
    for name in DATA_FOLDERS:
        changed += tighten(path.parent / name)
    return changed


def _restrict(path: Path, mode: int) -> bool:
    """Take away every permission beyond `mode`; True when the mode changed."""
    try:
        before = stat.S_IMODE(path.stat().st_mode)
        if (before & ~mode) == 0:
            return False
        os.chmod(path, before & mode)
    except OSError as exc:
        _report(path, f"{path} can be read by other accounts and could not be made private ({exc})")
        return False
    _report(
        path,
        f"{path} could be read by other accounts on this machine (mode {before:04o}); it is now "
        f"{before & mode:04o}, readable only by the account that runs Yardstick.",
    )
    return True


def _set_mode(path: Path, mode: int) -> None:
    try:
        os.chmod(path, mode)
    except OSError as exc:
        _report(path, f"{path} was created but could not be made private ({exc})")


def _report(path: Path, message: str) -> None:
    with _lock:
        if str(path) in _reported:
            return
        _reported.add(str(path))
    log.warning(message)
