"""The job-access lab where geolocated offers exist (Rennes), and the heat lab on a city with local
climate zones and 2015 QPV contours (Toulouse): the steps the training cities cannot run. Also the
job-access lab's one count of job seekers (categories A, B, C), on Rennes and the training cities."""

from __future__ import annotations

import html
import json
import re

import pytest

from booktools import coverage as lab_coverage
from booktools import notebooks
from conftest import REPO
from dataquartiers import data
from dataquartiers.indicators import format_fr
from lab_runs import WIDGET, error_outputs, map_captions, outputs, run_lab, text_of

TRAINING_TERRITORIES = [code for _city, commune, epci in lab_coverage.TRAINING_CITIES for code in (commune, epci)]


def test_emploi_lab_on_rennes_measures_the_distances():
    nb, error = run_lab("acces-emploi", "35238", FAMILLE_ROME="G16", RAYON_KM=5)
    assert error is None
    text = text_of(nb)
    assert "Le Blosne" in text and "offres à moins de 5 km" in text and "moyenne des 10 plus proches (km)" in text
    assert re.search(r"offres gardées</td>\s*<td[^>]*>731</td>", text)  # after removing duplicates and unusable codes
    assert "la colonne marque des métiers" in text
    assert "IRIS en QPV" in text and "reste de la commune" in text
    [caption] = map_captions(nb)
    assert "famille G16 — Personnel de cuisine ; Personnel polyvalent en restauration" in caption
    assert "quartiers prioritaires du territoire (Rennes)" in caption
    assert outputs(nb, WIDGET), "the lab must show widgets"


def _widget_states(nb, model: str) -> list[dict]:
    """The saved state of the lab's widgets of one kind (what the page shows of a menu or an Output)."""
    states = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    return [w["state"] for w in states.values() if w["model_name"] == model]


def _widget_output_html(nb) -> str:
    return "\n".join(o.get("data", {}).get("text/html", "") for state in _widget_states(nb, "OutputModel")
                     for o in state.get("outputs", []))


def test_emploi_lab_on_rennes_reads_as_a_trainee():
    """Issue 13: the offers counted after cleaning (never « 3 928 offres »), the menu's trade names,
    « non » written in the table of searched trades, and a header that says a mean is a mean."""
    nb, error = run_lab("acces-emploi", "35238", FAMILLE_ROME="G16", RAYON_KM=5)
    assert error is None
    text = html.unescape(text_of(nb))
    assert "Il reste 731 offres distinctes et utilisables, sur 3\u202f928 lignes du fichier" in text
    assert not re.search(r"3[\s\u202f]?928 offres", text)
    assert "Offres « G16 — Personnel de cuisine ; Personnel polyvalent en restauration » autour de chaque QPV" in text
    # the menu: the names of the trades of each domain, the code as value (FAMILLE_ROME's form)
    [menu] = _widget_states(nb, "DropdownModel")
    labels = menu["_options_labels"]
    assert labels[menu["index"]] == "G16 — Personnel de cuisine ; Personnel polyvalent en restauration"
    assert all(re.fullmatch(r"[A-Z]\d\d — \S.*", label) for label in labels), labels
    # the trades searched by each QPV's job seekers: every cell says oui or non
    [searched] = [page for page in outputs(nb, "text/html") if "Métiers recherchés par les demandeurs" in page]
    cells = re.findall(r"<td\b[^>]*>(.*?)</td>", searched, re.S)
    assert cells and "non" in cells and "oui" in cells and "" not in [c.strip() for c in cells]
    # the comparison with the rest of the commune: a mean of counts, weighted by population, and said so
    header = "offres à moins de 5 km (moyenne pondérée par la population)"
    [comparison] = [page for page in outputs(nb, "text/html") if "reste de la commune (moyennes pondérées" in page]
    assert header in html.unescape(comparison)
    widget_table = html.unescape(_widget_output_html(nb))
    assert header in widget_table
    assert "Offres « G16 — Personnel de cuisine ; Personnel polyvalent en restauration » : IRIS en QPV" in widget_table


def test_emploi_lab_on_saint_malo_widget_table_names_its_columns():
    """Without population by IRIS, the widget shows each QPV's measures: quartier first, a caption
    naming the domain's trades. A whole letter of the ROME is named by its number of trades."""
    nb, error = run_lab("acces-emploi", "35288", FAMILLE_ROME="K")
    assert error is None
    text = html.unescape(text_of(nb))
    assert re.search(r"Offres « K — \d+ métiers » autour de chaque QPV", text)
    widget_table = html.unescape(_widget_output_html(nb))  # the menu falls back to the first domain, K13
    assert ("Offres « K13 — Assistance auprès d'adultes ; Assistance auprès d'enfants ; Services domestiques » "
            "autour de chaque QPV (distances à vol d'oiseau, en km)") in widget_table
    headers = re.findall(r"<th\b[^>]*>(.*?)</th>", widget_table, re.S)
    assert headers[:2] == ["quartier", "offres à moins de 3 km"], headers
    assert "La Découverte" in widget_table


def test_no_page_counts_the_file_lines_as_offers():
    """The file has 3 928 lines but 731 usable offers: no source the book shows says « 3 928 offres »."""
    sources = [REPO / "labs" / "acces-emploi.ipynb", REPO / "use-cases" / "acces-emploi.md",
               REPO / "labs" / "acces-emploi.animation.yml", REPO / "datasets" / "datapackage.json",
               *sorted((REPO / "chapters").glob("*.md")), *sorted((REPO / "training").rglob("*.yml"))]
    for path in sources:
        assert not re.search(r"3[\s\u202f\u00a0]?928 offres", path.read_text(encoding="utf-8")), path
    [resource] = [r for r in json.loads((REPO / "datasets" / "datapackage.json").read_text(encoding="utf-8"))["resources"]
                  if r["name"] == "rennes_offres_emploi"]
    assert "il reste 731 offres distinctes et utilisables" in resource["description"]


def test_emploi_lab_unknown_job_family_says_which_exist():
    nb, error = run_lab("acces-emploi", "35238", FAMILLE_ROME="A14")
    assert error is not None
    [failure] = error_outputs(nb)
    message = "\n".join(failure.traceback)
    assert "Aucune offre dont le code ROME commence par « A14 »" in message and "K22" in message
    assert "Traceback" not in message


def _counts(territory: str) -> tuple[int, int]:
    """Job seekers of categories A, B, C and A to E of the territory's QPV, where both are published."""
    table = data.load("qpv_emploi", territory=territory)
    known = table["ABC"].notna() & table["ABCDE"].notna()
    return int(table.loc[known, "ABC"].sum()), int(table.loc[known, "ABCDE"].sum())


@pytest.mark.parametrize("territory", ["21231", "13055", "69123"])
def test_emploi_lab_says_its_two_counts_on_a_training_city(territory):
    """The figures the lab prints for the chosen territory are the national table's, and the
    profile is given in the one count the lab keeps."""
    nb, error = run_lab("acces-emploi", territory)
    assert error is None
    text = html.unescape(text_of(nb))
    abc, abcde = _counts(territory)
    said = (f"{data.name_of(territory)}, quartiers où les deux comptes sont publiés : {format_fr(abc, 0)} demandeurs "
            f"d'emploi des catégories A, B, C, {format_fr(abcde, 0)} des catégories A à E, soit "
            f"{format_fr(100 * (abcde - abc) / abc)} % de plus")
    assert said in text
    assert "demandeurs d'emploi (cat. A, B, C)" in text and "dont D et E" in text
    assert "fichier eSIGAT" not in text  # the compiled count exists for Ille-et-Vilaine only


def test_emploi_lab_weighs_the_qpv_of_rennes_by_the_count_it_keeps():
    nb, error = run_lab("acces-emploi", "35238", FAMILLE_ROME="G16", RAYON_KM=5)
    assert error is None
    text = html.unescape(text_of(nb))
    ipro = data.load("qpv_emploi", territory="35238").set_index("LIBGEO")
    compiled = data.load("qpv2015_ille_et_vilaine", territory="35238").set_index("nom_qp")["demandeurs_emploi"]
    # the compiled count is above even categories A to E for every QPV, as the lab says
    assert all(compiled[name] > ipro.loc[name, "ABCDE"] > ipro.loc[name, "ABC"] for name in compiled.index)
    said = re.search(r"Le fichier eSIGAT donne ([\d\u202f]+) demandeurs d'emploi pour ces quartiers, ([\d,]+) % de plus", text)
    assert said and said.group(1) == format_fr(compiled.sum(), 0)
    # the step-4 table of distances: each QPV with its count of categories A, B, C, not the compiled one
    [distances] = [html.unescape(page) for page in outputs(nb, "text/html") if "autour de chaque QPV" in page]
    row = re.search(r"Maurepas</td>\s*<td[^>]*>([^<]+)</td>", distances)
    assert "demandeurs d'emploi (cat. A, B, C)" in distances
    assert row and row.group(1) == format_fr(ipro.loc["Maurepas", "ABC"], 0)
    assert "pondérée par le nombre de demandeurs d'emploi (catégories A, B, C)" in text


def test_the_gap_between_the_two_counts_said_in_the_lab_holds():
    """« de 8 à 13 % » (limits of the lab, use case) and the share of category A of the exercise,
    « de 30 à 45 % » left out: recomputed on the training territories and Ille-et-Vilaine."""
    lab = "\n".join(notebooks.source(c) for c in notebooks.read(REPO / "labs" / "acces-emploi.ipynb")["cells"])
    use_case = (REPO / "use-cases" / "acces-emploi.md").read_text(encoding="utf-8")
    gaps = []
    for territory in TRAINING_TERRITORIES + ["35238", "35288"]:
        abc, abcde = _counts(territory)
        gaps.append(100 * (abcde - abc) / abc)
    assert round(min(gaps)) == 8 and round(max(gaps)) == 13
    assert "plus élevé (de 8 à 13 % sur les territoires de\n  formation et en Ille-et-Vilaine)" in lab
    assert "de 8 à\n  13 % de plus sur les territoires de formation et en Ille-et-Vilaine" in use_case
    left_out = []
    for territory in ["35238", "21231", "13055", "69123"]:
        table = data.load("qpv_emploi", territory=territory)
        known = table["A"].notna() & table["ABC"].notna()
        left_out.append(100 - 100 * table.loc[known, "A"].sum() / table.loc[known, "ABC"].sum())
    assert 30 <= round(min(left_out[1:])) and round(max(left_out[1:])) <= 42 and round(left_out[0]) == 44
    assert "près de la moitié des demandeurs à Rennes, et de 30 à 42 % à Marseille, Lyon ou Dijon" in lab
    # the quiz's figures for Dijon
    quiz = (REPO / "training" / "quiz" / "acces-emploi.quiz.yml").read_text(encoding="utf-8")
    abc, abcde = _counts("21231")
    assert (f"Dijon, la table IPRO donne {format_fr(abc, 0)} demandeurs d'emploi de catégories\n      A, B, C et "
            f"{format_fr(abcde, 0)} de catégories A à E").replace("\u202f", " ") in quiz
    assert round(100 * (abcde - abc) / abc) == 10 and "environ 10 % de plus à Dijon" in quiz


def test_canicules_lab_on_toulouse_builds_the_lcz_index():
    nb, error = run_lab("canicules", "31555")
    assert error is None
    text = text_of(nb)
    assert "Couche manquante : température de surface par carreau de 200 m pour Toulouse (31555)" in text
    assert "Exposition : zones climatiques locales (LCZ 2022)." in text
    assert "Les dix IRIS les plus vulnérables à la chaleur, Toulouse" in text
    [caption] = map_captions(nb)
    assert "quartiers prioritaires sont entourés en bleu" in caption and "Toulouse" in caption
