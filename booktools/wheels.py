"""Wheels: the labs' library as a wheel for the browser and the zips, and what a wheel declares.

The wheel of `dataquartiers` is what every trainee receives (in JupyterLite's lock file and in
every lab zip): the library only, never the tooling.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

from dataquartiers import PACKAGE_DIR


class WheelError(RuntimeError):
    """A wheel cannot be built or read; the message says what to do."""


def normalise(name: str) -> str:
    """PEP 503 normalised name: 'Jupyterlab_Widgets' → 'jupyterlab-widgets'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def zip_write(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    """One member of a reproducible zip: fixed date and permissions, deflated."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


#: A fixed date for every file of the wheel, so that the same sources give the same bytes.
SOURCE_DATE_EPOCH = "315532800"  # 1980-01-01


def build_wheel(dest: Path, project_dir: Path = PACKAGE_DIR.parent) -> Path:
    """The wheel of the labs' library, built by `build` (PEP 517) with the setuptools of this
    environment: no build isolation, so nothing is downloaded at build time.

    The project (pyproject.toml, its README and `dataquartiers/`) is copied to a temporary folder
    first, so that setuptools' `build/` and `.egg-info` folders never land in the repository.
    What goes in the wheel is what pyproject.toml says: the package, its schemas and Leaflet.
    """
    from build import BuildBackendException, ProjectBuilder
    from pyproject_hooks import quiet_subprocess_runner

    project_dir = Path(project_dir)
    package = project_dir / "dataquartiers"
    if not (package / "_vendor" / "leaflet" / "leaflet.js").exists():
        raise WheelError(f"{package}/_vendor/leaflet est absent : lancez d'abord `make setup` "
                         "(les cartes des labs ont besoin de Leaflet dans la roue)")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dq-wheel-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (project_dir / name).exists():
                shutil.copy2(project_dir / name, src / name)
        shutil.copytree(package, src / "dataquartiers",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".done"))
        previous = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = SOURCE_DATE_EPOCH
        try:
            built = ProjectBuilder(src, runner=quiet_subprocess_runner).build("wheel", Path(tmp) / "dist")
        except BuildBackendException as err:
            raise WheelError(f"la roue de dataquartiers n'a pas pu être construite : {err}") from None
        finally:
            if previous is None:
                os.environ.pop("SOURCE_DATE_EPOCH", None)
            else:
                os.environ["SOURCE_DATE_EPOCH"] = previous
        target = dest / Path(built).name
        shutil.copy2(built, target)
    return target


@dataclass
class WheelInfo:
    path: Path
    name: str
    version: str
    requires: list[str]
    imports: list[str]


def wheel_info(path: Path) -> WheelInfo:
    """Name, version, unconditional requirements and top-level import names of a wheel."""
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        meta_name = next((n for n in names if n.endswith(".dist-info/METADATA") and n.count("/") == 1), None)
        if meta_name is None:
            raise WheelError(f"{path}: not a wheel (no .dist-info/METADATA)")
        meta = Parser().parsestr(zf.read(meta_name).decode("utf-8"))
        top_level = next((n for n in names if n.endswith(".dist-info/top_level.txt")), None)
        if top_level:
            imports = [line.strip() for line in zf.read(top_level).decode().splitlines() if line.strip()]
        else:
            imports = sorted({n.split("/")[0].removesuffix(".py") for n in names
                              if not n.split("/")[0].endswith((".dist-info", ".data"))
                              and (n.endswith("/__init__.py") and n.count("/") == 1 or "/" not in n and n.endswith(".py"))})
    from packaging.requirements import Requirement

    requires = []
    for line in meta.get_all("Requires-Dist") or []:
        req = Requirement(line)
        if req.marker and "extra" in str(req.marker):
            continue  # optional extras are not loaded
        requires.append(normalise(req.name))
    return WheelInfo(path, meta["Name"], meta["Version"], requires, imports)


