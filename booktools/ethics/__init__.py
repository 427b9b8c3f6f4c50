"""Every lab bound to the ethics charter: the assessments and their check, the charter's pages,
the assessment on every lab page, the self-assessment form of the charter's page.

- `check`: read and check each lab's assessment (`labs/<lab>.ethics.yml`) against the charter
  (`dataquartiers.charter`), its notebook and the data package; French messages naming the file,
  the principle or the dataset at fault.
- `pages`: what the pages show, built as docutils nodes (and two Jinja2 templates: the chart,
  the self-assessment form with its script).
- `sphinx_ext`: the `ethics-*` directives an author writes in `ethics-charter/*.md`, the check
  at the start of every build, the assessment appended to every lab page.
- `python -m booktools.ethics check | new LAB`: the same check on the command line (`__main__`).
"""

from .check import (ASSESSMENT_SUFFIX, DATAPACKAGE_FILE, LABS_DIR, STATUS_LABELS, LabAssessment, Report,
                    assessment_path, assessment_schema, check_assessment, check_repository, principle_averages,
                    section_titles, skeleton)
from .pages import (CHARTER_DOC, OVERVIEW_DOC, NodeMaker, assessment_section, chart_svg, principle_label,
                    render_assessed_labs, render_open_risks, render_principle_table, render_theme_chart,
                    render_theme_page, self_assessment_html, theme_doc)
from .sphinx_ext import DIRECTIVES, setup_sphinx

__all__ = ["ASSESSMENT_SUFFIX", "CHARTER_DOC", "DATAPACKAGE_FILE", "DIRECTIVES", "LABS_DIR", "LabAssessment",
           "NodeMaker", "OVERVIEW_DOC", "Report", "STATUS_LABELS", "assessment_path", "assessment_schema",
           "assessment_section", "chart_svg", "check_assessment", "check_repository", "principle_averages",
           "principle_label", "render_assessed_labs", "render_open_risks", "render_principle_table",
           "render_theme_chart", "render_theme_page", "section_titles", "self_assessment_html", "setup_sphinx",
           "skeleton", "theme_doc"]
