"""The catalogue under hostile and careless input (issue 16): the check and the build never hang nor
crash, every file that will not be read is reported, every mistake gets a French message naming the
file (and the line) with a hint that matches what is written, the exports are safe in a spreadsheet,
and an incremental build forgets the pages of removed entries.

The inputs are tests/fixtures/catalogue/hostile/ (one mistake per file, beside a valid entry). The
check and the builds run in their own process with a time limit and a memory limit: an alias bomb
that expanded, or a parser that looped, fails the test instead of hanging the suite.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from booktools.catalogue import load_catalogue, sample_book, to_csv, to_spreadsheet_csv

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "catalogue"
HOSTILE = FIXTURES / "hostile"
TODAY = dt.date(2026, 1, 15)
QUOTING = "(voir « Guillemets et textes longs » dans le guide)"

#: file -> a part of its one message (the whole sentence is checked for the file name and the line).
EXPECTED = {
    "catalogue/sources/bombe-alias.yml":
        "ligne 1 : les ancres et alias YAML (« & » et « * ») ne sont pas acceptés dans une fiche",
    "catalogue/sources/cle-complexe.yml": "ligne 37 : un nom de champ doit être un simple mot",
    "catalogue/sources/etiquette.yml":
        "ligne 2 : les étiquettes YAML (« !!python/object/apply:os.system ») ne sont pas acceptées",
    "catalogue/sources/commentaire.yml":
        "ligne 2 : champ « title » : le texte après « # » (« # et pauvreté par IRIS ») est lu comme un commentaire",
    "catalogue/sources/titre-espaces.yml": "champ « title » : absent (obligatoire ; attendu : un texte)",
    "catalogue/sources/titre-long.yml": "champ « title » : le texte fait 5119 caractères, c'est trop long (au plus 200",
    "catalogue/sources/titre-ponctuation.yml": "champ « title » : « ... » ne contient ni lettre ni chiffre",
    "catalogue/sources/MAJUSCULES.YML":
        "fichier ignoré : une fiche se termine par .yml en minuscules (renommez-le en MAJUSCULES.yml)",
    "catalogue/sources/texte.yml.txt":
        "fichier ignoré : une fiche se termine par .yml en minuscules (renommez-le en texte.yml)",
    "catalogue/sources/sous-dossier":
        "dossier ignoré : les fiches doivent être directement dans catalogue/sources/, pas dans un sous-dossier",
    "catalogue/egaree.yml": "fichier ignoré : une fiche de source va dans catalogue/sources/",
    "catalogue/sources/arobase.yml":
        "ligne 2, colonne 8 : erreur de syntaxe YAML : un caractère qui ne peut pas commencer une valeur (conseil : "
        "un texte ne peut pas commencer par « @ » sans guillemets : mettez toute la valeur entre guillemets, "
        f"par exemple \"@DataQuartiers, le compte\" {QUOTING})",
    "catalogue/sources/crochet.yml":
        "(conseil : une valeur qui commence par « [ » est lue comme une liste : si c'est un texte, mettez toute la "
        f"valeur entre guillemets {QUOTING})",
    "catalogue/sources/guillemet.yml":
        "(conseil : la valeur commence par un guillemet : YAML lit un texte entre guillemets, qui doit finir la "
        f"valeur ; mettez toute la valeur entre apostrophes droites ' ' {QUOTING})",
    "catalogue/sources/apostrophe.yml": "doublez chaque apostrophe à l'intérieur ('l''IRIS')",
    "catalogue/sources/tabulation.yml":
        "ligne 7, colonne 1 : erreur de syntaxe YAML : un caractère qui ne peut pas commencer une valeur (conseil : "
        "une tabulation s'est glissée dans la ligne : indentez avec des espaces seulement)",
    "catalogue/sources/deux-documents.yml": "le fichier contient plusieurs documents (une ligne « --- » au milieu)",
    "catalogue/sources/latin1.yml": "le fichier n'est pas enregistré en UTF-8",
    "catalogue/sources/trop-gros.yml": "le fichier dépasse 100 Ko",
}

#: Words of the English hints that pointed the wrong way (issue 16): never again.
WRONG_HINTS = ("tabs are not allowed", "check the indentation", "hint:")


def _limited(memory_gb: float):
    """Run the child under an address-space limit: an expanding alias bomb fails fast instead of swapping."""
    def limit():
        size = int(memory_gb * 1024 ** 3)
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    return limit


@pytest.fixture(scope="module")
def checked():
    run = subprocess.run([sys.executable, "-m", "booktools.catalogue", "--root", str(HOSTILE), "check"],
                         capture_output=True, text=True, timeout=60, preexec_fn=_limited(2))
    return run


def test_the_check_finishes_with_one_french_message_per_file(checked):
    assert checked.returncode == 1, checked.stderr
    assert "Traceback" not in checked.stderr + checked.stdout
    lines = checked.stdout.splitlines()
    by_file = {}
    for line in lines:
        path, _, message = line.partition(" : ")
        by_file.setdefault(path, []).append(message)
    assert set(by_file) == set(EXPECTED)
    assert f"{len(EXPECTED)} problème(s) dans {len(EXPECTED)} fichier(s)." in checked.stderr


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_each_hostile_or_careless_file_gets_its_message(checked, path):
    messages = [line.partition(" : ")[2] for line in checked.stdout.splitlines() if line.startswith(path + " : ")]
    assert len(messages) == 1, messages
    assert EXPECTED[path] in messages[0]
    assert not any(wrong in messages[0] for wrong in WRONG_HINTS)


def test_valid_entries_beside_hostile_ones_are_kept():
    cat = load_catalogue(HOSTILE, TODAY)
    assert sorted(e.id for e in cat.valid_sources()) == ["exemple-source", "formule"]


def test_the_build_reports_the_same_messages_and_never_hangs(tmp_path):
    book = sample_book(tmp_path / "livre", HOSTILE, theme="alabaster")
    shutil.copy(HOSTILE / "catalogue/egaree.yml", book / "catalogue/egaree.yml")  # sample_book copies the folders
    run = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", "--keep-going", str(book),
                          str(book / "_build")], capture_output=True, text=True, timeout=300, preexec_fn=_limited(4))
    assert "Traceback" not in run.stderr and "Exception occurred" not in run.stderr, run.stderr[-3000:]
    for path, message in EXPECTED.items():
        assert f"{path} : " in run.stderr and message in run.stderr, path
    assert (book / "_build/catalogue/fiches/formule.html").is_file()
    assert not (book / "_build/catalogue/fiches/commentaire.html").exists()


# --- exports safe in a spreadsheet --------------------------------------------------------------

def test_cells_that_would_start_a_formula_are_neutralised():
    cat = load_catalogue(HOSTILE, TODAY)
    for text in (to_csv(cat), to_spreadsheet_csv(cat).decode("utf-8-sig")):
        delimiter = ";" if text.count(";") > text.count(",") and "\r\n" in text else ","
        rows = {r["id"]: r for r in csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)}
        formula = rows["formule"]
        assert formula["title"] == "'=HYPERLINK(\"https://example.org\";\"cliquez\")"
        assert formula["publisher"] == "'@SOMME(1+1)"
        assert formula["limitations"] == "'-2+3"
        for row in rows.values():
            for value in row.values():
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_the_spreadsheet_export_opens_in_a_french_spreadsheet():
    """Semicolons (a French spreadsheet's separator), a byte-order mark (accents read as UTF-8), CRLF."""
    cat = load_catalogue(FIXTURES / "valid", TODAY)
    data = to_spreadsheet_csv(cat)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("id;title;description;")
    assert "\r\n" in text
    sheet = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    plain = list(csv.DictReader(io.StringIO(to_csv(cat))))
    assert sheet == plain
    assert any("é" in row["description"] for row in sheet)  # accents kept


# --- incremental builds ---------------------------------------------------------------------------

def test_an_incremental_build_removes_the_page_of_a_removed_entry(tmp_path):
    book = sample_book(tmp_path / "livre", FIXTURES / "valid", theme="alabaster")
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "--keep-going", str(book), str(book / "_build")]
    first = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    page = book / "_build/catalogue/fiches/autre-source.html"
    assert page.is_file()
    assert "fiches/autre-source.html" in (book / "_build/catalogue/index.html").read_text(encoding="utf-8")

    (book / "catalogue/sources/autre-source.yml").unlink()
    second = subprocess.run(command, capture_output=True, text=True, timeout=300)  # no -E: incremental
    assert second.returncode == 0, second.stderr
    assert not page.exists()
    assert (book / "_build/catalogue/fiches/exemple-source.html").is_file()
    assert "fiches/autre-source.html" not in (book / "_build/catalogue/index.html").read_text(encoding="utf-8")

    shutil.copy(FIXTURES / "valid/catalogue/sources/autre-source.yml", book / "catalogue/sources/autre-source.yml")
    third = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert third.returncode == 0, third.stderr
    assert page.is_file()  # an entry added back is published again, without -E
    assert "fiches/autre-source.html" in (book / "_build/catalogue/index.html").read_text(encoding="utf-8")
