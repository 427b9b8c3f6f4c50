"""Make the subsets of `datasets/` from the open data gathered in `../shared/opendata/`.

This is how every shipped file was made (the provenance in datapackage.json points here): which
rows and columns were kept, how geometries were simplified, which small counts were masked.
It is run by hand by a maintainer (`python -m booktools.prepare [SOURCE_DIR]`, or
`make datasets`), never by the build: the book reads only what is committed in `datasets/`.
Output is deterministic: running it twice gives the same bytes.

Statistical secrecy: every column that counts persons or households is masked (emptied) where it
holds 1 to 10, and a percentage computed from such a count is masked with it (otherwise the count
could be recomputed from the percentage and the total). The number of masked cells is printed.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pandas as pd

from dataquartiers.cli import ArgumentParser
from dataquartiers.secrecy import THRESHOLD

from . import REPO_DIR, synthetic

DEFAULT_SOURCE = REPO_DIR.parent / "shared" / "opendata"
TARGET = REPO_DIR / "datasets"
#: Coordinates rounded to 5 decimals (about 1 m), enough for neighbourhood maps.
DECIMALS = 5


# --- geometry -------------------------------------------------------------------------------

def _round_coords(coords, decimals=DECIMALS):
    if isinstance(coords, (int, float)):
        return round(coords, decimals)
    return [_round_coords(c, decimals) for c in coords]


def simplify_geojson(data: dict, tolerance: float, decimals: int = DECIMALS) -> dict:
    """Simplify polygons (topology-preserving, tolerance in degrees) and round coordinates.

    Rounding is done by snapping to a grid of 10^-decimals degrees with shapely's
    `set_precision`, which keeps polygons valid (plain rounding can make a ring cross itself).
    """
    import shapely
    from shapely.geometry import MultiPolygon, Polygon, mapping, shape
    from shapely.validation import make_valid

    out = []
    for feat in data["features"]:
        original = shape(feat["geometry"])
        if not original.is_valid:  # a self-touching ring (some sources have them): repair it
            original = make_valid(original)
        geom = original.simplify(tolerance, preserve_topology=True) if tolerance else original
        geom = shapely.set_precision(geom, 10 ** -decimals)
        if geom.is_empty:  # a sliver that vanished on the grid: keep it unsimplified
            geom = shapely.set_precision(original, 10 ** -decimals)
        if geom.geom_type == "GeometryCollection":  # the repair may add stray lines: keep the polygons
            parts = [p for g in geom.geoms for p in (g.geoms if g.geom_type == "MultiPolygon" else [g])
                     if isinstance(p, Polygon)]
            geom = parts[0] if len(parts) == 1 else MultiPolygon(parts)
        g = mapping(geom)
        out.append({"type": "Feature", "properties": feat["properties"],
                    "geometry": {"type": g["type"], "coordinates": _round_coords(json.loads(json.dumps(g["coordinates"])), decimals)}})
    return {"type": "FeatureCollection", "features": out}


def read_geojson(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write_geojson(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def write_csv(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, lineterminator="\n")


def read_csv(path: Path, **kw) -> pd.DataFrame:
    """Everything as text: codes keep their leading zeros, numbers are written back unchanged."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, **kw)


# --- statistical secrecy --------------------------------------------------------------------

def _is_small(value) -> bool:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return False
    return 0 < v < THRESHOLD


def mask_table(df: pd.DataFrame, counts: list[str], derived: dict[str, str] | None = None) -> int:
    """Empty every count of 1 to 10 (in place) and the percentages derived from it; return how many.

    `derived` maps a percentage column to the count it was computed from.
    """
    masked = 0
    for column in counts:
        small = df[column].map(_is_small)
        masked += int(small.sum())
        for pct, source in (derived or {}).items():
            if source == column:
                df.loc[small, pct] = ""
        df.loc[small, column] = ""
    return masked


def mask_feature_counts(data: dict, counts: list[str], derived: dict[str, str] | None = None) -> int:
    """The same for GeoJSON properties (masked values become null)."""
    masked = 0
    for feat in data["features"]:
        props = feat["properties"]
        for f in counts:
            if props.get(f) is not None and _is_small(props[f]):
                props[f] = None
                masked += 1
                for pct, source in (derived or {}).items():
                    if source == f:
                        props[pct] = None
    return masked


# --- communes -------------------------------------------------------------------------------

def _cog(src: Path) -> pd.DataFrame:
    return read_csv(src / "admin/communes_2026.csv")


def _add_commune_codes(data: dict, src: Path, departement: str, name_field: str) -> None:
    """Add `code_commune` (COG) from a commune name, so the territory filter works by code."""
    communes = _cog(src)
    communes = communes[(communes["departement"] == departement) & (communes["type"] == "commune-actuelle")]
    by_name = dict(zip(communes["nom"], communes["code"]))
    for feat in data["features"]:
        name = feat["properties"][name_field]
        if name not in by_name:
            raise ValueError(f"commune '{name}' not found in department {departement} (COG 2026)")
        feat["properties"]["code_commune"] = by_name[name]


def _departement_of_qp(code_qp: str) -> str:
    """QP0ddnnn → dd (QP02Annn → 2A); QP97dnnn → 97d."""
    digits = code_qp[2:5]
    return digits if digits.startswith("97") else digits[1:]


#: Communes renamed between the QPV tables (2022) and the COG 2026: (department, old name) → code.
RENAMED_COMMUNES = {("69", "grigny"): "69096",  # Grigny-sur-Rhône
                    ("76", "oissel"): "76484",  # Oissel-sur-Seine
                    ("95", "éragny"): "95218"}  # Éragny-sur-Oise


#: Communes merged since 2022 whose code the new commune did not keep: old code → new commune.
MERGED_INTO = {"69152": "69149",  # Pierre-Bénite → Oullins-Pierre-Bénite (2024)
               "93059": "93066"}  # Pierrefitte-sur-Seine → Saint-Denis (2025)


def qpv2015_communes(src: Path) -> dict[str, str]:
    """Commune codes (COG 2026, space-separated) of every QPV 2015, from the names of the DEMO table.

    A QPV may straddle several communes (or Marseille arrondissements): all are listed. Names are
    matched within the QPV's department, then (a QPV may straddle a department boundary) among the
    names that are unique in France; a commune merged since (now a delegated commune) maps to the
    commune that absorbed it; a renamed one goes through RENAMED_COMMUNES.
    """
    cog = _cog(src)
    index: dict[tuple[str, str], str] = dict(RENAMED_COMMUNES)
    national: dict[str, list[str]] = {}
    current = cog[cog["type"].isin(["commune-actuelle", "arrondissement-municipal"])]
    current_codes = set(current["code"])
    for r in current.itertuples():
        index[(r.departement, r.nom.lower())] = r.code
        national.setdefault(r.nom.lower(), []).append(r.code)
    # The COG file gives no parent for delegated communes: the new commune usually keeps the code
    # of one of them; the others are in MERGED_INTO.
    for r in cog[cog["type"] == "commune-deleguee"].itertuples():
        parent = r.code if r.code in current_codes else MERGED_INTO.get(r.code)
        if parent:
            index.setdefault((r.departement, r.nom.lower()), parent)
    demo = read_csv(src / "insee/qp2015_demographie_caf_DEMO_2022.csv")
    out, missing = {}, []
    for code_qp, names in zip(demo["CODGEO"], demo["LIB_COM"]):
        dep = _departement_of_qp(code_qp)
        codes = []
        for name in names.split(", "):
            code = index.get((dep, name.lower()))
            if code is None and len(national.get(name.lower(), [])) == 1:
                code = national[name.lower()][0]
            if code is None:
                missing.append(f"{code_qp}: {name}")
            elif code not in codes:
                codes.append(code)
        out[code_qp] = " ".join(codes)
    if missing:
        raise ValueError("QPV communes not found in the COG 2026: " + "; ".join(missing))
    return out


def _insert_after(df: pd.DataFrame, after: str, column: str, values) -> pd.DataFrame:
    df = df.copy()
    df.insert(list(df.columns).index(after) + 1, column, values)
    return df


# --- one function per shipped file ----------------------------------------------------------

def admin_tables(src: Path, dst: Path) -> int:
    communes = _cog(src)
    keep = ["code", "nom", "type", "departement", "region", "commune_parente", "population"]
    # Delegated and associated communes are not statistical units: keep current communes and
    # municipal arrondissements (Paris, Lyon, Marseille), the units of INSEE's codes.
    communes = communes[communes["type"].isin(["commune-actuelle", "arrondissement-municipal"])]
    write_csv(communes[keep], dst / "admin/communes_2026.csv")
    epci = read_csv(src / "admin/epci_communes_2026.csv")
    write_csv(epci, dst / "admin/epci_communes_2026.csv")
    for name in ("departements_2026.csv", "regions_2026.csv", "epci_2026.csv"):
        write_csv(read_csv(src / "admin" / name), dst / "admin" / name)
    return 0


def admin_contours(src: Path, dst: Path) -> int:
    """The communes of the eight departments of the labs in one file, and the departments."""
    features = []
    for path in sorted((src / "admin/contours").glob("communes-*_2018.geojson")):
        departement = path.name.split("-")[1]
        data = simplify_geojson(read_geojson(path), tolerance=0.0002, decimals=4)
        for feat in data["features"]:
            feat["properties"] = {"code": feat["properties"]["code"], "nom": feat["properties"]["nom"],
                                  "departement": departement}
        features += data["features"]
    write_geojson({"type": "FeatureCollection", "features": features}, dst / "admin/communes_contours_2018.geojson")
    deps = simplify_geojson(read_geojson(src / "admin/contours/departements-version-simplifiee_2018.geojson"),
                            tolerance=0.002, decimals=4)
    write_geojson(deps, dst / "admin/departements_contours_2018.geojson")
    return 0


def rennes_iris(src: Path, dst: Path) -> int:
    data = read_geojson(src / "insee/rennes_iris2024_rp2022_population.geojson")
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
    data = read_geojson(src / "qpv/qp2015_ille_et_vilaine_contours.geojson")
    data = simplify_geojson(data, tolerance=0.00002)
    masked = mask_feature_counts(data, ["population", "demandeurs_emploi"])
    _add_commune_codes(data, src, "35", name_field="commune_qp")
    write_geojson(data, dst / "qpv/qp2015_ille_et_vilaine_contours.geojson")
    return masked


def qpv_marseille(src: Path, dst: Path) -> int:
    data = simplify_geojson(read_geojson(src / "qpv/qp2015_marseille_contours.geojson"), tolerance=0.00002)
    communes = qpv2015_communes(src)
    cog = _cog(src)
    by_name = dict(zip(cog.loc[cog["departement"] == "13", "nom"], cog.loc[cog["departement"] == "13", "code"]))
    for feat in data["features"]:
        p = feat["properties"]
        m = re.match(r"Marseille (\d+)", p["commune_qp"])
        # "Marseille 10ème arrondissement" → the arrondissement's COG code, 13210
        p["code_commune"] = f"132{int(m.group(1)):02d}" if m else by_name[p["commune_qp"]]
        p["codes_communes"] = communes[p["code_qp"]]
    write_geojson(data, dst / "qpv/qp2015_marseille_contours.geojson")
    return 0


def qpv_occitanie(src: Path, dst: Path) -> int:
    data = simplify_geojson(read_geojson(src / "qpv/qp2015_occitanie_contours.geojson"), tolerance=0.00002)
    communes = qpv2015_communes(src)
    for feat in data["features"]:
        feat["properties"]["codes_communes"] = communes[feat["properties"]["code_qp"]]
    write_geojson(data, dst / "qpv/qp2015_occitanie_contours.geojson")
    return 0


def qpv2024_list(src: Path, dst: Path) -> int:
    """The national list of the 2024 QPV by commune, with the arrondissements where contours tell.

    The list names the whole commune for Paris, Lyon and Marseille; the 2024 contours of
    Marseille say in which arrondissements each of its QPV lies (`codes_communes`), so that a lab
    run on one arrondissement gets its own QPV, not the city's.
    """
    df = read_csv(src / "qpv/qp2024_liste_communes.csv")
    where = {code: codes.split() for code, codes in qpv2024_marseille_communes(src).items()}
    df = _insert_after(df, "lib_com", "codes_communes", [
        " ".join([com] + [c for c in where.get(qp, []) if c.startswith("132") and com == "13055"])
        for qp, com in zip(df["code_qp"], df["insee_com"])])
    write_csv(df, dst / "qpv/qp2024_liste_communes.csv")
    return 0


# --- Marseille in the 2024 geography (round 3) ----------------------------------------------

#: A QPV belongs to an arrondissement or commune where at least this share of its surface lies
#: (the contours of the two sources do not fit to the metre).
MIN_SHARE_IN_COMMUNE = 0.01


def _arrondissement_shapes(src: Path) -> dict[str, object]:
    """Marseille's 16 arrondissements (the IGN IRIS contours merged) and Lyon's 9 (IRIS 2025)."""
    import shapely
    from shapely.geometry import shape

    by_code: dict[str, list] = {}
    for feat in read_geojson(src / "admin/contours/iris_aix_marseille_provence_ign_pre2016.geojson")["features"]:
        code = feat["properties"]["DEPCOM"]
        if code.startswith("132"):
            by_code.setdefault(code, []).append(shape(feat["geometry"]).buffer(0))
    for feat in read_geojson(src / "heat/lyon_iris_lcz2022_heat_score.geojson")["features"]:
        by_code.setdefault(feat["properties"]["code_iris"][:5], []).append(shape(feat["geometry"]).buffer(0))
    return {code: shapely.union_all(parts) for code, parts in sorted(by_code.items())}


def qpv2024_marseille_communes(src: Path) -> dict[str, str]:
    """For each 2024 QPV of Marseille: the commune (13055), its arrondissements and the other
    communes it touches (Lambert-93 surfaces), space-separated, in code order."""
    import geopandas as gpd
    from shapely.geometry import shape

    qpv = read_geojson(src / "qpv/qp2024_marseille_contours.geojson")["features"]
    zones = gpd.GeoDataFrame({"code_qp": [f["properties"]["code_qp"] for f in qpv]},
                             geometry=[shape(f["geometry"]) for f in qpv], crs=4326).to_crs(2154)
    arrondissements = _arrondissement_shapes(src)
    others = [f for f in read_geojson(src / "admin/contours/communes-13-bouches-du-rhone_2018.geojson")["features"]
              if f["properties"]["code"] != "13055"]
    areas = gpd.GeoDataFrame(
        {"code": [c for c in arrondissements if c.startswith("132")] + [f["properties"]["code"] for f in others]},
        geometry=[g for c, g in arrondissements.items() if c.startswith("132")] + [shape(f["geometry"]) for f in others],
        crs=4326).to_crs(2154)
    out = {}
    for code_qp, zone in zip(zones["code_qp"], zones.geometry):
        share = areas.geometry.intersection(zone).area / zone.area
        codes = sorted(set(areas.loc[(share >= MIN_SHARE_IN_COMMUNE).to_numpy(), "code"]))
        if any(c.startswith("132") for c in codes):
            codes = sorted(set(codes) | {"13055"})
        out[code_qp] = " ".join(codes)
    return out


def qpv2024_marseille(src: Path, dst: Path) -> int:
    """The 41 QPV 2024 of Marseille, with the codes of the communes and arrondissements they touch.

    `zonage_ars` (the ARS medical zoning added by the carrying project) is not ANCT data and no
    lab uses it: it is left out.
    """
    data = read_geojson(src / "qpv/qp2024_marseille_contours.geojson")
    data = simplify_geojson(data, tolerance=0)
    communes = qpv2024_marseille_communes(src)
    for feat in data["features"]:
        p = feat["properties"]
        feat["properties"] = {"code_qp": p["code_qp"], "lib_qp": p["lib_qp"], "insee_com": p["insee_com"],
                              "dep": p["dep"], "codes_communes": communes[p["code_qp"]]}
    write_geojson(data, dst / "qpv/qp2024_marseille_contours.geojson")
    return 0


def qpv_2015_2024_marseille(src: Path, dst: Path) -> int:
    """The derived 2015 → 2024 overlap of Marseille's QPV, with the 2024 QPV's commune codes."""
    df = read_csv(src / "qpv/qp2015_qp2024_marseille_recouvrement_derive.csv")
    df["codes_communes"] = df["code_qp_2024"].map(qpv2024_marseille_communes(src))
    write_csv(df, dst / "qpv/qp2015_qp2024_marseille_recouvrement_derive.csv")
    return 0


def iris_aix_marseille_provence(src: Path, dst: Path) -> int:
    """IGN IRIS contours of the 92 communes of the Métropole Aix-Marseille-Provence (Marseille's
    IRIS by arrondissement), under the column names of the other IRIS layers."""
    data = simplify_geojson(read_geojson(src / "admin/contours/iris_aix_marseille_provence_ign_pre2016.geojson"),
                            tolerance=0.00008)
    for feat in data["features"]:
        p = feat["properties"]
        feat["properties"] = {"code_iris": p["code_iris"], "nom_iris": p["NOM_IRIS"], "typ_iris": p["TYP_IRIS"],
                              "code_commune": p["DEPCOM"], "nom_commune": p["NOM_COM"]}
    write_geojson(data, dst / "admin/iris_aix_marseille_provence_contours.geojson")
    return 0


def arrondissements_contours(src: Path, dst: Path) -> int:
    """The arrondissements of Marseille and Lyon, each the union of its IRIS: a lab run on one
    arrondissement keeps what lies in it, not the whole city."""
    from shapely.geometry import mapping

    cog = _cog(src).set_index("code")
    features = [{"type": "Feature", "properties": {"code": code, "nom": cog.at[code, "nom"],
                                                    "commune_parente": cog.at[code, "commune_parente"]},
                 "geometry": mapping(geometry)} for code, geometry in _arrondissement_shapes(src).items()]
    data = simplify_geojson({"type": "FeatureCollection", "features": json.loads(json.dumps(features))},
                            tolerance=0.0001, decimals=4)
    write_geojson(data, dst / "admin/arrondissements_marseille_lyon_contours.geojson")
    return 0


#: Columns of the national QPV tables that count persons, households or recipients.
QPV_TABLE_COUNTS = {
    "DEMO": ["POP_MUN", "POP_COM_QP", "POP_COM", "A", "PERCOU", "AM", "AI", "ACSSENF", "ACAVENF", "AC3ENF",
             "A_NETUD_24", "A_ETUD", "ENF", "ENF_2", "ENF_3_5", "ENF_6_10", "ENF_11_14", "ENF_15_17", "ENF_18_24"],
    "REVN": ["C", "C_C2SNP", "C_C2SP", "A", "APPA", "ARSAS", "AAAH"],
    "IPRO": ["CA", "ABCDE", "ABCDE_F", "ABCDE_H", "ABC", "ABC_F", "ABC_H", "ABC_RSA", "ABC_RSA_F", "ABC_RSA_H",
             "A", "A_F", "A_H", "ABC_25", "ABC_2649", "ABC_50", "ABC_FR", "ABC_E", "ABC_INFCAPBEP", "ABC_CAPBEP",
             "ABC_BAC", "ABC_SUPBAC", "ABC_INFCAPBEP_F", "ABC_CAPBEP_F", "ABC_BAC_F", "ABC_SUPBAC_F",
             "ABC_INFCAPBEP_H", "ABC_CAPBEP_H", "ABC_BAC_H", "ABC_SUPBAC_H", "ABC_DUR1", "ABC_DUR2", "ABC_DUR3",
             "ABC_DUR4", "ABC_DUR1_F", "ABC_DUR2_F", "ABC_DUR3_F", "ABC_DUR4_F", "ABC_DUR1_H", "ABC_DUR2_H",
             "ABC_DUR3_H", "ABC_DUR4_H"],
}

QPV_TABLE_FILES = {
    "DEMO": ("insee/qp2015_demographie_caf_DEMO_2022.csv", "qpv/qp2015_demographie_DEMO_2022.csv"),
    "REVN": ("insee/qp2015_revenus_c2s_REVN_2022.csv", "qpv/qp2015_revenus_c2s_REVN_2022.csv"),
    "IPRO": ("jobs/qp2015_emploi_demandeurs_IPRO_2022.csv", "qpv/qp2015_emploi_IPRO_2022.csv"),
}


def qpv_tables(src: Path, dst: Path) -> int:
    """The three national QPV tables, with the QPV's commune codes added after its name."""
    communes = qpv2015_communes(src)
    masked = 0
    for key, (source, target) in QPV_TABLE_FILES.items():
        df = read_csv(src / source)
        df = _insert_after(df, "LIBGEO", "CODES_COMMUNES", df["CODGEO"].map(communes))
        masked += mask_table(df, QPV_TABLE_COUNTS[key])
        write_csv(df, dst / target)
    return masked


OCCITANIE_COUNTS = ["pop_mun", "pop_com_qp", "pop_com", "percou", "a", "abcde", "abcde_f", "abcde_h",
                    "abc_capbep", "abc_bac", "abc_supbac"]


def qpv_occitanie_indicators(src: Path, dst: Path) -> int:
    df = read_csv(src / "insee/qp2015_occitanie_indicateurs.csv")
    df = _insert_after(df, "nom_commune", "codes_communes", df["code_qp"].map(qpv2015_communes(src)))
    masked = mask_table(df, OCCITANIE_COUNTS)
    write_csv(df, dst / "qpv/qp2015_occitanie_indicateurs.csv")
    return masked


def filosofi(src: Path, dst: Path) -> int:
    national = read_csv(src / "insee/filosofi_2018_iris_france.csv", sep=";")
    write_csv(national, dst / "insee/filosofi_2018_iris_france.csv")  # `;` → `,` like every other file
    write_csv(read_csv(src / "insee/filosofi_2019_iris_villes.csv"), dst / "insee/filosofi_2019_iris_villes.csv")
    return 0


CAF_COUNTS = ["A", "PERCOU", "AI", "AM", "ACSSENF", "ACAVENF", "AC3ENF", "ENF", "ENF_2", "ENF_3_5", "ENF_6_10",
              "ENF_11_14", "ENF_15_17", "ENF_18_24", "A_ETUD", "A_NETUD_24", "AAL", "AAPL", "AAAH", "APPA", "ARSAS"]


def caf_iris(src: Path, dst: Path) -> int:
    df = read_csv(src / "insee/caf_2020_iris_france.csv")
    masked = mask_table(df, CAF_COUNTS)
    write_csv(df, dst / "insee/caf_2020_iris_france.csv")
    return masked


def lyon_iris(src: Path, dst: Path) -> int:
    data = simplify_geojson(read_geojson(src / "insee/lyon_iris_pop2012_chomage.geojson"), tolerance=0.00005)
    for feat in data["features"]:
        p = feat["properties"]
        p.pop("objectid", None)  # an internal row number of the carrying database
        # the names every IRIS layer uses (dataquartiers.layers finds the code and the name by them)
        feat["properties"] = {("code_iris" if k == "id" else "nom_iris" if k == "libiris" else k): v for k, v in p.items()}
    masked = mask_feature_counts(data, ["p12_pop"])
    write_geojson(data, dst / "insee/lyon_iris_pop2012_chomage.geojson")
    return masked


#: Census counts of the elderly tables, and the percentages computed from them.
ELDERLY_COUNTS = ["total_population", "elderly_55_plus", "elderly_55_plus_alone", "elderly_80_plus_alone"]
ELDERLY_DERIVED = {"pct_elderly_55": "elderly_55_plus", "pct_elderly_55_alone": "elderly_55_plus_alone"}
LCZ_CITIES = ["lyon", "nantes", "toulouse", "montpellier"]


def heat_iris(src: Path, dst: Path) -> int:
    features, masked = [], 0
    for city in LCZ_CITIES:
        data = simplify_geojson(read_geojson(src / f"heat/{city}_iris_lcz2022_heat_score.geojson"), tolerance=0.00005)
        for feat in data["features"]:
            p = feat["properties"]
            feat["properties"] = {"ville": city.capitalize(), "code_commune": p["code_iris"][:5], **p}
        masked += mask_feature_counts(data, ELDERLY_COUNTS, ELDERLY_DERIVED)
        features += data["features"]
    write_geojson({"type": "FeatureCollection", "features": features}, dst / "heat/iris_lcz2022_heat_score_4_villes.geojson")
    return masked


def elderly_iris(src: Path, dst: Path) -> int:
    df = read_csv(src / "insee/rp2022_iris_personnes_agees_seules_villes.csv")
    df = _insert_after(df, "IRIS", "code_commune", df["IRIS"].str.slice(0, 5))
    masked = mask_table(df, ELDERLY_COUNTS, ELDERLY_DERIVED)
    write_csv(df, dst / "insee/rp2022_iris_personnes_agees_seules_villes.csv")
    return masked


def marseille_lst(src: Path, dst: Path) -> int:
    """The 200 m squares as a table: the loader rebuilds each square from its INSEE id.

    Seven thousand squares as GeoJSON polygons weigh 2.4 MB; the id (`CRS3035RES200mN…E…`) gives
    the square's lower-left corner in EPSG:3035, so the geometry need not be shipped at all.
    """
    data = read_geojson(src / "heat/marseille_lst_2022-07-15_filosofi2017_carreaux200m.geojson")
    df = pd.DataFrame([f["properties"] for f in data["features"]])
    df["num_people"] = df["num_people"].map(lambda v: f"{v:g}")
    masked = mask_table(df, ["num_people"])
    write_csv(df, dst / "heat/marseille_lst_2022-07-15_carreaux200m.csv")
    return masked


def rennes_jobs(src: Path, dst: Path) -> int:
    df = read_csv(src / "jobs/ille_et_vilaine_offres_emploi.csv")
    # Data minimisation: the employer's name and SIRET are not republished. A sole trader's
    # name or SIRET identifies a person (a title such as "MLLE" catches only some of them), and
    # no lab needs them: the labs use the job (ROME), the contract and the place.
    df = df.drop(columns=["siret", "entreprise"])
    df.insert(0, "id_offre", range(1, len(df) + 1))
    write_csv(df, dst / "jobs/ille_et_vilaine_offres_emploi.csv")
    return 0


def health(src: Path, dst: Path) -> int:
    for name in ("cepidc_mortalite_2023_dept_causes.csv", "cepidc_mortalite_toutes_causes_dept_2010_2023.csv"):
        write_csv(read_csv(src / "health" / name), dst / "health" / name)
    drees = read_csv(src / "health/drees_medecins_rpps_2013_2014.csv")
    level = drees["code_zone"].map(lambda c: "departement" if c else None)
    level = level.fillna(drees["zone_inscription"].map(
        lambda z: "france" if z.upper().startswith("FRANCE") or z == "DOM-COM" else "region"))
    drees.insert(2, "niveau", level)
    write_csv(drees, dst / "health/drees_medecins_rpps_2013_2014.csv")
    return 0


def synthetic_tables(src: Path, dst: Path) -> int:
    synthetic.write_all(dst)
    return 0


STEPS = [admin_tables, admin_contours, arrondissements_contours, rennes_iris, qpv_ille_et_vilaine, qpv_marseille,
         qpv_occitanie, qpv2024_list, qpv2024_marseille, qpv_2015_2024_marseille, iris_aix_marseille_provence, qpv_tables, qpv_occitanie_indicators, filosofi, caf_iris, lyon_iris, heat_iris,
         elderly_iris, marseille_lst, rennes_jobs, health, synthetic_tables]


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m booktools.prepare",
                            description="Refaire les fichiers de datasets/ à partir des données ouvertes rassemblées "
                                        "(mainteneurs ; la construction ne lit que datasets/).")
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE, metavar="DOSSIER",
                        help=f"le dossier des données ouvertes (défaut : {DEFAULT_SOURCE})")
    src = parser.parse_args(argv).source
    if not src.is_dir():
        print(f"python -m booktools.prepare : dossier source {src} introuvable (donnez le chemin de shared/opendata)",
              file=sys.stderr)
        return 1
    for step in STEPS:
        masked = step(src, TARGET)
        print(f"{step.__name__} : fait" + (f", {masked} petit(s) effectif(s) masqué(s)" if masked else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
