"""The built site's pages as the tests read them: each page parsed once per test session.

About ten tests scan every page of the site (1,500 pages, 80 MB of HTML: the atlas's sheets, the
lab pages with their maps and widgets); parsing was most of their time (a minute each). They share
one parse per page here. The shared trees are read-only: a test that needs to change a page's tree
takes `own_soup` (a parse of its own). A page rewritten during the session (a rebuild) is parsed
again: the key holds the file's modification time and size.
"""

from __future__ import annotations

import functools
from pathlib import Path

from bs4 import BeautifulSoup


def own_soup(path: Path) -> BeautifulSoup:
    """A parse of the page of one's own, to change."""
    return BeautifulSoup(Path(path).read_text(encoding="utf-8"), "html.parser")


@functools.lru_cache(maxsize=None)
def _parsed(path: Path, mtime_ns: int, size: int) -> BeautifulSoup:
    return own_soup(path)


def soup_of(path: Path) -> BeautifulSoup:
    """The page's tree, shared by every test of the session: read it, never change it."""
    path = Path(path).resolve()
    stat = path.stat()
    return _parsed(path, stat.st_mtime_ns, stat.st_size)
