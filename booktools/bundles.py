"""One zip per lab, that runs on a laptop with nothing else from the book.

A participant takes a lab home: the notebook, exactly the data it reads, the package
`dataquartiers` as a wheel, a pinned `requirements.txt`, and a French LISEZMOI.md (run it in
three commands, adapt it to another territory, the licences of the data).

Which data a lab reads is found statically, without running it (`booktools.notebooks`, the one
analysis of the tooling). The data package is reduced to those resources plus the tables of the
territory filter (communes, EPCI members), so that `territory=` works for any code. A lab whose
data cannot be found statically is an error naming the notebook and the cell.
The bundle test runs every bundle in an empty folder with a fresh virtualenv: a file missed here
fails there.
"""

from __future__ import annotations

import json
import re
import sys
import zipfile
from functools import lru_cache
from pathlib import Path

from dataquartiers import PACKAGE_DIR, data

from . import REPO_DIR, notebooks
from .buildcache import build_cache_dir, inputs_digest, is_unchanged, remember
from .notebooks import TERRITORY_TABLES, DataNeeds, lab_notebooks, reduced_package
from .wheels import build_wheel, zip_write
#: The Jupyter front end of a bundle: the language pack is pinned in the repository's
#: requirements.txt; JupyterLab (not installed in the book's environment) is pinned here.
JUPYTERLAB = "jupyterlab==4.5.11"
FRONT_END = ("jupyterlab-language-pack-fr-FR", "ipykernel")
BUNDLES_DIR = "bundles"


class BundleError(RuntimeError):
    """A lab cannot be packed; the message names the file and what to do."""


# --- the bundle --------------------------------------------------------------------------------

def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(requirements: Path) -> dict[str, str]:
    pins = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.match(r"^([A-Za-z0-9._-]+)\s*==\s*([^\s;]+)$", line)
        if m:
            pins[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = f"{m.group(1)}=={m.group(2)}"
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
    seen, todo = set(), [re.sub(r"[-_.]+", "-", r).lower() for r in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for req in _requires(name):
            if ";" in req and "extra" in req.split(";", 1)[1]:
                continue
            todo.append(re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", req).group(0)).lower())
    return seen


def requirements_for(nb: dict, repo: Path = REPO_DIR, wheel_name: str = "") -> list[str]:
    """The bundle's requirements: the package's wheel, then every pinned distribution of the
    book's requirements.txt that the lab and the package need, then the Jupyter front end."""
    import tomllib

    pins = _pins(repo / "requirements.txt")
    roots = list(tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"])
    distributions = _packages_distributions()
    stdlib = set(sys.stdlib_module_names)
    roots += list(FRONT_END)
    for root in roots:
        if _key(root) not in pins:
            raise BundleError(f"{repo / 'requirements.txt'}: '{root}' (needed by the labs) must be pinned "
                              "with == so that a bundle installs the versions the book ran")
    closure = _dependency_closure(roots)
    for module in sorted(notebooks.imports(nb)):
        if module in stdlib or module == "dataquartiers":
            continue
        dists = distributions.get(module)
        if not dists:
            raise BundleError(f"the lab imports '{module}', which no installed distribution provides")
        for dist in dists:
            if _key(dist) not in pins and _key(dist) not in closure:
                raise BundleError(f"{repo / 'requirements.txt'}: the lab imports '{module}': pin '{dist}' "
                                  "with == so that its bundle installs it")
            closure |= _dependency_closure([dist])
    lines = [f"./wheels/{wheel_name}"] if wheel_name else []
    lines += [pins[name] for name in sorted(closure) if name in pins]
    lines.append(JUPYTERLAB)
    return lines


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
    if spec.get("derive") == "iris":
        values = {v[:5] for v in values}
    return sorted(values)


LICENCE_STATUS = {"verified": "vérifiée", "unverified": "**non vérifiée**"}


def readme(stem: str, nb: dict, package: dict, datasets: Path, needs: DataNeeds) -> str:
    """The French LISEZMOI.md of a bundle."""
    title = notebooks.title(nb, stem)
    resources = {r["name"]: r for r in package["resources"]}
    communes = {}
    if "communes" in resources:
        import pandas as pd

        table = pd.read_csv(datasets / resources["communes"]["path"], dtype="string", usecols=["code", "nom"])
        communes = dict(zip(table["code"], table["nom"]))
    lines = [
        f"# {title}", "",
        "Un lab du livre *Data & Quartiers*, à faire tourner sur votre ordinateur, sans connexion une fois "
        "installé.", "",
        "## Contenu du dossier", "",
        f"- `{stem}.ipynb` : le notebook du lab ;",
        "- `datasets/` : les données que le lab lit, avec leur description (`datapackage.json` : producteur, "
        "licence, millésime, provenance) ;",
        "- `wheels/` : le paquet `dataquartiers` (chargement des données, cartes hors ligne, secret statistique) ;",
        "- `requirements.txt` : les bibliothèques Python, aux versions avec lesquelles le livre a exécuté le lab ;",
        "- `LISEZMOI.md` : ce fichier.", "",
        "## Lancer le lab en 3 commandes", "",
        "Il faut Python 3.11 ou plus récent. Ouvrez un terminal **dans ce dossier**, puis :", "",
        "```bash",
        "python3 -m venv .venv",
        ".venv/bin/pip install -r requirements.txt",
        f".venv/bin/jupyter lab {stem}.ipynb",
        "```", "",
        "Sous Windows (PowerShell ou invite de commandes) :", "",
        "```",
        "py -m venv .venv",
        ".venv\\Scripts\\pip install -r requirements.txt",
        f".venv\\Scripts\\jupyter lab {stem}.ipynb",
        "```", "",
        "L'installation télécharge les bibliothèques une fois (environ 300 Mo) ; ensuite, le lab tourne sans "
        "réseau. JupyterLab s'ouvre dans votre navigateur, en français ; exécutez les cellules une à une "
        "(Maj + Entrée) ou toutes d'un coup (menu *Exécuter*).", "",
        "## Adapter le lab à un autre territoire", "",
    ]
    params = notebooks.parameters(nb)
    if params:
        lines += ["Les réglages du lab sont dans la cellule « Paramètres », au début du notebook :", "",
                  "```python", params.rstrip(), "```", ""]
    lines += [
        "Un territoire se désigne par un code : une commune (code officiel géographique, 5 caractères, "
        "par exemple `35238` pour Rennes ; les arrondissements de Paris, Lyon et Marseille sont rattachés "
        "à leur commune), un EPCI (numéro SIREN à 9 chiffres, par exemple `243500139` pour Rennes Métropole) "
        "ou un département (`35`, `2A`, `974`). Un code absent des données donne un message qui liste les "
        "communes couvertes.", "",
    ]
    covered = [(name, _coverage(resources[name], datasets)) for name in needs.resources
               if name in resources and name not in TERRITORY_TABLES and resources[name].get("territory")]
    if covered:
        lines += ["Les données fournies couvrent :", ""]
        for name, codes in covered:
            names = [f"{communes.get(c, c)} ({c})" for c in codes[:12]]
            more = f" et {len(codes) - 12} autres" if len(codes) > 12 else ""
            lines.append(f"- `{name}` : {len(codes)} commune(s) — {', '.join(names)}{more} ;")
        lines.append("")
    lines += [
        "Pour un territoire que ces fichiers ne couvrent pas, apportez vos propres données :", "",
        "1. copiez votre fichier (CSV ou GeoJSON en WGS84) dans `datasets/` ;",
        "2. déclarez-le dans `datasets/datapackage.json` en recopiant une ressource existante : `name`, `path`, "
        "`format`, les colonnes (`schema.fields`, les codes en `string`), la colonne du code commune "
        "(`territory.field`), le producteur et la licence ;",
        "3. dans le notebook, lisez-le avec `load(\"le_nom_choisi\", territory=TERRITOIRE)`.", "",
        "Respectez le secret statistique : aucun effectif de moins de 11 personnes ou ménages ne doit être "
        "affiché (la fonction `check_displayable` du paquet le vérifie).", "",
        "## Licences des données", "",
        "| Jeu de données | Producteur | Licence | Statut de la licence |",
        "|---|---|---|---|",
    ]
    for name in sorted(set(needs.resources) | set(TERRITORY_TABLES) & set(resources)):
        if name not in resources:
            continue
        r = resources[name]
        licences = ", ".join(f"[{lic.get('title', lic.get('name'))}]({lic['path']})" if lic.get("path")
                             else lic.get("title", lic.get("name", "?")) for lic in r.get("licenses", []))
        status = LICENCE_STATUS.get(r.get("licence_status", ""), r.get("licence_status", "non indiquée"))
        if r.get("synthetic"):
            status += " — données **synthétiques**"
        lines.append(f"| `{name}` : {r.get('title', name)} | {r.get('producer', '?')} | {licences or '?'} | {status} |")
    notes = [(name, resources[name]["licence_note"]) for name in needs.resources
             if name in resources and resources[name].get("licence_note")]
    if notes:
        lines += ["", "À savoir avant de rediffuser :", ""]
        lines += [f"- `{name}` : {note}" for name, note in notes]
    synthetic = [name for name in needs.resources if resources.get(name, {}).get("synthetic")]
    if synthetic:
        lines += ["", "Les jeux marqués « synthétiques » sont générés par un programme documenté du livre, calés sur "
                  "des ordres de grandeur publiés : ils ne décrivent pas des personnes réelles."]
    lines += [
        "", "La provenance détaillée de chaque fichier (sources, traitements) est dans `datasets/datapackage.json`.",
        "", "## Licences du lab", "",
        "Le texte du lab est sous licence CC BY 4.0, le code (notebook et paquet `dataquartiers`) sous licence MIT.",
        "",
    ]
    return "\n".join(lines)


def lab_data_needs(notebook: Path, repo: Path = REPO_DIR, package: dict | None = None) -> tuple[DataNeeds, list[str]]:
    """What a lab reads, and the resource names its zip carries; BundleError if it cannot be known."""
    package = package if package is not None else data.package(Path(repo) / "datasets")
    needs = notebooks.lab_data_needs(notebook, repo, package)
    if needs.problems:
        raise BundleError("\n".join(needs.problems))
    return needs, needs.carried({r.get("name") for r in package["resources"]})


def build_bundle(notebook: Path, dest_dir: Path, repo: Path = REPO_DIR, wheel: Path | None = None) -> Path:
    """Write `<dest_dir>/<lab>.zip`; everything sits under a `<lab>/` folder inside the zip."""
    notebook = Path(notebook)
    stem = notebook.stem
    datasets = repo / "datasets"
    package = data.package(Path(repo) / "datasets")
    nb = notebooks.read(notebook)
    needs, carried = lab_data_needs(notebook, repo, package)
    dest_dir.mkdir(parents=True, exist_ok=True)
    wheel = wheel or build_wheel(dest_dir / ".wheel")
    target = dest_dir / f"{stem}.zip"
    clean = notebooks.without_outputs(nb)
    files: dict[str, bytes] = {
        f"{stem}/{stem}.ipynb": (json.dumps(clean, ensure_ascii=False, indent=1) + "\n").encode(),
        f"{stem}/requirements.txt": ("# Bibliothèques du lab « " + notebooks.title(nb, stem) + " » (pip install -r requirements.txt)\n"
                                     + "\n".join(requirements_for(nb, repo, wheel.name)) + "\n").encode(),
        f"{stem}/LISEZMOI.md": readme(stem, nb, package, datasets, needs).encode(),
        f"{stem}/wheels/{wheel.name}": wheel.read_bytes(),
        f"{stem}/datasets/datapackage.json": (json.dumps(reduced_package(package, carried), ensure_ascii=False, indent=2) + "\n").encode(),
    }
    for res in package["resources"]:
        if res["name"] in carried:
            path = datasets / res["path"]
            if not path.exists():
                raise BundleError(f"{datasets / 'datapackage.json'}: resource '{res['name']}': file {res['path']} not found")
            files[f"{stem}/datasets/{res['path']}"] = path.read_bytes()
    for rel in needs.files:
        path = datasets / rel
        if not path.exists():
            raise BundleError(f"{notebook}: opens datasets/{rel}, which does not exist")
        files[f"{stem}/datasets/{rel}"] = path.read_bytes()
    tmp = target.with_suffix(".zip.part")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name in sorted(files):
            zip_write(zf, name, files[name])
    tmp.replace(target)
    return target


def _bundle_inputs(notebook: Path, repo: Path) -> str:
    """Everything a lab's zip is made of: the notebook, the data it carries, the package."""
    package = data.package(Path(repo) / "datasets")
    _needs, carried = lab_data_needs(notebook, repo, package)
    data_files = [repo / "datasets" / r["path"] for r in package["resources"] if r["name"] in carried]
    return inputs_digest([notebook, repo / "datasets" / "datapackage.json", repo / "requirements.txt",
                          repo / "pyproject.toml", PACKAGE_DIR, *data_files], repo)


def build_all(dest_dir: Path, repo: Path = REPO_DIR, cache_dir: Path | None = None) -> list[Path]:
    """Every lab's zip. With `cache_dir`, a zip whose inputs did not change is kept as it is."""
    labs = lab_notebooks(repo)
    todo = {}
    for nb in labs:
        digest = _bundle_inputs(nb, repo) if cache_dir else ""
        if cache_dir and (dest_dir / f"{nb.stem}.zip").exists() and is_unchanged(cache_dir, f"bundle-{nb.stem}", digest):
            continue
        todo[nb] = digest
    if todo:
        wheel = build_wheel(dest_dir / ".wheel")
        try:
            for nb, digest in todo.items():
                build_bundle(nb, dest_dir, repo, wheel)
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
    build_all(Path(app.outdir) / BUNDLES_DIR, Path(app.srcdir), cache_dir=build_cache_dir(app))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    dest = Path(argv[0]) if argv else REPO_DIR / "_build" / BUNDLES_DIR
    try:
        for path in build_all(dest):
            print(path)
    except BundleError as err:
        print(f"booktools.bundles: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
