"""Territory packs (`make territory CODE=…`), against a local HTTP server serving small fixtures
shaped like the national files (IGN's WFS answer for the IRIS, ANCT's QPV 2024 file).

What is proven: the download, its record (trust on first download), the cache hit with no
network, a hash mismatch refused with nothing kept, a server down and a territory absent from the
files as French messages, the extraction (IRIS of the territory's communes, QPV that lie in them,
with their communes), the check against the schemas of the shipped contours, and that the labs'
library then finds the pack's layers like shipped data. Not proven here: that the producers'
real addresses answer (no network on these machines).
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from conftest import REPO, free_port, serve_folder
from dataquartiers import data, fetch, layers, territory
from dataquartiers.fetch import FetchError
from dataquartiers.territory import PackError, make_pack

FIXTURES = REPO / "tests" / "fixtures" / "territory"
QPV_FILE = "QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson"


@pytest.fixture
def served():
    """The fixture files on 127.0.0.1; yields the `urls` argument of make_pack."""
    with serve_folder(FIXTURES) as url:
        yield {"iris_contours": f"{url}/iris_contours.geojson?CQL_FILTER=code_insee%20IN%20({{codes}})",
               "qpv2024_contours": f"{url}/{QPV_FILE}"}


@pytest.fixture
def datasets(tmp_path, monkeypatch):
    """A copy of the book's data package (links to its files) that a pack can be added to; the
    labs' library reads it (DQ_DATASETS)."""
    folder = tmp_path / "datasets"
    folder.mkdir()
    for item in (REPO / "datasets").iterdir():
        if item.name != data.PACKS_DIR:
            (folder / item.name).symlink_to(item)
    monkeypatch.setenv("DQ_DATASETS", str(folder))
    return folder


def dead_urls() -> dict[str, str]:
    port = free_port()
    return {"iris_contours": f"http://127.0.0.1:{port}/iris.geojson", "qpv2024_contours": f"http://127.0.0.1:{port}/qpv.geojson"}


def test_a_pack_is_made_and_the_labs_read_it_like_shipped_data(served, datasets, tmp_path, capsys):
    cache = tmp_path / "cache"
    pack = make_pack("21231", folder=datasets, urls=served, cache=cache)
    assert pack == datasets / "territoires" / "21231"
    assert "Pack de Dijon (21231) écrit" in capsys.readouterr().out
    descriptor = json.loads((pack / "datapackage.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in descriptor["resources"]] == ["iris_21231", "qpv2024_21231"]
    # trust on first download: each answer's SHA-256 recorded beside the cache
    assert (cache / "iris_contours_21231.geojson.sha256").exists() and (cache / "qpv2024_contours.geojson.sha256").exists()
    # the labs' library finds the pack's layers by what they are
    qpv = layers.qpv_contours("21231")
    assert sorted(qpv["nom_qp"]) == ["Fontaine d'Ouche", "Les Grésilles"] and set(qpv["geographie"]) == {"2024"}
    assert set(qpv["source"]) == {"qpv2024_21231"}
    assert sorted(layers.iris_contours("21231")["code_iris"]) == ["212310101", "212310102", "212310201"]
    assert layers.qpv_list("21231")["code_qp"].isin(qpv["code_qp"]).all()  # the 2024 list agrees
    # the shipped package is untouched: the book's tooling never sees packs
    assert "qpv2024_21231" not in {r["name"] for r in data.package(datasets)["resources"]}


def test_an_epci_pack_keeps_the_qpv_of_every_member_commune(served, datasets, tmp_path):
    make_pack("242100410", folder=datasets, urls=served, cache=tmp_path / "cache", quiet=True)
    qpv = data.load("qpv2024_242100410")
    assert sorted(qpv["code_qp"]) == ["QN02101M", "QN02102M", "QN02103M"]  # not the one in Paris
    assert dict(zip(qpv["code_qp"], qpv["codes_communes"]))["QN02101M"] == "21166"
    assert len(data.load("iris_242100410")) == 5  # Talant, not divided into IRIS, is one IRIS


def test_a_second_run_needs_no_network(served, datasets, tmp_path):
    cache = tmp_path / "cache"
    make_pack("21231", folder=datasets, urls=served, cache=cache, quiet=True)
    again = make_pack("21231", folder=datasets, urls=dead_urls(), cache=cache, quiet=True, timeout=5)
    assert len(data.load("qpv2024_21231", folder=datasets)) == 2 and again.is_dir()


def test_a_hash_mismatch_is_refused_and_nothing_is_kept(served, datasets, tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(FetchError) as err:
        make_pack("21231", folder=datasets, urls=served, cache=cache, sha256={"qpv2024_contours": "0" * 64})
    message = str(err.value)
    assert "l'empreinte SHA-256 du fichier téléchargé est" in message and "attendu " + "0" * 64 in message
    assert "Le fichier a été refusé et rien n'a été gardé" in message
    assert not (cache / "qpv2024_contours.geojson").exists()
    assert not (datasets / "territoires" / "21231").exists()


def test_an_altered_cache_is_detected_and_downloaded_again(served, datasets, tmp_path):
    cache = tmp_path / "cache"
    make_pack("21231", folder=datasets, urls=served, cache=cache, quiet=True)
    (cache / "qpv2024_contours.geojson").write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    make_pack("21231", folder=datasets, urls=served, cache=cache, quiet=True)
    assert (cache / "qpv2024_contours.geojson").read_bytes() == (FIXTURES / QPV_FILE).read_bytes()
    assert len(data.load("qpv2024_21231", folder=datasets)) == 2


def test_network_down_says_what_to_do(datasets, tmp_path):
    urls = dead_urls()
    with pytest.raises(FetchError) as err:
        make_pack("21231", folder=datasets, urls=urls, cache=tmp_path / "cache", timeout=5)
    message = str(err.value)
    assert "impossible de joindre le serveur" in message and "Pas de réseau ?" in message
    assert "relancez cette commande depuis un ordinateur connecté à Internet" in message
    assert "Traceback" not in "".join(err.value._render_traceback_())
    assert not (datasets / "territoires").exists()


def test_a_territory_absent_from_the_files_is_a_french_message(served, datasets, tmp_path):
    with pytest.raises(PackError) as err:
        make_pack("35238", folder=datasets, urls=served, cache=tmp_path / "cache")
    assert str(err.value).startswith("Le territoire Rennes (35238) n'est pas dans le fichier des contours IRIS téléchargé")
    with pytest.raises(PackError, match="Un pack se fait pour une commune, un arrondissement ou un EPCI"):
        make_pack("21", folder=datasets, urls=served, cache=tmp_path / "cache")
    with pytest.raises(data.UnknownTerritoryError, match="Code de commune inconnu : « 99999 »"):
        make_pack("99999", folder=datasets, urls=served, cache=tmp_path / "cache")


def test_the_pack_schemas_are_those_of_the_shipped_contours():
    shipped = data.resources(REPO / "datasets")
    assert territory.QPV_FIELDS == shipped["qpv2024_marseille"]["schema"]["fields"][:4] + [territory.CODES_FIELD]
    assert [f["name"] for f in shipped["qpv2024_marseille"]["schema"]["fields"]] == [f["name"] for f in territory.QPV_FIELDS]
    assert territory.IRIS_FIELDS == shipped["iris_aix_marseille_provence"]["schema"]["fields"]


def test_a_pack_that_breaks_its_schema_is_not_kept(served, datasets, tmp_path, monkeypatch):
    broken = [dict(f, type="boolean") if f["name"] == "typ_iris" else f for f in territory.IRIS_FIELDS]
    monkeypatch.setattr(territory, "IRIS_FIELDS", broken)  # "H" is not a boolean
    with pytest.raises(PackError, match="Le pack ne respecte pas les schémas du paquet de données"):
        make_pack("21231", folder=datasets, urls=served, cache=tmp_path / "cache", quiet=True)
    assert not (datasets / "territoires" / "21231").exists()


def test_the_command_line_says_what_went_wrong_in_french(datasets, capsys):
    assert territory.main(["21", "--datasets", str(datasets)]) == 1
    assert capsys.readouterr().err.startswith("make territory : Un pack se fait pour une commune")


def test_the_registry_has_the_producers_addresses():
    iris, qpv = fetch.NATIONAL_FILES["iris_contours"], fetch.NATIONAL_FILES["qpv2024_contours"]
    assert iris.url.startswith("https://data.geopf.fr/wfs/") and "{codes}" in iris.url
    assert qpv.url.startswith("https://www.data.gouv.fr/")


def test_make_territory_runs_the_module():
    out = subprocess.run(["make", "-n", "territory", "CODE=21231"], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert re.search(r"-m dataquartiers\.territory 21231", out.stdout)
    missing = subprocess.run(["make", "-n", "territory"], cwd=REPO, capture_output=True, text=True)
    assert missing.returncode != 0 and "CODE=" in missing.stderr


def test_a_lab_run_on_dijon_draws_its_map_from_the_pack(served, datasets, tmp_path):
    """With the pack, the first-steps lab on Dijon draws the IRIS and the 2024 QPV it lacked."""
    from lab_runs import map_captions, run_lab, text_of

    make_pack("21231", folder=datasets, urls=served, cache=tmp_path / "cache", quiet=True)
    nb, error = run_lab("prise-en-main", "21231")
    assert error is None
    [caption] = map_captions(nb)
    assert "Dijon" in caption and "Les 2 quartiers prioritaires (2024) sont entourés en bleu." in caption
    assert "Couche manquante : contours des IRIS" not in text_of(nb)
