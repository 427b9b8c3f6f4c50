"""Command lines in French: the parser of every `python -m dataquartiers.…` and `python -m booktools.…`.

argparse writes its own words in English (« usage: », « options: », « the following arguments are
required »…), through `gettext` at the moment it builds, formats or parses. `ArgumentParser` below
puts French words in their place for exactly those moments and gives argparse back unchanged
afterwards, so that another parser of the same process is left as it was. It lives in the labs'
library because the library's own command lines (`dataquartiers.territory`,
`dataquartiers.secrecy`) need it, and the tooling may import the library, never the reverse.
"""

from __future__ import annotations

import argparse
import contextlib

#: argparse's messages (Python 3.11) and what a French reader sees instead.
FRENCH = {
    "usage: ": "utilisation : ",
    "positional arguments": "arguments",
    "options": "options",
    "subcommands": "commandes",
    "show this help message and exit": "afficher cette aide et quitter",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "invalid choice: %(value)r (choose from %(choices)s)": "choix inconnu : %(value)r (au choix : %(choices)s)",
    "unknown parser %(parser_name)r (choices: %(choices)s)":
        "commande inconnue : %(parser_name)r (au choix : %(choices)s)",
    "invalid %(type)s value: %(value)r": "valeur invalide (attendu : %(type)s) : %(value)r",
    "expected one argument": "une valeur attendue",
    "expected at most one argument": "une valeur au plus attendue",
    "expected at least one argument": "au moins une valeur attendue",
    "expected %s argument": "%s valeur attendue",
    "expected %s arguments": "%s valeurs attendues",
    "one of the arguments %s is required": "l'un de ces arguments est obligatoire : %s",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "ignored explicit argument %r": "valeur ignorée : %r",
    "ambiguous option: %(option)s could match %(matches)s": "option ambiguë : %(option)s peut désigner %(matches)s",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s (voir --help)\n",
}


def _gettext(message: str) -> str:
    return FRENCH.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _gettext(singular if n == 1 else plural)


@contextlib.contextmanager
def _in_french():
    """argparse looks its `_` and `ngettext` up at call time: French words while this lasts."""
    saved = argparse._, argparse.ngettext
    argparse._, argparse.ngettext = _gettext, _ngettext
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved


class _FrenchFormatter(argparse.HelpFormatter):
    """Section titles with the French space before the colon (« options : »)."""

    def start_section(self, heading):
        super().start_section(f"{heading} " if heading else heading)


class ArgumentParser(argparse.ArgumentParser):
    """`argparse.ArgumentParser`, every word of its own in French (help, usage, errors); its
    sub-commands are parsers of this class too."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _FrenchFormatter)
        with _in_french():
            super().__init__(*args, **kwargs)

    def add_subparsers(self, **kwargs):
        kwargs.setdefault("title", "commandes")
        with _in_french():
            return super().add_subparsers(**kwargs)

    def parse_known_args(self, args=None, namespace=None):
        with _in_french():
            return super().parse_known_args(args, namespace)

    def parse_args(self, args=None, namespace=None):
        with _in_french():
            return super().parse_args(args, namespace)

    def format_usage(self):
        with _in_french():
            return super().format_usage()

    def format_help(self):
        with _in_french():
            return super().format_help()

    def error(self, message):
        with _in_french():
            super().error(message)
