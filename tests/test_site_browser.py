"""Every page of the built site in Chromium, as a visitor gets it (booktools/site_audit.py).

One audit, shared by the tests of this module: each page is found in the built site (pages other
parts of the book add are covered without a list; folders of many generated pages of one kind are
checked on even samples: site_audit.audit_plan), loaded once from a server that answers like
GitHub Pages (gzip, the site under its path, 404.html for unknown addresses), then checked by
axe-core (WCAG 2.1 A and AA) in light and dark mode and at 390 px wide. axe-core comes from npm (package-lock.json).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from booktools import site_audit
from browser import chromium_available
from conftest import REPO

pytestmark = pytest.mark.skipif(not chromium_available(),
                                reason="Debian chromium is not installed (.ci/run installs it)")

#: Issue 15: a text page transferred 2.6 MiB, a lab page 7 to 9 MiB.
TEXT_PAGE_BUDGET = 600_000
LAB_PAGE_BUDGET = 3_000_000


def is_notebook_page(rel: str) -> bool:
    return (REPO / rel).with_suffix(".ipynb").exists()


@pytest.fixture(scope="module")
def audit(site) -> dict[str, site_audit.PageReport]:
    assert site_audit.AXE.exists(), "axe-core missing: run `make setup` (npm ci)"
    return {report.path: report for report in site_audit.audit_site(site)}


def _describe(reports: list[site_audit.PageReport], what) -> str:
    return "\n".join(f"{r.path}: {what(r)}" for r in reports)


def test_every_page_is_checked(site, audit):
    """Every page is loaded and checked by axe, but in folders of many generated pages of one
    kind, where the sample of site_audit.audit_plan is."""
    by_folder = {}
    for rel in site_audit.site_pages(site):
        by_folder.setdefault(rel.rpartition("/")[0], []).append(rel)
    assert max(len(members) for members in by_folder.values()) > site_audit.SAMPLE_ABOVE  # a sample is taken
    for folder, members in by_folder.items():
        loaded = [p for p in members if p in audit]
        with_axe = [p for p in loaded if audit[p].axe]
        where = f"{folder or '/'} ({len(members)} pages)"
        expected = site_audit.SAMPLE if len(members) > site_audit.SAMPLE_ABOVE else len(members)
        assert len(loaded) == len(with_axe) == expected, f"{where}: {len(loaded)} loaded, axe on {len(with_axe)}"
        assert {members[0], members[-1]} <= set(with_axe), f"{where}: the sample leaves out its ends"
    for rel in ("intro.html", "404.html", "search.html", "accessibilite.html", "labs/prise-en-main.html"):
        assert audit[rel].axe, rel


def test_every_request_a_page_makes_answers(audit):
    """No 4xx or 5xx (fonts included), no request to another host, the page itself 200."""
    bad = [r for r in audit.values() if r.failed or r.external or r.status != 200]
    assert not bad, _describe(bad, lambda r: f"status {r.status}; {r.failed[:5]} {r.external[:3]}")


def test_no_script_error(audit):
    bad = [r for r in audit.values() if r.page_errors]
    assert not bad, _describe(bad, lambda r: r.page_errors[:3])


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_no_accessibility_violation(audit, mode):
    """axe-core, WCAG 2.1 A and AA rules, every impact: zero violations on every page."""
    bad = [r for r in audit.values() if r.axe.get(mode)]
    assert not bad, f"mode {mode}:\n" + _describe(bad, lambda r: json.dumps(r.axe[mode], ensure_ascii=False, indent=1))


def test_no_page_scrolls_sideways_on_a_phone(audit):
    bad = [r for r in audit.values() if r.sideways_at_phone > 0]
    assert not bad, f"at {site_audit.PHONE_WIDTH} px:\n" + _describe(bad, lambda r: f"{r.sideways_at_phone} px too wide")


def test_text_pages_are_light(audit):
    """A text page (every page not made from a notebook) ≤ 600 KB transferred."""
    text = [r for r in audit.values() if not is_notebook_page(r.path)]
    assert len(text) >= 10
    heavy = [r for r in text if r.transferred > TEXT_PAGE_BUDGET]
    assert not heavy, _describe(heavy, lambda r: f"{r.transferred / 1000:.0f} KB")


def test_lab_pages_are_light(audit):
    """A lab page (made from a notebook: maps, widgets, tables) ≤ 3 MB transferred."""
    labs = [r for r in audit.values() if is_notebook_page(r.path)]
    assert len(labs) >= 5
    heavy = [r for r in labs if r.transferred > LAB_PAGE_BUDGET]
    assert not heavy, _describe(heavy, lambda r: f"{r.transferred / 1e6:.2f} MB")


def test_unknown_address_gets_the_french_404_page(site):
    """GitHub Pages answers an unknown address, at any depth, with 404.html: in French, complete."""
    with site_audit.serve_like_github_pages(site, site_audit.base_path()) as url, \
            site_audit.SiteBrowser(url, site, phone=False) as browser:
        report = browser.check("dossier/sous-dossier/page-qui-n-existe-pas.html")
        title = browser.page.title()
        browser.finish()
    assert report.status == 404
    assert "Page introuvable" in title
    assert not report.failed and not report.external, report.failed
    assert report.axe == {"light": [], "dark": []}, report.axe


def _search(site: Path, query: str):
    with site_audit.serve_like_github_pages(site, site_audit.base_path()) as url, \
            site_audit.SiteBrowser(url, site, axe=False, phone=False) as browser:
        report = browser.check(f"search.html?q={query}")
        page = browser.page
        page.wait_for_selector("#search-results .search-summary, #search-results p", timeout=20_000)
        page.wait_for_function("() => !document.querySelector('#search-results h2')?.textContent.includes('…') "
                               "&& document.querySelectorAll('#search-results li p.context').length "
                               ">= document.querySelectorAll('#search-results li').length", timeout=30_000)
        results = page.evaluate("""() => [...document.querySelectorAll('#search-results li')].map(li => ({
            href: li.querySelector('a').getAttribute('href'),
            snippet: (li.querySelector('p.context') || {}).textContent || ''}))""")
        browser.finish()
    return results, report


@pytest.mark.skipif(not chromium_available(), reason="Debian chromium is not installed")
def test_search_finds_words_without_their_accents_and_shows_clean_snippets(site):
    plain, report = _search(site, "fragilite")
    accented, _ = _search(site, "fragilité")
    hrefs = {r["href"].split("#")[0] for r in plain}
    assert {"labs/fragilite-covid.html", "use-cases/fragilite-covid.html"} <= hrefs, hrefs
    assert hrefs == {r["href"].split("#")[0] for r in accented}
    for result in plain:
        snippet = result["snippet"]
        assert snippet.strip(), f"{result['href']}: empty snippet"
        for junk in (".pdf", ".ipynb", '{"', "application/vnd", "version_major", "Ctrl+K"):
            assert junk not in snippet, f"{result['href']}: « {junk} » in the snippet: {snippet[:200]}"
    assert any("fragilit" in site_audit_fold(r["snippet"]) for r in plain)
    assert not report.failed


def site_audit_fold(text: str) -> str:
    from booktools.site_publish import fold

    return fold(text)


WIDE_TABLES = """() => [...document.querySelectorAll('article.bd-article table')].map(table => {
  let frame = table.parentElement;
  while (frame && !['auto', 'scroll'].includes(getComputedStyle(frame).overflowX)) frame = frame.parentElement;
  if (!frame || frame.matches('article, body, html')) return {clipped: table.getBoundingClientRect().right > innerWidth};
  const wide = frame.scrollWidth > frame.clientWidth + 1;
  const hint = frame.previousElementSibling;
  const hinted = !!hint && hint.classList.contains('dq-scroll-hint') && hint.offsetHeight > 0;
  return {wide, hinted, focusable: frame.tabIndex === 0, text: hinted ? hint.textContent : ''};
})"""


def test_wide_tables_scroll_with_a_visible_hint_on_a_phone(site):
    """At 390 px, a table wider than the page scrolls in its own frame, which the keyboard can
    reach, with a French hint shown above it; no table is cut off."""
    pages = ["datasets/index.html", "catalogue/index.html", "catalogue/partenaires.html",
             "ethics-charter/evaluations.html", "labs/prise-en-main.html", "chapters/glossaire.html"]
    wide = 0
    with site_audit.serve_like_github_pages(site, site_audit.base_path()) as url, \
            site_audit.SiteBrowser(url, site, axe=False) as browser:
        for rel in pages:
            browser.check(rel)  # leaves the page at phone width
            browser.page.wait_for_timeout(400)  # the site's resize handler (debounced 200 ms) sets the hints
            for table in browser.page.evaluate(WIDE_TABLES):
                assert not table.get("clipped"), f"{rel}: a table is cut off without a scroll frame"
                if table.get("wide"):
                    wide += 1
                    assert table["hinted"] and table["focusable"], f"{rel}: {table}"
                    assert "faites-le défiler" in table["text"]
        browser.finish()
    assert wide >= 3, "no wide table met: the check checked nothing"
