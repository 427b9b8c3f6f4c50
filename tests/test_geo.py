"""Distances and spatial counts in Lambert-93, checked against values computed by hand.

The fixtures are drawn directly in Lambert-93 (metres) so every expected value can be worked out
on paper (3-4-5 triangles, means of two numbers); the same points are also passed in WGS84 to
check that the module reprojects before measuring.
"""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from dataquartiers import geo

L93 = "EPSG:2154"
# A and B form a 3-4-5 triangle scaled by 1000: |AB| = 5000 m. |AC| = 10000 m.
# |BC| = sqrt(3000² + 6000²) = sqrt(45 000 000) = 6708.2039 m.
A, B, C, D = (700_000, 6_600_000), (703_000, 6_604_000), (700_000, 6_610_000), (700_500, 6_600_500)


def points(coords, names, crs=L93):
    return gpd.GeoDataFrame({"nom": names}, geometry=[Point(*c) for c in coords], crs=crs)


@pytest.fixture
def origin():
    return points([A], ["A"])


@pytest.fixture
def destinations():
    return points([B, C], ["B", "C"])


@pytest.fixture
def zones():
    # P1 contains A and D, P2 contains B, C is in neither.
    return gpd.GeoDataFrame({"code": ["P1", "P2"]},
                            geometry=[box(699_000, 6_599_000, 701_000, 6_601_000),
                                      box(702_000, 6_603_000, 704_000, 6_605_000)], crs=L93)


def test_distance_matrix_by_hand(origin, destinations):
    d = geo.distance_matrix(points([A, B], ["A", "B"]), destinations)
    assert d.shape == (2, 2)
    assert d.iloc[0, 0] == pytest.approx(5000.0)
    assert d.iloc[0, 1] == pytest.approx(10000.0)
    assert d.iloc[1, 0] == pytest.approx(0.0)
    assert d.iloc[1, 1] == pytest.approx(math.sqrt(45_000_000))  # 6708.2039 m


def test_distances_are_measured_in_lambert93_whatever_the_input_crs(origin, destinations):
    # The same points given in longitude/latitude: the module must reproject before measuring.
    d = geo.distance_matrix(origin.to_crs(4326), destinations.to_crs(4326))
    assert d.iloc[0, 0] == pytest.approx(5000.0, abs=0.01)
    assert d.iloc[0, 1] == pytest.approx(10000.0, abs=0.01)


def test_nearest_distance_mean_of_k_nearest(origin, destinations):
    assert geo.nearest_distance(origin, destinations, k=1).iloc[0] == pytest.approx(5000.0)
    assert geo.nearest_distance(origin, destinations, k=2).iloc[0] == pytest.approx(7500.0)  # (5000 + 10000) / 2
    # fewer destinations than k: the mean of all of them
    assert geo.nearest_distance(origin, destinations, k=5).iloc[0] == pytest.approx(7500.0)
    # no destination at all: unknown, not zero
    assert math.isnan(geo.nearest_distance(origin, destinations.iloc[0:0], k=1).iloc[0])


def test_nearest_distance_refuses_bad_k(origin, destinations):
    with pytest.raises(ValueError, match="k doit être un nombre entier ≥ 1, reçu 0"):
        geo.nearest_distance(origin, destinations, k=0)


def test_count_within_is_inclusive(origin, destinations):
    assert geo.count_within(origin, destinations, 5000).tolist() == [1]
    assert geo.count_within(origin, destinations, 4999.9).tolist() == [0]
    assert geo.count_within(origin, destinations, 10_000).tolist() == [2]
    assert geo.count_within(origin, destinations.iloc[0:0], 10_000).tolist() == [0]
    with pytest.raises(ValueError, match="le rayon doit être une distance en mètres ≥ 0, reçu -1"):
        geo.count_within(origin, destinations, -1)


def test_polygons_stand_for_their_centroid(zones, origin):
    # P1's centroid is (700000, 6600000) = A; P2's is (703000, 6604000) = B.
    d = geo.distance_matrix(zones, origin)
    assert d[0].tolist() == pytest.approx([0.0, 5000.0])
    c = geo.centroids(zones.to_crs(4326))
    assert c.crs.to_epsg() == 4326 and (c.geom_type == "Point").all()
    assert c.to_crs(L93).geometry.iloc[1].distance(Point(*B)) == pytest.approx(0.0, abs=0.01)


def test_weighted_centroid_by_hand():
    squares = gpd.GeoDataFrame({"population": [1, 3, None]},
                               geometry=[box(700_000, 6_600_000, 700_100, 6_600_100),   # centre (700050, 6600050)
                                         box(700_200, 6_600_000, 700_300, 6_600_100),   # centre (700250, 6600050)
                                         box(800_000, 6_700_000, 800_100, 6_700_100)],  # missing weight: left out
                               crs=L93)
    centre = geo.weighted_centroid(squares, squares["population"])
    # x = (1 × 700050 + 3 × 700250) / 4 = 700200
    assert (centre.x, centre.y) == pytest.approx((700_200.0, 6_600_050.0))
    in_degrees = geo.weighted_centroid(squares.to_crs(4326), squares["population"])
    back = gpd.GeoSeries([in_degrees], crs=4326).to_crs(L93).iloc[0]
    assert back.distance(Point(700_200, 6_600_050)) < 0.01
    with pytest.raises(ValueError, match="la somme des poids est nulle"):
        geo.weighted_centroid(squares, [0, 0, None])


def test_polygon_of_and_within(zones):
    pts = points([A, B, C, D], ["A", "B", "C", "D"]).to_crs(4326)
    assert geo.polygon_of(pts, zones, "code").tolist()[:2] == ["P1", "P2"]
    assert pd.isna(geo.polygon_of(pts, zones, "code").iloc[2])
    assert geo.within_polygons(pts, zones).tolist() == [True, True, False, True]
    assert geo.count_in_polygons(pts, zones).tolist() == [2, 1]  # P1: A and D; P2: B
    with pytest.raises(KeyError, match="polygon_of : pas de colonne « nom_qp » dans les polygones"):
        geo.polygon_of(pts, zones, "nom_qp")


def test_results_keep_the_input_index(zones):
    pts = points([A, C], ["A", "C"]).set_index(pd.Index([10, 20]))
    assert geo.within_polygons(pts, zones).index.tolist() == [10, 20]
    assert geo.count_within(pts, pts, 0).index.tolist() == [10, 20]
    assert geo.count_in_polygons(pts, zones.set_index("code")).to_dict() == {"P1": 1, "P2": 0}


def test_weighted_mean_by_hand():
    # (10 × 1 + 20 × 3) / 4 = 17.5; the pair with a missing value is left out
    assert geo.weighted_mean([10, 20, None], [1, 3, 5]) == pytest.approx(17.5)
    assert math.isnan(geo.weighted_mean([10, None], [0, 2]))
    with pytest.raises(ValueError, match="2 valeurs mais 3 poids"):
        geo.weighted_mean([1, 2], [1, 2, 3])


def test_points_from_lonlat():
    table = pd.DataFrame({"longitude": [-1.68, -2.0], "latitude": [48.11, 48.65], "id": [1, 2]})
    gdf = geo.points_from_lonlat(table)
    assert gdf.crs.to_epsg() == 4326 and gdf.geometry.iloc[0].x == pytest.approx(-1.68)
    assert gdf["id"].tolist() == [1, 2]
    with pytest.raises(ValueError, match="1 ligne\\(s\\) sans coordonnées dans « longitude »/« latitude »"):
        geo.points_from_lonlat(table.assign(latitude=[48.1, None]))
    with pytest.raises(ValueError, match="colonnes inversées, ou déjà projetées"):
        geo.points_from_lonlat(table.assign(longitude=[350_000.0, 351_000.0]))
    with pytest.raises(KeyError, match="pas de colonne « lon »"):
        geo.points_from_lonlat(table, lon="lon")


def test_bad_inputs_say_what_is_wrong(origin):
    no_crs = gpd.GeoDataFrame(geometry=[Point(*A)])
    with pytest.raises(ValueError, match="distance_matrix \\(origins\\) : le GeoDataFrame n'a pas de système de coordonnées"):
        geo.distance_matrix(no_crs, origin)
    with pytest.raises(TypeError, match="to_lambert93 : il faut un GeoDataFrame, pas un DataFrame"):
        geo.to_lambert93(pd.DataFrame({"x": [1]}))
    empty = gpd.GeoDataFrame(geometry=[None], crs=L93)
    with pytest.raises(ValueError, match="1 ligne\\(s\\) sans géométrie"):
        geo.count_within(empty, origin, 10)


def test_accessibility_gathers_the_three_measures(origin, destinations):
    table = geo.accessibility(points([A, C], ["A", "C"]), destinations, radius_m=6000, k=2)
    # A: B at 5 km, C at 10 km → 1 within 6 km, nearest 5 km, mean of 2 nearest 7.5 km
    # C: C at 0 km, B at 6.708 km → 1 within 6 km, nearest 0 km, mean (0 + 6.708) / 2 = 3.354 km
    assert table["nombre_dans_rayon"].tolist() == [1, 1]
    assert table["plus_proche_km"].tolist() == pytest.approx([5.0, 0.0])
    assert table["moyenne_k_km"].tolist() == pytest.approx([7.5, math.sqrt(45_000_000) / 2000])
    none = geo.accessibility(origin, destinations.iloc[0:0], radius_m=1000)
    assert none["nombre_dans_rayon"].tolist() == [0] and math.isnan(none["plus_proche_km"].iloc[0])
    with pytest.raises(ValueError, match="accessibility : k doit être un nombre entier ≥ 1, reçu 2.5"):
        geo.accessibility(origin, destinations, radius_m=1000, k=2.5)


# --- without GeoPandas (a browser's Python that lacks it) ----------------------------------------

def test_the_module_imports_and_computes_without_geopandas(monkeypatch):
    """`from dataquartiers import geo` and its plain computations run where GeoPandas, shapely and
    pyproj cannot be imported; a function that needs them says which module is missing."""
    import importlib
    import sys

    import dataquartiers

    monkeypatch.setattr(dataquartiers, "geo", geo)  # put back after the test, like sys.modules
    for name in list(sys.modules):
        if name.split(".")[0] in ("geopandas", "shapely", "pyproj") or name == "dataquartiers.geo":
            monkeypatch.delitem(sys.modules, name)
    for name in ("geopandas", "shapely", "pyproj"):
        monkeypatch.setitem(sys.modules, name, None)  # `import geopandas` raises ModuleNotFoundError
    bare = importlib.import_module("dataquartiers.geo")
    assert bare is not geo
    assert bare.weighted_mean([30.0, 36.0, None], [1, 2, 5]) == pytest.approx(34.0)
    with pytest.raises(ModuleNotFoundError, match="geopandas"):
        bare.points_from_lonlat(pd.DataFrame({"longitude": [5.04], "latitude": [47.32]}))
    with pytest.raises(ModuleNotFoundError, match="geopandas"):
        bare.centroids(pd.DataFrame({"x": [1]}))
