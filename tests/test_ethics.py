"""The ethics charter: the charter as data, the labs' assessments and their checks (French
messages), the content generated from them for the pages (docutils nodes: hostile text stays text),
the assessment shown on lab pages, the trainees' self-assessment in Python.

Broken assessments live in tests/fixtures/ethics/broken/; each is dropped beside the fixture lab
(tests/fixtures/ethics/repo/labs/demo.ipynb) and must give exactly its message. The built pages
and the self-assessment form in Chromium: tests/test_ethics_pages.py.
"""

from __future__ import annotations

import ast
import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document
from sphinx import addnodes

from conftest import REPO
from booktools import ethics
from booktools.ethics import (DIRECTIVES, LabAssessment, NodeMaker, check_repository, render_principle_table,
                              render_theme_chart, render_theme_page)
from dataquartiers.charter import (MAX_YAML_BYTES, EthicsError, SelfAssessmentForm, _read_yaml, assessment_yaml,
                                   fmt_number, grid_html, grid_markdown, load_charter, theme_averages)

FIXTURES = Path(__file__).parent / "fixtures" / "ethics"
CHARTER = REPO / "ethics-charter" / "charter.yml"

# The grid of the seed ("synthèse des scores moyens"), in its order.
SEED_THEMES = {
    "Science des données et société": ["Bienfaisance", "Innovation soutenable",
                                       "Solidarité, diversité et non-discrimination", "Facteur humain"],
    "Science des données et individu": ["Autonomie individuelle"],
    "Qualité des données et sécurité du système d'information": ["Qualité des données", "Sécurité des données",
                                                                  "Robustesse des algorithmes"],
    "Transparence": ["Information claire et accessible", "Explicabilité des algorithmes"],
    "Gouvernance des données dans un cadre de confiance": ["Évaluation des risques", "Apprentissage collectif",
                                                           "Inclusion des citoyens", "Intégrité"],
    "Réciprocité": ["Reconnaissance"],
}
SEED_THEME_AVERAGES = {"society": 3.8, "individual": 4, "quality-security": 3.8, "transparency": 3.8,
                       "governance": 3.7, "reciprocity": 4}
SHOWN = "labs/demo.ethics.yml"


@pytest.fixture(scope="module")
def charter():
    return load_charter(CHARTER)


@pytest.fixture
def fixture_repo(tmp_path):
    """A copy of the fixture book root, with the real charter, where an assessment can be swapped."""
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "repo", root)
    (root / "ethics-charter").mkdir()
    shutil.copy(CHARTER, root / "ethics-charter" / "charter.yml")
    return root


def errors_with(root: Path, assessment: Path | None = None) -> list[str]:
    if assessment is not None:
        shutil.copy(assessment, root / "labs" / "demo.ethics.yml")
    return check_repository(root).errors


def make_document(docname: str = "ethics-charter/x"):
    document = new_document(docname, get_default_settings(Parser))
    return document, NodeMaker(document, docname)


def table_rows(table: nodes.table) -> list[list[str]]:
    """The text of every row of a docutils table (header row first), cell by cell."""
    return [[" ".join(entry.astext().split()) for entry in row.findall(nodes.entry)]
            for row in table.findall(nodes.row)]


def refs(node: nodes.Node) -> dict[str, str]:
    """Text → target of every cross-reference under a node."""
    return {" ".join(x.astext().split()): x["reftarget"] for x in node.findall(addnodes.pending_xref)}


# --- the charter -----------------------------------------------------------------------------

def test_charter_is_the_labelled_grid(charter):
    assert {t.title: [p.title for p in t.principles] for t in charter.themes} == SEED_THEMES
    assert len(charter.principles) == 15
    assert [lv.level for lv in charter.scale] == [0, 1, 2, 3, 4]
    assert all(lv.meaning for lv in charter.scale)
    assert charter.label["name"] == "label Ekitia" and charter.label["awarded_by"] == "Ekitia"
    assert "premier programme en France" in charter.label["fact"]
    assert "groupement d'intérêt public" in charter.label["about"]  # Ekitia is a GIP, not an association
    assert {f["name"] for f in charter.frameworks} == {"Data Ethics Framework", "Data Ethics Canvas", "deon"}


def test_only_robustness_asks_to_cite_the_limits_from_3(charter):
    assert {p.id: p.cite_limits_from for p in charter.principles if p.cite_limits_from} == {"algorithm-robustness": 3}


def test_every_principle_has_a_definition_and_questions(charter):
    for p in charter.principles:
        assert len(p.definition) > 40, p.id
        assert len(p.questions) >= 3, p.id
        assert all(q.endswith("?") for q in p.questions), p.id


def test_the_questions_cover_the_neighbourhood_issues(charter):
    text = " ".join(q for p in charter.principles for q in p.questions).lower()
    for issue in ("stigmatiser", "absent des données", "moins de 11", "données privées d'intérêt général",
                  "restitution aux habitants"):
        assert issue in text, issue


def test_reference_scores_are_the_seed_synthesis(charter):
    ref = charter.reference
    assert ref["principle_scores"]["beneficence"] == 3.5 and ref["principle_scores"]["integrity"] == 3
    assert ref["theme_averages"] == SEED_THEME_AVERAGES


def test_a_bad_charter_names_the_field_in_french(tmp_path):
    data = yaml.safe_load(CHARTER.read_text(encoding="utf-8"))
    data["scale"][4]["level"] = 7
    del data["themes"][0]["principles"][1]["definition"]
    data["themes"][1]["principles"][0]["id"] = "beneficence"
    path = tmp_path / "charter.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(EthicsError) as err:
        load_charter(path)
    assert str(err.value).splitlines() == [
        f"{path} : champ « scale[4].level » : 7 dépasse le maximum (4)",
        f"{path} : champ « themes[0].principles[1].definition » manquant",
    ]
    data["scale"][4]["level"] = 4
    data["themes"][0]["principles"][1]["definition"] = "Une définition."
    data["themes"][2]["principles"][2]["cite_limits_from"] = 7
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(EthicsError) as err:
        load_charter(path)
    assert str(err.value) == (f"{path} : champ « themes[2].principles[2].cite_limits_from » : 7 dépasse le "
                              "maximum (4)")
    del data["themes"][2]["principles"][2]["cite_limits_from"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(EthicsError, match=r"identifiant « beneficence » employé deux fois \(c'est déjà celui "
                                          r"d'un principe\)"):
        load_charter(path)


def test_charter_loads_without_jsonschema(monkeypatch):
    """In the browser (Pyodide) jsonschema may be missing: the charter still loads."""
    monkeypatch.setitem(sys.modules, "jsonschema", None)
    assert len(load_charter(CHARTER).principles) == 15


def test_an_unknown_id_is_a_french_sentence(charter):
    with pytest.raises(KeyError) as err:
        charter.theme("nulle-part")
    assert str(err.value) == ("thème « nulle-part » inconnu de la charte (ses thèmes : society, individual, "
                              "quality-security, transparency, governance, reciprocity)")


# --- YAML read with bounds ------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("summary: [oups\nassessed:\n", "x.yml : YAML invalide (ligne 2, colonne 9) : un crochet « [ » n'est pas fermé"),
    ("a: b: c\n", "x.yml : YAML invalide (ligne 1, colonne 5) : un « : » inattendu ; mettez entre guillemets un "
                  "texte qui contient « : », ou vérifiez l'indentation"),
    ("a:\n\t- b\n", "x.yml : YAML invalide (ligne 2, colonne 1) : une tabulation ou un caractère interdit ; "
                    "indentez avec des espaces"),
    ("a: &x [1, 2]\nb: *x\n", "x.yml : les ancres et les alias YAML (« & », « * ») ne sont pas acceptés "
                              "(ligne 1, colonne 4) ; écrivez la valeur en entier"),
    ("summary: un\nrisks: []\nsummary: deux\n", "x.yml : champ « summary » écrit deux fois (lignes 1 et 3) ; "
                                                "gardez-en un seul"),
])
def test_yaml_problems_are_named_in_french(tmp_path, text, expected):
    path = tmp_path / "x.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EthicsError) as err:
        _read_yaml(path, "x.yml")
    assert str(err.value) == expected


def test_a_huge_yaml_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "x.yml"
    path.write_text("summary: " + "a" * MAX_YAML_BYTES + "\n", encoding="utf-8")
    with pytest.raises(EthicsError, match=r"^x\.yml : fichier trop volumineux \(\d+ octets ; au plus 524288 octets"):
        _read_yaml(path, "x.yml")


# --- the repository ----------------------------------------------------------------------------

def test_every_lab_has_a_valid_assessment():
    """The gate `make test` shares with the build: the same command, on the real repository."""
    proc = subprocess.run([sys.executable, "-m", "booktools.ethics", "check"], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    labs = sorted((REPO / "labs").glob("*.ipynb"))
    assert (f"éthique : {len(labs)} labs évalués au regard des 15 principes de ethics-charter/charter.yml : "
            "tout est en ordre") in proc.stdout


def test_every_high_robustness_score_cites_an_existing_limits_section():
    report = check_repository(REPO)
    for a in report.assessments:
        if a.score("algorithm-robustness") >= 3:
            cited = a.limits_section("algorithm-robustness")
            assert cited and cited.startswith("Limites"), a.stem
            assert cited in ethics.section_titles(json.loads(a.notebook.read_text(encoding="utf-8"))), a.stem


def test_prise_en_main_assessment_is_real(charter):
    report = check_repository(REPO)
    lab = next(a for a in report.assessments if a.stem == "prise-en-main")
    assert lab.title.startswith("Prise en main")
    # what the lab reads: the national tables, and every contour layer a territory may need
    assert {"filosofi_iris_2018", "caf_iris_2020", "qpv2024_communes", "qpv2024_marseille"} <= set(lab.resources)
    assert lab.score("integrity") == 2 and lab.score("citizen-inclusion") == 1
    assert any(r["status"] == "open" and "licence" in r["risk"] for r in lab.data["risks"])


# --- broken assessments: exact messages ---------------------------------------------------------

LIMITS_FOUND = "sections des limites du lab : « Limites »"


@pytest.mark.parametrize("case, expected", [
    ("missing-principle", [f"{SHOWN} : principe « human-factor » absent ; chaque principe de la charte demande "
                           "un score et une justification"]),
    ("score-5", [f"{SHOWN} : principe « beneficence » : le score 5 est hors de l'échelle 0 à 4"]),
    ("empty-justification", [f"{SHOWN} : principe « integrity » : la justification est vide"]),
    ("undeclared-dataset", [f"{SHOWN} : le jeu de données « menages_synthetiques » est lu par labs/demo.ipynb "
                            "(cellule 4) mais n'est pas déclaré sous « datasets »"]),
    ("synthetic-not-said", [f"{SHOWN} : le jeu de données « menages_synthetiques » est marqué synthétique dans "
                            "datasets/datapackage.json : dites-le avec « synthetic_notice » (ce que des données "
                            "synthétiques permettent et ne permettent pas de conclure)"]),
    ("unknown-dataset", [f"{SHOWN} : le jeu de données « fichier_inconnu » est déclaré sous « datasets » mais "
                         "labs/demo.ipynb ne le lit jamais (ni appel à load(), ni fonction du paquet qui le lise)",
                         f"{SHOWN} : jeu de données « fichier_inconnu » absent de datasets/datapackage.json (ses "
                         "jeux de données : contours_a, contours_b, menages_synthetiques, population_iris)"]),
    ("licence-retyped", [f"{SHOWN} : champ « datasets[0].licence » non prévu (la licence et le statut d'un jeu de "
                         "données se lisent dans datasets/datapackage.json : on ne les recopie pas) ; champs "
                         "possibles : name, personal_data_notice, synthetic_notice, use"]),
    ("robustness-without-limits", [f"{SHOWN} : principe « algorithm-robustness » : un score de 4 doit renvoyer à "
                                   "la section des limites du lab ; ajoutez « limits_section: » suivi de son titre "
                                   f"({LIMITS_FOUND})"]),
    ("limits-not-a-section", [f"{SHOWN} : principe « algorithm-robustness » : limits_section « Limites du lab » "
                              f"n'est le titre d'aucune section de labs/demo.ipynb ({LIMITS_FOUND})"]),
    ("limits-wrong-section", [f"{SHOWN} : principe « algorithm-robustness » : limits_section « Lab de "
                              "démonstration : deux jeux de données » n'est pas une section des limites (son titre "
                              f"doit commencer par « Limites » ; {LIMITS_FOUND})"]),
])
def test_broken_assessment_gives_its_message(fixture_repo, case, expected):
    assert errors_with(fixture_repo, FIXTURES / "broken" / f"{case}.ethics.yml") == expected


def test_the_valid_fixture_passes(fixture_repo):
    report = check_repository(fixture_repo)
    assert report.errors == []
    assert [a.stem for a in report.assessments] == ["demo"]


def test_a_low_robustness_score_needs_no_limits_section(fixture_repo):
    path = fixture_repo / "labs" / "demo.ethics.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["principles"]["algorithm-robustness"] = {"score": 2, "justification": "Pas encore éprouvé."}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert errors_with(fixture_repo) == []


def test_a_lab_without_a_limits_section_is_told_to_write_one(fixture_repo):
    nb_path = fixture_repo / "labs" / "demo.ipynb"
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    nb["cells"] = nb["cells"][:-1]  # the « Limites » cell
    nb_path.write_text(json.dumps(nb), encoding="utf-8")
    assert errors_with(fixture_repo, FIXTURES / "broken" / "robustness-without-limits.ethics.yml") == [
        f"{SHOWN} : principe « algorithm-robustness » : un score de 4 doit renvoyer à la section des limites du lab ; "
        "ajoutez « limits_section: » suivi de son titre (labs/demo.ipynb n'a aucune section dont le titre commence "
        "par « Limites » : écrivez-la d'abord)"]


def test_command_line_reports_and_fails_in_french(fixture_repo):
    shutil.copy(FIXTURES / "broken" / "score-5.ethics.yml", fixture_repo / "labs" / "demo.ethics.yml")
    proc = subprocess.run([sys.executable, "-m", "booktools.ethics", "check", "--root", str(fixture_repo)],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [f"{SHOWN} : principe « beneficence » : le score 5 est hors de l'échelle 0 à 4",
                                        "éthique : 1 problème à corriger"]


def test_command_line_help_and_usage_errors_are_french():
    help_text = subprocess.run([sys.executable, "-m", "booktools.ethics", "--help"], capture_output=True, text=True,
                               cwd=REPO).stdout
    assert help_text.startswith("utilisation : python -m booktools.ethics")
    for words in ("afficher cette aide et quitter", "vérifier la charte et l'évaluation de chaque labs/*.ipynb",
                  "créer l'évaluation à remplir d'un lab"):
        assert words in help_text
    assert not re.search(r"\b(usage|show this help|positional arguments)\b", help_text)
    wrong = subprocess.run([sys.executable, "-m", "booktools.ethics", "chek"], capture_output=True, text=True, cwd=REPO)
    assert wrong.returncode == 2
    assert wrong.stderr.splitlines()[-1] == ("python -m booktools.ethics : erreur : argument COMMANDE : choix "
                                             "inconnu : 'chek' (au choix : 'check', 'new') (voir --help)")


def test_other_score_and_structure_errors(fixture_repo):
    data = yaml.safe_load((fixture_repo / "labs" / "demo.ethics.yml").read_text(encoding="utf-8"))
    data["principles"]["beneficence"]["score"] = 2.5
    data["principles"]["explainability"]["score"] = None
    data["principles"]["recognition"]["justification"] = None
    data["principles"]["benefits"] = {"score": 1, "justification": "?"}
    data["risks"][0]["status"] = "done"
    data["risks"][1]["principles"] = ["integrity", "honesty"]
    del data["summary"]
    (fixture_repo / "labs" / "demo.ethics.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    ids = ", ".join(load_charter(CHARTER).principle_ids)
    assert errors_with(fixture_repo) == [
        f"{SHOWN} : champ « summary » manquant",
        f"{SHOWN} : principe « benefits » inconnu (les principes de la charte : {ids})",
        f"{SHOWN} : principe « beneficence » : le score « 2.5 » n'est pas un entier de 0 à 4",
        f"{SHOWN} : principe « explainability » : score vide ; donnez un entier de 0 à 4",
        f"{SHOWN} : principe « recognition » : la justification est vide",
        f"{SHOWN} : champ « risks[0].status » : « done » n'est pas une valeur possible (« handled », « partial », "
        "« open »)",
        f"{SHOWN} : champ « risks[1].principles[1] » : « honesty » n'est pas une valeur possible ("
        + ", ".join(f"« {i} »" for i in ids.split(", ")) + ")",
    ]


def test_missing_assessment_and_orphan(fixture_repo):
    (fixture_repo / "labs" / "demo.ethics.yml").rename(fixture_repo / "labs" / "ancien-lab.ethics.yml")
    assert errors_with(fixture_repo) == [
        "labs/demo.ipynb : pas d'évaluation éthique ; créez labs/demo.ethics.yml "
        "(python -m booktools.ethics new labs/demo.ipynb)",
        "labs/ancien-lab.ethics.yml : aucun lab labs/ancien-lab.ipynb à côté",
    ]


def test_new_writes_a_skeleton_that_fails_until_filled(fixture_repo):
    (fixture_repo / "labs" / "demo.ethics.yml").unlink()
    proc = subprocess.run([sys.executable, "-m", "booktools.ethics", "new", "labs/demo.ipynb"],
                          cwd=fixture_repo, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("labs/demo.ethics.yml : créé ; remplissez-le")
    skeleton = yaml.safe_load((fixture_repo / "labs" / "demo.ethics.yml").read_text(encoding="utf-8"))
    assert [d["name"] for d in skeleton["datasets"]] == ["population_iris", "menages_synthetiques"]
    assert list(skeleton["principles"]) == load_charter(CHARTER).principle_ids
    assert skeleton["principles"]["algorithm-robustness"]["limits_section"] == "Limites"  # found in the notebook
    errors = errors_with(fixture_repo)
    assert f"{SHOWN} : principe « beneficence » : score vide ; donnez un entier de 0 à 4" in errors
    assert f"{SHOWN} : champ « summary » vide" in errors
    again = subprocess.run([sys.executable, "-m", "booktools.ethics", "new", "labs/demo.ipynb"],
                           cwd=fixture_repo, capture_output=True, text=True)
    assert again.returncode == 1 and again.stderr.strip() == "labs/demo.ethics.yml : existe déjà (on ne l'écrase pas)"


def test_yaml_syntax_error_names_line(fixture_repo):
    (fixture_repo / "labs" / "demo.ethics.yml").write_text("summary: [oups\nassessed:\n", encoding="utf-8")
    assert errors_with(fixture_repo) == [f"{SHOWN} : YAML invalide (ligne 2, colonne 9) : un crochet « [ » n'est "
                                         "pas fermé"]


def test_licence_and_personal_data_come_from_the_data_package(fixture_repo):
    package_path = fixture_repo / "datasets" / "datapackage.json"
    package = json.loads(package_path.read_text(encoding="utf-8"))
    package["resources"][0]["licenses"] = []
    package["resources"][0]["personal_data"] = True
    package_path.write_text(json.dumps(package), encoding="utf-8")
    assert errors_with(fixture_repo) == [
        f"{SHOWN} : jeu de données « population_iris » sans licence dans datasets/datapackage.json "
        "(champ « licenses » de la ressource)",
        f"{SHOWN} : le jeu de données « population_iris » est marqué personnel dans datasets/datapackage.json : "
        "dites-le avec « personal_data_notice » (base légale, minimisation et protection)",
    ]
    package["resources"][1]["synthetic"] = False
    package_path.write_text(json.dumps(package), encoding="utf-8")
    assert (f"{SHOWN} : jeu de données « menages_synthetiques » : « synthetic_notice » est rempli mais "
            "datasets/datapackage.json ne le marque pas synthétique") in errors_with(fixture_repo)


def test_every_message_of_the_check_is_french(fixture_repo):
    """No English sentence from PyYAML, jsonschema or the check itself in any message of the fixtures."""
    english = re.compile(r"\b(is|are|not|the|expected|got|missing|field|unknown|declared|never|found|line)\b")
    for case in sorted((FIXTURES / "broken").glob("*.ethics.yml")):
        for message in errors_with(fixture_repo, case):
            text = re.sub(r"« [^»]* »|\S+\.(yml|ipynb|json)\b|\([^()]*:[^()]*\)$", "", message)
            assert not english.search(text), message


# --- the content of the pages (nodes) ---------------------------------------------------------------

def fake_assessment(charter, stem: str, score: int, justification: str | None = None) -> LabAssessment:
    data = {"summary": "s", "assessed": {"date": "2026-01-01", "by": "test"}, "datasets": [],
            "principles": {pid: {"score": score, "justification": justification or f"{stem} {pid}"}
                           for pid in charter.principle_ids},
            "risks": [{"risk": f"risque {stem}", "principles": ["integrity"], "handling": "h", "status": "partial"}]}
    data["principles"]["algorithm-robustness"]["limits_section"] = "Limites"
    return LabAssessment(stem=stem, title=f"Lab {stem} : test", path=Path(f"labs/{stem}.ethics.yml"),
                         notebook=Path(f"labs/{stem}.ipynb"), data=data)


def test_averages_over_labs_and_themes(charter):
    labs = [fake_assessment(charter, "a", 4), fake_assessment(charter, "b", 2)]
    _, make = make_document()
    figure, table = render_theme_chart(charter, labs, make)
    rows = table_rows(table)
    assert rows[0] == ["Thème", "Lab a", "Lab b", "Moyenne des labs", "Programme 2019-2022"]
    # every theme averages 3 over the two labs; the programme's reference is beside it
    assert [r[3] for r in rows[1:]] == ["3,0"] * 6
    assert rows[-1] == ["Réciprocité", "4,0", "2,0", "3,0", "4,0"]
    assert refs(table)["Réciprocité"] == "/ethics-charter/themes/reciprocity"
    assert refs(table)["Lab a"] == "ethics-assessment-a"
    [table] = render_principle_table(charter, labs, make)
    rows = table_rows(table)
    assert ["", "Facteur humain", "4", "2", "3,0", "4,0"] in rows
    assert rows[-1] == ["Moyenne générale", "", "4,0", "2,0", "3,0", "3,8"]
    assert refs(table)["Facteur humain"] == "ethics-human-factor"


def test_the_chart_is_an_accessible_svg_from_a_template(charter):
    report = check_repository(REPO)
    _, make = make_document()
    figure, _table = render_theme_chart(charter, report.assessments, make)
    svg = figure.astext()
    means = theme_averages(charter, {pid: sum(a.score(pid) for a in report.assessments) / len(report.assessments)
                                     for pid in charter.principle_ids})
    for t in charter.themes:
        assert f"{t.title} : {fmt_number(means[t.id])} sur 4" in html.unescape(svg)  # in the SVG's <desc>
    assert '<title id="dq-ethics-chart-title">' in svg and '<desc id="dq-ethics-chart-desc">' in svg
    assert 'role="img"' in svg and 'aria-labelledby="dq-ethics-chart-title dq-ethics-chart-desc"' in svg
    assert "Qualité des données et sécurité du système d&#39;information" in svg  # escaped by the template


def test_hostile_text_stays_text_in_the_pages(charter):
    """What a person wrote in a YAML file never becomes markup: no raw HTML, no role, no table cell."""
    hostile = "<script>alert(1)</script> {ref}`piège <x>` | cellule ** gras ** [lien](javascript:alert(1))"
    labs = [fake_assessment(charter, "a", 3, justification=hostile)]
    _, make = make_document("ethics-charter/themes/governance")
    [page] = render_theme_page(charter, "governance", labs, make)
    assert not list(page.findall(nodes.raw))
    sources = {charter.label["url"]} | {f["url"] for f in charter.frameworks}
    assert {x["refuri"] for x in page.findall(nodes.reference)} <= sources  # the charter's sources only
    assert {x["reftarget"] for x in page.findall(addnodes.pending_xref)} <= {
        "/ethics-charter/index", "ethics-scale", "ethics-assessment-a"}
    assert " ".join(hostile.split()) in " ".join(page.astext().split())


def test_theme_page_lists_questions_and_labs(charter):
    labs = [fake_assessment(charter, "a", 3)]
    document, make = make_document("ethics-charter/themes/governance")
    [page] = render_theme_page(charter, "governance", labs, make)
    document += page
    assert page[0].astext() == "Gouvernance des données dans un cadre de confiance"
    assert "ethics-theme-governance" in page["names"]
    sections = [s for s in page.children if isinstance(s, nodes.section)]
    assert [s[0].astext() for s in sections] == ["Évaluation des risques", "Apprentissage collectif",
                                                 "Inclusion des citoyens", "Intégrité", "Sources"]
    inclusion = sections[2]
    assert "ethics-citizen-inclusion" in inclusion["names"]
    assert "Une restitution aux habitants est-elle prévue\u202f: où, quand, sous quelle forme\u202f?" in inclusion.astext()
    [table] = list(inclusion.findall(nodes.table))
    assert table_rows(table)[1] == ["Lab a", "3 / 4", "a citizen-inclusion"]


def test_the_robustness_entry_links_the_labs_limits_section(charter):
    labs = [fake_assessment(charter, "a", 4)]
    _, make = make_document("ethics-charter/themes/quality-security")
    [page] = render_theme_page(charter, "quality-security", labs, make)
    robustness = next(s for s in page.children if isinstance(s, nodes.section) and s[0].astext() == "Robustesse des algorithmes")
    assert "un score de 3 ou 4 renvoie à la section des limites du lab" in robustness.astext()
    [table] = list(robustness.findall(nodes.table))
    assert table_rows(table)[1][2] == "a algorithm-robustness Limites : voir la section « Limites » du lab Lab a."
    assert refs(table)["« Limites »"] == "ethics-limits-a"


def test_the_pages_use_visible_directives_and_every_theme_has_its_page(charter):
    toc = (REPO / "_toc.yml").read_text(encoding="utf-8")
    for t in charter.themes:
        page = (REPO / "ethics-charter" / "themes" / f"{t.id}.md").read_text(encoding="utf-8")
        assert f"```{{ethics-theme}} {t.id}\n```" in page
        assert f"file: ethics-charter/themes/{t.id}\n" in toc
    used = set()
    for page in (REPO / "ethics-charter").rglob("*.md"):
        text = page.read_text(encoding="utf-8")
        assert "dq-ethics:" not in text, page  # no hidden comment marker left
        used |= set(re.findall(r"```\{(ethics-[a-z-]+)\}", text))
    assert used == set(DIRECTIVES)  # every directive is used, none is unknown


def test_an_unknown_theme_is_named(charter):
    _, make = make_document()
    with pytest.raises(KeyError, match="thème « nulle-part » inconnu de la charte"):
        render_theme_page(charter, "nulle-part", [], make)


def test_lab_page_section(charter):
    """The nodes appended to a lab page: headings with unique ids, every score and justification, the
    limits section of the lab labelled and linked."""
    report = check_repository(REPO)
    lab = next(a for a in report.assessments if a.stem == "prise-en-main")
    document, make = make_document("labs/prise-en-main")
    limits = make.section("Limites")
    document += limits
    ethics.pages.mark_limits_sections(lab, document)
    assert document.nameids["ethics-limits-prise-en-main"] == limits["ids"][0]
    assert document.nametypes["ethics-limits-prise-en-main"] and not document.nametypes["limites"]
    section = ethics.assessment_section(charter, lab, document, "labs/prise-en-main")
    document += section
    titles = [n.astext() for n in section.findall(lambda n: n.tagname == "title")]
    assert titles == ["Évaluation éthique du lab", "Scores par principe", "Risques et réponses", "Données évaluées"]
    assert section["ids"] == ["ethics-assessment-prise-en-main"]
    text = " ".join(section.astext().split())
    for pid in charter.principle_ids:
        assert " ".join(lab.data["principles"][pid]["justification"].split())[:60] in text.replace("\u202f", " ").replace("\u00a0", " ")
    assert "licence non vérifiée" in text
    assert "30 novembre 2026" in text
    assert refs(section)["« Limites »"] == "ethics-limits-prise-en-main"
    all_ids = [i for n in document.findall(nodes.Element) for i in n["ids"]]
    assert len(all_ids) == len(set(all_ids))


# --- self-assessment (Python) ---------------------------------------------------------------------------

ANSWERS = {"beneficence": {"score": 3, "justification": "Question du service santé."},
           "human-factor": {"score": 4, "justification": "Aucune décision automatique."},
           "integrity": {"score": 1, "justification": "Licences pas vérifiées."}}


def test_grid_markdown_and_theme_averages(charter):
    md = grid_markdown(charter, "Projet test", ANSWERS, by="une équipe", date="2026-03-01")
    assert md.startswith("# Auto-évaluation éthique : Projet test\n")
    assert "| Science des données et société | 3,5 | 2 / 4 |" in md
    assert "| Gouvernance des données dans un cadre de confiance | 1,0 | 1 / 4 |" in md
    assert "| Transparence | – | 0 / 2 |" in md
    assert "| **Moyenne générale** | **2,7** | 3 / 15 |" in md
    assert "| Science des données et société | Bienfaisance | 3 | Traité | Question du service santé. |" in md
    assert "- **Intégrité** (1 / 4)" in md and "- **Reconnaissance** (non noté)" in md


def test_grid_html_has_no_heading_and_captioned_tables(charter):
    """In a notebook output a heading would break the page outline: captions and header cells instead."""
    fragment = grid_html(charter, "Projet <test>", ANSWERS, date="2026-03-01")
    assert not re.search(r"<h[1-6]", fragment)
    assert fragment.count("<caption>") == 2 and '<th scope="col">Justification</th>' in fragment
    assert '<th scope="row">Science des données et société</th><td>3,5</td><td>2 / 4</td>' in fragment
    assert "Projet &lt;test&gt;" in fragment and "1er mars 2026" in fragment


def test_yaml_export_round_trips(charter):
    exported = yaml.safe_load(assessment_yaml(charter, "Projet test", ANSWERS, date="2026-03-01"))
    assert exported["principles"]["integrity"] == {"score": 1, "justification": "Licences pas vérifiées."}
    assert exported["principles"]["recognition"] == {"score": None, "justification": ""}
    assert exported["theme_averages"] == {"society": 3.5, "individual": None, "quality-security": None,
                                          "transparency": None, "governance": 1.0, "reciprocity": None}


def test_self_assessment_form(charter, tmp_path):
    form = SelfAssessmentForm(charter, folder=tmp_path)
    assert all(w.value is None for w in form.scores.values())
    form.fill(ANSWERS, project="Îlots de chaleur", by="une équipe")
    assert form.theme_averages()["society"] == 3.5
    assert "<strong>3,5</strong>" in form.averages.value  # live averages follow the scores
    assert yaml.safe_load(form.yaml())["principles"]["beneficence"]["score"] == 3
    paths = form.save()
    assert sorted(p.name for p in paths) == ["ilots-de-chaleur.grille-ethique.md", "ilots-de-chaleur.grille-ethique.yml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)
    with pytest.raises(KeyError, match="principe « nope » inconnu de la charte"):
        form.fill({"nope": {"score": 1}})

    def html_values(widget):
        yield getattr(widget, "value", "") if type(widget).__name__ == "HTML" else ""
        for child in getattr(widget, "children", ()):
            yield from html_values(child)
    assert not any(re.search(r"<h[1-6]", v) for v in html_values(form.widget))  # no heading in an output


def test_self_assessment_notebook_fits_the_browser():
    """Stored without outputs, imports only what Pyodide has, and the module it uses too."""
    nb = nbformat.read(REPO / "ethics-charter" / "auto-evaluation.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    imported = {(n.module or "") if isinstance(n, ast.ImportFrom) else a.name
                for n in ast.walk(ast.parse(code)) if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in n.names}
    assert imported <= {"IPython.display", "dataquartiers.charter"}
    assert "SelfAssessmentForm(charte)" in code
    # JupyterLite renders no MyST: the notebook has no directive, role or link to a book page
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert not re.search(r"```\{|\{(doc|ref|term)\}`|\]\([^)]*\.md\)", markdown)
    from dataquartiers import charter

    module = ast.parse(Path(charter.__file__).read_text(encoding="utf-8"))
    top_level = {a.name.split(".")[0] for n in module.body if isinstance(n, ast.Import) for a in n.names}
    top_level |= {(n.module or "").split(".")[0] for n in module.body if isinstance(n, ast.ImportFrom)}
    assert top_level <= {"__future__", "datetime", "html", "json", "os", "re", "dataclasses",
                         "decimal", "pathlib", "typing", "yaml", ""}, top_level
