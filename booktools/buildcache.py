"""Skipping work whose inputs did not change (incremental builds).

The JupyterLite build and the lab zips take most of a no-change rebuild: each records a digest
of its inputs in the build folder and is skipped when they are the same and its output exists.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def inputs_digest(paths, root: Path) -> str:
    """sha256 over the files (folders: every file below) of `paths`: relative names and bytes."""
    digest = hashlib.sha256()
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files += [f for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts]
        elif path.exists():
            files.append(path)
    for f in sorted(set(files)):
        try:
            name = f.relative_to(root).as_posix()
        except ValueError:
            name = f.as_posix()
        digest.update(name.encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()


def build_cache_dir(app) -> Path:
    """Where this build keeps its digests: beside its html output (never published)."""
    return Path(app.outdir).parent / ".dq-build-cache"


def is_unchanged(cache_dir: Path, key: str, digest: str) -> bool:
    record = Path(cache_dir) / f"{key}.sha256"
    return record.exists() and record.read_text(encoding="utf-8").strip() == digest


def remember(cache_dir: Path, key: str, digest: str) -> None:
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    (Path(cache_dir) / f"{key}.sha256").write_text(digest + "\n", encoding="utf-8")
