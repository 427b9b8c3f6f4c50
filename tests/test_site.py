"""The site as published: one address, sitemap, robots.txt, 404, Open Graph, favicon, launch menu,
French labels, search without accents, the deployment workflow (booktools/site_publish.py).

Browser checks of every page (weight, missing files, axe, phones) are in test_site_browser.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from booktools import site_publish
from built_site import soup_of
from conftest import REPO

CONFIG = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
BASE = CONFIG["html"]["baseurl"]
REPOSITORY = CONFIG["repository"]["url"].rstrip("/")
SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def pages(site: Path) -> list[str]:
    return site_publish.site_pages(site)


def document_pages(site: Path) -> list[str]:
    """Pages made from a source of the book (.md or .ipynb), the redirect page excepted."""
    return [rel for rel in pages(site)
            if any((REPO / rel).with_suffix(ext).exists() for ext in (".md", ".ipynb")) and rel != "index.html"]


def notebook_pages(site: Path) -> list[str]:
    return [rel for rel in pages(site) if (REPO / rel).with_suffix(".ipynb").exists()]


# --- one address -------------------------------------------------------------------------------

def test_the_two_addresses_are_written_once():
    """The site's and the repository's addresses appear in _config.yml and nowhere else in the
    code, templates or workflows (the README may show them to people; JSON Schema `$id`s on the
    bare host name are names, not addresses)."""
    assert BASE.startswith("https://") and BASE.endswith("/"), BASE
    assert REPOSITORY.startswith("https://"), REPOSITORY
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    offenders = []
    for name in tracked:
        path = REPO / name
        if name == "_config.yml" or path.suffix in (".md", ".ipynb") or name.startswith("tests/fixtures/"):
            continue
        if path.suffix not in (".py", ".html", ".js", ".css", ".yml", ".yaml", ".json", ".toml", ".cfg", ".txt", ""):
            continue
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for address in (BASE.rstrip("/"), REPOSITORY):
            if address in text:
                offenders.append(f"{name}: {address}")
    assert not offenders, "addresses written outside _config.yml:\n" + "\n".join(offenders)


def test_canonical_and_open_graph_tags_on_every_page(site):
    missing = []
    for rel in document_pages(site):
        soup = soup_of(site / rel)
        canonical = soup.find("link", rel="canonical")
        if canonical is None or canonical["href"] != BASE + rel:
            missing.append(f"{rel}: canonical {canonical and canonical.get('href')}")
        og = {m["property"]: m.get("content", "") for m in soup.find_all("meta", property=True)}
        for prop in ("og:title", "og:url", "og:description", "og:site_name", "og:locale"):
            if not og.get(prop, "").strip():
                missing.append(f"{rel}: no {prop}")
        if og.get("og:url") != BASE + rel:
            missing.append(f"{rel}: og:url {og.get('og:url')}")
        if og.get("og:locale") != "fr_FR":
            missing.append(f"{rel}: og:locale {og.get('og:locale')}")
        description = soup.find("meta", attrs={"name": "description"})
        if description is None or len(description.get("content", "").strip()) < 30:
            missing.append(f"{rel}: no description")
    assert not missing, "\n".join(missing[:30])


def test_sitemap_lists_every_page_with_its_address(site):
    tree = ET.parse(site / "sitemap.xml")
    locs = [loc.text for loc in tree.getroot().findall("s:url/s:loc", SITEMAP_NS)]
    assert len(locs) == len(set(locs)), "a page is listed twice"
    assert all(loc.startswith(BASE) for loc in locs), [loc for loc in locs if not loc.startswith(BASE)][:5]
    listed = {loc[len(BASE):] for loc in locs}
    for rel in listed:
        assert (site / rel).is_file(), f"sitemap.xml lists {rel}, which is not in the site"
    expected = {rel for rel in pages(site) if rel.rsplit("/", 1)[-1] not in site_publish.NOT_IN_SITEMAP
                and rel != "index.html"}
    assert expected - listed == set(), f"pages missing from sitemap.xml: {sorted(expected - listed)[:10]}"
    assert not {"search.html", "genindex.html", "404.html"} & listed
    # generated pages that are not Sphinx documents (the catalogue's sheets) are there too
    assert any(rel.startswith("catalogue/fiches/") for rel in listed)


def test_robots_txt_points_to_the_sitemap(site):
    robots = (site / "robots.txt").read_text(encoding="utf-8")
    assert f"Sitemap: {BASE}sitemap.xml" in robots.splitlines()
    assert "User-agent: *" in robots.splitlines()
    assert (site / ".nojekyll").exists()


def test_french_404_page_with_links_from_the_site_root(site):
    page = site / "404.html"
    soup = soup_of(page)
    assert soup.html["lang"] == "fr"
    assert "Page introuvable" in soup.title.get_text()
    assert soup.find("h1").get_text(strip=True) == "Page introuvable"
    prefix = urlsplit(BASE).path
    # served for any missing address, at any depth: its files are addressed from the site's root
    for tag, attr in (("link", "href"), ("script", "src")):
        for node in soup.find_all(tag, **{attr: True}):
            url = node[attr]
            if url.startswith(("http", "data:")):
                continue
            assert url.startswith(prefix), f"404.html: {tag} {url} is relative"
            assert (site / urlsplit(url).path[len(prefix):]).exists(), f"404.html: {url} does not exist"


def test_favicon_on_every_page(site):
    for rel in pages(site):
        icon = soup_of(site / rel).find("link", rel="icon")
        if rel == "index.html" and icon is None:
            continue  # the redirect page
        assert icon is not None, f"{rel}: no favicon"
        href, prefix = icon["href"], urlsplit(BASE).path
        target = site / href[len(prefix):] if href.startswith(prefix) else (site / rel).parent / href
        assert target.resolve().is_file(), f"{rel}: favicon {href} missing"


# --- the launch menu --------------------------------------------------------------------------

def test_launch_menu_offers_what_works(site):
    """Lab pages: JupyterLite and the zip, both existing; no Binder or Colab anywhere."""
    labs = [rel for rel in notebook_pages(site) if rel.startswith("labs/")]
    assert labs
    for rel in labs:
        soup = soup_of(site / rel)
        menu = soup.select_one(".dropdown-launch-buttons")
        assert menu is not None, f"{rel}: no launch menu"
        links = [a["href"] for a in menu.select("a[href]")]
        lite = [h for h in links if "/notebooks/index.html?path=" in h or "/lab/index.html?path=" in h]
        zips = [h for h in links if h.endswith(".zip")]
        assert len(lite) == 1 and len(zips) == 1, f"{rel}: {links}"
        assert ((site / rel).parent / lite[0].split("?")[0]).resolve().is_file()
        notebook = lite[0].split("?path=")[1]
        assert (REPO / notebook).is_file() and notebook == rel.replace(".html", ".ipynb")
        assert ((site / rel).parent / zips[0]).resolve().is_file(), f"{rel}: {zips[0]} missing"
        if not CONFIG["launch_buttons"].get("jupyterhub_url"):
            assert not [h for h in links if "hub/user-redirect" in h], f"{rel}: JupyterHub without an address"
    for rel in pages(site):
        html = (site / rel).read_text(encoding="utf-8")
        assert "mybinder.org" not in html and "colab.research.google.com" not in html, rel


def test_launch_entries_follow_the_page_kind(tmp_path):
    (tmp_path / "labs").mkdir()
    (tmp_path / "labs" / "un-lab.ipynb").write_text("{}", encoding="utf-8")
    lab = site_publish.launch_entries("labs/un-lab", tmp_path, "notebooks")
    assert [e["url"] for e in lab] == ["../lite/notebooks/index.html?path=labs/un-lab.ipynb", "../bundles/un-lab.zip"]
    assert site_publish.launch_entries("chapters/methode", tmp_path, "notebooks") == []


# --- French everywhere -----------------------------------------------------------------------

#: Labels the themes write in English (issue 15): none may reach a reader.
ENGLISH = ["Launch interactive content", "Repository", "Suggest edit", "Open issue", "Toggle primary sidebar",
           "Toggle secondary sidebar", "Skip to main", "Source repositories", "Launch on", "Binder",
           "Colab", "Back to top", "Search", "Contents", "Page not found", "Print to PDF", "Download"]
ENGLISH_ATTR = ["Main", "Page", "Breadcrumb", "Color mode"]


def _reader_facing(soup: BeautifulSoup, leave_out: Tag | None = None) -> tuple[list[str], list[str]]:
    """The texts and the labelling attributes a reader meets: no script, style, template or
    comment, and nothing of `leave_out` (the shared tree is read, not changed: tests/built_site.py)."""
    texts, attrs, stack = [], [], [soup]
    while stack:
        node = stack.pop()
        for child in node.children:
            if isinstance(child, Tag):
                if child.name in ("script", "style", "template") or child is leave_out:
                    continue
                attrs += [child[a] for a in ("title", "aria-label", "alt", "placeholder", "data-bs-title") if child.get(a)]
                stack.append(child)
            elif isinstance(child, NavigableString) and not isinstance(child, Comment) and child.strip():
                texts.append(child.strip())
    return texts, attrs


def test_theme_labels_are_french(site):
    found = []
    for rel in pages(site):
        soup = soup_of(site / rel)
        # the book's own text may quote an English word; the frame may not
        texts, attrs = _reader_facing(soup, leave_out=soup.select_one("article.bd-article"))
        for label in ENGLISH:
            found += [f"{rel}: « {t} »" for t in texts + attrs if re.search(rf"\b{re.escape(label)}\b", t)]
        found += [f"{rel}: attribute « {a} »" for a in attrs if a in ENGLISH_ATTR]
    assert not found, "English in the theme's frame:\n" + "\n".join(sorted(set(found))[:30])


def test_printed_title_is_never_empty(site):
    empty = []
    for rel in pages(site):
        block = soup_of(site / rel).select_one("#jb-print-docs-body")
        if block is not None and not (block.find("h1") and block.find("h1").get_text(strip=True)):
            empty.append(rel)
    assert not empty, f"{len(empty)} pages print an empty title: {empty[:10]}"


def test_sidebar_toggles_have_a_name(site):
    for rel in ("intro.html", "labs/index.html", "ethics-charter/themes/society.html"):
        for summary in soup_of(site / rel).select("nav.bd-docs-nav summary"):
            assert summary.get_text(strip=True) or summary.get("aria-label", "").startswith("Sous-parties de"), rel


def test_name_toggles_names_each_summary_after_its_link():
    html = ('<ul><li class="has-children"><a class="reference internal" href="x.html">Les labs</a>'
            '<details><summary><span class="toctree-toggle" role="presentation"><i class="fa-solid fa-chevron-down">'
            '</i></span></summary><ul><li>…</li></ul></details></li></ul>')
    out = BeautifulSoup(str(site_publish.name_toggles(html)), "html.parser")
    assert out.summary["aria-label"] == "Sous-parties de « Les labs »"
    assert out.summary.i["aria-hidden"] == "true"


def test_theme_overrides_still_match_a_theme_template():
    """Each template of site_theme/templates replaces a template the themes have: a theme upgrade
    that renames one is seen here instead of silently dropping the fix."""
    import pydata_sphinx_theme
    import sphinx_book_theme

    theme_files = {p.name for module in (pydata_sphinx_theme, sphinx_book_theme)
                   for p in Path(module.__file__).parent.joinpath("theme").rglob("*.html")}
    ours = [p.name for p in site_publish.TEMPLATES_DIR.rglob("*.html")]
    assert ours and set(ours) <= theme_files, set(ours) - theme_files


def test_no_fontawesome_script_and_no_search_index_outside_the_search_page(site):
    for rel in pages(site):
        html = (site / rel).read_text(encoding="utf-8")
        assert "fontawesome.js" not in html, rel
        if rel != "search.html":
            assert "searchindex.js" not in html, rel


# --- search --------------------------------------------------------------------------------------

WORDS = ["fragilité", "fragilite", "Fragilité", "données", "donnees", "quartiers", "élu", "elus", "écoles",
         "précarité", "precarite", "âgées", "agees", "chômage", "chomage", "secret", "intercommunalité", "œuvre"]


def test_search_stems_words_with_and_without_accents_alike():
    lang = site_publish.SearchFrenchFolded({})
    assert lang.stem("fragilité") == lang.stem("fragilite") == lang.stem("FRAGILITÉ")
    assert lang.stem("précarité") == lang.stem("precarite")
    assert not lang.word_filter("2022") and lang.word_filter("quartier")


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_browser_stemmer_matches_the_index_stemmer():
    """The JavaScript that stems a query gives the Python stem of the index for every word."""
    lang = site_publish.SearchFrenchFolded({})
    script = lang.js_stemmer_code + f"\nconst s = new Stemmer();\nconsole.log(JSON.stringify({json.dumps(WORDS)}.map(w => s.stemWord(w))));"
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [lang.stem(w) for w in WORDS]


def test_search_index_holds_only_what_a_search_can_find(site):
    """Terms are folded words: no numbers (never looked up), no capitals or accents (never typed
    so by the page), no code identifiers. Its size is in `make bench` (137 KB before, issue 15)."""
    text = (site / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1:text.rindex(")")])
    terms = list(index["terms"]) + list(index["titleterms"])
    assert not [t for t in terms if t.isdigit()], "numbers are indexed"
    assert not [t for t in terms if site_publish.fold(t) != t], "terms with capitals or accents"
    assert not [t for t in terms if "_" in t], "code identifiers"
    assert {"fragilit", "c2", "quarti"} <= set(index["terms"]) | set(index["titleterms"])


def test_word_filter_keeps_words_and_drops_code():
    lang = site_publish.SearchFrenchFolded({})
    for word in ("quartier", "c2s", "1er", "2e", "qpv"):
        assert lang.word_filter(word), word
    for token in ("2022", "abc_bac_f", "0ouvert5", "3f2b0c0", "Au", "été"):
        assert not lang.word_filter(token), token


# --- the deployment workflow -------------------------------------------------------------------

def test_deployment_workflow_builds_and_publishes():
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "deploy.yml").read_text(encoding="utf-8"))
    triggers = workflow.get("on") or workflow.get(True)  # YAML 1.1 reads `on` as true
    assert "main" in triggers["push"]["branches"] and "workflow_dispatch" in triggers
    assert workflow["permissions"]["pages"] == "write" and workflow["permissions"]["id-token"] == "write"
    build = workflow["jobs"]["build"]["steps"]
    # the handouts page links the PDFs when Chromium is there: the published site is built with them
    assert any(step.get("run", "").strip() == "make handouts" for step in build)
    assert any("apt-get install" in step.get("run", "") and " chromium" in step.get("run", "") for step in build)
    assert "bookworm" in workflow["jobs"]["build"]["container"]  # Debian's chromium: /usr/bin/chromium
    upload = next(s for s in build if str(s.get("uses", "")).startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "_build/html"
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert any(str(s.get("uses", "")).startswith("actions/deploy-pages@") for s in deploy["steps"])
