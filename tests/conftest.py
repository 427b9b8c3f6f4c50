"""Shared fixtures: the repository's paths, the built book (built once per session), a local server."""

from __future__ import annotations

import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from booktools.headless import serve_folder  # noqa: F401  (tests import it from here)

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BUILD_GATE = [str(BIN / "jupyter-book"), "build", "--all", "-W", "-n", "--keep-going", "."]


@dataclass
class Build:
    returncode: int
    output: str
    html: Path


@pytest.fixture(scope="session")
def book_build() -> Build:
    """Run the build gate once: every test that reads the site shares this build."""
    proc = subprocess.run(BUILD_GATE, cwd=REPO, capture_output=True, text=True)
    return Build(proc.returncode, proc.stdout + proc.stderr, REPO / "_build" / "html")


@pytest.fixture(scope="session")
def site(book_build: Build) -> Path:
    """The built HTML folder; fails clearly when the build gate did not pass."""
    if book_build.returncode != 0 or not (book_build.html / "index.html").exists():
        pytest.fail("the book did not build (see test_build_gate for the output)")
    return book_build.html


@pytest.fixture(scope="session")
def site_url(site: Path):
    with serve_folder(site) as url:
        yield url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
