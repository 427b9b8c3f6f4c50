"""`python -m booktools.catalogue new source <id>`: a new entry with every field of the schema,
each preceded by its help text as YAML comments, ready to be filled in.

Every field to fill holds the placeholder « À COMPLÉTER », which `check` reports until it is
replaced; optional fields are left empty (an empty field counts as absent). The review date is one
of them: the person who checked the entry writes the day, never the tool or the build.

The same text is committed as the guide's templates (catalogue/templates/, see templates.py).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from .model import CATALOGUE_DIR, ID_EXPECTED, ID_PATTERN, KINDS, PLACEHOLDER, schema

WIDTH = 80  # the guide shows the scaffold in a code block: no horizontal scrolling


def _comment(node: dict, required: bool, indent: str) -> list[str]:
    description = node.get("description", "")
    status = "obligatoire" if required else ("selon le cas" if description.startswith("Obligatoire si") else "facultatif")
    lines = textwrap.wrap(f"{node.get('title', '')} ({status}) : {description}", WIDTH - len(indent) - 2,
                          break_on_hyphens=False)
    target = node.get("items", node) if node.get("type") == "array" else node
    if "x-terms" in target:
        values = ", ".join(f"{value} = {target['x-terms'][value]['label']}" for value in target["enum"])
        lines += textwrap.wrap("Valeurs possibles : " + values, WIDTH - len(indent) - 2, break_on_hyphens=False)
    return [f"{indent}# {line}" for line in lines]


def _block(node: dict, values: dict, indent: str = "") -> list[str]:
    out: list[str] = []
    required = node.get("required", [])
    for name, sub in node["properties"].items():
        is_required = name in required
        out += _comment(sub, is_required, indent)
        if name in values:
            out.append(f"{indent}{name}: {values[name]}")
        elif sub.get("type") == "object":
            out.append(f"{indent}{name}:")
            out += _block(sub, {}, indent + "  ")
        elif sub.get("type") == "array" and "properties" in sub.get("items", {}):
            out.append(f"{indent}{name}:")
            item = _block(sub["items"], {}, indent + "    ")
            first = next(i for i, line in enumerate(item) if not line.lstrip().startswith("#"))
            item[first] = f"{indent}  - {item[first].lstrip()}"
            out += item
        elif sub.get("type") == "array":
            out += [f"{indent}{name}:", f"{indent}  - {PLACEHOLDER}"] if is_required else [f"{indent}{name}: []"]
        else:
            out.append(f"{indent}{name}: {PLACEHOLDER}" if is_required else f"{indent}{name}:")
        if not indent:  # a blank line between top-level fields
            out.append("")
    return out


def scaffold(kind: str, entry_id: str) -> str:
    """The text of a new, unfilled entry."""
    head = [f"# {schema(kind)['title']}.",
            f"# Remplacez chaque « {PLACEHOLDER} », puis vérifiez : make check-catalogue",
            "# Les lignes qui commencent par # sont des commentaires : vous pouvez les garder ou les effacer.",
            "# Un texte qui contient « : », « # » ou commence par un guillemet se met entre guillemets",
            "# (voir « Guillemets et textes longs » dans catalogue/guide.md).",
            ""]
    # A new source's licence is unverified until someone has read it on the producer's page.
    values = {"id": entry_id}
    if kind == "source":
        values["licence_status"] = "unverified"
    return "\n".join(head + _block(schema(kind), values)).rstrip() + "\n"


def new_entry(root: Path | str, kind: str, entry_id: str) -> Path:
    """Write catalogue/<sources|partners>/<id>.yml under the book root; refuse a bad id or an existing file."""
    if kind not in KINDS:
        raise ValueError(f"type de fiche inconnu « {kind} » (attendu : {', '.join(KINDS)})")
    if not ID_PATTERN.match(entry_id):
        raise ValueError(f"« {entry_id} » n'est pas un identifiant valide (attendu : {ID_EXPECTED})")
    path = Path(root) / CATALOGUE_DIR / KINDS[kind][0] / f"{entry_id}.yml"
    if path.exists():
        raise FileExistsError(f"{path} existe déjà : modifiez-le plutôt")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(scaffold(kind, entry_id), encoding="utf-8")
    return path
