"""French everywhere a reader looks (issue 13): the scan of the executed labs and of the built
pages (booktools/french_scan.py), and the scanner itself on small bad samples, so that it is seen
to fail where it must and to name the place.

The labs are the session's shared runs (tests/notebooks.py: the build's own runs when they are
current), the pages the session's build: nothing is executed again for this file.
"""

from __future__ import annotations

import nbformat
import pytest

from booktools import coverage as lab_coverage
from booktools import french_scan
from booktools.french_scan import Finding, scan_html, scan_notebook, scan_text
from conftest import REPO
from dataquartiers import charter, data, indicators, maps
from lab_runs import run_lab
from notebooks import lab_run

LABS = sorted(p.stem for p in (REPO / "labs").glob("*.ipynb"))
#: The training cities, as commune and as intercommunality (booktools/coverage.py).
TERRITORIES = [code for _city, commune, epci in lab_coverage.TRAINING_CITIES for code in (commune, epci)]

#: Findings on pages another part of the book owns, each with why it is there and who fixes it.
#: An entry that no longer matches a finding fails the test: remove it once fixed.
KNOWN_ELSEWHERE = {
    ("catalogue/guide.html", "anglais", "licence_status: unverified"):
        "the field reference generated from booktools/schemas/catalogue-source.schema.json writes the "
        "YAML values (unverified, departement:35) as plain text, not as code (catalogue area)",
    ("catalogue/guide.html", "anglais", "unverified sinon"): "same table, field licence_status",
    ("catalogue/guide.html", "anglais", "licence_status vaut unverified"): "same table, field licence_note",
    ("catalogue/guide.html", "sans accent", "departement:35"): "same table, field spatial",
}


def _known(finding: Finding) -> bool:
    return any(finding.place.startswith(page) and finding.rule == rule and text in finding.excerpt
               for page, rule, text in KNOWN_ELSEWHERE)


# --- the labs as the book shows them ---------------------------------------------------------------

@pytest.mark.parametrize("lab", LABS)
def test_the_executed_lab_reads_french(lab):
    run = lab_run(REPO / "labs" / f"{lab}.ipynb")
    assert run.error is None, f"labs/{lab}.ipynb stopped: {str(run.error)[-500:]}"
    assert sum(len(c.get("outputs", [])) for c in run.notebook.cells) > 5, "a run without outputs proves nothing"
    findings = scan_notebook(run.notebook, f"labs/{lab}.ipynb")
    assert not findings, "what a trainee reads in the lab is not French or not finished:\n" + french_scan.report(findings)


@pytest.mark.parametrize("territory", TERRITORIES)
@pytest.mark.parametrize("lab", lab_coverage.LABS)
def test_the_lab_reads_french_on_every_training_territory(lab, territory):
    """The same scan on the runs of tests/test_labs_territories.py (shared within a session): a
    trainee who picks Dijon or a metropolis reads French too."""
    nb, error = run_lab(lab, territory)
    findings = scan_notebook(nb, f"labs/{lab}.ipynb (TERRITOIRE = {territory!r})")
    assert not findings, "what a trainee reads in the lab is not French or not finished:\n" + french_scan.report(findings)
    assert error is None, f"{lab} on {territory}: {str(error)[-500:]}"


def test_the_built_pages_read_french(site):
    assert "<table" in (site / "labs" / "canicules.html").read_text(encoding="utf-8"), "the lab pages show no outputs"
    findings = french_scan.scan_site(site)
    unexpected = [f for f in findings if not _known(f)]
    assert not unexpected, "what a reader reads on the pages is not French or not finished:\n" + french_scan.report(unexpected)
    stale = [key for key in KNOWN_ELSEWHERE
             if not any(f.place.startswith(key[0]) and f.rule == key[1] and key[2] in f.excerpt for f in findings)]
    assert not stale, f"fixed since: remove from KNOWN_ELSEWHERE {stale}"


# --- the scanner on bad samples: it fails, and says where ------------------------------------------

def _rules(findings) -> list[str]:
    return sorted({f.rule for f in findings})


def test_english_error_text_is_found():
    for text in ["Traceback (most recent call last):", "KeyError: 'nom'", "FileNotFoundError", "fichier not found",
                 "licence unverified", "FutureWarning: Series.__getitem__", "UserWarning: Geometry is in a geographic CRS",
                 "A value is trying to be set on a copy of a slice"]:
        assert _rules(scan_text(text, "x")) == ["anglais"], text
    assert scan_text("Licence non vérifiée : à vérifier auprès du producteur.", "x") == []
    assert _rules(scan_text("taux de pauvreté : nan %", "x")) == ["valeur brute"]


def test_a_quotation_on_a_page_is_not_the_page_speaking_english():
    quoted = "Exécuter une cellule avant les précédentes (NameError\u00a0« iris is not defined »)."
    assert scan_text(quoted, "page", quotations=True) == []
    assert _rules(scan_text(quoted, "lab")) == ["anglais"]  # a lab's output quotes nothing
    assert _rules(scan_text("la licence reste unverified", "page", quotations=True)) == ["anglais"]


def test_unformatted_numbers_in_a_table_are_found():
    table = ("<table><caption>Revenus</caption><thead><tr><th>IRIS</th><th>revenu</th><th>part</th></tr></thead>"
             "<tbody><tr><td>Maurepas</td><td>142123.5</td><td>0.4567</td></tr></tbody></table>")
    found = scan_html(table, "labs/x.ipynb, cellule 3")
    assert [f.excerpt for f in found] == ["142123.5", "0.4567"]
    assert all(f.rule == "nombre non formaté" and f.place == "labs/x.ipynb, cellule 3 (tableau « Revenus »)" for f in found)
    assert scan_html(table.replace("142123.5", "142\u202f123,5").replace("0.4567", "0,46"), "x") == []


def test_a_version_is_not_a_number_to_format():
    cells = "".join(f"<tr><td>{v}</td></tr>" for v in ["Licence Ouverte 2.0 (Etalab)", "CC BY 4.0",
                                                        "IGN (CONTOURS-IRIS 3.0, édition 2024)", "Python 3.11"])
    assert scan_html(f"<table><tbody>{cells}</tbody></table>", "x") == []
    assert _rules(scan_html("<table><tbody><tr><td>en moyenne 2.5 km</td></tr></tbody></table>", "x")) == ["nombre non formaté"]


def test_counts_with_decimals_are_found():
    assert _rules(scan_text("2 120,0 personnes dans le quartier", "x")) == ["nombre non formaté"]
    assert _rules(scan_text("Marseille : 3123 carreaux habités", "x")) == ["nombre non formaté"]
    assert scan_text("Marseille : 3\u202f123 carreaux habités en 2022, 2,5 personnes par ménage", "x") == []
    table = ("<table><thead><tr><th>groupe</th><th>habitants</th><th>température moyenne (°C)</th></tr></thead>"
             "<tbody><tr><td>en QPV</td><td>195 643,5</td><td>44,8</td></tr></tbody></table>")
    [finding] = scan_html(table, "x")
    assert finding.rule == "nombre non formaté" and "habitants" in finding.excerpt and "195 643,5" in finding.excerpt
    assert scan_html(table.replace("195 643,5", "195 644"), "x") == []
    mean = table.replace("<table>", "<table><caption>moyennes pondérées par la population</caption>")
    assert scan_html(mean, "x") == []  # a mean of people may have decimals


def test_raw_values_and_row_numbers_are_found():
    table = ("<table><thead><tr><th></th><th>quartier</th><th>taux</th></tr></thead><tbody>"
             "<tr><th>0</th><td>Le Blosne</td><td>nan</td></tr><tr><th>1</th><td>Villejean</td><td>True</td></tr>"
             "</tbody></table>")
    found = scan_html(table, "x")
    assert _rules(found) == ["numéros de ligne", "valeur brute"]
    assert scan_html(table.replace("<th>0</th>", "<th>2015</th>").replace("nan", "—").replace("True", "oui"), "x") == []


def test_unaccented_words_and_code_names_are_found():
    for text in ["taux pauvrete (%)", "quartiers defavorises", "Donnees synthetiques", "revenu median",
                 "nombre de menages"]:
        assert _rules(scan_text(text, "x")) == ["sans accent"], text
    assert scan_text("taux de pauvreté, quartiers défavorisés, données synthétiques", "x") == []
    header = "<table><thead><tr><th>taux_pauvrete</th></tr></thead><tbody><tr><td>12,5</td></tr></tbody></table>"
    assert _rules(scan_html(header, "x")) == ["sans accent"]


def test_codes_where_a_name_exists_are_found():
    [finding] = scan_html("<figure><figcaption>Carte de la commune 35238</figcaption></figure>", "labs/x.ipynb, cellule 9")
    assert finding.rule == "code au lieu du nom" and finding.place == "labs/x.ipynb, cellule 9"
    assert scan_text("la Métropole d'Aix-Marseille-Provence (EPCI 200054807)", "x") == []
    assert scan_text("aucune ligne pour le territoire 21231 (Dijon)", "x") == []


def test_code_styles_and_maps_documents_are_not_prose():
    assert scan_html("<p>Écrivez <code>licence_status: unverified</code>.</p><pre>KeyError: 1.5</pre>"
                     "<style>.a{width:10.5em}</style>", "x") == []


def test_a_map_tooltip_showing_a_raw_number_is_found():
    doc = ('<html><body><div class="legend">Température (°C)</div><script>let fields = ["quintile"];\n'
           'let aliases = ["Quintile (1 à 5)"];\n geo_json({"properties": {"quintile": 2.0}})</script></body></html>')
    frame = f'<figure><iframe srcdoc="{doc.replace(chr(34), "&quot;")}"></iframe></figure>'
    [finding] = scan_html(frame, "labs/x.ipynb, cellule 14")
    assert finding.place == "labs/x.ipynb, cellule 14 (carte)" and "quintile" in finding.excerpt and "2.0" in finding.excerpt


def test_a_notebook_is_scanned_cell_by_cell_with_its_widgets():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Titre"),
                nbformat.v4.new_code_cell("print(x)", outputs=[
                    nbformat.v4.new_output("stream", name="stderr", text="FutureWarning: the default will change\n")]),
                nbformat.v4.new_code_cell("x", outputs=[
                    nbformat.v4.new_output("error", ename="KeyError", evalue="'nom'",
                                           traceback=["\x1b[0;31mKeyError\x1b[0m: 'nom'"])])]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {
        "a": {"model_name": "FloatSliderModel", "state": {"description": "poids : taux pauvrete", "readout": True,
                                                          "readout_format": ".2f"}},
        "c": {"model_name": "IntSliderModel", "state": {"description": "Plafond (€ par an)", "readout": True,
                                                        "readout_format": "d", "min": 7000, "max": 12000}},
        "d": {"model_name": "IntSliderModel", "state": {"description": "Seuil (%)", "readout": True,
                                                        "readout_format": "d", "min": 5, "max": 60}},
        "b": {"model_name": "OutputModel", "state": {"outputs": [
            {"output_type": "stream", "name": "stdout", "text": "moyenne : 0.4567\n"}]}}}}}
    places = sorted({(f.place, f.rule) for f in scan_notebook(nb, "labs/x.ipynb")})
    assert places == [("labs/x.ipynb, cellule 2 (sortie d'erreur)", "anglais"),  # nb.cells[1]: counted from 1
                      ("labs/x.ipynb, cellule 3 (erreur)", "anglais"),
                      ("labs/x.ipynb, widget « OutputModel »", "nombre non formaté"),
                      ("labs/x.ipynb, widget « Plafond (€ par an) »", "nombre non formaté"),
                      ("labs/x.ipynb, widget « poids : taux pauvrete »", "nombre non formaté"),
                      ("labs/x.ipynb, widget « poids : taux pauvrete »", "sans accent")]


def test_the_report_names_the_place_and_quotes_the_excerpt():
    text = french_scan.report([Finding("labs/x.ipynb, cellule 4", "anglais", "KeyError: 'nom'")] * 2)
    assert text == "labs/x.ipynb, cellule 4 : anglais : « KeyError: 'nom' »"


# --- what the library gives a lab ------------------------------------------------------------------

def test_the_library_errors_raised_into_a_lab_are_french(tmp_path, monkeypatch):
    """What a trainee reads when the library refuses: IPython shows `_render_traceback_` (a
    French heading and the message) instead of a Python traceback, the ethics charter's errors
    included."""
    monkeypatch.delenv("DQ_ETHICS_CHARTER", raising=False)
    book_charter = charter.load_charter()
    calls = {
        "unknown dataset": lambda: data.load("jeu_qui_n_existe_pas"),
        "unknown territory": lambda: data.load("filosofi_iris_2018", territory="99999"),
        "territory not covered": lambda: data.load("qpv_revenus_c2s", territory="21001"),
        "missing column": lambda: indicators.composite(data.load("filosofi_iris_2018").head(), {"colonne_absente": 1}),
        "unreadable charter": lambda: charter.load_charter(tmp_path / "absente.yml"),
        "unknown principle": lambda: book_charter.principle("principe-qui-n-existe-pas"),
        "no charter": lambda: (monkeypatch.setattr(charter, "REPO_DIR", tmp_path / "ici"),
                               charter.find_charter(tmp_path / "ici" / "labs")),
    }
    for what, call in calls.items():
        try:
            call()
        except Exception as err:  # noqa: BLE001  (any error a trainee could meet)
            caught = err
        else:
            pytest.fail(f"{what}: no error")
        assert hasattr(caught, "_render_traceback_"), f"{what}: a Python traceback ({type(caught).__name__})"
        shown = "\n".join(caught._render_traceback_())
        # the messages list the names a trainee may type (datasets, columns): only English is a defect here
        assert not [f for f in french_scan.scan_text(shown, what) if f.rule == "anglais"], f"{what}: {shown}"
        assert "Traceback" not in shown and 'File "' not in shown


def test_map_tooltips_write_numbers_the_french_way():
    import geopandas as gpd
    from shapely.geometry import box

    squares = gpd.GeoDataFrame({"nom": ["a", "b"], "quintile": [1.0, 5.0], "taux": [12.345, None]},
                               geometry=[box(5.36, 43.29, 5.37, 43.30), box(5.37, 43.29, 5.38, 43.30)], crs=4326)
    m = maps.base_map(squares)
    maps.choropleth_layer(m, squares, "quintile", name="Quintile", tooltip={"nom": "IRIS", "quintile": "Quintile",
                                                                           "taux": "Taux (%)"})
    doc = m.get_root().render()
    assert '"quintile (info-bulle)": "1"' in doc and '"taux (info-bulle)": "12,3"' in doc
    assert french_scan.scan_map_document(doc, "carte") == []


def test_choices_fr_labels_a_slider_the_french_way():
    assert indicators.choices_fr([0, 0.5, 1]) == [("0,0", 0), ("0,5", 0.5), ("1,0", 1)]
    assert [v for _, v in indicators.choices_fr([0, 1, 2], including=1.5)] == [0, 1, 1.5, 2]
