"""Layers by territory, found by what each resource is (granularity, contours), in the 2015 or
2024 geography; a missing layer says in French how to get it; arrondissements keep their own."""

import json
import shutil

import geopandas as gpd
import pytest
from shapely.geometry import box

from conftest import REPO
from dataquartiers import data, layers
from dataquartiers.layers import MissingLayer


def test_qpv_contours_in_the_2024_geography_where_they_exist():
    marseille = layers.qpv_contours("13055")
    assert len(marseille) == 41 and set(marseille["geographie"]) == {"2024"}
    assert marseille["code_qp"].str.startswith("QN").all() and set(marseille["source"]) == {"qpv2024_marseille"}
    old = layers.qpv_contours("13055", geography="2015")
    assert len(old) == 35 and old["code_qp"].str.startswith("QP").all()


def test_qpv_contours_fall_back_to_2015():
    rennes = layers.qpv_contours("35238")
    assert len(rennes) == 5 and set(rennes["geographie"]) == {"2015"}
    assert set(rennes.columns) >= {"code_qp", "nom_qp", "geographie", "source", "geometry"}


def test_a_missing_layer_says_which_what_it_removes_and_how_to_get_it(capsys):
    with pytest.raises(MissingLayer) as err:
        layers.qpv_contours("21231")  # Dijon: no QPV contours shipped
    message = str(err.value)
    assert message.startswith("Couche manquante : contours des quartiers prioritaires (QPV) pour Dijon (21231).")
    assert "make territory CODE=21231" in message and 'make_pack("21231")' in message
    assert "« qpv2015_ille_et_vilaine » (Rennes, Saint-Malo)" in message
    assert layers.qpv_contours("21231", if_missing="pas de carte des quartiers") is None
    note = capsys.readouterr().out
    assert note.startswith("⚠ Couche manquante") and "Ce que cela retire à l'analyse : pas de carte des quartiers." in note
    assert "Traceback" not in "".join(err.value._render_traceback_())


def test_an_epci_with_part_of_its_contours_says_which_are_missing(capsys):
    amp = layers.qpv_contours("200054807")
    note = capsys.readouterr().out
    assert len(amp) == 41 and len(amp.attrs["sans_contour"]) > 0
    assert f"Contours partiels : 41 des {41 + len(amp.attrs['sans_contour'])} QPV 2024" in note
    assert "Florida Parc (QN01301M)" in note  # a QPV of Aix-en-Provence


def test_an_arrondissement_keeps_its_own_qpv_iris_and_outline():
    first = layers.qpv_contours("13201", quiet=True)
    assert list(first["nom_qp"]) == ["Centre Ville 1er et 2e Arrondissements"]
    assert layers.iris_contours("13201")["code_iris"].str.startswith("13201").all()
    outline = layers.territory_outline("13201").to_crs(2154).area.iloc[0]
    city = layers.territory_outline("13055").to_crs(2154).area.iloc[0]
    assert 1_000_000 < outline < city / 50  # about 1.8 km², not the whole city
    with pytest.raises(MissingLayer):
        layers.qpv_contours("69388")  # Lyon: no QPV contours shipped, in no geography


def test_iris_contours_take_the_most_recent_edition_per_commune(capsys):
    lyon = layers.iris_contours("69123")
    assert set(lyon["source"]) == {"iris_chaleur_lcz"} and len(lyon) == 185  # IRIS 2025, not 2012
    metropole = layers.iris_contours("200046977")
    assert set(metropole["source"]) == {"iris_chaleur_lcz", "lyon_iris_2012"}
    assert not metropole["code_iris"].duplicated().any()
    assert "Contours partiels : les IRIS de" in capsys.readouterr().out


def test_territory_outline_of_an_epci_merges_its_communes():
    dijon = layers.territory_outline("242100410")
    assert dijon.attrs["sans_contour"] == [] and dijon["nom"].iloc[0] == "Dijon Métropole"
    assert dijon.to_crs(2154).area.iloc[0] > layers.territory_outline("21231").to_crs(2154).area.iloc[0] * 3


def test_qpv_list_in_both_geographies():
    assert list(layers.qpv_list("21231")["nom_qp"]) == ["Fontaine D'Ouche", "Les Grésilles"]
    assert len(layers.qpv_list("21231", "2015")) == 2 and layers.qpv_list("21231", "2015")["code_qp"].str.startswith("QP").all()


def test_iris_names_come_from_every_resource_that_has_them():
    names = layers.iris_names("21231")  # no contours for Dijon: the names of Filosofi 2019 by city
    assert len(names) >= 60 and names.index.str.startswith("21231").all()


def test_a_participants_own_layer_is_found_by_what_it_is(tmp_path, monkeypatch):
    folder = tmp_path / "datasets"
    shutil.copytree(REPO / "datasets", folder)
    feature = {"type": "Feature", "properties": {"code_qp": "QN02103M", "nom_qp": "Les Grésilles", "commune": "21231"},
               "geometry": {"type": "Polygon", "coordinates": [[[5.05, 47.33], [5.06, 47.33], [5.06, 47.34], [5.05, 47.33]]]}}
    (folder / "qpv_dijon.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    pkg = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    pkg["resources"].append({
        "name": "qpv_dijon", "path": "qpv_dijon.geojson", "format": "geojson", "title": "QPV de Dijon",
        "description": "test", "producer": "moi", "licenses": [{"name": "etalab-2.0"}], "licence_status": "verified",
        "vintage": "2024", "granularity": "qpv", "provenance": "test", "territory": {"field": "commune"},
        "schema": {"fields": [{"name": "code_qp", "type": "string"}, {"name": "nom_qp", "type": "string"},
                              {"name": "commune", "type": "string"}]}})
    (folder / "datapackage.json").write_text(json.dumps(pkg, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("DQ_DATASETS", str(folder))
    found = layers.qpv_contours("21231")
    assert list(found["source"]) == ["qpv_dijon"] and list(found["geographie"]) == ["2024"]  # told by its code
    # the zips and the ethics check see it too: qpv_contours declares every QPV contour layer
    declared = layers.qpv_contours.dq_reads[1]
    assert declared(data.resource("qpv_dijon")) and not declared(data.resource("qpv2024_communes"))


def test_overlap_share_by_hand():
    # Two squares of 1 km side in Lambert-93; the zone straddles them 25 % / 75 %.
    areas = gpd.GeoDataFrame({"iris": ["A", "B"]}, geometry=[box(700000, 6600000, 701000, 6601000),
                                                          box(701000, 6600000, 702000, 6601000)], crs=2154)
    zone = gpd.GeoDataFrame({"qp": ["Q"]}, geometry=[box(700750, 6600000, 701750, 6601000)], crs=2154)
    out = layers.overlap_share(zone.to_crs(4326), areas.to_crs(4326), "qp", "iris")
    assert out["iris"].tolist() == ["B", "A"]
    assert out["share"].round(3).tolist() == [0.75, 0.25]
