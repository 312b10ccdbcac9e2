"""Vendor presets (data in core/presets/*.json and saved mappings) and column mapping.

A preset says which file headers mean which target fields of its kind, how to recognise the
format from its headers, constant values (platform, a fixed subject), extra value spellings and
the platform's valid score range. Headers match case- and punctuation-insensitively
("Student ID" = "StudentID" = "student_id"). Columns no alias claims become student attributes
named by `core.warehouse.canonical.normalize_header` (unless the preset says `"extra_columns":
"ignore"`).

Preset file format (every key but name/kind/columns optional):

    {"name": "nwea_map", "title": "...", "kind": "assessment", "platform": "nwea_map",
     "platform_title": "NWEA MAP Growth",
     "base": "generic",                       # also use that preset's aliases as a fallback
     "source": {"cited": ["where the names come from"], "confidence": "high|medium|low"},
     "detect": {"all": [headers], "any": [headers], "none": [headers],
                "file_name": "regex the lower-case file name must match"},
     "columns": {"TestRITScore": "score", "Goal1Name": "ignore", ...},
     "constants": {"subject": "reading"},
     "values": {"subject": {"Language Usage": "language"}},
     "ranges": {"score": [100, 350]},
     "extra_columns": "attributes" | "ignore", "attributes": [headers kept as attributes]}
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from core.ingest.kinds import Kind, get_kind
from core.warehouse import canonical
from core.warehouse.canonical import normalize_header

PRESET_DIR = Path(__file__).resolve().parents[1] / "presets"
IGNORE = "ignore"
ATTRIBUTE = "attribute"
_KEY = re.compile(r"[^0-9a-z]+")


def header_key(header: str) -> str:
    """Case- and punctuation-insensitive identity of a header ("Student ID" -> "studentid")."""
    return _KEY.sub("", str(header).strip().lower())


@dataclass(frozen=True)
class Preset:
    name: str
    kind: str
    columns: dict[str, str]
    title: str = ""
    platform: str | None = None
    platform_title: str | None = None
    base: str | None = None
    source: dict = field(default_factory=dict)
    detect_all: tuple[str, ...] = ()
    detect_any: tuple[str, ...] = ()
    detect_none: tuple[str, ...] = ()
    file_name: str | None = None
    constants: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    extra_columns: str = "attributes"
    attributes: tuple[str, ...] = ()
    origin: str = "builtin"  # builtin | saved | file

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "builtin") -> Preset:
        if not isinstance(data, dict) or "name" not in data or "kind" not in data:
            raise ValueError('A preset is a JSON object with at least "name" and "kind".')
        detect = data.get("detect") or {}
        ranges = {k: (v[0], v[1]) for k, v in (data.get("ranges") or {}).items()}
        return cls(
            name=str(data["name"]),
            kind=str(data["kind"]),
            columns={str(k): str(v) for k, v in (data.get("columns") or {}).items()},
            title=str(data.get("title") or data["name"]),
            platform=data.get("platform"),
            platform_title=data.get("platform_title"),
            base=data.get("base"),
            source=dict(data.get("source") or {}),
            detect_all=tuple(detect.get("all") or ()),
            detect_any=tuple(detect.get("any") or ()),
            detect_none=tuple(detect.get("none") or ()),
            file_name=detect.get("file_name"),
            constants={str(k): str(v) for k, v in (data.get("constants") or {}).items()},
            values={k: dict(v) for k, v in (data.get("values") or {}).items()},
            ranges=ranges,
            extra_columns=str(data.get("extra_columns") or "attributes"),
            attributes=tuple(data.get("attributes") or ()),
            origin=origin,
        )

    @functools.cached_property
    def aliases(self) -> dict[str, tuple[str, int]]:
        """header key -> (target field, rank): this preset's own aliases (ranked in the order
        the preset lists them) over its base's (ranked after them)."""
        merged: dict[str, tuple[str, int]] = {}
        if self.base and self.base != self.name:
            base = builtin_presets()[self.base].aliases
            merged.update({k: (v, rank + 10_000) for k, (v, rank) in base.items()})
        for rank, (header, target) in enumerate(self.columns.items()):
            merged[header_key(header)] = (target, rank)
        return merged


@functools.cache
def builtin_presets() -> dict[str, Preset]:
    """The presets shipped in core/presets/*.json, by name."""
    found: dict[str, Preset] = {}
    for path in sorted(PRESET_DIR.glob("*.json")):
        preset = Preset.from_dict(json.loads(path.read_text(encoding="utf-8")))
        found[preset.name] = preset
    return found


def saved_presets(con: duckdb.DuckDBPyConnection) -> dict[str, Preset]:
    """Mappings saved from the Upload page (table mapping_presets)."""
    rows = con.execute(
        "select name, kind, mapping::varchar, platform from mapping_presets order by name"
    ).fetchall()
    return {
        name: preset_from_mapping(json.loads(mapping), name=name, kind=kind, platform=platform)
        for name, kind, mapping, platform in rows
    }


def save_preset(
    con: duckdb.DuckDBPyConnection,
    name: str,
    kind: str,
    mapping: dict[str, str],
    *,
    platform: str | None = None,
    user: str | None = None,
) -> Preset:
    """Save (or replace) a named mapping; it is offered for files with the same headers."""
    clean_name = name.strip()
    if not clean_name:
        raise ValueError("A saved mapping needs a name.")
    if clean_name in builtin_presets():
        raise ValueError(f"{clean_name!r} is a built-in preset; choose another name.")
    preset = preset_from_mapping(mapping, name=clean_name, kind=kind, platform=platform)
    check_targets(preset)
    con.execute(
        "insert or replace into mapping_presets (name, kind, mapping, platform, created_by) "
        "values ($name, $kind, $mapping, $platform, $user)",
        {
            "name": clean_name,
            "kind": kind,
            "mapping": json.dumps(mapping),
            "platform": preset.platform,
            "user": user,
        },
    )
    return preset


def preset_from_mapping(
    mapping: dict[str, Any],
    *,
    name: str = "custom",
    kind: str = "assessment",
    platform: str | None = None,
) -> Preset:
    """A preset from {"source header": "target field"}, or from a full preset object."""
    if not isinstance(mapping, dict):
        raise ValueError('A mapping is a JSON object {"source header": "target field"}.')
    if "columns" in mapping and isinstance(mapping["columns"], dict):
        data = {"name": name, "kind": kind, **mapping}
        if "base" not in mapping:
            data["base"] = generic_preset_for(data["kind"])
        return Preset.from_dict(data, origin="file")
    columns = {str(k): str(v or IGNORE) for k, v in mapping.items()}
    return Preset(
        name=name,
        kind=kind,
        columns=columns,
        title=name,
        platform=platform or normalize_header(name) or "custom",
        base=generic_preset_for(kind),
        detect_all=tuple(k for k, v in columns.items() if v != IGNORE),
        origin="saved",
    )


def declarable(preset: Preset) -> bool:
    """True when a person may say which test the file holds: assessment files mapped by the
    generic long format or a mapping of their own. A vendor preset knows its test already."""
    return preset.kind == "assessment" and preset.platform_title is None


def declare_platform(preset: Preset, platform: str | None) -> Preset:
    """The preset with the test the person declared (Upload: "which test", CLI --platform).

    The generic format assumes no scale (platform `generic`, "other / unknown"), so no national
    norm judges its scores until someone says they are, e.g., MAP Growth. A `platform` column in
    the file still wins row by row (the declared test fills its blank cells)."""
    if platform is None:
        return preset
    if platform not in canonical.PLATFORMS:
        known = ", ".join(canonical.PLATFORMS)
        raise ValueError(f"Unknown platform {platform!r}; use one of: {known}.")
    if preset.platform == platform:
        return preset
    if not declarable(preset):
        raise ValueError(
            f"This file is a {preset.platform_title or preset.title} export ({preset.platform}); "
            "a declared test applies to generic or hand-mapped assessment files. Import it "
            "without --platform, or choose the generic preset (--source generic)."
        )
    return dataclasses.replace(preset, platform=platform)


def generic_preset_for(kind: str) -> str | None:
    """The catch-all preset of a kind (its aliases back every other preset of that kind)."""
    for preset in builtin_presets().values():
        if preset.kind == kind and preset.source.get("generic"):
            return preset.name
    return None


def check_targets(preset: Preset) -> None:
    """Every mapped target must be a field of the preset's kind (or ignore/attribute)."""
    kind = get_kind(preset.kind)
    allowed = {*kind.field_names, IGNORE, ATTRIBUTE}
    wrong = sorted({v for v in preset.columns.values() if v not in allowed})
    if wrong:
        raise ValueError(
            f"Unknown target field(s) {', '.join(wrong)} for {kind.title}; "
            f"use one of: {', '.join(kind.field_names)}, ignore, attribute."
        )


@dataclass(frozen=True)
class ColumnPlan:
    """What happens to one column of the file."""

    position: int
    header: str
    staged: str  # the column's name in the staged table (headers made unique)
    target: str | None  # a field of the kind, or None
    attribute: str | None  # attribute name when the column becomes a student attribute
    note: str = ""


@dataclass(frozen=True)
class Mapping:
    preset: Preset
    kind: Kind
    columns: tuple[ColumnPlan, ...]

    def column_for(self, target: str) -> ColumnPlan | None:
        for plan in self.columns:
            if plan.target == target:
                return plan
        return None

    def provides(self, target: str) -> bool:
        """A column, a constant or a default supplies this field (derivations not counted)."""
        return (
            self.column_for(target) is not None
            or target in self.constants
            or target in self.kind.defaults
            # a file without a school year is filed by its date (core/ingest/file_year.py)
            or (target == "school_year" and self.kind.year_from_file)
        )

    @property
    def constants(self) -> dict[str, str]:
        values = dict(self.preset.constants)
        if self.preset.platform and "platform" in self.kind.field_names:
            values.setdefault("platform", self.preset.platform)
        return values

    def missing(self) -> list[str]:
        """Fields that no column, constant, default or derivation can supply.

        Structural ones first: without them the file cannot be imported at all."""
        gaps = []
        for spec in self.kind.fields:
            if not (spec.required or spec.structural) or self.provides(spec.name):
                continue
            if any(self.provides(source) for source in spec.derived_from):
                continue
            gaps.append(spec)
        gaps.sort(key=lambda f: not f.structural)
        return [f.name for f in gaps]

    def as_dict(self) -> dict[str, str]:
        """{"source header": "target field"} (the --mapping file format)."""
        return {
            plan.header: plan.target or (ATTRIBUTE if plan.attribute else IGNORE)
            for plan in self.columns
        }


def staged_names(headers: list[str]) -> list[str]:
    """Unique, non-empty column names for the staged table ("Score", "Score" -> "Score_2").

    DuckDB names are case-insensitive, so uniqueness ignores case; a leading "_" is reserved
    for our own columns (_row_number, _source_file, _ingested_at)."""
    used: set[str] = set()
    names = []
    for position, header in enumerate(headers, start=1):
        base = str(header).strip() or f"column_{position}"
        if base.startswith("_"):
            base = "col" + base
        name, count = base, 1
        while name.lower() in used:
            count += 1
            name = f"{base}_{count}"
        used.add(name.lower())
        names.append(name)
    return names


def _lookup_override(overrides: dict[str, str], header: str) -> str | None:
    if header in overrides:
        return overrides[header]
    keyed = {header_key(k): v for k, v in overrides.items()}
    return keyed.get(header_key(header))


def _claims(
    headers: list[str], preset: Preset, kind: Kind, overrides: dict[str, str]
) -> dict[int, str]:
    """position -> target. When several headers name one field, the preset decides: the
    alias it lists first wins (e.g. Star's "Grade" tested over "CurrentGrade"); an explicit
    override beats every alias; ties go to the leftmost column."""
    aliases = preset.aliases
    wanted: dict[str, tuple[int, int]] = {}
    claims: dict[int, str] = {}
    for position, header in enumerate(headers, start=1):
        override = _lookup_override(overrides, header)
        target, rank = (
            (override, -1) if override is not None else aliases.get(header_key(header), (None, 0))
        )
        if target in (None, IGNORE, ATTRIBUTE):
            if target:
                claims[position] = target
            continue
        if target not in kind.field_names:
            continue
        best = wanted.get(target)
        if best is None or (rank, position) < best:
            wanted[target] = (rank, position)
    for target, (_, position) in wanted.items():
        claims[position] = target
    return claims


def plan_columns(
    headers: list[str], preset: Preset, kind: Kind, overrides: dict[str, str] | None = None
) -> Mapping:
    """Map each header to a field, an attribute, or nothing."""
    claims = _claims(headers, preset, kind, overrides or {})
    keep_as_attribute = {header_key(h) for h in preset.attributes}
    aliases = preset.aliases
    plans = []
    for position, (header, staged) in enumerate(
        zip(headers, staged_names(headers), strict=True), start=1
    ):
        key = header_key(header)
        target = claims.get(position)
        note = ""
        lost = aliases.get(key, (None, 0))[0]
        if target is None and lost in kind.field_names:
            note = f"another column supplies {lost}; this one is not used for it"
        attribute = None
        if target in (None, ATTRIBUTE):
            wanted = target == ATTRIBUTE or (
                (preset.extra_columns == "attributes" and not note) or key in keep_as_attribute
            )
            if kind.attributes and wanted and normalize_header(header):
                attribute = normalize_header(header)
            target = None
        elif target == IGNORE:
            target = None
        plans.append(ColumnPlan(position, str(header), staged, target, attribute, note))
    return Mapping(preset=preset, kind=kind, columns=_unique_attributes(plans, kind))


def _unique_attributes(plans: list[ColumnPlan], kind: Kind) -> tuple[ColumnPlan, ...]:
    """An attribute named like a field or like an earlier attribute is dropped (noted)."""
    seen = set(kind.field_names)
    out = []
    for plan in plans:
        if plan.attribute and plan.attribute in seen:
            plan = ColumnPlan(
                plan.position,
                plan.header,
                plan.staged,
                None,
                None,
                plan.note or f"duplicate of {plan.attribute}; not loaded",
            )
        elif plan.attribute:
            seen.add(plan.attribute)
        out.append(plan)
    return tuple(out)


@dataclass(frozen=True)
class Detection:
    preset: Preset
    score: tuple
    reason: str


def _detect_score(preset: Preset, keys: set[str], file_name: str, mapping: Mapping) -> tuple:
    wanted_all = {header_key(h) for h in preset.detect_all}
    wanted_any = {header_key(h) for h in preset.detect_any}
    unwanted = {header_key(h) for h in preset.detect_none}
    name_hit = bool(preset.file_name and re.search(preset.file_name, file_name.lower()))
    qualifies = (
        wanted_all <= keys
        and (not wanted_any or bool(wanted_any & keys))
        and not (unwanted & keys)
        and (name_hit or not preset.file_name)
    )
    hits = len(wanted_all & keys) + len(wanted_any & keys)
    mapped = sum(1 for plan in mapping.columns if plan.target)
    complete = not mapping.missing()
    return (qualifies, complete, hits + (2 if name_hit else 0), mapped, preset.origin == "saved")


def detect_preset(
    headers: list[str], file_name: str = "", candidates: dict[str, Preset] | None = None
) -> Detection:
    """The preset that fits these headers best: its detection headers present, then every
    required field mapped, then the most specific, then the most columns mapped."""
    candidates = candidates or builtin_presets()
    keys = {header_key(h) for h in headers}
    best: Detection | None = None
    for preset in candidates.values():
        kind = get_kind(preset.kind)
        mapping = plan_columns(headers, preset, kind)
        score = _detect_score(preset, keys, file_name, mapping)
        if best is None or score > best.score:
            best = Detection(preset, score, f"{preset.title}: {score[2]} distinctive headers")
    if best is None:
        raise ValueError("No presets are installed.")
    return best
