"""The « Former » part in the built site: session pages, notes, handouts (PDF), templates (.odt,
.docx, .md), quizzes answered in Chromium with the keyboard, network cut, and checked by axe-core."""

from __future__ import annotations

import json
import re
import unicodedata
import zipfile
from pathlib import Path

import pytest

from booktools import notebooks
from booktools import training as tr
from booktools import training_handouts as th
from booktools.training_documents import REVIEW_NOTICE
from booktools.training_pages import TEMPLATE_FILES_DIR
from browser import chromium_available, offline_page
from built_site import soup_of
from conftest import REPO

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
needs_chromium = pytest.mark.skipif(not chromium_available(), reason="Debian chromium is not installed (.ci/run installs it)")


@pytest.fixture(scope="module")
def training():
    return tr.load_training(REPO)


def plain(text: str) -> str:
    """Text as a PDF gives it back: ligatures undone, spaces and quotes normalised."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("\u202f", " ").replace("\xa0", " ")
    return re.sub(r"\s+", " ", text).strip()


# --- sessions --------------------------------------------------------------------------------

QPV_OF = {"dijon": ("21231", "Dijon"), "marseille": ("13055", "Marseille"), "lyon": ("69123", "Lyon")}


@pytest.mark.parametrize("city", sorted(QPV_OF))
def test_session_page(site, city, training):
    code, name = QPV_OF[city]
    page = soup_of(site / tr.SESSIONS_DIR / f"{city}.html")
    text = page.get_text(" ")
    assert page.find("h1").get_text(strip=True).startswith(f"Session de formation à {name}")
    tables = page.find_all("table")
    # the two programmes end at their slot's end, in French clock format
    assert "12\xa0h\xa000" in text and "17\xa0h\xa000" in text
    # the city's QPV 2024, from the national list shipped in datasets/
    import csv

    with open(REPO / "datasets" / "qpv" / "qp2024_liste_communes.csv", encoding="utf-8") as f:
        qpv = {r["code_qp"] for r in csv.DictReader(f) if r["insee_com"] == code}
    assert qpv, f"no QPV 2024 for {code} in the data"
    assert all(q in text for q in qpv)
    # every lab of the programmes links to its page; every lab has a line in the coverage table
    for step in training.sessions[city].half_day.steps + training.sessions[city].full_day.steps:
        if step.kind == "lab":
            assert page.find("a", href=re.compile(rf"labs/{step.lab}\.html")), step.lab
    coverage = next(t for t in tables if "Territoire à utiliser" in t.get_text())
    assert len(coverage.find("tbody").find_all("tr")) == len(training.labs)
    assert "kit-hors-ligne" in str(page.find(id=re.compile("salle")))
    assert "Aucun compte à créer" in text


def test_lyon_lists_its_regional_partner(site):
    text = soup_of(site / tr.SESSIONS_DIR / "lyon.html").get_text(" ")
    assert "Labo Cités" in text  # catalogue/partners/labo-cites.yml: Auvergne-Rhône-Alpes


def test_former_part_in_the_navigation(site):
    nav = soup_of(site / "training" / "index.html").find("nav", class_="bd-docs-nav")
    links = {a["href"].split("#")[0] for a in nav.find_all("a", href=True)}
    for target in ("sessions/dijon.html", "animation.html", "profils.html", "fiches.html", "quiz.html", "modeles.html"):
        assert any(link.endswith(target) for link in links), target


# --- facilitator notes -----------------------------------------------------------------------

def test_notes_page_has_every_lab(site, training):
    page = soup_of(site / "training" / "animation.html")
    text = plain(page.get_text(" "))
    for stem, notes in training.notes.items():
        assert page.find(id=f"{stem}-animation"), stem
        assert plain(notes.lab.title) in text
        for answer in notes.data["exercices"]:
            assert plain(answer["attendu"])[:80] in text
        for prompt in notes.data["ethique"]:
            assert plain(prompt["question"])[:60] in text
        # linked to the lab's ethics assessment on the lab page
        assert page.find("a", href=re.compile(rf"labs/{stem}\.html#ethics-assessment-{stem}"))


def test_notes_are_not_on_the_lab_pages(site, training):
    for stem, notes in training.notes.items():
        text = plain(soup_of(site / "labs" / f"{stem}.html").get_text(" "))
        for step in notes.data["etapes"]:
            if step.get("conseils"):
                assert plain(step["conseils"])[:60] not in text, f"labs/{stem}.html shows a facilitator tip"


# --- handouts ----------------------------------------------------------------------------------

def _pdf_text(path: Path) -> tuple[int, str]:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return len(reader.pages), plain(" ".join(p.extract_text() or "" for p in reader.pages))


@needs_chromium
@pytest.mark.parametrize("notebook", notebooks.lab_notebooks(REPO), ids=lambda p: p.stem)
def test_lab_handout_pdf(site, notebook):
    """The PDF opens, has text, the lab's steps and exercises, and none of its solution."""
    path = site / th.HANDOUTS_DIR / f"{notebook.stem}.pdf"
    assert path.exists(), f"{path} not built"
    pages, text = _pdf_text(path)
    lab = tr.lab_text(notebook)
    assert pages >= 2 and len(text) > 2000
    assert th.HANDOUT_HEADER in text and plain(lab.title)[:40] in text
    for step in lab.steps:
        assert plain(step)[:40] in text, step
    for exercise in lab.exercises:
        assert plain(re.sub(r"`", "", exercise))[:50] in text, exercise
    solution_lines = [plain(line) for code in lab.solution_code for line in code.splitlines() if len(line.strip()) > 25]
    solution_lines += [plain(s) for s in re.split(r"(?<=[.:])\s", re.sub(r"~~~.*?~~~", "", lab.solution, flags=re.S))
                       if len(s.strip()) > 40]
    assert solution_lines, "the lab's solution was not found"
    # a line the lab also writes outside its solution (a call to one of its functions) is no leak
    elsewhere = plain(notebook.read_text(encoding="utf-8").replace(lab.solution, "").replace("\\n", " ").replace('\\"', '"'))
    leaked = [line for line in solution_lines if line[:60] in text and line[:60] not in elsewhere]
    assert not leaked, f"solution text in the handout: {leaked[:3]}"
    assert "Solution" not in text
    # an accessible PDF: tagged, in French, titled, with bookmarks
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    catalog = reader.trailer["/Root"]
    assert catalog.get("/Lang") == "fr" and "/StructTreeRoot" in catalog
    assert plain(lab.title) in plain(reader.metadata.title) and reader.outline


def test_handouts_page_links_every_lab_pdf(site):
    page = soup_of(site / "training" / "fiches.html")
    hrefs = {a["href"] for a in page.find_all("a", href=True)}
    for notebook in notebooks.lab_notebooks(REPO):
        assert f"fiches/{notebook.stem}.pdf" in hrefs


@needs_chromium
def test_book_pdf(site, tmp_path):
    """The whole book, printed in the order of the table of contents (what `make handouts` adds)."""
    html = th.book_html(site, REPO)
    assert "<script" not in html and "<iframe" not in html
    target = tmp_path / th.BOOK_PDF
    th.print_pdfs([(html, site, target)])
    pages, text = _pdf_text(target)
    assert pages > 100
    order = [plain(t) for t in ("La méthode pas à pas", "Le cadre juridique", "Prise en main", "Session de formation à Dijon",
                                "Quiz : la méthode pas à pas")]
    positions = [text.find(t) for t in order]
    assert all(p >= 0 for p in positions), dict(zip(order, positions))
    assert positions == sorted(positions), "pages out of the book's order"
    assert "Carte interactive" in text  # maps replaced by their text alternative


# --- templates ---------------------------------------------------------------------------------

@pytest.mark.parametrize("template", sorted(p.name[: -len(tr.TEMPLATE_SUFFIX)]
                                            for p in (REPO / tr.TEMPLATES_DIR).glob(f"*{tr.TEMPLATE_SUFFIX}")))
def test_template_files_open_and_hold_the_text(site, template, training):
    from docx import Document
    from odf import teletype
    from odf.opendocument import load
    from odf.text import H, P

    folder = site / TEMPLATE_FILES_DIR
    source = (REPO / tr.TEMPLATES_DIR / "textes" / f"{template}.md").read_text(encoding="utf-8")
    title = source.splitlines()[0].lstrip("# ").strip()
    headings = [line.lstrip("#").strip() for line in source.splitlines() if line.startswith("## ")]
    assert (folder / f"{template}.md").read_text(encoding="utf-8") == source

    docx_path = folder / f"{template}.docx"
    with zipfile.ZipFile(docx_path) as z:
        assert z.testzip() is None and "word/document.xml" in z.namelist()
    doc = Document(str(docx_path))
    docx_text = plain("\n".join(p.text for p in doc.paragraphs) + " ".join(c.text for t in doc.tables for r in t.rows for c in r.cells))
    assert doc.core_properties.title == title and doc.core_properties.language == "fr-FR"

    odt_path = folder / f"{template}.odt"
    with zipfile.ZipFile(odt_path) as z:
        first = z.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert z.read("mimetype") == b"application/vnd.oasis.opendocument.text"
    odt = load(str(odt_path))
    odt_text = plain(" ".join(teletype.extractText(e) for e in odt.getElementsByType(H) + odt.getElementsByType(P)))

    for text in (docx_text, odt_text):
        assert plain(REVIEW_NOTICE) in text
        assert plain(title) in text
        assert all(plain(h) in text for h in headings)
        assert len(text) > 800


@pytest.mark.parametrize("template", ["clause-data", "convention-partage", "aipd", "cadrage-question", "note-restitution"])
def test_template_page(site, template, training):
    page = soup_of(site / tr.TEMPLATES_DIR / f"{template}.html")
    text = page.get_text(" ")
    assert REVIEW_NOTICE in text
    assert page.find(class_="admonition", string=None) is not None
    hrefs = {a["href"] for a in page.find("article").find_all("a", href=True)}
    for ext in ("odt", "docx", "md"):
        assert f"fichiers/{template}.{ext}" in hrefs
    assert any(h.endswith("chapters/methode.html") for h in hrefs), "no link to the method"
    cited = {training.legal[r["texte"]].get("adresse") for r in training.templates[template].data["references"]} - {None}
    assert cited and cited <= hrefs, "the legal texts are linked"
    external = {h for h in hrefs if h.startswith("http")}
    assert external <= set(training.legal_urls()), external - set(training.legal_urls())
    assert page.find(id="texte-du-modele") is not None


# --- quizzes in the browser ------------------------------------------------------------------

@needs_chromium
def test_quiz_works_with_the_keyboard_offline(site, site_url, training):
    quiz = training.quizzes["methode"].data
    q1, q2 = quiz["questions"][0], quiz["questions"][1]
    right1 = next(i for i, c in enumerate(q1["choix"]) if c.get("juste"))
    wrong2 = next(i for i, c in enumerate(q2["choix"]) if not c.get("juste"))
    with offline_page() as (page, traffic):
        page.goto(f"{site_url}/{tr.QUIZ_DIR}/methode.html", wait_until="networkidle")
        # question 1: focus the first choice, move with the arrows, then Tab to « Vérifier » and Enter
        page.focus("#methode-q1-c1")
        for _ in range(right1):
            page.keyboard.press("ArrowDown")
        assert page.is_checked(f"#methode-q1-c{right1 + 1}")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "dq-verifier"
        page.keyboard.press("Enter")
        result = page.locator("#methode-q1-resultat")
        assert result.get_attribute("role") == "status"
        assert "Bonne réponse." in result.inner_text()
        assert plain(q1["choix"][right1]["retour"]) in plain(result.inner_text())
        assert plain(q1["explication"])[:50] in plain(result.inner_text())
        assert result.locator("a").count() >= 1  # the explanation's links
        # question 2: a wrong answer, checked with Space on the button
        page.check(f"#methode-q2-c{wrong2 + 1}")
        page.focus("#methode-q2 .dq-verifier")
        page.keyboard.press("Space")
        second = page.locator("#methode-q2-resultat").inner_text()
        assert "Ce n'est pas la bonne réponse." in second
        assert plain(q2["choix"][wrong2]["retour"]) in plain(second)
        score = page.locator(".dq-score").inner_text()
        assert score == f"Questions vérifiées : 2 sur {len(quiz['questions'])} ; bonnes réponses : 1."
        # a question checked with nothing chosen says what to do
        page.click("#methode-q3 .dq-verifier")
        assert page.locator("#methode-q3-resultat").inner_text() == "Choisissez d'abord une réponse."
        # without running the script, the correction is there to read
        page.click("#methode-q4 details.dq-correction summary")
        assert plain(quiz["questions"][3]["explication"])[:50] in plain(page.locator("#methode-q4 details").inner_text())
    assert traffic.external == [] and traffic.failed_local == [] and traffic.unexpected_errors() == []


def test_quiz_markup_is_accessible_without_script(site, training):
    page = soup_of(site / tr.QUIZ_DIR / "canicules.html")
    questions = page.select("form.dq-quiz fieldset.dq-question")
    assert len(questions) == len(training.quizzes["canicules"].data["questions"])
    for fieldset in questions:
        assert fieldset.find("legend").get_text(strip=True)
        for radio in fieldset.find_all("input", type="radio"):
            label = fieldset.find("label", attrs={"for": radio["id"]})
            assert label is not None and label.get_text(strip=True)
        assert fieldset.find("details", class_="dq-correction").find("summary").get_text(strip=True) == "Voir la correction"
        assert fieldset.find("button", type="button").get_text(strip=True) == "Vérifier"
    assert page.find("script", src=re.compile(r"_static/dq-training/dq-quiz\.js"))
    assert (site / "_static" / "dq-training" / "dq-quiz.js").exists()
    # only quiz pages load the quiz script
    assert not soup_of(site / "training" / "index.html").find("script", src=re.compile("dq-quiz"))


TRAINING_PAGES = ["training/index.html", "training/sessions/marseille.html", "training/animation.html",
                  "training/profils.html", "training/fiches.html", "training/quiz/methode.html",
                  "training/modeles/convention-partage.html"]


@needs_chromium
def test_training_pages_accessibility(site, site_url):
    """axe-core (WCAG 2.1 A/AA): no serious or critical violation on the pages of each kind."""
    assert AXE.exists(), "axe-core missing: run `make setup` (npm ci)"
    found = {}
    with offline_page() as (page, traffic):
        for path in TRAINING_PAGES:
            page.goto(f"{site_url}/{path}", wait_until="networkidle")
            page.add_script_tag(path=str(AXE))
            violations = page.evaluate(
                """async (tags) => {
                    const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
                    return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                      .map(v => ({id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
                }""", WCAG_AA)
            if violations:
                found[path] = violations
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)
    assert traffic.external == []
