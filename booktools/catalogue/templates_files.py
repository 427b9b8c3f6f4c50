"""The files of the staff guide that are kept in the repository, readable on the forge:
catalogue/templates/source.yml and partenaire.yml (blank entries to copy) and champs.md (what every
field means, with its possible values), all made from the schemas.

They are committed, not written by the build: someone reading the guide on the forge sees them, and
the build never changes the source tree. After a schema change, remake them with

    python -m booktools.catalogue templates

`tests/test_catalogue_staff.py` fails while they differ from what the schemas give.
"""

from __future__ import annotations

from pathlib import Path

from .model import CATALOGUE_DIR, KINDS, TEMPLATES_DIR, schema
from .pages import md
from .scaffold import scaffold

#: The example identifier of each blank entry (replaced by the person who copies it).
EXAMPLE_IDS = {"source": "nouvelle-source", "partner": "nouvelle-organisation"}
FIELDS_FILE = "champs.md"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _fields(node: dict, prefix: str = "", required: bool = True):
    for name, sub in node["properties"].items():
        dotted = f"{prefix}{name}"
        is_required = required and name in node.get("required", [])
        yield dotted, sub, is_required
        target = sub["items"] if sub.get("type") == "array" and "properties" in sub.get("items", {}) else sub
        if "properties" in target:
            child_prefix = f"{dotted}[]." if sub.get("type") == "array" else f"{dotted}."
            yield from _fields(target, child_prefix, is_required)


def _limits(sub: dict) -> str:
    node = sub["items"] if sub.get("type") == "array" and "maxLength" in sub.get("items", {}) else sub
    bounds = []
    if "minLength" in node:
        bounds.append(f"au moins {node['minLength']} caractères")
    if "maxLength" in node:
        bounds.append(f"au plus {node['maxLength']}")
    return f" ({', '.join(bounds)}.)" if bounds else ""


def field_reference() -> str:
    """catalogue/templates/champs.md: the fields of both kinds of entry, from the schemas."""
    out = ["# Ce que veut dire chaque champ", "",
           "Ce fichier est tiré des schémas qui servent à la vérification "
           "(`booktools/schemas/catalogue-source.schema.json` et `catalogue-partner.schema.json`) ; "
           "ne le modifiez pas à la main : `python -m booktools.catalogue templates` le refait. "
           "Les noms des champs suivent les vocabulaires DCAT-AP et ceux de data.gouv.fr, pour que le "
           "catalogue puisse être moissonné.", ""]
    for kind, heading in (("source", "Les champs d'une source"), ("partner", "Les champs d'un partenaire")):
        folder = KINDS[kind][0]
        out += [f"## {heading}", "",
                f"Un fichier `{CATALOGUE_DIR}/{folder}/<id>.yml` par entrée (modèle à copier : "
                f"`{CATALOGUE_DIR}/{TEMPLATES_DIR}/{KINDS[kind][2]}`). Les champs marqués « oui » sont obligatoires ; "
                "un champ facultatif peut être laissé vide ou retiré.", ""]
        rows, vocabularies = [], []
        for dotted, sub, is_required in _fields(schema(kind)):
            node = sub["items"] if sub.get("type") == "array" and "enum" in sub.get("items", {}) else sub
            if "x-terms" in node:
                vocabularies.append((dotted, sub.get("title", dotted), node))
            rows.append([f"`{dotted}`", md(sub.get("title", "")), "oui" if is_required else "non",
                         md(sub.get("description", "") + _limits(sub))])
        out += [_table(["Champ", "Nom", "Obligatoire", "Ce qu'il faut y écrire"], rows), ""]
        for dotted, title, node in vocabularies:
            out += [f"### Valeurs possibles de `{dotted}` ({md(title.lower())})", ""]
            rows = [[f"`{value}`", md(node["x-terms"][value]["label"])
                     + (" : " + md(node["x-terms"][value]["description"]) if "description" in node["x-terms"][value]
                        else "")]
                    for value in node["enum"]]
            out += [_table(["À écrire", "Signification"], rows), ""]
    return "\n".join(out).rstrip() + "\n"


def expected_files() -> dict[str, str]:
    """File name under catalogue/templates/ -> its text."""
    files = {KINDS[kind][2]: scaffold(kind, EXAMPLE_IDS[kind]) for kind in KINDS}
    files[FIELDS_FILE] = field_reference()
    return files


def stale_files(root: Path | str) -> list[Path]:
    """The committed files that differ from what the schemas give (missing ones included)."""
    folder = Path(root) / CATALOGUE_DIR / TEMPLATES_DIR
    return [folder / name for name, text in expected_files().items()
            if not (folder / name).is_file() or (folder / name).read_text(encoding="utf-8") != text]


def write_templates(root: Path | str) -> list[Path]:
    """Remake the stale files; returns those written."""
    written = []
    for path in stale_files(root):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(expected_files()[path.name], encoding="utf-8")
        written.append(path)
    return written
