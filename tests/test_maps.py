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
    assert classes.labels(1)[1] == "2,8 – 4,6"
    assert maps.Classes(edges=[1200.0, 15000.5]).labels(1) == ["1\u202f200,0 – 15\u202f000,5"]  # format_fr


def test_quantile_classes_with_ties_use_fewer_classes():
    classes = maps.quantile_classes([0] * 9 + [1], k=5)
    assert classes.edges == [0.0, 1.0]
    assert len(classes.colours) == 1


def test_quantile_classes_refuse_empty():
    with pytest.raises(ValueError, match="aucune valeur à classer"):
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
    with pytest.raises(ValueError, match="alternative textuelle"):
        maps.MapFigure(maps.base_map(squares), title="t", alt="  ")
    html = maps.MapFigure(maps.base_map(squares), title="Titre", alt="Ce que montre la carte.")._repr_html_()
    assert 'title="Carte : Titre"' in html and "<figcaption>" in html and "srcdoc=" in html


# --- points, radii, categories, layer switcher (added with the jobs and heat labs) -----------

@pytest.fixture
def offers():
    from shapely.geometry import Point
    return gpd.GeoDataFrame({"metier": ["cuisine", "ménage"], "n": [3, 1]},
                            geometry=[Point(-1.68, 48.11), Point(-1.66, 48.12)], crs="EPSG:4326")


def test_categories_colour_and_label_by_name():
    cats = maps.Categories({"chaud et pauvre": "#b2182b", "ni l'un ni l'autre": "#eeeeee"})
    assert cats.colour_of("chaud et pauvre") == "#b2182b"
    assert cats.colour_of("inconnu") == maps.NO_DATA_COLOUR
    assert cats.colour_of(None) == maps.NO_DATA_COLOUR
    assert cats.labels() == ["chaud et pauvre", "ni l'un ni l'autre"]
    with pytest.raises(ValueError, match="au moins une catégorie"):
        maps.Categories({})


def test_category_map_legend_lists_the_categories(squares):
    squares = squares.assign(cat=["a", "b", "a", None, "b"])
    m = maps.base_map(squares)
    cats = maps.Categories({"a": "#b2182b", "b": "#2166ac"})
    maps.choropleth_layer(m, squares, "cat", name="catégories", classes=cats)
    maps.add_legend(m, "Catégorie", cats)
    document = m.get_root().render()
    assert "#b2182b" in document and "#2166ac" in document
    assert re.search(r"</span>a</li>.*</span>b</li>", document, re.S)


def test_point_radius_and_layer_control_load_nothing(squares, offers):
    m = maps.base_map(squares)
    maps.point_layer(m, offers, name="Offres", tooltip={"metier": "Métier"})
    maps.radius_layer(m, squares.iloc[:2], 1500, name="Rayon de 1,5 km", label="nom")
    maps.layer_control(m)
    document = m.get_root().render()
    assert "new L.CircleMarker(latlng" in document  # the offers
    assert document.count("L.circle(") == 2       # one circle per area
    assert '"radius": 1500.0' in document
    assert "L.control.layers(" in document
    assert "Rayon de 1,5 km" in document and "Offres" in document
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=", document), "the map loads a file"


def test_point_layer_refuses_polygons_and_radius_refuses_zero(squares):
    m = maps.base_map(squares)
    with pytest.raises(ValueError, match="point_layer « x » : chaque géométrie doit être un point \\(trouvé : Polygon\\)"):
        maps.point_layer(m, squares, name="x")
    with pytest.raises(ValueError, match="radius_layer « r » : le rayon doit être une distance en mètres > 0, reçu 0"):
        maps.radius_layer(m, squares, 0, name="r")


def test_lighten_rounds_coordinates_and_keeps_rows(squares):
    from shapely.geometry import box
    fine = squares.set_geometry([box(0.1234567, 48.1234567, 0.1299999, 48.1299999)] * 5, crs="EPSG:4326")
    light = maps.lighten(fine, decimals=3)
    assert len(light) == 5 and light["valeur"].tolist()[:4] == [1.0, 2.0, 3.0, 4.0]
    xs, ys = light.geometry.iloc[0].exterior.coords.xy
    assert sorted(set(round(x, 6) for x in xs)) == [0.123, 0.13]
    assert sorted(set(round(y, 6) for y in ys)) == [48.123, 48.13]
    with pytest.raises(ValueError, match="pas de système de coordonnées"):
        maps.lighten(fine.set_crs(None, allow_override=True))


def test_merged_choropleth_draws_one_shape_per_colour():
    from shapely.geometry import box
    # four adjacent cells: two in the low class, one in the high class, one unknown
    cells = gpd.GeoDataFrame({"v": [1.0, 1.0, 2.0, None]},
                             geometry=[box(i * 0.01, 48.0, (i + 1) * 0.01, 48.01) for i in range(4)], crs="EPSG:4326")
    classes = maps.Classes(edges=[0.0, 1.0, 2.0], colours=["#ffffb2", "#bd0026"])
    m = maps.base_map(cells)
    assert maps.merged_choropleth_layer(m, cells, "v", name="cellules", classes=classes) is classes
    document = m.get_root().render()
    features = re.findall(r'"_colour": "(#[0-9a-f]{6})"', document)
    assert sorted(features) == sorted(["#ffffb2", "#bd0026", maps.NO_DATA_COLOUR])  # 3 shapes, not 4 cells
    # labels are JSON-escaped in the document ("0 – 1", "donnée absente ou masquée")
    assert '"classe": "0 \\u2013 1"' in document and "donn\\u00e9e absente ou masqu\\u00e9e" in document
    # the two low cells became one polygon (one ring) spanning both: x from 0 to 0.02
    low = re.search(r'\{"coordinates": \[\[(\[[^{}]*?\])\]\], "type": "Polygon"\}, "properties": \{"_colour": "#ffffb2"', document)
    xs = [float(x) for x in re.findall(r"\[(-?[0-9.]+), ", low.group(1))]
    assert (min(xs), max(xs)) == (0.0, 0.02)


def test_merged_choropleth_with_categories():
    from shapely.geometry import box
    cells = gpd.GeoDataFrame({"case": ["chaud", "frais", "chaud"]},
                             geometry=[box(i * 0.01, 48.0, (i + 1) * 0.01, 48.01) for i in range(3)], crs="EPSG:4326")
    m = maps.base_map(cells)
    maps.merged_choropleth_layer(m, cells, "case", name="cases", classes=maps.Categories({"chaud": "#b2182b", "frais": "#2166ac"}))
    document = m.get_root().render()
    assert document.count('"_colour": "#b2182b"') == 1 and '"classe": "chaud"' in document


def test_named_classes_label_the_legend():
    classes = maps.Classes(edges=[0.5, 1.5, 2.5], colours=["#fff", "#000"], names=["bas", "haut"])
    assert classes.labels() == ["bas", "haut"]
    assert classes.colour_of(2) == "#000"
