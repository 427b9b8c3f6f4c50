"""A test-only, partial Pyodide distribution: what these machines can get of Pyodide 314.0.6.

- the npm package `pyodide` (the core: runtime, standard library, lock file; no package wheels);
- the pure-Python wheels the kernel needs to boot (micropip 0.11.1, IPython, jedi and their
  dependencies), at the lock's versions, downloaded from PyPI by `make setup`
  (`python tests/pyodide_partial.py setup`), never at test time. micropip 0.11.1 from PyPI is the
  real one the kernel expects; PyPI's files of the others may differ from Pyodide's rebuilds, so
  the sha256 of every wheel taken from PyPI is written into the distribution's lock.

The compiled packages (numpy, pandas, shapely, pyproj…) are absent: a kit built from this
distribution (`build_kit(..., partial=True)`) drops them, and a lab's data cells cannot run there
(the real run of the labs' pandas code is `pyodide_real.py`, on Pyodide 0.27.7). Never used outside
tests.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from booktools import lite, offline_kit  # noqa: E402

PURE_CACHE = Path(sys.prefix) / "share" / "dataquartiers" / "test-pyodide-wheels"
#: What the kernel installs to boot.
BOOT_ROOTS = ["micropip", "ipython", "jedi"]


def _boot_packages(lock: dict) -> list[dict]:
    """The lock entries of the boot closure that are pure wheels (obtainable from PyPI)."""
    needed = offline_kit.closure(lock, BOOT_ROOTS)
    return [lock["packages"][k] for k in sorted(needed) if lock["packages"][k]["file_name"].endswith("-none-any.whl")]


def _cached(file_name: str) -> Path | None:
    return next((f for f in PURE_CACHE.glob("*.whl") if f.name.lower() == file_name.lower()), None)


def setup() -> None:
    """Download the boot wheels (run by `make setup`, while the registries are reachable)."""
    lock = lite.npm_pyodide_lock()
    PURE_CACHE.mkdir(parents=True, exist_ok=True)
    wanted = [f"{e['name']}=={e['version']}" for e in _boot_packages(lock) if not _cached(e["file_name"])]
    if wanted:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--only-binary=:all:", "--python-version", "3.14", "--implementation", "py",
                        "--abi", "none", "--platform", "any", "-d", str(PURE_CACHE), *wanted], check=True)
    missing = [e["file_name"] for e in _boot_packages(lock) if not _cached(e["file_name"])]
    if missing:
        raise SystemExit(f"PyPI n'a pas donné : {', '.join(missing)}")
    print(f"roues de démarrage de Pyodide {lock['info'].get('version', '314')} : {PURE_CACHE}")


def ready() -> str | None:
    lock = lite.npm_pyodide_lock()
    missing = [e["file_name"] for e in _boot_packages(lock) if not _cached(e["file_name"])]
    return f"{PURE_CACHE} : manque {', '.join(missing)} : lancez `make setup`" if missing else None


def build_partial_distribution(dest: Path) -> dict:
    """Write the partial distribution into `dest`; return a summary of what it holds."""
    npm = lite.PYODIDE_NPM_DIR
    problem = ready()
    if problem:
        raise FileNotFoundError(problem)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for f in npm.iterdir():
        if f.is_file():
            shutil.copy2(f, dest / f.name)
    lock = json.loads((npm / "pyodide-lock.json").read_text(encoding="utf-8"))
    added = []
    for entry in _boot_packages(lock):
        wheel = dest / entry["file_name"]
        shutil.copy2(_cached(entry["file_name"]), wheel)
        entry["sha256"] = hashlib.sha256(wheel.read_bytes()).hexdigest()
        added.append(entry["name"])
    (dest / "pyodide-lock.json").write_text(json.dumps(lock, indent=1), encoding="utf-8")
    return {"packages": added}


if __name__ == "__main__":
    if sys.argv[1:] == ["setup"]:
        setup()
    else:
        print("usage : python tests/pyodide_partial.py setup", file=sys.stderr)
        sys.exit(2)
