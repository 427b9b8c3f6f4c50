"""A participant's own data: the recipe of the lab zips' LISEZMOI, followed word for word.

The recipe (`dataquartiers.data.OWN_DATA_RECIPE`) declares a resource `qpv_dijon`; this test
copies a small fixture file to `datasets/`, adds the recipe's JSON as written to the data package,
and runs the C2S lab on Dijon: its map, absent with the shipped data, is drawn from the
participant's contours, found by what they are (granularity `qpv`), not by their name.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

from conftest import REPO
from dataquartiers import data, layers
from lab_runs import map_captions, run_lab

FIXTURE = REPO / "tests" / "fixtures" / "own_data" / "qpv_dijon.geojson"


def recipe_resource() -> dict:
    block = re.search(r"```json\n(.*?)```", data.OWN_DATA_RECIPE, re.S)
    assert block, "the recipe must show the resource to declare, as JSON"
    return json.loads(block.group(1))


@pytest.fixture
def own_datasets(tmp_path, monkeypatch):
    """The book's data package (links to its files) with the participant's file declared as the
    recipe says; the labs read it (DQ_DATASETS)."""
    folder = tmp_path / "datasets"
    folder.mkdir()
    for item in (REPO / "datasets").iterdir():
        if item.name not in ("datapackage.json", data.PACKS_DIR):
            (folder / item.name).symlink_to(item)
    resource = recipe_resource()
    shutil.copy(FIXTURE, folder / resource["path"])
    package = json.loads((REPO / "datasets" / "datapackage.json").read_text(encoding="utf-8"))
    package["resources"].append(resource)
    (folder / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False, indent=1), encoding="utf-8")
    monkeypatch.setenv("DQ_DATASETS", str(folder))
    return folder


def test_the_recipe_lists_every_required_field():
    resource = recipe_resource()
    assert set(data.REQUIRED_PROPERTIES) <= set(resource), "the recipe must show every required field"
    assert data.check_resource(resource) == []
    for field in data.REQUIRED_PROPERTIES:
        assert f'"{field}"' in data.OWN_DATA_RECIPE


def test_a_declared_qpv_dijon_is_found_by_what_it_is(own_datasets):
    found = layers.qpv_contours("21231", "2015")
    assert sorted(found["nom_qp"]) == ["Fontaine d'Ouche", "Les Grésilles"] and set(found["source"]) == {"qpv_dijon"}
    assert list(data.load("qpv_dijon", territory="21231")["code_qp"]) == ["QP021003", "QP021004"]


def test_the_lab_draws_the_participants_contours(own_datasets):
    nb, error = run_lab("non-recours-c2s", "21231")
    assert error is None
    captions = map_captions(nb)
    assert len(captions) == 1 and "Non-recours estimé à la C2S sans participation, QPV 2015, Dijon" in captions[0]
    assert "2 quartiers prioritaires (géographie 2015)" in captions[0]


def test_a_field_left_out_is_named_in_french(own_datasets):
    package = json.loads((own_datasets / "datapackage.json").read_text(encoding="utf-8"))
    del package["resources"][-1]["provenance"]
    (own_datasets / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(data.DatasetMetadataError) as err:
        data.load("qpv_dijon", territory="21231")
    assert str(err.value).startswith("datapackage.json : ressource « qpv_dijon » : le champ « provenance » manque")
