"""Command line of the catalogue (what `make check-catalogue` runs).

    python -m booktools.catalogue check [--root .]
    python -m booktools.catalogue new source|partner <id> [--root .]
    python -m booktools.catalogue export <folder> [--root .]
    python -m booktools.catalogue bench [--entries 2000]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .bench import bench_build
from .exports import write_exports
from .model import CATALOGUE_DIR, KINDS, load_catalogue
from .scaffold import new_entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m booktools.catalogue",
                                     description="Catalogue des sources et annuaire des partenaires.")
    parser.add_argument("--root", type=Path, default=Path("."), help="racine du livre (par défaut : .)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="vérifier toutes les fiches et signaler chaque problème")
    new = commands.add_parser("new", help="créer une fiche à remplir, avec l'aide de chaque champ")
    new.add_argument("kind", choices=list(KINDS))
    new.add_argument("id")
    export = commands.add_parser("export", help="écrire catalogue.csv et catalogue.jsonld dans un dossier")
    export.add_argument("folder", type=Path)
    bench = commands.add_parser("bench", help="temps de construction des pages, réelles et générées")
    bench.add_argument("--entries", type=int, default=2000)
    args = parser.parse_args(argv)

    if args.command == "new":
        try:
            path = new_entry(args.root, args.kind, args.id)
        except (ValueError, FileExistsError) as err:
            print(err, file=sys.stderr)
            return 1
        print(f"{path}: created; replace every « À COMPLÉTER », then run make check-catalogue")
        return 0
    if args.command == "bench":
        print(json.dumps(bench_build(args.entries)))
        return 0

    if not (args.root / CATALOGUE_DIR).is_dir():
        print(f"{args.root / CATALOGUE_DIR}: no such folder (run from the root of the book, or give --root)",
              file=sys.stderr)
        return 1
    cat = load_catalogue(args.root)
    if args.command == "export":
        for path in write_exports(cat, args.folder):
            print(path)
        return 1 if cat.problems else 0
    for problem in cat.problems:
        print(problem)
    files = len({p.path for p in cat.problems})
    if cat.problems:
        print(f"{len(cat.problems)} problem(s) in {files} file(s).", file=sys.stderr)
        return 1
    print(f"catalogue OK: {len(cat.sources)} sources, {len(cat.partners)} partners.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
