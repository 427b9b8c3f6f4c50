"""Load the project's datasets, offline, the same way in the book, on a laptop and in Pyodide.

Everything a lab reads is declared in `datasets/datapackage.json` (Frictionless): path, format,
schema (field types), licence, provenance. `load(name)` reads it from there, typed per the
schema. GeoJSON is read with the json module and `GeoDataFrame.from_features` (no GDAL, which
Pyodide does not have). One filter argument selects a territory: a commune, an EPCI or a
department code; Lyon, Marseille and Paris arrondissements belong to their commune.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import pandas as pd

from . import PACKAGE_DIR


def datasets_dir() -> Path:
    """Where the data package lives.

    In the repository it is `datasets/` beside the package; a downloaded lab bundle carries a
    `datasets/` folder beside the notebook; `DQ_DATASETS` overrides both.
    """
    candidates = []
    if os.environ.get("DQ_DATASETS"):
        candidates.append(Path(os.environ["DQ_DATASETS"]))
    cwd = Path.cwd()
    candidates += [cwd / "datasets", cwd.parent / "datasets", PACKAGE_DIR.parent / "datasets"]
    for c in candidates:
        if (c / "datapackage.json").exists():
            return c.resolve()
    raise FileNotFoundError(
        "No datasets/datapackage.json found (looked in: " + ", ".join(str(c) for c in candidates)
        + "). Set DQ_DATASETS to the folder that holds datapackage.json.")


class UnknownResourceError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; this one is a sentence
        return self.args[0]


class UnknownTerritoryError(ValueError):
    pass


class DatasetFileError(ValueError):
    """A file of the data package cannot be read as its descriptor says."""


@lru_cache(maxsize=4)
def _package(folder: str) -> dict:
    path = Path(folder) / "datapackage.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DatasetFileError(f"{path}: not valid JSON (line {err.lineno}, column {err.colno}): {err.msg}") from None


def package(folder: Path | None = None) -> dict:
    return _package(str(folder or datasets_dir()))


def resources(folder: Path | None = None) -> dict[str, dict]:
    """The resources of the data package, by name."""
    return {r["name"]: r for r in package(folder)["resources"]}


def resource(name: str, folder: Path | None = None) -> dict:
    known = resources(folder)
    if name not in known:
        raise UnknownResourceError(
            f"Unknown dataset '{name}'. Available datasets: {', '.join(sorted(known))}.")
    return known[name]


# Frictionless field types → pandas dtypes. Codes (INSEE, QPV, IRIS) are strings: "01001" must
# keep its leading zero and "2A004" is not a number.
_PANDAS_TYPES = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean",
                 "year": "Int64"}


def _typed(df: pd.DataFrame, res: dict, path: Path) -> pd.DataFrame:
    fields = res.get("schema", {}).get("fields", [])
    for f in fields:
        name, ftype = f["name"], f.get("type", "string")
        if name not in df.columns:
            raise DatasetFileError(f"{path}: column '{name}' declared in datapackage.json is missing "
                                   f"(columns in the file: {', '.join(map(str, df.columns))})")
        if ftype in ("date", "datetime"):
            df[name] = pd.to_datetime(df[name], errors="raise")
        elif ftype in _PANDAS_TYPES:
            try:
                if ftype in ("integer", "year"):
                    num = pd.to_numeric(df[name])
                    df[name] = num.astype("Float64").round().astype("Int64") if num.dtype.kind == "f" else num.astype("Int64")
                else:
                    df[name] = df[name].astype(_PANDAS_TYPES[ftype])
            except (ValueError, TypeError) as err:
                raise DatasetFileError(f"{path}: column '{name}' is not of type {ftype}: {err}") from None
    return df


def _read(res: dict, folder: Path):
    path = folder / res["path"]
    if not path.exists():
        raise DatasetFileError(f"{path}: file of dataset '{res['name']}' not found")
    fmt = res.get("format", path.suffix.lstrip("."))
    string_fields = [f["name"] for f in res.get("schema", {}).get("fields", []) if f.get("type", "string") == "string"]
    if fmt == "csv":
        dialect = res.get("dialect", {})
        missing = res.get("schema", {}).get("missingValues", [""])
        try:
            df = pd.read_csv(path, sep=dialect.get("delimiter", ","), dtype={c: "string" for c in string_fields},
                             na_values=missing, keep_default_na=False, encoding="utf-8")
        except (pd.errors.ParserError, UnicodeDecodeError) as err:
            raise DatasetFileError(f"{path}: cannot be read as CSV: {err}") from None
        return _typed(df, res, path)
    if fmt == "geojson":
        import geopandas as gpd

        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            features = data["features"]
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise DatasetFileError(f"{path}: not a GeoJSON FeatureCollection ({err})") from None
        gdf = gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")
        for c in string_fields:
            if c in gdf.columns:
                gdf[c] = gdf[c].astype("string")
        return _typed(gdf, res, path)
    raise DatasetFileError(f"{path}: format '{fmt}' is not supported (csv, geojson)")


# --- territories --------------------------------------------------------------------------

@lru_cache(maxsize=2)
def _communes(folder: str) -> pd.DataFrame:
    return _read(resource("communes", Path(folder)), Path(folder))


@lru_cache(maxsize=2)
def _epci_members(folder: str) -> pd.DataFrame:
    return _read(resource("epci_communes", Path(folder)), Path(folder))


def communes_of(territory: str, folder: Path | None = None) -> set[str]:
    """Commune codes (arrondissements included) of a commune, EPCI (SIREN) or department code."""
    folder = folder or datasets_dir()
    code = str(territory).strip().upper()
    communes = _communes(str(folder))
    if len(code) == 9 and code.isdigit():  # an EPCI's SIREN
        members = _epci_members(str(folder))
        found = set(members.loc[members["siren_epci"] == code, "code_commune"])
        if not found:
            raise UnknownTerritoryError(f"Unknown EPCI '{territory}': no such SIREN in the EPCI 2026 table.")
    elif len(code) == 5:
        if code not in set(communes["code"]):
            raise UnknownTerritoryError(f"Unknown commune code '{territory}' (COG 2026).")
        found = {code}
    elif len(code) in (2, 3):
        found = set(communes.loc[communes["departement"] == code, "code"])
        if not found:
            raise UnknownTerritoryError(f"Unknown department code '{territory}' (COG 2026).")
    else:
        raise UnknownTerritoryError(
            f"'{territory}' is not a territory code: give a commune (5 characters, e.g. 35238), "
            "an EPCI SIREN (9 digits) or a department (2 or 3 characters, e.g. 35, 2A, 974).")
    # Arrondissements belong to their commune, both ways.
    children = communes.loc[communes["commune_parente"].isin(found) & (communes["type"] == "arrondissement-municipal"), "code"]
    return found | set(children)


def _commune_column(df: pd.DataFrame, res: dict, folder: Path) -> pd.Series:
    spec = res.get("territory")
    if not spec:
        raise UnknownTerritoryError(f"Dataset '{res['name']}' cannot be filtered by territory "
                                    "(its descriptor has no 'territory' field).")
    values = df[spec["field"]].astype("string")
    if spec.get("derive") == "iris":  # IRIS code → its commune: the first five characters
        values = values.str.slice(0, 5)
    return values


def load(name: str, territory: str | None = None, *, folder: Path | None = None):
    """A dataset of `datasets/` as a DataFrame (or a GeoDataFrame in WGS84 for GeoJSON).

    `territory`: a commune code (``"35238"``), an EPCI SIREN (``"243500139"``) or a department
    (``"35"``); the rows outside it are dropped. A territory the dataset does not cover raises
    UnknownTerritoryError listing the communes it covers.
    """
    folder = Path(folder) if folder else datasets_dir()
    res = resource(name, folder)
    df = _read(res, folder)
    if territory is None:
        return df
    wanted = communes_of(territory, folder)
    communes = _commune_column(df, res, folder)
    subset = df[communes.isin(wanted).fillna(False).to_numpy()]
    if subset.empty:
        names = _communes(str(folder)).set_index("code")["nom"]
        covered = sorted(set(communes.dropna()))
        listed = ", ".join(f"{c} ({names.get(c, '?')})" for c in covered[:30])
        more = f" … and {len(covered) - 30} more" if len(covered) > 30 else ""
        raise UnknownTerritoryError(
            f"Dataset '{name}' has no row for territory '{territory}'. It covers: {listed}{more}.")
    return subset.reset_index(drop=True)
