"""The map layers a lab needs for a territory, from whichever dataset covers it.

The shipped data come in pieces: QPV 2015 contours for Ille-et-Vilaine, Marseille and Occitanie;
IRIS contours for Rennes (with its census population) and for Lyon, Nantes, Toulouse and
Montpellier (with their LCZ heat score). A lab asks for "the QPV of Toulouse" and gets one
GeoDataFrame, with the same columns whatever the source, or a clear message listing the
territories that have such contours.
"""

from __future__ import annotations

import pandas as pd

from .data import UnknownTerritoryError, load, reads, resources

QPV_CONTOURS = ("qpv2015_ille_et_vilaine", "qpv2015_marseille", "qpv2015_occitanie")
IRIS_CONTOURS = ("rennes_iris_population", "iris_chaleur_lcz")
QPV_COLUMNS = ["code_qp", "nom_qp", "geometry"]
IRIS_COLUMNS = ["code_iris", "nom_iris", "geometry"]


def _first_covering(names: tuple[str, ...], territory: str, columns: list[str], what: str):
    import geopandas as gpd

    available = [n for n in names if n in resources()]
    found, covered = [], []
    for name in available:
        try:
            layer = load(name, territory=territory)
        except UnknownTerritoryError as err:
            covered.append(str(err).split("It covers: ")[-1].rstrip("."))
            continue
        found.append(layer[[c for c in columns if c in layer.columns]].assign(source=name))
    if not found:
        raise UnknownTerritoryError(
            f"No {what} for territory '{territory}'. Datasets with {what} cover: " + "; ".join(covered) + ".")
    return gpd.GeoDataFrame(pd.concat(found, ignore_index=True), geometry="geometry", crs="EPSG:4326")


@reads(*QPV_CONTOURS)
def qpv_contours(territory: str):
    """QPV 2015 contours of a territory (commune, EPCI or department code)."""
    return _first_covering(QPV_CONTOURS, territory, QPV_COLUMNS, "QPV contours")


@reads(*IRIS_CONTOURS)
def iris_contours(territory: str):
    """IRIS contours of a territory (commune, EPCI or department code)."""
    return _first_covering(IRIS_CONTOURS, territory, IRIS_COLUMNS, "IRIS contours")


def overlap_share(zones, areas, zone_id: str, area_id: str) -> pd.DataFrame:
    """For each pair (zone, area) that intersect, the share of the zone's surface in the area.

    Computed in Lambert-93 (EPSG:2154) so surfaces are in square metres. Used to tell which IRIS
    a QPV lies in: a QPV rarely follows IRIS boundaries.
    """
    import geopandas as gpd

    z = zones[[zone_id, "geometry"]].to_crs(2154)
    a = areas[[area_id, "geometry"]].to_crs(2154)
    z = z.assign(_zone_area=z.geometry.area)
    pieces = gpd.overlay(z, a, how="intersection", keep_geom_type=True)
    pieces["share"] = pieces.geometry.area / pieces["_zone_area"]
    return pieces[[zone_id, area_id, "share"]].sort_values([zone_id, "share"], ascending=[True, False]).reset_index(drop=True)
