"""The labs' copies for JupyterLite and the zips: MyST turned into what JupyterLab renders, links
made to work outside the book (booktools/lab_copies.py). No build needed: a small fake site."""

from __future__ import annotations

import pytest

from booktools import lab_copies as lc

ADDRESS = "https://exemple.org/livre/"


@pytest.fixture()
def links(tmp_path):
    for page in ("chapters/glossaire.html", "labs/autre.html", "labs/lab.html", "catalogue/fiches/insee-cog.html"):
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / page).write_text("<h1>Page</h1>")
    return lc.BookLinks(ADDRESS, tmp_path, terms={"iris": "chapters/glossaire.html#term-IRIS"},
                        docs={"chapters/glossaire": ("chapters/glossaire.html", "Glossaire"),
                              "labs/autre": ("labs/autre.html", "Un autre lab")},
                        labels={"ethics-assessment-lab": ("labs/lab.html#ethics-assessment-lab", "Évaluation")},
                        catalogue={"insee-cog": "Code officiel géographique"})


def ctx(links, carried=(), notebook_dir="labs"):
    return lc.Context(links, "labs/lab", set(carried), notebook_dir=notebook_dir, where="labs/lab.ipynb")


def test_admonitions_and_folded_solutions(links):
    text = ("```{warning}\nAttention au {term}`IRIS`.\n```\n\n"
            "```{admonition} Solution\n:class: dropdown\n~~~python\nprint(1)\n~~~\n```\n")
    out = lc.adapt_markdown(text, ctx(links))
    assert '<div class="alert alert-warning">' in out and "**Attention**" in out
    assert "<details>\n<summary><strong>Solution</strong>" in out and "~~~python\nprint(1)\n~~~" in out
    assert f"[IRIS]({ADDRESS}chapters/glossaire.html#term-IRIS)" in out
    assert lc.raw_myst(out) == []


def test_roles_become_links_to_the_book(links):
    out = lc.adapt_markdown("Voir {doc}`../chapters/glossaire`, {catalogue}`insee-cog` et "
                            "{term}`les IRIS <IRIS>`.", ctx(links))
    assert out == (f"Voir [Glossaire]({ADDRESS}chapters/glossaire.html), "
                   f"[Code officiel géographique]({ADDRESS}catalogue/fiches/insee-cog.html) et "
                   f"[les IRIS]({ADDRESS}chapters/glossaire.html#term-IRIS).")


def test_links_in_the_browser_and_in_the_zip(links):
    text = ("[glossaire](../chapters/glossaire.md), [un lab](autre.ipynb), [données](../datasets/a.csv), "
            '<a href="../catalogue/fiches/insee-cog.html">COG</a>')
    carried = {"datasets/a.csv", "labs/autre.ipynb"}
    browser = lc.adapt_markdown(text, ctx(links, carried))
    assert f"[glossaire]({ADDRESS}chapters/glossaire.html)" in browser
    assert "[un lab](autre.ipynb)" in browser and "[données](../datasets/a.csv)" in browser
    assert f'<a href="{ADDRESS}catalogue/fiches/insee-cog.html">' in browser
    # the zip: the notebook sits beside datasets/, the other labs are on the site
    zipped = lc.adapt_markdown(text, ctx(links, {"datasets/a.csv"}, notebook_dir=""))
    assert "[données](datasets/a.csv)" in zipped and f"[un lab]({ADDRESS}labs/autre.html)" in zipped


def test_a_link_to_a_catalogue_page_not_yet_written(links):
    """In a clean build the catalogue's pages are written after the labs' copies: a link to the page
    of a source the catalogue knows is kept; one to an unknown source still fails."""
    (links.site_dir / "catalogue" / "fiches" / "insee-cog.html").unlink()
    out = lc.adapt_markdown('<a href="../catalogue/fiches/insee-cog.html">COG</a>', ctx(links))
    assert f'<a href="{ADDRESS}catalogue/fiches/insee-cog.html">' in out
    with pytest.raises(lc.AdaptError, match="ne mène ni à une page du livre"):
        lc.adapt_markdown('<a href="../catalogue/fiches/inconnue.html">?</a>', ctx(links))


@pytest.mark.parametrize("text, message", [
    ("```{figure} x.png\n```", r"directive \{figure\} inconnue"),
    ("{numref}`fig-1`", r"rôle \{numref\} inconnu"),
    ("{term}`Inconnu`", r"\{term\}`Inconnu` ne mène à aucune page du livre construit"),
    ("[x](../../ailleurs.md)", "sort du livre"),
    ("[x](../chapters/absent.md)", "ne mène ni à une page du livre ni à un fichier"),
])
def test_what_cannot_be_adapted_is_an_error_naming_the_cell(links, text, message):
    with pytest.raises(lc.AdaptError, match=message):
        lc.adapt_markdown(text, ctx(links))


def test_a_paragraph_line_starting_with_a_number_stays_in_the_paragraph(links):
    """CommonMark (the book) keeps « 2022) … » in its paragraph; JupyterLab would start a list."""
    out = lc.adapt_markdown("1. la température (15 juillet\n   2022) sur la grille\n2. Lyon", ctx(links))
    assert out == "1. la température (15 juillet\n   2022\\) sur la grille\n2. Lyon"


def test_the_ethics_assessment_is_at_the_bottom_of_the_copy(links):
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "L'évaluation est en bas de page."},
                    {"cell_type": "code", "metadata": {}, "source": "x = {term}", "outputs": [], "execution_count": None}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    out = lc.adapt_notebook(nb, ctx(links), title="Le lab")
    assert out["cells"][1]["source"] == "x = {term}"  # code is never touched
    assert out["cells"][-1]["source"].startswith("## Évaluation éthique du lab")
    assert f"({ADDRESS}labs/lab.html#ethics-assessment-lab)" in out["cells"][-1]["source"]


def test_the_site_address_is_required(tmp_path):
    (tmp_path / "_config.yml").write_text("title: x\n")
    with pytest.raises(lc.AdaptError, match="html_baseurl"):
        lc.site_address(tmp_path)
