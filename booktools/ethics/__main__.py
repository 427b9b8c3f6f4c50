"""`python -m booktools.ethics check` (also run by the build and by the tests) and
`python -m booktools.ethics new labs/<lab>.ipynb` (the assessment to fill in for a new lab)."""

from __future__ import annotations

import sys
from pathlib import Path

from dataquartiers.charter import CHARTER_FILE, EthicsError, _display, load_charter
from dataquartiers.cli import ArgumentParser

from .check import assessment_path, check_repository, skeleton


def _parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="python -m booktools.ethics",
        description="La charte éthique et l'évaluation éthique de chaque lab.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMANDE",
                                title="commandes")
    check = sub.add_parser("check", help="vérifier la charte et l'évaluation de chaque labs/*.ipynb")
    check.add_argument("--root", type=Path, default=Path.cwd(), metavar="DOSSIER",
                       help="racine du livre (défaut : le dossier courant)")
    new = sub.add_parser("new", help="créer l'évaluation à remplir d'un lab")
    new.add_argument("notebook", type=Path, metavar="LAB", help="le notebook du lab, par exemple labs/mon-lab.ipynb")
    new.add_argument("--root", type=Path, default=Path.cwd(), metavar="DOSSIER",
                     help="racine du livre (défaut : le dossier courant)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check":
        report = check_repository(args.root)
        for message in report.errors:
            print(message, file=sys.stderr)
        if report.errors:
            n = len(report.errors)
            print(f"éthique : {n} problème{'s' if n > 1 else ''} à corriger", file=sys.stderr)
            return 1
        n = len(report.assessments)
        print(f"éthique : {n} lab{'s' if n > 1 else ''} évalué{'s' if n > 1 else ''} au regard des "
              f"{len(report.charter.principles)} principes de {CHARTER_FILE} : tout est en ordre")
        return 0
    target = assessment_path(args.notebook)
    if target.exists():
        print(f"{_display(target, args.root)} : existe déjà (on ne l'écrase pas)", file=sys.stderr)
        return 1
    if not Path(args.notebook).exists():
        print(f"{_display(args.notebook, args.root)} : notebook introuvable", file=sys.stderr)
        return 1
    try:
        charter = load_charter(args.root / CHARTER_FILE)
    except (EthicsError, FileNotFoundError) as err:
        print(err, file=sys.stderr)
        return 1
    target.write_text(skeleton(charter, args.notebook, args.root), encoding="utf-8")
    print(f"{_display(target, args.root)} : créé ; remplissez-le, puis lancez « python -m booktools.ethics check »")
    return 0


if __name__ == "__main__":
    sys.exit(main())
