"""The one analysis of a lab's code (booktools.notebooks): what it reads, in the order it runs.

The zips, the JupyterLite contents and the ethics check all use it; these tests pin its rule.
"""

from __future__ import annotations

import pytest

from conftest import REPO
from booktools import bundles, ethics, notebooks
from booktools.notebooks import datasets_read

PACKAGE = {"resources": [{"name": n} for n in (
    "communes", "epci_communes", "rennes_iris_population", "population_iris", "menages")] + [
    # QPV contours: the library finds them by what they are (dataquartiers.layers.is_contours)
    {"name": n, "granularity": "qpv", "format": "geojson"}
    for n in ("qpv2015_ille_et_vilaine", "qpv2015_marseille", "qpv2015_occitanie")]}


def nb(*sources: str) -> dict:
    return {"cells": [{"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None}
                      for s in sources], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def reads(*sources: str) -> notebooks.DataNeeds:
    return datasets_read(nb(*sources), PACKAGE, where="labs/x.ipynb")


def test_literal_names_and_territory_are_found():
    needs = reads("from dataquartiers.data import load", "x = load('rennes_iris_population', territory='35238')")
    assert needs.reads == {"rennes_iris_population": "cellule 2"} and needs.territory is True
    assert needs.problems == []


def test_every_way_of_importing_the_loader():
    needs = reads("import dataquartiers.data as dq\nfrom dataquartiers import data\nimport dataquartiers",
                  "from dataquartiers.data import load as charger, resource",
                  "dq.load('communes')\ndata.load('epci_communes')\ndataquartiers.data.load('menages')\n"
                  "charger('population_iris')\nresource('qpv2015_marseille')")
    assert needs.resources == ["communes", "epci_communes", "menages", "population_iris", "qpv2015_marseille"]
    assert needs.territory is False


def test_names_hold_what_they_were_last_bound_to_at_that_point():
    needs = reads("from dataquartiers.data import load",
                  "JEU = 'communes'\nload(JEU)",
                  "JEU = 'menages'\nload(JEU)")
    assert needs.reads == {"communes": "cellule 2", "menages": "cellule 3"}


def test_an_unrelated_loop_variable_of_the_same_name_changes_nothing():
    """The bug of the old zip rule: a later loop over other things rebinding `nom`."""
    needs = reads("from dataquartiers.data import load",
                  "for nom in ['communes', 'menages']:\n    load(nom)",
                  "for nom in range(3):\n    print(nom)")
    assert needs.resources == ["communes", "menages"] and needs.problems == []
    # ... and a name rebound to something unknown before the call is refused, not guessed
    needs = reads("from dataquartiers.data import load", "nom = 'communes'\nnom = input()\nload(nom)")
    assert needs.resources == [] and len(needs.problems) == 1


def test_comprehensions_and_tuples():
    needs = reads("from dataquartiers.data import load",
                  "JEUX = ('communes', 'menages')\ntables = {n: load(n) for n in JEUX}")
    assert needs.resources == ["communes", "menages"]


def test_json_load_and_magics_are_ignored():
    needs = reads("%matplotlib inline\nimport json\njson.load(open('x.json'))\n!ls")
    assert needs.reads == {} and needs.files == [] and needs.problems == []


def test_a_wrapper_function_of_the_notebook_names_its_dataset_at_each_call():
    needs = reads("from dataquartiers.data import load\n\n"
                  "def charger(nom, territoire):\n    return load(nom, territory=territoire)",
                  "iris = charger('population_iris', '35')\nautre = charger(nom=NOM, territoire='35')")
    assert needs.reads == {"population_iris": "cellule 2"}
    assert needs.territory is True
    assert needs.problems == ["labs/x.ipynb, cellule 2 : le jeu de données de `load(nom, territory=territoire)` ne peut "
                              "pas être connu sans exécuter le lab ; écrivez son nom entre guillemets (load(\"nom\", …)) "
                              "ou dans une variable qui le contient"]


def test_a_function_never_called_is_followed_with_what_is_bound_at_the_end():
    needs = reads("from dataquartiers.data import load\nJEU = 'menages'\n\ndef plus_tard():\n    return load(JEU)")
    assert needs.reads == {"menages": "cellule 1"}


def test_library_functions_read_what_they_declare():
    """`qpv_contours()` declares the QPV contour datasets (dataquartiers/layers.py, @reads)."""
    needs = reads("from dataquartiers.layers import qpv_contours", "qpv = qpv_contours('13055')")
    assert {"qpv2015_ille_et_vilaine", "qpv2015_marseille", "qpv2015_occitanie"} <= set(needs.resources)
    assert needs.reads["qpv2015_marseille"] == "cellule 2, via dataquartiers.layers.qpv_contours"
    assert needs.territory is True
    assert needs.carried({r["name"] for r in PACKAGE["resources"]}) == sorted(
        set(needs.resources) | {"communes", "epci_communes"})


def test_unknown_dataset_and_invalid_cell_are_named():
    needs = reads("from dataquartiers.data import load\nload('nope')", "def f(:")
    assert needs.problems == [
        "labs/x.ipynb, cellule 1 : load() d'un jeu de données absent de datasets/datapackage.json : nope",
        "labs/x.ipynb, cellule 2 : ce n'est pas du Python valide (ligne 1 : invalid syntax)"]


def test_the_zip_refuses_a_lab_whose_data_cannot_be_known(tmp_path):
    path = tmp_path / "x.ipynb"
    import json

    path.write_text(json.dumps(nb("from dataquartiers.data import load", "load(input())")), encoding="utf-8")
    with pytest.raises(bundles.BundleError, match="cellule 2 : le jeu de données de `load"):
        bundles.lab_data_needs(path, REPO)


def test_titles_parameters_and_imports_of_the_labs():
    lab = notebooks.read(REPO / "labs" / "prise-en-main.ipynb")
    assert notebooks.title(lab).startswith("Prise en main")
    assert notebooks.short_title("Prise en main : une commune, ses IRIS") == "Prise en main"
    assert "TERRITOIRE" in notebooks.parameters(lab)
    assert {"dataquartiers"} <= notebooks.imports(lab)


@pytest.mark.parametrize("notebook", notebooks.lab_notebooks(REPO), ids=lambda p: p.stem)
def test_every_lab_can_be_analysed_and_its_assessment_declares_what_it_reads(notebook):
    needs = notebooks.lab_data_needs(notebook)
    assert needs.problems == [] and needs.reads
    assessment = ethics.check_repository(REPO)
    declared = next(a for a in assessment.assessments if a.stem == notebook.stem)
    assert set(declared.resources) == set(needs.reads)
