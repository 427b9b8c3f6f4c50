"""Territory packs: the contours a territory lacks, from their official producers, once online.

The shipped data package has the national tables (Filosofi, CAF, the QPV tables) but contours for
a few cities only. A facilitator preparing a session elsewhere runs, on a computer with Internet:

    make territory CODE=21231          (in the book's folder; Dijon)

or, in a notebook of a lab (the lab's zip has its own `datasets/` folder):

    from dataquartiers.territory import make_pack
    make_pack("21231")

It downloads the QPV 2024 contours (ANCT, the national file) and the territory's IRIS contours
(IGN, WFS service of the Géoplateforme), checks them (`dataquartiers.fetch`: pinned SHA-256, or
trust on first download recorded beside the cache), keeps the territory (the IRIS of its
communes; the QPV that lie in them, with the communes and arrondissements they touch), checks the
result against the schemas below (the same as the shipped contours) and writes a pack:
`datasets/territoires/<code>/datapackage.json` and its files. The labs then read it like the
shipped data (`dataquartiers.data.resources` merges packs; `dataquartiers.layers` finds them by
what they are). A second run uses the cache: no network needed.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from . import data, fetch
from .cli import ArgumentParser
from .data import DonneesError, UnknownTerritoryError

#: A QPV belongs to a commune (or arrondissement) where at least this share of its surface lies.
MIN_SHARE_IN_COMMUNE = 0.01
LICENCE = {"name": "LO-FR-2.0", "title": "Licence Ouverte 2.0", "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"}
CODES_FIELD = {"name": "codes_communes", "type": "string", "title": "Codes des communes et arrondissements (COG) du quartier",
               "description": "Séparés par une espace : les communes (et arrondissements) où se trouve au moins 1 % "
                              "de la surface du quartier, d'après les contours IRIS du pack."}
#: The schemas of a pack's resources: those of the shipped QPV 2024 and IRIS contours
#: (`qpv2024_marseille`, `iris_aix_marseille_provence`; a test checks they stay the same).
QPV_FIELDS = [
    {"name": "code_qp", "type": "string", "title": "Code QPV 2024", "constraints": {"required": True, "pattern": "QN[0-9A-Z]{6}"}},
    {"name": "lib_qp", "type": "string", "title": "Nom du quartier"},
    {"name": "insee_com", "type": "string", "title": "Code de la commune principale (COG)"},
    {"name": "dep", "type": "string", "title": "Code département"},
    CODES_FIELD,
]
IRIS_FIELDS = [
    {"name": "code_iris", "type": "string", "title": "Code IRIS", "constraints": {"required": True}},
    {"name": "nom_iris", "type": "string", "title": "Nom de l'IRIS"},
    {"name": "typ_iris", "type": "string", "title": "Type d'IRIS (H habitat, A activité, D divers, Z commune non découpée)"},
    {"name": "code_commune", "type": "string", "title": "Code commune (ou arrondissement)"},
    {"name": "nom_commune", "type": "string", "title": "Commune (ou arrondissement)"},
]
#: Column names of the producers' files, in any case (IGN's WFS, ANCT's national file).
IRIS_SOURCE_FIELDS = {"code_iris": ("code_iris",), "nom_iris": ("nom_iris",), "typ_iris": ("type_iris", "typ_iris"),
                      "code_commune": ("code_insee", "insee_com", "depcom"), "nom_commune": ("nom_commune", "nom_com")}
QPV_SOURCE_FIELDS = {"code_qp": ("code_qp",), "lib_qp": ("lib_qp", "nom_qp"), "insee_com": ("insee_com", "code_insee"),
                     "dep": ("dep", "code_dep")}


class PackError(DonneesError, RuntimeError):
    """A territory pack cannot be made; the message says why and what to do."""

    label = "Pack de territoire impossible"


def _pick(props: dict, names) -> object:
    lower = {k.lower(): v for k, v in props.items()}
    return next((lower[n] for n in names if n in lower), None)


def _territory_communes(code: str, folder: Path) -> tuple[data.Territory, list[str]]:
    t = data.resolve_territory(code, folder)
    if t.kind == "departement":
        raise PackError(f"Un pack se fait pour une commune, un arrondissement ou un EPCI, pas pour un département "
                        f"(« {code} ») : donnez le code de la commune ou le numéro SIREN de l'EPCI.")
    return t, sorted(t.communes)


def _features(path: Path, what: str) -> list[dict]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))["features"]
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as err:
        raise PackError(f"{path} : le fichier téléchargé ({what}) n'est pas une FeatureCollection GeoJSON ({err}). "
                        "Supprimez-le du cache et recommencez.") from None


def iris_features(t: data.Territory, communes: list[str], *, url: str | None, sha256: str | None,
                  cache: Path | None, timeout: float) -> tuple[list[dict], Path]:
    """The IRIS of the territory's communes, from IGN's WFS (one query for all of them)."""
    entry = fetch.NATIONAL_FILES["iris_contours"]
    codes = ",".join(f"%27{c}%27" for c in communes)
    path = fetch.fetch("iris_contours", url=(url or entry.url).replace("{codes}", codes), sha256=sha256, cache=cache,
                       timeout=timeout, fname=f"iris_contours_{t.code}.geojson")
    wanted = set(communes)
    kept = []
    for feat in _features(path, "contours IRIS"):
        props = {k: _pick(feat.get("properties") or {}, names) for k, names in IRIS_SOURCE_FIELDS.items()}
        code = str(props["code_iris"] or "")
        commune = str(props["code_commune"] or code[:5])
        if commune in wanted and feat.get("geometry"):
            props["code_commune"] = commune
            kept.append({"type": "Feature", "properties": {f["name"]: (None if props.get(f["name"]) is None
                                                                      else str(props[f["name"]])) for f in IRIS_FIELDS},
                         "geometry": feat["geometry"]})
    return kept, path


def qpv_features(iris: list[dict], folder: Path, *, url: str | None, sha256: str | None, cache: Path | None,
                 timeout: float) -> tuple[list[dict], Path]:
    """The QPV 2024 that lie in the territory (≥ 1 % of their surface in its IRIS), with the codes
    of the communes and arrondissements they touch."""
    import geopandas as gpd
    from shapely.geometry import shape

    path = fetch.fetch("qpv2024_contours", url=url, sha256=sha256, cache=cache, timeout=timeout)
    if path.read_bytes()[:2] == b"PK":  # the producer may serve it zipped
        import zipfile

        with zipfile.ZipFile(path) as archive:
            member = fetch._member(archive, fetch.NATIONAL_FILES["qpv2024_contours"].member, path)
            features = json.loads(archive.read(member).decode("utf-8"))["features"]
    else:
        features = _features(path, "contours des QPV 2024")
    areas = gpd.GeoDataFrame({"code": [f["properties"]["code_commune"] for f in iris]},
                             geometry=[shape(f["geometry"]) for f in iris], crs=4326).to_crs(2154)
    by_commune = areas.dissolve(by="code")
    kept = []
    for feat in features:
        if not feat.get("geometry"):
            continue
        zone = gpd.GeoSeries([shape(feat["geometry"])], crs=4326).to_crs(2154).iloc[0]
        if zone.is_empty or zone.area == 0:
            continue
        share = by_commune.geometry.intersection(zone).area / zone.area
        codes = sorted(share[share >= MIN_SHARE_IN_COMMUNE].index)
        if not codes:
            continue
        parents = data._arrondissements(set(codes), folder)[1]
        props = {k: _pick(feat.get("properties") or {}, names) for k, names in QPV_SOURCE_FIELDS.items()}
        props = {k: (None if v is None else str(v)) for k, v in props.items()}
        props["codes_communes"] = " ".join(sorted(set(codes) | parents))
        kept.append({"type": "Feature", "properties": props, "geometry": feat["geometry"]})
    return kept, path


def _resource(name: str, path: str, title: str, description: str, producer: str, fields: list[dict], *,
              granularity: str, territory_field: str, separator: str | None, sources: list[dict],
              provenance: str, extra: dict | None = None) -> dict:
    res = {"name": name, "path": path, "profile": "data-resource", "format": "geojson",
           "mediatype": "application/geo+json", "encoding": "utf-8", "title": title, "description": description,
           "producer": producer, "licenses": [LICENCE], "licence_status": "verified",
           "vintage": f"téléchargé le {date.today().isoformat()}", "granularity": granularity, "synthetic": False,
           "sources": sources, "provenance": provenance,
           "territory": {"field": territory_field, **({"separator": separator} if separator else {})},
           "schema": {"fields": fields, "missingValues": [""], "primaryKey": [fields[0]["name"]]}}
    res.update(extra or {})
    return res


def make_pack(code: str, *, folder: Path | None = None, urls: dict[str, str] | None = None,
              sha256: dict[str, str] | None = None, cache: Path | None = None, timeout: float = 60,
              quiet: bool = False) -> Path:
    """Download, check, extract and write the pack of a commune, an arrondissement or an EPCI.

    `folder`: the data package to add it to (default: the one the labs read). `urls` and `sha256`
    (by national file: "iris_contours", "qpv2024_contours") override the registry of
    `dataquartiers.fetch` (the tests point them at a local server). Returns the pack's folder.
    """
    folder = Path(folder) if folder else data.datasets_dir()
    urls, sha256 = urls or {}, sha256 or {}
    t, communes = _territory_communes(code, folder)
    label = f"{data.name_of(t.code, folder)} ({t.code})"
    iris, iris_path = iris_features(t, communes, url=urls.get("iris_contours"), sha256=sha256.get("iris_contours"),
                                    cache=cache, timeout=timeout)
    if not iris:
        raise PackError(f"Le territoire {label} n'est pas dans le fichier des contours IRIS téléchargé ({iris_path}) : "
                        "aucun IRIS de ses communes. Vérifiez le code, ou que le service de l'IGN couvre ce territoire.")
    qpv, qpv_path = qpv_features(iris, folder, url=urls.get("qpv2024_contours"), sha256=sha256.get("qpv2024_contours"),
                                 cache=cache, timeout=timeout)
    target = folder / data.PACKS_DIR / t.code
    target.mkdir(parents=True, exist_ok=True)
    (target / ".gitignore").write_text("# pack de territoire, refait par `make territory` : pas dans le dépôt\n*\n",
                                       encoding="utf-8")
    resources = []
    files = {f"iris_{t.code}.geojson": iris}
    resources.append(_resource(
        f"iris_{t.code}", f"iris_{t.code}.geojson", f"{data.name_of(t.code, folder)} : contours des IRIS (pack de territoire)",
        f"Les {len(iris)} IRIS des communes de {label}, téléchargés du service de l'IGN. Les communes non découpées "
        "forment un seul IRIS.", "IGN et INSEE (Contours…IRIS)", IRIS_FIELDS, granularity="iris",
        territory_field="code_commune", separator=None,
        sources=[{"title": fetch.NATIONAL_FILES["iris_contours"].title, "path": fetch.NATIONAL_FILES["iris_contours"].page}],
        provenance=f"dataquartiers.territory.make_pack : {iris_path.name} (SHA-256 {fetch.sha256_of(iris_path)}), "
                   "gardé aux communes du territoire."))
    if qpv:
        files[f"qpv2024_{t.code}.geojson"] = qpv
        resources.append(_resource(
            f"qpv2024_{t.code}", f"qpv2024_{t.code}.geojson",
            f"{data.name_of(t.code, folder)} : contours des QPV 2024 (pack de territoire)",
            f"Les {len(qpv)} quartiers prioritaires de la géographie 2024 (codes QN…) dont au moins 1 % de la surface "
            f"est dans {label}.", "ANCT (contours des QPV 2024)", QPV_FIELDS, granularity="qpv",
            territory_field="codes_communes", separator=" ", extra={"qpv_geography": "2024"},
            sources=[{"title": fetch.NATIONAL_FILES["qpv2024_contours"].title,
                      "path": fetch.NATIONAL_FILES["qpv2024_contours"].page}],
            provenance=f"dataquartiers.territory.make_pack : {qpv_path.name} (SHA-256 {fetch.sha256_of(qpv_path)}), "
                       "gardé aux quartiers qui touchent les IRIS du territoire ; codes_communes calculés par "
                       "superposition (Lambert-93)."))
    for name, features in files.items():
        (target / name).write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False,
                                              separators=(",", ":")) + "\n", encoding="utf-8")
    descriptor = {"profile": "data-package", "name": f"territoire-{t.code}",
                  "title": f"Pack de territoire : {label}", "resources": resources}
    (target / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False, indent=1) + "\n",
                                             encoding="utf-8")
    check_pack(target, folder)
    if not quiet:
        print(f"Pack de {label} écrit dans {target} : {len(iris)} IRIS, {len(qpv)} QPV 2024."
              + ("" if qpv else " Aucun quartier prioritaire 2024 dans ce territoire."))
    return target


def check_pack(target: Path, folder: Path) -> None:
    """Each resource of the pack is fully described and reads as its schema says (else the pack
    is removed: the labs never see a half-made pack)."""
    problems = []
    for res in json.loads((target / "datapackage.json").read_text(encoding="utf-8"))["resources"]:
        problems += data.check_resource(res)
        if not problems:
            try:
                data._read(res, target)
            except data.DatasetFileError as err:
                problems.append(str(err))
    if problems:
        for path in target.iterdir():
            path.unlink()
        target.rmdir()
        raise PackError("Le pack ne respecte pas les schémas du paquet de données ; il n'a pas été gardé :\n"
                        + "\n".join(problems))


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(
        prog="python -m dataquartiers.territory",
        description="Fait le pack d'un territoire (contours des QPV 2024 et des IRIS, téléchargés chez l'ANCT et "
                    "l'IGN) et l'ajoute au paquet de données que lisent les labs. Demande Internet la première fois.")
    parser.add_argument("code", help="code de la commune (5 caractères, ex. 21231), de l'arrondissement ou numéro "
                                     "SIREN de l'EPCI (9 chiffres, ex. 242100410)")
    parser.add_argument("--datasets", type=Path, default=None, help="dossier du paquet de données (datapackage.json)")
    args = parser.parse_args(argv)
    try:
        make_pack(args.code, folder=args.datasets)
    except (DonneesError, UnknownTerritoryError) as err:
        print(f"make territory : {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
