"""The templates of the training part, from one Markdown source to three forms: .docx, .odt, the page.

A template (`training/modeles/textes/<id>.md`) is plain Markdown, the form people download and edit
in any text editor. It is parsed once (markdown-it, CommonMark plus tables, no raw HTML) into a
small document model — headings, paragraphs, lists, tables, quotes; bold, italics, links — and
that model is written three ways: a Word document (python-docx), an OpenDocument text (odfpy) and
docutils nodes for the book's page, so the page shows exactly what the files contain.

What a template may hold is narrow on purpose, and anything else is refused with a French message
naming the file and the line: no code, no image, no raw HTML, no address outside the register of
legal texts (`training/textes-juridiques.yml`), and a first block that says the text is a model to
have reviewed by the structure's legal adviser.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

#: Every template opens with a quote that says this (checked, and kept in every form).
REVIEW_NOTICE = "Modèle à faire relire par le ou la juriste de votre structure"


class DocumentError(ValueError):
    """A template cannot be turned into documents; the message is French and names the file."""


# --- the model ------------------------------------------------------------------------------

@dataclass
class Inline:
    kind: str  # "text", "strong", "em", "link", "break"
    text: str = ""
    url: str = ""
    children: list["Inline"] = field(default_factory=list)

    def plain(self) -> str:
        if self.kind == "text":
            return self.text
        if self.kind == "break":
            return " "
        return "".join(c.plain() for c in self.children)


@dataclass
class Block:
    kind: str  # "heading", "para", "list", "table", "quote"
    level: int = 0  # heading level
    ordered: bool = False
    inlines: list[Inline] = field(default_factory=list)
    items: list[list["Block"]] = field(default_factory=list)  # list items; a quote's blocks in items[0]
    rows: list[list[list[Inline]]] = field(default_factory=list)  # table rows (the first is the header)

    def plain(self) -> str:
        if self.kind in ("heading", "para"):
            return "".join(i.plain() for i in self.inlines)
        if self.kind == "table":
            return "\n".join(" | ".join("".join(i.plain() for i in cell) for cell in row) for row in self.rows)
        return "\n".join(b.plain() for item in self.items for b in item)


def _parser(html: bool) -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": html, "linkify": True}).enable(["table", "linkify"])


def _inlines(tokens: list[Token], where, allowed_urls: set[str]) -> list[Inline]:
    root: list[Inline] = []
    stack = [root]
    for tok in tokens:
        if tok.type == "text":
            stack[-1].append(Inline("text", tok.content))
        elif tok.type in ("softbreak", "hardbreak"):
            stack[-1].append(Inline("break"))
        elif tok.type in ("strong_open", "em_open", "link_open"):
            node = Inline(tok.type.split("_")[0])
            if tok.type == "link_open":
                node.url = str(tok.attrGet("href") or "")
                if node.url not in allowed_urls:
                    raise DocumentError(f"{where(tok)} : l'adresse « {node.url} » n'est pas dans le registre des textes "
                                        "juridiques (training/textes-juridiques.yml) : ajoutez-l'y avec sa vérification, "
                                        "ou retirez le lien")
            stack[-1].append(node)
            stack.append(node.children)
        elif tok.type in ("strong_close", "em_close", "link_close"):
            stack.pop()
        elif tok.type == "code_inline":
            raise DocumentError(f"{where(tok)} : pas de code (`…`) dans un modèle : écrivez le texte tel quel")
        elif tok.type == "image":
            raise DocumentError(f"{where(tok)} : pas d'image dans un modèle")
        else:  # pragma: no cover - CommonMark inline tokens are all handled above
            raise DocumentError(f"{where(tok)} : élément « {tok.type} » non pris en charge dans un modèle")
    return root


def parse_markdown(text: str, shown: str, allowed_urls: set[str] = frozenset()) -> list[Block]:
    """A template's Markdown → blocks; DocumentError (French, with the line) for what a template may not hold."""
    for tok in _parser(html=True).parse(text):
        if tok.type in ("html_block", "html_inline") or any(c.type == "html_inline" for c in tok.children or []):
            line = (tok.map[0] + 1) if tok.map else "?"
            raise DocumentError(f"{shown} : ligne {line} : pas de HTML dans un modèle (écrivez « < » autrement, "
                                "par exemple « inférieur à »)")
    tokens = _parser(html=False).parse(text)
    line_of = {"line": 0}

    def where(tok: Token | None = None) -> str:
        if tok is not None and tok.map:
            line_of["line"] = tok.map[0] + 1
        return f"{shown} : ligne {line_of['line']}"

    pos = 0

    def blocks_until(closing: str | None) -> list[Block]:
        nonlocal pos
        out: list[Block] = []
        while pos < len(tokens):
            tok = tokens[pos]
            if closing and tok.type == closing:
                pos += 1
                return out
            where(tok)
            if tok.type == "heading_open":
                level = int(tok.tag[1])
                if level > 3:
                    raise DocumentError(f"{where(tok)} : titre de niveau {level} : un modèle s'arrête au niveau 3 (###)")
                out.append(Block("heading", level=level, inlines=_inlines(tokens[pos + 1].children, where, allowed_urls)))
                pos += 3
            elif tok.type == "paragraph_open":
                out.append(Block("para", inlines=_inlines(tokens[pos + 1].children, where, allowed_urls)))
                pos += 3
            elif tok.type in ("bullet_list_open", "ordered_list_open"):
                block = Block("list", ordered=tok.type.startswith("ordered"))
                end = tok.type.replace("_open", "_close")
                pos += 1
                while tokens[pos].type != end:
                    pos += 1  # list_item_open
                    block.items.append(blocks_until("list_item_close"))
                pos += 1
                out.append(block)
            elif tok.type == "blockquote_open":
                pos += 1
                out.append(Block("quote", items=[blocks_until("blockquote_close")]))
            elif tok.type == "table_open":
                block = Block("table")
                pos += 1
                row: list[list[Inline]] = []
                while tokens[pos].type != "table_close":
                    t = tokens[pos]
                    if t.type in ("th_open", "td_open"):
                        row.append(_inlines(tokens[pos + 1].children, where, allowed_urls))
                        pos += 3
                        continue
                    if t.type == "tr_close":
                        block.rows.append(row)
                        row = []
                    pos += 1
                pos += 1
                out.append(block)
            elif tok.type in ("fence", "code_block"):
                raise DocumentError(f"{where(tok)} : pas de bloc de code dans un modèle")
            elif tok.type == "hr":
                raise DocumentError(f"{where(tok)} : pas de ligne de séparation (---) dans un modèle : commencez plutôt "
                                    "une nouvelle partie par un titre (##)")
            else:
                raise DocumentError(f"{where(tok)} : élément « {tok.type} » non pris en charge dans un modèle")
        return out

    blocks = blocks_until(None)
    if not blocks or blocks[0].kind != "heading" or blocks[0].level != 1:
        raise DocumentError(f"{shown} : un modèle commence par son titre (une ligne « # Titre »)")
    if len(blocks) < 2 or blocks[1].kind != "quote" or REVIEW_NOTICE not in blocks[1].plain():
        raise DocumentError(f"{shown} : sous le titre, un modèle porte l'avertissement « > {REVIEW_NOTICE} … »")
    return blocks


def title_of(blocks: list[Block]) -> str:
    return blocks[0].plain()


def plain_text(blocks: list[Block]) -> str:
    return "\n".join(b.plain() for b in blocks)


# --- Word (.docx) ---------------------------------------------------------------------------

def to_docx(blocks: list[Block]) -> bytes:
    from docx import Document
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    doc = Document()
    doc.core_properties.title = title_of(blocks)
    doc.core_properties.language = "fr-FR"
    doc.core_properties.author = "Data & Quartiers"
    # French spelling and hyphenation for the whole document (the default style's language).
    rpr = doc.styles["Normal"].element.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "fr-FR")
    rpr.append(lang)

    def runs(paragraph, inlines: list[Inline], bold=False, italic=False):
        for node in inlines:
            if node.kind == "text":
                run = paragraph.add_run(node.text)
                run.bold, run.italic = bold or None, italic or None
            elif node.kind == "break":
                paragraph.add_run(" ")
            elif node.kind in ("strong", "em"):
                runs(paragraph, node.children, bold or node.kind == "strong", italic or node.kind == "em")
            elif node.kind == "link":
                rel = paragraph.part.relate_to(node.url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
                link = OxmlElement("w:hyperlink")
                link.set(qn("r:id"), rel)
                run = OxmlElement("w:r")
                props = OxmlElement("w:rPr")
                style = OxmlElement("w:u")
                style.set(qn("w:val"), "single")
                props.append(style)
                run.append(props)
                text = OxmlElement("w:t")
                text.text = node.plain()
                text.set(qn("xml:space"), "preserve")
                run.append(text)
                link.append(run)
                paragraph._p.append(link)

    def write(items: list[Block], depth: int = 0, quote: bool = False):
        for block in items:
            if block.kind == "heading":
                runs(doc.add_heading(level=block.level - 1 if block.level > 1 else 0), block.inlines)
            elif block.kind == "para":
                runs(doc.add_paragraph(style="Quote" if quote else None), block.inlines)
            elif block.kind == "quote":
                write(block.items[0], depth, quote=True)
            elif block.kind == "list":
                base = "List Number" if block.ordered else "List Bullet"
                style = base if depth == 0 else f"{base} {min(depth + 1, 3)}"
                for item in block.items:
                    first, rest = (item[0], item[1:]) if item and item[0].kind == "para" else (None, item)
                    runs(doc.add_paragraph(style=style), first.inlines if first else [])
                    write(rest, depth + 1, quote)
            elif block.kind == "table":
                table = doc.add_table(rows=len(block.rows), cols=max(len(r) for r in block.rows), style="Table Grid")
                for r, row in enumerate(block.rows):
                    for c, cell in enumerate(row):
                        runs(table.cell(r, c).paragraphs[0], cell, bold=(r == 0))

    write(blocks)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# --- OpenDocument (.odt) --------------------------------------------------------------------

def to_odt(blocks: list[Block]) -> bytes:
    from odf import dc, meta
    from odf.opendocument import OpenDocumentText
    from odf.style import (ListLevelProperties, ParagraphProperties, Style, TableCellProperties,
                           TableColumnProperties, TextProperties)
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import A, H, List, ListItem, ListLevelStyleBullet, ListLevelStyleNumber, ListStyle, P, Span

    doc = OpenDocumentText()
    doc.meta.addElement(dc.Title(text=title_of(blocks)))
    doc.meta.addElement(dc.Language(text="fr-FR"))
    doc.meta.addElement(meta.InitialCreator(text="Data & Quartiers"))
    default = Style(name="Standard", family="paragraph")
    default.addElement(TextProperties(language="fr", country="FR", fontsize="11pt"))
    default.addElement(ParagraphProperties(marginbottom="0.2cm"))
    doc.styles.addElement(default)
    headings = {}
    for level, size in ((1, "18pt"), (2, "14pt"), (3, "12pt")):
        st = Style(name=f"Heading_20_{level}", displayname=f"Heading {level}", family="paragraph",
                   parentstylename="Standard", defaultoutlinelevel=str(level))
        st.addElement(TextProperties(fontsize=size, fontweight="bold", language="fr", country="FR"))
        st.addElement(ParagraphProperties(margintop="0.4cm", marginbottom="0.2cm", keepwithnext="always"))
        doc.styles.addElement(st)
        headings[level] = st
    quote = Style(name="Quotations", family="paragraph", parentstylename="Standard")
    quote.addElement(ParagraphProperties(marginleft="1cm", marginright="1cm", padding="0.2cm", border="0.5pt solid #555555"))
    quote.addElement(TextProperties(fontstyle="italic"))
    doc.styles.addElement(quote)
    bold = Style(name="Gras", family="text")
    bold.addElement(TextProperties(fontweight="bold"))
    italic = Style(name="Italique", family="text")
    italic.addElement(TextProperties(fontstyle="italic"))
    bold_italic = Style(name="GrasItalique", family="text")
    bold_italic.addElement(TextProperties(fontweight="bold", fontstyle="italic"))
    cell_style = Style(name="Cellule", family="table-cell")
    cell_style.addElement(TableCellProperties(border="0.5pt solid #000000", padding="0.1cm"))
    column = Style(name="Colonne", family="table-column")
    column.addElement(TableColumnProperties(columnwidth="5cm"))
    for st in (bold, italic, bold_italic, cell_style, column):
        doc.automaticstyles.addElement(st)
    lists = {}
    for ordered in (False, True):
        ls = ListStyle(name="Numerotation" if ordered else "Puces")
        for lvl in range(1, 4):
            props = ListLevelProperties(spacebefore=f"{0.6 * lvl:.1f}cm", minlabelwidth="0.6cm")
            level_style = (ListLevelStyleNumber(level=lvl, numsuffix=".", numformat="1") if ordered
                           else ListLevelStyleBullet(level=lvl, bulletchar="•"))
            level_style.addElement(props)
            ls.addElement(level_style)
        doc.automaticstyles.addElement(ls)
        lists[ordered] = ls

    def fill(element, inlines: list[Inline], strong=False, em=False):
        for node in inlines:
            if node.kind == "text":
                if strong or em:
                    element.addElement(Span(stylename=bold_italic if strong and em else (bold if strong else italic),
                                            text=node.text))
                else:
                    element.addText(node.text)
            elif node.kind == "break":
                element.addText(" ")
            elif node.kind in ("strong", "em"):
                fill(element, node.children, strong or node.kind == "strong", em or node.kind == "em")
            elif node.kind == "link":
                link = A(type="simple", href=node.url)
                fill(link, node.children, strong, em)
                element.addElement(link)

    def write(parent, items: list[Block], in_quote: bool = False):
        for block in items:
            if block.kind == "heading":
                h = H(outlinelevel=block.level, stylename=headings[block.level])
                fill(h, block.inlines)
                parent.addElement(h)
            elif block.kind == "para":
                p = P(stylename=quote if in_quote else default)
                fill(p, block.inlines)
                parent.addElement(p)
            elif block.kind == "quote":
                write(parent, block.items[0], True)
            elif block.kind == "list":
                lst = List(stylename=lists[block.ordered])
                for item in block.items:
                    li = ListItem()
                    write(li, item, in_quote)
                    lst.addElement(li)
                parent.addElement(lst)
            elif block.kind == "table":
                table = Table(name=f"Tableau{id(block) % 10000}")
                table.addElement(TableColumn(numbercolumnsrepeated=max(len(r) for r in block.rows), stylename=column))
                for r, row in enumerate(block.rows):
                    tr = TableRow()
                    for cell in row:
                        tc = TableCell(stylename=cell_style, valuetype="string")
                        p = P(stylename=default)
                        fill(p, cell, strong=(r == 0))
                        tc.addElement(p)
                        tr.addElement(tc)
                    table.addElement(tr)
                parent.addElement(table)

    write(doc.text, blocks)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


# --- the book's page (docutils) -------------------------------------------------------------

def to_docutils(blocks: list[Block], section_ids) -> list:
    """The template as docutils nodes: its headings become real sections under the caller's level.

    `section_ids(title)` gives each section a unique id (the caller knows the document).
    The first block (the template's title) is left to the page.
    """
    from docutils import nodes

    def inline_nodes(inlines: list[Inline]) -> list:
        out = []
        for node in inlines:
            if node.kind == "text":
                out.append(nodes.Text(node.text))
            elif node.kind == "break":
                out.append(nodes.Text(" "))
            elif node.kind == "strong":
                out.append(nodes.strong("", "", *inline_nodes(node.children)))
            elif node.kind == "em":
                out.append(nodes.emphasis("", "", *inline_nodes(node.children)))
            elif node.kind == "link":
                out.append(nodes.reference("", "", *inline_nodes(node.children), refuri=node.url))
        return out

    def body(items: list[Block]) -> list:
        out = []
        for block in items:
            if block.kind == "para":
                out.append(nodes.paragraph("", "", *inline_nodes(block.inlines)))
            elif block.kind == "quote":
                out.append(nodes.block_quote("", *body(block.items[0])))
            elif block.kind == "list":
                lst = nodes.enumerated_list(enumtype="arabic", prefix="", suffix=".") if block.ordered else nodes.bullet_list(bullet="-")
                for item in block.items:
                    lst += nodes.list_item("", *body(item))
                out.append(lst)
            elif block.kind == "table":
                cols = max(len(r) for r in block.rows)
                group = nodes.tgroup(cols=cols)
                group += [nodes.colspec(colwidth=1) for _ in range(cols)]
                head, tbody = nodes.thead(), nodes.tbody()
                for r, row in enumerate(block.rows):
                    tr = nodes.row()
                    for cell in row:
                        tr += nodes.entry("", nodes.paragraph("", "", *inline_nodes(cell)))
                    (head if r == 0 else tbody).append(tr)
                group += [head, tbody]
                out.append(nodes.table("", group, classes=["dq-modele-tableau"]))
        return out

    top: list = []
    stack: list[tuple[int, object]] = [(1, top)]  # (heading level, where its content goes: a list or a section)
    pending: list[Block] = []

    def flush():
        stack[-1][1].extend(body(pending))
        pending.clear()

    for block in blocks[1:]:
        if block.kind != "heading":
            pending.append(block)
            continue
        flush()
        while stack[-1][0] >= block.level:
            stack.pop()
        title = "".join(i.plain() for i in block.inlines)
        sec = nodes.section(ids=[section_ids(title)], names=[nodes.fully_normalize_name(title)])
        sec += nodes.title("", "", *inline_nodes(block.inlines))
        stack[-1][1].append(sec)
        stack.append((block.level, sec))
    flush()
    return top
