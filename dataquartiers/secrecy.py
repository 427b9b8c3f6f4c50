"""Statistical secrecy: no count of fewer than 11 persons or households is ever shown.

The threshold of 11 is the rule of INSEE's fiscal sources (Filosofi, the gridded income data): a
published count must cover at least 11 households, otherwise one could be recognised. The book
applies it, as its own rule, to every count it ships or shows.

The check works on the columns that hold counts of persons or households; a data package field declares it with `"dq:count_of": "personnes"` (or "ménages"),
and labs pass the column names explicitly. Zero is allowed: an empty cell reveals nobody. Rates
and averages are not counts and are not checked here.

The shipped data is checked by `python -m dataquartiers.secrecy check` (`make check-secrecy`):
every field marked `dq:count_of` of every resource of `datasets/datapackage.json`; it prints the
file, column and row of each small count and exits with status 1 if there is one.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd

from .cli import ArgumentParser
from .data import DonneesError, LabKeyError
from .indicators import format_fr

THRESHOLD = 11
MASK_LABEL = "< 11 (masqué)"


@dataclass(frozen=True)
class SmallCount:
    """One cell that would reveal fewer than 11 persons or households."""

    row: object
    column: str
    value: float

    def __str__(self) -> str:
        return f"ligne {self.row!r}, colonne « {self.column} » : {format_count(self.value)} est inférieur à {THRESHOLD}"


def find_small_counts(df: pd.DataFrame, count_columns: Iterable[str],
                      threshold: int = THRESHOLD) -> list[SmallCount]:
    """Every cell of `count_columns` with 0 < value < threshold."""
    found = []
    for column in count_columns:
        if column not in df.columns:
            raise LabKeyError(f"find_small_counts : pas de colonne « {column} » (colonnes : {', '.join(map(str, df.columns))})")
        values = pd.to_numeric(df[column], errors="coerce")
        bad = values[((values > 0) & (values < threshold)).fillna(False).astype(bool)]
        found += [SmallCount(row=idx, column=column, value=float(v)) for idx, v in bad.items()]
    return found


def format_count(value: float) -> str:
    """A count as a message shows it: 4, 10,6 (the book's one formatter, `format_fr`)."""
    return format_fr(value, 0 if float(value).is_integer() else 1)


class SecrecyError(DonneesError, ValueError):
    """A table about to be shown holds counts under the threshold."""

    label = "Secret statistique"


def check_displayable(df: pd.DataFrame, count_columns: Iterable[str], *, name: str = "table") -> pd.DataFrame:
    """Raise SecrecyError if the table shows a small count; return it unchanged otherwise.

    Call it on what a lab is about to display (`display(check_displayable(t, ["population"]))`).
    """
    found = find_small_counts(df, count_columns)
    if found:
        listed = " ; ".join(map(str, found[:5])) + (f" ; … ({len(found)} en tout)" if len(found) > 5 else "")
        raise SecrecyError(
            f"{name} : {len(found)} effectif(s) inférieur(s) à {THRESHOLD} seraient affichés ({listed}). "
            f"Masquez-les avec dataquartiers.secrecy.mask_small_counts().")
    return df


def mask_small_counts(df: pd.DataFrame, count_columns: Iterable[str],
                      threshold: int = THRESHOLD) -> pd.DataFrame:
    """A copy where every count under the threshold is replaced by a missing value (NA).

    Missing rather than 0 or a label, so that sums and maps treat it as unknown, not as nobody;
    maps and tables then say "donnée absente ou masquée".
    """
    out = df.copy()
    for column in count_columns:
        if column not in out.columns:
            raise LabKeyError(f"mask_small_counts : pas de colonne « {column} » (colonnes : {', '.join(map(str, out.columns))})")
        values = pd.to_numeric(out[column], errors="coerce")
        small = ((values > 0) & (values < threshold)).fillna(False).astype(bool)
        out[column] = values.mask(small)
    return out


# --- the shipped data -------------------------------------------------------------------------

@dataclass(frozen=True)
class ShippedSmallCount:
    """A small count in a file of `datasets/`: where it is, as a maintainer would look for it."""

    file: str
    column: str
    line: int  # line in the CSV file (header = line 1), or feature number in a GeoJSON file
    key: str
    value: float

    def __str__(self) -> str:
        place = f"ligne {self.line}" if self.file.endswith(".csv") else f"objet {self.line}"
        return (f"{self.file} : colonne « {self.column} », {place}{f' ({self.key})' if self.key else ''} : "
                f"{format_count(self.value)} est inférieur à {THRESHOLD}")


def check_dataset(name: str, folder: Path | None = None) -> list[ShippedSmallCount]:
    """Every count of 1 to 10 in the fields of a resource marked `dq:count_of`."""
    from . import data

    folder = Path(folder) if folder else data.datasets_dir()
    res = data.resource(name, folder)
    columns = data.count_columns(res)
    if not columns:
        return []
    df = data.load(name, folder=folder)
    key_fields = res.get("schema", {}).get("primaryKey", [])
    if isinstance(key_fields, str):
        key_fields = [key_fields]
    is_csv = res["path"].endswith(".csv")
    found = []
    for small in find_small_counts(df, columns):
        key = ", ".join(f"{k}={df.at[small.row, k]}" for k in key_fields if k in df.columns)
        found.append(ShippedSmallCount(file=f"{folder.name}/{res['path']}", column=small.column,
                                       line=int(small.row) + (2 if is_csv else 1), key=key, value=small.value))
    return found


def check_shipped(folder: Path | None = None) -> list[ShippedSmallCount]:
    """Every small count in every resource of the data package."""
    from . import data

    found = []
    for name in data.resources(folder):
        found += check_dataset(name, folder)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m dataquartiers.secrecy",
                            description="Secret statistique : aucun effectif de personnes ou de ménages "
                                        "inférieur à 11.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="commande")
    check = sub.add_parser("check", help="vérifie chaque colonne d'effectifs des jeux de données livrés")
    check.add_argument("--datasets", type=Path, default=None, help="dossier qui contient datapackage.json")
    args = parser.parse_args(argv)
    from . import data

    folder = args.datasets or data.datasets_dir()
    names = list(data.resources(folder))
    found = check_shipped(folder)
    for small in found[:200]:
        print(small)
    if len(found) > 200:
        print(f"… et {len(found) - 200} autres")
    checked = sum(1 for n in names if data.count_columns(n, folder))
    if found:
        print(f"secret statistique : {len(found)} effectif(s) inférieur(s) à {THRESHOLD} dans {folder} : masquez-les "
              "(booktools/prepare.py) ou documentez le masquage du producteur.", file=sys.stderr)
        return 1
    print(f"secret statistique : OK, aucun effectif de 1 à {THRESHOLD - 1} dans les {checked} ressources qui ont des "
          f"colonnes d'effectifs (sur {len(names)} dans {folder / 'datapackage.json'}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
