"""Markup typed in every text field of a source and of a partner stays text in a real browser
(issue 16, point 3): on the source page, in the table and its filters, in the partner directory and
in the site search's results, no injected element appears and no dialog opens.

The entries are tests/fixtures/catalogue/balises/ (each field holds a `<b id=dq-injecte-…>` marker, an
`<img src=x onerror=alert(1)>` and, where long enough, a `<script>`); the catalogue pages are built
alone with the book's theme and extension (faster than the whole book), served on 127.0.0.1 and
opened in Debian's Chromium with every other host cut off.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from booktools.catalogue import sample_book

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "catalogue"
INJECTED = ('[id^="dq-injecte"], img[src="x"], svg[onload], iframe[src^="javascript"], '
            'script:not([src])')
#: Count what the markup would have made, and inline scripts that would run it.
COUNT_INJECTED = """() => {
  const found = Array.from(document.querySelectorAll('%s'))
    .filter(el => el.tagName !== 'SCRIPT' || /alert\\(/.test(el.textContent));
  return found.map(el => el.outerHTML.slice(0, 80));
}""" % INJECTED

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from browser import chromium_available

    if not chromium_available():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    book = sample_book(tmp_path_factory.mktemp("balises") / "livre", FIXTURES / "balises")
    run = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", "--keep-going", str(book),
                          str(book / "_build")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "WARNING" not in run.stderr, run.stderr
    return book / "_build"


@pytest.fixture()
def browser_page(site):
    from browser import offline_page
    from conftest import serve_folder

    with serve_folder(site) as url, offline_page() as (page, traffic):
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        yield url, page, traffic, dialogs
        assert dialogs == [], f"a dialog opened: {dialogs}"
        assert traffic.external == []
        assert not [r for r in traffic.failed_local if r.endswith("/x")], traffic.failed_local


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # time for an injected onerror/onload to fire, were there one


@pytest.mark.parametrize("path, shown", [
    ("catalogue/fiches/balises.html", ["Titre <b id=dq-injecte-titre>gras</b>", "Description <b id=dq-injecte-description>",
                                       "Producteur <b id=dq-injecte-producteur>", "Note de licence <b id=dq-injecte-licence>",
                                       "Accès <b id=dq-injecte-acces>", "Couverture <b id=dq-injecte-couverture>",
                                       "<img id=dq-injecte-geo src=x onerror=alert(1)>", "Fichier <b id=dq-injecte-distribution>",
                                       "<b id=dq-injecte-motcle>M</b>", "Limites <b id=dq-injecte-limites>",
                                       "Organisation <b id=dq-injecte-nom>gras</b>"]),
    ("catalogue/index.html", ["Titre <b id=dq-injecte-titre>gras</b>", "Producteur <b id=dq-injecte-producteur>"]),
    ("catalogue/partenaires.html", ["Organisation <b id=dq-injecte-nom>gras</b> <img src=x onerror=alert(1)>",
                                    "<b id=dq-injecte-sigle>S</b>", "Apport <b id=dq-injecte-apport>",
                                    "Territoire <b id=dq-injecte-territoire>", "Titre <b id=dq-injecte-titre>"]),
])
def test_markup_shows_as_typed_and_makes_no_element(browser_page, path, shown):
    url, page, _, _ = browser_page
    _open(page, f"{url}/{path}")
    assert page.evaluate(COUNT_INJECTED) == []
    text = page.inner_text("body")
    for typed in shown:
        assert typed in text, typed


def test_the_filters_handle_the_markup_as_text(browser_page):
    url, page, _, _ = browser_page
    _open(page, f"{url}/catalogue/index.html")
    producer = page.eval_on_selector_all("#dq-filtre-producteur option", "os => os.map(o => o.value)")
    typed = next(v for v in producer if "dq-injecte-producteur" in v)
    assert typed.startswith("Producteur <b id=dq-injecte-producteur>gras</b>")
    page.select_option("#dq-filtre-producteur", value=typed)
    assert page.locator("table.dq-catalogue tbody tr:visible").count() == 1
    assert page.inner_text("#dq-filtres-bilan") == "1 source affichée sur 1."
    page.wait_for_timeout(300)
    assert page.evaluate(COUNT_INJECTED) == []


@pytest.mark.parametrize("query, result", [
    # The directory's section titles are in the search index: a query covering half a title shows it.
    ("img src=x onerror=alert(1)", "<img src=x onerror=alert(1)>"),
    ("gras", None),
])
def test_search_results_show_titles_as_text(browser_page, query, result):
    url, page, _, _ = browser_page
    _open(page, f"{url}/search.html?q={quote(query)}")
    page.wait_for_function("() => document.querySelectorAll('#search-results ul.search li').length > 0",
                           timeout=20000)
    page.wait_for_timeout(500)
    assert page.evaluate(COUNT_INJECTED) == []
    links = page.eval_on_selector_all("#search-results ul.search li > a", "as => as.map(a => a.textContent)")
    if result:
        assert any(result in text for text in links), links
