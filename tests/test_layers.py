"""Layers by territory, and the overlap of zones with areas (by hand on squares)."""

import geopandas as gpd
import pytest
from shapely.geometry import box

from dataquartiers import layers
from dataquartiers.data import UnknownTerritoryError


def test_qpv_contours_of_rennes():
    qpv = layers.qpv_contours("35238")
    assert len(qpv) == 5 and set(qpv.columns) >= {"code_qp", "nom_qp", "geometry", "source"}


def test_unknown_territory_lists_what_exists():
    with pytest.raises(UnknownTerritoryError, match="QPV contours.*Rennes"):
        layers.qpv_contours("21231")  # Dijon: no QPV 2015 contours shipped


def test_overlap_share_by_hand():
    # Two squares of 1 km side in Lambert-93; the zone straddles them 25 % / 75 %.
    areas = gpd.GeoDataFrame({"iris": ["A", "B"]}, geometry=[box(700000, 6600000, 701000, 6601000),
                                                          box(701000, 6600000, 702000, 6601000)], crs=2154)
    zone = gpd.GeoDataFrame({"qp": ["Q"]}, geometry=[box(700750, 6600000, 701750, 6601000)], crs=2154)
    out = layers.overlap_share(zone.to_crs(4326), areas.to_crs(4326), "qp", "iris")
    assert out["iris"].tolist() == ["B", "A"]
    assert out["share"].round(3).tolist() == [0.75, 0.25]
