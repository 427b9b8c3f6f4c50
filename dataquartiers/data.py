"""Load the project's datasets, offline, the same way in the book, on a laptop and in Pyodide.

Everything a lab reads is declared in `datasets/datapackage.json` (Frictionless): path, format,
schema (field types), licence, provenance. `load(name)` reads it from there, typed per the
schema. GeoJSON is read with the json module and `GeoDataFrame.from_features` (no GDAL, which
Pyodide does not have). One filter argument selects a territory: a commune, an EPCI or a
department code; Lyon, Marseille and Paris arrondissements belong to their commune.

Territory packs. `datasets/territoires/<code>/datapackage.json` (written by
`dataquartiers.territory`, `make territory CODE=…`) adds the resources of one territory: the
loader reads them like the shipped data (`resources()` merges them; `package()` stays the
shipped descriptor, the one the book's tooling reads).

Arrondissements. A commune with arrondissements (Paris, Lyon, Marseille) holds them all. For an
arrondissement, the rows of data published by commune (a contour, a commune indicator) come from
its whole commune; the rows of finer data (QPV, IRIS, squares, points) must name the
arrondissement itself: a QPV listed for "Marseille" is not known to lie in the 1st arrondissement.

The data package may list only some resources: a downloaded lab bundle ships a reduced
`datasets/` folder with the resources its notebook reads. The territory filter then works with
what is there: commune and department codes need nothing else (a department is the start of a
commune code, and the arrondissements of Paris, Lyon and Marseille are known); an EPCI needs the
`epci_communes` resource, and checking that a code exists needs `communes`.

Extra properties of a resource, beyond Frictionless (all checked by `check_package`):
`producer`, `licence_status` (`verified` / `unverified`, with a `licence_note` when unverified),
`vintage`, `granularity`, `qpv_geography` (`2015` / `2024`, for QPV data), `synthetic`, `sources`,
`provenance`, `catalogue` (ids of the book's catalogue of sources), `territory` (how to filter
it) and `dq:geometry` (geometries rebuilt from an INSEE grid-square id). A schema field that
counts persons or households carries `dq:count_of` (see `dataquartiers.secrecy`).

Errors raised into a lab are French sentences and show without a Python traceback
(`DonneesError._render_traceback_`, which IPython uses instead of the traceback).
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
from .errors import DonneesError  # noqa: F401  (raised and caught as data.DonneesError)

#: Where territory packs live, inside the data package folder.
PACKS_DIR = "territoires"


class LabValueError(DonneesError, ValueError):
    """A value given to a function of the library cannot be used (French message, no traceback)."""

    label = "Valeur impossible"


class LabTypeError(DonneesError, TypeError):
    """An object of the wrong kind was given to a function of the library."""

    label = "Objet inattendu"


class LabKeyError(DonneesError, KeyError):
    """A column (or key) the function needs is absent; the message lists what there is."""

    label = "Colonne absente"

    def __str__(self) -> str:  # KeyError quotes its message; this one is a sentence
        return self.args[0]


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
    raise DatasetFileError(
        "Aucun fichier datasets/datapackage.json trouvé (cherché dans : " + ", ".join(str(c) for c in candidates)
        + "). Indiquez le dossier qui le contient dans la variable d'environnement DQ_DATASETS.")


class UnknownResourceError(DonneesError, KeyError):
    label = "Jeu de données inconnu"

    def __str__(self) -> str:  # KeyError quotes its message; this one is a sentence
        return self.args[0]


class UnknownTerritoryError(DonneesError, ValueError):
    label = "Territoire hors des données"


class DatasetFileError(DonneesError, ValueError):
    """A file of the data package cannot be read as its descriptor says."""

    label = "Fichier de données illisible"


class DatasetMetadataError(DatasetFileError):
    """A resource of datapackage.json lacks what every shipped file must say (licence, provenance…)."""

    label = "Description de données incomplète"


# --- the data package -----------------------------------------------------------------------

@lru_cache(maxsize=16)
def _package(path: str, mtime: int) -> dict:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DatasetFileError(f"{path} : ce n'est pas du JSON valide (ligne {err.lineno}, colonne {err.colno}) : "
                               f"{err.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("resources"), list):
        raise DatasetFileError(f"{path} : un paquet de données doit avoir une liste « resources »")
    return data


def _descriptor(path: Path) -> dict:
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise DatasetFileError(f"{path} : pas de paquet de données ici") from None
    return _package(str(path), mtime)


def package(folder: Path | None = None) -> dict:
    """The shipped data package (`datasets/datapackage.json`), without the territory packs."""
    folder = Path(folder) if folder else datasets_dir()
    return _descriptor(folder / "datapackage.json")


def pack_folders(folder: Path | None = None) -> list[Path]:
    """The territory packs beside the data package (`territoires/<code>/datapackage.json`)."""
    folder = Path(folder) if folder else datasets_dir()
    return sorted(p.parent for p in (folder / PACKS_DIR).glob("*/datapackage.json"))


def _packs_signature(folder: Path) -> tuple:
    return tuple((str(p), (p / "datapackage.json").stat().st_mtime_ns) for p in pack_folders(folder))


def resources(folder: Path | None = None) -> dict[str, dict]:
    """The resources of the data package, by name, and those of its territory packs.

    A pack's resource keeps its descriptor; its `path` is made relative to the data package
    folder (`territoires/<code>/…`), so it is read like any shipped file.
    """
    folder = Path(folder) if folder else datasets_dir()
    found = {r.get("name", f"#{i}"): r for i, r in enumerate(package(folder)["resources"])}
    for pack in pack_folders(folder):
        prefix = pack.relative_to(folder).as_posix()
        for i, r in enumerate(_descriptor(pack / "datapackage.json")["resources"]):
            name = r.get("name", f"{prefix}#{i}")
            if name not in found:
                found[name] = {**r, "path": f"{prefix}/{r.get('path', '')}", "dq:pack": prefix}
    return found


#: What every shipped file must say, and the values some of it may take.
REQUIRED_PROPERTIES = ("name", "path", "title", "description", "producer", "licenses", "licence_status",
                       "vintage", "granularity", "provenance")
LICENCE_STATUSES = ("verified", "unverified")
GRANULARITIES = ("qpv", "iris", "carreau_200m", "commune", "epci", "departement", "region", "point", "menage")
#: Granularities finer than a commune: an arrondissement only gets the rows that name it.
SUBCOMMUNAL = ("qpv", "iris", "carreau_200m", "point", "menage")
TERRITORY_LEVELS = ("commune", "iris", "departement", "region", "epci")
QPV_GEOGRAPHIES = ("2015", "2024")
_HINTS = {
    "licenses": " (chaque fichier nomme sa licence, par exemple [{\"name\": \"LO-FR-2.0\", "
                "\"title\": \"Licence Ouverte 2.0\"}])",
    "licence_status": " (verified ou unverified)",
    "granularity": " (" + ", ".join(GRANULARITIES) + ")",
    "vintage": " (le millésime des données, par exemple « 2024 »)",
    "provenance": " (d'où vient le fichier et comment il a été fait)",
    "producer": " (qui publie les données, par exemple « IGN »)",
}


def check_resource(res: dict) -> list[str]:
    """What is missing or wrong in one resource descriptor, as French sentences naming the field."""
    name = res.get("name", "?")
    where = f"datapackage.json : ressource « {name} »"
    problems = []
    for prop in REQUIRED_PROPERTIES:
        if res.get(prop) in (None, "", []):
            problems.append(f"{where} : le champ « {prop} » manque{_HINTS.get(prop, '')}")
    licenses = res.get("licenses")
    if licenses not in (None, "", []):
        if not isinstance(licenses, list) or not all(isinstance(li, dict) and li.get("name") for li in licenses):
            problems.append(f"{where} : le champ « licenses » doit être une liste d'objets avec un « name » "
                            "(identifiant de l'Open Definition, par exemple LO-FR-2.0, CC-BY-4.0, ODbL-1.0)")
    status = res.get("licence_status")
    if status not in (None, "") and status not in LICENCE_STATUSES:
        problems.append(f"{where} : le champ « licence_status » vaut « {status} », attendu : "
                        f"{' ou '.join(LICENCE_STATUSES)}")
    if status == "unverified" and not res.get("licence_note"):
        problems.append(f"{where} : le champ « licence_note » manque (une licence non vérifiée doit dire "
                        "ce qui reste à vérifier)")
    granularity = res.get("granularity")
    if granularity not in (None, "") and granularity not in GRANULARITIES:
        problems.append(f"{where} : le champ « granularity » vaut « {granularity} », attendu : "
                        f"{', '.join(GRANULARITIES)}")
    geography = res.get("qpv_geography")
    if geography is not None and str(geography) not in QPV_GEOGRAPHIES:
        problems.append(f"{where} : le champ « qpv_geography » vaut « {geography} », attendu : "
                        f"{' ou '.join(QPV_GEOGRAPHIES)}")
    if "synthetic" in res and not isinstance(res["synthetic"], bool):
        problems.append(f"{where} : le champ « synthetic » doit valoir true ou false")
    if res.get("synthetic") is True and "synthétique" not in (str(res.get("title", "")) + str(res.get("description", ""))).lower():
        problems.append(f"{where} : une ressource synthétique doit dire « synthétique » dans son titre ou sa description")
    spec = res.get("territory")
    if spec is not None:
        fields = {f.get("name") for f in res.get("schema", {}).get("fields", [])}
        if not isinstance(spec, dict) or spec.get("field") not in fields:
            problems.append(f"{where} : le champ « territory » doit nommer une colonne du schéma "
                            f"(trouvé : {spec!r})")
        elif spec.get("level", "commune") not in TERRITORY_LEVELS:
            problems.append(f"{where} : le champ « territory.level » vaut « {spec.get('level')} », attendu : "
                            f"{', '.join(TERRITORY_LEVELS)}")
    return problems


def check_package(folder: Path | None = None) -> list[str]:
    """Every problem of every resource of the data package (empty when all is well)."""
    problems, seen = [], set()
    for res in package(folder)["resources"]:
        problems += check_resource(res)
        if res.get("name") in seen:
            problems.append(f"datapackage.json : le nom de ressource « {res.get('name')} » est utilisé deux fois")
        seen.add(res.get("name"))
    return problems


def resource(name: str, folder: Path | None = None) -> dict:
    """The descriptor of one resource; a clear error if it is unknown or incompletely described."""
    known = resources(folder)
    if name not in known:
        raise UnknownResourceError(
            f"Jeu de données inconnu : « {name} ». Jeux disponibles : {', '.join(sorted(known))}.")
    res = known[name]
    problems = check_resource(res)
    if problems:
        raise DatasetMetadataError("\n".join(problems))
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
_TYPE_NAMES = {"string": "texte", "integer": "entier", "number": "nombre", "boolean": "booléen (true/false)",
               "year": "année", "date": "date", "datetime": "date et heure"}


def _typed(df: pd.DataFrame, res: dict, path: Path) -> pd.DataFrame:
    fields = res.get("schema", {}).get("fields", [])
    for f in fields:
        name, ftype = f["name"], f.get("type", "string")
        if name not in df.columns:
            raise DatasetFileError(f"{path} : la colonne « {name} » déclarée dans datapackage.json manque "
                                   f"(colonnes du fichier : {', '.join(map(str, df.columns))})")
        try:
            if ftype in ("date", "datetime"):
                df[name] = pd.to_datetime(df[name], errors="raise")
            elif ftype in ("integer", "year"):
                num = pd.to_numeric(df[name])
                df[name] = num.astype("Float64").round().astype("Int64") if num.dtype.kind == "f" else num.astype("Int64")
            elif ftype == "boolean" and df[name].dtype.kind != "b":  # text, or with missing values
                text = df[name].astype("string")
                bad = text.dropna()[~text.dropna().isin(_TRUE | _FALSE)]
                if len(bad):
                    raise ValueError(f"« {bad.iloc[0]} » (ligne {bad.index[0]}) n'est ni true ni false")
                df[name] = text.map(lambda v: pd.NA if pd.isna(v) else v in _TRUE).astype("boolean")
            elif ftype in _PANDAS_TYPES:
                df[name] = df[name].astype(_PANDAS_TYPES[ftype])
        except (ValueError, TypeError) as err:
            raise DatasetFileError(f"{path} : la colonne « {name} » n'est pas du type "
                                   f"{_TYPE_NAMES.get(ftype, ftype)} ({err})") from None
    return df


def _grid_squares(ids: pd.Series, spec: dict, path: Path):
    """Exact squares from INSEE grid ids (`CRS3035RES200mN<y>E<x>`: lower-left corner), in WGS84."""
    import geopandas as gpd
    import shapely

    parts = ids.astype("string").str.extract(r"^CRS(\d+)RES(\d+)mN(\d+)E(\d+)$")
    bad = parts[0].isna()
    if bad.any():
        row = bad.to_numpy().nonzero()[0][0]
        raise DatasetFileError(f"{path} : ligne {row + 2}, colonne « {spec['field']} » : « {ids.iloc[row]} » n'est pas "
                               "un identifiant de carreau INSEE (CRS3035RES200mN<nord>E<est>)")
    size = parts[1].astype(float).to_numpy()
    y, x = parts[2].astype(float).to_numpy(), parts[3].astype(float).to_numpy()
    crs = f"EPSG:{parts[0].iloc[0]}" if len(parts) else spec.get("crs", "EPSG:3035")
    return gpd.GeoSeries(shapely.box(x, y, x + size, y + size), crs=crs).to_crs("EPSG:4326")


def _read(res: dict, folder: Path, geometry: bool = True):
    """The file of a resource, typed per its schema (a copy from a small cache of recent reads:
    a lab reads the same national file several times, through several functions)."""
    path = folder / res["path"]
    if not path.exists():
        raise DatasetFileError(f"{path} : fichier du jeu de données « {res['name']} » introuvable")
    return _read_cached(str(path), path.stat().st_mtime_ns, json.dumps(res, sort_keys=True), geometry).copy()


@lru_cache(maxsize=12)
def _read_cached(path_text: str, mtime: int, descriptor: str, geometry: bool = True):
    return _read_file(json.loads(descriptor), Path(path_text), geometry)


def _read_file(res: dict, path: Path, geometry: bool = True):
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
            raise DatasetFileError(f"{path} : illisible comme un fichier CSV ({err})") from None
        df = _typed(df, res, path)
        spec = res.get("dq:geometry")
        if spec:
            import geopandas as gpd

            if spec.get("kind") != "carreau_insee":
                raise DatasetFileError(f"{path} : dq:geometry de type « {spec.get('kind')} » non pris en charge "
                                       "(carreau_insee)")
            df = gpd.GeoDataFrame(df, geometry=_grid_squares(df[spec["field"]], spec, path).to_numpy(), crs="EPSG:4326")
        return df
    if fmt == "geojson":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            features = data["features"]
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise DatasetFileError(f"{path} : ce n'est pas une FeatureCollection GeoJSON "
                                   f"({type(err).__name__} : {err})") from None
        if not geometry:  # the attributes only: no GeoPandas needed (a count per QPV in the browser)
            try:
                df = pd.DataFrame([feature["properties"] or {} for feature in features])
            except (KeyError, TypeError) as err:
                raise DatasetFileError(f"{path} : un objet ne peut pas être lu ({type(err).__name__} : {err})") from None
            for c in string_fields:
                if c in df.columns:
                    df[c] = df[c].astype("string")
            return _typed(df, res, path)
        import geopandas as gpd

        try:
            gdf = gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")
        except (TypeError, ValueError, KeyError, AttributeError) as err:
            raise DatasetFileError(f"{path} : un objet ne peut pas être lu ({type(err).__name__} : {err})") from None
        for c in string_fields:
            if c in gdf.columns:
                gdf[c] = gdf[c].astype("string")
        return _typed(gdf, res, path)
    raise DatasetFileError(f"{path} : le format « {fmt} » n'est pas pris en charge (csv, geojson)")


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
    `parents` holds, for an arrondissement, its commune: data published by commune concern it,
    finer data (QPV, IRIS) do not unless they name the arrondissement.
    """

    code: str
    kind: str  # "commune", "arrondissement", "epci" or "departement"
    communes: frozenset | None
    departements: frozenset
    parents: frozenset = frozenset()

    def holds_commune(self, commune: str, *, whole_commune_rows: bool = True) -> bool:
        if whole_commune_rows and commune in self.parents:
            return True
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


def _arrondissements(codes: set, folder: Path) -> tuple[set, set]:
    """(the arrondissements of these communes, the communes of these arrondissements)."""
    if _has(folder, "communes"):
        cog = _table(_communes, folder)
        arr = cog[cog["type"] == "arrondissement-municipal"]
        children = set(arr.loc[arr["commune_parente"].isin(codes), "code"])
        parents = set(arr.loc[arr["code"].isin(codes), "commune_parente"])
    else:
        children = {a for c in codes for a in ARRONDISSEMENTS.get(c, [])}
        parents = {_PARENT[c] for c in codes if c in _PARENT}
    return children, parents


def resolve_territory(code: str, folder: Path | None = None) -> Territory:
    """Resolve a commune code, an arrondissement code, an EPCI SIREN or a department code."""
    folder = Path(folder) if folder else datasets_dir()
    text = str(code).strip().upper()
    has_cog = _has(folder, "communes")
    if len(text) == 9 and text.isdigit():  # an EPCI's SIREN
        if not _has(folder, "epci_communes"):
            raise UnknownTerritoryError(
                f"Impossible de filtrer par EPCI (« {code} ») : ce paquet de données ({folder / 'datapackage.json'}) "
                "n'a pas la ressource « epci_communes ». Ajoutez-la, ou donnez un code de commune ou de département.")
        members = _table(_epci_members, folder)
        found = set(members.loc[members["siren_epci"] == text, "code_commune"].dropna())
        if not found:
            raise UnknownTerritoryError(f"EPCI inconnu : « {code} » n'est le numéro SIREN d'aucun EPCI de la "
                                        "table des EPCI 2026 (epci_communes).")
        children, _ = _arrondissements(found, folder)
        communes = found | children
        return Territory(text, "epci", frozenset(communes), frozenset(departement_of(c) for c in communes))
    if len(text) == 5:
        if has_cog and text not in set(_table(_communes, folder)["code"]):
            raise UnknownTerritoryError(f"Code de commune inconnu : « {code} » n'est dans le code officiel "
                                        "géographique (COG 2026).")
        if not has_cog and not re.fullmatch(r"[0-9][0-9AB][0-9]{3}", text):
            raise UnknownTerritoryError(f"« {code} » n'est pas un code de commune (5 caractères, par exemple 35238).")
        children, parents = _arrondissements({text}, folder)
        communes = {text} | children
        return Territory(text, "arrondissement" if parents else "commune", frozenset(communes),
                         frozenset(departement_of(c) for c in communes), frozenset(parents))
    if len(text) in (2, 3):
        if has_cog:
            cog = _table(_communes, folder)
            found = set(cog.loc[cog["departement"] == text, "code"])
            if not found:
                raise UnknownTerritoryError(f"Code de département inconnu : « {code} » (COG 2026).")
            return Territory(text, "departement", frozenset(found), frozenset({text}))
        if not _DEPARTEMENT.match(text):
            raise UnknownTerritoryError(f"Code de département inconnu : « {code} ».")
        return Territory(text, "departement", None, frozenset({text}))
    raise UnknownTerritoryError(
        f"« {code} » n'est pas un code de territoire : donnez une commune (5 caractères, par exemple 35238), "
        "un EPCI (numéro SIREN à 9 chiffres) ou un département (2 ou 3 caractères, par exemple 35, 2A, 974).")


def communes_of(territory_code: str, folder: Path | None = None) -> set[str]:
    """Commune codes (arrondissements included) of a commune, EPCI (SIREN) or department code.

    Needs the `communes` table for a department (a bundle without it: use `resolve_territory()`).
    """
    t = resolve_territory(territory_code, folder)
    if t.communes is None:
        raise UnknownTerritoryError(
            f"Les communes du département « {territory_code} » sont listées par la ressource « communes », "
            "absente de ce paquet de données.")
    return set(t.communes)


def name_of(code: str, folder: Path | None = None) -> str:
    """The name of a territory, as a caption says it: « Marseille », « Dijon Métropole »…

    The code itself when the data package has no table that names it (a reduced bundle).
    """
    folder = Path(folder) if folder else datasets_dir()
    text = str(code).strip().upper()
    if len(text) == 9 and _has(folder, "epci_communes"):
        members = _table(_epci_members, folder)
        names = members.loc[members["siren_epci"] == text, "nom_epci"]
        if len(names):
            return str(names.iloc[0])
    if _has(folder, "communes"):
        cog = _table(_communes, folder)
        if len(text) == 5:
            names = cog.loc[cog["code"] == text, "nom"]
            if len(names):
                return str(names.iloc[0])
        if len(text) in (2, 3) and _has(folder, "departements"):
            deps = _read(resource("departements", folder), folder)
            names = deps.loc[deps["code"] == text, "nom"]
            if len(names):
                return str(names.iloc[0])
    return text


def _level(res: dict) -> str:
    spec = res["territory"]
    return spec.get("level", "iris" if spec.get("derive") == "iris" else "commune")


def _row_matcher(res: dict, t: Territory, folder: Path):
    """A function: cell value of the territory field → does the row belong to the territory?"""
    spec = res["territory"]
    level = _level(res)
    separator = spec.get("separator")
    whole = res.get("granularity") not in SUBCOMMUNAL

    def codes(value) -> list[str]:
        if value is None or pd.isna(value):
            return []
        items = str(value).split(separator) if separator else [str(value)]
        return [i[:5] if level == "iris" else i for i in items if i]

    if level in ("commune", "iris"):
        return lambda v: any(t.holds_commune(c, whole_commune_rows=whole) for c in codes(v))
    if level == "departement":
        return lambda v: any(c in t.departements for c in codes(v))
    if level == "region":
        if _has(folder, "communes") and t.communes is not None:
            cog = _table(_communes, folder)
            regions = set(cog.loc[cog["code"].isin(t.communes | t.parents), "region"].dropna())
        elif _has(folder, "departements"):
            deps = _read(resource("departements", folder), folder)
            regions = set(deps.loc[deps["code"].isin(t.departements), "region"])
        else:
            raise UnknownTerritoryError(f"Le jeu « {res['name']} » se filtre par région : le paquet de données a "
                                        "besoin pour cela de la ressource « communes » ou « departements ».")
        return lambda v: any(c in regions for c in codes(v))
    if level == "epci":
        if t.kind == "epci":
            return lambda v: t.code in codes(v)
        if not _has(folder, "epci_communes"):
            raise UnknownTerritoryError(f"Le jeu « {res['name']} » se filtre par EPCI : le paquet de données a "
                                        "besoin pour cela de la ressource « epci_communes ».")
        members = _table(_epci_members, folder)
        epcis = set(members.loc[members["code_commune"].map(lambda c: t.holds_commune(c)), "siren_epci"])
        return lambda v: any(c in epcis for c in codes(v))
    raise UnknownTerritoryError(f"Le jeu « {res['name']} » : niveau de territoire « {level} » non pris en charge.")


def _territory_codes(res: dict, df: pd.DataFrame) -> list[str]:
    spec = res["territory"]
    level = _level(res)
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
    level = _level(res)
    return ("commune" if level == "iris" else level), _territory_codes(res, _read(res, folder))


def _covered(res: dict, df: pd.DataFrame, folder: Path) -> str:
    """What a dataset covers, for an error message: its communes (with names) or departments."""
    level = _level(res)
    covered = _territory_codes(res, df)
    if level in ("commune", "iris") and _has(folder, "communes"):
        names = _table(_communes, folder).set_index("code")["nom"]
        shown = [f"{c} ({names.get(c, '?')})" for c in covered[:30]]
    else:
        shown = covered[:30]
    more = f" … et {len(covered) - 30} autres" if len(covered) > 30 else ""
    unit = {"commune": "commune", "iris": "commune", "departement": "département", "region": "région",
            "epci": "EPCI"}[level]
    plural = "s" if len(covered) > 1 and unit != "EPCI" else ""
    return f"couvre {len(covered)} {unit}{plural} : {', '.join(shown)}{more}."


def say(text: str) -> None:
    """A note for the trainee, in the output of the cell where it matters."""
    print("⚠ " + text.replace("\n", "\n  "))


def load(name: str, territory: str | None = None, *, folder: Path | None = None, if_missing: str | None = None,
         geometry: bool = True):
    """A dataset of `datasets/` as a DataFrame (or a GeoDataFrame in WGS84 for geometries).

    `territory`: a commune code (``"35238"``), an EPCI SIREN (``"243500139"``) or a department
    (``"35"``); the rows outside it are dropped. For data by department (or region, EPCI), the
    rows of the departments the territory lies in are kept. A territory the dataset does not
    cover raises UnknownTerritoryError listing what it covers — or, with `if_missing` (what the
    lab loses without it), prints that as a note and returns None. `geometry=False`: for a GeoJSON
    file, its attributes only, as a plain DataFrame (GeoPandas is then not needed).
    """
    if if_missing is not None:
        try:
            return load(name, territory, folder=folder, geometry=geometry)
        except UnknownTerritoryError as err:
            say(f"{err}\nCe que cela retire à l'analyse : {if_missing}.")
            return None
    folder = Path(folder) if folder else datasets_dir()
    res = resource(name, folder)
    df = _read(res, folder, geometry)
    if territory is None:
        return df
    if not res.get("territory"):
        raise UnknownTerritoryError(f"Le jeu « {name} » ne se filtre pas par territoire (son descripteur n'a pas "
                                    "de champ « territory ») : chargez-le sans territory=.")
    try:
        t = resolve_territory(territory, folder)
    except UnknownTerritoryError as err:
        raise UnknownTerritoryError(f"{err} Le jeu « {name} » {_covered(res, df, folder)}") from None
    matches = _row_matcher(res, t, folder)
    keep = df[res["territory"]["field"]].map(matches).astype(bool).to_numpy()
    subset = df[keep]
    if subset.empty:
        parent_rows = t.parents and _row_matcher(res, Territory(t.code, "commune", t.parents, t.departements), folder)
        if parent_rows and df[res["territory"]["field"]].map(parent_rows).astype(bool).any():
            parent = ", ".join(f"{p} ({name_of(p, folder)})" for p in sorted(t.parents))
            raise UnknownTerritoryError(
                f"Le jeu « {name} » ne détaille pas les arrondissements : ses lignes portent sur la commune "
                f"entière, {parent}, et rien ne dit lesquelles sont dans l'arrondissement {territory} "
                f"({name_of(territory, folder)}). Choisissez la commune entière, ou ajoutez des données qui "
                "nomment l'arrondissement.")
        raise UnknownTerritoryError(
            f"Le jeu « {name} » n'a aucune ligne pour le territoire {territory} ({name_of(territory, folder)}). "
            f"Il {_covered(res, df, folder)}")
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


# --- a participant's own data -------------------------------------------------------------------

#: The recipe of a lab's LISEZMOI (booktools/bundles.py puts it there, through the template
#: booktools/templates/lisezmoi-lab.md.j2): how a participant adds their own file to the data
#: package. `tests/test_own_data.py` follows it word for word (the JSON below is declared as
#: written, then a lab runs on it).
OWN_DATA_RECIPE = """\
1. Copiez votre fichier dans le dossier `datasets/` : un tableau CSV (UTF-8, séparé par des virgules)
   ou des contours GeoJSON en longitudes et latitudes (WGS84).
2. Déclarez-le dans `datasets/datapackage.json` : ajoutez à la liste `"resources"` un objet comme
   celui-ci (ici, les contours des quartiers prioritaires de 2015 de Dijon), adapté à votre fichier.
   Tous ses champs sont obligatoires, sauf `qpv_geography` (pour des quartiers) et `licence_note`
   (obligatoire si la licence n'est pas vérifiée) :

   ```json
   {
     "name": "qpv_dijon",
     "path": "qpv_dijon.geojson",
     "format": "geojson",
     "title": "Dijon : contours des quartiers prioritaires 2015",
     "description": "Les quartiers prioritaires de Dijon, géographie 2015.",
     "producer": "ANCT",
     "licenses": [{"name": "LO-FR-2.0", "title": "Licence Ouverte 2.0"}],
     "licence_status": "verified",
     "vintage": "QPV 2015",
     "granularity": "qpv",
     "qpv_geography": "2015",
     "provenance": "Fichier national des QPV de l'ANCT (data.gouv.fr), gardé aux quartiers de Dijon.",
     "territory": {"field": "code_commune"},
     "schema": {"fields": [
       {"name": "code_qp", "type": "string"},
       {"name": "nom_qp", "type": "string"},
       {"name": "code_commune", "type": "string"}
     ]}
   }
   ```

   - `granularity` dit ce qu'est le fichier : `qpv`, `iris`, `commune`, `carreau_200m`, `point`
     (des adresses, des offres d'emploi)… Les labs trouvent les contours par là, quel que soit le
     nom du fichier : des contours de granularité `qpv` ont les colonnes `code_qp` et `nom_qp` (ou
     `lib_qp`), des contours `iris` les colonnes `code_iris` et `nom_iris` ;
   - `qpv_geography` : `2015` (codes QP…) ou `2024` (codes QN…) ;
   - `territory.field` : la colonne qui porte le code de la commune (ou de l'arrondissement) ;
     plusieurs codes dans une cellule, séparés par une espace : ajoutez `"separator": " "` ;
   - dans `schema.fields`, chaque colonne du fichier, les codes en `"string"` (« 01004 » garde son
     zéro), les nombres en `"number"` ou `"integer"` ;
   - une licence dont vous n'êtes pas sûr : `"licence_status": "unverified"` et une `licence_note`
     qui dit ce qui reste à vérifier.
3. Relancez le lab avec votre `TERRITOIRE` : des contours sont trouvés tout seuls ; un tableau se lit
   avec `load("qpv_dijon", territory=TERRITOIRE)`, qui garde les lignes dont `territory.field` porte
   ce code : une commune à arrondissements les contient tous ; un code d'arrondissement (13201,
   69388) ne garde que ce qui le concerne. Un champ manquant ou mal rempli donne un message qui nomme
   le fichier, la ressource et le champ.

Sur un ordinateur connecté à Internet, `make_pack("<code>")` (module `dataquartiers.territory`)
télécharge et déclare d'un coup les contours des IRIS et des quartiers prioritaires 2024 d'une
commune ou d'une intercommunalité.
"""
