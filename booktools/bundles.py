"""One zip per lab, that runs on a laptop with nothing else from the book.

A participant takes a lab home: the notebook (its MyST and links adapted by `lab_copies.py` so
that JupyterLab renders it like the book: solutions folded, links to the book absolute), exactly
the data it reads, the package `dataquartiers` as a wheel, a pinned `requirements.txt` (which finds
the wheel beside it, wherever pip is run from), the licence texts of the code and of the content,
and a French LISEZMOI.md (run it in three commands, adapt it to another territory, the licences of
the data).

Which data a lab reads is found statically, without running it (`booktools.notebooks`, the one
analysis of the tooling). The data package is reduced to those resources plus the tables of the
territory filter (communes, EPCI members), so that `territory=` works for any code. A lab whose
data cannot be found statically is an error naming the notebook and the cell.
The bundle test runs every bundle in an empty folder with a fresh virtualenv: a file missed here
fails there.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from functools import lru_cache
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from dataquartiers import PACKAGE_DIR, data
from dataquartiers.cli import ArgumentParser

from . import REPO_DIR, TOOLS_DIR, notebooks
from .buildcache import build_cache_dir, inputs_digest, is_unchanged, remember
from .lab_copies import BookLinks, Context, adapt_notebook, site_address
from .notebooks import TERRITORY_TABLES, DataNeeds, lab_notebooks, reduced_package
from .wheels import build_wheel, zip_write

#: The Jupyter front end of a bundle: the language pack is pinned in the repository's
#: requirements.txt; JupyterLab (not installed in the book's environment) is pinned here.
JUPYTERLAB = "jupyterlab==4.5.11"
FRONT_END = ("jupyterlab-language-pack-fr-FR", "ipykernel")
BUNDLES_DIR = "bundles"
#: What a participant's install takes, measured with the pins above: `pip download` of a lab's
#: requirements (the largest lab) and the size of the virtualenv it makes (Python 3.11, Linux
#: x86-64). tests/test_bundles.py installs every zip and checks these figures within 15 %.
INSTALL_SIZES = {"download_mb": 120, "venv_mb": 550, "python": "3.11"}
#: Where `make setup` puts the wheels of every zip's requirements (the bundle test installs from
#: there with --no-index: no download at test time).
WHEELHOUSE = Path(sys.prefix) / "share" / "dataquartiers" / "bundle-wheelhouse"
#: The licence texts (SPDX's), from the npm package spdx-license-list installed by `make setup`.
SPDX_TEXTS = REPO_DIR / "node_modules" / "spdx-license-list" / "licenses"
LICENCE_FILES = {"LICENCES/code-MIT.txt": "MIT", "LICENCES/contenus-CC-BY-4.0.txt": "CC-BY-4.0"}


class BundleError(RuntimeError):
    """A lab cannot be packed; the message names the file and what to do."""


# --- the bundle --------------------------------------------------------------------------------

def _key(name: str) -> str:
    return canonicalize_name(name)


def _pins(requirements: Path) -> dict[str, str]:
    """`name==version` lines of a requirements file, by normalised name (comments and other
    lines ignored)."""
    pins = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        specs = list(req.specifier)
        if len(specs) == 1 and specs[0].operator == "==" and not req.marker:
            pins[_key(req.name)] = f"{req.name}=={specs[0].version}"
    return pins


@lru_cache(maxsize=None)
def _requires(name: str) -> tuple[str, ...]:
    from importlib.metadata import PackageNotFoundError, requires

    try:
        return tuple(requires(name) or [])
    except PackageNotFoundError:
        return ()


@lru_cache(maxsize=1)
def _packages_distributions() -> dict[str, list[str]]:
    from importlib.metadata import packages_distributions

    return packages_distributions()


def _dependency_closure(roots: list[str]) -> set[str]:
    """Normalised names of the installed distributions the roots need (no extras)."""
    seen, todo = set(), [_key(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for line in _requires(name):
            req = Requirement(line)
            if req.marker and not req.marker.evaluate({"extra": ""}):
                continue  # an optional extra, or another platform's dependency
            todo.append(_key(req.name))
    return seen


def requirements_for(nb: dict, repo: Path = REPO_DIR, wheel_name: str = "") -> list[str]:
    """The bundle's requirements: the package (found in `wheels/` beside the file, wherever pip is
    run from: pip reads a relative --find-links of a requirements file from the file's folder),
    then every pinned distribution of the book's requirements.txt that the lab and the package
    need, then the Jupyter front end."""
    import tomllib

    pins = _pins(repo / "requirements.txt")
    roots = list(tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"])
    distributions = _packages_distributions()
    stdlib = set(sys.stdlib_module_names)
    roots += list(FRONT_END)
    for root in roots:
        if _key(root) not in pins:
            raise BundleError(f"{repo / 'requirements.txt'} : « {root} » (nécessaire aux labs) doit être fixé "
                              "avec == pour que le zip installe les versions avec lesquelles le livre a tourné")
    closure = _dependency_closure(roots)
    for module in sorted(notebooks.imports(nb)):
        if module in stdlib or module == "dataquartiers":
            continue
        dists = distributions.get(module)
        if not dists:
            raise BundleError(f"le lab importe « {module} », qu'aucune bibliothèque installée ne fournit")
        for dist in dists:
            if _key(dist) not in pins and _key(dist) not in closure:
                raise BundleError(f"{repo / 'requirements.txt'} : le lab importe « {module} » : fixez « {dist} » "
                                  "avec == pour que son zip l'installe")
            closure |= _dependency_closure([dist])
    lines = []
    if wheel_name:
        info = wheel_info_from_name(wheel_name)
        lines += ["--find-links wheels", f"{info[0]}=={info[1]}"]
    lines += [pins[name] for name in sorted(closure) if name in pins]
    lines.append(JUPYTERLAB)
    return lines


def wheel_info_from_name(file_name: str) -> tuple[str, str]:
    """(name, version) of a wheel file name."""
    from packaging.utils import parse_wheel_filename

    name, version, _build, _tags = parse_wheel_filename(file_name)
    return str(name), str(version)


def _coverage(res: dict, datasets: Path) -> list[str]:
    """Commune codes a dataset covers (its descriptor's `territory` field)."""
    spec = res.get("territory")
    if not spec:
        return []
    path = datasets / res["path"]
    if res.get("format") == "geojson" or path.suffix == ".geojson":
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        values = {str(f["properties"].get(spec["field"])) for f in features if f["properties"].get(spec["field"]) is not None}
    else:
        import pandas as pd

        delimiter = res.get("dialect", {}).get("delimiter", ",")
        values = set(pd.read_csv(path, sep=delimiter, usecols=[spec["field"]], dtype="string")[spec["field"]].dropna())
    if spec.get("separator"):  # a cell may name several communes (a QPV across arrondissements)
        values = {code for v in values for code in v.split(spec["separator"]) if code}
    if spec.get("derive") == "iris":
        values = {v[:5] for v in values}
    return sorted(values)


LICENCE_STATUS = {"verified": "vérifiée", "unverified": "**non vérifiée**"}


def _markdown_cell(value) -> str:
    """A value from a data file or a notebook, safe in a Markdown table cell or list item."""
    return " ".join(str(value).split()).replace("|", "\\|")


def _templates():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(TOOLS_DIR / "templates"), undefined=StrictUndefined,
                      autoescape=False, keep_trailing_newline=True)  # Markdown, not HTML: see `cell`
    env.filters["cell"] = _markdown_cell
    return env


def readme(stem: str, nb: dict, package: dict, datasets: Path, needs: DataNeeds, page_url: str = "") -> str:
    """The French LISEZMOI.md of a bundle."""
    resources = {r["name"]: r for r in package["resources"]}
    communes = {}
    if "communes" in resources:
        import pandas as pd

        table = pd.read_csv(datasets / resources["communes"]["path"], dtype="string", usecols=["code", "nom"])
        communes = dict(zip(table["code"], table["nom"]))
    covered = []
    for name in needs.resources:
        if name in resources and name not in TERRITORY_TABLES and resources[name].get("territory"):
            codes = _coverage(resources[name], datasets)
            covered.append((name, len(codes), [f"{communes.get(c, c)} ({c})" for c in codes[:12]],
                            max(len(codes) - 12, 0)))
    licences = []
    for name in sorted(set(needs.resources) | set(TERRITORY_TABLES) & set(resources)):
        if name not in resources:
            continue
        r = resources[name]
        texts = ", ".join(f"[{lic.get('title', lic.get('name'))}]({lic['path']})" if lic.get("path")
                          else lic.get("title", lic.get("name", "?")) for lic in r.get("licenses", []))
        status = LICENCE_STATUS.get(r.get("licence_status", ""), r.get("licence_status", "non indiquée"))
        if r.get("synthetic"):
            status += " — données **synthétiques**"
        licences.append({"name": name, "title": r.get("title", name), "producer": r.get("producer", "?"),
                         "licences": texts or "?", "status": status})
    return _templates().get_template("lisezmoi-lab.md.j2").render(
        stem=stem, title=notebooks.title(nb, stem), page_url=page_url, sizes=INSTALL_SIZES,
        parameters=notebooks.parameters(nb).rstrip(), covered=covered, licences=licences,
        own_data_recipe=data.OWN_DATA_RECIPE,
        notes=[(name, resources[name]["licence_note"]) for name in needs.resources
               if name in resources and resources[name].get("licence_note")],
        synthetic=any(resources.get(name, {}).get("synthetic") for name in needs.resources))


def licence_texts(repo: Path = REPO_DIR) -> dict[str, bytes]:
    """The licence files of a zip: SPDX's texts, the MIT one with the book's copyright line."""
    import yaml

    book = yaml.safe_load((repo / "_config.yml").read_text(encoding="utf-8"))
    files = {}
    for name, spdx in LICENCE_FILES.items():
        path = SPDX_TEXTS / f"{spdx}.json"
        if not path.exists():
            raise BundleError(f"{path} est absent : lancez `make setup` (npm ci installe spdx-license-list)")
        text = json.loads(path.read_text(encoding="utf-8"))["licenseText"]
        text = text.replace("<year>", str(book.get("copyright", ""))).replace("<copyright holders>", str(book.get("author", "")))
        files[name] = text.encode()
    return files


def lab_data_needs(notebook: Path, repo: Path = REPO_DIR, package: dict | None = None) -> tuple[DataNeeds, list[str]]:
    """What a lab reads, and the resource names its zip carries; BundleError if it cannot be known."""
    package = package if package is not None else data.package(Path(repo) / "datasets")
    needs = notebooks.lab_data_needs(notebook, repo, package)
    if needs.problems:
        raise BundleError("\n".join(needs.problems))
    return needs, needs.carried({r.get("name") for r in package["resources"]})


def bundle_notebook(notebook: Path, links: BookLinks, repo: Path = REPO_DIR, package: dict | None = None) -> dict:
    """The lab as its zip carries it: no outputs, MyST and links adapted (the notebook sits beside
    `datasets/`; links to anything else go to the book's site)."""
    package = package if package is not None else data.package(Path(repo) / "datasets")
    _needs, carried = lab_data_needs(notebook, repo, package)
    files = {f"datasets/{r['path']}" for r in package["resources"] if r["name"] in carried}
    docname = f"{notebooks.LABS_DIR}/{notebook.stem}"
    nb = notebooks.without_outputs(notebooks.read(notebook))
    return adapt_notebook(nb, Context(links, docname, files, notebook_dir="", where=f"{docname}.ipynb"),
                          title=notebooks.title(nb, notebook.stem))


def build_bundle(notebook: Path, dest_dir: Path, repo: Path = REPO_DIR, wheel: Path | None = None,
                 links: BookLinks | None = None) -> Path:
    """Write `<dest_dir>/<lab>.zip`; everything sits under a `<lab>/` folder inside the zip.
    `links`: the built book (`BookLinks.of_site`); by default the site in `_build/html`."""
    notebook = Path(notebook)
    stem = notebook.stem
    datasets = repo / "datasets"
    package = data.package(Path(repo) / "datasets")
    links = links or default_links(repo)
    nb = notebooks.read(notebook)
    needs, carried = lab_data_needs(notebook, repo, package)
    dest_dir.mkdir(parents=True, exist_ok=True)
    wheel = wheel or build_wheel(dest_dir / ".wheel")
    target = dest_dir / f"{stem}.zip"
    page_url = links.url(links.docs[f"{notebooks.LABS_DIR}/{stem}"][0]) if f"{notebooks.LABS_DIR}/{stem}" in links.docs else links.address
    files: dict[str, bytes] = {
        f"{stem}/{stem}.ipynb": (json.dumps(bundle_notebook(notebook, links, repo, package), ensure_ascii=False, indent=1) + "\n").encode(),
        f"{stem}/requirements.txt": ("# Bibliothèques du lab « " + notebooks.title(nb, stem) + " » (pip install -r requirements.txt)\n"
                                     + "\n".join(requirements_for(nb, repo, wheel.name)) + "\n").encode(),
        f"{stem}/LISEZMOI.md": readme(stem, nb, package, datasets, needs, page_url).encode(),
        **{f"{stem}/{name}": text for name, text in licence_texts(repo).items()},
        f"{stem}/wheels/{wheel.name}": wheel.read_bytes(),
        f"{stem}/datasets/datapackage.json": (json.dumps(reduced_package(package, carried), ensure_ascii=False, indent=2) + "\n").encode(),
    }
    for res in package["resources"]:
        if res["name"] in carried:
            path = datasets / res["path"]
            if not path.exists():
                raise BundleError(f"{datasets / 'datapackage.json'} : ressource « {res['name']} » : fichier {res['path']} introuvable")
            files[f"{stem}/datasets/{res['path']}"] = path.read_bytes()
    for rel in needs.files:
        path = datasets / rel
        if not path.exists():
            raise BundleError(f"{notebook} : ouvre datasets/{rel}, qui n'existe pas")
        files[f"{stem}/datasets/{rel}"] = path.read_bytes()
    tmp = target.with_suffix(".zip.part")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name in sorted(files):
            zip_write(zf, name, files[name])
    tmp.replace(target)
    return target


def default_links(repo: Path = REPO_DIR, site: Path | None = None) -> BookLinks:
    """The links of the book built in `site` (default `_build/html`), at the configured address."""
    return BookLinks.of_site(site or Path(repo) / "_build" / "html", site_address(repo))


def _bundle_inputs(notebook: Path, repo: Path, links: BookLinks) -> str:
    """Everything a lab's zip is made of: the notebook as adapted, the data, the package, the
    licences and the README's template."""
    package = data.package(Path(repo) / "datasets")
    _needs, carried = lab_data_needs(notebook, repo, package)
    data_files = [repo / "datasets" / r["path"] for r in package["resources"] if r["name"] in carried]
    adapted = json.dumps(bundle_notebook(notebook, links, repo, package), sort_keys=True).encode()
    return hashlib.sha256(adapted + inputs_digest(
        [notebook, repo / "datasets" / "datapackage.json", repo / "requirements.txt", repo / "pyproject.toml",
         PACKAGE_DIR, TOOLS_DIR / "templates" / "lisezmoi-lab.md.j2", Path(__file__), *data_files], repo).encode()).hexdigest()


def build_all(dest_dir: Path, repo: Path = REPO_DIR, cache_dir: Path | None = None,
              links: BookLinks | None = None) -> list[Path]:
    """Every lab's zip. With `cache_dir`, a zip whose inputs did not change is kept as it is."""
    labs = lab_notebooks(repo)
    links = links or default_links(repo)
    todo = {}
    for nb in labs:
        digest = _bundle_inputs(nb, repo, links) if cache_dir else ""
        if cache_dir and (dest_dir / f"{nb.stem}.zip").exists() and is_unchanged(cache_dir, f"bundle-{nb.stem}", digest):
            continue
        todo[nb] = digest
    if todo:
        wheel = build_wheel(dest_dir / ".wheel")
        try:
            for nb, digest in todo.items():
                build_bundle(nb, dest_dir, repo, wheel, links)
                if cache_dir:
                    remember(cache_dir, f"bundle-{nb.stem}", digest)
        finally:
            wheel.unlink(missing_ok=True)
            (dest_dir / ".wheel").rmdir()
    return [dest_dir / f"{nb.stem}.zip" for nb in labs]


def build_bundles_of_site(app, exception) -> None:
    """Sphinx build-finished: the zips linked from the lab pages (only those whose inputs changed)."""
    if exception is not None or app.builder.format != "html":
        return
    build_all(Path(app.outdir) / BUNDLES_DIR, Path(app.srcdir), cache_dir=build_cache_dir(app),
              links=BookLinks.of_build(app))


def all_requirements(repo: Path = REPO_DIR) -> list[str]:
    """The union of every zip's requirements (without the labs' own package), for the wheelhouse."""
    lines = set()
    for nb in lab_notebooks(repo):
        lines |= set(requirements_for(notebooks.read(nb), repo))
    return sorted(lines)


def fetch_wheelhouse(dest: Path = WHEELHOUSE, repo: Path = REPO_DIR, extra: list[str] = ()) -> Path:
    """Download the wheels of every zip's requirements (run by `make setup`, when the registries are
    reachable), so that the bundle test installs them with --no-index."""
    dest.mkdir(parents=True, exist_ok=True)
    reqs = dest / "requirements.txt"
    reqs.write_text("\n".join(all_requirements(repo) + list(extra)) + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                    "--only-binary=:all:", "-d", str(dest), "-r", str(reqs)], check=True)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m booktools.bundles",
                            description="Les zips des labs (un par lab), faits à partir du livre construit.")
    sub = parser.add_subparsers(dest="commande")
    build = sub.add_parser("zips", help="écrire le zip de chaque lab (par défaut)")
    build.add_argument("--site", type=Path, default=REPO_DIR / "_build" / "html",
                       help="le livre construit, dont les liens sont repris (défaut : _build/html)")
    build.add_argument("--dest", type=Path, default=REPO_DIR / "_build" / BUNDLES_DIR,
                       help="où écrire les zips (défaut : _build/bundles)")
    house = sub.add_parser("wheelhouse", help="télécharger les bibliothèques de tous les zips (make setup)")
    house.add_argument("--dest", type=Path, default=WHEELHOUSE, help=f"dossier (défaut : {WHEELHOUSE})")
    house.add_argument("--extra", nargs="*", default=[], help="autres exigences à télécharger avec elles")
    args = parser.parse_args(argv)
    try:
        if args.commande == "wheelhouse":
            print(f"bibliothèques des zips : {fetch_wheelhouse(args.dest, extra=args.extra)}")
            return 0
        site = getattr(args, "site", REPO_DIR / "_build" / "html")
        dest = getattr(args, "dest", REPO_DIR / "_build" / BUNDLES_DIR)
        for path in build_all(dest, REPO_DIR, links=default_links(REPO_DIR, site)):
            print(path)
    except (BundleError, ValueError, subprocess.CalledProcessError) as err:
        print(f"booktools.bundles : {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
