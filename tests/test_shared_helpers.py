"""One home for each helper the book shares (issue 14, point 3), and what keeps it one.

- French numbers: `dataquartiers.indicators.format_fr`, also behind the map legends, the
  charter's averages and the datasets page; no other code writes a decimal comma by hand.
- datapackage.json: parsed by `dataquartiers.data.package` only.
- jsonschema errors: the field names and the order of the messages (`dataquartiers.schema_errors`).
"""

from __future__ import annotations

import math
import re

import jsonschema
import pytest

from conftest import REPO
from dataquartiers import charter, schema_errors
from dataquartiers.indicators import format_fr
from dataquartiers.maps import Classes

NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.mark.parametrize("value, decimals, unit, expected", [
    (12345.678, 1, "%", f"12{NNBSP}345,7{NBSP}%"),
    (2.25, 1, "", "2,3"),          # halves up, as taught (Python's own rounding gives 2.2)
    (0.125, 2, "", "0,13"),
    (-2.25, 1, "", "-2,3"),
    (-0.04, 1, "", "0,0"),         # no "-0,0"
    (1234567, 0, "", f"1{NNBSP}234{NNBSP}567"),
    (math.inf, 1, "", "∞"),
    (None, 1, "", "—"),
    (float("nan"), 1, "", "—"),
])
def test_format_fr(value, decimals, unit, expected):
    assert format_fr(value, decimals, unit) == expected


def test_map_legends_and_charter_averages_use_it():
    assert Classes(edges=[1234.5, 2345.25, 12345.25]).labels(1) == [
        f"1{NNBSP}234,5 – 2{NNBSP}345,3", f"2{NNBSP}345,3 – 12{NNBSP}345,3"]
    assert Classes(edges=[0, 0.5, 1]).labels(2) == ["0,00 – 0,50", "0,50 – 1,00"]
    assert charter.fmt_number(2.25) == "2,3" and charter.fmt_number(None) == "–"


def test_no_other_code_writes_french_numbers_by_hand():
    """A decimal comma or a thousands space typed in code would be a second formatter."""
    by_hand = re.compile(r"""\.replace\(\s*(['"])[.,]\1\s*,\s*(['"])(,|\\u202f|\\u00a0| |\u202f|\u00a0)\2\s*\)""")
    found = []
    for folder in ("dataquartiers", "booktools"):
        for path in sorted((REPO / folder).rglob("*.py")):
            if "_vendor" in path.parts or path == REPO / "dataquartiers" / "indicators.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if by_hand.search(line):
                    found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not found, "use dataquartiers.indicators.format_fr:\n" + "\n".join(found)


def test_schema_errors_name_fields_as_written_and_keep_the_document_order():
    schema = {"type": "object", "properties": {
        "themes": {"type": "array", "items": {"type": "object", "required": ["definition"]}},
        "a": {"type": "string"}}}
    errors = schema_errors.errors_in_order(jsonschema.Draft202012Validator(schema),
                                           {"themes": [{"definition": "x"}, {}], "a": 1})
    assert [schema_errors.field_name(e.absolute_path) for e in errors] == ["a", "themes[1]"]
    assert schema_errors.field_name(["themes", 0, "principles", 1, "definition"]) == \
        "themes[0].principles[1].definition"
