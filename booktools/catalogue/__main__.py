"""Command line of the catalogue (what `make check-catalogue` runs), in French like its messages.

    python -m booktools.catalogue check [--root .]
    python -m booktools.catalogue new source|partner <id> [--root .]
    python -m booktools.catalogue templates [--root .]
    python -m booktools.catalogue export <dossier> [--base-url https://…] [--root .]
    python -m booktools.catalogue bench [--entries 2000]

Without --root, the book's root is found from the current folder (it or one of its parents holds
_config.yml and catalogue/), so the commands work from catalogue/ or catalogue/sources/ as well.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dataquartiers.cli import ArgumentParser

from .bench import bench_build
from .exports import write_exports
from .model import CATALOGUE_DIR, KINDS, find_root, load_catalogue
from .pages import md
from .scaffold import new_entry
from .templates_files import write_templates


def _parser() -> ArgumentParser:
    parser = ArgumentParser(prog="python -m booktools.catalogue",
                     description="Catalogue des sources et annuaire des partenaires.")
    parser.add_argument("--root", type=Path, default=None, metavar="DOSSIER",
                        help="racine du livre (par défaut : trouvée à partir du dossier courant)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="commande")
    check = commands.add_parser("check", help="vérifier toutes les fiches et signaler chaque problème")
    check.add_argument("--markdown", action="store_true",
                       help="écrire un compte rendu en Markdown (le commentaire d'une demande de fusion)")
    new = commands.add_parser("new", help="créer une fiche à remplir, avec l'aide de chaque champ")
    new.add_argument("kind", choices=list(KINDS), metavar="source|partner", help="type de fiche")
    new.add_argument("id", help="identifiant : lettres minuscules sans accent, chiffres et tirets")
    commands.add_parser("templates", help="refaire catalogue/templates/ (modèles et champs) à partir des schémas")
    export = commands.add_parser("export", help="écrire les exports CSV et DCAT-AP dans un dossier")
    export.add_argument("folder", type=Path, metavar="dossier")
    export.add_argument("--base-url", default="", help="adresse du site (nécessaire pour catalogue.jsonld)")
    bench = commands.add_parser("bench", help="temps de construction des pages, réelles et générées")
    bench.add_argument("--entries", type=int, default=2000, help="nombre de fiches générées")
    return parser


def _safe_markdown(text: str) -> str:
    """A text of a YAML file shown as typed in a forge comment: Markdown signs escaped, no @mention."""
    return md(text).replace("@", "@\u200b")


def markdown_report(cat) -> str:
    """The check's result as the comment of a pull request, in French."""
    lines = ["### Vérification du catalogue", ""]
    if not cat.problems:
        lines.append(f"Aucun problème : {len(cat.sources)} source(s) et {len(cat.partners)} partenaire(s) vérifiés.")
        return "\n".join(lines)
    files = len({p.path for p in cat.problems})
    lines += [f"{len(cat.problems)} problème(s) dans {files} fichier(s) : corrigez-les dans la même branche, la "
              "vérification repart à chaque modification. Le guide « Mettre à jour le catalogue » "
              "(catalogue/guide.md) explique chaque message.", ""]
    lines += [f"- {_safe_markdown(p.path)} : {_safe_markdown(p.message)}" for p in cat.problems]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "bench":
        print(json.dumps(bench_build(args.entries)))
        return 0

    root = args.root if args.root is not None else find_root()
    if root is None or not (root / CATALOGUE_DIR).is_dir():
        where = root / CATALOGUE_DIR if root is not None else Path.cwd()
        print(f"{where} : pas de dossier {CATALOGUE_DIR}/ ici ni au-dessus (lancez la commande dans le dépôt "
              "du livre, ou donnez --root)", file=sys.stderr)
        return 1
    if args.command == "new":
        try:
            path = new_entry(root, args.kind, args.id)
        except (ValueError, FileExistsError) as err:
            print(err, file=sys.stderr)
            return 1
        print(f"{path} : créé ; remplacez chaque « À COMPLÉTER », puis lancez make check-catalogue")
        return 0
    if args.command == "templates":
        for path in write_templates(root):
            print(f"{path} : refait")
        return 0

    cat = load_catalogue(root)
    if args.command == "export":
        for path in write_exports(cat, args.folder, args.base_url):
            print(path)
        return 1 if cat.problems else 0
    if args.markdown:
        print(markdown_report(cat))
        return 1 if cat.problems else 0
    for problem in cat.problems:
        print(problem)
    files = len({p.path for p in cat.problems})
    if cat.problems:
        print(f"{len(cat.problems)} problème(s) dans {files} fichier(s).", file=sys.stderr)
        return 1
    print(f"catalogue vérifié : {len(cat.sources)} source(s), {len(cat.partners)} partenaire(s), aucun problème.",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
