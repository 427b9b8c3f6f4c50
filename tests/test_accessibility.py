"""Accessibility (RGAA / WCAG 2.1 AA) of the built pages, checked by axe-core in Chromium.

axe-core comes from npm (package-lock.json), like the other front-end files; it is injected
into the pages by the test only. Every violation of impact "serious" or "critical" fails the
test; contrast included. Also checked without axe: alt text on every image.
"""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup

from browser import chromium_available, offline_page
from conftest import REPO

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
PAGES = ["intro.html", "chapters/methode.html", "chapters/glossaire.html", "labs/prise-en-main.html",
         "labs/fragilite-covid.html", "catalogue/index.html", "ethics-charter/index.html",
         "datasets/index.html", "use-cases/index.html"]
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.mark.skipif(not chromium_available(), reason="Debian chromium is not installed (.ci/run installs it)")
@pytest.mark.parametrize("path", PAGES)
def test_no_serious_accessibility_violation(site, site_url, path):
    if not (site / path).exists():
        pytest.fail(f"{path} is not in the built site")
    assert AXE.exists(), "axe-core missing: run `make setup` (npm ci)"
    with offline_page() as (page, _traffic):
        page.goto(f"{site_url}/{path}", wait_until="networkidle")
        page.wait_for_timeout(800)  # widgets and maps render after load
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(
            """async (tags) => {
                const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
                return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                  .map(v => ({id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
            }""", WCAG_AA)
    assert violations == [], f"{path}:\n" + json.dumps(violations, ensure_ascii=False, indent=1)


def test_every_image_has_a_text_alternative(site):
    missing = []
    for page in site.rglob("*.html"):
        if page.relative_to(site).parts[0] in ("_static", "lite", "_sources"):
            continue
        for img in BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").find_all("img"):
            if img.get("alt") is None:
                missing.append(f"{page.relative_to(site)}: <img src={img.get('src')}>")
    assert not missing, "\n".join(missing[:20])
