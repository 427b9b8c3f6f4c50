"""The data package and its loaders: schema validation, every resource loads, territory filters,
reduced bundles, bad inputs with clear errors, reproducible synthetic tables, the datasets page."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from conftest import REPO
from booktools import datasets_page, prepare, synthetic
from dataquartiers import data
from dataquartiers.data import (DatasetFileError, DatasetMetadataError, UnknownResourceError,
                                UnknownTerritoryError, load, resource)

DATASETS = REPO / "datasets"
MINI = REPO / "tests" / "fixtures" / "data" / "mini"
SHIPPED = list(data.resources(DATASETS))

#: The names the labs are written against: they must all exist.
REQUIRED_NAMES = [
    "qpv2015_marseille", "qpv2015_occitanie", "qpv2015_ille_et_vilaine", "qpv2024_communes",
    "qpv_demographie", "qpv_revenus_c2s", "qpv_emploi", "qpv_occitanie_indicateurs",
    "filosofi_iris_2018", "filosofi_iris_villes_2019", "caf_iris_2020",
    "rennes_iris_population", "lyon_iris_2012", "iris_chaleur_lcz", "iris_personnes_agees_seules",
    "marseille_temperature_carreaux", "rennes_offres_emploi", "communes_contours_2018",
    "cepidc_mortalite_causes_2023", "cepidc_mortalite_2010_2023", "drees_medecins_2013_2014",
    "departements", "regions", "epci", "communes", "epci_communes",
    "sante_iris_synthetique", "c2s_menages_synthetique",
    "qpv2024_marseille", "qpv_2015_2024_marseille", "iris_aix_marseille_provence", "arrondissements_contours",
]
#: Ids of the book's catalogue of sources that a resource may point to.
CATALOGUE_IDS = {
    "insee-cog", "ign-contours-iris", "insee-rp-iris", "anct-qpv-contours", "insee-filosofi-iris",
    "insee-filosofi-carreaux", "anct-qpv-statistiques", "cnaf-allocataires-iris", "cepidc-causes-deces",
    "drees-rpps", "france-travail-offres", "cerema-lcz", "usgs-landsat", "ville-grenoble-arbres",
    "insee-rp-couples-familles-menages", "dgcl-banatic-epci", "ign-admin-express",
}


def copy_package(src: Path, dst: Path, edit=None) -> Path:
    """A copy of a data package folder, its descriptor changed by `edit(package)`."""
    shutil.copytree(src, dst)
    if edit:
        path = dst / "datapackage.json"
        pkg = json.loads(path.read_text(encoding="utf-8"))
        edit(pkg)
        path.write_text(json.dumps(pkg, ensure_ascii=False), encoding="utf-8")
    return dst


def reduced_package(dst: Path, names: list[str]) -> Path:
    """What a lab bundle ships: a datapackage.json with only some resources, and their files."""
    pkg = json.loads((DATASETS / "datapackage.json").read_text(encoding="utf-8"))
    pkg["resources"] = [r for r in pkg["resources"] if r["name"] in names]
    for r in pkg["resources"]:
        (dst / r["path"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DATASETS / r["path"], dst / r["path"])
    (dst / "datapackage.json").write_text(json.dumps(pkg, ensure_ascii=False), encoding="utf-8")
    return dst


# --- the data package ----------------------------------------------------------------------

def test_frictionless_validates_the_data_package():
    from frictionless import validate

    report = validate(str(DATASETS / "datapackage.json"))
    errors = report.flatten(["taskNumber", "rowNumber", "fieldName", "type", "note"])
    assert report.valid, f"frictionless validate datasets/datapackage.json: {errors[:10]}"


#: The licence ids of the Open Definition (okfn/licenses, copied: see its README).
OPEN_DEFINITION_IDS = {row["id"] for row in csv.DictReader(
    (REPO / "tests" / "fixtures" / "opendefinition" / "licences.csv").open(encoding="utf-8"))}


@pytest.mark.parametrize("folder", [DATASETS, MINI], ids=["datasets", "mini"])
def test_licences_are_open_definition_ids_with_their_address_and_title(folder):
    """Frictionless: a licence's `name` is an Open Definition id; ours also give the licence's
    address and its French title, which the pages, the zips and the atlas show."""
    pkg = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    licences = pkg["licenses"] + [li for r in pkg["resources"] for li in r["licenses"]]
    assert {li["name"] for li in licences} <= OPEN_DEFINITION_IDS
    assert all(li["path"].startswith("https://") and li["title"] for li in licences)
    assert {"etalab-2.0", "public-domain"}.isdisjoint(li["name"] for li in licences)


def test_territory_packs_name_their_licence_by_its_open_definition_id():
    from dataquartiers.territory import LICENCE

    assert LICENCE["name"] == "LO-FR-2.0" and LICENCE["name"] in OPEN_DEFINITION_IDS


def test_every_resource_is_fully_described():
    assert data.check_package(DATASETS) == []


def test_the_names_the_labs_use_exist():
    missing = sorted(set(REQUIRED_NAMES) - set(SHIPPED))
    assert not missing, f"datasets/datapackage.json lacks {missing}"


def test_every_file_is_described_and_every_description_has_a_file():
    described = {r["path"] for r in data.resources(DATASETS).values()}
    on_disk = {str(p.relative_to(DATASETS)) for p in DATASETS.rglob("*")
               if p.is_file() and p.name not in ("datapackage.json", "index.md")}
    assert on_disk == described, f"undescribed files: {sorted(on_disk - described)}; missing files: {sorted(described - on_disk)}"


def test_catalogue_ids_are_known():
    for name, res in data.resources(DATASETS).items():
        unknown = set(res.get("catalogue", [])) - CATALOGUE_IDS
        assert not unknown, f"resource '{name}': unknown catalogue id(s) {sorted(unknown)}"
    sources = REPO / "catalogue" / "sources"
    if sources.is_dir() and any(sources.glob("*.yml")):
        existing = {p.stem for p in sources.glob("*.yml")}
        used = {cid for r in data.resources(DATASETS).values() for cid in r.get("catalogue", [])}
        assert used <= existing, f"catalogue ids without a catalogue/sources/<id>.yml: {sorted(used - existing)}"


def test_unverified_licences_are_the_flagged_sources():
    """The files whose carrying repository states no licence stay flagged (SOURCES.md ⚠)."""
    unverified = {n for n, r in data.resources(DATASETS).items() if r["licence_status"] == "unverified"}
    assert {"qpv2015_ille_et_vilaine", "rennes_iris_population", "lyon_iris_2012", "iris_chaleur_lcz",
            "iris_personnes_agees_seules", "rennes_offres_emploi", "cepidc_mortalite_causes_2023",
            "cepidc_mortalite_2010_2023", "qpv2024_marseille", "qpv_2015_2024_marseille",
            "iris_aix_marseille_provence", "arrondissements_contours"} <= unverified


def test_the_folder_stays_small_and_each_map_layer_under_one_megabyte():
    total = sum(p.stat().st_size for p in DATASETS.rglob("*") if p.is_file())
    assert total < 30_000_000, f"datasets/ weighs {total / 1e6:.1f} MB (limit 30 MB)"
    for name, res in data.resources(DATASETS).items():
        if res["format"] != "geojson":
            continue
        features = json.loads((DATASETS / res["path"]).read_text(encoding="utf-8"))["features"]
        # a lab draws one department, one city or the whole file
        key = {"communes_contours_2018": "departement", "iris_chaleur_lcz": "ville"}.get(name)
        layers: dict[str, int] = {}
        for f in features:
            layer = f["properties"][key] if key else "all"
            layers[layer] = layers.get(layer, 0) + len(json.dumps(f, ensure_ascii=False, separators=(",", ":")))
        for layer, size in layers.items():
            assert size < 1_000_000, f"{name} ({layer}): {size / 1e6:.2f} MB, over 1 MB"


def _coordinates(geometry):
    stack = [geometry["coordinates"]]
    while stack:
        c = stack.pop()
        if isinstance(c[0], (int, float)):
            yield c
        else:
            stack.extend(c)


@pytest.mark.parametrize("name", [n for n in SHIPPED if data.resources(DATASETS)[n]["format"] == "geojson"])
def test_geojson_files_are_wgs84_and_match_their_schema(name):
    res = resource(name, DATASETS)
    fields = [f["name"] for f in res["schema"]["fields"]]
    features = json.loads((DATASETS / res["path"]).read_text(encoding="utf-8"))["features"]
    for i, f in enumerate(features):
        assert sorted(f["properties"]) == sorted(fields), f"{res['path']}: feature {i}: properties {sorted(f['properties'])} ≠ schema {sorted(fields)}"
        for lon, lat in _coordinates(f["geometry"]):
            assert -6 < lon < 10 and 41 < lat < 52, f"{res['path']}: feature {i}: ({lon}, {lat}) is not a WGS84 point of mainland France"


@pytest.mark.parametrize("name", SHIPPED)
def test_every_resource_loads_typed_per_its_schema(name):
    res = resource(name, DATASETS)
    df = load(name, folder=DATASETS)
    assert len(df) > 0
    for f in res["schema"]["fields"]:
        expected = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean"}[f["type"]]
        assert str(df[f["name"]].dtype) == expected, f"{name}.{f['name']}: {df[f['name']].dtype}, expected {expected}"
    if res["format"] == "geojson" or res.get("dq:geometry"):
        assert isinstance(df, gpd.GeoDataFrame) and df.crs.to_epsg() == 4326
        assert df.geometry.notna().all() and df.geometry.is_valid.all(), f"{name}: invalid geometries"


def test_row_counts_of_the_main_resources():
    expected = {"filosofi_iris_2018": 12_395, "qpv2015_marseille": 37, "qpv2015_occitanie": 105,
                "qpv_demographie": 1_400, "rennes_offres_emploi": 3_928, "lyon_iris_2012": 358,
                "iris_chaleur_lcz": 523, "marseille_temperature_carreaux": 7_282, "rennes_iris_population": 93,
                "qpv2024_marseille": 41, "qpv_2015_2024_marseille": 42, "iris_aix_marseille_provence": 779,
                "arrondissements_contours": 25}
    for name, rows in expected.items():
        assert len(load(name, folder=DATASETS)) == rows, name


def test_job_offers_carry_no_employer_identity():
    offers = load("rennes_offres_emploi", folder=DATASETS)
    assert "siret" not in offers.columns and "entreprise" not in offers.columns


def test_marseille_squares_are_rebuilt_from_their_insee_id():
    squares = load("marseille_temperature_carreaux", folder=DATASETS)
    first = squares.iloc[0]
    assert first["id"] == "CRS3035RES200mN2239000E3962600"
    in_laea = squares.to_crs("EPSG:3035")
    assert in_laea.geometry.area.round().eq(40_000).all()
    assert tuple(round(v) for v in in_laea.geometry.iloc[0].bounds) == (3962600, 2239000, 3962800, 2239200)


def test_a_bad_square_id_names_the_file_row_and_value(tmp_path):
    folder = reduced_package(tmp_path / "datasets", ["marseille_temperature_carreaux"])
    path = folder / "heat/marseille_lst_2022-07-15_carreaux200m.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("CRS3035RES200mN", "CARREAU", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DatasetFileError, match=r"carreaux200m\.csv : ligne 4, colonne « id » : « CARREAU.* » n'est pas un identifiant de carreau INSEE"):
        load("marseille_temperature_carreaux", folder=folder)


# --- territories ----------------------------------------------------------------------------

def test_a_commune_keeps_its_arrondissements():
    lyon = load("filosofi_iris_2018", territory="69123", folder=DATASETS)
    assert set(lyon["IRIS"].str.slice(0, 4)) == {"6938"}
    every = load("filosofi_iris_2018", folder=DATASETS)
    assert len(lyon) == every["IRIS"].str.startswith("6938").sum()
    first = load("filosofi_iris_2018", territory="69381", folder=DATASETS)
    assert set(first["IRIS"].str.slice(0, 5)) == {"69381"}


def test_an_arrondissement_brings_the_data_of_its_whole_commune():
    marseille = load("communes_contours_2018", territory="13201", folder=DATASETS)
    assert list(marseille["code"]) == ["13055"]


def test_an_arrondissement_gets_only_the_finer_rows_that_name_it():
    """A QPV listed for the whole of Marseille is not known to lie in the 1st arrondissement."""
    first = load("qpv2024_communes", territory="13201", folder=DATASETS)
    assert list(first["code_qp"]) == ["QN01330M"]  # Centre Ville 1er et 2e Arrondissements
    assert load("qpv2024_communes", territory="13055", folder=DATASETS)["code_qp"].nunique() == 41
    with pytest.raises(UnknownTerritoryError) as err:
        load("qpv2024_communes", territory="69381", folder=DATASETS)  # Lyon's list names the whole city only
    assert str(err.value).startswith("Le jeu « qpv2024_communes » ne détaille pas les arrondissements : ses lignes "
                                     "portent sur la commune entière, 69123 (Lyon)")
    assert data.resolve_territory("13201", DATASETS).kind == "arrondissement"


def test_the_derived_overlap_says_it_is_not_official():
    res = resource("qpv_2015_2024_marseille", DATASETS)
    assert "dérivée, non officielle" in res["title"] and "pas une table de passage officielle" in res["description"]
    overlap = load("qpv_2015_2024_marseille", folder=DATASETS)
    assert overlap["code_qp_2024"].nunique() == 41 and overlap["code_qp_2015"].nunique() == 35


def test_an_epci_keeps_its_member_communes():
    members = set(load("epci_communes", folder=DATASETS).query("siren_epci == '243500139'")["code_commune"])
    offers = load("rennes_offres_emploi", territory="243500139", folder=DATASETS)
    assert 0 < len(offers) < 3_928 and set(offers["code_commune"]) <= members


def test_a_department_selects_the_qpv_whose_communes_are_in_it():
    qpv = load("qpv_demographie", territory="13", folder=DATASETS)
    assert len(qpv) == 65 and qpv["CODGEO"].str.startswith("QP013").all()


def test_a_qpv_straddling_two_communes_belongs_to_both():
    demo = load("qpv_demographie", folder=DATASETS)
    two = demo[demo["CODES_COMMUNES"].str.contains(" ")].iloc[0]
    for commune in two["CODES_COMMUNES"].split():
        assert two["CODGEO"] in set(load("qpv_demographie", territory=commune, folder=DATASETS)["CODGEO"])


def test_data_by_department_keeps_the_department_of_a_commune():
    mortality = load("cepidc_mortalite_2010_2023", territory="35238", folder=DATASETS)
    assert set(mortality["departement"]) == {"35"} and len(mortality) == 14
    doctors = load("drees_medecins_2013_2014", territory="13", folder=DATASETS)
    assert set(doctors["niveau"]) == {"departement"} and set(doctors["code_zone"]) == {"13"}


def test_a_city_of_the_heat_file():
    toulouse = load("iris_chaleur_lcz", territory="31555", folder=DATASETS)
    assert set(toulouse["ville"]) == {"Toulouse"} and len(toulouse) == 153


def test_the_first_steps_lab_still_loads_its_data():
    iris = load("rennes_iris_population", territory="35238", folder=DATASETS)
    qpv = load("qpv2015_ille_et_vilaine", territory="35238", folder=DATASETS)
    assert len(iris) == 93 and len(qpv) == 5
    assert {"nom_iris", "p22_pop", "p22_pop65p"} <= set(iris.columns) and {"nom_qp", "population"} <= set(qpv.columns)
    assert resource("rennes_iris_population", DATASETS)["licence_status"] == "unverified"


# --- bundles: a reduced data package ------------------------------------------------------------

def test_a_bundle_without_the_communes_table_filters_by_commune_and_department(tmp_path):
    folder = reduced_package(tmp_path / "datasets", ["filosofi_iris_villes_2019", "cepidc_mortalite_2010_2023"])
    assert set(data.resources(folder)) == {"filosofi_iris_villes_2019", "cepidc_mortalite_2010_2023"}
    lyon = load("filosofi_iris_villes_2019", territory="69123", folder=folder)  # arrondissements, without the COG
    assert set(lyon["COM"]) == {f"6938{n}" for n in range(1, 10)}
    rhone = load("filosofi_iris_villes_2019", territory="69", folder=folder)
    assert set(rhone["COM"].str.slice(0, 2)) == {"69"} and len(rhone) > len(lyon)
    assert set(load("cepidc_mortalite_2010_2023", territory="69381", folder=folder)["departement"]) == {"69"}


def test_a_bundle_without_epci_members_says_what_to_add(tmp_path):
    folder = reduced_package(tmp_path / "datasets", ["filosofi_iris_villes_2019"])
    with pytest.raises(UnknownTerritoryError, match=r"Impossible de filtrer par EPCI \(« 243500139 »\).*n'a pas la ressource « epci_communes »"):
        load("filosofi_iris_villes_2019", territory="243500139", folder=folder)


def test_the_loader_finds_a_bundle_beside_the_notebook(tmp_path, monkeypatch):
    reduced_package(tmp_path / "datasets", ["qpv2015_marseille"])
    (tmp_path / "labs").mkdir()
    monkeypatch.delenv("DQ_DATASETS", raising=False)
    monkeypatch.chdir(tmp_path / "labs")
    assert data.datasets_dir() == (tmp_path / "datasets").resolve()
    assert len(load("qpv2015_marseille", territory="13055")) == 35


# --- bad inputs ---------------------------------------------------------------------------------

def test_an_unknown_dataset_lists_the_available_ones():
    with pytest.raises(UnknownResourceError) as err:
        load("filosofi_2018", folder=DATASETS)
    message = str(err.value)
    assert message.startswith("Jeu de données inconnu : « filosofi_2018 ». Jeux disponibles : ")
    assert "filosofi_iris_2018" in message and "qpv2015_marseille" in message


def test_an_unknown_territory_lists_what_the_dataset_covers():
    with pytest.raises(UnknownTerritoryError) as err:
        load("rennes_iris_population", territory="99999", folder=DATASETS)
    assert str(err.value) == ("Code de commune inconnu : « 99999 » n'est dans le code officiel géographique (COG 2026). "
                              "Le jeu « rennes_iris_population » couvre 1 commune : 35238 (Rennes).")
    with pytest.raises(UnknownTerritoryError, match=r"^« 1234 » n'est pas un code de territoire"):
        load("rennes_iris_population", territory="1234", folder=DATASETS)


def test_a_territory_outside_the_dataset_lists_what_it_covers():
    with pytest.raises(UnknownTerritoryError) as err:
        load("qpv2015_ille_et_vilaine", territory="75056", folder=DATASETS)
    assert str(err.value) == ("Le jeu « qpv2015_ille_et_vilaine » n'a aucune ligne pour le territoire 75056 (Paris). "
                              "Il couvre 2 communes : 35238 (Rennes), 35288 (Saint-Malo).")


def test_a_dataset_without_territory_field_says_so():
    with pytest.raises(UnknownTerritoryError, match="« marseille_temperature_carreaux » ne se filtre pas par territoire"):
        load("marseille_temperature_carreaux", territory="13055", folder=DATASETS)


def test_a_missing_licence_names_the_resource(tmp_path):
    def drop_licence(pkg):
        del pkg["resources"][2]["licenses"]
    folder = copy_package(MINI, tmp_path / "mini", drop_licence)
    with pytest.raises(DatasetMetadataError) as err:
        load("iris_population", folder=folder)
    assert str(err.value).startswith("datapackage.json : ressource « iris_population » : le champ « licenses » manque")
    assert data.check_package(folder) == [str(err.value)]


@pytest.mark.parametrize("change, message", [
    (lambda r: r.update(licence_status="ok"), "le champ « licence_status » vaut « ok », attendu : verified ou unverified"),
    (lambda r: r.update(licence_status="unverified"), "le champ « licence_note » manque"),
    (lambda r: r.update(granularity="quartier"), "le champ « granularity » vaut « quartier », attendu :"),
    (lambda r: r.pop("provenance"), "le champ « provenance » manque"),
    (lambda r: r.update(synthetic=True), "une ressource synthétique doit dire « synthétique »"),
    (lambda r: r.update(territory={"field": "code_commune"}), "le champ « territory » doit nommer une colonne du schéma"),
    (lambda r: r.update(qpv_geography="2020"), "le champ « qpv_geography » vaut « 2020 », attendu : 2015 ou 2024"),
])
def test_incomplete_descriptions_are_refused(tmp_path, change, message):
    folder = copy_package(MINI, tmp_path / "mini", lambda pkg: change(pkg["resources"][2]))
    with pytest.raises(DatasetMetadataError, match="ressource « iris_population » : " + message.replace("(", r"\(")):
        resource("iris_population", folder)


def test_a_malformed_csv_names_the_file_and_column(tmp_path):
    folder = copy_package(MINI, tmp_path / "mini")
    path = folder / "iris_population.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("2450", "deux mille"), encoding="utf-8")
    with pytest.raises(DatasetFileError, match=r"iris_population\.csv : la colonne « population » n'est pas du type entier"):
        load("iris_population", folder=folder)


def test_a_missing_column_names_the_file_and_column(tmp_path):
    folder = copy_package(MINI, tmp_path / "mini")
    path = folder / "iris_population.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("part_jeunes", "jeunes"), encoding="utf-8")
    with pytest.raises(DatasetFileError, match=r"iris_population\.csv : la colonne « part_jeunes » déclarée dans datapackage\.json manque"):
        load("iris_population", folder=folder)


def test_a_malformed_geojson_names_the_file(tmp_path):
    folder = copy_package(MINI, tmp_path / "mini")
    (folder / "quartiers.geojson").write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(DatasetFileError, match=r"quartiers\.geojson : ce n'est pas une FeatureCollection GeoJSON"):
        load("quartiers", folder=folder)


def test_a_malformed_data_package_names_line_and_column(tmp_path):
    folder = copy_package(MINI, tmp_path / "mini")
    (folder / "datapackage.json").write_text('{"resources": [\n  {"name": "x",}\n]}', encoding="utf-8")
    with pytest.raises(DatasetFileError, match=r"datapackage\.json : ce n'est pas du JSON valide \(ligne 2, colonne 16\)"):
        load("x", folder=folder)


def test_a_missing_file_names_the_dataset(tmp_path):
    folder = copy_package(MINI, tmp_path / "mini")
    (folder / "quartiers.geojson").unlink()
    with pytest.raises(DatasetFileError, match=r"quartiers\.geojson : fichier du jeu de données « quartiers » introuvable"):
        load("quartiers", folder=folder)


def test_coverage_lists_the_codes_a_dataset_covers():
    assert data.coverage("quartiers", MINI) == ("commune", ["35047", "35238", "69381"])
    assert data.coverage("iris_population", MINI) == ("commune", ["35047", "35238", "69381", "69382"])
    level, departments = data.coverage("cepidc_mortalite_2010_2023", DATASETS)
    assert level == "departement" and len(departments) == 101
    assert data.coverage("marseille_temperature_carreaux", DATASETS) == ("", [])


def test_the_fixture_package_filters_multi_commune_rows():
    assert list(load("quartiers", territory="35047", folder=MINI)["code_qp"]) == ["QP035001"]
    assert list(load("quartiers", territory="243500139", folder=MINI)["code_qp"]) == ["QP035001"]
    assert list(load("quartiers", territory="69123", folder=MINI)["code_qp"]) == ["QP069001"]
    assert list(load("iris_population", territory="69", folder=MINI)["code_iris"]) == ["693810101", "693820101"]


# --- synthetic tables -----------------------------------------------------------------------------

def test_synthetic_tables_are_reproducible_byte_for_byte():
    for relative, content in synthetic.generate(DATASETS).items():
        assert (DATASETS / relative).read_bytes() == content, f"datasets/{relative} differs from what synthetic.py generates"


def test_synthetic_tables_are_labelled():
    for name in ("sante_iris_synthetique", "c2s_menages_synthetique"):
        res = resource(name, DATASETS)
        assert res["synthetic"] is True and "synthétique" in res["title"] and "synthétiques" in res["description"]
        assert len(res["sources"]) >= 2
    real = [n for n, r in data.resources(DATASETS).items() if r.get("synthetic")]
    assert sorted(real) == ["c2s_menages_synthetique", "sante_iris_synthetique"]


def test_c2s_take_up_is_calibrated_on_the_drees_rates():
    households = load("c2s_menages_synthetique", folder=DATASETS)
    eligible = households[households["eligible_c2s"].fillna(False)]
    non_take_up = 1 - eligible.groupby("droit_c2s")["recours_c2s"].mean()
    assert abs(non_take_up["sans participation"] - 0.31) < 0.03
    assert abs(non_take_up["avec participation"] - 0.67) < 0.04
    assert households.loc[~households["eligible_c2s"], "recours_c2s"].isna().all()


def test_health_rates_follow_poverty():
    health = load("sante_iris_synthetique", folder=DATASETS)
    filosofi = load("filosofi_iris_2018", folder=DATASETS)
    merged = health.merge(filosofi, left_on="code_iris", right_on="IRIS")
    assert len(merged) == len(filosofi) == len(health) == 12_395  # every IRIS of the national file
    for column, national in (("taux_traitement_antidiabetique", 5.3), ("taux_ald", 16.9), ("taux_traitement_antiasthmatique", 6.7)):
        correlation = merged[column].astype(float).corr(merged["DISP_TP6018"].astype(float))
        assert 0.3 < correlation < 0.85, f"{column}: correlation with poverty {correlation:.2f}"
        assert 0.7 * national < merged[column].mean() < 1.2 * national, column
    # diabetes: lower in the West, higher in Provence-Alpes-Côte d'Azur (REGION_DIABETES_FACTOR)
    by_department = merged.groupby(merged["code_commune"].str.slice(0, 2))["taux_traitement_antidiabetique"].mean()
    assert by_department["35"] < by_department["13"]


# --- prepare.py: the shipped files are what the script makes ---------------------------------------

@pytest.mark.skipif(not prepare.DEFAULT_SOURCE.is_dir(), reason="needs ../shared/opendata")
def test_prepare_makes_the_shipped_files(tmp_path):
    for step in prepare.STEPS:
        step(prepare.DEFAULT_SOURCE, tmp_path)
    for res in data.resources(DATASETS).values():
        made = tmp_path / res["path"]
        assert made.exists(), f"prepare.py does not make {res['path']}"
        assert made.read_bytes() == (DATASETS / res["path"]).read_bytes(), f"datasets/{res['path']} is not what prepare.py makes"


def test_qpv_communes_are_found_for_every_qpv():
    demo = load("qpv_demographie", folder=DATASETS)
    assert demo["CODES_COMMUNES"].notna().all()
    assert demo["CODES_COMMUNES"].str.fullmatch(r"[0-9AB]{5}( [0-9AB]{5})*").all()


# --- an indicator over the whole national file ------------------------------------------------------

def test_iris_poverty_gap_over_the_national_file():
    gap = data.iris_poverty_gap(load("filosofi_iris_2018", folder=DATASETS))
    assert len(gap) == 12_395
    one = gap[gap["code_commune"] == "01004"].sort_values("IRIS")
    assert abs(one["taux_pauvrete_commune"].iloc[0] - one["taux_pauvrete"].mean()) <= 0.05 + 1e-9
    assert list(one["rang_dans_commune"]) == list(one["taux_pauvrete"].rank(ascending=False, method="min").astype(int))


# --- the datasets page --------------------------------------------------------------------------------

def test_the_datasets_page_has_every_resource_with_its_facts():
    page = datasets_page.render(DATASETS)
    pkg = data.package(DATASETS)
    for res in pkg["resources"]:
        assert f"(dataset-{res['name']})=" in page
        assert f"{{download}}`{Path(res['path']).name} <{res['path']}>`" in page
    unverified = [r for r in pkg["resources"] if r["licence_status"] == "unverified"]
    assert page.count("**Licence non vérifiée.**") == len(unverified)
    assert page.count("{bdg-warning}`synthétique` —") == 2
    assert "{download}`datapackage.json <datapackage.json>`" in page
    # file names with <ville> must not become HTML tags
    assert "\\<ville\\>_iris_heat_vulnerability" in page


def test_the_datasets_page_says_the_qpv_geography():
    assert "| Géographie prioritaire | QPV de 2024 (codes QN…)" in datasets_page.render_resource(resource("qpv2024_marseille", DATASETS), DATASETS)
    assert "| Géographie prioritaire | QPV de 2015 (codes QP…)" in datasets_page.render_resource(resource("qpv_revenus_c2s", DATASETS), DATASETS)
    assert "Géographie prioritaire" not in datasets_page.render_resource(resource("communes", DATASETS), DATASETS)


def test_the_datasets_page_links_its_catalogue_entries():
    res = resource("communes", DATASETS)
    # the catalogue's role makes the link, and warns (fails the -W build) on an unknown id
    assert "| Catalogue | {catalogue}`insee-cog` |" in datasets_page.render_resource(res, DATASETS)


_DATASETS_CONF = """\
project = "Essai de la page des jeux de données"
extensions = ["myst_parser", "sphinx_design"]
language = "fr"
html_theme = "basic"
suppress_warnings = ["myst.header"]

def setup(app):
    from booktools import datasets_page
    datasets_page.setup_sphinx(app)
"""


def _build_datasets_page(root: Path, page: str, edit=None) -> tuple[str, str]:
    """A one-page book (`datasets/index.md` = `page`, beside a copy of the mini package): the
    body of the page's HTML and the build's warnings."""
    from sphinx.cmd.build import build_main

    copy_package(MINI, root / "datasets", edit)
    (root / "conf.py").write_text(_DATASETS_CONF, encoding="utf-8")
    (root / "index.md").write_text("# Essai\n\n```{toctree}\ndatasets/index\n```\n", encoding="utf-8")
    (root / "datasets" / "index.md").write_text(page, encoding="utf-8")
    warnings = root / "warnings.txt"
    code = build_main(["-b", "html", "-q", "-w", str(warnings), str(root), str(root / "_build")])
    assert code == 0, warnings.read_text(encoding="utf-8")
    html = (root / "_build" / "datasets" / "index.html").read_text(encoding="utf-8")
    body = html[html.index('<div class="body"'):html.index('<div class="sphinxsidebar"')]
    return body, warnings.read_text(encoding="utf-8")


def _unverified_and_synthetic(pkg):
    pkg["resources"][0].update(licence_status="unverified", licence_note="Conditions à confirmer.", synthetic=True,
                                  description="Table synthétique des tests.")


def test_the_datasets_directive_renders_what_the_generated_markdown_says(tmp_path):
    """The page an author writes with the directive is, for a reader, the page with the generated
    MyST pasted in its place: same sections, labels, badges, warnings, tables and downloads."""
    intro = "# Données\n\nIntroduction.\n\n## Vue d'ensemble\n\n"
    with_directive, warnings = _build_datasets_page(tmp_path / "a", intro + "```{datasets-package}\n```\n",
                                                    _unverified_and_synthetic)
    assert warnings == ""
    pasted_source = intro + datasets_page.render(tmp_path / "a" / "datasets") + "\n"
    pasted, _ = _build_datasets_page(tmp_path / "b", pasted_source, _unverified_and_synthetic)
    assert with_directive == pasted
    # and it holds the package: its sections, entries, the unverified licence, the downloads
    for text in ('id="dataset-communes"', "<h3>Communes d’essai", "Licence non vérifiée", "synthétique",
                 "_downloads/", 'class="reference download internal"'):
        assert text in with_directive, text
    # its headings are the page's own sections: « Vue d'ensemble », then one section per theme
    assert with_directive.index("<h2>Vue d’ensemble") < with_directive.index("<h2>Référentiels administratifs")


def test_a_broken_package_is_a_french_warning_on_the_datasets_page(tmp_path):
    def no_provenance(pkg):
        del pkg["resources"][0]["provenance"]

    body, warnings = _build_datasets_page(tmp_path, "# Données\n\n```{datasets-package}\n```\n", no_provenance)
    assert "directive « datasets-package »" in warnings and "provenance" in warnings
    assert "Traceback" not in warnings and 'id="dataset-communes"' not in body


def test_the_datasets_page_shows_the_package_through_a_visible_directive():
    page = (DATASETS / "index.md").read_text(encoding="utf-8")
    assert "```{datasets-package}\n```" in page
    # no hidden marker left in any page of the book
    for path in REPO.rglob("*.md"):
        if not {"node_modules", "_build", ".venv"} & set(path.relative_to(REPO).parts):
            assert "<!-- dq:" not in path.read_text(encoding="utf-8"), path


def test_communes_of_a_commune_brings_its_arrondissements():
    lyon = data.communes_of("69123", DATASETS)
    assert {"69123", *(f"6938{i}" for i in range(1, 10))} == lyon
    assert data.communes_of("35238", DATASETS) == {"35238"}
    with pytest.raises(UnknownTerritoryError):
        data.communes_of("99999", DATASETS)


def test_the_attributes_of_a_geojson_load_without_geometry():
    """`geometry=False`: a plain DataFrame of the typed attributes, filtered like the full layer
    (the jobs lab reads a count per QPV this way, with no GeoPandas in the browser)."""
    full = data.load("qpv2015_ille_et_vilaine", territory="35238")
    attributes = data.load("qpv2015_ille_et_vilaine", territory="35238", geometry=False)
    assert type(attributes) is pd.DataFrame and "geometry" not in attributes.columns
    assert attributes["demandeurs_emploi"].dtype == "Int64"
    assert attributes["code_qp"].tolist() == full["code_qp"].tolist() and len(attributes) == 5
    with pytest.raises(data.UnknownTerritoryError, match="Dijon"):
        data.load("qpv2015_ille_et_vilaine", territory="21231", geometry=False)
