"""The catalogue of sources and the partner directory (booktools.catalogue).

Three sets of files under tests/fixtures/catalogue/: `valid` (a small catalogue that gives no
problem), `broken` (one mistake per file, each with its exact French message) and `injection`
(valid entries whose texts hold HTML and Markdown, which must show as typed). The real catalogue of
the book is checked too: no problem, enough real entries, pages and exports for every entry.
Hostile and careless input: test_catalogue_hostile.py; DCAT-AP: test_catalogue_dcat.py; the staff
path: test_catalogue_staff.py; markup in Chromium: test_catalogue_browser.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from booktools.catalogue import (check, load_catalogue, new_entry, quality, render_fiches, sample_book, scaffold,
                                  sources_table, to_csv, to_jsonld)
from booktools.catalogue.model import PLACEHOLDER, schema, terms
from booktools.catalogue.pages import md, partners_directory
from booktools.catalogue.templates_files import field_reference

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "catalogue"
TODAY = dt.date(2026, 1, 15)  # the fixtures were reviewed on 2025-12-01

LICENCES = ", ".join(schema("source")["properties"]["licence"]["enum"])
ID_EXPECTED = "lettres minuscules sans accent, chiffres et tirets, par exemple insee-filosofi-iris"
NOT_PERSONAL = ("le catalogue ne présente que des organisations et leurs pages publiques, jamais les coordonnées "
                "d'une personne")

#: Every mistake of the broken set, by file: the messages must be exactly these, no more, no less.
BROKEN = {
    "catalogue/sources/syntaxe.yml": [
        "ligne 2, colonne 15 : erreur de syntaxe YAML : un « : » inattendu (conseil : le texte contient « : » suivi "
        "d'une espace : mettez toute la valeur entre guillemets (voir « Guillemets et textes longs » dans le guide))"],
    "catalogue/sources/champ-manquant.yml": [
        f"champ « licence » : absent (obligatoire ; attendu : une de ces valeurs : {LICENCES})"],
    "catalogue/sources/mauvais-type.yml": [
        "champ « themes » : attendu une liste (une ligne « - valeur » par élément), trouvé un texte (« sante »)"],
    "catalogue/sources/licence-inconnue.yml": [
        f"champ « licence » : « etalab » n'est pas une valeur possible (valeurs possibles : {LICENCES}) "
        "(vouliez-vous dire « etalab-2.0 » ?)"],
    "catalogue/sources/doublon.yml": [
        "champ « id » : « champ-manquant » ne correspond pas au nom du fichier (l'identifiant est le nom du fichier "
        "sans .yml : « doublon »)",
        "champ « id » : « champ-manquant » est déjà utilisé par catalogue/sources/champ-manquant.yml"],
    "catalogue/sources/renvoi-casse.yml": [
        "champ « labs[0] » : « lab-exempel » n'est pas un lab du livre (labs : lab-exemple) "
        "(vouliez-vous dire « lab-exemple » ?)",
        "champ « partners[0] » : « partenaire-absent » n'est pas un partenaire de l'annuaire "
        "(pas de fichier catalogue/partners/partenaire-absent.yml)"],
    "catalogue/sources/url-date.yml": [
        "champ « landing_page » : « htp:/www.example.org » n'est pas une adresse web valide "
        "(attendu : http:// ou https:// suivi d'un nom de domaine)",
        "champ « last_reviewed » : « 2025-13-01 » n'est pas une date valide (attendu : AAAA-MM-JJ, par exemple "
        "2025-03-14)",
        "champ « temporal.start » : « 20155 » n'est pas une année ou une date valide (attendu : AAAA, AAAA-MM ou "
        "AAAA-MM-JJ)"],
    "catalogue/sources/champ-inconnu.yml": [
        "champ « license » : champ inconnu (vouliez-vous dire « licence » ?)"],
    "catalogue/sources/cle-double.yml": [
        "ligne 22 : le champ « title » est écrit deux fois (n'en gardez qu'un)"],
    "catalogue/sources/Nom Invalide.yml": [
        f"le nom du fichier « Nom Invalide.yml » n'est pas un identifiant valide (attendu : {ID_EXPECTED}, puis .yml)"],
    "catalogue/sources/vide.yml": [
        "le fichier est vide (partez du modèle : catalogue/templates/source.yml, ou python -m booktools.catalogue "
        "new source vide)"],
    "catalogue/sources/extension.yaml": [
        "fichier ignoré : une fiche se termine par .yml en minuscules (renommez-le en extension.yml)"],
    "catalogue/sources/licence-douteuse.yml": [
        "champ « licence_note » : absent (obligatoire quand licence_status vaut « unverified » : dites ce qui reste "
        "incertain sur la licence)"],
    "catalogue/sources/injection-html.yml": [
        f"champ « labs[0] » : « <script>alert(1)</script> » n'est pas un identifiant valide (attendu : {ID_EXPECTED})",
        "champ « labs[0] » : « <script>alert(1)</script> » n'est pas un lab du livre (labs : lab-exemple)"],
    "catalogue/partners/contact-personnel.yml": [
        f"champ « brings » : contient une adresse électronique (« jeanne.exemple@example.org ») ; {NOT_PERSONAL}",
        f"champ « brings » : contient un numéro de téléphone (« 06 12 34 56 78 ») ; {NOT_PERSONAL}"],
    "catalogue/partners/source-absente.yml": [
        "champ « roles[1] » : « banquier » n'est pas une valeur possible (valeurs possibles : data_holder, "
        "trusted_third_party, analyst, coordinator, trainer, funder, ethics, user)",
        "champ « sources[0] » : « source-inexistante » n'est pas une source du catalogue "
        "(pas de fichier catalogue/sources/source-inexistante.yml)"],
    "datasets/datapackage.json": [
        "ressource « table_orpheline » : l'identifiant de catalogue « source-disparue » n'est pas une source du "
        "catalogue (pas de fichier catalogue/sources/source-disparue.yml)"],
}

#: Catalogue ids that other parts of the book link to: they must exist.
REQUIRED_IDS = ["insee-cog", "ign-contours-iris", "insee-rp-iris", "anct-qpv-contours", "insee-filosofi-iris",
                "insee-filosofi-carreaux", "anct-qpv-statistiques", "cnaf-allocataires-iris", "cepidc-causes-deces",
                "drees-rpps", "france-travail-offres", "cerema-lcz", "usgs-landsat", "ville-grenoble-arbres",
                "insee-rp-couples-familles-menages", "dgcl-banatic-epci"]


# --- the checks -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def broken():
    return load_catalogue(FIXTURES / "broken", TODAY)


@pytest.mark.parametrize("path", sorted(BROKEN))
def test_each_mistake_gives_its_exact_message(broken, path):
    assert [p.message for p in broken.problems if p.path == path] == BROKEN[path]


def test_every_problem_of_every_file_is_reported_at_once(broken):
    assert {p.path for p in broken.problems} == set(BROKEN)
    assert len(broken.problems) == sum(map(len, BROKEN.values()))
    assert all(str(p) == f"{p.path} : {p.message}" for p in broken.problems)


def test_syntax_errors_carry_their_line(broken):
    syntax = next(p for p in broken.problems if p.path.endswith("syntaxe.yml"))
    assert syntax.line == 2


def test_broken_entries_are_left_out_and_valid_ones_kept(broken):
    assert not broken.sources["licence-inconnue"].valid
    assert broken.partners["exemple-partenaire"].valid  # its reference points to an existing file
    # A reference to a missing lab or partner is reported, but the entry still gets its page,
    # without the broken link; every other broken entry is left out of the pages.
    assert [e.id for e in broken.valid_sources()] == ["renvoi-casse"]


def test_valid_set_has_no_problem():
    assert check(FIXTURES / "valid", TODAY) == []
    assert check(FIXTURES / "injection", TODAY) == []


def test_review_date_in_the_future_is_refused(tmp_path):
    root = _copy_valid(tmp_path)
    assert [str(p) for p in check(root, dt.date(2025, 11, 30))] == [
        "catalogue/partners/exemple-partenaire.yml : champ « last_reviewed » : « 2025-12-01 » est dans le futur "
        "(nous sommes le 2025-11-30)",
        "catalogue/sources/exemple-source.yml : champ « last_reviewed » : « 2025-12-01 » est dans le futur "
        "(nous sommes le 2025-11-30)",
    ]


def test_period_end_before_start_is_refused(tmp_path):
    root = _copy_valid(tmp_path)
    path = root / "catalogue/sources/exemple-source.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("start: 2015", "start: 2015\n  end: 2012"), encoding="utf-8")
    assert [p.message for p in check(root, TODAY)] == ["champ « temporal.end » : « 2012 » est avant temporal.start « 2015 »"]


def test_years_and_words_stay_text(tmp_path):
    """YAML 1.1 would turn `2015` into a number and `no` into False: the catalogue keeps the text."""
    cat = load_catalogue(FIXTURES / "valid", TODAY)
    assert cat.sources["exemple-source"].data["temporal"]["start"] == "2015"
    assert cat.sources["exemple-source"].data["last_reviewed"] == "2025-12-01"


def test_command_line_check_exit_status():
    run = subprocess.run([sys.executable, "-m", "booktools.catalogue", "--root", str(FIXTURES / "broken"),
                          "check"], capture_output=True, text=True)
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert ("catalogue/sources/licence-inconnue.yml : champ « licence » : « etalab » n'est pas une valeur possible"
            in run.stdout)
    assert len(lines) == sum(map(len, BROKEN.values()))
    assert "problème(s) dans 17 fichier(s)" in run.stderr
    ok = subprocess.run([sys.executable, "-m", "booktools.catalogue", "--root", str(FIXTURES / "valid"), "check"],
                        capture_output=True, text=True)
    assert (ok.returncode, ok.stdout) == (0, "")


# --- the real catalogue -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def real():
    return load_catalogue(REPO)


def test_real_catalogue_has_no_problem(real):
    assert [str(p) for p in real.problems] == []


def test_real_catalogue_is_large_enough_and_has_the_ids_the_book_uses(real):
    assert len(real.valid_sources()) >= 40
    assert len(real.valid_partners()) >= 20
    assert set(REQUIRED_IDS) <= set(real.sources)
    package = json.loads((REPO / "datasets/datapackage.json").read_text(encoding="utf-8"))
    for resource in package["resources"]:
        for ref in resource.get("catalogue", []):
            assert ref in real.sources, f"datapackage resource {resource['name']} cites {ref}"


def test_real_catalogue_keeps_unverified_licences_visible(real):
    pages = render_fiches(real)
    for entry in real.valid_sources():
        if entry.data["licence_status"] == "unverified":
            _, body, _ = pages[f"catalogue/fiches/{entry.id}"]
            assert "<strong>Licence à vérifier.</strong>" in body, entry.id
            assert entry.data.get("licence_note"), entry.id


def test_first_lab_is_linked_to_its_sources_and_back(real):
    using = {e.id for e in real.valid_sources() if "prise-en-main" in (e.data.get("labs") or [])}
    assert {"ign-contours-iris", "insee-rp-iris", "anct-qpv-contours"} <= using
    _, page, _ = render_fiches(real)["catalogue/fiches/insee-rp-iris"]
    assert '<a class="reference internal" href="../../labs/prise-en-main.html">prise-en-main</a>' in page
    assert 'href="../../datasets/index.html">Jeux de données des labs</a>' in page  # back to the data package
    assert 'href="../../datasets/index.html#dataset-rennes-iris-population">' in page  # and to the resource


# --- scaffold ---------------------------------------------------------------------------------

def test_scaffold_has_every_field_with_its_help(tmp_path):
    text = scaffold("source", "nouvelle-source")
    data = yaml.safe_load(text)
    assert list(data) == list(schema("source")["properties"])
    for field in schema("source")["properties"].values():
        assert field["description"][:40] in " ".join(line.lstrip("# ") for line in text.splitlines()).replace("  ", " ")
    assert "# Valeurs possibles : etalab-2.0 = Licence Ouverte 2.0 (Etalab)" in text
    partner = yaml.safe_load(scaffold("partner", "nouvelle-organisation"))
    assert list(partner) == list(schema("partner")["properties"])


def test_new_entry_is_flagged_until_filled_in(tmp_path):
    root = _copy_valid(tmp_path)
    path = new_entry(root, "source", "ma-source")
    assert path == root / "catalogue/sources/ma-source.yml"
    messages = [p.message for p in check(root, TODAY) if p.path.endswith("ma-source.yml")]
    assert f"champ « title » : contient encore « {PLACEHOLDER} » (à remplir ; attendu : un texte)" in messages
    assert ("champ « themes[0] » : contient encore « À COMPLÉTER » (à remplir ; attendu : une de ces valeurs : "
            "demographie, revenus, emploi, sante, logement, mobilite, education, climat, environnement, energie, "
            "action-sociale, economie, equipements, securite, referentiels)") in messages
    # The review date is the person's to write, never the tool's.
    assert ("champ « last_reviewed » : contient encore « À COMPLÉTER » (à remplir ; attendu : une date AAAA-MM-JJ)"
            in messages)
    assert all("contient encore" in m or "licence_note" in m for m in messages)

    filled = (FIXTURES / "valid/catalogue/sources/exemple-source.yml").read_text(encoding="utf-8")
    path.write_text(filled.replace("id: exemple-source", "id: ma-source"), encoding="utf-8")
    assert check(root, TODAY) == []


def test_new_entry_refuses_bad_id_and_existing_file(tmp_path):
    root = _copy_valid(tmp_path)
    with pytest.raises(ValueError, match="« Ma Source » n'est pas un identifiant valide"):
        new_entry(root, "source", "Ma Source")
    with pytest.raises(FileExistsError, match="exemple-source.yml existe déjà"):
        new_entry(root, "source", "exemple-source")


# --- pages ------------------------------------------------------------------------------------

def test_markdown_escaping_shows_text_as_typed():
    assert md("<script>alert(1)</script>") == "\\<script\\>alert\\(1\\)\\<\\/script\\>"
    assert md("*a* | {doc}`x` $y$") == "\\*a\\* \\| \\{doc\\}\\`x\\` \\$y\\$"


def test_pages_of_the_valid_set():
    cat = load_catalogue(FIXTURES / "valid", TODAY)
    fiches = render_fiches(cat)
    assert sorted(fiches) == ["catalogue/fiches/autre-source", "catalogue/fiches/exemple-source"]
    title, body, toc = fiches["catalogue/fiches/exemple-source"]
    assert title == "Source d&#39;exemple pour les tests"
    assert body.startswith('<section id="exemple-source"><h1>Source d&#39;exemple pour les tests<a class="headerlink"')
    assert "<h2>Qualité des métadonnées : 6 sur 6" in body
    assert '<a class="reference internal" href="../../labs/lab-exemple.html">lab-exemple</a>' in body
    assert ('<a class="reference internal" href="../partenaires.html#partenaire-exemple-partenaire">'
            "Organisation d&#39;exemple (OEX)</a>") in body
    assert '<a class="reference internal" href="#qualite">' in toc

    _, other, _ = fiches["catalogue/fiches/autre-source"]
    assert "<h2>Qualité des métadonnées : 3 sur 6" in other  # unverified licence, xlsx only, old review
    table = sources_table(cat)
    assert table.count("<tr>") == 3  # header and two sources
    assert '<a class="reference internal" href="fiches/exemple-source.html">' in table
    for label in ('<label for="dq-filtre-theme">Thème</label>', '<label for="dq-filtre-maille">',
                  '<label for="dq-filtre-producteur">', '<label for="dq-filtre-licence">', '<label for="dq-filtre-acces">'):
        assert label in table
    assert '<option value="santé">santé (1)</option>' in table
    assert '<option value="à vérifier">à vérifier (1)</option>' in table
    assert 'role="status" aria-live="polite"' in table

    directory = "\n".join(node.pformat() for node in partners_directory(cat))
    assert directory.index("Détenteur de données") < directory.index("Analyse et science des données")
    assert 'ids="partenaire-exemple-partenaire"' in directory
    assert '<reference internal="True" refuri="fiches/exemple-source.html">' in directory


def test_quality_score_breakdown():
    cat = load_catalogue(FIXTURES / "valid", TODAY)
    criteria = {c.key: c for c in quality(cat.sources["autre-source"].data, TODAY)}
    assert [k for k, c in criteria.items() if not c.passed] == ["licence", "open_format", "freshness"]
    assert criteria["licence"].detail == "Open Database License 1.0 (ODbL) : licence à vérifier"
    assert criteria["freshness"].detail == "revue le 2024-06-30, il y a 564 jours (plus de 365 jours)"
    assert criteria["open_format"].detail == "aucun format ouvert"


def test_field_reference_covers_every_field():
    reference = field_reference()
    for kind in ("source", "partner"):
        for name in schema(kind)["properties"]:
            assert f"`{name}`" in reference
    assert "`distributions[].format`" in reference
    assert "| `public_register` | registre public nominatif" in reference


def _build(folder: Path) -> tuple[Path, str]:
    """Build a sample book in its own process (Sphinx keeps global state); returns (html, warnings)."""
    run = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-n", "-q", "-E", "--keep-going",
                          str(folder), str(folder / "_build")], capture_output=True, text=True)
    return folder / "_build", run.stderr


def _unquoted(page: str) -> str:
    """The page without its quotation marks (Sphinx may typeset " as French guillemets)."""
    return re.sub("&quot;|&#x27;|&#34;|&#39;|«|»|\u00a0|\u202f|\"", "", page)


def test_html_from_yaml_is_escaped_in_the_rendered_pages(tmp_path):
    html_dir, warnings = _build(sample_book(tmp_path / "livre", FIXTURES / "injection", theme="alabaster"))
    assert "WARNING" not in warnings, warnings
    fiche = (html_dir / "catalogue/fiches/injection.html").read_text(encoding="utf-8")
    assert "<script>alert(" not in fiche and "<img src=x" not in fiche and "<iframe" not in fiche
    shown = _unquoted(fiche)  # every YAML text shows as typed
    assert "&lt;script&gt;alert(description)&lt;/script&gt;" in shown
    assert "&lt;img src=x onerror=alert(1)&gt; *pas italique* {doc}`x` $x$ | pipe" in shown
    assert "&lt;iframe src=https://example.org&gt;&lt;/iframe&gt;" in shown
    assert "Titre &lt;b&gt;gras&lt;/b&gt; et &lt;script&gt;alert(titre)&lt;/script&gt;" in shown
    assert "&lt;i&gt;Producteur&lt;/i&gt; &amp; Cie" in shown
    index = (html_dir / "catalogue/index.html").read_text(encoding="utf-8")
    assert "<script>alert(" not in index and "<i>Producteur" not in index
    assert "&lt;i&gt;Producteur&lt;/i&gt; &amp; Cie" in index  # in the table and in the producer filter
    partners = (html_dir / "catalogue/partenaires.html").read_text(encoding="utf-8")
    assert "<script>alert(" not in partners
    assert "&lt;script&gt;alert(partenaire)&lt;/script&gt; Organisation" in _unquoted(partners)


def test_the_build_turns_problems_into_warnings_with_the_same_words(tmp_path):
    html_dir, warnings = _build(sample_book(tmp_path / "livre", FIXTURES / "broken", theme="alabaster"))
    for path, messages in BROKEN.items():
        for message in messages:
            assert f"{path} : {message}" in warnings


def test_catalogue_role_links_any_page_to_a_source_page(tmp_path):
    book = sample_book(tmp_path / "livre", FIXTURES / "valid", theme="alabaster")
    (book / "roles.md").write_text("---\norphan: true\n---\n# Renvois\n\n{catalogue}`exemple-source` et "
                                   "{catalogue}`ce jeu <autre-source>` ; {catalogue}`source-inconnue`.\n",
                                   encoding="utf-8")
    html_dir, warnings = _build(book)
    page = (html_dir / "roles.html").read_text(encoding="utf-8")
    assert '<a class="reference internal" href="catalogue/fiches/exemple-source.html">Source d’exemple' in page
    assert '<a class="reference internal" href="catalogue/fiches/autre-source.html">ce jeu</a>' in page
    assert ("catalogue : « source-inconnue » n'est pas une source du catalogue "
            "(pas de fichier valide catalogue/sources/source-inconnue.yml)") in warnings
    assert warnings.count("WARNING") == 1


def test_the_real_catalogue_builds_without_warning(tmp_path):
    html_dir, warnings = _build(sample_book(tmp_path / "livre", theme="alabaster"))
    assert warnings == ""
    real = load_catalogue(REPO)
    for entry in real.valid_sources():
        assert (html_dir / f"catalogue/fiches/{entry.id}.html").is_file()
    assert {"catalogue.csv", "catalogue-tableur.csv", "catalogue.jsonld"} <= {p.name for p in html_dir.iterdir()}


# --- exports ----------------------------------------------------------------------------------

def test_csv_export_has_one_row_per_source(real):
    rows = list(csv.DictReader(io.StringIO(to_csv(real))))
    assert [r["id"] for r in rows] == sorted(e.id for e in real.valid_sources())
    licences = terms("source", "licence")
    for row in rows:
        data = real.sources[row["id"]].data
        assert row["title"] == data["title"]
        assert row["licence_label"] == licences[data["licence"]]["label"]
        assert row["landing_page"].startswith("https://") or row["landing_page"].startswith("http://")
        assert row["page"] == f"catalogue/fiches/{row['id']}.html"
        assert row["quality_score"].endswith("/6")


def test_jsonld_export_is_dcat_ap(real):
    doc = json.loads(json.dumps(to_jsonld(real, "https://exemple.org/livre/")))
    assert doc["@id"] == "https://exemple.org/livre/catalogue.jsonld"
    assert doc["@type"] == "dcat:Catalog"
    assert doc["@context"]["dcat"] == "http://www.w3.org/ns/dcat#"
    assert doc["@context"]["dct"] == "http://purl.org/dc/terms/"
    datasets = {d["dct:identifier"]: d for d in doc["dcat:dataset"]}
    assert set(datasets) == {e.id for e in real.valid_sources()}
    for entry in real.valid_sources():
        d = datasets[entry.id]
        assert d["@type"] == "dcat:Dataset"
        assert d["@id"] == f"https://exemple.org/livre/catalogue/fiches/{entry.id}.html"
        for key in ("dct:title", "dct:description", "dct:publisher", "dct:temporal",
                    "dct:accrualPeriodicity", "dcat:distribution", "dcat:theme", "dcat:keyword", "dcat:landingPage",
                    "dct:accessRights"):
            assert d[key], (entry.id, key)
        assert d["dct:title"]["@value"] == entry.data["title"]
        assert d["dcat:landingPage"]["@id"] == entry.data["landing_page"]
        assert d["dct:accrualPeriodicity"]["@id"].startswith("http://publications.europa.eu/resource/authority/frequency/")
        assert all(t["@id"].startswith("http://publications.europa.eu/resource/authority/data-theme/")
                   for t in d["dcat:theme"])
        assert len(d["dcat:distribution"]) == len(entry.data["distributions"])
        for dist, source in zip(d["dcat:distribution"], entry.data["distributions"]):
            assert dist["@type"] == "dcat:Distribution"
            assert dist["dcat:accessURL"]["@id"] == source["url"]
            assert dist["dct:format"]
            if source.get("download_url"):
                assert dist["dcat:downloadURL"]["@id"] == source["download_url"]


# --- helpers ----------------------------------------------------------------------------------

def _copy_valid(tmp_path: Path) -> Path:
    import shutil

    root = tmp_path / "livre"
    shutil.copytree(FIXTURES / "valid", root)
    return root


# --- the filters, in a real browser, on the built book ----------------------------------------

@pytest.mark.browser
def test_catalogue_filters_work_with_the_keyboard_and_without_a_server(tmp_path):
    """On the catalogue pages built alone with the book's theme and extension (faster than the whole book)."""
    from browser import chromium_available, offline_page
    from conftest import serve_folder

    if not chromium_available():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    html_dir, warnings = _build(sample_book(tmp_path / "livre"))
    assert "WARNING" not in warnings, warnings
    total = len(load_catalogue(REPO).valid_sources())
    with serve_folder(html_dir) as site_url, offline_page() as (page, traffic):
        page.goto(f"{site_url}/catalogue/index.html")
        rows = page.locator("table.dq-catalogue tbody tr")
        visible = page.locator("table.dq-catalogue tbody tr:visible")
        status = page.locator("#dq-filtres-bilan")
        assert page.locator("#dq-filtres").is_visible()
        assert rows.count() == total and visible.count() == total
        assert status.inner_text() == f"{total} sources affichées sur {total}."

        # Keyboard only: focus the theme list, move to its first theme.
        page.focus("#dq-filtre-theme")
        page.keyboard.press("ArrowDown")
        theme = page.eval_on_selector("#dq-filtre-theme", "s => s.value")
        assert theme
        shown = visible.count()
        assert 0 < shown < total
        for i in range(shown):
            assert theme in visible.nth(i).locator("td").nth(2).inner_text().split(", ")
        assert status.inner_text().startswith(f"{shown} source")

        # Two filters at once: every visible row satisfies both.
        page.select_option("#dq-filtre-theme", "climat et chaleur")
        page.select_option("#dq-filtre-acces", "ouvert")
        for i in range(visible.count()):
            cells = visible.nth(i).locator("td")
            assert "climat et chaleur" in cells.nth(2).inner_text()
            assert cells.nth(5).inner_text() == "ouvert"

        page.focus("#dq-filtres button[type=reset]")
        page.keyboard.press("Enter")
        page.wait_for_function(f"document.querySelectorAll('table.dq-catalogue tbody tr:not([hidden])').length == {total}")
        assert traffic.external == [] and traffic.unexpected_errors() == []
