"""The built pages of the content helper's area: the charter's generated pages, the honest widgets
of the lab pages, the facts of the chapters, and the kernel-free self-assessment form in Chromium.

Reads the book built by the build gate (`site` fixture); the browser tests use Debian's Chromium
with every host but 127.0.0.1 cut off.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup

import built_site
from browser import chromium_available, offline_page
from conftest import REPO
from booktools import lite
from booktools.ethics import check_repository
from dataquartiers.charter import assessment_yaml, grid_markdown, load_charter

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
CHARTER = REPO / "ethics-charter" / "charter.yml"
WIDGET = 'script[type="application/vnd.jupyter.widget-view+json"]'
needs_chromium = pytest.mark.skipif(not chromium_available(), reason="Debian chromium is not installed")


def soup_of(site: Path, page: str) -> BeautifulSoup:
    return built_site.soup_of(site / page)


def text_of(site: Path, page: str) -> str:
    main = soup_of(site, page).select_one("main") or soup_of(site, page)
    return " ".join(main.get_text(" ").replace("\u202f", " ").replace("\u00a0", " ").split())


def resolve(site: Path, page: str, href: str) -> tuple[Path, str]:
    parts = urlsplit(href)
    return (site / page).parent.joinpath(unquote(parts.path)).resolve(), parts.fragment


def serious_violations(page, selectors: list[str] | None = None) -> list[dict]:
    """The WCAG 2.1 AA violations of impact serious or critical that axe-core finds in the page, or
    only in the elements that `selectors` match (the content this test file is about)."""
    assert AXE.exists(), "axe-core missing: run `make setup` (npm ci)"
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async (selectors) => {
            const context = selectors ? {include: selectors.map(s => [s])} : document;
            const r = await axe.run(context, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
            return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => ({id: v.id, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }""", selectors)


# --- the charter's pages ---------------------------------------------------------------------------

def test_theme_pages_come_from_the_charter(site):
    charter = load_charter(CHARTER)
    for t in charter.themes:
        soup = soup_of(site, f"ethics-charter/themes/{t.id}.html")
        assert soup.select_one("main h1").get_text(strip=True).rstrip("#") == t.title
        for p in t.principles:
            section = soup.find(id=f"ethics-{p.id}")
            assert section is not None, p.id
            assert section.find("h2").get_text(strip=True).rstrip("#") == p.title


def test_high_robustness_scores_link_the_labs_limits_sections(site):
    """On the theme page, every lab's robustness justification links to its lab's limits section,
    and the link lands on a heading that starts with « Limites »."""
    report = check_repository(REPO)
    soup = soup_of(site, "ethics-charter/themes/quality-security.html")
    section = soup.find(id="ethics-algorithm-robustness")
    linked = {}
    for a in section.select("table a[href]"):
        target, fragment = resolve(site, "ethics-charter/themes/quality-security.html", a["href"])
        if fragment and target.name.endswith(".html") and target.parent.name == "labs":
            linked[target.stem] = (target, fragment)
    for assessment in report.assessments:
        if assessment.score("algorithm-robustness") < 3:
            continue
        target, fragment = linked[assessment.stem]
        heading = built_site.soup_of(target).find(id=fragment)
        assert heading is not None and heading.find(re.compile("h[1-6]")).get_text(strip=True).startswith("Limites")


def test_the_overview_has_its_chart_and_tables(site):
    soup = soup_of(site, "ethics-charter/evaluations.html")
    svg = soup.select_one("main svg.dq-ethics-chart")
    assert svg is not None and svg.get("role") == "img" and svg.find("desc").get_text().startswith("Score moyen")
    assert len(soup.select("main table")) == 4
    text = text_of(site, "ethics-charter/evaluations.html")
    assert "Moyenne générale" in text and "dq-ethics:" not in soup.decode()  # no marker left


# --- lab pages: widgets are still images, and say so -------------------------------------------------

LAB_PAGES = sorted(f"labs/{p.stem}.html" for p in (REPO / "labs").glob("*.ipynb"))


@pytest.mark.parametrize("page", LAB_PAGES)
def test_every_widget_says_it_is_a_still_image_and_offers_the_browser(site, page):
    soup = soup_of(site, page)
    widgets = soup.select(WIDGET)
    outputs = {id(w.find_parent(class_="cell_output")): w.find_parent(class_="cell_output") for w in widgets}
    for output in outputs.values():
        notice = output.find_previous_sibling(class_="dq-static-widget")
        assert notice is not None, f"{page}: a widget without its notice"
        assert "Image figée du lab" in notice.get_text() and "ne change ni les chiffres" in notice.get_text()
        actions = notice.find_next_sibling(class_="dq-lab-actions")
        assert actions is not None and actions.find_next_sibling(class_="cell_output") is output
        launch = actions.select_one("a.dq-lab-launch")
        assert launch.get_text(strip=True) == "Lancer dans le navigateur"
        target, _ = resolve(site, page, launch["href"])
        assert target.exists(), launch["href"]  # the JupyterLite page
        notebook = parse_qs(urlsplit(launch["href"]).query)["path"][0]
        assert notebook == page.replace(".html", ".ipynb") and (site / "lite" / "files" / notebook).exists()


def test_the_labs_do_have_widgets(site):
    """The previous test is not vacuous: the labs show sliders."""
    assert sum(len(soup_of(site, p).select(WIDGET)) for p in LAB_PAGES) >= 5


# --- facts of the chapters (issue 13) ----------------------------------------------------------------

def test_the_home_page_claims_only_what_is_true(site):
    text = text_of(site, "intro.html")
    assert "fonctionnent sans connexion" not in text and "ordinateur portable" not in text
    assert "image figée" in text and "chaque participant les sert sur son propre poste" in text
    assert "tous les huit à dix ans" not in text
    assert "Auvergne-Rhône-Alpes" not in text  # the method was presented there, not taken up


def test_the_covid_study_is_quoted_with_its_own_words(site):
    for page in ("chapters/pourquoi-la-donnee.html", "use-cases/fragilite-covid.html"):
        text = text_of(site, page)
        assert "tous les quartiers QPV sont dans des zones sensibles" in text, page
        assert not re.search(r"tous les (quartiers prioritaires|QPV) (se trouvent|sont) dans des zones fragiles", text)


def test_use_cases_say_where_they_come_from(site):
    text = text_of(site, "use-cases/index.html")
    assert "quatre études" not in text
    for words in ("groupe de travail Santé", "groupe de travail Emploi", "Adapt'Canicules", "Mobilités"):
        assert words in text, words
    assert "pas encore de cas d'usage" in text


def test_the_job_offers_count_is_the_labs_cleaned_count(site):
    """The use case quotes the offers that remain after the lab's cleaning, as the lab computes them."""
    lab = text_of(site, "labs/acces-emploi.html")  # thousands separators read as spaces
    kept = re.search(r"offres gardées (\d{1,3}(?: \d{3})*)\b", lab)
    duplicates = re.search(r"doublons exacts retirés (\d{1,3}(?: \d{3})*)\b", lab)
    assert kept and duplicates
    page = text_of(site, "use-cases/acces-emploi.html")
    assert kept.group(1) + " offres distinctes" in page
    assert duplicates.group(1) + " doublons exacts" in page


def test_the_threshold_of_11_is_said_for_what_it_is(site):
    text = text_of(site, "chapters/cadre-juridique.html")
    assert "pratiques de l'Insee" not in text
    assert "sources fiscales" in text and "l'applique à tout ce qu'il diffuse" in text


def test_the_partner_directory_says_ekitia_is_a_gip():
    data = yaml.safe_load((REPO / "catalogue" / "partners" / "ekitia.yml").read_text(encoding="utf-8"))
    assert data["kind"] == "public_operator" and "groupement d'intérêt public" in data["brings"].lower()
    chapter = " ".join((REPO / "chapters" / "gouvernance.md").read_text(encoding="utf-8").split())
    assert "Ekitia, association" not in chapter and "groupement d'intérêt public" in chapter


GLOSSARY_TERMS = ["quintile", "unité de consommation", "revenu déclaré", "revenu disponible", "taux de pauvreté",
                  "ménage fiscal", "Lambert-93", "température de surface", "conseil citoyen", "délégué du préfet",
                  "NPNRU", "ONPV", "code QP", "code QN"]


def test_the_glossary_defines_the_terms_of_the_labs(site):
    soup = soup_of(site, "chapters/glossaire.html")
    defined = {" ".join(dt.get_text(" ", strip=True).rstrip("¶#").split()) for dt in soup.select("dl.glossary dt")}
    for term in GLOSSARY_TERMS:
        assert term in defined, term
    assert "60 %" in soup.select_one("dl.glossary").get_text().replace("\u202f", " ").replace("\u00a0", " ")


CHAPTERS = ["chapters/pourquoi-la-donnee.html", "chapters/cadre-juridique.html", "chapters/gouvernance.html",
            "chapters/methode.html", "chapters/enjeux.html"]


def test_the_texts_are_cited_by_direct_links_not_home_pages(site):
    home_pages = {"https://www.legifrance.gouv.fr", "https://eur-lex.europa.eu", "https://www.circulaires.gouv.fr",
                  "https://www.legifrance.gouv.fr/", "https://eur-lex.europa.eu/", "https://www.circulaires.gouv.fr/"}
    links = set()
    for page in CHAPTERS:
        for a in soup_of(site, page).select("main a[href^='http']"):
            assert a["href"] not in home_pages, f"{page}: {a['href']}"
            links.add(a["href"])
    for law in ("JORFTEXT000028636804", "JORFTEXT000033202746", "JORFTEXT000000888573", "JORFTEXT000000886460",
                "circulaire/id/45162", "CELEX:32016R0679", "CELEX:32022R0868", "eli/reg/2024/1689"):
        assert any(law in link for link in links), law


# --- the self-assessment page, without any kernel ----------------------------------------------------

PAGE = "ethics-charter/auto-evaluation.html"


def test_the_self_assessment_page_is_a_form_from_the_charter(site):
    charter = load_charter(CHARTER)
    soup = soup_of(site, PAGE)
    form = soup.select_one("form#dq-sa-form")
    assert form is not None and not soup.select(WIDGET)  # computed in the page, no widget snapshot
    for p in charter.principles:
        group = form.select_one(f"fieldset#dq-sa-principle-{p.id}")
        assert group.legend.get_text(strip=True) == p.title
        radios = group.select(f"input[type=radio][name=score-{p.id}]")
        assert [r["value"] for r in radios] == ["", "0", "1", "2", "3", "4"]
        why = group.select_one("textarea")
        assert group.select_one(f"label[for={why['id']}]") is not None
    assert [f.legend.get_text(strip=True) for f in form.select("fieldset.dq-sa-theme")] == [t.title for t in charter.themes]
    assert soup.select_one("#dq-sa-status")["role"] == "status"
    assert json.loads(soup.select_one("#dq-sa-charter").string)["title"] == charter.title


HOSTILE = '<img src=x onerror="window.pwned=1"> « pas | de ; markup » ?'


@needs_chromium
def test_the_form_computes_in_chromium_offline_with_mouse_and_keyboard(site, site_url, tmp_path):
    charter = load_charter(CHARTER)
    with offline_page() as (page, traffic):
        page.on("dialog", lambda d: (traffic.page_errors.append(f"dialog: {d.message}"), d.dismiss()))
        page.goto(f"{site_url}/{PAGE}", wait_until="networkidle")
        averages = page.locator("#dq-sa-averages")
        assert averages.locator('tr[data-theme="society"] .dq-sa-mean').inner_text() == "–"
        # the mouse: three principles of the first theme
        page.fill("#dq-sa-project", "Îlots de chaleur du quartier")
        page.fill("#dq-sa-by", "le service santé d'une ville")
        page.fill("#dq-sa-date", "2026-03-01")
        page.fill("#dq-sa-summary", "Repérer  les secteurs\nles plus chauds ; avec les habitants ?")
        page.check('input[name="score-beneficence"][value="3"]')
        page.fill("#dq-sa-why-beneficence", "Question du service santé.")
        page.check('input[name="score-human-factor"][value="4"]')
        page.fill("#dq-sa-why-human-factor", HOSTILE)
        assert averages.locator('tr[data-theme="society"] .dq-sa-mean').inner_text() == "3,5"
        assert averages.locator('tr[data-theme="society"] .dq-sa-count').inner_text() == "2 / 4"
        assert page.inner_text("#dq-sa-status") == ("« Science des données et société » : moyenne 3,5 sur 4 "
                                                    "(2 principes notés sur 4) ; moyenne générale 3,5.")
        # the keyboard only: into the radios of « Intégrité », arrows to choose 1, then its justification
        page.focus('input[name="score-integrity"][value=""]')
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Tab")
        page.keyboard.type("Licences pas vérifiées.")
        assert page.is_checked('input[name="score-integrity"][value="1"]')
        governance = averages.locator('tr[data-theme="governance"]')
        assert governance.locator(".dq-sa-mean").inner_text() == "1,0"
        assert "« Gouvernance des données dans un cadre de confiance » : moyenne 1,0 sur 4" in page.inner_text("#dq-sa-status")
        assert averages.locator('tr[data-theme=""] .dq-sa-mean').inner_text() == "2,7"
        # the grid shows what was typed as text
        row = page.locator('#dq-sa-grid tr[data-principle="human-factor"]')
        assert row.locator(".dq-sa-why").inner_text() == HOSTILE
        assert row.locator(".dq-sa-level").inner_text() == "Pleinement intégré"
        assert page.evaluate("window.pwned === undefined") and page.locator("#dq-sa-grid img").count() == 0
        # downloads: the Markdown by the keyboard (Enter on the focused button), the YAML by the mouse
        page.focus("#dq-sa-download-md")
        with page.expect_download() as md_download:
            page.keyboard.press("Enter")
        with page.expect_download() as yaml_download:
            page.click("#dq-sa-download-yaml")
        md, yml = md_download.value, yaml_download.value
        assert md.suggested_filename == "ilots-de-chaleur-du-quartier.grille-ethique.md"
        assert yml.suggested_filename == "ilots-de-chaleur-du-quartier.grille-ethique.yml"
        md_text = Path(md.path()).read_text(encoding="utf-8")
        yaml_text = Path(yml.path()).read_text(encoding="utf-8")
    answers = {p.id: {"score": None, "justification": ""} for p in charter.principles}
    answers.update({"beneficence": {"score": 3, "justification": "Question du service santé."},
                    "human-factor": {"score": 4, "justification": HOSTILE},
                    "integrity": {"score": 1, "justification": "Licences pas vérifiées."}})
    arguments = dict(by="le service santé d'une ville", date="2026-03-01",
                     summary="Repérer  les secteurs\nles plus chauds ; avec les habitants ?")
    # the same files as the notebook's (dataquartiers.charter), byte for byte for the Markdown
    assert md_text == grid_markdown(charter, "Îlots de chaleur du quartier", answers, **arguments)
    assert yaml.safe_load(yaml_text) == yaml.safe_load(assessment_yaml(charter, "Îlots de chaleur du quartier",
                                                                       answers, **arguments))
    assert traffic.external == [] and traffic.failed_local == []
    assert traffic.unexpected_errors() == []


@needs_chromium
def test_the_self_assessment_page_is_accessible(site, site_url):
    with offline_page() as (page, _traffic):
        page.goto(f"{site_url}/{PAGE}", wait_until="networkidle")
        page.check('input[name="score-beneficence"][value="2"]')
        violations = serious_violations(page)
    assert violations == [], json.dumps(violations, ensure_ascii=False, indent=1)


@needs_chromium
@pytest.mark.parametrize("path, selectors", [
    # on a lab page, the notices and launch boxes this book adds (the code cells are the theme's)
    ("labs/canicules.html", [".dq-static-widget", ".dq-lab-actions"]),
    ("ethics-charter/evaluations.html", None),
    ("ethics-charter/themes/quality-security.html", None)])
def test_generated_content_is_accessible(site, site_url, path, selectors):
    with offline_page() as (page, _traffic):
        page.goto(f"{site_url}/{path}", wait_until="networkidle")
        page.wait_for_timeout(500)  # widgets render after load
        violations = serious_violations(page, selectors)
    assert violations == [], f"{path}:\n" + json.dumps(violations, ensure_ascii=False, indent=1)


def test_the_launch_box_is_the_one_booktools_lite_makes(site):
    """The notice reuses lite's own box (its wording and its address), not a copy."""
    config = lite.load_config(REPO / lite.CONFIG_FILE_NAME)
    box = BeautifulSoup(lite.lab_actions_html("labs/canicules", config), "html.parser")
    soup = soup_of(site, "labs/canicules.html")
    boxes = [b for b in soup.select(".dq-lab-actions") if b.find_previous_sibling(class_="dq-static-widget")]
    assert boxes and all(b.get_text(" ", strip=True) == box.get_text(" ", strip=True) for b in boxes)
