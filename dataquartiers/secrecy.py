"""Statistical secrecy: no count of fewer than 11 persons or households is ever shown.

INSEE's practice for small areas: a published count must cover at least 11 units, otherwise an
individual could be recognised. The check works on the columns that hold counts of persons or
households; a data package field declares it with `"dq:count_of": "personnes"` (or "ménages",
"allocataires"…), and labs pass the column names explicitly. Zero is allowed: an empty cell
reveals nobody. Rates and averages are not counts and are not checked here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import pandas as pd

THRESHOLD = 11
MASK_LABEL = "< 11 (masqué)"


@dataclass(frozen=True)
class SmallCount:
    """One cell that would reveal fewer than 11 persons or households."""

    row: object
    column: str
    value: float

    def __str__(self) -> str:
        return f"row {self.row!r}, column '{self.column}': {self.value:g} is under {THRESHOLD}"


def find_small_counts(df: pd.DataFrame, count_columns: Iterable[str],
                      threshold: int = THRESHOLD) -> list[SmallCount]:
    """Every cell of `count_columns` with 0 < value < threshold."""
    found = []
    for column in count_columns:
        if column not in df.columns:
            raise KeyError(f"find_small_counts: no column '{column}' (columns: {', '.join(map(str, df.columns))})")
        values = pd.to_numeric(df[column], errors="coerce")
        bad = values[(values > 0) & (values < threshold)]
        found += [SmallCount(row=idx, column=column, value=float(v)) for idx, v in bad.items()]
    return found


class SecrecyError(ValueError):
    """A table about to be shown holds counts under the threshold."""


def check_displayable(df: pd.DataFrame, count_columns: Iterable[str], *, name: str = "table") -> pd.DataFrame:
    """Raise SecrecyError if the table shows a small count; return it unchanged otherwise.

    Call it on what a lab is about to display (`display(check_displayable(t, ["population"]))`).
    """
    found = find_small_counts(df, count_columns)
    if found:
        listed = "; ".join(map(str, found[:5])) + (f"; … ({len(found)} in all)" if len(found) > 5 else "")
        raise SecrecyError(
            f"{name}: {len(found)} count(s) under {THRESHOLD} would be shown ({listed}). "
            f"Mask them with dataquartiers.secrecy.mask_small_counts().")
    return df


def mask_small_counts(df: pd.DataFrame, count_columns: Iterable[str],
                      threshold: int = THRESHOLD) -> pd.DataFrame:
    """A copy where every count under the threshold is replaced by a missing value (NA).

    Missing rather than 0 or a label, so that sums and maps treat it as unknown, not as nobody;
    maps and tables then say "donnée absente ou masquée".
    """
    out = df.copy()
    for column in count_columns:
        values = pd.to_numeric(out[column], errors="coerce")
        small = (values > 0) & (values < threshold)
        out[column] = values.mask(small)
    return out
