"""The ethics charter: the charter as data, the labs' assessments and their checks, the pages
generated from them, the assessment shown on lab pages, the trainees' self-assessment.

Broken assessments live in tests/fixtures/ethics/broken/; each is dropped beside the fixture lab
(tests/fixtures/ethics/repo/labs/demo.ipynb) and must give exactly its message.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import REPO
from booktools import ethics
from booktools.ethics import (LabAssessment, check_repository, expand_markers, render_principle_table,
                              render_theme_chart, render_theme_page)
from dataquartiers.charter import (EthicsError, SelfAssessmentForm, assessment_yaml, fmt_number, grid_html,
                                   grid_markdown, load_charter, theme_averages)

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


# --- the charter -----------------------------------------------------------------------------

def test_charter_is_the_labelled_grid(charter):
    assert {t.title: [p.title for p in t.principles] for t in charter.themes} == SEED_THEMES
    assert len(charter.principles) == 15
    assert [lv.level for lv in charter.scale] == [0, 1, 2, 3, 4]
    assert all(lv.meaning for lv in charter.scale)
    assert charter.label["name"] == "label Ekitia" and charter.label["awarded_by"] == "Ekitia"
    assert "premier programme en France" in charter.label["fact"]
    assert {f["name"] for f in charter.frameworks} == {"Data Ethics Framework", "Data Ethics Canvas", "deon"}


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


def test_a_bad_charter_names_the_field(tmp_path):
    data = yaml.safe_load(CHARTER.read_text(encoding="utf-8"))
    data["scale"][4]["level"] = 7
    del data["themes"][0]["principles"][1]["definition"]
    data["themes"][1]["principles"][0]["id"] = "beneficence"
    path = tmp_path / "charter.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(EthicsError) as err:
        load_charter(path)
    assert str(err.value).splitlines() == [
        f"{path}: field 'scale[4].level': 7 is greater than the maximum of 4",
        f"{path}: field 'themes[0].principles[1].definition' is missing",
    ]
    data["scale"][4]["level"] = 4
    data["themes"][0]["principles"][1]["definition"] = "Une définition."
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(EthicsError, match=r"principle id 'beneficence' is used twice \(already a principle id\)"):
        load_charter(path)


def test_charter_loads_without_jsonschema(monkeypatch):
    """In the browser (Pyodide) jsonschema may be missing: the charter still loads."""
    monkeypatch.setitem(sys.modules, "jsonschema", None)
    assert len(load_charter(CHARTER).principles) == 15


# --- the repository ----------------------------------------------------------------------------

def test_every_lab_has_a_valid_assessment():
    """The gate `make test` shares with the build: the same command, on the real repository."""
    proc = subprocess.run([sys.executable, "-m", "booktools.ethics", "check"], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    labs = sorted((REPO / "labs").glob("*.ipynb"))
    assert f"ethics: {len(labs)} lab(s) assessed against the 15 principles" in proc.stdout


def test_prise_en_main_assessment_is_real(charter):
    report = check_repository(REPO)
    lab = next(a for a in report.assessments if a.stem == "prise-en-main")
    assert lab.title.startswith("Prise en main")
    # what the lab reads: the national tables, and every contour layer a territory may need
    assert {"filosofi_iris_2018", "caf_iris_2020", "qpv2024_communes", "qpv2024_marseille"} <= set(lab.resources)
    assert lab.score("integrity") == 2 and lab.score("citizen-inclusion") == 1
    assert any(r["status"] == "open" and "licence" in r["risk"] for r in lab.data["risks"])


# --- broken assessments: exact messages ---------------------------------------------------------

@pytest.mark.parametrize("case, expected", [
    ("missing-principle", ["labs/demo.ethics.yml: principle 'human-factor': missing (every principle of the "
                           "charter needs a score and a justification)"]),
    ("score-5", ["labs/demo.ethics.yml: principle 'beneficence': score 5 is out of range 0–4"]),
    ("empty-justification", ["labs/demo.ethics.yml: principle 'integrity': justification is empty"]),
    ("undeclared-dataset", ["labs/demo.ethics.yml: dataset 'menages_synthetiques' is read by labs/demo.ipynb "
                            "(cellule 4) but not declared under 'datasets'"]),
    ("synthetic-not-said", ["labs/demo.ethics.yml: dataset 'menages_synthetiques' is marked synthetic in "
                            "datasets/datapackage.json: say so with a 'synthetic_notice' (what synthetic data "
                            "can and cannot show)"]),
    ("unknown-dataset", ["labs/demo.ethics.yml: dataset 'fichier_inconnu' is declared under 'datasets' but "
                         "labs/demo.ipynb never reads it (no load() call nor package function that reads it)",
                         "labs/demo.ethics.yml: dataset 'fichier_inconnu': not in datasets/datapackage.json "
                         "(its datasets are: contours_a, contours_b, menages_synthetiques, population_iris)"]),
    ("licence-retyped", ["labs/demo.ethics.yml: field 'datasets[0].licence' is not allowed (licence and status "
                         "are read from datasets/datapackage.json, not retyped); expected one of: name, "
                         "personal_data_notice, synthetic_notice, use"]),
])
def test_broken_assessment_gives_its_message(fixture_repo, case, expected):
    assert errors_with(fixture_repo, FIXTURES / "broken" / f"{case}.ethics.yml") == expected


def test_the_valid_fixture_passes(fixture_repo):
    report = check_repository(fixture_repo)
    assert report.errors == []
    assert [a.stem for a in report.assessments] == ["demo"]


def test_command_line_reports_and_fails(fixture_repo):
    shutil.copy(FIXTURES / "broken" / "score-5.ethics.yml", fixture_repo / "labs" / "demo.ethics.yml")
    proc = subprocess.run([sys.executable, "-m", "booktools.ethics", "check", "--root", str(fixture_repo)],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == ["labs/demo.ethics.yml: principle 'beneficence': score 5 is out of range 0–4",
                                        "ethics: 1 problem(s)"]


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
        "labs/demo.ethics.yml: field 'summary' is missing",
        f"labs/demo.ethics.yml: principle 'benefits': unknown (the charter's principles are: {ids})",
        "labs/demo.ethics.yml: principle 'beneficence': score 2.5 is not an integer 0–4",
        "labs/demo.ethics.yml: principle 'explainability': score is empty: give an integer 0–4",
        "labs/demo.ethics.yml: principle 'recognition': justification is empty",
        "labs/demo.ethics.yml: field 'risks[0].status': 'done' is not one of 'handled', 'partial', 'open'",
        f"labs/demo.ethics.yml: field 'risks[1].principles[1]': 'honesty' is not one of "
        + ", ".join(f"'{i}'" for i in ids.split(", ")),
    ]


def test_missing_assessment_and_orphan(fixture_repo):
    (fixture_repo / "labs" / "demo.ethics.yml").rename(fixture_repo / "labs" / "ancien-lab.ethics.yml")
    assert errors_with(fixture_repo) == [
        "labs/demo.ipynb: no ethics assessment: create labs/demo.ethics.yml "
        "(python -m booktools.ethics new labs/demo.ipynb)",
        "labs/ancien-lab.ethics.yml: no lab labs/ancien-lab.ipynb beside it",
    ]


def test_new_writes_a_skeleton_that_fails_until_filled(fixture_repo):
    (fixture_repo / "labs" / "demo.ethics.yml").unlink()
    proc = subprocess.run([sys.executable, "-m", "booktools.ethics", "new", "labs/demo.ipynb"],
                          cwd=fixture_repo, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    skeleton = yaml.safe_load((fixture_repo / "labs" / "demo.ethics.yml").read_text(encoding="utf-8"))
    assert [d["name"] for d in skeleton["datasets"]] == ["population_iris", "menages_synthetiques"]
    assert list(skeleton["principles"]) == load_charter(CHARTER).principle_ids
    errors = errors_with(fixture_repo)
    assert "labs/demo.ethics.yml: principle 'beneficence': score is empty: give an integer 0–4" in errors
    assert "labs/demo.ethics.yml: field 'summary' is empty" in errors


def test_yaml_syntax_error_names_line(fixture_repo):
    (fixture_repo / "labs" / "demo.ethics.yml").write_text("summary: [oups\nassessed:\n", encoding="utf-8")
    [message] = errors_with(fixture_repo)
    assert message.startswith("labs/demo.ethics.yml: not valid YAML (line 2, column 9)")


def test_licence_and_personal_data_come_from_the_data_package(fixture_repo):
    package_path = fixture_repo / "datasets" / "datapackage.json"
    package = json.loads(package_path.read_text(encoding="utf-8"))
    package["resources"][0]["licenses"] = []
    package["resources"][0]["personal_data"] = True
    package_path.write_text(json.dumps(package), encoding="utf-8")
    assert errors_with(fixture_repo) == [
        "labs/demo.ethics.yml: dataset 'population_iris': has no licence in datasets/datapackage.json "
        "(field 'licenses' of the resource)",
        "labs/demo.ethics.yml: dataset 'population_iris' is marked personal data in datasets/datapackage.json: "
        "say so with a 'personal_data_notice' (legal basis, minimisation and protection)",
    ]
    package["resources"][1]["synthetic"] = False
    package_path.write_text(json.dumps(package), encoding="utf-8")
    assert ("labs/demo.ethics.yml: dataset 'menages_synthetiques': 'synthetic_notice' is given but "
            "datasets/datapackage.json does not mark it synthetic") in errors_with(fixture_repo)


# --- pages ------------------------------------------------------------------------------------------

def fake_assessment(charter, stem: str, score: int) -> LabAssessment:
    data = {"summary": "s", "assessed": {"date": "2026-01-01", "by": "test"}, "datasets": [],
            "principles": {pid: {"score": score, "justification": f"{stem} {pid}"} for pid in charter.principle_ids},
            "risks": [{"risk": f"risque {stem}", "principles": ["integrity"], "handling": "h", "status": "partial"}]}
    return LabAssessment(stem=stem, title=f"Lab {stem} : test", path=Path(f"labs/{stem}.ethics.yml"),
                         notebook=Path(f"labs/{stem}.ipynb"), data=data)


def test_averages_over_labs_and_themes(charter):
    labs = [fake_assessment(charter, "a", 4), fake_assessment(charter, "b", 2)]
    chart = render_theme_chart(charter, labs)
    # every theme averages 3 over the two labs; the programme's reference is beside it
    assert chart.count("| **3,0** |") == 6
    assert "| {doc}`Réciprocité </ethics-charter/themes/reciprocity>` | 4,0 | 2,0 | **3,0** | 4,0 |" in chart
    table = render_principle_table(charter, labs)
    assert "|  | {ref}`Facteur humain <ethics-human-factor>` | 4 | 2 | 3,0 | 4,0 |" in table
    assert "| **Moyenne générale** |  | **4,0** | **2,0** | **3,0** | 3,8 |" in table


def test_overview_renders_the_real_labs_scores(charter):
    report = check_repository(REPO)  # the other labs' problems are test_every_lab_has_a_valid_assessment's
    lab = next(a for a in report.assessments if a.stem == "prise-en-main")
    table = render_principle_table(charter, report.assessments)
    rows = {line.split(" | ")[1]: line for line in table.splitlines()
            if line.count(" | ") > 1 and "{ref}`" in line.split(" | ")[1]}
    for p in charter.principles:
        cells = [c.strip() for c in rows[f"{{ref}}`{p.title} <ethics-{p.id}>`"].strip("|").split("|")]
        lab_column = 2 + report.assessments.index(lab)
        assert cells[lab_column] == str(lab.score(p.id)), p.id
    chart = render_theme_chart(charter, report.assessments)
    means = theme_averages(charter, {pid: sum(a.score(pid) for a in report.assessments) / len(report.assessments)
                                     for pid in charter.principle_ids})
    for t in charter.themes:
        assert f"{t.title} : {fmt_number(means[t.id])} sur 4" in chart  # in the SVG's <desc>
    assert '<title id="dq-ethics-chart-title">' in chart and '<desc id="dq-ethics-chart-desc">' in chart
    assert 'role="img"' in chart and 'aria-labelledby="dq-ethics-chart-title dq-ethics-chart-desc"' in chart
    assert "{ref}`Prise en main <ethics-assessment-prise-en-main>`" in chart  # the data table, a text alternative


def test_overview_page_expands_every_marker(charter):
    report = check_repository(REPO)
    text, problems = expand_markers((REPO / "ethics-charter" / "evaluations.md").read_text(encoding="utf-8"),
                                    charter, report.assessments, "ethics-charter/evaluations.md")
    assert problems == []
    assert "dq-ethics:" not in text
    assert "<svg" in text and "Moyenne générale" in text and "ouvert" in text


def test_theme_page_lists_questions_and_labs(charter):
    labs = [fake_assessment(charter, "a", 3)]
    page = render_theme_page(charter, "governance", labs)
    assert page.startswith("(ethics-theme-governance)=\n# Gouvernance des données dans un cadre de confiance\n")
    assert "(ethics-citizen-inclusion)=\n## Inclusion des citoyens" in page
    assert "- Une restitution aux habitants est-elle prévue\u202f: où, quand, sous quelle forme\u202f?" in page
    assert "| {ref}`Lab a <ethics-assessment-a>` | 3 / 4 | a citizen-inclusion |" in page
    assert page.count("\n## ") == 5  # four principles and the sources


def test_every_theme_has_its_page_in_the_toc(charter):
    toc = (REPO / "_toc.yml").read_text(encoding="utf-8")
    for t in charter.themes:
        page = REPO / "ethics-charter" / "themes" / f"{t.id}.md"
        assert f"<!-- dq-ethics: theme {t.id} -->" in page.read_text(encoding="utf-8")
        assert f"file: ethics-charter/themes/{t.id}\n" in toc


def test_unknown_marker_is_reported(charter):
    _, problems = expand_markers("<!-- dq-ethics: camembert -->\n", charter, [], "ethics-charter/x.md")
    assert problems == [f"ethics-charter/x.md: unknown marker 'dq-ethics: camembert' (known: "
                        f"{', '.join(ethics.RENDERERS)})"]
    _, problems = expand_markers("<!-- dq-ethics: theme nowhere -->\n", charter, [], "ethics-charter/x.md")
    assert problems[0].startswith("ethics-charter/x.md: marker 'dq-ethics: theme nowhere': unknown theme 'nowhere'")


def test_lab_page_section(charter):
    """The nodes appended to a lab page: headings with unique ids, every score and justification."""
    from docutils import nodes
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from docutils.utils import new_document

    report = check_repository(REPO)
    lab = next(a for a in report.assessments if a.stem == "prise-en-main")
    document = new_document("lab", get_default_settings(Parser))
    section = ethics.assessment_section(charter, lab, document, "labs/prise-en-main")
    document += section
    titles = [n.astext() for n in section.findall(lambda n: n.tagname == "title")]
    assert titles == ["Évaluation éthique du lab", "Scores par principe", "Risques et réponses", "Données évaluées"]
    assert section["ids"] == ["ethics-assessment-prise-en-main"]
    text = " ".join(section.astext().split())
    for pid in charter.principle_ids:
        assert " ".join(lab.data["principles"][pid]["justification"].split())[:60] in text.replace("\u202f", " ").replace("\u00a0", " ")
    assert "licence non vérifiée" in text
    assert "22 novembre 2026" in text
    all_ids = [i for n in document.findall(nodes.Element) for i in n["ids"]]
    assert len(all_ids) == len(set(all_ids))


# --- self-assessment ---------------------------------------------------------------------------------

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
    with pytest.raises(KeyError, match="unknown principle 'nope'"):
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
    from dataquartiers import charter

    module = ast.parse(Path(charter.__file__).read_text(encoding="utf-8"))
    top_level = {a.name.split(".")[0] for n in module.body if isinstance(n, ast.Import) for a in n.names}
    top_level |= {(n.module or "").split(".")[0] for n in module.body if isinstance(n, ast.ImportFrom)}
    assert top_level <= {"__future__", "datetime", "html", "json", "os", "re", "dataclasses",
                         "decimal", "pathlib", "typing", "yaml", ""}, top_level
