"""What the book's YAML checks share to turn jsonschema errors into sentences.

The ethics charter and the labs' assessments (`charter`, `booktools.ethics`) and the catalogue
(`booktools.catalogue`) are YAML that people edit by hand, checked against a JSON Schema; each check
words its own sentences (the vocabulary of a principle is not that of a catalogue entry) but
names a field and orders the errors the same way, here. Standard library only: the
self-assessment runs in the browser.
"""

from __future__ import annotations

from typing import Iterable


def field_name(path: Iterable) -> str:
    """A field as a person finds it in the YAML: `themes[0].principles[1].definition`."""
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def errors_in_order(validator, instance) -> list:
    """Every error of `instance`, in the order of the fields in the document, then by keyword
    (stable: a message list does not change between runs)."""
    return sorted(validator.iter_errors(instance), key=lambda e: ([str(p) for p in e.absolute_path], e.validator))
