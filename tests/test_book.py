"""The built book: the build gate, French, complete toc, sound links, no error output, no CDN."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml
from bs4 import BeautifulSoup

from built_site import soup_of
from conftest import REPO

EXTERNAL = re.compile(r"^(https?:)?//", re.I)


def toc_files(node) -> list[str]:
    """Every `file:` of _toc.yml, recursively."""
    found = []
    if isinstance(node, dict):
        if "file" in node:
            found.append(node["file"])
        if "root" in node:
            found.append(node["root"])
        for value in node.values():
            found += toc_files(value)
    elif isinstance(node, list):
        for item in node:
            found += toc_files(item)
    return found


def pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.parts and "lite" not in p.parts)


def test_build_gate(book_build):
    """`jupyter-book build --all -W -n --keep-going .` passes with zero warnings."""
    tail = book_build.output[-6000:]
    assert book_build.returncode == 0, f"build gate failed:\n{tail}"
    warnings = [line for line in book_build.output.splitlines() if "WARNING" in line and "IPKernelApp" not in line]
    assert not warnings, "warnings in the build:\n" + "\n".join(warnings[:20])


def test_pages_are_french(site):
    for page in pages(site):
        soup = soup_of(page)
        root = soup.find("html")
        assert root is not None and root.get("lang") == "fr", f"{page.relative_to(site)}: <html lang> is {root.get('lang') if root else None}"
        english = [t["placeholder"] for t in soup.find_all(placeholder=True) if "Search" in t["placeholder"]]
        assert not english, f"{page.relative_to(site)}: English placeholder {english}"
    # The search index uses the French stemmer.
    assert "FrenchStemmer" in (site / "_static" / "language_data.js").read_text(encoding="utf-8")


def test_every_toc_entry_has_a_page(site):
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    files = toc_files(toc)
    assert len(files) >= 10
    for f in files:
        stem = re.sub(r"\.(md|ipynb)$", "", f)
        assert (site / f"{stem}.html").exists(), f"toc entry '{f}' has no page"


def _anchors(page: Path, cache: dict) -> set[str]:
    if page not in cache:
        soup = soup_of(page)
        cache[page] = {t.get("id") for t in soup.find_all(id=True)} | {t.get("name") for t in soup.find_all("a", attrs={"name": True})}
    return cache[page]


def test_internal_links_and_anchors_resolve(site):
    """Relative links, and the links from the site's root (the 404 page's: /data-et-quartiers/…)."""
    cache: dict = {}
    broken = []
    root = urlsplit(yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))["html"]["baseurl"]).path
    for page in pages(site):
        for a in soup_of(page).find_all("a", href=True):
            href = a["href"]
            if EXTERNAL.match(href) or href.startswith(("mailto:", "javascript:", "tel:")):
                continue
            parts = urlsplit(href)
            if parts.path.startswith(root):
                target = (site / unquote(parts.path[len(root):])).resolve()
            else:
                target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)}: link to '{href}' (no such file)")
                continue
            if parts.fragment and target.suffix == ".html" and parts.fragment not in _anchors(target, cache):
                broken.append(f"{page.relative_to(site)}: anchor '#{parts.fragment}' not found in {target.name}")
    assert not broken, "\n".join(broken[:30])


def test_no_traceback_or_error_output(site):
    for page in pages(site):
        soup = soup_of(page)
        for cls in ("traceback", "stderr", "error"):
            bad = soup.select(f".cell_output .output.{cls}")
            assert not bad, f"{page.relative_to(site)}: a cell shows '{cls}' output: {bad[0].get_text()[:300]}"
        text = soup.get_text()
        assert "Traceback (most recent call last)" not in text, f"{page.relative_to(site)}: a traceback is shown"


def test_download_button_points_to_the_notebook(site):
    for nb in (REPO / "labs").glob("*.ipynb"):
        page = site / "labs" / f"{nb.stem}.html"
        links = [a["href"] for a in soup_of(page).select("a.btn-download-source-button")]
        assert links, f"{page.name}: no download button"
        assert links[0].endswith(f"{nb.stem}.ipynb"), links
        target = (page.parent / links[0]).resolve()
        assert target.exists() and target.stat().st_size > 0, f"{page.name}: download link {links[0]} is broken"


def _documents(page: Path):
    """The page, and every map document embedded in it as <iframe srcdoc>."""
    soup = soup_of(page)
    yield str(page.name), soup
    for i, frame in enumerate(soup.find_all("iframe", srcdoc=True)):
        yield f"{page.name} (carte {i + 1})", BeautifulSoup(frame["srcdoc"], "html.parser")


def test_no_external_script_stylesheet_or_font(site):
    """Nothing a page needs to render comes from another host (offline training rooms)."""
    offenders = []
    for page in pages(site):
        for where, soup in _documents(page):
            for tag in soup.find_all("script", src=True):
                if EXTERNAL.match(tag["src"]):
                    offenders.append(f"{where}: <script src={tag['src']}>")
            for tag in soup.find_all("link", href=True):
                rel = " ".join(tag.get("rel", []))
                if EXTERNAL.match(tag["href"]) and any(r in rel for r in ("stylesheet", "preload", "icon", "modulepreload")):
                    offenders.append(f"{where}: <link rel={rel} href={tag['href']}>")
            for tag in soup.find_all(["img", "iframe", "source"], src=True):
                if EXTERNAL.match(tag["src"]):
                    offenders.append(f"{where}: <{tag.name} src={tag['src']}>")
            for style in soup.find_all("style"):
                if re.search(r"(@import|url\()\s*['\"]?(https?:)?//", style.get_text()):
                    offenders.append(f"{where}: <style> imports from another host")
    for css in site.rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        for m in re.finditer(r"(@import\s+(url\()?|url\()\s*['\"]?((https?:)?//[^'\")]+)", text):
            offenders.append(f"{css.relative_to(site)}: {m.group(3)}")
    assert not offenders, "external resources:\n" + "\n".join(sorted(set(offenders))[:40])


def test_maps_have_a_title_and_a_text_alternative(site):
    found = 0
    for page in pages(site):
        soup = soup_of(page)
        for frame in soup.find_all("iframe", srcdoc=True):
            found += 1
            assert frame.get("title", "").strip(), f"{page.name}: a map iframe has no title"
            figure = frame.find_parent("figure")
            assert figure is not None and len(figure.find("figcaption").get_text(strip=True)) > 40, \
                f"{page.name}: a map has no text alternative"
    assert found >= 1, "no map found in the site"
