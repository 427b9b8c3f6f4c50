"""Book pages honest about the labs' widgets: each one is a still image of the lab.

A lab page shows its notebook as the build executed it. Its sliders and menus (ipywidgets) are
drawn from the saved widget state, with no Python behind the page: they can be dragged, but
nothing they drive (figures, tables, maps) changes. Right before every widget output of a lab
page, the book says so and offers the lab's own « Lancer dans le navigateur » box (the one
`booktools.lite` puts under the lab's title), where the widgets run for real.

Done on the resolved doctree (`doctree-resolved`), like the lab buttons of `booktools.lite`: the
notebooks stay as the labs' authors wrote them, and the notice follows every widget, present or
future.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes

from . import lite

WIDGET_VIEW_MIMETYPE = "application/vnd.jupyter.widget-view+json"
NOTICE_TITLE = "Image figée du lab"
NOTICE_TEXT = ("Les curseurs et les menus ci-dessous montrent le lab tel que le livre l'a exécuté, avec ses "
               "paramètres par défaut. Sur cette page, il n'y a pas de Python derrière eux : les déplacer ne "
               "change ni les chiffres, ni les tableaux, ni les cartes. Pour les faire bouger, lancez le lab "
               "dans le navigateur.")


def is_widget_output(node: nodes.Node) -> bool:
    return (isinstance(node, nodes.raw) and "html" in node.get("format", "").split()
            and f'type="{WIDGET_VIEW_MIMETYPE}"' in node.astext())


def _output_block(node: nodes.Node) -> nodes.Node:
    """The cell output (myst-nb's `cell_output` container) that holds a widget, else the widget."""
    current = node
    while current.parent is not None:
        if isinstance(current, nodes.container) and "cell_output" in current.get("classes", []):
            return current
        current = current.parent
    return node


def notice_nodes(actions_html: str | None) -> list[nodes.Node]:
    box = nodes.admonition(classes=["note", "dq-static-widget"])
    box += nodes.title(NOTICE_TITLE, NOTICE_TITLE)
    box += nodes.paragraph(NOTICE_TEXT, NOTICE_TEXT)
    out: list[nodes.Node] = [box]
    if actions_html:
        out.append(nodes.raw("", actions_html, format="html"))
    return out


def _is_lab(app, docname: str) -> bool:
    return (docname.startswith("labs/") and docname.count("/") == 1
            and (Path(app.srcdir) / f"{docname}.ipynb").exists())


def _add_notices(app, doctree, docname: str) -> None:
    widgets = [n for n in doctree.findall(is_widget_output)]
    if not widgets or app.builder.format != "html":
        return
    actions = None
    if _is_lab(app, docname):
        actions = lite.lab_actions_html(docname, lite.load_config(Path(app.srcdir) / lite.CONFIG_FILE_NAME))
    done = set()
    for widget in widgets:
        block = _output_block(widget)
        if id(block) in done:  # one notice per output, however many widgets it holds
            continue
        done.add(id(block))
        parent = block.parent
        parent.insert(parent.index(block), notice_nodes(actions))


def setup_sphinx(app) -> None:
    app.connect("doctree-resolved", _add_notices)
