"""Distances and spatial counts in metres, the way the labs need them.

Why this module exists: the data of the book is in WGS84 (longitude, latitude in degrees), where
a "distance" between two coordinates means nothing in metres. Every measure here is taken in
Lambert-93 (EPSG:2154), the official projection of mainland France, where one unit is one metre
(to within a few metres per kilometre anywhere in mainland France). Results come back as pandas
objects indexed like the input, so a lab can join them to its tables.

Places are points. A polygon (an IRIS, a QPV, a 200 m square) stands for where its people live
through its centroid, computed in Lambert-93 (a centroid computed in degrees is slightly off).
Distances are straight lines ("as the crow flies"): no street, no bus line, no travel time.

Everything is computed with shapely, pyproj and numpy: it runs under Pyodide (no GDAL, no
thread, no network). GeoPandas (with shapely and pyproj) is imported by the functions that need
it, not by the module: a lab that imports `geo` for a plain computation (`weighted_mean`) runs
where GeoPandas is missing (tests/test_geo.py imports the module with GeoPandas blocked).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .data import LabKeyError, LabTypeError, LabValueError

if TYPE_CHECKING:
    import geopandas as gpd
    from shapely.geometry import Point

#: Lambert-93, the projection in which every distance of this module is measured (metres).
LAMBERT_93 = "EPSG:2154"
WGS84 = "EPSG:4326"


def _check_frame(gdf, what: str) -> None:
    import geopandas as gpd

    if not isinstance(gdf, gpd.GeoDataFrame | gpd.GeoSeries):
        raise LabTypeError(f"{what} : il faut un GeoDataFrame, pas un {type(gdf).__name__}")
    if gdf.crs is None:
        raise LabValueError(f"{what} : le GeoDataFrame n'a pas de système de coordonnées (CRS) ; "
                           "donnez-le d'abord, par exemple gdf.set_crs('EPSG:4326') pour des longitudes/latitudes")
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    if missing.any():
        raise LabValueError(f"{what} : {int(missing.sum())} ligne(s) sans géométrie "
                           f"(index {list(gdf.index[missing][:5])})")


def to_lambert93(gdf):
    """The same GeoDataFrame reprojected to Lambert-93 (coordinates in metres)."""
    _check_frame(gdf, "to_lambert93")
    return gdf.to_crs(LAMBERT_93)


def points_from_lonlat(df: pd.DataFrame, lon: str = "longitude", lat: str = "latitude") -> gpd.GeoDataFrame:
    """A table with longitude/latitude columns (WGS84) as a GeoDataFrame of points.

    Rows without coordinates are refused rather than dropped silently: a lab must say how many
    it leaves out.
    """
    for column in (lon, lat):
        if column not in df.columns:
            raise LabKeyError(f"points_from_lonlat : pas de colonne « {column} » (colonnes : {', '.join(map(str, df.columns))})")
    x = pd.to_numeric(df[lon], errors="coerce").astype("float64")
    y = pd.to_numeric(df[lat], errors="coerce").astype("float64")
    missing = x.isna() | y.isna()
    if missing.any():
        raise LabValueError(f"points_from_lonlat : {int(missing.sum())} ligne(s) sans coordonnées "
                           f"dans « {lon} »/« {lat} » ; retirez-les d'abord, et dites combien")
    if not (x.between(-180, 180).all() and y.between(-90, 90).all()):
        raise LabValueError(f"points_from_lonlat : « {lon} »/« {lat} » ne sont pas des longitudes/latitudes en degrés "
                           "(valeurs hors bornes) : colonnes inversées, ou déjà projetées ?")
    import geopandas as gpd

    return gpd.GeoDataFrame(df.copy(), geometry=gpd.points_from_xy(x, y), crs=WGS84)


def centroids(gdf) -> gpd.GeoDataFrame:
    """The same rows with each geometry replaced by its centroid, computed in Lambert-93.

    The result keeps the CRS of the input (so it can go on a WGS84 map as it is).
    """
    _check_frame(gdf, "centroids")
    out = gdf.copy()
    out = out.set_geometry(gdf.to_crs(LAMBERT_93).geometry.centroid.to_crs(gdf.crs).to_numpy())
    return out


def _xy(gdf, what: str) -> np.ndarray:
    """Lambert-93 coordinates (n × 2, metres) of the points, or of the polygons' centroids."""
    _check_frame(gdf, what)
    geometry = gdf.to_crs(LAMBERT_93).geometry
    if not (geometry.geom_type == "Point").all():
        geometry = geometry.centroid
    return np.column_stack([geometry.x.to_numpy(), geometry.y.to_numpy()])


def weighted_centroid(gdf, weights) -> Point:
    """The centre of gravity of the areas, each weighted (e.g. by its population).

    Returned as a point in the CRS of the input. Areas with a missing weight are left out; a
    total weight of zero has no centre and raises ValueError.
    """
    xy = _xy(gdf, "weighted_centroid")
    w = pd.to_numeric(pd.Series(weights, index=gdf.index), errors="coerce").astype("float64").to_numpy()
    if (w < 0).any():
        raise LabValueError("weighted_centroid : les poids ne doivent pas être négatifs")
    known = ~np.isnan(w)
    total = w[known].sum()
    if not known.any() or total == 0:
        raise LabValueError("weighted_centroid : la somme des poids est nulle (ou tous manquent) : pas de centre")
    x, y = (xy[known] * w[known, None]).sum(axis=0) / total
    import geopandas as gpd
    from shapely.geometry import Point

    point = gpd.GeoSeries([Point(x, y)], crs=LAMBERT_93).to_crs(gdf.crs)
    return point.iloc[0]


def distance_matrix(origins, destinations) -> pd.DataFrame:
    """Straight-line distance in metres from every origin (rows) to every destination (columns)."""
    a, b = _xy(origins, "distance_matrix (origins)"), _xy(destinations, "distance_matrix (destinations)")
    d = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    return pd.DataFrame(d, index=origins.index, columns=destinations.index)


def nearest_distance(origins, destinations, k: int = 1) -> pd.Series:
    """Mean distance (metres) from each origin to its `k` nearest destinations.

    `k=1` is the distance to the nearest one. With fewer than `k` destinations the mean is taken
    over all of them; with none, the distance is NaN (unknown, not zero).
    """
    if int(k) != k or k < 1:
        raise LabValueError(f"nearest_distance : k doit être un nombre entier ≥ 1, reçu {k!r}")
    if len(destinations) == 0:
        return pd.Series(np.nan, index=origins.index, dtype="float64", name="distance_m")
    d = np.sort(distance_matrix(origins, destinations).to_numpy(), axis=1)[:, : int(k)]
    return pd.Series(d.mean(axis=1), index=origins.index, name="distance_m")


def count_within(origins, destinations, radius_m: float) -> pd.Series:
    """How many destinations lie within `radius_m` metres (inclusive) of each origin."""
    if radius_m is None or pd.isna(radius_m) or radius_m < 0:
        raise LabValueError(f"count_within : le rayon doit être une distance en mètres ≥ 0, reçu {radius_m!r}")
    if len(destinations) == 0:
        return pd.Series(0, index=origins.index, dtype="int64", name="nombre")
    d = distance_matrix(origins, destinations).to_numpy()
    return pd.Series((d <= radius_m).sum(axis=1), index=origins.index, name="nombre")


def accessibility(origins, destinations, *, radius_m: float, k: int = 10) -> pd.DataFrame:
    """Three measures of how near the destinations are to each origin, from one distance matrix.

    Columns: `nombre_dans_rayon` (destinations within `radius_m` metres, inclusive),
    `plus_proche_km` (distance to the nearest one) and `moyenne_k_km` (mean distance to the `k`
    nearest ones), distances in kilometres. No destination at all: 0 within the radius, NaN
    distances.
    """
    if radius_m is None or pd.isna(radius_m) or radius_m < 0:
        raise LabValueError(f"accessibility : le rayon doit être une distance en mètres ≥ 0, reçu {radius_m!r}")
    if int(k) != k or k < 1:
        raise LabValueError(f"accessibility : k doit être un nombre entier ≥ 1, reçu {k!r}")
    if len(destinations) == 0:
        return pd.DataFrame({"nombre_dans_rayon": 0, "plus_proche_km": np.nan, "moyenne_k_km": np.nan},
                            index=origins.index)
    d = np.sort(distance_matrix(origins, destinations).to_numpy(), axis=1)
    return pd.DataFrame({"nombre_dans_rayon": (d <= radius_m).sum(axis=1),
                         "plus_proche_km": d[:, 0] / 1000,
                         "moyenne_k_km": d[:, : int(k)].mean(axis=1) / 1000}, index=origins.index)


def _points(gdf, what: str):
    """Points as they are, polygons through their centroid (Lambert-93), in the input CRS."""
    _check_frame(gdf, what)
    if (gdf.geometry.geom_type == "Point").all():
        return gdf.geometry
    return gdf.to_crs(LAMBERT_93).geometry.centroid.to_crs(gdf.crs)


def polygon_of(points, polygons, column: str) -> pd.Series:
    """For each point (or area, through its centroid), `column` of the polygon that contains it.

    NA for a point in no polygon. A point on the shared edge of two polygons takes the first one.
    """
    import geopandas as gpd

    _check_frame(polygons, "polygon_of (polygons)")
    if column not in polygons.columns:
        raise LabKeyError(f"polygon_of : pas de colonne « {column} » dans les polygones "
                          f"(colonnes : {', '.join(map(str, polygons.columns))})")
    pts = gpd.GeoDataFrame({"_row": np.arange(len(points))},
                           geometry=_points(points, "polygon_of (points)").to_numpy(),
                           crs=points.crs).to_crs(LAMBERT_93)
    polys = polygons[[column, polygons.geometry.name]].to_crs(LAMBERT_93)
    joined = gpd.sjoin(pts, polys, how="left", predicate="intersects")
    joined = joined.sort_values("_row", kind="stable").drop_duplicates("_row")
    return pd.Series(joined[column].to_numpy(), index=points.index, name=column)


def within_polygons(points, polygons) -> pd.Series:
    """True for each point (or area, through its centroid) that lies inside one of the polygons."""
    _check_frame(polygons, "within_polygons (polygons)")
    flag = polygons.assign(_in=True)
    found = polygon_of(points, flag, "_in")
    return found.notna().rename("dedans")


def count_in_polygons(points, polygons) -> pd.Series:
    """How many points fall inside each polygon (indexed like the polygons)."""
    import geopandas as gpd

    _check_frame(polygons, "count_in_polygons (polygons)")
    _check_frame(points, "count_in_polygons (points)")
    pts = gpd.GeoDataFrame(geometry=_points(points, "count_in_polygons (points)").to_numpy(),
                           crs=points.crs).to_crs(LAMBERT_93)
    polys = gpd.GeoDataFrame({"_poly": np.arange(len(polygons))},
                             geometry=polygons.to_crs(LAMBERT_93).geometry.to_numpy(), crs=LAMBERT_93)
    joined = gpd.sjoin(polys, pts, how="left", predicate="intersects")
    counts = joined.groupby("_poly")["index_right"].count()
    return pd.Series(counts.reindex(np.arange(len(polygons)), fill_value=0).to_numpy(),
                     index=polygons.index, name="nombre")


def weighted_mean(values, weights) -> float:
    """Mean of `values` weighted by `weights` (e.g. a temperature weighted by population).

    Pairs where either is missing are left out; NaN when no weight remains.
    """
    v = pd.to_numeric(pd.Series(values), errors="coerce").astype("float64").to_numpy()
    w = pd.to_numeric(pd.Series(weights), errors="coerce").astype("float64").to_numpy()
    if len(v) != len(w):
        raise LabValueError(f"weighted_mean : {len(v)} valeurs mais {len(w)} poids")
    if (w < 0).any():
        raise LabValueError("weighted_mean : les poids ne doivent pas être négatifs")
    known = ~(np.isnan(v) | np.isnan(w))
    total = w[known].sum()
    if total == 0:
        return float("nan")
    return float((v[known] * w[known]).sum() / total)
