"""Offline maps: Leaflet inlined, no CDN, classes computed as expected, accessible figure."""

from __future__ import annotations

import re

import geopandas as gpd
import pytest
from shapely.geometry import box

from dataquartiers import maps


@pytest.fixture
def squares():
    return gpd.GeoDataFrame({"nom": ["a", "b", "c", "d", "e"], "valeur": [1.0, 2.0, 3.0, 4.0, None]},
                            geometry=[box(i * 0.01, 48.0, i * 0.01 + 0.009, 48.009) for i in range(5)],
                            crs="EPSG:4326")


def test_quantile_classes_by_hand():
    classes = maps.quantile_classes([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], k=5)
    # quantiles at 0, .2, .4, .6, .8, 1 of 1..10 with linear interpolation
    assert classes.edges == [1.0, 2.8, 4.6, 6.4, 8.2, 10.0]
    assert classes.colour_of(1) == maps.SEQUENTIAL[0]
    assert classes.colour_of(2.8) == maps.SEQUENTIAL[0]
    assert classes.colour_of(2.81) == maps.SEQUENTIAL[1]
    assert classes.colour_of(10) == maps.SEQUENTIAL[4]
    assert classes.colour_of(None) == maps.NO_DATA_COLOUR
    assert classes.labels("{:.1f}")[1] == "2,8 – 4,6"


def test_quantile_classes_with_ties_use_fewer_classes():
    classes = maps.quantile_classes([0] * 9 + [1], k=5)
    assert classes.edges == [0.0, 1.0]
    assert len(classes.colours) == 1


def test_quantile_classes_refuse_empty():
    with pytest.raises(ValueError, match="no value"):
        maps.quantile_classes([None, None])


def test_map_document_inlines_leaflet_and_loads_nothing(squares):
    m = maps.base_map(squares)
    classes = maps.choropleth_layer(m, squares, "valeur", name="test", tooltip={"nom": "Nom"})
    maps.add_legend(m, "Valeur <b>", classes)
    document = m.get_root().render()
    assert "L.map(" in document and "leaflet" in document.lower()
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=", document), "the map loads a file"
    assert not re.search(r"https?://(cdn|code\.jquery|cdnjs|unpkg|netdna)", document)
    assert "Valeur &lt;b&gt;" in document, "legend text must be escaped"
    assert maps.NO_DATA_COLOUR in document  # the missing value is drawn grey


def test_basemap_is_optional_and_online_only(squares):
    document = maps.base_map(squares, basemap=True).get_root().render()
    assert "tile.openstreetmap.org" in document
    assert "openstreetmap" not in maps.base_map(squares).get_root().render().lower()


def test_map_figure_needs_a_text_alternative(squares):
    with pytest.raises(ValueError, match="text alternative"):
        maps.MapFigure(maps.base_map(squares), title="t", alt="  ")
    html = maps.MapFigure(maps.base_map(squares), title="Titre", alt="Ce que montre la carte.")._repr_html_()
    assert 'title="Carte : Titre"' in html and "<figcaption>" in html and "srcdoc=" in html
