"""The atlas in HTML and CSV: one sheet per neighbourhood, the index by department and commune, the
search, and the downloads.

Sheets are written straight in HTML and published in the book's theme by `sphinx_ext` (the frame of
the catalogue's source pages): 1,400 Sphinx documents would take minutes. Every text that comes from
the data (names, codes, titles) is escaped with `html.escape`; numbers are written the French way
with `dataquartiers.indicators.format_fr`.
"""

from __future__ import annotations

import csv
import functools
import html
import io
import posixpath

from docutils import nodes

from dataquartiers import secrecy
from dataquartiers.indicators import format_fr

from .labs import ABSENT as LAB_ABSENT
from .labs import COMPLETE, LabOnCommune
from .model import (ABSENT, BLOCKS, MASKED, NOT_IN_TABLE, OK, TABLES, Atlas, BlockFigures, Commune, Indicator,
                    Line, Sheet, fold)

ATLAS_DIR = "atlas"
MAPS_DIR = "cartes"
CSV_NAME = "atlas-quartiers.csv"
DICTIONARY_NAME = "atlas-quartiers-colonnes.csv"
NO_FIGURE = "—"
STATUS_TEXT = {ABSENT: "non diffusé", MASKED: secrecy.MASK_LABEL, NOT_IN_TABLE: "absent du fichier"}
LINK_KINDS = {
    "recouvrement": "lien établi par superposition des contours",
    "nom": "nom proche dans la même commune : rapprochement non fiable",
    "commune": "même commune, aucun lien établi",
}


@functools.lru_cache(maxsize=8192)
def _escaped(text: str) -> str:
    return html.escape(" ".join(text.split()), quote=True)


def h(text: object) -> str:
    """Plain text made safe for HTML (one line). Cached: the same labels come back on every sheet."""
    return _escaped(str(text))


def sheet_docname(code: str) -> str:
    return f"{ATLAS_DIR}/{code}"


def commune_anchor(code: str) -> str:
    return f"commune-{code}"


def dataset_anchor(name: str) -> str:
    """The label the datasets page gives each resource (booktools/datasets_page.py)."""
    return nodes.make_id(f"dataset-{name}")


@functools.lru_cache(maxsize=256)
def _relative(path: str, folder: str) -> str:
    return posixpath.relpath(path, folder)


class Links:
    """Relative addresses from an atlas page; a document absent from the book gives None."""

    def __init__(self, page: str, docs: set[str] | None):
        self.page, self.docs = page, docs

    def to(self, path: str) -> str:
        return _relative(path, posixpath.dirname(self.page) or ".")

    def doc(self, docname: str, anchor: str = "") -> str | None:
        if self.docs is not None and docname not in self.docs:
            return None
        return self.to(f"{docname}.html") + (f"#{anchor}" if anchor else "")


def link(text: str, url: str | None, css: str = "reference internal") -> str:
    """Already-escaped text as a link, or as plain text when there is no address."""
    return f'<a class="{css}" href="{html.escape(url, quote=True)}">{text}</a>' if url else text


def _section(anchor: str, title: str, content: str, level: int = 2) -> str:
    return (f'<section id="{anchor}"><h{level}>{title}<a class="headerlink" href="#{anchor}" '
            f'title="Lien vers cette rubrique">#</a></h{level}>{content}</section>')


def admonition(kind: str, title: str, text: str) -> str:
    return f'<div class="admonition {kind}"><p class="admonition-title">{title}</p>{text}</div>'


# --- numbers ----------------------------------------------------------------------------------

def number(value: float | None, ind: Indicator) -> str:
    return format_fr(value, ind.decimals, ind.unit)


def quarter_cell(line: Line) -> str:
    v = line.value
    return number(v.value, line.indicator) if v.status == OK and v.value is not None else STATUS_TEXT.get(v.status, NO_FIGURE)


def commune_cell(line: Line) -> str:
    c = line.commune
    if c is None:
        return NO_FIGURE
    text = number(c.value, line.indicator) if c.status == OK and c.value is not None else STATUS_TEXT.get(c.status, NO_FIGURE)
    if c.source and c.source != "même fichier" and c.status == OK:
        text += f" ({h(c.source.split(',')[0])})"
    return text


def median_cell(line: Line) -> str:
    return number(line.median, line.indicator) if line.median is not None else NO_FIGURE


# --- a sheet ----------------------------------------------------------------------------------

def _names(pairs) -> str:
    return ", ".join(f"{h(name)} ({h(code)})" for code, name in pairs) or "non connu"


def _table_info(atlas: Atlas, name: str) -> dict:
    res = atlas.resources[name]
    return {"title": res.get("title", name), "producer": res.get("producer", ""),
            "vintage": res.get("vintage", ""), "status": res.get("licence_status", "")}


def _note_warning(b: BlockFigures) -> str:
    block = b.block
    if not b.in_table or block.note is None:
        return ""
    if b.note_missing:
        return admonition("note", "Qualité non indiquée",
                          f"<p>Le fichier ne donne pas le code de qualité de cette rubrique ({h(block.note)} vide) : "
                          "la qualité de ces chiffres n'est pas connue.</p>")
    if b.note in (None, 0):
        return ""
    shown = any(line.value.shown for line in b.lines)
    consequence = ("Les chiffres diffusés sont à lire avec prudence." if shown
                   else "Le producteur ne diffuse aucun chiffre de cette rubrique pour ce quartier.")
    return admonition("warning", "Réserve du producteur",
                      f"<p>Rubrique « {h(block.title)} » : le fichier porte le code de qualité {h(block.note)} = "
                      f"{b.note} (0 veut dire « diffusé sans réserve » : donnée fragile, partielle ou couverte par "
                      f"le secret). {consequence} Le sens exact de chaque code est donné par la documentation du "
                      "fichier chez le producteur.</p>")


def _figures_table(sheet: Sheet, b: BlockFigures, caption: str) -> str:
    head = ("<thead><tr><th scope=\"col\">Indicateur</th><th scope=\"col\">Quartier</th>"
            f"<th scope=\"col\">Commune(s) englobante(s) : {h(sheet.commune_label)}</th>"
            "<th scope=\"col\">Médiane des quartiers du fichier</th></tr></thead>")
    rows = []
    for line in b.lines:
        rows.append(f'<tr data-indicateur="{line.indicator.id}"><th scope="row">{h(line.indicator.label)}</th>'
                    f"<td>{quarter_cell(line)}</td><td>{commune_cell(line)}</td><td>{median_cell(line)}</td></tr>")
    origins = sorted({line.commune.source for line in b.lines if line.commune is not None and line.commune.status == OK
                      and line.commune.source and line.commune.source != "même fichier"})
    note = (f'<p class="dq-atlas-origine">Chiffres de la commune : {h(" ; ".join(origins))} (allocataires des CAF par '
            "IRIS : autre fichier, autre millésime).</p>" if origins else "")
    return (f'<div class="pst-scrollable-table-container"><table class="table dq-atlas-chiffres">'
            f"<caption>{caption}</caption>{head}<tbody>{''.join(rows)}</tbody></table></div>{note}")


def _figures(atlas: Atlas, sheet: Sheet, links: Links) -> str:
    parts = ["<p>Trois colonnes : le quartier, sa ou ses communes quand les données du livre en donnent le chiffre "
             f"(sinon {NO_FIGURE}), et la médiane des quartiers du même fichier, pour situer le quartier parmi les "
             "autres. Les fichiers ne donnent pas de valeur pour la France entière. « non diffusé » : cellule vide "
             f"chez le producteur (secret ou donnée indisponible) ; « {secrecy.MASK_LABEL} » : effectif de moins de "
             "11 personnes ou ménages, ou part calculée sur un tel effectif, caché par le livre.</p>"]
    for table in TABLES:
        info = _table_info(atlas, table)
        blocks = [b for b in sheet.blocks if b.block.table == table]
        source = (f"<p class=\"dq-atlas-source\">Source : {h(info['producer'])} — "
                  f"{link(h(info['title']), links.doc('datasets/index', dataset_anchor(table)))}, "
                  f"{h(info['vintage'])}. Géographie : quartiers prioritaires 2015.</p>")
        content = source
        if not blocks[0].in_table:
            content += admonition("note", "Absent du fichier",
                                  "<p>Ce quartier n'est pas dans ce fichier : aucun chiffre de cette partie.</p>")
        else:
            for b in blocks:
                content += _note_warning(b) + _figures_table(sheet, b, h(b.block.title))
        parts.append(_section(f"fichier-{table.replace('_', '-')}", h(info["title"]), content, level=3))
    return "".join(parts)


#: Colours of the chart, with a contrast of at least 3:1 on white (WCAG 1.4.11).
CHART_QUARTER, CHART_COMMUNE = "#1f3a93", "#b34700"


def chart(sheet: Sheet) -> str:
    """Bars: the neighbourhood and its commune(s) on the indicators that have both figures (SVG)."""
    lines = [line for b in sheet.blocks for line in b.lines if line.indicator.chart and line.value.shown
             and line.commune is not None and line.commune.status == OK and line.commune.value is not None]
    if not lines:
        return ("<p>Pas de graphique : les données du livre n'ont pas, pour la commune de ce quartier, de chiffre "
                "comparable à ceux du quartier (allocataires des CAF par IRIS).</p>")
    top = max(max(line.value.value, line.commune.value) for line in lines)
    scale_max = max(10.0, 10 * -(-top // 10))
    width, left, bar_width = 640, 8, 470
    y, rows = 44, []
    for line in lines:
        ind = line.indicator
        rows.append(f'<text x="{left}" y="{y}" class="dq-graphe-etiquette">{h(ind.label)}</text>')
        for j, (value, colour) in enumerate(((line.value.value, CHART_QUARTER), (line.commune.value, CHART_COMMUNE))):
            top_y = y + 6 + j * 18
            length = max(1.0, bar_width * value / scale_max)
            rows.append(f'<rect x="{left}" y="{top_y}" width="{length:.1f}" height="14" fill="{colour}"/>'
                        f'<text x="{left + length + 6:.1f}" y="{top_y + 11}">{h(number(value, ind))}</text>')
        y += 58
    height = y - 10
    commune_source = lines[0].commune.source
    summary = " ; ".join(f"{line.indicator.label} : {number(line.value.value, line.indicator)} dans le quartier, "
                         f"{number(line.commune.value, line.indicator)} dans la commune" for line in lines)
    gid = f"graphe-{sheet.code}"
    legend = (f'<rect x="{left}" y="6" width="14" height="14" fill="{CHART_QUARTER}"/>'
              f'<text x="{left + 20}" y="18">Quartier ({h(sheet.name)})</text>'
              f'<rect x="{left + 300}" y="6" width="14" height="14" fill="{CHART_COMMUNE}"/>'
              f'<text x="{left + 320}" y="18">Commune(s)</text>')
    svg = (f'<svg class="dq-atlas-graphe" viewBox="0 0 {width} {height}" width="100%" role="img" '
           f'aria-labelledby="{gid}-titre {gid}-desc" xmlns="http://www.w3.org/2000/svg">'
           f'<title id="{gid}-titre">Le quartier {h(sheet.name)} et sa commune : parts parmi les allocataires des CAF'
           f'</title><desc id="{gid}-desc">{h(summary)}.</desc>'
           "<style>text{font:13px sans-serif;fill:#1a1a1a}.dq-graphe-etiquette{font-weight:600}</style>"
           f"{legend}{''.join(rows)}</svg>")
    return (f'<figure class="dq-atlas-figure">{svg}<figcaption>Parts parmi les foyers allocataires des CAF, en %. '
            f"Quartier : fichiers de l'ANCT, édition 2022. Commune(s) : {h(commune_source)} (autre millésime : "
            "l'écart d'années compte). Chaque barre porte son chiffre ; les mêmes chiffres sont dans les tableaux "
            "ci-dessus, et la description du graphique les dit en texte.</figcaption></figure>")


def _map(atlas: Atlas, sheet: Sheet, map_file: str | None) -> str:
    if map_file:
        url = f"{MAPS_DIR}/{map_file}?quartier={sheet.code}"
        return (f'<figure class="dq-map dq-atlas-carte"><iframe src="{h(url)}" title="Carte : le quartier '
                f'{h(sheet.name)} et ses voisins" style="width:100%;height:420px;border:1px solid #ccc" '
                f'loading="lazy"></iframe><figcaption><strong>Le quartier {h(sheet.name)} dans sa commune.</strong> '
                f'<span class="dq-map-alt">{h(map_alternative(atlas, sheet))}</span> '
                f"{link('Ouvrir la carte seule', url)}.</figcaption></figure>")
    covered = ", ".join(h(atlas.resources[n].get("title", n)) for n in atlas.contour_resources) or "aucun"
    return (f"<p>Pas de carte : les contours de ce quartier ne sont pas dans les données du livre. Le livre a les "
            f"contours 2015 de ces fichiers seulement : {covered}. Le pack de territoire (rubrique « Travailler ce "
            "quartier dans les labs ») va chercher les contours chez l'ANCT quand on est en ligne.</p>")


def map_alternative(atlas: Atlas, sheet: Sheet) -> str:
    text = (f"Le contour du quartier {sheet.name} (géographie 2015) est rempli en bleu, la carte centrée sur lui ; "
            "les autres quartiers prioritaires 2015 du même fichier de contours sont cernés de bleu, les limites des "
            "communes, quand le livre les a, en tirets gris.")
    if atlas.contours_2024_resources:
        text += " Les quartiers prioritaires 2024 connus du livre sont cernés de tirets orange."
    return text + " Pas de fond de carte : rien n'est chargé depuis Internet."


def _geography_2024(atlas: Atlas, sheet: Sheet) -> str:
    out = ["<p>Cette fiche décrit un quartier de la géographie prioritaire 2015, celle des fichiers nationaux du "
           "livre. La carte a été redessinée en 2024 (codes QN…) et le livre n'a aucun chiffre sur les quartiers "
           "2024 ; les voici, pour la même commune, avec la force du lien avec ce quartier.</p>"]
    measured = [x for x in sheet.links_2024 if x.kind == "recouvrement"]
    named = [x for x in sheet.links_2024 if x.kind == "nom"]
    others = [x for x in sheet.links_2024 if x.kind == "commune"]
    if measured:
        overlap = atlas.resources.get(atlas.overlap_resource or "", {})
        rows = "".join(
            f"<tr><th scope=\"row\">{h(x.name)} ({h(x.code)})</th>"
            f"<td>{format_fr(None if x.part_of_2015 is None else 100 * x.part_of_2015, 1, '%')}</td>"
            f"<td>{format_fr(None if x.part_of_2024 is None else 100 * x.part_of_2024, 1, '%')}</td></tr>"
            for x in measured)
        out.append("<p><strong>Lien établi par superposition des contours</strong> (fichier "
                   f"« {h(overlap.get('title', atlas.overlap_resource))} », dérivé des contours, non officiel) :</p>"
                   '<div class="pst-scrollable-table-container"><table class="table"><caption>Quartiers 2024 qui '
                   "recouvrent ce quartier</caption><thead><tr><th scope=\"col\">Quartier 2024</th><th scope=\"col\">"
                   "Part de la surface du quartier 2015 dans le quartier 2024</th><th scope=\"col\">Part du quartier "
                   f"2024 couverte par le quartier 2015</th></tr></thead><tbody>{rows}</tbody></table></div>")
    if named:
        out.append("<p><strong>Nom proche dans la même commune — rapprochement non fiable</strong> : seuls le nom et "
                   "la commune concordent ; rien ne dit que les contours se recouvrent. À vérifier sur les contours "
                   "avant toute comparaison : "
                   + ", ".join(f"{h(x.name)} ({h(x.code)})" for x in named) + ".</p>")
    if others:
        out.append("<p>Autres quartiers 2024 de la commune, sans lien établi avec celui-ci : "
                   + ", ".join(f"{h(x.name)} ({h(x.code)})" for x in others) + ".</p>")
    if not sheet.links_2024:
        out.append("<p>La liste 2024 du livre ne compte aucun quartier dans cette commune. Attention : la liste "
                   "d'origine omet environ 78 quartiers ; vérifiez auprès de l'ANCT.</p>")
    return "".join(out)


def territory_codes(sheet: Sheet) -> tuple[str, list[str]]:
    """The code an officer types for the commune, and the arrondissements codes that also work."""
    main = sheet.territory_communes[0][0]
    arrondissements = [c for c, _ in sheet.communes if c not in dict(sheet.territory_communes)]
    return main, arrondissements


def _labs(atlas: Atlas, sheet: Sheet, on_commune: list[LabOnCommune], links: Links) -> str:
    code, arrondissements = territory_codes(sheet)
    names = ", ".join(f"{h(n)} ({h(c)})" for c, n in sheet.territory_communes)
    out = [f"<p>Chaque lab se règle dans sa cellule « Paramètres » : pour {names}, donnez au réglage de territoire "
           f"la valeur <code>\"{h(code)}\"</code>"
           + (f" (ou le code de l'arrondissement : {', '.join(f'<code>{h(a)}</code>' for a in arrondissements)})"
              if arrondissements else "")
           + ". Ce qui suit dit ce que couvrent les données livrées avec chaque lab ; le livre n'exécute chaque lab "
           "que sur le territoire écrit dans sa cellule « Paramètres ».</p>"]
    items = []
    for item in on_commune:
        lab = item.lab
        title = link(h(lab.title), links.doc(f"labs/{lab.stem}"))
        settings = " ou ".join(f"<code>{h(p)} = \"{h(code)}\"</code>" for p, _ in lab.parameters) or "—"
        if item.status == COMPLETE:
            state = "données présentes pour cette commune"
        elif item.status == LAB_ABSENT:
            state = "pas de données pour cette commune dans le livre : il faut un pack de territoire"
        else:
            missing = ", ".join(f"« {h(atlas.resources.get(m, {}).get('title', m))} »" for m in item.missing)
            state = f"données en partie présentes ; manquent : {missing} (le lab le signale ; un pack de territoire les apporte)"
        run = ""
        if item.run_by_book:
            run = (f" Le livre exécute ce lab à chaque construction avec <code>{h(item.run_by_book[0])} = "
                   f"\"{h(item.run_by_book[1])}\"</code>, un territoire qui contient cette commune.")
        items.append(f"<li><p>{title} — {state}. Réglage : {settings}.{run}</p></li>")
    out.append(f"<ul>{''.join(items)}</ul>")
    out.append("<p><strong>Pack de territoire</strong> : pour travailler cette commune avec ses propres contours et "
               "tableaux, un formateur prépare un pack avant la séance, en ligne, depuis le dépôt du livre : "
               f"<code>make territory CODE={h(code)}</code>. Les labs le lisent ensuite sans réseau.</p>")
    return "".join(out)


def _sources(atlas: Atlas, sheet: Sheet, links: Links) -> str:
    names = list(TABLES) + [n for n in ("caf_iris_2020", "qpv2024_communes") if n in atlas.resources]
    if sheet.has_contour:
        names += atlas.contour_resources
    if any(x.kind == "recouvrement" for x in sheet.links_2024) and atlas.overlap_resource:
        names.append(atlas.overlap_resource)
    items = []
    for name in names:
        res = atlas.resources[name]
        licence = ", ".join(li.get("title", li.get("name", "")) for li in res.get("licenses", []))
        verified = " (licence à vérifier)" if res.get("licence_status") == "unverified" else ""
        items.append(f"<li><p>{link(h(res.get('title', name)), links.doc('datasets/index', dataset_anchor(name)))} : "
                     f"{h(res.get('producer', ''))}, {h(res.get('vintage', ''))} ; {h(licence)}{verified}.</p></li>")
    return (f"<ul>{''.join(items)}</ul><p>Limites : les chiffres du quartier portent sur la géographie 2015 ; ceux de "
            "la commune viennent du même fichier (population) ou des allocataires des CAF par IRIS, d'un autre "
            "millésime ; aucun chiffre pour la France entière n'est dans ces fichiers ; les effectifs de moins de 11 "
            "personnes ou ménages ne sont jamais affichés.</p>")


def render_sheet(atlas: Atlas, sheet: Sheet, on_commune: list[LabOnCommune], docs: set[str] | None = None,
                 map_file: str | None = None) -> tuple[str, str, str]:
    """One sheet: (title, body, toc) in HTML; `map_file`: the map document (in cartes/) that draws it."""
    links = Links(sheet_docname(sheet.code), docs)
    pop = sheet.population
    population = (format_fr(pop.value, 0, "habitants") if pop.shown else STATUS_TEXT.get(pop.status, NO_FIGURE))
    identity = [
        ("Code (géographie 2015)", h(sheet.code)),
        ("Commune(s)", _names(sheet.communes)),
        ("Département(s)", _names(sheet.departements)),
        ("Intercommunalité(s)", _names(sheet.epcis)),
        ("Population municipale", f"{population} (recensement, fichier DEMO de l'ANCT, édition 2022)"),
    ]
    id_rows = "".join(f'<tr><th scope="row">{k}</th><td>{v}</td></tr>' for k, v in identity)
    warnings = [b.block.title for b in sheet.blocks if b.in_table and b.block.note and (b.note or b.note_missing)]
    intro = (f"<p>Quartier prioritaire de la politique de la ville, géographie 2015. Fiche faite à partir des fichiers "
             f"nationaux de l'ANCT ; {link('retour à la commune dans l’atlas', links.to('atlas/index.html') + '#' + commune_anchor(sheet.territory_communes[0][0]))}.</p>"
             f'<div class="pst-scrollable-table-container"><table class="table dq-atlas-identite"><caption>Le quartier'
             f"</caption><tbody>{id_rows}</tbody></table></div>")
    if warnings:
        intro += admonition("warning", "Chiffres avec réserve",
                            "<p>Le producteur signale une réserve sur : " + ", ".join(h(w) for w in warnings)
                            + " (voir ces rubriques).</p>")
    sections = [
        ("chiffres-cles", "Chiffres clés", _figures(atlas, sheet, links)),
        ("quartier-et-commune", "Le quartier et sa commune", chart(sheet)),
        ("carte", "Carte", _map(atlas, sheet, map_file)),
        ("geographie-2024", "Les quartiers 2024 de la commune", _geography_2024(atlas, sheet)),
        ("labs", "Travailler ce quartier dans les labs", _labs(atlas, sheet, on_commune, links)),
        ("telecharger", "Télécharger les chiffres",
         f"<p>{link('Les chiffres de cette fiche (CSV)', f'{sheet.code}.csv', 'reference download')} : une ligne par "
         "indicateur, avec sa source, son millésime et sa géographie ; séparateur point-virgule, virgule décimale, "
         f"UTF-8. {link('Tout l’atlas en un fichier', CSV_NAME, 'reference download')}.</p>"),
        ("sources-et-limites", "Sources et limites", _sources(atlas, sheet, links)),
    ]
    title = f"{h(sheet.name)} ({h(sheet.code)})"
    body = _section(f"fiche-{sheet.code.lower()}", title,
                    intro + "".join(_section(a, t, c) for a, t, c in sections), level=1)
    toc = (f'<ul><li><a class="reference internal" href="#">{title}</a><ul>'
           + "".join(f'<li><a class="reference internal" href="#{a}">{t}</a></li>' for a, t, _ in sections)
           + "</ul></li></ul>")
    return title, body, toc


# --- CSV --------------------------------------------------------------------------------------

def csv_text(value: object) -> str:
    """A text cell that a spreadsheet will not run as a formula."""
    text = " ".join(str(value).split())
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def csv_number(value: float | None, decimals: int) -> str:
    if value is None:
        return ""
    # a spreadsheet reads « 1234,5 » as a number, not « 1 234,5 »: no thousands separator
    return format_fr(value, decimals).replace("\u202f", "")


SHEET_COLUMNS = ["code_quartier", "nom_quartier", "rubrique", "code_indicateur", "indicateur", "unite",
                 "valeur_quartier", "statut_quartier", "valeur_commune", "statut_commune", "origine_commune",
                 "mediane_quartiers_fichier", "fichier", "producteur", "millesime", "geographie",
                 "reserve_producteur"]


def _note_text(b: BlockFigures) -> str:
    if b.block.note is None or not b.in_table:
        return ""
    return f"{b.block.note} vide" if b.note_missing else ("" if b.note == 0 else f"{b.block.note}={b.note}")


@functools.lru_cache(maxsize=16)
def _block_columns(atlas: Atlas, table: str, title: str) -> tuple[str, str, str, str]:
    info = _table_info(atlas, table)
    return csv_text(title), table, csv_text(info["producer"]), csv_text(info["vintage"])


def sheet_csv(atlas: Atlas, sheet: Sheet) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(SHEET_COLUMNS)
    name = csv_text(sheet.name)
    for b in sheet.blocks:
        title, table, producer, vintage = _block_columns(atlas, b.block.table, b.block.title)
        note = _note_text(b)
        for line in b.lines:
            ind, c = line.indicator, line.commune
            writer.writerow([
                sheet.code, name, title, ind.id, ind.label, ind.unit,
                csv_number(line.value.value if line.value.shown else None, ind.decimals), line.value.status,
                csv_number(c.value if c is not None and c.status == OK else None, ind.decimals),
                c.status if c is not None else "pas de chiffre communal", c.source if c is not None else "",
                csv_number(line.median, ind.decimals), table, producer, vintage, "quartier prioritaire 2015", note])
    return "\ufeff" + out.getvalue()


def atlas_columns(atlas: Atlas) -> list[tuple[str, str, str, str]]:
    """(column, meaning, unit, table) of the whole atlas's CSV."""
    cols = [("code_quartier", "Code du quartier prioritaire (géographie 2015)", "", ""),
            ("nom_quartier", "Nom du quartier", "", ""),
            ("codes_communes", "Codes des communes (COG 2026) du quartier, séparés par une espace", "", ""),
            ("communes", "Noms des communes du quartier", "", ""),
            ("departements", "Codes des départements", "", ""),
            ("intercommunalites", "Intercommunalités (SIREN et nom)", "", ""),
            ("fiche", "Adresse de la fiche dans le site", "", "")]
    for b in BLOCKS:
        if b.note:
            cols.append((f"reserve_{b.id}", f"Code de qualité du producteur ({b.note}) pour « {b.title} » ; vide : "
                         "non donné ou quartier absent du fichier", "", b.table))
        for ind in b.indicators:
            cols.append((ind.id, f"{ind.label} — quartier", ind.unit, b.table))
            if ind.commune:
                origin = "même fichier" if ind.commune[0] == "table" else "allocataires CNAF par IRIS (caf_iris_2020)"
                cols.append((f"{ind.id}_commune", f"{ind.label} — commune(s) englobante(s), {origin}", ind.unit,
                             b.table if ind.commune[0] == "table" else "caf_iris_2020"))
    return cols


def atlas_csv(atlas: Atlas) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    columns = atlas_columns(atlas)
    writer.writerow([c[0] for c in columns])
    for code in atlas.sheet_codes():
        s = atlas.sheets[code]
        row = {"code_quartier": s.code, "nom_quartier": csv_text(s.name),
               "codes_communes": " ".join(c for c, _ in s.communes),
               "communes": csv_text(", ".join(n for _, n in s.communes)),
               "departements": " ".join(c for c, _ in s.departements),
               "intercommunalites": csv_text(", ".join(f"{c} {n}" for c, n in s.epcis)),
               "fiche": f"{ATLAS_DIR}/{s.code}.html"}
        for b in s.blocks:
            if b.block.note:
                row[f"reserve_{b.block.id}"] = "" if (b.note_missing or not b.in_table) else str(b.note)
            for line in b.lines:
                ind = line.indicator
                row[ind.id] = csv_number(line.value.value if line.value.shown else None, ind.decimals)
                if ind.commune:
                    c = line.commune
                    row[f"{ind.id}_commune"] = csv_number(c.value if c is not None and c.status == OK else None,
                                                          ind.decimals)
        writer.writerow([row.get(c[0], "") for c in columns])
    return "\ufeff" + out.getvalue()


def dictionary_csv(atlas: Atlas) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(["colonne", "signification", "unite", "fichier", "producteur", "millesime"])
    for column, meaning, unit, table in atlas_columns(atlas):
        info = _table_info(atlas, table) if table in atlas.resources else {"producer": "", "vintage": ""}
        writer.writerow([column, csv_text(meaning), unit, table, csv_text(info["producer"]), csv_text(info["vintage"])])
    return "\ufeff" + out.getvalue()


# --- the index: by department and commune, with a search ---------------------------------------

_INDEX_STYLE = """<style>
.dq-atlas-recherche{border:1px solid var(--pst-color-border,#ccc);border-radius:.25rem;padding:.75rem 1rem;margin:1rem 0}
.dq-atlas-recherche label{display:block;font-weight:600}
.dq-atlas-recherche input{width:100%;max-width:32rem;padding:.3rem .5rem;font-size:1rem}
.dq-atlas-dep summary{cursor:pointer;padding:.2rem 0}
.dq-atlas-dep summary h3{display:inline;font-size:1.1rem;margin:0}
.dq-atlas-communes{list-style:none;padding-left:1rem}
.dq-atlas-communes>li{margin:.4rem 0}
.dq-atlas-origine{font-size:.85em}
</style>"""

#: The search: no server, no library. The same folding as `model.fold` (accents, case, punctuation).
_INDEX_SCRIPT = """<script>
(function () {
  var champ = document.getElementById("dq-atlas-q");
  var bilan = document.getElementById("dq-atlas-bilan");
  var zone = document.getElementById("dq-atlas-recherche");
  if (!champ || !bilan || !zone) { return; }
  var deps = Array.prototype.slice.call(document.querySelectorAll("details.dq-atlas-dep"));
  var communes = Array.prototype.slice.call(document.querySelectorAll("li.dq-atlas-commune"));
  function plier(texte) {
    return texte.replace(/œ/g, "oe").replace(/Œ/g, "OE").replace(/æ/g, "ae").replace(/Æ/g, "AE")
      .normalize("NFKD").replace(/[\\u0300-\\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, " ").trim();
  }
  function mots(texte) {
    return plier(texte).split(" ").filter(function (m) { return m; }).map(function (m) {
      return m === "st" ? "saint" : (m === "ste" ? "sainte" : m);
    });
  }
  function chercher() {
    var demande = mots(champ.value);
    if (!demande.length) {
      communes.forEach(function (li) { li.hidden = false; });
      deps.forEach(function (d) { d.hidden = false; d.open = false; });
      bilan.textContent = "";
      return;
    }
    var trouvees = 0, fiches = 0;
    communes.forEach(function (li) {
      var texte = " " + li.getAttribute("data-recherche") + " ";
      var garde = demande.every(function (m) { return texte.indexOf(" " + m) !== -1; });
      li.hidden = !garde;
      if (garde) { trouvees += 1; fiches += li.querySelectorAll("a.dq-atlas-fiche").length; }
    });
    deps.forEach(function (d) {
      var visible = d.querySelector("li.dq-atlas-commune:not([hidden])") !== null;
      d.hidden = !visible;
      d.open = visible;
    });
    bilan.textContent = trouvees === 0 ? "Aucune commune ni aucun quartier ne correspond." :
      trouvees + (trouvees > 1 ? " communes trouvées" : " commune trouvée") + ", " + fiches +
      (fiches > 1 ? " fiches" : " fiche") + " de quartier. Tabulation pour parcourir les résultats.";
  }
  champ.addEventListener("input", chercher);
  champ.addEventListener("keydown", function (e) {
    if (e.key === "Enter") {
      e.preventDefault();
      var premier = document.querySelector("li.dq-atlas-commune:not([hidden]) a");
      if (premier) { premier.focus(); }
    }
  });
  function ouvrirCible() {
    var cible = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
    var d = cible ? cible.closest("details") : null;
    if (d) { d.open = true; cible.scrollIntoView(); }
  }
  window.addEventListener("hashchange", ouvrirCible);
  zone.hidden = false;
  ouvrirCible();
  if (champ.value) { chercher(); }
})();
</script>"""


def _commune_entry(atlas: Atlas, commune: Commune) -> str:
    words = [commune.name, commune.code, atlas.departements.get(commune.departement, ""), commune.departement,
             commune.epci]
    words += list(commune.arrondissements.values())
    items = []
    for code in sorted(commune.sheets, key=lambda c: fold(atlas.sheets[c].name)):
        s = atlas.sheets[code]
        words += [s.name, s.code]
        where = [n for c, n in s.communes if c in commune.arrondissements]
        where_text = f" — {h(', '.join(where))}" if where else ""
        pop = s.population
        pop_text = f", {format_fr(pop.value, 0, 'habitants')}" if pop.shown else ""
        items.append(f'<li><a class="reference internal dq-atlas-fiche" href="{h(code)}.html">{h(s.name)}</a> '
                     f"({h(code)}{pop_text}){where_text}</li>")
    for n in commune.neighbourhoods_2024:
        words += [n.name, n.code]
    sheets = (f"<p>Fiches des quartiers 2015 :</p><ul>{''.join(items)}</ul>" if items else
              "<p>Pas de fiche : la commune n'avait pas de quartier prioritaire en 2015, et les fichiers nationaux "
              "du livre ne décrivent que la géographie 2015.</p>")
    new = ""
    if commune.neighbourhoods_2024:
        new = ("<p>Quartiers 2024 (pas de chiffres dans le livre) : "
               + ", ".join(f"{h(n.name)} ({h(n.code)})" for n in commune.neighbourhoods_2024) + ".</p>")
    epci = f" — {h(commune.epci)}" if commune.epci else ""
    return (f'<li class="dq-atlas-commune" id="{commune_anchor(commune.code)}" data-recherche="{h(fold(" ".join(words)))}">'
            f"<p><strong>{h(commune.name)}</strong> ({h(commune.code)}){epci}</p>{sheets}{new}</li>")


def _departement_key(code: str) -> tuple:
    return (len(code) > 2 and code.startswith("97"), code.replace("2A", "20A").replace("2B", "20B"))


def index_html(atlas: Atlas) -> str:
    by_dep: dict[str, list[Commune]] = {}
    for commune in atlas.communes.values():
        by_dep.setdefault(commune.departement, []).append(commune)
    n_2024 = len({n.code for c in atlas.communes.values() for n in c.neighbourhoods_2024})
    parts = [_INDEX_STYLE,
             f"<p>L'atlas compte {format_fr(len(atlas.sheets), 0)} fiches de quartiers prioritaires 2015, dans "
             f"{format_fr(sum(1 for c in atlas.communes.values() if c.sheets), 0)} communes, et liste "
             f"{format_fr(n_2024, 0)} quartiers 2024.</p>",
             '<div class="dq-atlas-recherche" id="dq-atlas-recherche" role="search" hidden>'
             '<label for="dq-atlas-q">Rechercher une commune, un quartier ou un code</label>'
             '<input type="search" id="dq-atlas-q" autocomplete="off" spellcheck="false" '
             'aria-describedby="dq-atlas-aide dq-atlas-bilan">'
             '<p id="dq-atlas-aide">Accents et majuscules facultatifs : « venissieux », « grande ile », '
             "« QP013003 ». Entrée : aller au premier résultat.</p>"
             '<p id="dq-atlas-bilan" role="status" aria-live="polite"></p></div>']
    for dep in sorted(by_dep, key=_departement_key):
        communes = sorted(by_dep[dep], key=lambda c: fold(c.name))
        n_sheets = sum(len(c.sheets) for c in communes)
        parts.append(f'<details class="dq-atlas-dep" id="departement-{h(dep)}"><summary><h3>'
                     f"{h(atlas.departements.get(dep, dep))} ({h(dep)})</h3> — {len(communes)} "
                     f"commune{'s' if len(communes) > 1 else ''}, {n_sheets} fiche{'s' if n_sheets > 1 else ''}"
                     f'</summary><ul class="dq-atlas-communes">'
                     + "".join(_commune_entry(atlas, c) for c in communes) + "</ul></details>")
    parts.append(_INDEX_SCRIPT)
    return "\n".join(parts)

