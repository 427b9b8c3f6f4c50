"""The build tooling of the Data & Quartiers book: never shipped to trainees.

The labs import `dataquartiers` (the labs' library: data, indicators, maps, secrecy, charter);
everything that builds, checks, packs or measures the book lives here and may import
`dataquartiers`, never the reverse (tests/test_architecture.py enforces it).
See ARCHITECTURE.md for the map of the modules and the build pipeline.
"""

from pathlib import Path

#: This package's folder (its schemas, its vendored front-end assets).
TOOLS_DIR = Path(__file__).resolve().parent
#: The book's root: the repository.
REPO_DIR = TOOLS_DIR.parent
