"""The offline training kit: the whole site with its own Pyodide, for a room with no network.

`make offline-kit` (``python -m booktools.offline_kit [--pyodide SOURCE]``) takes the built book
(`_build/html`, JupyterLite included) and:

1. gets the pinned official Pyodide release (the version the JupyterLite kernel expects): by
   default downloads `pyodide-<version>.tar.bz2` once, checks its sha256 against the published
   value (pinned in `jupyter_lite_config.json`, or read from the release's published digest while
   none is pinned) and caches it; or uses a local tarball or an unpacked release folder given with
   `--pyodide`;
2. prunes it to the packages the labs need: the kernel's own (micropip, IPython, jedi…), every
   package the labs import, the package `dataquartiers` and its dependencies, with the pure
   wheels the lock lacks (folium, branca, ipywidgets, comm) registered in its lock file;
3. copies the site, puts that distribution in `lite/static/pyodide/`, points the kernel at it
   and disables the PyPI fallback (`disablePyPIFallback`): nothing is fetched from another host;
4. writes a French LISEZMOI.txt, a `servir.py` (a one-line server that sets the right MIME types
   everywhere), a manifest, and packs everything into one zip.

Maps (Leaflet inlined by `dataquartiers.maps`) and widgets (the JupyterLab widget manager is a
federated extension of the lite site) need no other asset.

`partial=True` is for tests only: a distribution that lacks some package files (the npm core and
pure wheels, as these machines can get) is accepted; the missing packages are dropped from the
lock (and from the dependencies of the others) and listed in the manifest. A real kit is built with `partial=False`, which refuses any gap.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import re
import tarfile
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dataquartiers.cli import ArgumentParser
from dataquartiers.fetch import sha256_of

from . import REPO_DIR, TOOLS_DIR, lab_copies, lite, notebooks
from .lite import LiteConfig, LiteError
from .wheels import build_wheel, normalise

KIT_NAME = "data-et-quartiers-kit-hors-ligne"
CACHE_DIR = Path(os.environ.get("DQ_CACHE", Path.home() / ".cache" / "dataquartiers")) / "pyodide"
PYODIDE_IN_SITE = "static/pyodide"
CORE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
#: Files of a release that the browser never asks for.
NOT_SERVED = (".d.ts", ".html", ".map")


class KitError(LiteError):
    pass


# --- getting the release -----------------------------------------------------------------------


def _retrieve(url: str, known_hash: str | None, folder: Path, name: str) -> Path:
    """Download with pooch (hash-checked when `known_hash` is given; a file whose sha256 differs is
    deleted and refused); a network failure becomes a KitError saying what to do instead."""
    import pooch
    import requests

    pooch.get_logger().setLevel("WARNING")  # its progress lines are English: we say what we do ourselves
    try:
        return Path(pooch.retrieve(url, known_hash=known_hash, fname=name, path=folder, progressbar=False))
    except requests.RequestException as err:
        raise KitError(f"impossible de télécharger {url} ({type(err).__name__}) ; sans réseau, donnez une copie "
                       f"locale : make offline-kit PYODIDE=/chemin/vers/{name}") from None


def published_sha256(digest_api: str, file_name: str, cache_dir: Path) -> str:
    """The sha256 the release page publishes for one of its files (GitHub's asset `digest`)."""
    with __import__("tempfile").TemporaryDirectory() as tmp:
        release = json.loads(_retrieve(digest_api, None, Path(tmp), file_name).read_text(encoding="utf-8"))
    for asset in release.get("assets", []):
        if asset.get("name") == file_name:
            digest = asset.get("digest") or ""
            if digest.startswith("sha256:"):
                return digest.split(":", 1)[1]
            raise KitError(f"{digest_api} : le fichier {file_name} n'y publie pas d'empreinte sha256")
    raise KitError(f"{digest_api} : aucun fichier nommé {file_name}")


def fetch_release(url: str, cache_dir: Path, expected_sha256: str | None, digest_api: str | None = None) -> Path:
    """Download the release tarball once, check its sha256, keep it in `cache_dir` (pooch).

    The expected value is the pinned one, or else the published one (read from `digest_api`, and
    remembered beside the cached file). A cached file is reused only if it still has that sha256.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    name = url.rsplit("/", 1)[-1]
    sidecar = cache_dir / f"{name}.sha256"
    expected = expected_sha256 or (sidecar.read_text().split()[0] if sidecar.exists() else None)
    if expected is None:
        if not digest_api:
            raise KitError(f"aucune empreinte sha256 pour vérifier {name} : fixez offline_kit.sha256 dans "
                           f"{lite.CONFIG_FILE_NAME}")
        expected = published_sha256(digest_api, name, cache_dir)
    try:
        target = _retrieve(url, f"sha256:{expected}", cache_dir, name)
    except ValueError as err:  # pooch: the downloaded file's hash differs (the file is deleted)
        received = [h for h in re.findall(r"[0-9a-f]{64}", str(err)) if h != expected]
        raise KitError(f"{url} : sha256 {received[0] if received else '?'} au lieu de la valeur publiée "
                       f"{expected} : téléchargement refusé") from None
    sidecar.write_text(f"{expected}  {name}\n")
    return target


def unpack_release(tarball: Path, dest: Path) -> Path:
    """Unpack a release tarball (top folder `pyodide/`) into `dest`; return the `pyodide/` folder."""
    done = dest / ".unpacked"
    if done.exists() and done.read_text() == tarball.name + "\n":
        return dest / "pyodide"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tarfile.open(tarball, "r:*") as tar:
        for member in tar.getmembers():
            if not (member.name == "pyodide" or member.name.startswith("pyodide/")) or ".." in Path(member.name).parts:
                raise KitError(f"{tarball} : élément inattendu « {member.name} » (une version de Pyodide n'a "
                               "qu'un dossier de tête, pyodide/)")
        kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(dest, **kwargs)
    done.write_text(tarball.name + "\n")
    return dest / "pyodide"


def check_distribution(dist: Path) -> None:
    missing = [f for f in CORE_FILES if not (dist / f).exists()]
    if missing:
        raise KitError(f"{dist} : ce n'est pas une distribution de Pyodide (il manque {', '.join(missing)})")


@dataclass
class Origin:
    kind: str                      # "official-download", "tarball", "folder"
    source: str
    sha256: str | None = None


def open_distribution(source: str | None, config: LiteConfig, cache_dir: Path = CACHE_DIR) -> tuple[Path, Origin]:
    """The unpacked Pyodide release to take packages from, and where it came from."""
    kit = config.offline_kit
    official_name = kit["pyodide_url"].rsplit("/", 1)[-1]
    if source is None or source.startswith(("http://", "https://")):
        url = source or kit["pyodide_url"]
        pinned = kit.get("sha256") if url == kit["pyodide_url"] else None
        tarball = fetch_release(url, cache_dir, pinned, kit["digest_api"] if url == kit["pyodide_url"] else None)
        dist = unpack_release(tarball, cache_dir / tarball.name.removesuffix(".tar.bz2"))
        origin = Origin("official-download", url, sha256_of(tarball))
    else:
        path = Path(source).expanduser().resolve()
        if path.is_dir():
            dist = path / "pyodide" if (path / "pyodide" / "pyodide.mjs").exists() else path
            origin = Origin("folder", str(path))
        elif path.is_file():
            digest = sha256_of(path)
            if path.name == official_name and kit.get("sha256") and digest != kit["sha256"]:
                raise KitError(f"{path} : sha256 {digest}, alors que la valeur fixée pour {official_name} est {kit['sha256']}")
            dist = unpack_release(path, cache_dir / path.name.removesuffix(".tar.bz2"))
            origin = Origin("tarball", str(path), digest)
        else:
            raise KitError(f"--pyodide {source} : ni fichier ni dossier de ce nom")
    check_distribution(dist)
    return dist, origin


# --- pruning -----------------------------------------------------------------------------------

def closure(lock: dict, roots: list[str]) -> set[str]:
    """The packages of the lock that the roots need, dependencies included."""
    packages = lock["packages"]
    seen, todo = set(), [normalise(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in packages:
            raise KitError(f"« {name} » est nécessaire mais absent du lock de Pyodide")
        seen.add(name)
        todo += [normalise(d) for d in packages[name]["depends"]]
    return seen


def lab_roots(lock: dict, config: LiteConfig, repo: Path = REPO_DIR) -> list[str]:
    """Lock packages for: the kernel, the package `dataquartiers`, and every import of every lab."""
    by_import = {}
    for key, entry in lock["packages"].items():
        for name in entry.get("imports", []):
            by_import.setdefault(name, key)
    roots = list(config.offline_kit["kernel_packages"]) + ["dataquartiers"]
    stdlib = set(sys.stdlib_module_names)
    for notebook in notebooks.lab_notebooks(repo):
        nb = json.loads(notebook.read_text(encoding="utf-8"))
        for module in sorted(notebooks.imports(nb)):
            if module in stdlib:
                continue
            if module not in by_import:
                raise KitError(f"{notebook.relative_to(repo)} : importe « {module} », qui n'est ni dans le lock de "
                               f"Pyodide ni parmi les roues pour le navigateur ({lite.CONFIG_FILE_NAME})")
            roots.append(by_import[module])
    return sorted(set(roots))


@dataclass
class PruneReport:
    kept: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)   # partial distributions only
    bytes: int = 0


def prune_distribution(dist: Path, dest: Path, lock: dict, roots: list[str], extra_files: list[Path],
                       *, partial: bool = False) -> PruneReport:
    """Copy the core and the needed package files of `dist` into `dest`, with a lock listing
    exactly those packages. `extra_files`: our wheels, already registered in `lock`."""
    needed = closure(lock, roots)
    packages = lock["packages"]
    extra = {f.name: f for f in extra_files}
    report = PruneReport()
    absent = {k for k in needed if packages[k]["file_name"] not in extra and not (dist / packages[k]["file_name"]).exists()}
    if absent and not partial:
        raise KitError(f"{dist} : il manque à la distribution de Pyodide {len(absent)} fichier(s) de paquet nécessaire(s) : "
                       + ", ".join(sorted(packages[k]["file_name"] for k in absent)[:12]))
    # in a partial distribution the absent packages are dropped, and so are the dependencies on
    # them: importing what needs them then fails with ModuleNotFoundError, where the test stops
    dropped = set(absent)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    package_files = {e["file_name"] for e in packages.values()}
    for f in sorted(dist.iterdir()):
        if f.is_file() and f.name not in package_files and not f.name.endswith(NOT_SERVED) \
                and f.name != "pyodide-lock.json" and not f.name.endswith(".whl.metadata"):
            shutil.copy2(f, dest / f.name)
    kept_lock = dict(lock)
    kept_lock["packages"] = {}
    for key in sorted(needed - dropped):
        entry = packages[key]
        src = extra.get(entry["file_name"]) or dist / entry["file_name"]
        shutil.copy2(src, dest / entry["file_name"])
        if dropped:
            entry = dict(entry, depends=[d for d in entry["depends"] if normalise(d) not in dropped])
        kept_lock["packages"][key] = entry
        report.kept.append(key)
    (dest / "pyodide-lock.json").write_text(json.dumps(kept_lock, indent=1), encoding="utf-8")
    report.missing = sorted(dropped)
    report.bytes = lite.folder_size(dest)
    return report


# --- the kit -----------------------------------------------------------------------------------

SERVE_SCRIPT = '''"""Servir le kit hors ligne : python servir.py  (puis ouvrir http://127.0.0.1:8000/)."""
import functools, http.server, sys
port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
Handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory="site")
# Sous Windows, le registre peut annoncer les .js/.mjs en text/plain : le navigateur refuse alors
# de les exécuter. On impose les bons types.
Handler.func.extensions_map.update({".js": "text/javascript", ".mjs": "text/javascript",
                                    ".wasm": "application/wasm", ".json": "application/json"})
print(f"Kit servi sur http://127.0.0.1:{port}/ (Ctrl-C pour arrêter)")
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
'''

@dataclass
class KitReport:
    folder: str
    archive: str | None
    pyodide_version: str
    origin: dict
    partial: bool
    packages: list[str]
    missing_packages: list[str]
    pyodide_bytes: int
    site_bytes: int
    archive_bytes: int | None
    seconds: float


def patch_page_config(lite_dir: Path) -> None:
    """Point the kernel at the kit's own Pyodide and forbid any download from PyPI."""
    path = lite_dir / "jupyter-lite.json"
    page = json.loads(path.read_text(encoding="utf-8"))
    kernel = page["jupyter-config-data"].setdefault("litePluginSettings", {}).setdefault(lite.KERNEL_PLUGIN, {})
    kernel["pyodideUrl"] = f"./{PYODIDE_IN_SITE}/pyodide.mjs"
    kernel["disablePyPIFallback"] = True
    options = kernel.get("loadPyodideOptions", {})
    options.pop("lockFileURL", None)  # the kit's Pyodide has the extended lock as its own
    if options:
        kernel["loadPyodideOptions"] = options
    else:
        kernel.pop("loadPyodideOptions", None)
    path.write_text(json.dumps(page, indent=2, ensure_ascii=False), encoding="utf-8")


def relink_notebooks(lite_dir: Path, address: str) -> list[Path]:
    """The notebooks of the site link to the book at its published address; the kit serves the
    book at the root of 127.0.0.1, so those links become root-relative (`/chapters/…`), which
    JupyterLab opens as ordinary links. Only Markdown cells change."""
    changed = []
    for path in sorted((lite_dir / "files").rglob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        touched = False
        for cell in nb["cells"]:
            text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            if cell["cell_type"] == "markdown" and address in text:
                cell["source"] = text.replace(address, "/")
                touched = True
        if touched:
            path.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            changed.append(path)
    return changed


def _zip_folder(folder: Path, archive: Path) -> None:
    part = archive.with_name(archive.name + ".part")
    with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                # wasm and wheels are already compressed: store them
                kind = zipfile.ZIP_STORED if path.suffix in (".whl", ".zip", ".wasm", ".png", ".woff2") else zipfile.ZIP_DEFLATED
                zf.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}", compress_type=kind)
    part.replace(archive)


def build_kit(site_dir: Path, out_dir: Path, *, pyodide: str | None = None, partial: bool = False,
              archive: bool = True, config: LiteConfig | None = None, repo: Path = REPO_DIR,
              cache_dir: Path = CACHE_DIR) -> KitReport:
    """Build the kit folder `out_dir/KIT_NAME/` (and its zip beside it) from a built site."""
    start = time.perf_counter()
    config = config or lite.load_config(repo / lite.CONFIG_FILE_NAME)
    site_dir = Path(site_dir)
    lite_site = site_dir / lite.LITE_DIR
    if not (lite_site / "jupyter-lite.json").exists():
        raise KitError(f"{site_dir} : pas de site JupyterLite construit dans {lite.LITE_DIR}/ (lancez d'abord `make site`)")
    version = lite.pyodide_version(lite.kernel_pyodide_url())
    dist, origin = open_distribution(pyodide, config, cache_dir)
    base_lock = json.loads((dist / "pyodide-lock.json").read_text(encoding="utf-8"))
    kit_dir = Path(out_dir) / KIT_NAME
    if kit_dir.exists():
        shutil.rmtree(kit_dir)
    kit_dir.mkdir(parents=True)
    wheel_dir = kit_dir / ".wheels"
    wheels = [build_wheel(wheel_dir)] + lite.browser_wheels(config)
    lock = lite.extend_lock(base_lock, wheels, config)
    roots = lab_roots(lock, config, repo)
    kit_lite = kit_dir / "site" / lite.LITE_DIR
    try:  # pruning first: a distribution with gaps stops here, before the site is copied
        report = prune_distribution(dist, kit_lite / PYODIDE_IN_SITE, lock, roots, wheels, partial=partial)
    except KitError:
        shutil.rmtree(kit_dir)
        raise
    shutil.rmtree(wheel_dir)
    shutil.copytree(site_dir, kit_dir / "site", ignore=shutil.ignore_patterns(".buildinfo", "*.doctree"),
                    dirs_exist_ok=True)
    shutil.rmtree(kit_lite / lite.LITE_PACKAGES_DIR, ignore_errors=True)  # the CDN lock of the online site
    patch_page_config(kit_lite)
    (kit_dir / "servir.py").write_text(SERVE_SCRIPT, encoding="utf-8")
    relink_notebooks(kit_lite, lab_copies.site_address(repo))
    from jinja2 import Environment, FileSystemLoader

    readme = Environment(loader=FileSystemLoader(TOOLS_DIR / "templates"), autoescape=False,  # plain text
                         keep_trailing_newline=True).get_template("lisezmoi-kit.txt.j2")
    (kit_dir / "LISEZMOI.txt").write_text(readme.render(version=version, packages=len(report.kept),
                                                        date=time.strftime("%Y-%m-%d")), encoding="utf-8")
    result = KitReport(str(kit_dir), None, version, asdict(origin), partial, report.kept, report.missing,
                       report.bytes, lite.folder_size(kit_dir / "site"), None, 0.0)
    (kit_dir / "kit.json").write_text(json.dumps(asdict(result), indent=2, ensure_ascii=False), encoding="utf-8")
    if archive:
        target = Path(out_dir) / f"{KIT_NAME}.zip"
        _zip_folder(kit_dir, target)
        result.archive, result.archive_bytes = str(target), target.stat().st_size
    result.seconds = round(time.perf_counter() - start, 1)
    return result


def kit_sizes(kit_dir: Path) -> dict[str, int]:
    """Bytes of a kit folder, of its Pyodide, and of its zip when there is one (make bench)."""
    kit_dir = Path(kit_dir)
    archive = kit_dir.parent / f"{kit_dir.name}.zip"
    return {"kit": lite.folder_size(kit_dir),
            "kit_pyodide": lite.folder_size(kit_dir / "site" / lite.LITE_DIR / PYODIDE_IN_SITE),
            "kit_archive": archive.stat().st_size if archive.exists() else 0}


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m booktools.offline_kit",
                            description="Fabriquer le kit de formation hors ligne à partir du livre construit.")
    parser.add_argument("--site", default=str(REPO_DIR / "_build" / "html"), help="le livre construit (défaut : _build/html)")
    parser.add_argument("--out", default=str(REPO_DIR / "_build" / "offline-kit"), help="où écrire le kit")
    parser.add_argument("--pyodide", default=None,
                        help="pyodide-<version>.tar.bz2, un dossier de version décompressé, ou une adresse "
                             "(défaut : la version officielle, téléchargée une fois puis gardée en cache)")
    parser.add_argument("--no-archive", action="store_true", help="ne pas écrire le zip")
    args = parser.parse_args(argv)
    try:
        report = build_kit(Path(args.site), Path(args.out), pyodide=args.pyodide, archive=not args.no_archive)
    except LiteError as err:
        print(f"kit hors ligne : {err}", file=sys.stderr)
        return 1
    print(f"kit : {report.folder} ({report.site_bytes / 1e6:.0f} Mo, Pyodide {report.pyodide_version} : "
          f"{len(report.packages)} paquets, {report.pyodide_bytes / 1e6:.0f} Mo)")
    if report.archive:
        print(f"archive : {report.archive} ({report.archive_bytes / 1e6:.0f} Mo)")
    print(f"pour le servir : cd {report.folder} && python3 -m http.server 8000 --bind 127.0.0.1 --directory site")
    return 0


if __name__ == "__main__":
    sys.exit(main())
