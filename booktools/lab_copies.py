"""The lab as it is read outside the book: in JupyterLite and in the downloaded zip.

The book renders a lab's MyST (admonitions, dropdown solutions, `{term}` and `{catalogue}` roles,
links to other pages); JupyterLab renders plain Markdown only, so there the same cells showed raw
```` ```{warning} ```` fences, the solutions in full, and links to `../chapters/glossaire.md` that
do not exist outside the book. Each copy of a lab made for the browser or for the zip goes through
`adapt_notebook`, which rewrites its Markdown cells (code cells are never touched):

- admonitions become `<div class="alert …">` blocks (JupyterLab styles these classes), dropdown
  admonitions a `<details>` block closed until clicked (solutions stay hidden);
- roles become ordinary links, resolved with the book's own inventory (`objects.inv`, written by
  Sphinx) so that a link points where the book's own role points;
- relative links to pages of the book become absolute links to the site's address
  (`html_baseurl`, configured once in `_config.yml`); links to files the copy carries (data, other
  labs in JupyterLite) stay relative; a link to anything else is an error naming the lab and cell;
- the lab's ethics assessment, which the book appends at the bottom of the lab's page, is
  referred to by a last cell linking to it, so that « en bas de page » is also true in the copy.

Why adapt rather than install jupyterlab-myst in JupyterLite and in the zip: the book's roles
(`{term}`, `{catalogue}`) are resolved by Sphinx against the glossary and the catalogue; MyST in
JupyterLab knows neither, so a MyST renderer would still show dead or raw roles, and it would add a
front-end extension to every trainee's download. One adaptation serves the browser, the zip and
the offline kit alike, and the copies read as plain notebooks in any Jupyter.

Any directive or role this module does not know is an error (the build stops and names the
notebook and the cell), so nothing raw reaches a trainee.
"""

from __future__ import annotations

import copy
import html
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from . import REPO_DIR

#: The directives of the book's admonitions, with their French title and JupyterLab's alert class.
ADMONITIONS = {
    "note": ("Remarque", "info"), "seealso": ("Voir aussi", "info"), "tip": ("Astuce", "success"),
    "hint": ("Indice", "success"), "important": ("Important", "warning"), "warning": ("Attention", "warning"),
    "attention": ("Attention", "warning"), "caution": ("Prudence", "warning"), "danger": ("Danger", "danger"),
    "error": ("Erreur", "danger"), "admonition": ("", "info"), "dropdown": ("", "info"),
}
ROLES = ("term", "doc", "ref", "catalogue", "math")
#: The label the ethics part of the book gives the assessment section of a lab page.
ASSESSMENT_LABEL = "ethics-assessment-{stem}"
ASSESSMENT_CELL_ID = "dq-evaluation-ethique"
ASSESSMENT_CELL = (
    "## Évaluation éthique du lab\n"
    "Ce lab a été évalué au regard de la charte éthique du livre : scores par principe, risques et "
    "réponses apportées, données évaluées. L'évaluation est publiée sur la page du lab dans le "
    "livre : [Évaluation éthique du lab « {title} »]({url})."
)


class AdaptError(ValueError):
    """A lab cannot be adapted; the message names the notebook, the cell and what is expected."""


# --- the book's address and inventory ---------------------------------------------------------


def site_address(repo: Path = REPO_DIR, sphinx_config=None) -> str:
    """The published site's address (`html_baseurl`), ending with '/'.

    Read from the Sphinx configuration when building, else from `_config.yml` the way Jupyter Book
    reads it (`html.baseurl` or `sphinx.config.html_baseurl`): one setting, no second copy here.
    """
    if sphinx_config is not None:
        address = getattr(sphinx_config, "html_baseurl", "") or ""
    else:
        from jupyter_book.config import get_final_config

        config, _ = get_final_config(user_yaml=Path(repo) / "_config.yml",
                                     cli_config={"latex_individualpages": False}, sourcedir=Path(repo))
        address = config.get("html_baseurl") or ""
    if not re.match(r"^https?://[^/\s]+", address):
        raise AdaptError(f"{Path(repo) / '_config.yml'} : l'adresse du site publié (html_baseurl) manque ou "
                         f"n'est pas une adresse http(s) ({address!r}) ; les liens des labs vers le livre en "
                         "ont besoin")
    return address if address.endswith("/") else address + "/"


@dataclass
class BookLinks:
    """Where the book's pages are: the site's address and the inventory of the built site."""

    address: str
    site_dir: Path
    terms: dict[str, str] = field(default_factory=dict)      # lower-cased term -> uri
    docs: dict[str, tuple[str, str]] = field(default_factory=dict)  # docname -> (uri, title)
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: catalogue source id -> title, when known before its page is written (in the build)
    catalogue: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_site(cls, site_dir: Path, address: str) -> "BookLinks":
        from sphinx.util.inventory import InventoryFile

        inventory = Path(site_dir) / "objects.inv"
        if not inventory.exists():
            raise AdaptError(f"{inventory} est absent : construisez le livre avant d'en copier les labs")
        with inventory.open("rb") as f:
            inv = InventoryFile.load(f, "", posixpath.join)
        links = cls(address, Path(site_dir))
        for name, entry in inv.get("std:term", {}).items():
            links.terms[name.lower()] = entry[2]
        for name, entry in inv.get("std:doc", {}).items():
            links.docs[name] = (entry[2], entry[3])
        for name, entry in inv.get("std:label", {}).items():
            links.labels[name] = (entry[2], entry[3])
        return links

    @classmethod
    def of_build(cls, app) -> "BookLinks":
        """The links of the book being built (Sphinx's build-finished): the inventory is written,
        the catalogue's pages may not be yet, so their titles come from the catalogue itself."""
        links = getattr(app, "dq_book_links", None)
        if links is None:
            links = cls.of_site(Path(app.outdir), site_address(Path(app.srcdir), app.config))
            cat = getattr(app, "dq_catalogue", None)
            if cat is not None:
                links.catalogue = {sid: e.data["title"] for sid, e in cat.sources.items() if e.valid}
            app.dq_book_links = links
        return links

    def url(self, uri: str) -> str:
        """The absolute address of a page of the built site, which must exist."""
        path = uri.split("#", 1)[0]
        if path and not (self.site_dir / path).is_file() and path not in self._pages_to_come():
            raise KeyError(uri)
        return self.address + uri

    def _pages_to_come(self) -> set[str]:
        from .catalogue.pages import fiche_docname

        return {f"{fiche_docname(sid)}.html" for sid in self.catalogue}


# --- MyST blocks -----------------------------------------------------------------------------


def _parser():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.colon_fence import colon_fence_plugin
    from mdit_py_plugins.myst_role import myst_role_plugin

    return MarkdownIt("commonmark").enable("table").use(myst_role_plugin).use(colon_fence_plugin)


def _directive_parts(token) -> tuple[str, str, dict[str, str], str]:
    """(name, argument, options, body) of a MyST directive fence."""
    match = re.match(r"^\{([\w:-]+)\}\s*(.*)$", token.info.strip())
    name, argument = match.group(1), match.group(2)
    lines = token.content.splitlines()
    options: dict[str, str] = {}
    if lines and lines[0].strip() == "---":  # YAML block of options
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is not None:
            import yaml

            options = {str(k): str(v) for k, v in (yaml.safe_load("\n".join(lines[1:end])) or {}).items()}
            lines = lines[end + 1:]
    else:
        while lines and re.match(r"^:[\w-]+:", lines[0]):
            key, _, value = lines.pop(0)[1:].partition(":")
            options[key.strip()] = value.strip()
    return name, argument, options, "\n".join(lines).strip("\n")


def _admonition_html(name: str, argument: str, options: dict[str, str], body: str) -> str:
    default_title, kind = ADMONITIONS[name]
    title = html.escape(argument or default_title or "Remarque")
    classes = options.get("class", "").split()
    if name == "dropdown" or "dropdown" in classes:
        # closed until clicked, like the book's dropdown
        return (f"<details>\n<summary><strong>{title}</strong> (cliquer pour afficher)</summary>\n\n"
                f"{body}\n\n</details>")
    return f'<div class="alert alert-{kind}">\n\n**{title}**\n\n{body}\n\n</div>'


# --- the adaptation --------------------------------------------------------------------------


@dataclass
class Context:
    """What one copy of a lab needs to rewrite its links."""

    links: BookLinks
    docname: str                      # the lab's docname in the book, e.g. "labs/canicules"
    carried: set[str]                 # repository paths the copy carries (for relative links)
    #: the repository folder that the notebook's folder stands for in the copy: "labs" in
    #: JupyterLite (same layout as the repository), "" in a zip (the notebook sits beside datasets/)
    notebook_dir: str = "labs"
    where: str = ""

    def fail(self, message: str) -> AdaptError:
        return AdaptError(f"{self.where} : {message}")


def _split_title(text: str) -> tuple[str | None, str]:
    match = re.match(r"^(.*?)\s*<([^<>]+)>$", text, flags=re.S)
    return (match.group(1), match.group(2)) if match else (None, text)


def _role_markdown(name: str, content: str, ctx: Context) -> str:
    if name == "math":
        return f"${content}$"
    title, target = _split_title(content)
    links = ctx.links
    try:
        if name == "term":
            uri = links.terms[target.lower()]
            text = title or target
        elif name == "doc":
            docname = posixpath.normpath(target.lstrip("/") if target.startswith("/")
                                         else posixpath.join(posixpath.dirname(ctx.docname), target))
            uri, page_title = links.docs[docname]
            text = title or page_title
        elif name == "ref":
            uri, label_title = links.labels[target]
            text = title or label_title
        elif name == "catalogue":
            from .catalogue.pages import fiche_docname

            uri = f"{fiche_docname(target)}.html"
            text = title or links.catalogue.get(target) or _page_title(links.site_dir / uri) or target
        else:
            raise ctx.fail(f"rôle {{{name}}} inconnu : seuls {', '.join(ROLES)} sont traduits pour le navigateur")
        url = links.url(uri)
    except KeyError:
        raise ctx.fail(f"{{{name}}}`{content}` ne mène à aucune page du livre construit") from None
    return f"[{_escape_link_text(text)}]({url})"


def _page_title(page: Path) -> str | None:
    if not page.is_file():
        return None
    from bs4 import BeautifulSoup

    h1 = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").find("h1")
    return h1.get_text(" ", strip=True).rstrip("#").strip() if h1 else None


def _escape_link_text(text: str) -> str:
    return re.sub(r"([\[\]\\])", r"\\\1", text)


def rewrite_target(href: str, ctx: Context) -> str:
    """Where a link of the lab points in the copy (see the module's docstring)."""
    parts = urlsplit(href)
    if parts.scheme or href.startswith(("#", "//")):
        return href
    path, fragment = parts.path, (f"#{parts.fragment}" if parts.fragment else "")
    if not path:
        return href
    repo_path = posixpath.normpath(posixpath.join(posixpath.dirname(ctx.docname), path))
    if repo_path.startswith("../"):
        raise ctx.fail(f"le lien « {href} » sort du livre")
    if repo_path in ctx.carried:
        return posixpath.relpath(repo_path, ctx.notebook_dir or ".") + fragment
    stem, suffix = posixpath.splitext(repo_path)
    if suffix in (".md", ".ipynb", ".rst") and stem in ctx.links.docs:
        uri = ctx.links.docs[stem][0] + fragment
    elif suffix == ".html" and ((ctx.links.site_dir / repo_path).is_file() or repo_path in ctx.links._pages_to_come()):
        # a catalogue source's page is written at the end of the build, maybe after this copy
        uri = repo_path + fragment
    elif suffix == "" and repo_path in ctx.links.docs:
        uri = ctx.links.docs[repo_path][0] + fragment
    else:
        raise ctx.fail(f"le lien « {href} » ne mène ni à une page du livre ni à un fichier que la copie emporte")
    return ctx.links.url(uri)


_HREF = re.compile(r'''(\b(?:href|src)\s*=\s*)(["'])(.*?)\2''', flags=re.I)


def _rewrite_html(fragment: str, ctx: Context) -> str:
    return _HREF.sub(lambda m: f"{m.group(1)}{m.group(2)}{html.escape(rewrite_target(html.unescape(m.group(3)), ctx), quote=True)}{m.group(2)}",
                     fragment)


#: A line inside a paragraph that starts like "2022) …": CommonMark (the book) keeps it in the
#: paragraph, JupyterLab's renderer starts a numbered list there (numbered « BYT. »): escape it.
_LIST_LOOKALIKE = re.compile(r"^(\s*\d+)([.)])(\s)", flags=re.M)


def _rewrite_inline(segment: str, children, ctx: Context) -> str:
    first, _, rest = segment.partition("\n")
    if rest:
        rest = _LIST_LOOKALIKE.sub(lambda m: m.group(0) if m.group(1).strip() == "1"
                                   else f"{m.group(1)}\\{m.group(2)}{m.group(3)}", rest)
        segment = f"{first}\n{rest}"
    for child in children:
        if child.type == "myst_role":
            name = child.meta["name"]
            raw = f"{{{name}}}`{child.content}`"
            if raw not in segment:
                raise ctx.fail(f"rôle {raw} introuvable tel quel dans la cellule")
            segment = segment.replace(raw, _role_markdown(name, child.content, ctx), 1)
        elif child.type in ("link_open", "image"):
            href = child.attrs.get("href" if child.type == "link_open" else "src", "")
            new = rewrite_target(href, ctx)
            if new != href:
                segment = segment.replace(f"]({href}", f"]({new}", 1)
        elif child.type == "html_inline":
            segment = segment.replace(child.content, _rewrite_html(child.content, ctx), 1)
    return segment


def adapt_markdown(text: str, ctx: Context) -> str:
    """One Markdown cell, rewritten for JupyterLab (see the module's docstring)."""
    md = _parser()
    lines = text.split("\n")
    fences: list[tuple[int, int, list[str]]] = []   # replaced last, from the bottom up

    def edit_in_place(start: int, end: int, rewrite) -> None:
        # roles and links are rewritten on one line each: the line count stays the same, so the
        # line maps of the following tokens stay true
        new = rewrite("\n".join(lines[start:end])).split("\n")
        assert len(new) == end - start
        lines[start:end] = new

    for token in md.parse(text):
        if token.map is None:
            continue
        start, end = token.map
        if token.type in ("fence", "colon_fence") and token.info.strip().startswith("{"):
            name, argument, options, body = _directive_parts(token)
            if name not in ADMONITIONS:
                raise ctx.fail(f"directive {{{name}}} inconnue : elle s'afficherait telle quelle dans le "
                               f"navigateur (connues : {', '.join(sorted(ADMONITIONS))})")
            block = _admonition_html(name, adapt_markdown(argument, ctx) if argument else "", options,
                                     adapt_markdown(body, ctx))
            fences.append((start, end, block.split("\n")))
        elif token.type == "inline":
            edit_in_place(start, end, lambda segment: _rewrite_inline(segment, token.children or [], ctx))
        elif token.type == "html_block":
            edit_in_place(start, end, lambda segment: _rewrite_html(segment, ctx))
    for start, end, new in sorted(fences, reverse=True):
        lines[start:end] = new
    return "\n".join(lines)


def adapt_notebook(nb: dict, ctx: Context, *, title: str = "") -> dict:
    """A copy of the notebook whose Markdown JupyterLab renders like the book (code untouched),
    ending with a link to the lab's ethics assessment when the book publishes one."""
    nb = copy.deepcopy(nb)
    where = ctx.where
    for number, cell in enumerate(nb["cells"], start=1):
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        ctx.where = f"{where}, cellule {number}"
        cell["source"] = adapt_markdown(text, ctx)
    ctx.where = where
    stem = posixpath.basename(ctx.docname)
    label = ctx.links.labels.get(ASSESSMENT_LABEL.format(stem=stem))
    nb["cells"] = [c for c in nb["cells"] if c.get("id") != ASSESSMENT_CELL_ID]
    if label:
        nb["cells"].append({"cell_type": "markdown", "id": ASSESSMENT_CELL_ID, "metadata": {},
                            "source": ASSESSMENT_CELL.format(title=title or stem, url=ctx.links.url(label[0]))})
        nb["nbformat_minor"] = max(nb.get("nbformat_minor", 5), 5)
    return nb


# --- checks shared by the tests ----------------------------------------------------------------

#: What must never be left in a copy: MyST fences, colon fences and roles.
RAW_MYST = re.compile(r"^\s*(```+|~~~+|:::+)\s*\{[\w:-]+\}|\{(?:%s)\}`" % "|".join(ROLES + ("numref", "eq", "download")),
                      flags=re.M)


def raw_myst(text: str) -> list[str]:
    """MyST markup left as text in a Markdown cell (empty when the copy reads as plain Markdown)."""
    return [m.group(0).strip() for m in RAW_MYST.finditer(text)]
