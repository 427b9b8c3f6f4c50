"""What a reader sees, scanned for what is not French or not finished: the executed labs and the
built pages (issue 13, « French everywhere a reader looks »).

A finding names its place (the notebook and the cell, or the page) and quotes the excerpt, so
that the one who fixes it finds it without searching. The rules, each with its name as a finding
says it:

- « anglais » — English error or warning text: a traceback, `…Error:`, a Python or pandas
  warning, "not found", "unverified"…;
- « valeur brute » — a missing or boolean value as Python writes it (`nan`, `<NA>`, `None`,
  `True`) in a displayed table, a missing one (`nan`) in a sentence;
- « nombre non formaté » — a number with a decimal point in a table (`142123.5`, `0.4567`), a
  count written with a decimal (`2 120,0 personnes`), a count of four digits or more without its
  thousands space in a sentence (`3123 carreaux`), a slider's readout of `1.00` or `8951`, a
  map's tooltip showing `2.0`;
- « sans accent » — a French word written without its accent (UNACCENTED: `pauvrete`,
  `donnees`…), or a column name left as code (`taux_pauvrete`) in a table's header;
- « code au lieu du nom » — a code where a name exists (`commune 35238`);
- « numéros de ligne » — pandas' row numbers 0, 1, 2… shown as the first column of a table.

Only what a reader reads is scanned: text and the attributes a screen reader says (alt, title,
aria-label), a map's legend, layer names and tooltips, a widget's labels; never code (the labs'
code cells, `<code>`, `<pre>`), styles nor scripts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import lxml.html

#: French words a page or an output must write with their accents (the unaccented spelling, as a
#: regular expression of one word; the correct spelling in the finding). Built from what the labs,
#: the data's column names and the seeds write without accents.
UNACCENTED = {
    r"pauvrete": "pauvreté",
    r"defavoris(?:e|es|ee|ees)": "défavorisé(e)(s)",
    r"donnees?": "donnée(s)",
    r"precarite": "précarité",
    r"fragilite": "fragilité",
    r"mediane?s?": "médian(e)(s)",
    r"beneficiaires?": "bénéficiaire(s)",
    r"eligibles?": "éligible(s)",
    r"menages?": "ménage(s)",
    r"categories?": "catégorie(s)",
    r"departements?": "département(s)",
    r"geographie": "géographie",
    r"temperatures?": "température(s)",
    r"synthetiques?": "synthétique(s)",
    r"ecarts?": "écart(s)",
    r"annees?": "année(s)",
    r"periodes?": "période(s)",
    r"sante": "santé",
    r"activite": "activité",
    r"densite": "densité",
    r"societe": "société",
    r"equipements?": "équipement(s)",
    r"securite": "sécurité",
    r"agees?": "âgé(e)(s)",
    r"deciles?": "décile(s)",
    r"chomage": "chômage",
    r"ecoles?": "école(s)",
    r"elus?": "élu(s)",
    r"etudes?": "étude(s)",
    r"carreaux habites": "carreaux habités",
}
#: Every word at once (one pass over a page), not inside an identifier, a path or an address
#: (`taux_pauvrete`, `donnees/`); the matched word is then looked up in UNACCENTED.
UNACCENTED_RE = re.compile(r"(?<![\w/.-])(?:" + "|".join(UNACCENTED) + r")(?![\w/.-])", re.I)
#: A column name left as the data's code in a table header: lower-case words joined by "_".
CODE_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")

#: English a reader must not meet: error and warning names (as suffixes: KeyError, FutureWarning),
#: Python's and pandas' messages, and the words the labs' own messages once used in English.
ENGLISH_MARKERS = ("Traceback", "Error", "Exception", "Warning", "warnings.warn", "not found", "unverified",
                   "No such file", "deprecated", "is not", "does not", "cannot", "Unknown", "missing",
                   "A value is trying to be set", "See the caveats", "site-packages", "Dataset", "covers")
ENGLISH_RE = re.compile("|".join(("" if marker in ("Error", "Exception", "Warning") else r"\b") + re.escape(marker)
                                 + r"\b" for marker in ENGLISH_MARKERS))
#: A missing value as pandas writes it, in a sentence (« taux : nan % »).
RAW_IN_PROSE_RE = re.compile(r"(?<![\w-])(?:NaN|nan|<NA>|NaT)(?![\w-])")
#: A cell of a table holding a value as Python writes it.
RAW_VALUE_RE = re.compile(r"^(?:nan|NaN|<NA>|None|NaT|True|False|inf|-inf)$")
#: A number written with a decimal point (the French decimal is a comma): 142123.5, 0.4567.
DECIMAL_POINT_RE = re.compile(r"(?<![\w.,])-?\d+\.\d+(?![\w.])")
#: Things counted: a count of them has no decimals and takes a space between thousands.
COUNTED = (r"personnes|habitants|ménages|offres|demandeurs(?: d'emploi)?|carreaux|quartiers|IRIS|"
           r"bénéficiaires|logements|allocataires|communes|lignes|emplois")
COUNT_WITH_DECIMAL_RE = re.compile(rf"\b\d{{1,3}}(?:[\u202f\u00a0 ]\d{{3}})*,0[ \u00a0\u202f]+(?:{COUNTED})\b")
COUNT_WITHOUT_SPACE_RE = re.compile(rf"(?<![\w.,/-])\d{{4,}}[ \u00a0]+(?:{COUNTED})\b")
#: A code where the name should be: « commune 35238 », « territoire 13 » (a code in parentheses
#: after the name, « Métropole d'Aix-Marseille-Provence (EPCI 200054807) », or followed by it,
#: « le territoire 21231 (Dijon) », gives the name).
CODE_FOR_NAME_RE = re.compile(r"(?<!\()\b(?:commune|territoire|département|EPCI|intercommunalité)[ \u00a0]+"
                              r"(?:n°[ \u00a0]*)?\d[\dAB]{1,8}\b(?![ \u00a0]*\()", re.I)

#: Elements whose text a reader does not read as prose (code, styles, scripts, a map's document).
NOT_READ = {"script", "style", "template", "pre", "code", "kbd", "samp", "head"}
#: Attributes read aloud or shown on hover.
READ_ATTRIBUTES = ("alt", "title", "aria-label", "placeholder")


@dataclass(frozen=True)
class Finding:
    place: str  # "labs/canicules.ipynb, cellule 12" (counted from 1) or "chapters/methode.html"
    rule: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.place} : {self.rule} : « {self.excerpt} »"


# --- the rules, on one piece of text ------------------------------------------------------------

def _excerpt(text: str, start: int, end: int, margin: int = 40) -> str:
    left, right = max(0, start - margin), min(len(text), end + margin)
    piece = re.sub(r"\s+", " ", text[left:right]).strip()
    return ("…" if left else "") + piece + ("…" if right < len(text) else "")


def scan_text(text: str, place: str, *, quotations: bool = False, decimals: bool = True) -> list[Finding]:
    """The findings of every rule on prose (a sentence printed by a lab, a page's paragraph).

    `quotations`: English between « » is a quotation (a page citing what Python says, to explain
    it), not the page speaking English. `decimals`: a number with a decimal point is a finding
    (in what a lab prints; a page's prose names versions, « Sphinx 7.4 », that are not numbers)."""
    found = []
    if decimals:
        for line in text.splitlines():
            found += _decimal_points(line, place)
    for m in UNACCENTED_RE.finditer(text):
        right = next(r for word, r in UNACCENTED.items() if re.fullmatch(word, m.group(0), re.I))
        found.append(Finding(place, "sans accent", f"{_excerpt(text, m.start(), m.end())} (écrire « {right} »)"))
    rules = [("valeur brute", RAW_IN_PROSE_RE), ("nombre non formaté", COUNT_WITH_DECIMAL_RE),
             ("nombre non formaté", COUNT_WITHOUT_SPACE_RE), ("code au lieu du nom", CODE_FOR_NAME_RE)]
    for rule, pattern in rules:
        for m in pattern.finditer(text):
            found.append(Finding(place, rule, _excerpt(text, m.start(), m.end())))
    quoted = re.compile(r"(?:\b\w+(?:Error|Warning)[ \u00a0\u202f]*)?«[^»\n]*»") if quotations else None
    english = ENGLISH_RE.finditer(text) if any(marker in text for marker in ENGLISH_MARKERS) else ()  # fast path
    for m in english:
        if quoted is None or not any(q.start() <= m.start() < q.end() for q in quoted.finditer(text)):
            found.append(Finding(place, "anglais", _excerpt(text, m.start(), m.end())))
    return found


def scan_table(table, place: str) -> list[Finding]:
    """The table rules on an HTML table (an lxml element): raw values, decimal points, counts with
    decimals, column names left as code, pandas' row numbers."""
    found = []
    caption = table.find("caption")
    what = f"{place} (tableau « {_text_of(caption)[:60]} »)" if caption is not None else f"{place} (tableau)"
    for th in table.iterfind(".//thead//th"):
        label = _text_of(th)
        if CODE_NAME_RE.match(label):
            found.append(Finding(what, "sans accent", f"colonne « {label} » : un nom de code, pas un libellé"))
    first_cells = []
    for row in table.iterfind(".//tbody/tr"):
        cells = row.findall("./th") + row.findall("./td")
        for cell in cells:
            value = _text_of(cell)
            if RAW_VALUE_RE.match(value):
                found.append(Finding(what, "valeur brute", value))
            found += _decimal_points(value, what)
        first = row.find("./th")
        first_cells.append(_text_of(first) if first is not None else None)
    if first_cells and first_cells == [str(i) for i in range(len(first_cells))]:
        found.append(Finding(what, "numéros de ligne",
                             f"la première colonne numérote les lignes 0 à {len(first_cells) - 1}"))
    found += _counts_with_decimals(table, what)
    return found


def _decimal_points(value: str, what: str) -> list[Finding]:
    """Numbers written with a decimal point; a version after a name (« Licence Ouverte 2.0 »,
    « Python 3.11 », « CC BY 4.0 ») is not a number to format."""
    found = []
    for m in DECIMAL_POINT_RE.finditer(value):
        before = value[:m.start()].split()
        if before and (re.fullmatch(r"[A-Z0-9][\w-]*", before[-1].lstrip("([«\"'")) or before[-1].lower() in ("version", "v")):
            continue
        found.append(Finding(what, "nombre non formaté", _excerpt(value, m.start(), m.end())))
    return found


def _counts_with_decimals(table, what: str) -> list[Finding]:
    """A column of counts (its header says what is counted, and not that it is a mean or a share)
    written with decimals: « 2 120,0 » people, « 195 643,5 » inhabitants."""
    headers = [_text_of(th) for th in table.iterfind(".//thead/tr[last()]/th")]
    rows = [[_text_of(c) for c in row.findall("./th") + row.findall("./td")] for row in table.iterfind(".//tbody/tr")]
    caption = _text_of(table.find("caption"))
    found = []
    for i, header in enumerate(headers):
        counted = re.match(rf"(?:dont |nombre d[e'] ?)?(?:{COUNTED}|nombre|effectif)\b", header, re.I)
        if not counted or re.search(r"%|\bpart\b|\btaux\b|moyen|\bpar\b|médian|km|°", header + " " + caption, re.I):
            continue
        values = [r[i] for r in rows if i < len(r) and r[i] not in ("", "—")]
        with_decimals = [v for v in values if re.fullmatch(r"-?[\d\u202f\u00a0 ]+,\d+", v)]
        if with_decimals:
            found.append(Finding(what, "nombre non formaté",
                                 f"colonne « {header} » : un effectif écrit avec des décimales ({with_decimals[0]})"))
    return found


def _text_of(element) -> str:
    return re.sub(r"\s+", " ", element.text_content()).strip() if element is not None else ""


def _drop_unread(root) -> None:
    for element in list(root.iter()):
        if not isinstance(element.tag, str):  # comments, processing instructions
            element.drop_tree()
        elif element.tag in NOT_READ or "cell_input" in (element.get("class") or "").split():
            element.drop_tree()
        elif element.tag == "iframe":
            element.attrib.pop("srcdoc", None)  # scanned as a map document (scan_map_document)


def scan_html(html: str, place: str, *, page: bool = False) -> list[Finding]:
    """Every rule on an HTML fragment or page: its tables with the table rules, its prose (and the
    attributes a reader hears) with the text rules. `page`: a book page rather than an output
    (quotations allowed, versions in its prose, see scan_text)."""
    if not html.strip():
        return []
    root = lxml.html.fragment_fromstring(html, create_parent="div") if "<html" not in html[:500] else lxml.html.fromstring(html)
    return _scan_element(root, place, page=page)


def _scan_element(root, place: str, *, page: bool) -> list[Finding]:
    """scan_html on a parsed element (changed: what is not read is dropped from it)."""
    found = []
    for frame in root.iter("iframe"):
        if frame.get("srcdoc"):
            found += scan_map_document(frame.get("srcdoc"), f"{place} (carte)")
    _drop_unread(root)
    for table in list(root.iter("table")):  # the table rules, then the text rules on its cells
        found += scan_table(table, place)
        found += scan_text(_visible_text(table), place, quotations=page, decimals=False)
        table.drop_tree()
    for element in root.iter():
        for attribute in READ_ATTRIBUTES:
            if element.get(attribute):
                found += scan_text(element.get(attribute), place, quotations=page, decimals=not page)
    found += scan_text(_visible_text(root), place, quotations=page, decimals=not page)
    return found


def scan_map_document(doc: str, place: str) -> list[Finding]:
    """What a reader reads on a folium map: its legend and the names of its layers, and its
    tooltips (their titles, and the values of the fields they show, which must be written
    already: a raw float reaches the reader as Python wrote it)."""
    found = []
    root = lxml.html.fromstring(doc)
    for layers in re.findall(r'(?:base_layers|overlays)\s*:\s*\{(.*?)\}', doc, re.S):
        for name in re.findall(r'"((?:[^"\\]|\\.)*)"\s*:', layers):
            found += scan_text(_js_string(name), place)
    for fields, aliases in re.findall(r"fields\s*=\s*(\[[^\]]*\])\s*;?\s*let\s+aliases\s*=\s*(\[[^\]]*\])", doc):
        for alias in json.loads(aliases):
            found += scan_text(str(alias), place)
        for field in json.loads(fields):
            for value in sorted(set(re.findall(rf'"{re.escape(field)}"\s*:\s*(-?\d+\.\d+|\d{{4,}}(?![\d"]))', doc))):
                found.append(Finding(place, "nombre non formaté", f"info-bulle « {field} » : {value}"))
    for tooltip in re.findall(r"bindTooltip\(\s*`<div>\s*(.*?)\s*</div>`", doc, re.S):
        found += scan_text(tooltip, place)
    body = root.find("body")
    if body is not None:
        _drop_unread(body)
        found += scan_text(_visible_text(body), place)
    return found


def _js_string(text: str) -> str:
    try:
        return json.loads(f'"{text}"')
    except ValueError:
        return text


def _visible_text(root) -> str:
    """The text of the element, block by block (one line per paragraph, cell, caption)."""
    blocks = []
    for element in root.iter():
        if element.text and element.text.strip():
            blocks.append(element.text)
        if element.tail and element.tail.strip():
            blocks.append(element.tail)
    return "\n".join(re.sub(r"[ \t\r\n]+", " ", b).strip() for b in blocks)


# --- an executed notebook -------------------------------------------------------------------------

def scan_notebook(nb, name: str) -> list[Finding]:
    """Every output of the executed notebook `nb` (named `name` in the findings, e.g.
    "labs/canicules.ipynb"), cell by cell (« cellule 3 » is `nb.cells[2]`, markdown cells
    counted), and the labels of its widgets."""
    found = []
    for index, cell in enumerate(nb.cells):
        place = f"{name}, cellule {index + 1}"  # counted from 1, as booktools.execution names a cell
        for output in cell.get("outputs", []):
            found += scan_output(output, place)
    found += scan_widgets(nb, name)
    return found


def scan_output(output, place: str) -> list[Finding]:
    kind = output.get("output_type")
    if kind == "stream":
        return scan_text(output.get("text", ""), place + (" (sortie d'erreur)" if output.get("name") == "stderr" else ""))
    if kind == "error":
        shown = "\n".join(output.get("traceback", []))
        shown = re.sub(r"\x1b\[[0-9;]*m", "", shown)
        return scan_text(shown, place + " (erreur)")
    data = output.get("data", {})
    if "text/html" in data:
        return scan_html(_joined(data["text/html"]), place)
    if "application/vnd.jupyter.widget-view+json" in data:
        return []  # the widget's labels are in the notebook's widget state (scan_widgets)
    if "text/plain" in data:
        return scan_text(_joined(data["text/plain"]), place)
    return []


def _joined(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def scan_widgets(nb, name: str) -> list[Finding]:
    """The labels a widget shows (description, options, the text of Label and HTML widgets) in the
    notebook's saved widget state."""
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    found = []
    for model_id, model in state.items():
        attributes = model.get("state", {})
        place = f"{name}, widget « {attributes.get('description') or model.get('model_name', model_id)} »"
        labels = [attributes.get("description", ""), attributes.get("placeholder", ""), attributes.get("tooltip") or ""]
        labels += [str(option) for option in attributes.get("_options_labels", [])]
        for label in filter(None, labels):
            found += scan_text(label, place)
        if model.get("model_name") in ("HTMLModel", "HTMLMathModel", "LabelModel") and attributes.get("value"):
            found += scan_html(str(attributes["value"]), place)
        for output in attributes.get("outputs", []):  # what an Output widget shows
            found += scan_output(output, place)
        if attributes.get("readout") and re.search(r"\.[1-9]f", str(attributes.get("readout_format", ""))):
            found.append(Finding(place, "nombre non formaté",
                                 f"le curseur affiche sa valeur avec un point décimal (format « {attributes['readout_format']} »)"))
        elif (attributes.get("readout") and "Slider" in model.get("model_name", "")
              and max(abs(v) for v in (attributes.get("min", 0), attributes.get("max", 0))) >= 1000):
            found.append(Finding(place, "nombre non formaté", "le curseur affiche des milliers sans espace "
                                 f"(jusqu'à {attributes.get('max')}) : ses choix doivent être écrits (choices_fr)"))
    return found


# --- the built pages ------------------------------------------------------------------------------

#: Folders of the built site that are not the book's pages (assets, the JupyterLite app, downloads).
NOT_PAGES = ("_static", "_sources", "_downloads", "_images", "lite", "bundles", "_sphinx_design_static")


def book_pages(site: Path) -> Iterator[Path]:
    for page in sorted(Path(site).rglob("*.html")):
        rel = page.relative_to(site)
        if rel.parts[0] not in NOT_PAGES:
            yield page


def scan_page(page: Path, site: Path) -> list[Finding]:
    """The book's own content of a built page (its article: the theme's frame is checked by
    tests/test_site.py)."""
    root = lxml.html.fromstring(page.read_bytes())
    articles = root.xpath("//article[contains(concat(' ', normalize-space(@class), ' '), ' bd-article ')]")
    if not articles:
        return []
    return _scan_element(articles[0], page.relative_to(site).as_posix(), page=True)


def scan_site(site: Path) -> list[Finding]:
    return [f for page in book_pages(site) for f in scan_page(page, site)]


def report(findings: Iterable[Finding], limit: int = 40) -> str:
    findings = list(dict.fromkeys(findings))
    lines = [str(f) for f in findings[:limit]]
    if len(findings) > limit:
        lines.append(f"… et {len(findings) - limit} autres")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """python -m booktools.french_scan _build/html [labs/x.ipynb …]: what the scan finds, in French."""
    import nbformat

    from dataquartiers.cli import ArgumentParser

    parser = ArgumentParser(prog="python -m booktools.french_scan",
                            description="Chercher, dans un site construit et des notebooks exécutés, ce qu'un "
                                        "lecteur verrait d'anglais, de nombres mal écrits ou de mots sans accents.")
    parser.add_argument("cibles", nargs="+", type=Path, metavar="cible",
                        help="un dossier de site construit (_build/html) ou un notebook exécuté (.ipynb)")
    out = []
    for target in parser.parse_args(argv).cibles:
        if target.is_dir():
            out += scan_site(target)
        elif target.is_file():
            out += scan_notebook(nbformat.read(target, as_version=4), target.as_posix())
        else:
            parser.error(f"« {target} » n'existe pas")
    print(report(out, limit=10_000))
    print(json.dumps({"findings": len(out)}))
    return 1 if out else 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
