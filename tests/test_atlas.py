"""The atlas of neighbourhoods (booktools.atlas): one sheet per priority neighbourhood of the national tables.

The expected figures are read from the CSV files themselves with the csv module (not through the
atlas's code), so that a wrong column, share or rounding in the atlas shows up. The pages are those
of a small book holding only the atlas (`booktools.atlas.bench.sample_book`: same extension, same
theme, the book's data), built once for the module.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from booktools.atlas import labs as atlas_labs
from booktools.atlas.bench import build, pages_size, sample_book
from booktools.atlas.model import (BLOCKS, MASKED, TABLES, build_atlas, find_overlap_resource, fold, indicators,
                                   similar_names)
from booktools.atlas.pages import CSV_NAME, DICTIONARY_NAME, render_sheet, sheet_csv
from booktools.atlas.sphinx_ext import TIMING_FILE
from dataquartiers import data, secrecy
from dataquartiers.indicators import format_fr

REPO = Path(__file__).resolve().parent.parent
DATASETS = REPO / "datasets"
OVERLAP = "qpv_2015_2024_marseille"  # the derived overlap table of datasets/
EXTERNAL = re.compile(r"^(https?:)?//", re.I)


def raw_rows(name: str, folder: Path = DATASETS) -> dict[str, dict[str, str]]:
    """A national table as published in datasets/: code → {column: text}, read with the csv module."""
    path = folder / data.resources(folder)[name]["path"]
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["CODGEO"]: row for row in csv.DictReader(handle)}


def count_fields(name: str) -> set[str]:
    return set(data.count_columns(name, DATASETS))


def expected_text(ind, table: str, row: dict[str, str] | None) -> str:
    """What the sheet must show for one indicator, computed from the raw CSV."""
    if row is None:
        return "absent du fichier"
    counts = count_fields(table)
    cols = [ind.column] + ([ind.denominator] if ind.denominator else [])
    texts = [row[c] for c in cols]
    if any(c in counts and t != "" and 0 < float(t) < 11 for c, t in zip(cols, texts)):
        return secrecy.MASK_LABEL
    if any(t == "" for t in texts):
        return "non diffusé"
    if ind.denominator:
        den = float(texts[1])
        return format_fr(100 * float(texts[0]) / den, ind.decimals, ind.unit) if den else "non diffusé"
    return format_fr(float(texts[0]), ind.decimals, ind.unit)


def sheet_rows(page: Path | str) -> dict[str, list[str]]:
    """indicator id → the texts of its row's cells (neighbourhood, commune, median), from a page or a body."""
    text = page.read_text(encoding="utf-8") if isinstance(page, Path) else page
    soup = BeautifulSoup(text, "html.parser")
    return {tr["data-indicateur"]: [td.get_text(" ", strip=True) for td in tr.find_all("td")]
            for tr in soup.select("tr[data-indicateur]")}


def datasets_copy(tmp: Path) -> Path:
    """A copy of the book's data package, to change without touching the repository."""
    folder = tmp / "datasets"
    shutil.copytree(DATASETS, folder, ignore=shutil.ignore_patterns("index.md"))
    return folder


# --- the model, on the book's data ------------------------------------------------------------

@pytest.fixture(scope="module")
def atlas():
    return build_atlas(DATASETS)


def test_every_neighbourhood_of_the_national_tables_has_a_sheet(atlas):
    codes = set()
    for table in TABLES:
        codes |= set(raw_rows(table))
    assert len(codes) >= 1400
    assert set(atlas.sheets) == codes


def test_sheets_are_keyed_on_2015_codes_and_2024_neighbourhoods_are_listed_by_commune(atlas):
    sheet = atlas.sheets["QP013003"]  # Saint Henri, Marseille 16e
    assert sheet.territory_communes == [("13055", "Marseille")]
    assert ("200054807", "Métropole d'Aix-Marseille-Provence") in sheet.epcis
    listed = {x.code for x in sheet.links_2024}
    with (DATASETS / "qpv" / "qp2024_liste_communes.csv").open(encoding="utf-8") as handle:
        marseille_2024 = {r["code_qp"] for r in csv.DictReader(handle) if r["insee_com"] == "13055"}
    assert listed == marseille_2024
    # Marseille has the derived overlap table: its links are measured; elsewhere a same-name link
    # is a guess, shown as such
    assert next(x for x in sheet.links_2024 if x.code == "QN01303I").kind == "recouvrement"
    assert {x.kind for x in sheet.links_2024} <= {"recouvrement", "commune"}
    bourg = atlas.sheets["QP001001"]  # Grande Reyssouze, Bourg-en-Bresse: no overlap table there
    assert {x.kind for x in bourg.links_2024} <= {"nom", "commune"}
    assert "nom" in {x.kind for x in bourg.links_2024}
    # a commune with 2024 neighbourhoods only is in the index, without sheet
    only_2024 = [c for c in atlas.communes.values() if not c.sheets]
    assert only_2024 and all(c.neighbourhoods_2024 for c in only_2024)


def test_name_matching_is_a_guess_on_meaningful_words():
    assert similar_names("Saint Henri", "Saint-Henri")
    assert not similar_names("Saint Henri", "Saint Thys")  # "saint" alone says nothing
    assert similar_names("Le Mas du Taureau", "Mas du Taureau - Pré de l'Herpe")
    assert fold("Vénissieux — Œuvre d'Étienne") == "venissieux oeuvre d etienne"


def test_a_measured_overlap_is_shown_as_a_reliable_link(atlas):
    assert find_overlap_resource(data.resources(DATASETS)) == OVERLAP
    sheet = atlas.sheets["QP013003"]
    first = sheet.links_2024[0]
    assert (first.code, first.kind) == ("QN01303I", "recouvrement")
    assert first.part_of_2015 == pytest.approx(0.9955)
    _, body, _ = render_sheet(atlas, sheet, [], None)
    assert "Lien établi par superposition des contours" in body
    assert format_fr(100 * 0.9955, 1, "%") in body  # share of Saint Henri 2015 inside QN01303I


def test_without_the_overlap_table_a_same_name_link_is_a_guess(tmp_path):
    folder = datasets_copy(tmp_path)
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    package["resources"] = [r for r in package["resources"] if r["name"] != OVERLAP]
    (folder / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
    assert find_overlap_resource(data.resources(folder)) is None
    atlas = build_atlas(folder)
    sheet = atlas.sheets["QP013003"]
    guess = next(x for x in sheet.links_2024 if x.code == "QN01303I")  # also « Saint Henri »
    assert guess.kind == "nom"
    _, body, _ = render_sheet(atlas, sheet, [], None)
    assert "Lien établi par superposition des contours" not in body
    assert "non fiable" in body


def test_figures_equal_the_source_tables_on_a_sample_of_sheets(atlas):
    """Model level, every indicator of 40 sheets drawn at random (seeded) plus Saint Henri."""
    rng = random.Random(17)
    codes = ["QP013003"] + rng.sample(sorted(atlas.sheets), 40)
    raws = {t: raw_rows(t) for t in TABLES}
    checked = 0
    for code in codes:
        _, body, _ = render_sheet(atlas, atlas.sheets[code], [], None)
        page = BeautifulSoup(body, "html.parser")
        for block in BLOCKS:
            row = raws[block.table].get(code)
            for ind in block.indicators:
                tr = page.select_one(f'tr[data-indicateur="{ind.id}"]')
                if row is None:
                    assert tr is None  # the whole file is said absent
                    continue
                assert tr.find("td").get_text(" ", strip=True) == expected_text(ind, block.table, row), (code, ind.id)
                checked += 1
    assert checked > 1000


def test_commune_figures_equal_the_sources(atlas):
    sheet = atlas.sheets["QP013003"]
    demo = raw_rows("qpv_demographie")["QP013003"]
    assert sheet.line("population").commune.value == float(demo["POP_COM"])
    # CNAF by IRIS, summed over the IRIS of the 16th arrondissement where both counts are published
    with (DATASETS / "insee" / "caf_2020_iris_france.csv").open(encoding="utf-8") as handle:
        iris = [r for r in csv.DictReader(handle) if r["CODGEO"].startswith("13216")]
    both = [r for r in iris if r["AM"] and r["A"]]
    expected = 100 * sum(float(r["AM"]) for r in both) / sum(float(r["A"]) for r in both)
    line = sheet.line("part_monoparents")
    assert line.commune.value == pytest.approx(expected)
    assert line.commune.source == f"CNAF 2020, somme de {len(both)} IRIS diffusés sur {len(iris)}"


def test_medians_are_those_of_the_neighbourhoods_of_the_file(atlas):
    values = sorted(float(r["TP60"]) for r in raw_rows("qpv_revenus_c2s").values() if r["TP60"])
    n = len(values)
    median = values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2
    assert atlas.sheets["QP013003"].line("taux_pauvrete").median == pytest.approx(median)


def test_small_counts_and_shares_computed_from_them_are_masked(tmp_path):
    folder = datasets_copy(tmp_path)
    path = folder / "qpv" / "qp2015_demographie_DEMO_2022.csv"
    text = path.read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    for i, line in enumerate(text):
        if line.startswith("QP013003,"):
            cells = line.split(",")
            cells[header.index("AM")] = "7"  # 7 single-parent households: under 11
            cells[header.index("A")] = "9"
            text[i] = ",".join(cells)
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    atlas = build_atlas(folder)
    sheet = atlas.sheets["QP013003"]
    assert sheet.line("allocataires").value.status == MASKED
    assert sheet.line("part_monoparents").value.status == MASKED
    _, body, _ = render_sheet(atlas, sheet, [], None)
    cells = sheet_rows(body)
    assert cells["allocataires"][0] == secrecy.MASK_LABEL
    assert cells["part_monoparents"][0] == secrecy.MASK_LABEL
    assert "\n".join(l for l in sheet_csv(atlas, sheet).splitlines() if ";part_monoparents;" in l).count(";masqué;") == 1


def test_quality_flags_become_visible_warnings(atlas):
    flagged = [code for code, row in raw_rows("qpv_demographie").items() if row["NOTE_CNAF"] not in ("", "0")]
    assert flagged
    for code in flagged[:5]:
        _, body, _ = render_sheet(atlas, atlas.sheets[code], [], None)
        soup = BeautifulSoup(body, "html.parser")
        warnings = [d.get_text(" ", strip=True) for d in soup.select("div.admonition.warning")]
        assert any("NOTE_CNAF" in w and "Réserve du producteur" in w for w in warnings), code


def test_texts_from_the_data_are_escaped_in_pages_and_csv(tmp_path):
    folder = datasets_copy(tmp_path)
    for table in TABLES:
        path = folder / data.resources(folder)[table]["path"]
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        for row in rows[1:]:
            if row[0] == "QP013003":
                row[1] = "=HYPERLINK(\"x\") <script>alert(1)</script> & *Saint*"
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        path.write_text(out.getvalue(), encoding="utf-8")
    atlas = build_atlas(folder)
    title, body, toc = render_sheet(atlas, atlas.sheets["QP013003"], [], None)
    assert "<script>alert(1)</script>" not in body + title + toc
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; *Saint*" in title
    sheet_file = list(csv.reader(io.StringIO(sheet_csv(atlas, atlas.sheets["QP013003"]).lstrip("\ufeff")), delimiter=";"))
    assert sheet_file[1][1].startswith("'=HYPERLINK")  # a spreadsheet shows it, does not run it


def test_a_missing_table_gives_a_french_message_naming_the_resource(tmp_path):
    from booktools.atlas.model import AtlasDataError

    folder = datasets_copy(tmp_path)
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    package["resources"] = [r for r in package["resources"] if r["name"] != "qpv_emploi"]
    (folder / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    with pytest.raises(AtlasDataError, match="l'atlas a besoin de la ressource « qpv_emploi », absente"):
        build_atlas(folder)


# --- labs -------------------------------------------------------------------------------------

def test_lab_coverage_reads_the_same_codes_as_the_library():
    resources = data.resources(DATASETS)
    for name, res in resources.items():
        if res.get("territory"):
            level, codes = data.coverage(name, DATASETS)
            assert atlas_labs.territory_codes(res, DATASETS) == (level, set(codes)), name


def test_labs_on_a_commune_say_what_the_data_cover():
    coverage = atlas_labs.Coverage(atlas_labs.read_labs(REPO, DATASETS), DATASETS)
    rennes = {x.lab.stem: x for x in coverage.on(["35238"])}
    assert rennes["prise-en-main"].status == atlas_labs.COMPLETE
    assert rennes["acces-emploi"].run_by_book == ("TERRITOIRE", "35238")  # the jobs lab's own city
    assert rennes["prise-en-main"].run_by_book is None  # the book runs it on Marseille
    bourg = {x.lab.stem: x for x in coverage.on(["01053"])}  # Bourg-en-Bresse: national tables only
    assert bourg["non-recours-c2s"].status == atlas_labs.COMPLETE  # national QPV tables
    assert bourg["prise-en-main"].status == atlas_labs.PARTIAL
    assert "iris_aix_marseille_provence" in bourg["prise-en-main"].missing
    assert len(set(bourg["canicules"].missing)) == len(bourg["canicules"].missing)  # each named once
    # an arrondissement is worked on with its city: the book runs the labs on Marseille
    marseille = {x.lab.stem: x for x in coverage.on(["13216"])}
    assert marseille["non-recours-c2s"].run_by_book == ("TERRITOIRE", "13055")
    # the QPV contours read through dataquartiers.layers are one choice: Marseille's will do; the
    # heat lab misses only the LCZ heat score, made for four other cities
    assert marseille["canicules"].missing == ("iris_chaleur_lcz",)


# --- the built pages --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    book = sample_book(tmp_path_factory.mktemp("atlas") / "livre")
    html_dir, warnings = build(book)
    return book, html_dir, warnings


def test_the_atlas_builds_without_warning_and_writes_every_sheet(built, atlas):
    book, html_dir, warnings = built
    assert "WARNING" not in warnings and "ERROR" not in warnings, warnings
    for code in atlas.sheets:
        assert (html_dir / "atlas" / f"{code}.html").is_file(), code
        assert (html_dir / "atlas" / f"{code}.csv").is_file(), code
    assert not (html_dir / "atlas" / "dq-modele-de-fiche.html").exists()


def test_built_sheets_show_the_source_figures(built, atlas):
    _, html_dir, _ = built
    raws = {t: raw_rows(t) for t in TABLES}
    for code in random.Random(3).sample(sorted(atlas.sheets), 15) + ["QP013003"]:
        cells = sheet_rows(html_dir / "atlas" / f"{code}.html")
        for block in BLOCKS:
            row = raws[block.table].get(code)
            for ind in block.indicators:
                if row is not None:
                    assert cells[ind.id][0] == expected_text(ind, block.table, row), (code, ind.id)
        per_sheet = list(csv.DictReader(io.StringIO((html_dir / "atlas" / f"{code}.csv").read_text(encoding="utf-8")
                                                    .lstrip("\ufeff")), delimiter=";"))
        assert [r["code_indicateur"] for r in per_sheet] == [i.id for i in indicators()]


def test_no_count_under_11_is_shown_on_any_sheet(built, atlas):
    """Every count cell of every sheet (read with a regular expression: parsing 1,400 pages would take
    minutes), and every count of the whole atlas's CSV."""
    _, html_dir, _ = built
    count_ids = {i.id for b in BLOCKS for i in b.indicators
                 if i.denominator is None and i.column in count_fields(b.table)}
    assert {"population", "allocataires", "c2s_avec_participation", "demandeurs_abc"} <= count_ids
    row = re.compile(r'<tr data-indicateur="([a-z0-9_]+)">(.*?)</tr>')
    cell = re.compile(r"<td>(-?[0-9\u202f]+)(?:[,\s<]|\u00a0|$)")
    seen = 0
    for code in atlas.sheets:
        text = (html_dir / "atlas" / f"{code}.html").read_text(encoding="utf-8")
        for ind_id, cells in row.findall(text):
            if ind_id in count_ids:
                for value in cell.findall(cells):
                    n = int(value.replace("\u202f", ""))
                    assert n == 0 or n >= 11, (code, ind_id, value)
                    seen += 1
    assert seen > 10000
    rows = csv.DictReader(io.StringIO((html_dir / "atlas" / CSV_NAME).read_text(encoding="utf-8").lstrip("\ufeff")),
                          delimiter=";")
    for r in rows:
        for ind_id in count_ids:
            for column in (ind_id, f"{ind_id}_commune"):
                if r.get(column):
                    assert float(r[column].replace(",", ".")) == 0 or float(r[column].replace(",", ".")) >= 11


def test_the_whole_atlas_csv_has_one_row_per_sheet_and_a_dictionary(built, atlas):
    _, html_dir, _ = built
    rows = list(csv.DictReader(io.StringIO((html_dir / "atlas" / CSV_NAME).read_text(encoding="utf-8").lstrip("\ufeff")),
                               delimiter=";"))
    assert [r["code_quartier"] for r in rows] == sorted(atlas.sheets)
    demo = raw_rows("qpv_demographie")
    saint_henri = next(r for r in rows if r["code_quartier"] == "QP013003")
    assert saint_henri["population"] == demo["QP013003"]["POP_MUN"]
    assert saint_henri["taux_pauvrete"] == raw_rows("qpv_revenus_c2s")["QP013003"]["TP60"].replace(".", ",")
    columns = [r["colonne"] for r in csv.DictReader(io.StringIO((html_dir / "atlas" / DICTIONARY_NAME)
                                                                .read_text(encoding="utf-8").lstrip("\ufeff")), delimiter=";")]
    assert columns == list(rows[0])


def test_pages_are_french_titled_and_load_nothing_from_elsewhere(built, atlas):
    _, html_dir, _ = built
    folder = html_dir / "atlas"
    pages = [folder / "index.html", folder / "QP013003.html"] + sorted(folder.glob("QP0*.html"))[::97]
    pages += sorted((folder / "cartes").glob("*.html"))
    for page in pages:
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        assert soup.find("html").get("lang") == "fr", page.name
        assert soup.find("title") and soup.find("title").get_text(strip=True), page.name
        if "cartes" not in page.parts:
            assert len(soup.select("article.bd-article h1")) == 1, page.name  # the theme adds its own elsewhere
        for tag, attr in (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src")):
            for t in soup.find_all(tag, **{attr: True}):
                assert not EXTERNAL.match(t[attr]), f"{page.name}: <{tag} {attr}={t[attr]}>"
    sheet = BeautifulSoup((folder / "QP013003.html").read_text(encoding="utf-8"), "html.parser")
    assert sheet.find("h1").get_text(strip=True).startswith("Saint Henri (QP013003)")
    frame = sheet.select_one("figure.dq-atlas-carte iframe")
    assert frame["title"] and "qpv2015-marseille.html?quartier=QP013003" in frame["src"]
    assert len(sheet.select_one("figure.dq-atlas-carte figcaption").get_text(strip=True)) > 80
    svg = sheet.select_one("svg.dq-atlas-graphe")
    assert svg["role"] == "img" and svg.find("title") and svg.find("desc").get_text(strip=True)
    assert (folder / "cartes" / "leaflet.js").is_file()
    no_map = [c for c, s in atlas.sheets.items() if not s.has_contour][0]
    assert "Pas de carte" in (folder / f"{no_map}.html").read_text(encoding="utf-8")


def test_the_no_change_rebuild_skips_the_atlas_and_a_data_change_does_not(tmp_path):
    folder = datasets_copy(tmp_path)
    book = sample_book(tmp_path / "livre", datasets=folder, theme="alabaster")
    timing = book / "_build" / ".dq-build-cache" / TIMING_FILE
    build(book)
    assert json.loads(timing.read_text(encoding="utf-8"))["skipped"] is False
    # the atlas page is read again (its source changed) but nothing the sheets are made from did;
    # a lab's text changed, not what it reads nor its settings
    (book / "atlas" / "index.md").write_text((book / "atlas" / "index.md").read_text(encoding="utf-8") + "\n",
                                             encoding="utf-8")
    lab = book / "labs" / "prise-en-main.ipynb"
    notebook = json.loads(lab.read_text(encoding="utf-8"))
    cell = next(c for c in notebook["cells"] if c["cell_type"] == "markdown")
    cell["source"] = "".join(cell["source"]) + "\n\nUne phrase de plus."
    lab.write_text(json.dumps(notebook, ensure_ascii=False), encoding="utf-8")
    build(book, clean=False)
    assert json.loads(timing.read_text(encoding="utf-8"))["skipped"] is True
    path = folder / "qpv" / "qp2015_demographie_DEMO_2022.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("QP013003,Saint Henri", "QP013003,Saint-Henri"),
                    encoding="utf-8")
    html_dir, warnings = build(book, clean=False)
    assert json.loads(timing.read_text(encoding="utf-8"))["skipped"] is False
    assert "Saint-Henri" in (html_dir / "atlas" / "QP013003.html").read_text(encoding="utf-8")
    assert pages_size(html_dir)[0] > 2800


# --- in a browser: keyboard, no server, no network --------------------------------------------

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"


def _browser():
    from browser import chromium_available

    if not chromium_available():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")


@pytest.mark.browser
def test_search_finds_a_commune_typed_without_accents_and_leads_to_its_sheet_by_keyboard(built):
    from browser import offline_page, serve_folder

    _browser()
    _, html_dir, _ = built
    with serve_folder(html_dir) as url, offline_page() as (page, traffic):
        page.goto(f"{url}/atlas/index.html")
        field = page.locator("#dq-atlas-q")
        assert field.is_visible()
        field.focus()
        page.keyboard.type("venissieux")
        visible = page.locator("li.dq-atlas-commune:visible")
        assert visible.count() == 1 and "Vénissieux" in visible.first.inner_text()
        assert page.locator("#dq-atlas-bilan").inner_text().startswith("1 commune trouvée")
        page.keyboard.press("Enter")  # to the first sheet of the results
        href = page.evaluate("document.activeElement.getAttribute('href')")
        assert re.fullmatch(r"QP069\d{3}\.html", href)
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/atlas/{href}")
        assert "(QP069" in page.locator("article h1").inner_text()

        page.goto(f"{url}/atlas/index.html")
        page.locator("#dq-atlas-q").fill("grande ile")  # a neighbourhood (Grande Île), without accent
        assert "Vaulx-en-Velin" in page.locator("li.dq-atlas-commune:visible").first.inner_text()
        page.locator("#dq-atlas-q").fill("st etienne")  # « st » for « Saint », no accent
        assert any("Saint-Étienne" in t for t in page.locator("li.dq-atlas-commune:visible").all_inner_texts())
        page.locator("#dq-atlas-q").fill("qp013003")
        assert "Marseille" in page.locator("li.dq-atlas-commune:visible").first.inner_text()
        page.locator("#dq-atlas-q").fill("zzzz")
        assert page.locator("li.dq-atlas-commune:visible").count() == 0
        assert page.locator("#dq-atlas-bilan").inner_text() == "Aucune commune ni aucun quartier ne correspond."
        assert traffic.external == [] and traffic.unexpected_errors() == []


@pytest.mark.browser
def test_index_by_department_opens_with_the_keyboard_from_a_file_without_server(built):
    from playwright.sync_api import sync_playwright

    from browser import CHROMIUM, CHROMIUM_ARGS

    _browser()
    _, html_dir, _ = built
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto((html_dir / "atlas" / "index.html").as_uri())
        summary = page.locator("details#departement-21 > summary")
        assert page.locator("details#departement-21").get_attribute("open") is None
        summary.focus()
        page.keyboard.press("Enter")
        assert page.locator("details#departement-21").get_attribute("open") is not None
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.closest('li.dq-atlas-commune').id")
        assert focused.startswith("commune-21")
        page.keyboard.press("Enter")
        page.wait_for_url("**/atlas/QP021*.html")
        # back to the commune from the sheet: the anchor opens its department
        page.locator("article a[href^='index.html#commune-']").first.click()
        page.wait_for_load_state()
        anchor = page.evaluate("location.hash").lstrip("#")
        page.locator(f"#{anchor}").wait_for(state="visible", timeout=5000)
        # the search works from a file too
        page.locator("#dq-atlas-q").fill("chenove")
        assert "Chenôve" in page.locator("li.dq-atlas-commune:visible").first.inner_text()
        browser.close()
    assert all(u.startswith("file:") for u in requests), [u for u in requests if not u.startswith("file:")]


@pytest.mark.browser
@pytest.mark.parametrize("path", ["atlas/index.html", "atlas/QP013003.html"])
def test_atlas_pages_have_no_serious_accessibility_violation(built, path):
    """axe-core on the atlas's own content (the theme around it is checked on the book's pages)."""
    from browser import offline_page, serve_folder

    _browser()
    assert AXE.exists(), "axe-core missing: run `make setup` (npm ci)"
    _, html_dir, _ = built
    with serve_folder(html_dir) as url, offline_page() as (page, traffic):
        page.goto(f"{url}/{path}", wait_until="networkidle")
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(
            """async () => {
                const r = await axe.run('article.bd-article', {runOnly: {type: 'tag',
                    values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
                return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                  .map(v => ({id: v.id, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
            }""")
        assert violations == [], json.dumps(violations, ensure_ascii=False)
        assert traffic.external == [] and traffic.unexpected_errors() == []


@pytest.mark.browser
def test_the_sheet_map_draws_its_neighbourhood_offline(built):
    from browser import offline_page, serve_folder

    _browser()
    _, html_dir, _ = built
    with serve_folder(html_dir) as url, offline_page() as (page, traffic):
        page.goto(f"{url}/atlas/cartes/qpv2015-marseille.html?quartier=QP013003", wait_until="networkidle")
        assert page.evaluate("document.documentElement.lang") == "fr"
        shapes = page.locator("path.leaflet-interactive")
        assert shapes.count() >= 37  # every 2015 neighbourhood of the file, and commune limits
        filled = page.locator("path.leaflet-interactive[fill-opacity='0.45']")
        assert filled.count() == 1  # the sheet's own neighbourhood
        zoom = page.evaluate("Object.keys(window).filter(k => k.startsWith('map_')).map(k => window[k].getZoom())[0]")
        assert zoom == 14  # centred on it (the whole file of Marseille's contours shows at 11)
        assert traffic.external == [] and traffic.failed_local == [] and traffic.unexpected_errors() == []


def test_the_index_lists_every_commune_by_department_with_its_sheets_and_2024_neighbourhoods(built, atlas):
    _, html_dir, _ = built
    soup = BeautifulSoup((html_dir / "atlas" / "index.html").read_text(encoding="utf-8"), "html.parser")
    entries = {li["id"]: li for li in soup.select("details.dq-atlas-dep li.dq-atlas-commune")}
    assert set(entries) == {f"commune-{c}" for c in atlas.communes}
    linked = {a["href"] for a in soup.select("a.dq-atlas-fiche")}
    assert linked == {f"{code}.html" for code in atlas.sheets}
    for commune in atlas.communes.values():
        li = entries[f"commune-{commune.code}"]
        assert li.find_parent("details")["id"] == f"departement-{commune.departement}"
        if not commune.sheets:  # a commune whose priority neighbourhoods are all of 2024
            assert "Pas de fiche" in li.get_text() and commune.neighbourhoods_2024[0].code in li.get_text()
        assert fold(commune.name) in li["data-recherche"]
