"""Load the project's datasets, offline, the same way in the book, on a laptop and in Pyodide.

Everything a lab reads is declared in `datasets/datapackage.json` (Frictionless): path, format,
schema (field types), licence, provenance. `load(name)` reads it from there, typed per the
schema. GeoJSON is read with the json module and `GeoDataFrame.from_features` (no GDAL, which
Pyodide does not have). One filter argument selects a territory: a commune, an EPCI or a
department code; Lyon, Marseille and Paris arrondissements belong to their commune.

The data package may list only some resources: a downloaded lab bundle ships a reduced
`datasets/` folder with the resources its notebook reads. The territory filter then works with
what is there: commune and department codes need nothing else (a department is the start of a
commune code, and the arrondissements of Paris, Lyon and Marseille are known); an EPCI needs the
`epci_communes` resource, and checking that a code exists needs `communes`. A bundle that filters
by EPCI must therefore ship `epci_communes` (and should ship `communes`).

Extra properties of a resource, beyond Frictionless (all checked by `check_package`):
`producer`, `licence_status` (`verified` / `unverified`, with a `licence_note` when unverified),
`vintage`, `granularity`, `synthetic`, `sources`, `provenance`, `catalogue` (ids of the book's
catalogue of sources), `territory` (how to filter it) and `dq:geometry` (geometries rebuilt from
an INSEE grid-square id). A schema field that counts persons or households carries
`dq:count_of` (see `dataquartiers.secrecy`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
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


class DatasetMetadataError(DatasetFileError):
    """A resource of datapackage.json lacks what every shipped file must say (licence, provenance…)."""


# --- the data package -----------------------------------------------------------------------

@lru_cache(maxsize=8)
def _package(folder: str, mtime: int) -> dict:
    path = Path(folder) / "datapackage.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DatasetFileError(f"{path}: not valid JSON (line {err.lineno}, column {err.colno}): {err.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("resources"), list):
        raise DatasetFileError(f"{path}: a data package needs a list 'resources'")
    return data


def package(folder: Path | None = None) -> dict:
    folder = Path(folder) if folder else datasets_dir()
    path = folder / "datapackage.json"
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no data package here") from None
    return _package(str(folder), mtime)


def resources(folder: Path | None = None) -> dict[str, dict]:
    """The resources of the data package, by name."""
    return {r.get("name", f"#{i}"): r for i, r in enumerate(package(folder)["resources"])}


#: What every shipped file must say, and the values some of it may take.
REQUIRED_PROPERTIES = ("name", "path", "title", "description", "producer", "licenses", "licence_status",
                       "vintage", "granularity", "provenance")
LICENCE_STATUSES = ("verified", "unverified")
GRANULARITIES = ("qpv", "iris", "carreau_200m", "commune", "epci", "departement", "region", "point", "menage")
TERRITORY_LEVELS = ("commune", "iris", "departement", "region", "epci")


def check_resource(res: dict) -> list[str]:
    """What is missing or wrong in one resource descriptor, as sentences naming the field."""
    name = res.get("name", "?")
    where = f"datapackage.json: resource '{name}'"
    problems = []
    for prop in REQUIRED_PROPERTIES:
        if res.get(prop) in (None, "", []):
            hint = {"licenses": " (every file must name its licence, e.g. [{\"name\": \"etalab-2.0\", ...}])",
                    "licence_status": f" (one of {', '.join(LICENCE_STATUSES)})"}.get(prop, "")
            problems.append(f"{where}: field '{prop}' is missing{hint}")
    licenses = res.get("licenses")
    if licenses not in (None, "", []):
        if not isinstance(licenses, list) or not all(isinstance(li, dict) and li.get("name") for li in licenses):
            problems.append(f"{where}: field 'licenses' must be a list of objects with a 'name' (SPDX id or exact licence name)")
    status = res.get("licence_status")
    if status not in (None, "") and status not in LICENCE_STATUSES:
        problems.append(f"{where}: field 'licence_status' is '{status}', expected one of {', '.join(LICENCE_STATUSES)}")
    if status == "unverified" and not res.get("licence_note"):
        problems.append(f"{where}: field 'licence_note' is missing (an unverified licence must say what is to be checked)")
    granularity = res.get("granularity")
    if granularity not in (None, "") and granularity not in GRANULARITIES:
        problems.append(f"{where}: field 'granularity' is '{granularity}', expected one of {', '.join(GRANULARITIES)}")
    if "synthetic" in res and not isinstance(res["synthetic"], bool):
        problems.append(f"{where}: field 'synthetic' must be true or false")
    if res.get("synthetic") is True and "synthétique" not in (str(res.get("title", "")) + str(res.get("description", ""))).lower():
        problems.append(f"{where}: a synthetic resource must say « synthétique » in its title or description")
    spec = res.get("territory")
    if spec is not None:
        fields = {f.get("name") for f in res.get("schema", {}).get("fields", [])}
        if not isinstance(spec, dict) or spec.get("field") not in fields:
            problems.append(f"{where}: field 'territory' must name one of the schema's fields (got {spec!r})")
        elif spec.get("level", "commune") not in TERRITORY_LEVELS:
            problems.append(f"{where}: field 'territory.level' is '{spec.get('level')}', expected one of {', '.join(TERRITORY_LEVELS)}")
    return problems


def check_package(folder: Path | None = None) -> list[str]:
    """Every problem of every resource of the data package (empty when all is well)."""
    problems, seen = [], set()
    for res in package(folder)["resources"]:
        problems += check_resource(res)
        if res.get("name") in seen:
            problems.append(f"datapackage.json: resource name '{res.get('name')}' is used twice")
        seen.add(res.get("name"))
    return problems


def resource(name: str, folder: Path | None = None) -> dict:
    """The descriptor of one resource; a clear error if it is unknown or incompletely described."""
    known = resources(folder)
    if name not in known:
        raise UnknownResourceError(
            f"Unknown dataset '{name}'. Available datasets: {', '.join(sorted(known))}.")
    res = known[name]
    problems = check_resource(res)
    if problems:
        raise DatasetMetadataError("; ".join(problems))
    return res


def count_columns(name_or_resource: str | dict, folder: Path | None = None) -> list[str]:
    """The fields of a resource that count persons or households (marked `dq:count_of`)."""
    res = resource(name_or_resource, folder) if isinstance(name_or_resource, str) else name_or_resource
    return [f["name"] for f in res.get("schema", {}).get("fields", []) if f.get("dq:count_of")]


def reads(*names: str, where=None):
    """Declare which datasets a function of this library reads (a decorator).

    The tools that give a lab exactly its data (the zips, the browser, the ethics check) find the
    datasets a notebook reads without running it; a call to a function of the library counts for
    what the function declares here: dataset names, and/or `where`, a test on each resource's
    descriptor (e.g. "every resource of QPV contours"), so that a lab that calls it carries every
    dataset a trainee could reach by changing the territory.
    """
    def mark(func):
        func.dq_reads = (tuple(names), where)
        return func

    return mark


# --- reading --------------------------------------------------------------------------------

# Frictionless field types → pandas dtypes. Codes (INSEE, QPV, IRIS) are strings: "01001" must
# keep its leading zero and "2A004" is not a number.
_PANDAS_TYPES = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean",
                 "year": "Int64"}
_TRUE, _FALSE = {"true", "True", "TRUE", "1"}, {"false", "False", "FALSE", "0"}


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
                elif ftype == "boolean" and df[name].dtype.kind != "b":  # text, or with missing values
                    text = df[name].astype("string")
                    bad = text.dropna()[~text.dropna().isin(_TRUE | _FALSE)]
                    if len(bad):
                        raise ValueError(f"'{bad.iloc[0]}' (row {bad.index[0]}) is not true/false")
                    df[name] = text.map(lambda v: pd.NA if pd.isna(v) else v in _TRUE).astype("boolean")
                else:
                    df[name] = df[name].astype(_PANDAS_TYPES[ftype])
            except (ValueError, TypeError) as err:
                raise DatasetFileError(f"{path}: column '{name}' is not of type {ftype}: {err}") from None
    return df


def _grid_squares(ids: pd.Series, spec: dict, path: Path):
    """Exact squares from INSEE grid ids (`CRS3035RES200mN<y>E<x>`: lower-left corner), in WGS84."""
    import geopandas as gpd
    import shapely

    parts = ids.astype("string").str.extract(r"^CRS(\d+)RES(\d+)mN(\d+)E(\d+)$")
    bad = parts[0].isna()
    if bad.any():
        row = bad.to_numpy().nonzero()[0][0]
        raise DatasetFileError(f"{path}: row {row + 2}, column '{spec['field']}': '{ids.iloc[row]}' is not an "
                               "INSEE grid-square id (CRS3035RES200mN<northing>E<easting>)")
    size = parts[1].astype(float).to_numpy()
    y, x = parts[2].astype(float).to_numpy(), parts[3].astype(float).to_numpy()
    crs = f"EPSG:{parts[0].iloc[0]}" if len(parts) else spec.get("crs", "EPSG:3035")
    return gpd.GeoSeries(shapely.box(x, y, x + size, y + size), crs=crs).to_crs("EPSG:4326")


def _read(res: dict, folder: Path):
    path = folder / res["path"]
    if not path.exists():
        raise DatasetFileError(f"{path}: file of dataset '{res['name']}' not found")
    fmt = res.get("format", path.suffix.lstrip("."))
    fields = res.get("schema", {}).get("fields", [])
    string_fields = [f["name"] for f in fields if f.get("type", "string") == "string"]
    if fmt == "csv":
        dialect = res.get("dialect", {})
        missing = res.get("schema", {}).get("missingValues", [""])
        try:
            df = pd.read_csv(path, sep=dialect.get("delimiter", ","), dtype={c: "string" for c in string_fields},
                             na_values=missing, keep_default_na=False, encoding="utf-8")
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
            raise DatasetFileError(f"{path}: cannot be read as CSV: {err}") from None
        df = _typed(df, res, path)
        spec = res.get("dq:geometry")
        if spec:
            import geopandas as gpd

            if spec.get("kind") != "carreau_insee":
                raise DatasetFileError(f"{path}: dq:geometry kind '{spec.get('kind')}' is not supported (carreau_insee)")
            df = gpd.GeoDataFrame(df, geometry=_grid_squares(df[spec["field"]], spec, path).to_numpy(), crs="EPSG:4326")
        return df
    if fmt == "geojson":
        import geopandas as gpd

        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            features = data["features"]
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise DatasetFileError(f"{path}: not a GeoJSON FeatureCollection ({type(err).__name__}: {err})") from None
        try:
            gdf = gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")
        except (TypeError, ValueError, KeyError, AttributeError) as err:
            raise DatasetFileError(f"{path}: a feature cannot be read ({type(err).__name__}: {err})") from None
        for c in string_fields:
            if c in gdf.columns:
                gdf[c] = gdf[c].astype("string")
        return _typed(gdf, res, path)
    raise DatasetFileError(f"{path}: format '{fmt}' is not supported (csv, geojson)")


# --- territories ----------------------------------------------------------------------------

#: Municipal arrondissements: a fallback when the bundle has no `communes` table (COG 2026).
ARRONDISSEMENTS = {"75056": [f"751{n:02d}" for n in range(1, 21)],
                   "13055": [f"132{n:02d}" for n in range(1, 17)],
                   "69123": [f"6938{n}" for n in range(1, 10)]}
_PARENT = {a: c for c, arrs in ARRONDISSEMENTS.items() for a in arrs}
_DEPARTEMENT = re.compile(r"^(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-6])$")


def departement_of(commune: str) -> str:
    """The department of a commune code: its first two characters, three overseas (97x)."""
    return commune[:3] if commune.startswith("97") else commune[:2]


@dataclass(frozen=True)
class Territory:
    """A territory resolved to the communes and departments it covers.

    `communes` is None when the bundle has no `communes` table and the territory is a
    department: every commune whose code starts with the department's belongs to it.
    """

    code: str
    kind: str  # "commune", "epci" or "departement"
    communes: frozenset | None
    departements: frozenset

    def holds_commune(self, commune: str) -> bool:
        if self.communes is None:
            return departement_of(commune) in self.departements
        return commune in self.communes


def _has(folder: Path, name: str) -> bool:
    return name in resources(folder)


@lru_cache(maxsize=4)
def _communes(folder: str, mtime: int) -> pd.DataFrame:
    return _read(resource("communes", Path(folder)), Path(folder))


@lru_cache(maxsize=4)
def _epci_members(folder: str, mtime: int) -> pd.DataFrame:
    return _read(resource("epci_communes", Path(folder)), Path(folder))


def _table(loader, folder: Path) -> pd.DataFrame:
    """A cached reference table (the cache is keyed on the data package's modification time)."""
    return loader(str(folder), (folder / "datapackage.json").stat().st_mtime_ns)


def _with_arrondissements(codes: set, folder: Path) -> set:
    """A commune's arrondissements belong to it; an arrondissement brings its commune along
    (data published for the whole of Lyon or Marseille concern each of their arrondissements)."""
    if _has(folder, "communes"):
        cog = _table(_communes, folder)
        arr = cog[cog["type"] == "arrondissement-municipal"]
        children = set(arr.loc[arr["commune_parente"].isin(codes), "code"])
        parents = set(arr.loc[arr["code"].isin(codes), "commune_parente"])
    else:
        children = {a for c in codes for a in ARRONDISSEMENTS.get(c, [])}
        parents = {_PARENT[c] for c in codes if c in _PARENT}
    return set(codes) | children | parents


def resolve_territory(code: str, folder: Path | None = None) -> Territory:
    """Resolve a commune code, an EPCI SIREN or a department code."""
    folder = Path(folder) if folder else datasets_dir()
    text = str(code).strip().upper()
    has_cog = _has(folder, "communes")
    if len(text) == 9 and text.isdigit():  # an EPCI's SIREN
        if not _has(folder, "epci_communes"):
            raise UnknownTerritoryError(
                f"Cannot filter by EPCI '{code}': this data package ({folder / 'datapackage.json'}) has no "
                "'epci_communes' resource. Add it to the bundle, or give a commune or department code.")
        members = _table(_epci_members, folder)
        found = set(members.loc[members["siren_epci"] == text, "code_commune"].dropna())
        if not found:
            raise UnknownTerritoryError(f"Unknown EPCI '{code}': no such SIREN in the EPCI 2026 table (epci_communes).")
        communes = _with_arrondissements(found, folder)
        return Territory(text, "epci", frozenset(communes), frozenset(departement_of(c) for c in communes))
    if len(text) == 5:
        if has_cog and text not in set(_table(_communes, folder)["code"]):
            raise UnknownTerritoryError(f"Unknown commune code '{code}' (COG 2026).")
        if not has_cog and not re.fullmatch(r"[0-9][0-9AB][0-9]{3}", text):
            raise UnknownTerritoryError(f"'{code}' is not a commune code (5 characters, e.g. 35238).")
        communes = _with_arrondissements({text}, folder)
        return Territory(text, "commune", frozenset(communes), frozenset(departement_of(c) for c in communes))
    if len(text) in (2, 3):
        if has_cog:
            cog = _table(_communes, folder)
            found = set(cog.loc[cog["departement"] == text, "code"])
            if not found:
                raise UnknownTerritoryError(f"Unknown department code '{code}' (COG 2026).")
            return Territory(text, "departement", frozenset(found), frozenset({text}))
        if not _DEPARTEMENT.match(text):
            raise UnknownTerritoryError(f"Unknown department code '{code}'.")
        return Territory(text, "departement", None, frozenset({text}))
    raise UnknownTerritoryError(
        f"'{code}' is not a territory code: give a commune (5 characters, e.g. 35238), "
        "an EPCI SIREN (9 digits) or a department (2 or 3 characters, e.g. 35, 2A, 974).")


def communes_of(territory_code: str, folder: Path | None = None) -> set[str]:
    """Commune codes (arrondissements included) of a commune, EPCI (SIREN) or department code.

    Needs the `communes` table for a department (a bundle without it: use `resolve_territory()`).
    """
    t = resolve_territory(territory_code, folder)
    if t.communes is None:
        raise UnknownTerritoryError(
            f"The communes of department '{territory_code}' are listed by the 'communes' resource, "
            "absent from this data package.")
    return set(t.communes)


def _row_matcher(res: dict, t: Territory, folder: Path):
    """A function: cell value of the territory field → does the row belong to the territory?"""
    spec = res["territory"]
    level = spec.get("level", "iris" if spec.get("derive") == "iris" else "commune")
    separator = spec.get("separator")

    def codes(value) -> list[str]:
        if value is None or pd.isna(value):
            return []
        items = str(value).split(separator) if separator else [str(value)]
        return [i[:5] if level == "iris" else i for i in items if i]

    if level in ("commune", "iris"):
        return lambda v: any(t.holds_commune(c) for c in codes(v))
    if level == "departement":
        return lambda v: any(c in t.departements for c in codes(v))
    if level == "region":
        if _has(folder, "communes") and t.communes is not None:
            cog = _table(_communes, folder)
            regions = set(cog.loc[cog["code"].isin(t.communes), "region"])
        elif _has(folder, "departements"):
            deps = _read(resource("departements", folder), folder)
            regions = set(deps.loc[deps["code"].isin(t.departements), "region"])
        else:
            raise UnknownTerritoryError(f"Dataset '{res['name']}' is filtered by region: the data package needs "
                                        "the 'communes' or 'departements' resource for that.")
        return lambda v: any(c in regions for c in codes(v))
    if level == "epci":
        if t.kind == "epci":
            return lambda v: t.code in codes(v)
        if not _has(folder, "epci_communes"):
            raise UnknownTerritoryError(f"Dataset '{res['name']}' is filtered by EPCI: the data package needs the "
                                        "'epci_communes' resource for that.")
        members = _table(_epci_members, folder)
        epcis = set(members.loc[members["code_commune"].map(lambda c: t.holds_commune(c)), "siren_epci"])
        return lambda v: any(c in epcis for c in codes(v))
    raise UnknownTerritoryError(f"Dataset '{res['name']}': territory level '{level}' is not supported.")


def _territory_codes(res: dict, df: pd.DataFrame) -> list[str]:
    spec = res["territory"]
    level = spec.get("level", "iris" if spec.get("derive") == "iris" else "commune")
    separator = spec.get("separator")
    values = set()
    for v in df[spec["field"]].dropna().astype(str):
        for item in (v.split(separator) if separator else [v]):
            if item:
                values.add(item[:5] if level == "iris" else item)
    return sorted(values)


def coverage(name: str, folder: Path | None = None) -> tuple[str, list[str]]:
    """What a dataset covers: its territory level ("commune", "departement", "region", "epci")
    and the sorted codes of that level found in it (an IRIS counts for its commune; a row listing
    several communes counts for each). ("", []) for a dataset without territory field."""
    folder = Path(folder) if folder else datasets_dir()
    res = resource(name, folder)
    if not res.get("territory"):
        return "", []
    spec = res["territory"]
    level = spec.get("level", "iris" if spec.get("derive") == "iris" else "commune")
    return ("commune" if level == "iris" else level), _territory_codes(res, _read(res, folder))


def _covered(res: dict, df: pd.DataFrame, folder: Path) -> str:
    """What a dataset covers, for an error message: its communes (with names) or departments."""
    spec = res["territory"]
    level = spec.get("level", "iris" if spec.get("derive") == "iris" else "commune")
    covered = _territory_codes(res, df)
    if level in ("commune", "iris") and _has(folder, "communes"):
        names = _table(_communes, folder).set_index("code")["nom"]
        shown = [f"{c} ({names.get(c, '?')})" for c in covered[:30]]
    else:
        shown = covered[:30]
    more = f" … and {len(covered) - 30} more" if len(covered) > 30 else ""
    unit = {"commune": "commune", "iris": "commune", "departement": "department", "region": "region",
            "epci": "EPCI"}[level]
    plural = "s" if len(covered) > 1 and unit != "EPCI" else ""
    return f"covers {len(covered)} {unit}{plural}: {', '.join(shown)}{more}."


def load(name: str, territory: str | None = None, *, folder: Path | None = None):
    """A dataset of `datasets/` as a DataFrame (or a GeoDataFrame in WGS84 for geometries).

    `territory`: a commune code (``"35238"``), an EPCI SIREN (``"243500139"``) or a department
    (``"35"``); the rows outside it are dropped. For data by department (or region, EPCI), the
    rows of the departments the territory lies in are kept. A territory the dataset does not
    cover raises UnknownTerritoryError listing what it covers.
    """
    folder = Path(folder) if folder else datasets_dir()
    res = resource(name, folder)
    df = _read(res, folder)
    if territory is None:
        return df
    if not res.get("territory"):
        raise UnknownTerritoryError(f"Dataset '{name}' cannot be filtered by territory "
                                    "(its descriptor has no 'territory' field): load it without territory=.")
    try:
        t = resolve_territory(territory, folder)
    except UnknownTerritoryError as err:
        raise UnknownTerritoryError(f"{err} Dataset '{name}' {_covered(res, df, folder)}") from None
    matches = _row_matcher(res, t, folder)
    keep = df[res["territory"]["field"]].map(matches).astype(bool).to_numpy()
    subset = df[keep]
    if subset.empty:
        raise UnknownTerritoryError(
            f"Dataset '{name}' has no row for territory '{territory}'. It {_covered(res, df, folder)}")
    return subset.reset_index(drop=True)


# --- an indicator over the whole national Filosofi file -----------------------------------------

@reads("filosofi_iris_2018")
def iris_poverty_gap(filosofi: pd.DataFrame | None = None) -> pd.DataFrame:
    """For every IRIS of the national Filosofi 2018 file: its poverty rate against its commune's.

    The commune's rate here is the mean of its IRIS' published rates (a simple, unweighted
    indicator); `ecart_points` is the IRIS's rate minus it, and `rang_dans_commune` ranks the
    IRIS from the poorest. Vectorised: `make bench` times it over the 12,395 IRIS.
    """
    if filosofi is None:
        filosofi = load("filosofi_iris_2018")
    out = pd.DataFrame({"IRIS": filosofi["IRIS"], "code_commune": filosofi["IRIS"].str.slice(0, 5),
                        "taux_pauvrete": filosofi["DISP_TP6018"]})
    by_commune = out.groupby("code_commune")["taux_pauvrete"]
    out["taux_pauvrete_commune"] = by_commune.transform("mean").round(1)
    out["ecart_points"] = (out["taux_pauvrete"] - out["taux_pauvrete_commune"]).round(1)
    out["rang_dans_commune"] = by_commune.rank(ascending=False, method="min").astype("Int64")
    return out
