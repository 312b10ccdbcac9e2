"""Standards a cohort is measured against: national norms, state cut scores, local targets.

* **National norms** ship as CSV files in `norms/` (one per source, with its provenance header);
  the district picks the norms year (setting `norms_year`: "2020" default, "2025", or one of its
  own uploaded norm sets as "district:<set_id>").
* **Cut scores / proficiency bands, local targets and a district's own norms** are uploaded from
  the app as CSV into `standard_sets` / `standard_values` (migration 004), editable in a table and
  versioned by source year: a new year is a new set, the old one stays. Each school year uses the
  set of its own source year, else the nearest earlier one, else none (`sets_by_school_year`);
  a set pinned in settings (`cut_scores_set`, `targets_set`) applies to every year instead.
  `active_set` names the set in use for the newest year (pinned, else the newest).

Nothing here estimates a missing value: a key a table lacks has no standard (None), and every
result carries the label of the standards it was compared with.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from core.warehouse import canonical, settings
from core.warehouse.db import transaction

NORMS_DIR = Path(__file__).resolve().parents[2] / "norms"
BUILTIN_NORMS = {"2020": "nwea_2020_student.csv", "2025": "nwea_2025.csv"}
GROWTH_FILES = ("nwea_2025_growth_quickref.csv",)
DEFAULT_NORMS = "2020"
DISTRICT_PREFIX = "district:"
KINDS = ("norms", "cut_scores", "targets")
KIND_LABELS = {
    "norms": "Norms",
    "cut_scores": "Cut scores / proficiency bands",
    "targets": "Local targets",
}
KEY = ["subject", "grade", "season"]
# Columns a district's CSV carries for each kind (headers match case/punctuation-insensitively).
TEMPLATES = {
    "norms": ["subject", "grade", "season", "mean", "sd"],
    "cut_scores": ["subject", "grade", "season", "band", "min_score", "proficient"],
    "targets": ["subject", "grade", "season", "target"],
}
_NUMERIC = {"norms": ("mean", "sd"), "cut_scores": ("min_score",), "targets": ("target",)}


class StandardsError(ValueError):
    """An uploaded standard table that cannot be used; the message says which row and why."""


@dataclass(frozen=True)
class NormSet:
    """One norm table: its values (subject, grade, season, mean, sd) and where they come from."""

    key: str
    name: str  # the source's own name ("NWEA MAP Growth 2020"); growth norms match on it
    label: str
    source_note: str
    exactness: str
    # The platforms whose scores are on this set's scale (NWEA RIT: nwea_map). A score of any
    # other platform, or of an undeclared one (`generic`), is never compared with it; a set that
    # declares none applies to no score.
    platforms: tuple[str, ...]
    values: pd.DataFrame = field(compare=False, hash=False, repr=False)


@dataclass(frozen=True)
class Norm:
    subject: str
    grade: str
    season: str
    mean: float
    sd: float
    label: str
    exactness: str


@dataclass(frozen=True)
class CutScore:
    """The proficiency threshold of one key (lowest score of the first proficient band)."""

    subject: str
    grade: str
    season: str
    score: float | None
    label: str
    bands: tuple[tuple[str, float, bool], ...]  # (band, min_score, proficient), low to high


@dataclass(frozen=True)
class Target:
    subject: str
    grade: str
    season: str
    target: float
    label: str


@dataclass(frozen=True)
class GrowthNorm:
    subject: str
    grade_from: str
    season_from: str
    grade_to: str
    season_to: str
    mean: float
    sd: float
    label: str
    exactness: str


@dataclass(frozen=True)
class StandardSet:
    set_id: int
    kind: str
    name: str
    source_year: str
    source_note: str
    platform: str | None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.source_year})"


# ---------------------------------------------------------------- files in norms/


def _file_header(path: Path) -> dict[str, str]:
    header: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        key, sep, value = line.lstrip("# ").partition(":")
        if sep and key.strip() in ("norm_set", "label", "scale", "source note", "exactness"):
            header.setdefault(key.strip(), value.strip())
    return header


@lru_cache(maxsize=16)
def _read_file(path: Path, mtime: float) -> tuple[dict[str, str], pd.DataFrame]:
    frame = pd.read_csv(path, comment="#", dtype={"grade": str})
    return _file_header(path), frame


def read_norms_file(path: Path) -> tuple[dict[str, str], pd.DataFrame]:
    """(header fields, rows) of a norms/ CSV; cached until the file changes."""
    header, frame = _read_file(path, path.stat().st_mtime)
    return dict(header), frame.copy()


def _platforms(scale: str) -> tuple[str, ...]:
    """The platforms a file's `scale:` header names ("RIT; platforms: nwea_map"); none → ()."""
    _, _, listed = scale.partition("platforms:")
    return tuple(p.strip() for p in listed.split(",") if p.strip())


def _builtin_set(key: str) -> NormSet:
    header, frame = read_norms_file(NORMS_DIR / BUILTIN_NORMS[key])
    if "level" in frame.columns:
        frame = frame[frame["level"] == "student"]
    exactness = ", ".join(sorted(frame["exactness"].dropna().unique()))
    return NormSet(
        key=key,
        name=header.get("norm_set", f"NWEA MAP Growth {key}"),
        label=header.get("label", f"NWEA MAP Growth {key}"),
        source_note=header.get("source note", ""),
        exactness=f"{exactness} (secondary transcription)",
        platforms=_platforms(header.get("scale", "")),
        values=frame[[*KEY, "mean", "sd"]].reset_index(drop=True),
    )


# ---------------------------------------------------------------- the norms in use


def norm_choices(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every norm set the district can choose: key → label (national files, then its own)."""
    choices = {key: _builtin_set(key).label for key in BUILTIN_NORMS}
    for row in list_standard_sets(con, "norms").itertuples():
        choices[f"{DISTRICT_PREFIX}{row.set_id}"] = f"{row.name} ({row.source_year}, district)"
    return choices


def chosen_norms_key(con: duckdb.DuckDBPyConnection) -> str:
    """The district's norms year (setting `norms_year`); an unknown value falls back to 2020."""
    key = str(settings.get(con, "norms_year", DEFAULT_NORMS))
    return key if key in norm_choices(con) else DEFAULT_NORMS


def choose_norms(con: duckdb.DuckDBPyConnection, key: str, *, user: str | None = None) -> None:
    if key not in norm_choices(con):
        raise StandardsError(f"No norm set {key!r}; choose one of {', '.join(norm_choices(con))}.")
    settings.put(con, "norms_year", key, user=user)


def load_norm_set(con: duckdb.DuckDBPyConnection, key: str | None = None) -> NormSet:
    """A norm set by key (default: the district's choice)."""
    key = key or chosen_norms_key(con)
    if key in BUILTIN_NORMS:
        return _builtin_set(key)
    if not key.startswith(DISTRICT_PREFIX):
        raise StandardsError(f"No norm set {key!r}.")
    chosen = get_standard_set(con, int(key.removeprefix(DISTRICT_PREFIX)))
    if chosen is None or chosen.kind != "norms":
        raise StandardsError(f"No norm set {key!r}.")
    return NormSet(
        key=key,
        name=chosen.name,
        label=f"{chosen.label}, district norms",
        source_note=chosen.source_note,
        exactness="as uploaded by the district",
        platforms=(chosen.platform,) if chosen.platform else (),
        values=standard_values(con, chosen.set_id)[[*KEY, "mean", "sd"]],
    )


# ---------------------------------------------------------------- plausibility guard
# A norm judges only scores on its own scale (docs/comparisons.md, "Norms only on their own
# scale"), even scores declared MAP Growth: a row — a cohort row of any comparison, one end of a
# growth row, the students of a watch list in one grade and test window — is not compared with
# the norm when more than half its scores lie beyond the norm mean ± 3 norm sds of their grade.
# Under the norm 0.3 % of scores lie there; even a cohort 2 sds off the mean has only 16 % there,
# so a majority means the scores are on another scale (or a mis-mapped column). One rule, used by
# every consumer of a norm: standards, growth, the watch list (and what reads them).
OFF_SCALE_SD = 3
OFF_SCALE_SHARE = 0.5


def beyond_norm_sql(score: str, mean: str, sd: str) -> str:
    """SQL: 1.0 for a score beyond its own-grade norm mean ± OFF_SCALE_SD norm sds, 0.0 within,
    NULL without a norm (or a score) — so avg() over a row is the row's share off the scale."""
    return f"(abs({score} - {mean}) > {OFF_SCALE_SD} * {sd})::double"


def share_off_scale_sql(score: str, mean: str, sd: str, over: str | None = None) -> str:
    """SQL: the share of a row's scores beyond the norm (NULL where none has a norm); `over`: a
    window's partition (the row's keys) to give each member its row's share."""
    window = f" over (partition by {over})" if over else ""
    return f"avg({beyond_norm_sql(score, mean, sd)}){window}"


def off_scale(share: pd.Series | np.ndarray | float) -> np.ndarray:
    """True for each row whose share of scores beyond the norm exceeds OFF_SCALE_SHARE: the
    guard fails and the norm says nothing about the row. No share (no norm) is not off scale."""
    values = pd.to_numeric(pd.Series(np.atleast_1d(share)), errors="coerce").astype("float64")
    return values.fillna(0.0).to_numpy() > OFF_SCALE_SHARE


def off_scale_sql(share: str) -> str:
    """SQL: the guard's verdict on a share computed by `share_off_scale_sql` (NULL → false)."""
    return f"coalesce({share} > {OFF_SCALE_SHARE}, false)"


def norm_for(
    con: duckdb.DuckDBPyConnection, subject: str, grade: str, season: str, key: str | None = None
) -> Norm | None:
    """The norm of one subject × grade × season, or None when the set has none."""
    norm_set = load_norm_set(con, key)
    values = norm_set.values
    hit = values[(values.subject == subject) & (values.grade == grade) & (values.season == season)]
    if hit.empty:
        return None
    row = hit.iloc[0]
    return Norm(
        subject,
        grade,
        season,
        float(row["mean"]),
        float(row["sd"]),
        norm_set.label,
        norm_set.exactness,
    )


def growth_norm_for(
    con: duckdb.DuckDBPyConnection,
    subject: str,
    grade_from: str,
    season_from: str,
    grade_to: str,
    season_to: str,
    key: str | None = None,
) -> GrowthNorm | None:
    """A published student growth norm between two test events, or None where none exists.

    Only within-year windows of the chosen norms year are published in norms/ (see its README);
    a cross-grade window (spring → next spring) therefore returns None — never a guess."""
    norm_set = load_norm_set(con, key)
    for name in GROWTH_FILES:
        header, frame = read_norms_file(NORMS_DIR / name)
        if header.get("norm_set") != norm_set.name or grade_from != grade_to:
            continue
        hit = frame[
            (frame.subject == subject)
            & (frame.grade == grade_to)
            & (frame.season_from == season_from)
            & (frame.season_to == season_to)
        ]
        if not hit.empty:
            row = hit.iloc[0]
            return GrowthNorm(
                subject,
                grade_from,
                season_from,
                grade_to,
                season_to,
                float(row["mean"]),
                float(row["sd"]),
                header.get("label", name),
                str(row["exactness"]),
            )
    return None


expected_growth = growth_norm_for


# ---------------------------------------------------------------- district standards (warehouse)


def list_standard_sets(con: duckdb.DuckDBPyConnection, kind: str | None = None) -> pd.DataFrame:
    """Uploaded standard sets, newest source year first, with how many values each holds."""
    return con.execute(
        """
        select s.set_id, s.kind, s.name, s.source_year, s.source_note, s.platform, s.created_by,
               s.updated_at, count(v.set_id) as n_values
        from standard_sets s left join standard_values v using (set_id)
        where $kind is null or s.kind = $kind
        group by all
        order by s.kind, s.source_year desc, s.updated_at desc, s.set_id desc
        """,
        {"kind": kind},
    ).df()


def get_standard_set(con: duckdb.DuckDBPyConnection, set_id: int) -> StandardSet | None:
    row = con.execute(
        "select set_id, kind, name, source_year, source_note, platform "
        "from standard_sets where set_id = ?",
        [int(set_id)],
    ).fetchone()
    return StandardSet(*row) if row else None


def standard_values(con: duckdb.DuckDBPyConnection, set_id: int) -> pd.DataFrame:
    """One set's values with the columns of its kind (the table the app edits)."""
    found = get_standard_set(con, set_id)
    if found is None:
        return pd.DataFrame(columns=KEY)
    columns = {
        "norms": "subject, grade, season, mean, sd",
        "cut_scores": "subject, grade, season, band, min_score, proficient, band_order",
        "targets": "subject, grade, season, target",
    }[found.kind]
    return con.execute(
        f"select {columns} from standard_values where set_id = ? "
        "order by subject, grade, season, band_order",
        [int(set_id)],
    ).df()


def active_set(con: duckdb.DuckDBPyConnection, kind: str) -> StandardSet | None:
    """The set of a kind in use: pinned in settings (`<kind>_set`), else the newest source year."""
    pinned = settings.get(con, f"{kind}_set")
    if pinned is not None:
        found = get_standard_set(con, int(pinned))
        if found is not None and found.kind == kind:
            return found
    sets = list_standard_sets(con, kind)
    return get_standard_set(con, int(sets.iloc[0]["set_id"])) if not sets.empty else None


def pin_set(
    con: duckdb.DuckDBPyConnection, kind: str, set_id: int | None, *, user: str | None = None
) -> None:
    """Use this set for its kind (None: back to the newest)."""
    if set_id is not None:
        found = get_standard_set(con, set_id)
        if found is None or found.kind != kind:
            raise StandardsError(f"No {KIND_LABELS[kind].lower()} set {set_id}.")
    settings.put(con, f"{kind}_set", None if set_id is None else int(set_id), user=user)


def active_cut_scores(con: duckdb.DuckDBPyConnection) -> tuple[StandardSet | None, pd.DataFrame]:
    """(the cut-score set in use, its bands) — bands empty when the district loaded none."""
    chosen = active_set(con, "cut_scores")
    if chosen is None:
        return None, pd.DataFrame(columns=[*KEY, "band", "min_score", "proficient", "band_order"])
    return chosen, standard_values(con, chosen.set_id)


def active_targets(con: duckdb.DuckDBPyConnection) -> tuple[StandardSet | None, pd.DataFrame]:
    chosen = active_set(con, "targets")
    if chosen is None:
        return None, pd.DataFrame(columns=[*KEY, "target"])
    return chosen, standard_values(con, chosen.set_id)


# ---------------------------------------------------------------- sets by school year

YEAR_RULES = ("pinned", "same year", "nearest earlier", "none")


def source_start_year(source_year: str) -> int | None:
    """The school year a set's source year names, as its first calendar year: '2023-2024',
    '2023-24' → 2023; a bare '2024' → 2023, the school year ending in 2024 (state tests and their
    cut scores are named by the spring they are given in); anything else → None (such a set
    applies to a school year only when pinned)."""
    text = str(source_year).strip()
    pair = canonical.school_year(text)
    if pair is not None:
        return int(pair[:4])
    return int(text) - 1 if text.isdigit() and len(text) == 4 else None


def sets_by_school_year(
    con: duckdb.DuckDBPyConnection, kind: str, school_years: list[str]
) -> pd.DataFrame:
    """Which set of `kind` each school year uses: the pinned set for every year when one is
    pinned (`<kind>_set`), else the set whose source year is that school year, else the nearest
    earlier one, else none. States re-set cut scores when tests change, so a year is judged by
    its own year's cuts. Columns: school_year, set_id (NA: none), set_label, set_year, rule."""
    pinned = settings.get(con, f"{kind}_set")
    chosen = get_standard_set(con, int(pinned)) if pinned is not None else None
    sets = list_standard_sets(con, kind)
    sets["start"] = sets["source_year"].map(source_start_year)
    dated = sets[sets["start"].notna()].sort_values(
        ["start", "updated_at", "set_id"], ascending=[False, False, False]
    )
    rows = []
    for year in school_years:
        found, rule = _set_of_year(year, dated, chosen if chosen and chosen.kind == kind else None)
        rows.append((year, found, rule))
    frame = pd.DataFrame(rows, columns=["school_year", "set_id", "rule"])
    frame["set_id"] = frame["set_id"].astype("Int64")
    labels = sets.set_index("set_id")
    frame["set_label"] = frame["set_id"].map(lambda i: _set_label(labels, i))
    frame["set_year"] = frame["set_id"].map(
        lambda i: None if pd.isna(i) else str(labels.loc[i, "source_year"])
    )
    for column in ("set_label", "set_year"):  # None, not pd.NA, where a year uses no set
        frame[column] = frame[column].astype(object).where(frame["set_id"].notna(), None)
    return frame


def _set_of_year(
    year: str, dated: pd.DataFrame, pinned: StandardSet | None
) -> tuple[int | None, str]:
    if pinned is not None:
        return pinned.set_id, "pinned"
    start = int(str(year)[:4]) if str(year)[:4].isdigit() else None
    usable = dated[dated["start"] <= start] if start is not None else dated.iloc[:0]
    if usable.empty:
        return None, "none"
    first = usable.iloc[0]
    return int(first["set_id"]), "same year" if first["start"] == start else "nearest earlier"


def _set_label(sets: pd.DataFrame, set_id: object) -> str | None:
    if pd.isna(set_id):
        return None
    row = sets.loc[int(set_id)]
    return f"{row['name']} ({row['source_year']})"


def values_of_sets(con: duckdb.DuckDBPyConnection, kind: str, set_ids: list[int]) -> pd.DataFrame:
    """The values of several sets of one kind, each row with its set_id."""
    frames = [standard_values(con, i).assign(set_id=int(i)) for i in dict.fromkeys(set_ids)]
    columns = {
        "cut_scores": [*KEY, "band", "min_score", "proficient", "band_order"],
        "targets": [*KEY, "target"],
    }[kind]
    if not frames:
        return pd.DataFrame(columns=["set_id", *columns])
    return pd.concat(frames, ignore_index=True)[["set_id", *columns]]


def standards_state(con: duckdb.DuckDBPyConnection) -> tuple:
    """Changes whenever a setting (norms year, pinned sets) or a standard set changes: caches of
    the standards in force key on it."""
    return con.execute(
        """
        select (select max(updated_at)::varchar from settings),
               (select max(updated_at)::varchar from standard_sets),
               (select count(*) from standard_values)
        """
    ).fetchone()


def assessment_years(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every school year the warehouse holds scores for (the years a set may be asked for)."""
    return [r[0] for r in con.execute("select distinct school_year from assessments").fetchall()]


def cut_score_for(
    con: duckdb.DuckDBPyConnection, subject: str, grade: str, season: str
) -> CutScore | None:
    """Bands and proficiency threshold of one key from the cut-score set in use, else None."""
    chosen, bands = active_cut_scores(con)
    hit = bands[(bands.subject == subject) & (bands.grade == grade) & (bands.season == season)]
    if chosen is None or hit.empty:
        return None
    hit = hit.sort_values("band_order")
    proficient = hit[hit["proficient"].astype(bool)]
    return CutScore(
        subject,
        grade,
        season,
        float(proficient["min_score"].iloc[0]) if not proficient.empty else None,
        chosen.label,
        tuple((str(r.band), float(r.min_score), bool(r.proficient)) for r in hit.itertuples()),
    )


def target_for(
    con: duckdb.DuckDBPyConnection, subject: str, grade: str, season: str
) -> Target | None:
    chosen, targets = active_targets(con)
    hit = targets[
        (targets.subject == subject) & (targets.grade == grade) & (targets.season == season)
    ]
    if chosen is None or hit.empty:
        return None
    return Target(subject, grade, season, float(hit["target"].iloc[0]), chosen.label)


# ---------------------------------------------------------------- upload, edit, delete


def template_csv(kind: str) -> bytes:
    """An empty CSV with the columns a district fills in for this kind."""
    return (",".join(TEMPLATES[kind]) + "\n").encode("utf-8")


def _canonical_column(values: pd.Series, fn: Any, name: str, errors: list[str]) -> pd.Series:
    mapped = values.map(lambda v: fn(v) if pd.notna(v) and str(v).strip() else None)
    for index in values.index[
        mapped.isna() & values.notna() & (values.astype(str).str.strip() != "")
    ]:
        errors.append(f"row {index + 2}: {name} {values[index]!r} is not recognised.")
    return mapped


def _expand_seasons(frame: pd.DataFrame) -> pd.DataFrame:
    """A blank season means the value holds in every season (state tests are often spring-only,
    but a district may state one cut for the year)."""
    blank = frame["season"].isna()
    if not blank.any():
        return frame
    every = (
        frame[blank]
        .drop(columns="season")
        .merge(pd.DataFrame({"season": canonical.SEASONS}), how="cross")
    )
    return pd.concat([frame[~blank], every], ignore_index=True)


def parse_standard_table(kind: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Check and canonicalise a district's table (from a CSV or the table editor).

    Raises StandardsError listing every problem (row numbers as in the file, header = row 1)."""
    if kind not in KINDS:
        raise StandardsError(f"Unknown kind {kind!r}; expected one of {', '.join(KINDS)}.")
    frame = frame.rename(columns=lambda c: canonical.normalize_header(str(c))).reset_index(
        drop=True
    )
    missing = [c for c in TEMPLATES[kind] if c not in frame.columns and c != "proficient"]
    if missing:
        raise StandardsError(
            f"Missing column(s): {', '.join(missing)} (expected {TEMPLATES[kind]})."
        )
    errors: list[str] = []
    out = pd.DataFrame(index=frame.index)
    out["subject"] = _canonical_column(frame["subject"], canonical.subject, "subject", errors)
    out["grade"] = _canonical_column(frame["grade"], canonical.grade, "grade", errors)
    out["season"] = _canonical_column(frame["season"], canonical.season, "season", errors)
    for name in ("subject", "grade"):
        for index in out.index[out[name].isna() & frame[name].isna()]:
            errors.append(f"row {index + 2}: {name} is blank.")
    for name in _NUMERIC[kind]:
        out[name] = pd.to_numeric(frame[name], errors="coerce")
        for index in out.index[out[name].isna()]:
            errors.append(f"row {index + 2}: {name} {frame[name][index]!r} is not a number.")
    _kind_columns(kind, frame, out, errors)
    if errors:
        raise StandardsError("; ".join(errors[:20]) + ("; …" if len(errors) > 20 else ""))
    out = _expand_seasons(out)
    key = [*KEY, "band"] if kind == "cut_scores" else KEY
    duplicated = out[out.duplicated(key, keep=False)]
    if not duplicated.empty:
        first = duplicated.iloc[0]
        raise StandardsError(
            "The table states a value twice for " + " · ".join(str(first[k]) for k in key) + "."
        )
    return _order_bands(out) if kind == "cut_scores" else out.reset_index(drop=True)


def _kind_columns(kind: str, frame: pd.DataFrame, out: pd.DataFrame, errors: list[str]) -> None:
    if kind == "norms":
        for index in out.index[out["sd"].notna() & (out["sd"] <= 0)]:
            errors.append(f"row {index + 2}: sd must be above 0.")
    if kind == "cut_scores":
        out["band"] = frame["band"].astype("string").str.strip()
        for index in out.index[out["band"].isna() | (out["band"] == "")]:
            errors.append(f"row {index + 2}: band is blank.")
        raw = frame["proficient"] if "proficient" in frame else pd.Series(False, index=frame.index)
        out["proficient"] = raw.map(_yes_no)
        for index in out.index[out["proficient"].isna()]:
            errors.append(f"row {index + 2}: proficient {raw[index]!r} is not yes/no.")


def _yes_no(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    text = text.strip().lower()
    if text in ("yes", "y", "true", "t", "1", "x"):
        return True
    if text in ("no", "n", "false", "f", "0", ""):
        return False
    return None


def _order_bands(out: pd.DataFrame) -> pd.DataFrame:
    out = out.sort_values([*KEY, "min_score"]).reset_index(drop=True)
    out["band_order"] = out.groupby(KEY).cumcount() + 1
    clash = out[out.duplicated([*KEY, "min_score"], keep=False)]
    if not clash.empty:
        first = clash.iloc[0]
        raise StandardsError(
            f"Two bands start at {first['min_score']} for {first['subject']} grade "
            f"{first['grade']} {first['season']}."
        )
    return out


def read_standard_csv(kind: str, data: bytes) -> pd.DataFrame:
    """Parse an uploaded CSV (bytes) into a checked table; raises StandardsError."""
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, comment="#", skip_blank_lines=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise StandardsError(f"The file is not a readable CSV: {exc}") from exc
    return parse_standard_table(kind, frame)


def save_standard_set(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    name: str,
    source_year: str,
    table: pd.DataFrame,
    *,
    source_note: str = "",
    platform: str | None = None,
    user: str | None = None,
) -> int:
    """Store a checked table as the set (kind, name, source year), replacing that set's values
    if it exists (an edit) and keeping other years (versions). Returns the set id."""
    name, source_year = name.strip(), str(source_year).strip()
    if not name or not source_year:
        raise StandardsError("A standard needs a name and a source year.")
    checked = parse_standard_table(kind, table)
    with transaction(con):
        row = con.execute(
            "select set_id from standard_sets where kind = ? and name = ? and source_year = ?",
            [kind, name, source_year],
        ).fetchone()
        if row is None:
            row = con.execute(
                "insert into standard_sets (kind, name, source_year, source_note, platform, "
                "created_by) values (?, ?, ?, ?, ?, ?) returning set_id",
                [kind, name, source_year, source_note, platform or None, user],
            ).fetchone()
        else:
            con.execute(
                "update standard_sets set source_note = ?, platform = ?, updated_at = ? "
                "where set_id = ?",
                [source_note, platform or None, dt.datetime.now(), row[0]],
            )
        set_id = int(row[0])
        con.execute("delete from standard_values where set_id = ?", [set_id])
        values = _storage_rows(kind, checked, set_id)
        con.register("standard_upload", values)
        try:
            con.execute(
                f"insert into standard_values ({', '.join(values.columns)}) "
                "select * from standard_upload"
            )
        finally:
            con.unregister("standard_upload")
    _touch(con, user)
    return set_id


def _storage_rows(kind: str, checked: pd.DataFrame, set_id: int) -> pd.DataFrame:
    rows = checked.copy()
    rows.insert(0, "set_id", set_id)
    if kind != "cut_scores":
        rows["band"] = ""
        rows["band_order"] = 0
    return rows


def delete_standard_set(
    con: duckdb.DuckDBPyConnection, set_id: int, *, user: str | None = None
) -> None:
    with transaction(con):
        con.execute("delete from standard_values where set_id = ?", [int(set_id)])
        con.execute("delete from standard_sets where set_id = ?", [int(set_id)])
    _touch(con, user)


def _touch(con: duckdb.DuckDBPyConnection, user: str | None) -> None:
    """Record that standards changed, so cached results (keyed on data_version) refresh."""
    settings.put(con, "standards_changed_at", dt.datetime.now().isoformat(), user=user)
