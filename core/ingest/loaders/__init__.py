"""Loaders, one module per kind; each module calls `register_kind(Kind(...))` at import.

`discover()` imports every module in this package once, so a new kind is a new file here plus
its preset(s) in core/presets/ — nothing else to edit.
"""

from __future__ import annotations

import importlib
import pkgutil

_done = False


def discover() -> None:
    global _done
    if _done:
        return
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        importlib.import_module(f"{__name__}.{module.name}")
    _done = True
