"""Every command line of the book speaks French: `python -m booktools.…` and `python -m dataquartiers.…`.

The command lines are found, not listed: every module of the two packages that runs as a script
(`if __name__ == "__main__"`, or a package's `__main__.py`). Each one's `--help` and its answer to
an unknown option are read in-process (argparse stops before the command does anything).
"""

from __future__ import annotations

import argparse
import importlib
import re

import pytest

from conftest import REPO
from dataquartiers import cli

#: argparse's own English words: none may reach a user.
ENGLISH = re.compile(r"\b(usage|show this help|positional arguments|the following arguments|unrecognized arguments|"
                     r"invalid choice|error|expected one argument)\b|options:")


def command_modules() -> list[str]:
    names = []
    for package in ("booktools", "dataquartiers"):
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            if "_vendor" in parts:
                continue
            if parts[-1] == "__main__":
                names.append(".".join(parts[:-1]))
            elif re.search(r'^if __name__ == "__main__":', path.read_text(encoding="utf-8"), re.M):
                names.append(".".join(parts))
    return names


COMMANDS = command_modules()


def _main_of(name: str):
    module = importlib.import_module(f"{name}.__main__" if (REPO / name.replace(".", "/") / "__main__.py").exists()
                                     else name)
    return module.main


def _run(name: str, argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        _main_of(name)(argv)
    out = capsys.readouterr()
    return exit_.value.code, out.out, out.err


def test_the_command_lines_are_found():
    assert {"booktools.bench", "booktools.catalogue", "booktools.ethics", "booktools.prepare", "booktools.vendor",
            "dataquartiers.territory", "dataquartiers.secrecy"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_help_is_french(name, capsys):
    code, out, err = _run(name, ["--help"], capsys)
    assert code == 0 and err == ""
    assert out.startswith(f"utilisation : python -m {name}"), out[:200]
    assert "options :" in out and "-h, --help  " in out and "afficher cette aide et quitter" in out
    assert not ENGLISH.search(out), ENGLISH.search(out)


#: The command lines whose argument is required (the others run with none): what is missing.
REQUIRED = {"dataquartiers.territory": "code", "dataquartiers.secrecy": "commande", "booktools.ethics": "COMMANDE",
            "booktools.catalogue": "commande", "booktools.lite": "commande", "booktools.training": "commande",
            "booktools.french_scan": "cible"}


@pytest.mark.parametrize("name", COMMANDS)
def test_an_unknown_option_is_a_french_error(name, capsys):
    code, out, err = _run(name, ["--option-inconnue"], capsys)
    assert code == 2 and out == ""
    assert err.startswith(f"utilisation : python -m {name}")
    said = (f"arguments obligatoires manquants : {REQUIRED[name]}" if name in REQUIRED
            else "arguments non reconnus : --option-inconnue")
    assert err.splitlines()[-1] == f"python -m {name} : erreur : {said} (voir --help)"
    assert not ENGLISH.search(err), ENGLISH.search(err)


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_a_missing_argument_is_named_in_french(name, capsys):
    code, _, err = _run(name, [], capsys)
    assert code == 2
    assert err.splitlines()[-1] == (f"python -m {name} : erreur : arguments obligatoires manquants : {REQUIRED[name]} "
                                    "(voir --help)")


def test_a_wrong_value_and_a_wrong_command_are_french(capsys):
    code, _, err = _run("booktools.bench", ["tout"], capsys)
    assert code == 2 and "erreur : mesure inconnue : tout (au choix : build, dataset," in err
    code, _, err = _run("dataquartiers.secrecy", ["check", "--datasets"], capsys)
    assert code == 2
    assert err.splitlines()[-1].endswith("erreur : argument --datasets : une valeur attendue (voir --help)")
    code, _, err = _run("booktools.ethics", ["chek"], capsys)
    assert code == 2 and "erreur : argument COMMANDE : choix inconnu : 'chek' (au choix : 'check', 'new')" in err


def test_other_parsers_of_the_process_stay_as_argparse_made_them():
    """The French words are lent to argparse while a French parser works, then given back."""
    cli.ArgumentParser(prog="fr").format_help()
    english = argparse.ArgumentParser(prog="en")
    assert english.format_usage() == "usage: en [-h]\n"
    assert "show this help message and exit" in english.format_help()
