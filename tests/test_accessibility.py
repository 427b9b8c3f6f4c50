"""Accessibility (RGAA / WCAG 2.1 AA) beyond axe: text alternatives, the accessibility statement,
the map legend on a phone.

axe-core on every page, in light and dark mode, and the 390 px check: test_site_browser.py.
"""

from __future__ import annotations

import re

import pytest

from booktools import site_audit, site_publish
from browser import chromium_available, offline_page
from built_site import soup_of
from conftest import REPO, serve_folder


def test_every_image_has_a_text_alternative(site):
    missing = []
    for rel in site_publish.site_pages(site):
        for img in soup_of(site / rel).find_all("img"):
            if img.get("alt") is None:
                missing.append(f"{rel}: <img src={img.get('src')}>")
    assert not missing, "\n".join(missing[:20])


# --- the accessibility statement (RGAA) --------------------------------------------------------

#: The parts of an RGAA accessibility statement, in the order of the official model.
STATEMENT_SECTIONS = ["État de conformité", "Résultats des tests", "Contenus non accessibles",
                      "Non-conformités", "Dérogations pour charge disproportionnée",
                      "Contenus non soumis à l'obligation d'accessibilité", "Établissement de cette déclaration",
                      "Technologies utilisées", "Environnement de test", "Outils pour évaluer",
                      "Retour d'information et contact", "Voies de recours"]


def test_accessibility_statement_has_every_part_of_the_rgaa_model(site):
    soup = soup_of(site / "accessibilite.html")
    assert soup.find("h1").get_text(strip=True).startswith("Déclaration d'accessibilité")
    headings = [h.get_text(" ", strip=True) for h in soup.select("article h2, article h3")]
    positions = []
    for section in STATEMENT_SECTIONS:
        found = [i for i, h in enumerate(headings) if h.startswith(section)]
        assert found, f"no section « {section} » (headings: {headings})"
        positions.append(found[0])
    assert positions == sorted(positions), "sections out of the model's order"
    text = soup.select_one("article").get_text(" ", strip=True)
    assert "non conforme" in text and "article 47 de la loi n° 2005-102" in text
    assert "Défenseur des droits" in text


def test_accessibility_statement_contact_is_the_projects_channel_never_a_person(site):
    import yaml

    repository = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))["repository"]["url"].rstrip("/")
    article = soup_of(site / "accessibilite.html").select_one("article")
    contact = [a["href"] for a in article.find_all("a", href=True) if a["href"].startswith(repository)]
    assert f"{repository}/issues/new" in contact
    text = article.get_text(" ")
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text), "an e-mail address in the statement"
    assert not any(a["href"].startswith("mailto:") for a in article.find_all("a", href=True))


def test_every_page_links_to_the_statement_from_its_footer(site):
    missing = []
    for rel in site_publish.site_pages(site):
        if rel == "index.html":
            continue  # the redirect to the home page
        footer = soup_of(site / rel).select_one("footer.bd-footer-content")
        links = [a for a in footer.find_all("a", href=True)] if footer else []
        target = ("#", "") if rel == "accessibilite.html" else ()  # Sphinx's link from a page to itself
        if not any((a["href"].split("#")[0].endswith("accessibilite.html") or a["href"] in target)
                   and "Accessibilité" in a.get_text() for a in links):
            missing.append(rel)
    assert not missing, f"no link to the statement in the footer of {missing[:10]}"


def test_the_statement_names_the_axe_version_place_and_the_checks_it_claims(site):
    """What the statement says the tests check is what test_site_browser.py checks."""
    text = soup_of(site / "accessibilite.html").select_one("article").get_text(" ", strip=True)
    tests = (REPO / "tests" / "test_site_browser.py").read_text(encoding="utf-8")
    for claim, proof in [("mode clair et en mode sombre", 'parametrize("mode", ["light", "dark"])'),
                         ("390 pixels", "test_no_page_scrolls_sideways_on_a_phone"),
                         ("servi sans erreur", "test_every_request_a_page_makes_answers")]:
        assert claim in text.replace("\n", " ") and proof in tests, claim
    assert "package.json" in text
    sample = f"dossier de plus de {site_audit.SAMPLE_ABOVE} pages générées de la même façon"
    flat = " ".join(text.split())
    assert flat.count(sample) == 2 and flat.count(f"{site_audit.SAMPLE} pages réparties régulièrement") == 1, \
        "the statement gives the audit's sample rule (booktools/site_audit.py)"


# --- map legends on a phone ----------------------------------------------------------------------

def _map_document(tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    from dataquartiers import maps

    gdf = gpd.GeoDataFrame({"part": [10.0, 20.0, 30.0, 40.0, 50.0]},
                           geometry=[box(i * 0.01, 0, i * 0.01 + 0.009, 0.009) for i in range(5)], crs="EPSG:4326")
    m = maps.base_map(gdf, height=400)
    classes = maps.choropleth_layer(m, gdf, "part", name="Part")
    maps.add_legend(m, "Part des ménages à bas revenus (%)", classes)
    path = tmp_path / "carte.html"
    path.write_text(m.get_root().render(), encoding="utf-8")
    return path


@pytest.mark.skipif(not chromium_available(), reason="Debian chromium is not installed (.ci/run installs it)")
def test_map_legend_folds_on_a_phone_and_opens_with_the_keyboard(tmp_path):
    path = _map_document(tmp_path)
    with serve_folder(tmp_path) as url:
        with offline_page(viewport=(390, 400)) as (page, traffic):
            page.goto(f"{url}/{path.name}", wait_until="load")
            legend = page.locator("details.dq-legend")
            assert legend.evaluate("d => d.open") is False, "the legend covers the map on a phone"
            box = legend.bounding_box()
            area = page.evaluate("() => window.innerWidth * window.innerHeight")
            assert box["width"] * box["height"] <= 0.06 * area, f"folded legend too big: {box}"
            page.locator("details.dq-legend summary").focus()
            page.keyboard.press("Enter")
            assert legend.evaluate("d => d.open") is True
            assert "Part des ménages à bas revenus" in legend.inner_text()
            page.keyboard.press("Enter")
            assert legend.evaluate("d => d.open") is False
            assert not traffic.external
        with offline_page(viewport=(1000, 600)) as (page, _traffic):
            page.goto(f"{url}/{path.name}", wait_until="load")
            assert page.locator("details.dq-legend").evaluate("d => d.open") is True
            assert "Part des ménages à bas revenus" in page.locator("details.dq-legend").inner_text()
