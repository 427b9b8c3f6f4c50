"""Make the subsets of `datasets/` from the open data gathered in `../shared/opendata/`.

This is how every shipped file was made (the provenance in datapackage.json points here): which
rows and columns were kept, how geometries were simplified, which small counts were masked.
It is run by hand by a maintainer (`python -m dataquartiers.prepare [SOURCE_DIR]`), never by the
build: the book reads only what is committed in `datasets/`. Output is deterministic.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from .secrecy import THRESHOLD

REPO_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_DIR.parent / "shared" / "opendata"
TARGET = REPO_DIR / "datasets"
#: Coordinates rounded to 5 decimals (about 1 m), enough for neighbourhood maps.
DECIMALS = 5


def _round_coords(coords, decimals=DECIMALS):
    if isinstance(coords, (int, float)):
        return round(coords, decimals)
    return [_round_coords(c, decimals) for c in coords]


def simplify_geojson(data: dict, tolerance: float) -> dict:
    """Simplify polygons (topology-preserving, in degrees) and round coordinates."""
    from shapely.geometry import mapping, shape

    out = []
    for feat in data["features"]:
        geom = shape(feat["geometry"])
        if tolerance:
            geom = geom.simplify(tolerance, preserve_topology=True)
        g = mapping(geom)
        out.append({"type": "Feature", "properties": feat["properties"],
                    "geometry": {"type": g["type"], "coordinates": _round_coords(json.loads(json.dumps(g["coordinates"])))}})
    return {"type": "FeatureCollection", "features": out}


def mask_feature_counts(data: dict, count_fields: list[str]) -> int:
    """Null every count property under the secrecy threshold; return how many were masked."""
    masked = 0
    for feat in data["features"]:
        for f in count_fields:
            v = feat["properties"].get(f)
            if v is not None and 0 < v < THRESHOLD:
                feat["properties"][f] = None
                masked += 1
    return masked


def _add_commune_codes(data: dict, src: Path, departement: str, name_field: str) -> None:
    """Add `code_commune` (COG) from a commune name, so the territory filter works by code."""
    communes = pd.read_csv(src / "admin/communes_2026.csv", dtype=str, keep_default_na=False)
    communes = communes[(communes["departement"] == departement) & (communes["type"] == "commune-actuelle")]
    by_name = dict(zip(communes["nom"], communes["code"]))
    for feat in data["features"]:
        name = feat["properties"][name_field]
        if name not in by_name:
            raise ValueError(f"commune '{name}' not found in department {departement} (COG 2026)")
        feat["properties"]["code_commune"] = by_name[name]


def write_geojson(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def write_csv(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, lineterminator="\n")


# --- one function per shipped file -----------------------------------------------------------

def admin_tables(src: Path, dst: Path) -> None:
    communes = pd.read_csv(src / "admin/communes_2026.csv", dtype=str, keep_default_na=False)
    keep = ["code", "nom", "type", "departement", "region", "commune_parente", "population"]
    # Delegated and associated communes are not statistical units: keep current communes and
    # municipal arrondissements (Paris, Lyon, Marseille), the units of INSEE's codes.
    communes = communes[communes["type"].isin(["commune-actuelle", "arrondissement-municipal"])]
    write_csv(communes[keep], dst / "admin/communes_2026.csv")
    epci = pd.read_csv(src / "admin/epci_communes_2026.csv", dtype=str, keep_default_na=False)
    write_csv(epci, dst / "admin/epci_communes_2026.csv")
    for name in ("departements_2026.csv", "regions_2026.csv", "epci_2026.csv"):
        write_csv(pd.read_csv(src / "admin" / name, dtype=str, keep_default_na=False), dst / "admin" / name)


def rennes_iris(src: Path, dst: Path) -> int:
    data = json.loads((src / "insee/rennes_iris2024_rp2022_population.geojson").read_text(encoding="utf-8"))
    data = simplify_geojson(data, tolerance=0.00005)
    counts = ["p22_pop", "p22_pop0014", "p22_pop1529", "p22_pop65p", "p22_pop_etr"]
    for feat in data["features"]:  # INSEE weighted counts: whole persons are enough here
        for f in counts:
            v = feat["properties"].get(f)
            feat["properties"][f] = None if v is None else int(round(v))
    masked = mask_feature_counts(data, counts)
    write_geojson(data, dst / "insee/rennes_iris2024_rp2022_population.geojson")
    return masked


def qpv_ille_et_vilaine(src: Path, dst: Path) -> int:
    data = json.loads((src / "qpv/qp2015_ille_et_vilaine_contours.geojson").read_text(encoding="utf-8"))
    data = simplify_geojson(data, tolerance=0.00002)
    masked = mask_feature_counts(data, ["population", "demandeurs_emploi"])
    _add_commune_codes(data, src, "35", name_field="commune_qp")
    write_geojson(data, dst / "qpv/qp2015_ille_et_vilaine_contours.geojson")
    return masked


STEPS = [admin_tables, rennes_iris, qpv_ille_et_vilaine]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    src = Path(argv[0]) if argv else DEFAULT_SOURCE
    if not src.is_dir():
        print(f"prepare: source folder {src} not found (give the path to shared/opendata)", file=sys.stderr)
        return 1
    for step in STEPS:
        masked = step(src, TARGET)
        print(f"{step.__name__}: done" + (f", {masked} small count(s) masked" if masked else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
