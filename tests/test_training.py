"""The training files, without the build: timings, facilitator notes, quizzes, profiles, French checks.

Each test recomputes what the page claims from the data (the sums, the counts, the links), and the
checks of booktools/training.py are tested on broken copies of the files: every mistake comes back as
a French sentence naming the file and the field, never a traceback.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
import yaml

from booktools import notebooks
from booktools import training as tr
from conftest import REPO


@pytest.fixture(scope="module")
def training():
    return tr.load_training(REPO)


def test_training_files_are_clean(training):
    assert training.problems == []
    assert len(training.sessions) >= 3 and {"dijon", "marseille", "lyon"} <= set(training.sessions)
    assert len(training.notes) == len(training.labs) >= 5


# --- sessions --------------------------------------------------------------------------------

def _minutes(hhmm: str) -> int:
    hours, minutes = map(int, hhmm.split(":"))
    return 60 * hours + minutes


@pytest.mark.parametrize("city", ["dijon", "marseille", "lyon"])
def test_agenda_timings_add_up(city, training):
    """Read the YAML again, without the model: each programme fills its slot exactly, the half day
    is 3 h, and each lab step lasts what the lab's facilitator notes say for its track."""
    data = yaml.safe_load((REPO / tr.SESSIONS_DIR / f"{city}{tr.SESSION_SUFFIX}").read_text(encoding="utf-8"))
    notes = {p.stem: yaml.safe_load(p.with_name(p.stem + tr.NOTES_SUFFIX).read_text(encoding="utf-8"))
             for p in notebooks.lab_notebooks(REPO)}
    for key in ("demi_journee", "journee"):
        prog = data[key]
        slot = _minutes(prog["fin"]) - _minutes(prog["debut"])
        total = sum(step["minutes"] for step in prog["etapes"])
        assert total == slot, f"{city} {key}: steps {total} min, slot {slot} min"
        for step in prog["etapes"]:
            if step["type"] == "lab":
                track = step.get("parcours", "complet")
                expected = sum(s["minutes"] for s in notes[step["lab"]]["etapes"]
                               if track == "complet" or not s.get("facultative"))
                assert step["minutes"] == expected, f"{city} {key}: {step['lab']} ({track}) is {expected} min"
    assert _minutes(data["demi_journee"]["fin"]) - _minutes(data["demi_journee"]["debut"]) == 180
    assert any(s["type"] == "repas" for s in data["journee"]["etapes"])
    # the model computes the same start times, step after step
    session = training.sessions[city]
    for prog in (session.half_day, session.full_day):
        starts = [s.start for s in prog.steps]
        assert starts[0] == prog.start
        assert all(b - a == s.minutes for a, b, s in zip(starts, starts[1:], prog.steps))
        assert starts[-1] + prog.steps[-1].minutes == prog.end


def test_clock_and_durations_in_french():
    assert tr.clock(540) == "9 h 00" and tr.clock(1020) == "17 h 00"
    assert tr.duration_fr(75) == "1 h 15" and tr.duration_fr(45) == "45 min" and tr.duration_fr(120) == "2 h"
    assert tr.parse_duration("**Durée** : 1 heure 15.") == 75
    assert tr.parse_duration("**Durée** : 45 minutes.") == 45
    assert tr.parse_duration("**Durée** : 1 heure.") == 60


# --- facilitator notes -----------------------------------------------------------------------

@pytest.mark.parametrize("notebook", notebooks.lab_notebooks(REPO), ids=lambda p: p.stem)
def test_notes_time_every_step_and_answer_every_exercise(notebook, training):
    notes = training.notes[notebook.stem]
    lab = tr.lab_text(notebook)
    sections = [s["section"] for s in notes.data["etapes"] if s.get("section")]
    steps = [s for s in lab.sections if s.startswith("Étape")]
    assert len(steps) >= 3, f"{notebook.name}: steps not found"
    assert sorted(s for s in sections if s.startswith("Étape")) == sorted(steps)
    assert sum(s["minutes"] for s in notes.data["etapes"]) == lab.duration
    assert len(notes.data["exercices"]) == len(lab.exercises) >= 1
    assert notes.minutes("court") < notes.minutes("complet")


@pytest.mark.parametrize("notebook", notebooks.lab_notebooks(REPO), ids=lambda p: p.stem)
def test_notes_stay_out_of_the_trainee_notebook(notebook, training):
    text = notebook.read_text(encoding="utf-8")
    notes = training.notes[notebook.stem].data
    for said in [e["attendu"] for e in notes["exercices"]] + [e["erreur"] for e in notes["erreurs"]]:
        assert said[:60] not in text, f"{notebook.name} holds a facilitator note: {said[:60]}"


def test_ethics_prompts_are_tied_to_the_assessment(training):
    charter = yaml.safe_load((REPO / tr.CHARTER_FILE).read_text(encoding="utf-8"))
    principles = {p["id"] for t in charter["themes"] for p in t["principles"]}
    for stem, notes in training.notes.items():
        assessment = yaml.safe_load((REPO / "labs" / f"{stem}.ethics.yml").read_text(encoding="utf-8"))
        prompted = {p["principe"] for p in notes.data["ethique"]}
        assert prompted <= principles, f"{stem}: {prompted - principles}"
        weak = {pid for pid, e in assessment["principles"].items() if e["score"] <= 2}
        assert weak <= prompted, f"{stem}: principles scored 2 or less without a discussion prompt: {weak - prompted}"


LAB_TEXT = """# Un lab

## Vue d'ensemble
**Durée** : 1 heure 15.

## Étape 1 : charger
Texte.

## Étape 2 : calculer
Texte, avec 3. un nombre en début de phrase qui n'est pas un exercice.
"""

EXERCISES_TEXT = """## À vous de jouer
1. Calculez la part des moins de 15 ans.
2. Combien d'habitants vivent au-dessus du seuil ? Pourquoi ce
   total est-il un minimum ?
3. Refaites le lab ailleurs.

```{admonition} Solution
:class: dropdown
Une phrase d'explication.
~~~python
# 1.
part = 100 * df["p_0_14"] / df["pop"]
~~~
2. ~~~python
   total = df.loc[df["taux"] > SEUIL, "A"].sum()
   ~~~
```

## Résumé
1. Pas un exercice.
"""


def test_lab_text_finds_exercises_and_solutions(tmp_path):
    """The parser, on a notebook written here: the duration, the sections, the numbered exercises
    (one may run on two lines), the solution text and its code blocks (indented ones too)."""
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(LAB_TEXT), nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_markdown_cell(EXERCISES_TEXT)])
    nb.cells[0].source = LAB_TEXT.replace("# Un lab", "# Un lab d'essai")
    path = tmp_path / "essai.ipynb"
    nbformat.write(nb, path)
    lab = tr.lab_text(path)
    assert lab.title == "Un lab d'essai" and lab.duration == 75
    assert lab.steps == ["Étape 1 : charger", "Étape 2 : calculer"]
    assert lab.sections[-2:] == ["À vous de jouer", "Résumé"]
    assert [e[:20] for e in lab.exercises] == ["Calculez la part des", "Combien d'habitants ", "Refaites le lab aill"]
    assert lab.exercises[1].endswith("total est-il un minimum ?")
    assert "Une phrase d'explication." in lab.solution and "Pas un exercice" not in lab.solution
    assert [code.strip() for code in lab.solution_code] == ['# 1.\npart = 100 * df["p_0_14"] / df["pop"]', 'total = df.loc[df["taux"] > SEUIL, "A"].sum()']


@pytest.mark.parametrize("notebook", notebooks.lab_notebooks(REPO), ids=lambda p: p.stem)
def test_lab_text_reads_every_lab(notebook):
    """On the book's labs: what the parser finds is in the notebook, and nothing is missing."""
    text = "\n".join(notebooks.source(c) for c in notebooks.read(notebook)["cells"] if c["cell_type"] == "markdown")
    lab = tr.lab_text(notebook)
    assert lab.duration and f"**Durée**" in text
    assert len(lab.steps) >= 3 and all(f"## {step}\n" in text + "\n" for step in lab.steps)
    numbered = re.search(r"## À vous de jouer\n(.*?)```\{admonition\} Solution", text, re.S).group(1)
    assert len(lab.exercises) == len(re.findall(r"^\d+\. ", numbered, re.M)) >= 1
    assert all(exercise.split("\n")[0] in numbered for exercise in lab.exercises)
    assert lab.solution.strip() and lab.solution in text


# --- quizzes ---------------------------------------------------------------------------------

def test_one_quiz_per_method_chapter_and_per_lab(training):
    covered = {q.data["porte_sur"] for q in training.quizzes.values()}
    chapters = tr.method_chapters(REPO)
    assert len(chapters) >= 5
    assert set(chapters) <= covered
    assert {f"labs/{p.stem}" for p in notebooks.lab_notebooks(REPO)} <= covered


@pytest.mark.parametrize("path", sorted((REPO / tr.QUIZ_DIR).glob(f"*{tr.QUIZ_SUFFIX}")), ids=lambda p: p.name)
def test_quiz_is_well_formed(path):
    """Read the YAML again: 5 to 8 questions, exactly one right answer, a feedback per choice,
    an explanation, links to pages of the book's table of contents or to labels it defines."""
    quiz = yaml.safe_load(path.read_text(encoding="utf-8"))
    pages, labels = tr.book_pages(REPO), tr.book_labels(REPO)
    assert 5 <= len(quiz["questions"]) <= 8
    for q in quiz["questions"]:
        assert sum(1 for c in q["choix"] if c.get("juste") is True) == 1, q["question"]
        assert all(len(c["retour"].strip()) > 10 for c in q["choix"]), q["question"]
        assert len(q["explication"].strip()) > 20
        assert q["liens"]
        for link in q["liens"]:
            assert link.get("page") in pages or link.get("ancre") in labels, f"{path.name}: {link}"
    assert quiz["porte_sur"] in pages


# --- profiles --------------------------------------------------------------------------------

def test_three_profiles_with_ordered_paths(training):
    ids = [p["id"] for p in training.profiles]
    assert ids == ["collectivite", "centre-de-ressources", "association"]
    pages = tr.book_pages(REPO)
    for profile in training.profiles:
        assert all(step["page"] in pages for step in profile["parcours"])


# --- the checks, on broken copies ------------------------------------------------------------

@pytest.fixture()
def book_copy(tmp_path):
    """The files the training check reads, copied so that a test can break them."""
    for folder in ("training", "labs", "chapters", "ethics-charter"):
        shutil.copytree(REPO / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "_toc.yml", tmp_path / "_toc.yml")
    return tmp_path


def _problems(root) -> list[str]:
    return tr.load_training(root).problems


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_copy_is_clean(book_copy):
    assert _problems(book_copy) == []


@pytest.mark.parametrize("old,new,expected", [
    ('{titre: "Bilan et suites", minutes: 12, type: bilan}', '{titre: "Bilan et suites", minutes: 20, type: bilan}',
     "demi_journee : les étapes durent 188 min (3 h 08) mais le créneau 09:00–12:00 en compte 180"),
    ('lab: prise-en-main}', 'lab: prise-en-mains}', "lab « prise-en-mains » inconnu"),
    ('debut: "09:00"', 'debut: 9:00', "champ « demi_journee.debut » : « 9:00 » ne convient pas (attendu : une heure entre guillemets"),
    ('reseau: incertain ', 'reseau: peut-être ', "« peut-être » n'est pas permis (valeurs possibles : « oui », « non », « incertain »)"),
    ('commune: "21231"', 'commune: 21231', "champ « commune » : attendu le code officiel géographique"),
    ('minutes: 38, type: lab, lab: non-recours-c2s, parcours: court}', 'minutes: 38, type: lab, lab: non-recours-c2s}',
     "le lab « non-recours-c2s » en parcours complet dure 45 min d'après ses notes"),
    ("public: >-", "publique: >-", "champ inconnu « publique »"),
])
def test_session_mistakes_come_back_in_french(book_copy, old, new, expected):
    _edit(book_copy / tr.SESSIONS_DIR / "dijon.session.yml", old, new)
    problems = _problems(book_copy)
    assert any(expected in p and p.startswith("training/sessions/dijon.session.yml : ") for p in problems), problems


@pytest.mark.parametrize("old,new,expected", [
    ("        juste: true\n        retour: Oui. La question vient",
     "        retour: Oui. La question vient", "questions[1] : 0 bonne(s) réponse(s) ; il en faut exactement une"),
    ("page: chapters/methode}", "page: chapters/methodes}", "« chapters/methodes » n'est pas une page du livre"),
    ("ancre: methode-obstacles}", "ancre: methode-obstacle}", "l'étiquette « methode-obstacle » n'est définie dans aucune page"),
    ("porte_sur: chapters/methode", "porte_sur: chapters/methode\nporte_sur: chapters/gouvernance",
     "le champ « porte_sur » est écrit deux fois"),
    ('titre: "Quiz : la méthode pas à pas"', 'titre: "Quiz : la méthode pas à pas', "erreur de syntaxe YAML"),
    ("questions:\n", "x: &q 1\ny: *q\nquestions:\n", "les alias (*nom) ne sont pas acceptés"),
])
def test_quiz_mistakes_come_back_in_french(book_copy, old, new, expected):
    _edit(book_copy / tr.QUIZ_DIR / "methode.quiz.yml", old, new)
    problems = _problems(book_copy)
    assert any(expected in p and p.startswith("training/quiz/methode.quiz.yml : ") for p in problems), problems


def test_notes_mistakes_come_back_in_french(book_copy):
    path = book_copy / "labs" / "prise-en-main.animation.yml"
    lab = tr.lab_text(REPO / "labs" / "prise-en-main.ipynb")
    step = lab.steps[-1]  # the lab's own heading, renamed in the notes
    _edit(path, f"section: \"{step}\"", f"section: \"{step} (bis)\"")
    _edit(path, "  - titre: Débriefing\n    minutes: 2", "  - titre: Débriefing\n    minutes: 3")
    _edit(path, "  - principe: citizen-inclusion", "  - principe: inclusion")
    problems = "\n".join(_problems(book_copy))
    assert f"pas de section « ## {step} (bis) » dans labs/prise-en-main.ipynb" in problems
    assert f"la section « {step} » de labs/prise-en-main.ipynb doit être minutée" in problems
    assert f"les étapes durent {lab.duration + 1} min mais le lab annonce {tr.duration_fr(lab.duration)}" in problems
    assert "« inclusion » n'est pas un principe de la charte" in problems
    assert "le principe « citizen-inclusion » a la note 1" in problems


def test_missing_notes_and_quiz_are_reported(book_copy):
    (book_copy / "labs" / "canicules.animation.yml").unlink()
    (book_copy / tr.QUIZ_DIR / "canicules.quiz.yml").unlink()
    problems = "\n".join(_problems(book_copy))
    assert "labs/canicules.animation.yml : fichier manquant" in problems
    assert "pas de quiz pour « labs/canicules »" in problems


def test_yaml_is_read_with_bounds():
    with pytest.raises(tr.TrainingError, match="les alias"):
        tr.parse_yaml("a: &x [1, 2]\nb: *x\n", "f.yml")
    with pytest.raises(tr.TrainingError, match="fichier trop gros"):
        tr.parse_yaml("a: " + "x" * (tr.MAX_BYTES + 1), "f.yml")
    data = tr.parse_yaml('h: 09:00\nj: 9:00\nd: 2026-03-12\nn: no\ni: 12\nb: true\n', "f.yml")
    assert data == {"h": "09:00", "j": "9:00", "d": "2026-03-12", "n": "no", "i": 12, "b": True}


def test_template_mistakes_come_back_in_french(book_copy):
    text = book_copy / tr.TEMPLATES_DIR / "textes" / "clause-data.md"
    _edit(text, "### 1. Objet", "### 1. Objet <script>alert(1)</script>")
    problems = "\n".join(_problems(book_copy))
    assert "training/modeles/textes/clause-data.md : ligne" in problems and "pas de HTML dans un modèle" in problems
    shutil.copy(REPO / tr.TEMPLATES_DIR / "textes" / "clause-data.md", text)
    _edit(text, "### 2. Les engagements", "Voir [ce site](https://exemple.org/x).\n\n### 2. Les engagements")
    assert "l'adresse « https://exemple.org/x » n'est pas dans le registre" in "\n".join(_problems(book_copy))
    shutil.copy(REPO / tr.TEMPLATES_DIR / "textes" / "clause-data.md", text)
    _edit(text, "> Modèle à faire relire", "> Modèle à relire")
    assert "un modèle porte l'avertissement" in "\n".join(_problems(book_copy))
    shutil.copy(REPO / tr.TEMPLATES_DIR / "textes" / "clause-data.md", text)
    _edit(book_copy / tr.TEMPLATES_DIR / "clause-data.modele.yml", "texte: crpa", "texte: code-inconnu")
    assert "references[5].texte : « code-inconnu » n'est pas dans training/textes-juridiques.yml" in "\n".join(_problems(book_copy))


def test_check_command_exit_code_and_french_output(book_copy, capsys):
    assert tr.main(["check", "--root", str(book_copy)]) == 0
    assert "tout est en ordre" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        tr.main(["--help"])
    assert "Vérifier les fichiers de la formation" in capsys.readouterr().out
    _edit(book_copy / tr.SESSIONS_DIR / "lyon.session.yml", 'fin: "12:00"', 'fin: "12:30"')
    bad = subprocess.run([sys.executable, "-m", "booktools.training", "check", "--root", str(book_copy)],
                         capture_output=True, text=True, cwd=REPO)
    assert bad.returncode == 1
    assert "training/sessions/lyon.session.yml : demi_journee : les étapes durent 180 min (3 h) mais le créneau" in bad.stdout
    assert "Traceback" not in bad.stdout + bad.stderr


# --- the labs' coverage of the session cities -----------------------------------------------

def test_session_coverage_reads_the_data(training, monkeypatch):
    """The session pages take the coverage of booktools/coverage.py: the rows already worked out
    (the labs index page's) are used as they are, and only the session cities missing from them
    are worked out. Facts of the shipped data that more data can only confirm: in Marseille, the
    labs that default to it have all their steps and maps."""
    from booktools import coverage as lab_coverage

    asked = []

    def worked_out(cities):
        asked.append(cities)
        return [lab_coverage.Row(lab, city, level, code, "partiel", "calculé")
                for city, commune, epci in cities for level, code in (("commune", commune), ("intercommunalité", epci))
                for lab in lab_coverage.LABS]

    given = [lab_coverage.Row(lab, "Marseille", level, code, "complet", "donné")
             for level, code in (("commune", "13055"), ("intercommunalité", "200054807")) for lab in lab_coverage.LABS]
    monkeypatch.setattr(lab_coverage, "coverage", worked_out)
    rows = tr.lab_coverage(training.sessions, given)
    assert asked == [[("Dijon", "21231", "242100410"), ("Lyon", "69123", "200046977")]]
    assert {code for _, code in rows} == {"13055", "21231", "69123"}  # the communes, not the intercommunalities
    assert rows[("canicules", "13055")].reason == "donné" and rows[("canicules", "69123")].reason == "calculé"
    monkeypatch.undo()

    marseille = {(r.lab, r.code): r for r in lab_coverage.coverage([("Marseille", "13055", "200054807")])
                 if r.level == "commune"}
    assert set(marseille) >= {(p.stem, "13055") for p in notebooks.lab_notebooks(REPO)}
    for lab in ("prise-en-main", "fragilite-covid", "non-recours-c2s", "canicules"):
        assert marseille[(lab, "13055")].status == "complet", marseille[(lab, "13055")]
    assert all(r.status in lab_coverage.STATUSES and r.reason for r in marseille.values())
    missing = [r for r in marseille.values() if r.status != "complet"]
    assert all("manquent : " in r.reason for r in missing), "a reason names the missing layers"


# --- hostile text --------------------------------------------------------------------------------

HOSTILE = "<script>alert(1)</script> **gras** {raw}`html` [lien](javascript:alert(1)) $x$ | colonne"


def _myst_to_html(text: str) -> str:
    from docutils.core import publish_string
    from myst_parser.parsers.docutils_ import Parser

    return publish_string(text, parser=Parser(), writer_name="html5",
                          settings_overrides={"report_level": 5, "halt_level": 5, "myst_enable_extensions": ["dollarmath"]}
                          ).decode("utf-8")


def test_user_text_is_escaped_in_the_pages(book_copy):
    """A facilitator note and a profile holding markup show it as typed: nothing runs, nothing links."""
    from booktools.training_pages import render_notes, render_profiles

    notes = book_copy / "labs" / "prise-en-main.animation.yml"
    _edit(notes, "  - erreur: Exécuter une cellule avant les précédentes", f"  - erreur: '{HOSTILE}'\n    remede: ok\n  - erreur: Exécuter")
    _edit(book_copy / tr.PROFILES_FILE, "    qui: >-\n      Cheffes", f"    qui: >-\n      {HOSTILE.replace('$', '$$')} Cheffes".replace("$$", "$"))
    training = tr.load_training(book_copy)
    assert training.problems == []
    for html in (_myst_to_html(render_notes(training, "prise-en-main")), _myst_to_html(render_profiles(training))):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert" not in html
        assert "**gras**" in html and "<strong>gras</strong>" not in html
        assert 'href="javascript' not in html
        assert "{raw}" in html
