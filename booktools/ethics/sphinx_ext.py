"""The ethics charter in the book: directives an author writes in the pages, the check at the
start of every build, the assessment appended to every lab page.

The pages of `ethics-charter/` say where generated content goes with directives, visible in the
Markdown (```` ```{ethics-scale} ```` …):

=========================  ==========================================================================
``ethics-label``           the label the programme earned (box)
``ethics-principles``      the themes and principles in short, one subsection per theme
``ethics-scale``           the scoring scale (target ``ethics-scale``)
``ethics-frameworks``      the public frameworks the grid draws on
``ethics-sources``         the sources of the charter
``ethics-theme THEME``     a whole theme page: principles, questions, the labs' scores
``ethics-assessed-labs``   the labs assessed, with date and mean
``ethics-theme-chart``     the chart of theme averages (SVG) and its table
``ethics-principle-table`` every lab's score on every principle
``ethics-open-risks``      the risks the labs have not fully handled
``ethics-self-assessment`` the self-assessment form, computed in the page (no kernel)
=========================  ==========================================================================
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from dataquartiers.charter import CHARTER_FILE, _display

from . import pages
from .check import ASSESSMENT_SUFFIX, DATAPACKAGE_FILE, LABS_DIR, Report, assessment_path, check_repository

logger = logging.getLogger(__name__)
SELF_ASSESSMENT_DOC = "ethics-charter/auto-evaluation"


def _warn(message: str, location=None) -> None:
    logger.warning(message, type="dataquartiers", subtype="ethics", location=location)


def _report_of(app) -> Report | None:
    return getattr(app, "_dq_ethics_report", None)


def _dependencies(report: Report) -> list[Path]:
    root = report.root
    paths = [root / CHARTER_FILE, root / DATAPACKAGE_FILE]
    paths += [assessment_path(nb) for nb in report.labs]
    return [p for p in paths if p.exists()]


class _EthicsDirective(SphinxDirective):
    """Content generated from the charter and the labs' assessments (see the module's table)."""

    has_content = False
    required_arguments = 0
    optional_arguments = 0

    def run(self) -> list[nodes.Node]:
        report = _report_of(self.env.app)
        if report is None or report.charter is None:
            return []  # the check at the start of the build has said why
        for path in _dependencies(report):
            self.env.note_dependency(str(path))
        make = pages.NodeMaker(self.state.document, self.env.docname)
        try:
            return self.render(report, self.built_assessments(report), make)
        except KeyError as err:  # an unknown theme id: the message lists the known ones
            _warn(f"{self.env.doc2path(self.env.docname, False)} : directive « {self.name} » : {err}",
                  location=(self.env.docname, self.lineno))
            return []

    def built_assessments(self, report: Report):
        """The labs this build contains (a lab not yet in _toc.yml is checked, not linked to), in the
        order of the table of contents (sphinx-external-toc's site map), else by name."""
        built = [a for a in report.assessments if a.docname in self.env.found_docs]
        order = list(getattr(self.config, "external_site_map", None) or [])
        return sorted(built, key=lambda a: (order.index(a.docname) if a.docname in order else len(order), a.stem))

    def render(self, report: Report, assessments, make) -> list[nodes.Node]:  # pragma: no cover - abstract
        raise NotImplementedError


def _directive(renderer, uses_labs: bool = False, argument: bool = False):
    class Directive(_EthicsDirective):
        required_arguments = 1 if argument else 0

        def render(self, report, assessments, make):
            if argument:
                return renderer(report.charter, self.arguments[0], assessments, make)
            if uses_labs:
                return renderer(report.charter, assessments, make)
            return renderer(report.charter, make)

    Directive.__name__ = f"Ethics{renderer.__name__.title().replace('_', '')}Directive"
    return Directive


DIRECTIVES = {
    "ethics-label": _directive(pages.render_label),
    "ethics-principles": _directive(pages.render_principles_summary),
    "ethics-scale": _directive(pages.render_scale),
    "ethics-frameworks": _directive(pages.render_frameworks),
    "ethics-sources": _directive(pages.render_sources),
    "ethics-theme": _directive(pages.render_theme_page, argument=True),
    "ethics-assessed-labs": _directive(pages.render_assessed_labs, uses_labs=True),
    "ethics-theme-chart": _directive(pages.render_theme_chart, uses_labs=True),
    "ethics-principle-table": _directive(pages.render_principle_table, uses_labs=True),
    "ethics-open-risks": _directive(pages.render_open_risks, uses_labs=True),
    "ethics-self-assessment": _directive(pages.render_self_assessment),
}


class AppendEthicsAssessment(SphinxTransform):
    """Append its assessment at the end of every lab page (docnames labs/*, not labs/index), and
    label the lab's limits section that the assessment cites.

    Runs before Sphinx collects the labels (SphinxDomains, priority 850) so that the new headings
    reach the page's table of contents and the labels can be cross-referenced.
    """

    default_priority = 700

    def apply(self, **kwargs) -> None:
        docname = self.env.docname
        if not docname.startswith(LABS_DIR + "/") or docname == f"{LABS_DIR}/index":
            return
        report = _report_of(self.app)
        if report is None or report.charter is None:
            return
        stem = docname[len(LABS_DIR) + 1:]
        assessment = next((a for a in report.assessments if a.stem == stem), None)
        for path in _dependencies(report):
            self.env.note_dependency(str(path))
        if assessment is None:  # missing or invalid: the check has said why
            return
        pages.mark_limits_sections(assessment, self.document)
        top_sections = [n for n in self.document.children if isinstance(n, nodes.section)]
        parent = top_sections[0] if top_sections else self.document
        parent += pages.assessment_section(report.charter, assessment, self.document, docname)


def _on_builder_inited(app) -> None:
    root = Path(app.srcdir)
    report = check_repository(root)
    if report.charter:
        for t in report.charter.themes:
            page = root / (pages.theme_doc(t.id) + ".md")
            if not page.exists():
                report.errors.append(f"{CHARTER_FILE} : le thème « {t.id} » n'a pas de page ; créez "
                                     f"{_display(page, root)} avec la directive ```{{ethics-theme}} {t.id}``` "
                                     "et ajoutez-la à _toc.yml")
    for message in report.errors:
        _warn(message)
    app._dq_ethics_report = report


def _generated_pages_inputs(root: Path) -> str:
    """A digest of everything the generated charter pages are made of: the charter, the data
    package, every lab and its assessment (titles, scores), the table of contents (order)."""
    digest = hashlib.sha256()
    paths = [root / CHARTER_FILE, root / DATAPACKAGE_FILE, root / "_toc.yml"]
    paths += sorted((root / LABS_DIR).glob("*.ipynb")) + sorted((root / LABS_DIR).glob("*" + ASSESSMENT_SUFFIX))
    for path in paths:
        if path.exists():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _on_env_get_outdated(app, env, added, changed, removed) -> list[str]:
    """The generated pages depend on every lab and assessment: re-read them when one of these
    changed since the last build (a Sphinx dependency alone would miss an added lab)."""
    digest = _generated_pages_inputs(Path(app.srcdir))
    if getattr(env, "dq_ethics_inputs", None) == digest:
        return []
    env.dq_ethics_inputs = digest
    return [d for d in env.found_docs if d.startswith("ethics-charter/") and d != SELF_ASSESSMENT_DOC]


def setup_sphinx(app) -> None:
    """Register the ethics directives and hooks on the book's Sphinx application (booktools.book)."""
    for name, directive in DIRECTIVES.items():
        app.add_directive(name, directive)
    app.connect("builder-inited", _on_builder_inited)
    app.connect("env-get-outdated", _on_env_get_outdated)
    app.add_transform(AppendEthicsAssessment)
