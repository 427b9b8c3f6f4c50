"""Printable handouts: a PDF per lab (its steps and exercises, without the solutions) and the whole book.

- A lab's handout is made from the notebook itself: its Markdown (MyST roles turned into their text,
  admonitions into boxes) and its code cells, without outputs and **without the `{admonition}
  Solution` blocks**, put in a print page (Jinja2, autoescaped) and printed to PDF by Debian's
  Chromium through Playwright (`booktools.headless`), network cut off. Then a page for notes.
- The book's PDF is made from the built site: the article of every page, in the order of the table of
  contents, with the scripts, the interactive maps (replaced by their text alternative, which every
  map carries) and the widgets left out; printed once.

Both run after the HTML is written (`build-finished`, registered by training_pages) and are skipped
when their inputs did not change (booktools/buildcache.py); `make handouts` runs them on a built site:

    python -m booktools.training_handouts [--site _build/html]

A machine without Chromium cannot make them: the handouts page then says so in place of the links
(no link points to a missing file), and the build notes it.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import os
import posixpath
import re
import sys
import tempfile
from pathlib import Path

from jinja2 import Environment, select_autoescape
from markdown_it import MarkdownIt

from dataquartiers.cli import ArgumentParser

from . import REPO_DIR, notebooks
from . import training as tr
from .buildcache import inputs_digest, is_unchanged, remember
from .headless import chromium_available

HANDOUTS_DIR = f"{tr.TRAINING_DIR}/fiches"
BOOK_PDF = "livre-data-et-quartiers.pdf"
#: Marks every handout; the tests look for it.
HANDOUT_HEADER = "Fiche du participant"

_ROLE = re.compile(r"\{[a-z-]+\}`([^`<]*?)\s*(?:<[^`>]*>)?`")
_FENCE = re.compile(r"^(`{3,}|~{3,})\{([a-z-]+)\}([^\n]*)\n(.*?)^\1\s*$", re.M | re.S)

PAGE = Environment(autoescape=select_autoescape(default=True, default_for_string=True)).from_string("""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
  @page { size: A4; margin: 16mm 15mm 18mm 15mm; }
  body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; line-height: 1.4; color: #111;
         font-variant-ligatures: none; }
  header { border-bottom: 2px solid #333; margin-bottom: 1em; }
  header p { margin: 0.2em 0; color: #333; }
  h1 { font-size: 17pt; margin: 0.2em 0 0.3em; }
  h2 { font-size: 13pt; margin: 1.2em 0 0.4em; break-after: avoid; }
  h3 { font-size: 11pt; break-after: avoid; }
  pre { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt; background: #f3f3f3; border: 1px solid #ccc;
        padding: 0.5em; white-space: pre-wrap; break-inside: avoid; }
  code { font-family: "DejaVu Sans Mono", monospace; font-size: 9pt; }
  table { border-collapse: collapse; margin: 0.6em 0; font-size: 9pt; }
  th, td { border: 1px solid #999; padding: 0.2em 0.4em; vertical-align: top; text-align: left; }
  .encadre { border: 1px solid #555; border-left: 5px solid #555; padding: 0.3em 0.8em; margin: 0.8em 0; break-inside: avoid; }
  .encadre-titre { font-weight: bold; margin: 0.2em 0; }
  .notes { break-before: page; }
  .ligne { border-bottom: 1px solid #999; height: 2.1em; }
  {{ extra_css }}
</style>
</head>
<body>
{{ body }}
</body>
</html>
""")

HANDOUT_BODY = Environment(autoescape=True).from_string("""<header>
<p>{{ header }} · Data &amp; Quartiers · durée : {{ duration }}</p>
<h1>{{ title }}</h1>
<p>Les solutions ne sont pas sur cette fiche : elles sont dans le lab, à ouvrir après avoir cherché.</p>
</header>
{{ content }}
<section class="notes">
<h2>Mes notes</h2>
{% for _ in range(22) %}<div class="ligne"></div>
{% endfor %}
</section>
""")


def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable("table")


def _myst_to_markdown(text: str) -> str:
    """MyST → plain Markdown for print: roles become their text, directives boxes, no solution."""
    text = _ROLE.sub(lambda m: m.group(1), text)

    def fence(m: re.Match) -> str:
        name, argument, body = m.group(2), m.group(3).strip(), m.group(4)
        if name == "admonition" and argument.lower().startswith("solution"):
            return ""
        body = "\n".join(line for line in body.splitlines() if not line.startswith(":class:"))
        title = argument or {"warning": "Attention", "note": "Remarque", "tip": "Conseil",
                             "important": "Important"}.get(name, "")
        return f'\n<div class="encadre"><p class="encadre-titre">{title}</p>\n\n{body}\n\n</div>\n'

    return _FENCE.sub(fence, text)


def _clean_html(html: str) -> str:
    """Keep the print free of anything active: no script, style, iframe or event handler; links as text."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(["script", "style", "iframe", "object", "embed", "form", "input", "button"]):
        tag.decompose()
    for tag in soup.find_all(True):
        for attr in list(tag.attrs):
            if attr.startswith("on") or attr in ("style", "src") and tag.name != "img":
                del tag.attrs[attr]
        if tag.name == "a":
            tag.attrs.pop("href", None)
    return str(soup)


def handout_html(notebook: Path) -> str:
    """The print page of a lab's handout."""
    from markupsafe import Markup

    nb = notebooks.read(notebook)
    lab = tr.lab_text(notebook)
    md = _markdown()
    parts = []
    for i, cell in enumerate(nb["cells"]):
        text = notebooks.source(cell)
        if cell.get("cell_type") == "markdown":
            if i == 0:  # the title is in the header
                text = re.sub(r"^# .*\n?", "", text, count=1)
            parts.append(md.render(_myst_to_markdown(text)))
        elif cell.get("cell_type") == "code" and text.strip():
            escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            parts.append(f"<pre>{escaped}</pre>")
    body = HANDOUT_BODY.render(header=HANDOUT_HEADER, title=lab.title,
                               duration=tr.duration_fr(lab.duration) if lab.duration else "non précisée",
                               content=Markup(_clean_html("\n".join(parts))))
    return PAGE.render(title=f"{HANDOUT_HEADER} — {lab.title}", body=Markup(body), extra_css="")


# --- the book ---------------------------------------------------------------------------------

BOOK_CSS = """
  section.page-du-livre { break-before: page; }
  section.page-du-livre:first-of-type { break-before: auto; }
  img { max-width: 100%; }
  .headerlink, .toc-entry, nav, .prev-next-area, .cell_input .copybtn { display: none; }
  figure { margin: 0.8em 0; }
  figcaption { font-style: italic; }
  .carte-imprimee { border: 1px dashed #777; padding: 0.4em 0.8em; }
"""


def book_html(site: Path, root: Path = REPO_DIR) -> str:
    """One print page holding the article of every page of the built site, in the book's order."""
    import lxml.html
    from markupsafe import Markup

    drop = ("//script | //style | //button | //form | //input | //select | //template"
            " | //*[contains(concat(' ', normalize-space(@class), ' '), ' jupyter-widgets ')]"
            " | //*[contains(concat(' ', normalize-space(@class), ' '), ' widget-subarea ')]")
    sections = []
    for docname in tr.toc_order(root):
        page = Path(site) / f"{docname}.html"
        if not page.exists():
            continue
        tree = lxml.html.fromstring(page.read_bytes())
        found = tree.xpath("//article") or tree.xpath("//main")
        if not found:
            continue
        article = found[0]
        for frame in article.xpath(".//iframe"):
            figure = next((a for a in frame.iterancestors("figure")), None)
            captions = figure.xpath(".//figcaption") if figure is not None else []
            note = lxml.html.Element("p", {"class": "carte-imprimee"})
            note.text = ("Carte interactive (à voir dans le livre en ligne). "
                         + (captions[0].text_content().strip() if captions else ""))
            target = figure if figure is not None else frame
            target.getparent().replace(target, note)
        for element in article.xpath("." + drop.replace(" | //", " | .//")):
            element.getparent().remove(element)
        here = posixpath.dirname(docname)
        for link in article.xpath(".//a[@href]"):
            del link.attrib["href"]  # links do not work on paper
        for image in article.xpath(".//img[@src]"):
            if not re.match(r"^[a-z]+:", image.get("src")):
                image.set("src", posixpath.normpath(posixpath.join(here, image.get("src"))))
        inner = html_lib.escape(article.text or "") + "".join(lxml.html.tostring(child, encoding="unicode") for child in article)
        sections.append(f'<section class="page-du-livre" id="page-{docname.replace("/", "-")}">{inner}</section>')
    cover = ('<section class="page-du-livre"><h1>Data &amp; Quartiers</h1><p>Le livre de la méthode, des labs et de '
             "la formation, version imprimable. Les cartes et les curseurs interactifs sont dans le livre en ligne et "
             "dans les labs.</p></section>")
    return PAGE.render(title="Data & Quartiers — le livre", body=Markup(cover + "\n".join(sections)),
                       extra_css=Markup(BOOK_CSS))


# --- printing ---------------------------------------------------------------------------------

def print_pdfs(jobs: list[tuple[str, Path, Path]]) -> None:
    """Print each (html text, folder it is served from, target pdf) with one Chromium."""
    from .headless import offline_page, serve_folder

    with offline_page() as (page, traffic):
        for html, folder, target in jobs:
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", suffix=".html", dir=folder, delete=False, encoding="utf-8") as f:
                f.write(html)
                name = Path(f.name).name
            try:
                with serve_folder(folder) as url:
                    page.goto(f"{url}/{name}", wait_until="load")
                    page.pdf(path=str(target), format="A4", print_background=True, tagged=True, outline=True,
                             display_header_footer=True, header_template="<span></span>",
                             footer_template='<div style="font-size:8px;width:100%;text-align:center;">'
                                             '<span class="pageNumber"></span> / <span class="totalPages"></span></div>',
                             margin={"top": "16mm", "bottom": "18mm", "left": "15mm", "right": "15mm"})
            finally:
                (Path(folder) / name).unlink(missing_ok=True)
        if traffic.external:
            raise RuntimeError("fiches : une page a demandé une ressource extérieure : " + ", ".join(traffic.external[:5]))


def build_handouts(site: Path, root: Path = REPO_DIR, cache_dir: Path | None = None, book: bool = True) -> list[Path]:
    """Write the lab handouts (and the book's PDF) into `site`/training/fiches; return the PDFs written."""
    site, root = Path(site), Path(root)
    out = site / HANDOUTS_DIR
    cache_dir = Path(cache_dir) if cache_dir else site.parent / ".dq-build-cache"
    jobs, keys = [], []
    labs = notebooks.lab_notebooks(root)
    code = [Path(__file__), Path(tr.__file__)]
    digest = inputs_digest(labs + code, root)
    if not (is_unchanged(cache_dir, "fiches-labs", digest) and all((out / f"{p.stem}.pdf").exists() for p in labs)):
        with tempfile.TemporaryDirectory() as tmp:
            for nb in labs:
                jobs.append((handout_html(nb), Path(tmp), out / f"{nb.stem}.pdf"))
            print_pdfs(jobs)
        keys.append(("fiches-labs", digest))
        jobs = []
    if book:
        html = book_html(site, root)
        digest = hashlib.sha256(html.encode("utf-8")).hexdigest()  # the print page is the input
        if not (is_unchanged(cache_dir, "fiches-livre", digest) and (out / BOOK_PDF).exists()):
            print_pdfs([(html, site, out / BOOK_PDF)])
            keys.append(("fiches-livre", digest))
    for key, value in keys:
        remember(cache_dir, key, value)
    return sorted(out.glob("*.pdf"))


#: Set to 1 to make the book's PDF in the build too (about a minute): `make handouts` does.
BOOK_PDF_ENV = "DQ_LIVRE_PDF"


def _what_to_print(app, config) -> None:
    # config values (not bare reads of the machine) so that a change re-reads the handouts page, whose
    # links must match the files this build writes
    config.dq_fiches_pdf = chromium_available()
    config.dq_livre_pdf = config.dq_fiches_pdf and os.environ.get(BOOK_PDF_ENV) == "1"


def _on_build_finished(app, exception) -> None:
    from sphinx.util import logging

    if exception is not None or app.builder.format != "html":
        return
    if not app.config.dq_fiches_pdf:
        # the handouts page says so instead of linking to files that are not there
        logging.getLogger(__name__).info("fiches à imprimer : Chromium est introuvable (/usr/bin/chromium), les PDF "
                                         "ne sont pas faits (apt-get install chromium)")
        return
    build_handouts(Path(app.outdir), Path(app.srcdir), Path(app.outdir).parent / ".dq-build-cache",
                   book=app.config.dq_livre_pdf)


def setup_sphinx(app) -> None:
    app.add_config_value("dq_fiches_pdf", True, "env", [bool])
    app.add_config_value("dq_livre_pdf", False, "env", [bool])
    app.connect("config-inited", _what_to_print)
    app.connect("build-finished", _on_build_finished, priority=900)


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m booktools.training_handouts",
                            description="Faire les fiches PDF des labs et le PDF du livre à partir du site construit.")
    parser.add_argument("--site", type=Path, default=REPO_DIR / "_build" / "html", help="le site construit (défaut : _build/html)")
    parser.add_argument("--sans-livre", action="store_true", help="seulement les fiches des labs")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").exists():
        print(f"{args.site} : pas de site construit ; lancez d'abord la construction du livre (make site).", file=sys.stderr)
        return 1
    if not chromium_available():
        print("Chromium est introuvable (/usr/bin/chromium) : apt-get install chromium.", file=sys.stderr)
        return 1
    for pdf in build_handouts(args.site, book=not args.sans_livre):
        print(f"{pdf.relative_to(args.site)} ({pdf.stat().st_size // 1000} ko)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
