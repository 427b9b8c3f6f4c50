"""A test-only, partial Pyodide distribution: what these machines can get of Pyodide 314.0.6.

- the npm package `pyodide` (the core: runtime, standard library, lock file; no package wheels);
- the pure-Python wheels the kernel needs to boot (IPython, jedi and their dependencies), at the
  lock's versions, downloaded from PyPI once and cached; PyPI's files differ from Pyodide's
  rebuilds, so their sha256 are rewritten in the lock;
- instead of micropip 0.11.1 (served by no registry here) a stand-in written for these tests
  (`fixtures/lite/micropip_standin/`), registered under micropip's name in the lock.

The compiled packages (numpy, pandas, shapely, pyproj…) are absent: a kit built from this
distribution (`build_kit(..., partial=True)`) drops them, and a lab's data cells cannot run.
Never used outside tests.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from booktools import lite, offline_kit
from booktools.wheels import zip_write

HERE = Path(__file__).resolve().parent
STANDIN_SRC = HERE / "fixtures" / "lite" / "micropip_standin" / "micropip"
PURE_CACHE = Path(sys.prefix) / "share" / "dataquartiers" / "test-pyodide-wheels"
#: What the kernel installs to boot (the stand-in replaces micropip).
BOOT_ROOTS = ["micropip", "ipython", "jedi"]


def standin_wheel(dest: Path, file_name: str) -> Path:
    """The stand-in packed as a wheel under the lock's file name for micropip."""
    version = file_name.split("-")[1]
    dest.mkdir(parents=True, exist_ok=True)
    wheel = dest / file_name
    with zipfile.ZipFile(wheel, "w") as zf:
        for path in sorted(STANDIN_SRC.glob("*.py")):
            zip_write(zf, f"micropip/{path.name}", path.read_bytes())
        info = f"micropip-{version}.dist-info"
        zip_write(zf, f"{info}/METADATA", f"Metadata-Version: 2.1\nName: micropip\nVersion: {version}\n".encode())
        zip_write(zf, f"{info}/WHEEL", b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        zip_write(zf, f"{info}/RECORD", b"")
    return wheel


def _download(name: str, version: str, file_name: str) -> Path:
    PURE_CACHE.mkdir(parents=True, exist_ok=True)
    for f in PURE_CACHE.iterdir():
        if f.name.lower() == file_name.lower():
            return f
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                    "--no-deps", "--only-binary=:all:", "--python-version", "3.14", "-d", str(PURE_CACHE),
                    f"{name}=={version}"], check=True, capture_output=True)
    for f in PURE_CACHE.iterdir():
        if f.name.lower() == file_name.lower():
            return f
    raise FileNotFoundError(f"PyPI has no {file_name}")


def build_partial_distribution(dest: Path) -> dict:
    """Write the partial distribution into `dest`; return a summary of what it holds."""
    npm = lite.PYODIDE_NPM_DIR
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for f in npm.iterdir():
        if f.is_file():
            shutil.copy2(f, dest / f.name)
    lock = json.loads((npm / "pyodide-lock.json").read_text(encoding="utf-8"))
    needed = offline_kit.closure(lock, BOOT_ROOTS)
    added = []
    for key in sorted(needed):
        entry = lock["packages"][key]
        if key == "micropip":
            wheel = standin_wheel(dest, entry["file_name"])
        else:
            if not entry["file_name"].endswith("-none-any.whl"):
                continue  # compiled: not obtainable here
            shutil.copy2(_download(entry["name"], entry["version"], entry["file_name"]), dest / entry["file_name"])
            wheel = dest / entry["file_name"]
        entry["sha256"] = hashlib.sha256(wheel.read_bytes()).hexdigest()
        added.append(key)
    (dest / "pyodide-lock.json").write_text(json.dumps(lock, indent=1), encoding="utf-8")
    return {"packages": added}
