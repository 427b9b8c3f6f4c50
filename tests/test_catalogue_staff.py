"""The staff path (issue 16, point 5): what resource-centre staff use without any developer set-up.

The guide readable on the forge (its templates and field table committed, in step with the schemas),
a YAML quoting section whose examples really parse, the scaffold writing to the right place from any
folder, the review date left to the person, issue forms for a source and a partner that ask for every
required field with the schema's vocabularies, a workflow that checks every pull request and comments
in French, and a command line that speaks French.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from booktools.catalogue import scaffold, stale_files
from booktools.catalogue.model import KINDS, PLACEHOLDER, schema, terms
from booktools.catalogue.model import subschema as schema_node
from booktools.catalogue.yamlfile import read_yaml

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "catalogue"
GUIDE = REPO / "catalogue" / "guide.md"
FORMS = {"source": REPO / ".github/ISSUE_TEMPLATE/proposer-une-source.yml",
         "partner": REPO / ".github/ISSUE_TEMPLATE/proposer-un-partenaire.yml"}
#: Required fields that a proposal does not ask for, and why.
SET_BY_THE_TEAM = {
    "id": "the team chooses the identifier when it creates the file",
    "last_reviewed": "the date the team checks the entry, written by that person",
    "licence_status": "verified only once the team has read the licence on the producer's page",
}


# --- the guide and its committed files ----------------------------------------------------------

def test_the_committed_templates_and_field_table_are_those_of_the_schemas():
    assert stale_files(REPO) == [], "run: python -m booktools.catalogue templates"


def test_the_guide_shows_the_committed_files_and_the_build_writes_none():
    guide = GUIDE.read_text(encoding="utf-8")
    assert "```{literalinclude} templates/source.yml" in guide
    assert "```{literalinclude} templates/partenaire.yml" in guide
    assert "```{include} templates/champs.md" in guide
    for page in ("index.md", "partenaires.md", "guide.md"):
        assert "fiches/_" not in (REPO / "catalogue" / page).read_text(encoding="utf-8")  # no generated fragment
    assert "```{catalogue-table}" in (REPO / "catalogue/index.md").read_text(encoding="utf-8")
    assert "```{catalogue-partners}" in (REPO / "catalogue/partenaires.md").read_text(encoding="utf-8")


def _quoting_examples() -> list[tuple[str, str]]:
    """(the situation, the example) of each row of the guide's quoting table."""
    guide = GUIDE.read_text(encoding="utf-8")
    section = guide.split("## Guillemets et textes longs", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (.+?) \| `(.+?)` \| .+ \|$", section, flags=re.M)
    return [(what, example) for what, example in rows if ": " in example]


def test_the_quoting_examples_of_the_guide_parse_as_written():
    examples = _quoting_examples()
    assert len(examples) >= 7
    for what, example in examples:
        data, problems = read_yaml(example + "\n")
        assert problems == [] and isinstance(data, dict), (what, example, problems)
        value = next(iter(data.values()))
        assert value and "'" not in value[:1] + value[-1:] or value.startswith("'Quartiers"), (example, value)
    texts = [next(iter(read_yaml(e + "\n")[0].values())) for _, e in examples]
    assert "Logement social : le répertoire RPLS" in texts
    assert "Quartiers n° 1 # et 2" in texts  # the « # » is kept, not cut as a comment
    assert '"Filosofi" par IRIS' in texts
    assert "L'IRIS et le quartier" in texts


def test_the_same_texts_without_quotes_get_the_hint_that_matches():
    cases = {
        "title: Logement social : le répertoire RPLS": "le texte contient « : » suivi d'une espace",
        'title: "Filosofi" par IRIS': "la valeur commence par un guillemet",
        "title: 'L'IRIS et le quartier'": "doublez chaque apostrophe",
        "title: @données": "un texte ne peut pas commencer par « @ »",
        "title: [Brouillon] Revenus": "est lue comme une liste",
    }
    for text, hint in cases.items():
        data, problems = read_yaml(text + "\nid: x\n")
        assert data is None and len(problems) == 1 and hint in problems[0][1], (text, problems)
    _, problems = read_yaml("title: Quartiers n° 1 # et 2\n")
    assert "est lu comme un commentaire" in problems[0][1]


def test_the_guide_explains_lists_and_long_texts():
    section = GUIDE.read_text(encoding="utf-8").split("## Guillemets et textes longs", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)
    parsed = [read_yaml(block) for block in blocks]
    assert all(problems == [] for _, problems in parsed)
    assert {"themes": ["logement", "revenus"]} in [data for data, _ in parsed]
    long_text = next(data["description"] for data, _ in parsed if "description" in data)
    assert long_text.startswith("Logements sociaux au 1er janvier : nombre") and "\n" not in long_text


# --- the scaffold and the review date -----------------------------------------------------------

@pytest.mark.parametrize("folder", ["", "catalogue", "catalogue/sources", "labs"])
def test_the_scaffold_writes_to_the_right_place_from_any_folder(tmp_path, folder):
    root = tmp_path / "livre"
    shutil.copytree(FIXTURES / "valid", root)
    (root / "_config.yml").write_text("title: Livre d'essai\n", encoding="utf-8")
    cwd = root / folder
    cwd.mkdir(parents=True, exist_ok=True)
    run = subprocess.run([sys.executable, "-m", "booktools.catalogue", "new", "source", "ma-source"], cwd=cwd,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert (root / "catalogue/sources/ma-source.yml").is_file()
    assert not (cwd / "catalogue/sources/ma-source.yml").exists() or folder == ""
    assert "créé ; remplacez chaque « À COMPLÉTER »" in run.stdout


def test_outside_a_book_the_command_says_so_in_french(tmp_path):
    run = subprocess.run([sys.executable, "-m", "booktools.catalogue", "check"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "pas de dossier catalogue/ ici ni au-dessus" in run.stderr


def test_the_review_date_is_left_to_the_person():
    for kind in KINDS:
        text = scaffold(kind, "exemple")
        assert f"last_reviewed: {PLACEHOLDER}" in text
        assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text)  # no date written by the tool
        committed = (REPO / "catalogue/templates" / KINDS[kind][2]).read_text(encoding="utf-8")
        assert f"last_reviewed: {PLACEHOLDER}" in committed


# --- the issue forms ------------------------------------------------------------------------------

def _form(kind: str) -> dict:
    return yaml.safe_load(FORMS[kind].read_text(encoding="utf-8"))


def _required(kind: str, node: dict | None = None, prefix: str = ""):
    node = node if node is not None else schema(kind)
    for name in node.get("required", []):
        sub = node["properties"][name]
        target = sub.get("items", {}) if sub.get("type") == "array" else sub
        if target.get("type") == "object" and "properties" in target:
            yield from _required(kind, target, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}"


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_issue_form_asks_for_every_required_field(kind):
    fields = {item["id"]: item for item in _form(kind)["body"] if "id" in item}
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", fid) for fid in fields)  # what the forge accepts as an id
    for name in _required(kind):
        if name in SET_BY_THE_TEAM:
            continue
        fid = name.replace(".", "-")
        if fid not in fields and "." in name and "enum" not in schema_node(kind, name):
            # A list of groups (the distributions) is asked as one text, one line per item.
            fid = name.split(".")[0]
            assert fields.get(fid, {}).get("type") == "textarea", f"the form lacks the required field {name}"
        assert fid in fields, f"the form lacks the required field {name}"
        assert fields[fid]["validations"]["required"] is True, name


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_issue_form_lists_are_the_schema_vocabularies(kind):
    dropdowns = [item for item in _form(kind)["body"] if item["type"] == "dropdown"]
    assert dropdowns
    for item in dropdowns:
        field = item["id"].replace("-", ".")
        vocabulary = terms(kind, field)
        options = [o for o in item["attributes"]["options"] if o != "je ne sais pas"]
        assert options == [f"{value} — {t['label']}" for value, t in vocabulary.items()], field


def test_the_source_form_asks_what_the_issue_found_missing():
    fields = {item["id"] for item in _form("source")["body"] if "id" in item}
    assert {"publisher-url", "spatial_coverage", "distributions", "distributions-format", "personal_data",
            "geography_vintage"} <= fields


# --- the check on every pull request ------------------------------------------------------------

def test_a_workflow_checks_every_pull_request_and_comments_in_french():
    text = (REPO / ".github/workflows/catalogue.yml").read_text(encoding="utf-8")
    workflow, problems = read_yaml(text)  # every value as text: `on` stays a key
    assert problems == []
    assert "pull_request" in workflow["on"]
    steps = workflow["jobs"]["verifier"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "python -m booktools.catalogue check --markdown > commentaire.md" in runs
    assert 'gh pr comment "$DEMANDE" --body-file commentaire.md' in runs
    assert workflow["permissions"]["pull-requests"] == "write"
    installed = re.search(r"grep -E '\^\((.+?)\)==' requirements.txt", runs).group(1).split("|")
    pinned = (REPO / "requirements.txt").read_text(encoding="utf-8")
    assert all(re.search(rf"^{name}==", pinned, flags=re.M) for name in installed)


#: The check run in a Python that cannot import any distribution but those given (argv[1:]):
#: the others raise ModuleNotFoundError, as if the workflow had not installed them (optional
#: imports, like jsonschema's format checkers, then fall back as they would there).
_CHECK_WITH_ONLY = """
import importlib.abc, importlib.metadata as md, sys
allowed = set(sys.argv[1:])
owners = md.packages_distributions()
from packaging.utils import canonicalize_name

class OnlyInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in sys.stdlib_module_names or top in ("booktools", "dataquartiers") or path is not None:
            return None
        if top in owners and not {canonicalize_name(d) for d in owners[top]} & allowed:
            raise ModuleNotFoundError(f"No module named {top!r} (not installed by the workflow)", name=top)
        return None

sys.meta_path.insert(0, OnlyInstalled())
from booktools.catalogue.__main__ import main
sys.exit(main(["check"]))
"""


def test_the_workflow_installs_all_that_the_check_imports():
    """The check runs with only the packages the workflow installs (and what they require)."""
    runs = (REPO / ".github/workflows/catalogue.yml").read_text(encoding="utf-8")
    installed = re.search(r"grep -E '\^\((.+?)\)==' requirements.txt", runs).group(1).split("|")
    from booktools.bundles import _dependency_closure

    allowed = _dependency_closure(installed)
    proc = subprocess.run([sys.executable, "-c", _CHECK_WITH_ONLY, *sorted(allowed)], capture_output=True, text=True,
                          cwd=REPO)
    assert "ModuleNotFoundError" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode == 0 and "catalogue" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    # and the guard works: without pandas, the check cannot start
    without = _dependency_closure([name for name in installed if name != "pandas"])
    without = subprocess.run([sys.executable, "-c", _CHECK_WITH_ONLY, *sorted(without)], capture_output=True,
                             text=True, cwd=REPO)
    assert without.returncode != 0 and "No module named 'pandas'" in without.stderr


def test_the_pull_request_comment_lists_each_problem_safely():
    run = subprocess.run([sys.executable, "-m", "booktools.catalogue", "--root", str(FIXTURES / "broken"), "check",
                          "--markdown"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    comment = run.stdout
    assert comment.startswith("### Vérification du catalogue\n\n24 problème(s) dans 17 fichier(s)")
    assert comment.count("\n- ") == 24
    assert "<script>" not in comment and "\\<script\\>" in comment  # markup shown as typed
    assert "jeanne.exemple@example" not in comment  # no @mention of anyone
    ok = subprocess.run([sys.executable, "-m", "booktools.catalogue", "--root", str(FIXTURES / "valid"), "check",
                         "--markdown"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "Aucun problème" in ok.stdout


def test_the_command_line_speaks_french():
    run = subprocess.run([sys.executable, "-m", "booktools.catalogue", "--help"], capture_output=True, text=True,
                         timeout=60, cwd=REPO)
    assert run.returncode == 0
    assert "utilisation : " in run.stdout and "afficher cette aide" in run.stdout
    assert not re.search(r"\b(usage|show this help|positional arguments)\b", run.stdout)
    wrong = subprocess.run([sys.executable, "-m", "booktools.catalogue", "nouveau"], capture_output=True, text=True,
                           timeout=60, cwd=REPO)
    assert wrong.returncode == 2 and ("erreur : argument commande : choix inconnu : 'nouveau' (au choix : 'check', "
                                      "'new', 'templates', 'export', 'bench') (voir --help)") in wrong.stderr
    assert "invalid choice" not in wrong.stderr
